// Convolution, Deconvolution and Pooling on the GPU through cuDNN (fp32 with FMA math, so no
// TF32 rounding; fp16 and bf16 convolutions with tensor cores and fp32 accumulation), 1-3 spatial
// axes, groups, dilation. cuDNN's descriptors take one padding per axis for both sides: a
// convolution with asymmetric padding (or a rounding mode cuDNN's floor formula does not give)
// is zero-padded explicitly into scratch first; a deconvolution runs uncropped by the smaller
// side's padding and its epilogue crops the rest; pooling that cuDNN cannot express runs the
// direct window kernel (exact, as the reference loops).
#include <cstring>

#include "core/element.h"
#include "network/layers/conv_geometry.h"
#include "runtime/cuda/dnn_kernels.h"
#include "runtime/cuda/kernel.h"
#include "runtime/cuda/libraries.h"

// cuDNN 9 marks these descriptor-based entry points deprecated in favour of its graph API; they
// remain supported, and the fused paths of the speed work use the graph API.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace layerkit::cuda {

namespace {

bool dnn_type(DataType t, cudnnDataType_t& out) {
  switch (t) {
    case DataType::kFLOAT:
      out = CUDNN_DATA_FLOAT;
      return true;
    case DataType::kHALF:
      out = CUDNN_DATA_HALF;
      return true;
    case DataType::kBF16:
      out = CUDNN_DATA_BFLOAT16;
      return true;
    default:
      return false;
  }
}

// cuDNN takes 4-D or 5-D descriptors: a 1-D layer runs as 2-D with a leading spatial axis of 1.
std::vector<int> nd_dims(const Dims& d) {
  std::vector<int> v(d.begin(), d.end());
  if (v.size() == 3) v.insert(v.begin() + 2, 1);
  return v;
}
std::vector<int> packed_strides(const std::vector<int>& dims) {
  std::vector<int> s(dims.size());
  int acc = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

struct Spatial {
  std::vector<int> pad, stride, dilation, window;
};

// The spatial parameters for cuDNN, or false when they are not expressible there (asymmetric
// padding, or a rounding mode whose output cuDNN's floor formula does not give).
bool spatial_params(const Dims& in, const Dims& out, const Dims& window, const Dims& stride_d,
                    const Dims& pre_d, const Dims& post_d, const Dims& dilation_d, PaddingMode mode,
                    Spatial& sp) {
  const int ns = in.rank() - 2;
  if (ns < 1 || ns > 3) return false;
  const auto stride = detail::per_axis(stride_d, ns, 1);
  const auto dilation = detail::per_axis(dilation_d, ns, 1);
  const auto pre = detail::per_axis(pre_d, ns, 0);
  const auto post = detail::per_axis(post_d, ns, 0);
  for (int a = 0; a < ns; ++a) {
    const auto u = static_cast<size_t>(a);
    const int64_t ext = detail::dilated_extent(window[a], dilation[u]);
    detail::AxisGeometry g = detail::forward_axis(in[2 + a], ext, stride[u], pre[u], post[u], mode);
    if (g.pre != g.post) return false;
    if ((in[2 + a] + 2 * g.pre - ext) / stride[u] + 1 != out[2 + a]) return false;
    sp.pad.push_back(static_cast<int>(g.pre));
    sp.stride.push_back(static_cast<int>(stride[u]));
    sp.dilation.push_back(static_cast<int>(dilation[u]));
    sp.window.push_back(static_cast<int>(window[a]));
  }
  if (ns == 1)
    for (auto* v : {&sp.pad, &sp.stride, &sp.dilation, &sp.window})
      v->insert(v->begin(), v == &sp.pad ? 0 : 1);
  return true;
}

Axes3 axes3(const std::vector<int64_t>& v, int64_t fill) {
  const std::vector<int64_t> t = detail::to3(v, fill);
  return {t[0], t[1], t[2]};
}

// The zero padding a convolution's input gets before cuDNN (whose padding is symmetric).
struct InputPad {
  bool needed = false;
  Dims padded;  // the dims cuDNN sees
  Axes3 in{1, 1, 1}, pre{0, 0, 0}, out{1, 1, 1};
};

// Convolution parameters for cuDNN: per axis the symmetric part p = min(pre, post') goes to the
// descriptor and the rest is padded explicitly, where post' = (O - 1) * S + DK - I - pre is the
// trailing padding that makes cuDNN's floor formula give the layer's O (it is below `post` when
// the floor leaves padding unread, above it for kEXPLICIT_ROUND_UP; zeros there add nothing).
bool conv_params(const Dims& in, const Dims& out, const Dims& window, const Dims& stride_d,
                 const Dims& pre_d, const Dims& post_d, const Dims& dilation_d, PaddingMode mode,
                 Spatial& sp, InputPad& pad) {
  const int ns = in.rank() - 2;
  if (ns < 1 || ns > 3) return false;
  const auto stride = detail::per_axis(stride_d, ns, 1);
  const auto dilation = detail::per_axis(dilation_d, ns, 1);
  const auto pre = detail::per_axis(pre_d, ns, 0);
  const auto post = detail::per_axis(post_d, ns, 0);
  pad.padded = in;
  std::vector<int64_t> sin, spre, sout;
  for (int a = 0; a < ns; ++a) {
    const auto u = static_cast<size_t>(a);
    const int64_t ext = detail::dilated_extent(window[a], dilation[u]);
    const detail::AxisGeometry g =
        detail::forward_axis(in[2 + a], ext, stride[u], pre[u], post[u], mode);
    const int64_t post_eff = (out[2 + a] - 1) * stride[u] + ext - in[2 + a] - g.pre;
    const int64_t sym = post_eff >= 0 ? std::min(g.pre, post_eff) : 0;
    const int64_t pre_x = g.pre - sym, post_x = std::max<int64_t>(0, post_eff - sym);
    pad.padded[2 + a] = in[2 + a] + pre_x + post_x;
    pad.needed = pad.needed || pre_x > 0 || post_x > 0;
    const int64_t span = pad.padded[2 + a] + 2 * sym - ext;
    if (span < 0 || span / stride[u] + 1 != out[2 + a]) return false;
    sin.push_back(in[2 + a]);
    spre.push_back(pre_x);
    sout.push_back(pad.padded[2 + a]);
    sp.pad.push_back(static_cast<int>(sym));
    sp.stride.push_back(static_cast<int>(stride[u]));
    sp.dilation.push_back(static_cast<int>(dilation[u]));
    sp.window.push_back(static_cast<int>(window[a]));
  }
  pad.in = axes3(sin, 1);
  pad.pre = axes3(spre, 0);
  pad.out = axes3(sout, 1);
  if (ns == 1)
    for (auto* v : {&sp.pad, &sp.stride, &sp.dilation, &sp.window})
      v->insert(v->begin(), v == &sp.pad ? 0 : 1);
  return true;
}

// A layer whose output has no elements has nothing to compute.
class EmptyOutput final : public Kernel {
 public:
  void run(LaunchCtx&) const override {}
};

// Host elements of `from` type as `to` elements, on the device (cudaMalloc'd, owned by the
// caller); `packed`: sub-byte weights still packed as Weights hold them.
void* upload_as(DataType to, DataType from, const void* src, int64_t n, bool packed,
                std::string_view layer) {
  std::vector<uint8_t> unpacked;
  if (packed && is_sub_byte(from)) {
    unpacked.resize(static_cast<size_t>(n));
    unpack(from, src, unpacked.data(), n);
    src = unpacked.data();
  }
  std::vector<uint8_t> host(static_cast<size_t>(n * element_size(to)));
  for (int64_t i = 0; i < n; ++i) store_f(to, host.data(), i, load_f(from, src, i));
  void* dst = nullptr;
  check_cuda(cudaMalloc(&dst, std::max<size_t>(host.size(), 1)), "cudaMalloc", layer, host.size());
  check_cuda(cudaMemcpy(dst, host.data(), host.size(), cudaMemcpyHostToDevice), "cudaMemcpy",
             layer);
  return dst;
}

class ConvKernel final : public Kernel {
 public:
  ConvKernel(const Problem& p, cudnnDataType_t dt, const Spatial& sp, const InputPad& pad)
      : layer_(p.layer_name), type_(p.output(0).type), pad_(pad) {
    const ConvolutionAttrs& a = p.as<ConvolutionAttrs>();
    cudnnHandle_t h = p.libraries->dnn;
    const std::string_view name = layer_;
    const std::vector<int> xd = nd_dims(pad.padded), yd = nd_dims(p.output(0).dims);
    LK_CUDNN(cudnnCreateTensorDescriptor(&x_), name);
    LK_CUDNN(cudnnCreateTensorDescriptor(&y_), name);
    LK_CUDNN(cudnnSetTensorNdDescriptor(x_, dt, static_cast<int>(xd.size()), xd.data(),
                                        packed_strides(xd).data()),
             name);
    LK_CUDNN(cudnnSetTensorNdDescriptor(y_, dt, static_cast<int>(yd.size()), yd.data(),
                                        packed_strides(yd).data()),
             name);
    const int ns = static_cast<int>(sp.pad.size());
    std::vector<int> wd = {static_cast<int>(a.num_output_maps),
                           static_cast<int>(p.input(0).dims[1] / a.num_groups)};
    for (int w : sp.window) wd.push_back(w);
    LK_CUDNN(cudnnCreateFilterDescriptor(&w_), name);
    LK_CUDNN(cudnnSetFilterNdDescriptor(w_, dt, CUDNN_TENSOR_NCHW, static_cast<int>(wd.size()),
                                        wd.data()),
             name);
    LK_CUDNN(cudnnCreateConvolutionDescriptor(&conv_), name);
    LK_CUDNN(cudnnSetConvolutionNdDescriptor(conv_, ns, sp.pad.data(), sp.stride.data(),
                                             sp.dilation.data(), CUDNN_CROSS_CORRELATION,
                                             CUDNN_DATA_FLOAT),
             name);
    LK_CUDNN(cudnnSetConvolutionGroupCount(conv_, static_cast<int>(a.num_groups)), name);
    // FMA math keeps fp32 convolutions out of TF32 (whose 10-bit mantissa would miss the fp32
    // tolerance); 16-bit types use tensor cores.
    LK_CUDNN(cudnnSetConvolutionMathType(
                 conv_, dt == CUDNN_DATA_FLOAT ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH),
             name);
    int found = 0;
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    LK_CUDNN(cudnnGetConvolutionForwardAlgorithm_v7(h, x_, w_, conv_, y_,
                                                    CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &found, perf),
             name);
    bool ok = false;
    for (int i = 0; i < found && !ok; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
      if (dt == CUDNN_DATA_FLOAT && perf[i].mathType != CUDNN_FMA_MATH &&
          perf[i].mathType != CUDNN_DEFAULT_MATH)
        continue;
      algo_ = perf[i].algo;
      workspace_ = perf[i].memory;
      ok = true;
    }
    if (!ok)
      LK_FAIL(kUNSUPPORTED, "Convolution layer '", name, "': cuDNN has no algorithm for input ",
              p.input(0).dims.to_string());
    // With a bias, convolution and bias run as one cuDNN call, so a 16-bit output is rounded
    // once (a separate bias add would round the convolution first: a relative error of 2^-11 on
    // the sum can be a large one on the biased result). cuDNN's identity activation there needs
    // the implicit precomputed GEMM algorithm.
    has_bias_ = p.has_input(2) || !a.bias.empty();
    if (has_bias_) {
      algo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
      LK_CUDNN(cudnnGetConvolutionForwardWorkspaceSize(h, x_, w_, conv_, y_, algo_, &workspace_),
               name);
      std::vector<int> bd(yd.size(), 1);
      bd[1] = static_cast<int>(a.num_output_maps);
      LK_CUDNN(cudnnCreateTensorDescriptor(&b_), name);
      LK_CUDNN(cudnnSetTensorNdDescriptor(b_, dt, static_cast<int>(bd.size()), bd.data(),
                                          packed_strides(bd).data()),
               name);
      LK_CUDNN(cudnnCreateActivationDescriptor(&act_), name);
      LK_CUDNN(
          cudnnSetActivationDescriptor(act_, CUDNN_ACTIVATION_IDENTITY, CUDNN_PROPAGATE_NAN, 0.0),
          name);
    }
    // Weights and bias are uploaded once, in the layer's type.
    const int64_t esize = element_size(type_);
    const int64_t wn = a.num_output_maps * wd[1] * [&] {
      int64_t k = 1;
      for (int w : sp.window) k *= w;
      return k;
    }();
    if (p.has_input(1)) {
      weights_from_input_ = p.host_constant[1] == nullptr;
      if (!weights_from_input_) upload(&weight_, p.input(1).type, p.host_constant[1], wn, esize);
    } else {
      upload(&weight_, a.kernel.type(), a.kernel.data(), wn, esize, true);
    }
    channels_ = a.num_output_maps;
    if (p.has_input(2)) {
      bias_from_input_ = p.host_constant[2] == nullptr;
      if (!bias_from_input_) upload(&bias_, p.input(2).type, p.host_constant[2], channels_, esize);
    } else if (!a.bias.empty()) {
      upload(&bias_, a.bias.type(), a.bias.data(), channels_, esize, true);
    }
  }

  ~ConvKernel() override {
    if (weight_) cudaFree(weight_);
    if (bias_) cudaFree(bias_);
    if (x_) cudnnDestroyTensorDescriptor(x_);
    if (y_) cudnnDestroyTensorDescriptor(y_);
    if (b_) cudnnDestroyTensorDescriptor(b_);
    if (act_) cudnnDestroyActivationDescriptor(act_);
    if (w_) cudnnDestroyFilterDescriptor(w_);
    if (conv_) cudnnDestroyConvolutionDescriptor(conv_);
  }

  uint64_t prepared_bytes() const override { return prepared_; }
  bool reads_input(int i) const override {
    return i == 1 ? weights_from_input_ : i == 2 ? bias_from_input_ : true;
  }

  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& y = ctx.output(0);
    if (y.numel() == 0) return;
    Libraries& libs = ctx.libraries();
    void* ws = workspace_ ? ctx.scratch(workspace_) : nullptr;
    const float one = 1.0f, zero = 0.0f;
    const void* w = weights_from_input_ ? ctx.input(1).data : weight_;
    const DeviceTensor& in = ctx.input(0);
    const void* x = in.data;
    if (pad_.needed) {
      void* padded = ctx.scratch(static_cast<size_t>(pad_.padded.volume() * element_size(in.type)));
      pad_spatial(ctx, in.type, in.data, padded, in.dims[0] * in.dims[1], pad_.in, pad_.pre,
                  pad_.out);
      x = padded;
    }
    if (has_bias_) {
      const void* b = bias_from_input_ ? ctx.input(2).data : bias_;
      LK_CUDNN(cudnnConvolutionBiasActivationForward(libs.dnn, &one, x_, x, w_, w, conv_, algo_, ws,
                                                     workspace_, &zero, y_, y.data, b_, b, act_, y_,
                                                     y.data),
               ctx.layer_name());
      return;
    }
    LK_CUDNN(cudnnConvolutionForward(libs.dnn, &one, x_, x, w_, w, conv_, algo_, ws, workspace_,
                                     &zero, y_, y.data),
             ctx.layer_name());
  }

 private:
  // Converts host elements of `from` type into the layer's type and copies them to the device.
  void upload(void** dst, DataType from, const void* src, int64_t n, int64_t esize,
              bool packed = false) {
    std::vector<uint8_t> unpacked;
    if (packed && is_sub_byte(from)) {
      unpacked.resize(static_cast<size_t>(n));
      unpack(from, src, unpacked.data(), n);
      src = unpacked.data();
    }
    std::vector<uint8_t> host(static_cast<size_t>(n * esize));
    for (int64_t i = 0; i < n; ++i) store_f(type_, host.data(), i, load_f(from, src, i));
    check_cuda(cudaMalloc(dst, host.size()), "cudaMalloc", layer_, host.size());
    check_cuda(cudaMemcpy(*dst, host.data(), host.size(), cudaMemcpyHostToDevice), "cudaMemcpy",
               layer_);
    prepared_ += host.size();
  }

  std::string layer_;
  DataType type_;
  InputPad pad_;
  cudnnTensorDescriptor_t x_ = nullptr, y_ = nullptr, b_ = nullptr;
  cudnnActivationDescriptor_t act_ = nullptr;
  bool has_bias_ = false;
  cudnnFilterDescriptor_t w_ = nullptr;
  cudnnConvolutionDescriptor_t conv_ = nullptr;
  cudnnConvolutionFwdAlgo_t algo_{};
  size_t workspace_ = 0;
  void* weight_ = nullptr;
  void* bias_ = nullptr;
  bool weights_from_input_ = false, bias_from_input_ = false;
  int64_t channels_ = 0;
  uint64_t prepared_ = 0;
};

std::unique_ptr<Kernel> make_conv(const Problem& p) {
  const ConvolutionAttrs& a = p.as<ConvolutionAttrs>();
  cudnnDataType_t dt;
  const DataType t = p.input(0).type;
  if (!dnn_type(t, dt) || p.output(0).type != t) return nullptr;
  if (p.has_input(1) && p.input(1).type != t && p.host_constant[1] == nullptr) return nullptr;
  if (p.has_input(2) && p.input(2).type != t && p.host_constant[2] == nullptr) return nullptr;
  if (p.output(0).numel() == 0) return std::make_unique<EmptyOutput>();
  if (p.input(0).numel() == 0) return nullptr;
  Spatial sp;
  InputPad pad;
  if (!conv_params(p.input(0).dims, p.output(0).dims, a.kernel_size, a.stride, a.pre_padding,
                   a.post_padding, a.dilation, a.padding_mode, sp, pad))
    return nullptr;
  return std::make_unique<ConvKernel>(p, dt, sp, pad);
}

// Deconvolution as cuDNN's backward-data convolution: the layer's input is the forward
// convolution's output gradient, its kernel [C, K/groups, k...] the forward filter. It runs in
// fp32 for every type (16-bit inputs and weights converted first) into an uncropped scratch
// result padded by min(pre, post) per axis; one epilogue crops the rest of the padding, adds the
// bias and rounds once to the output type, as the reference rounds its double sum once.
class DeconvKernel final : public Kernel {
 public:
  DeconvKernel(const Problem& p, const Spatial& sp, const Axes3& full, const Axes3& offset)
      : layer_(p.layer_name), full_(full), offset_(offset) {
    const DeconvolutionAttrs& a = p.as<DeconvolutionAttrs>();
    cudnnHandle_t h = p.libraries->dnn;
    const std::string_view name = layer_;
    const Dims& xdims = p.input(0).dims;
    const Dims& ydims = p.output(0).dims;
    const int ns = xdims.rank() - 2;
    Dims full_dims = ydims;
    for (int i = 0; i < ns; ++i) full_dims[2 + i] = full[static_cast<size_t>(3 - ns + i)];
    full_elems_ = full_dims.volume();
    direct_ = p.output(0).type == DataType::kFLOAT && full_dims == ydims && !p.has_input(2) &&
              a.bias.empty();
    const std::vector<int> dyd = nd_dims(xdims), dxd = nd_dims(full_dims);
    LK_CUDNN(cudnnCreateTensorDescriptor(&dy_), name);
    LK_CUDNN(cudnnCreateTensorDescriptor(&dx_), name);
    LK_CUDNN(cudnnSetTensorNdDescriptor(dy_, CUDNN_DATA_FLOAT, static_cast<int>(dyd.size()),
                                        dyd.data(), packed_strides(dyd).data()),
             name);
    LK_CUDNN(cudnnSetTensorNdDescriptor(dx_, CUDNN_DATA_FLOAT, static_cast<int>(dxd.size()),
                                        dxd.data(), packed_strides(dxd).data()),
             name);
    std::vector<int> wd = {static_cast<int>(xdims[1]),
                           static_cast<int>(a.num_output_maps / a.num_groups)};
    for (int w : sp.window) wd.push_back(w);
    weight_elems_ = 1;
    for (int w : wd) weight_elems_ *= w;
    LK_CUDNN(cudnnCreateFilterDescriptor(&w_), name);
    LK_CUDNN(cudnnSetFilterNdDescriptor(w_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                        static_cast<int>(wd.size()), wd.data()),
             name);
    LK_CUDNN(cudnnCreateConvolutionDescriptor(&conv_), name);
    LK_CUDNN(cudnnSetConvolutionNdDescriptor(conv_, static_cast<int>(sp.pad.size()), sp.pad.data(),
                                             sp.stride.data(), sp.dilation.data(),
                                             CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
             name);
    LK_CUDNN(cudnnSetConvolutionGroupCount(conv_, static_cast<int>(a.num_groups)), name);
    // FMA math: no TF32 rounding of the fp32 operands.
    LK_CUDNN(cudnnSetConvolutionMathType(conv_, CUDNN_FMA_MATH), name);
    int found = 0;
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    LK_CUDNN(cudnnGetConvolutionBackwardDataAlgorithm_v7(
                 h, w_, dy_, conv_, dx_, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &found, perf),
             name);
    bool ok = false;
    for (int i = 0; i < found && !ok; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
      if (perf[i].mathType != CUDNN_FMA_MATH && perf[i].mathType != CUDNN_DEFAULT_MATH) continue;
      algo_ = perf[i].algo;
      workspace_ = perf[i].memory;
      ok = true;
    }
    if (!ok)
      LK_FAIL(kUNSUPPORTED, "Deconvolution layer '", name, "': cuDNN has no algorithm for input ",
              xdims.to_string());
    if (p.has_input(1)) {
      if (p.host_constant[1])
        weight_ = upload_as(DataType::kFLOAT, p.input(1).type, p.host_constant[1], weight_elems_,
                            false, layer_);
    } else {
      weight_ = upload_as(DataType::kFLOAT, a.kernel.type(), a.kernel.data(), weight_elems_, true,
                          layer_);
    }
    channels_ = a.num_output_maps;
    if (p.has_input(2)) {
      bias_from_input_ = p.host_constant[2] == nullptr;
      if (!bias_from_input_)
        bias_ = upload_as(DataType::kFLOAT, p.input(2).type, p.host_constant[2], channels_, false,
                          layer_);
    } else if (!a.bias.empty()) {
      bias_ = upload_as(DataType::kFLOAT, a.bias.type(), a.bias.data(), channels_, true, layer_);
    }
  }

  ~DeconvKernel() override {
    if (weight_) cudaFree(weight_);
    if (bias_) cudaFree(bias_);
    if (dy_) cudnnDestroyTensorDescriptor(dy_);
    if (dx_) cudnnDestroyTensorDescriptor(dx_);
    if (w_) cudnnDestroyFilterDescriptor(w_);
    if (conv_) cudnnDestroyConvolutionDescriptor(conv_);
  }

  uint64_t prepared_bytes() const override {
    return static_cast<uint64_t>(((weight_ ? weight_elems_ : 0) + (bias_ ? channels_ : 0)) * 4);
  }
  bool reads_input(int i) const override {
    return i == 1 ? weight_ == nullptr : i == 2 ? bias_from_input_ : true;
  }

  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    if (y.numel() == 0) return;
    const void* xf = x.data;
    if (x.type != DataType::kFLOAT) {
      auto* buf = static_cast<float*>(ctx.scratch(static_cast<size_t>(x.numel()) * 4));
      to_float(ctx, x.type, x.data, buf, x.numel());
      xf = buf;
    }
    const void* wf = weight_;
    if (!wf) {  // weights from a tensor computed at run time
      const DeviceTensor& w = ctx.input(1);
      auto* buf = static_cast<float*>(ctx.scratch(static_cast<size_t>(weight_elems_) * 4));
      to_float(ctx, w.type, w.data, buf, weight_elems_);
      wf = buf;
    }
    void* full = direct_ ? y.data : ctx.scratch(static_cast<size_t>(full_elems_) * 4);
    void* ws = workspace_ ? ctx.scratch(workspace_) : nullptr;
    const float one = 1.0f, zero = 0.0f;
    LK_CUDNN(cudnnConvolutionBackwardData(ctx.libraries().dnn, &one, w_, wf, dy_, xf, conv_, algo_,
                                          ws, workspace_, &zero, dx_, full),
             ctx.layer_name());
    if (direct_) return;
    const Axes3 out = {y.dims.rank() > 4 ? y.dims[2] : 1,
                       y.dims.rank() > 3 ? y.dims[y.dims.rank() - 2] : 1,
                       y.dims[y.dims.rank() - 1]};
    const void* bias = bias_from_input_ ? ctx.input(2).data : bias_;
    const DataType bias_type = bias_from_input_ ? ctx.input(2).type : DataType::kFLOAT;
    deconv_epilogue(ctx, static_cast<const float*>(full), full_, offset_, y.dims[0], channels_,
                    bias_type, bias, y.type, y.data, out);
  }

 private:
  std::string layer_;
  Axes3 full_, offset_;
  int64_t full_elems_ = 0, weight_elems_ = 0, channels_ = 0;
  bool direct_ = false, bias_from_input_ = false;
  cudnnTensorDescriptor_t dy_ = nullptr, dx_ = nullptr;
  cudnnFilterDescriptor_t w_ = nullptr;
  cudnnConvolutionDescriptor_t conv_ = nullptr;
  cudnnConvolutionBwdDataAlgo_t algo_{};
  size_t workspace_ = 0;
  void* weight_ = nullptr;
  void* bias_ = nullptr;
};

std::unique_ptr<Kernel> make_deconv(const Problem& p) {
  const DeconvolutionAttrs& a = p.as<DeconvolutionAttrs>();
  const Dims& in = p.input(0).dims;
  const Dims& out = p.output(0).dims;
  const int ns = in.rank() - 2;
  cudnnDataType_t dt;
  if (!dnn_type(p.input(0).type, dt) || ns < 1 || ns > 3) return nullptr;
  if (p.output(0).numel() == 0) return std::make_unique<EmptyOutput>();
  if (p.input(0).numel() == 0) return nullptr;
  const auto stride = detail::per_axis(a.stride, ns, 1);
  const auto dilation = detail::per_axis(a.dilation, ns, 1);
  const auto pre = detail::per_axis(a.pre_padding, ns, 0);
  const auto post = detail::per_axis(a.post_padding, ns, 0);
  Spatial sp;
  std::vector<int64_t> full, offset;
  for (int i = 0; i < ns; ++i) {
    const auto u = static_cast<size_t>(i);
    const int64_t ext = detail::dilated_extent(a.kernel_size[i], dilation[u]);
    const detail::AxisGeometry g =
        detail::transposed_axis(in[2 + i], ext, stride[u], pre[u], post[u], a.padding_mode);
    const int64_t sym = std::min(g.pre, g.post);
    // cuDNN's forward formula must map the uncropped size back to the layer's input size.
    const int64_t f = (in[2 + i] - 1) * stride[u] + ext - 2 * sym;
    if (f < 1 || g.out != f - (g.pre - sym) - (g.post - sym) || g.out != out[2 + i]) return nullptr;
    full.push_back(f);
    offset.push_back(g.pre - sym);
    sp.pad.push_back(static_cast<int>(sym));
    sp.stride.push_back(static_cast<int>(stride[u]));
    sp.dilation.push_back(static_cast<int>(dilation[u]));
    sp.window.push_back(static_cast<int>(a.kernel_size[i]));
  }
  if (ns == 1)
    for (auto* v : {&sp.pad, &sp.stride, &sp.dilation, &sp.window})
      v->insert(v->begin(), v == &sp.pad ? 0 : 1);
  return std::make_unique<DeconvKernel>(p, sp, axes3(full, 1), axes3(offset, 0));
}

// Pooling that cuDNN's descriptors cannot express (asymmetric padding, dilation, the blend,
// rounding up, windows over padding only): the reference's window loop per output element.
class PoolDirect final : public Kernel {
 public:
  explicit PoolDirect(const PoolGeometry& g) : g_(g) {}
  void run(LaunchCtx& ctx) const override {
    pool_direct(ctx, g_, ctx.input(0).type, ctx.input(0).data, ctx.output(0).type,
                ctx.output(0).data);
  }

 private:
  PoolGeometry g_;
};

std::unique_ptr<Kernel> make_pool_direct(const Problem& p) {
  const PoolingAttrs& a = p.as<PoolingAttrs>();
  const Dims& x = p.input(0).dims;
  const Dims& y = p.output(0).dims;
  const int ns = a.window.rank();
  if (x.rank() != ns + 2) return nullptr;
  std::vector<int64_t> window = a.window.to_vector();
  std::vector<int64_t> stride = a.stride.rank() == 0 ? window : a.stride.to_vector();
  std::vector<int64_t> dil = detail::per_axis(a.dilation, ns, 1);
  std::vector<int64_t> pre = detail::per_axis(a.pre_padding, ns, 0);
  std::vector<int64_t> post = detail::per_axis(a.post_padding, ns, 0);
  std::vector<int64_t> in(x.begin() + 2, x.end()), out(y.begin() + 2, y.end());
  for (size_t s = 0; s < static_cast<size_t>(ns); ++s) {
    const detail::AxisGeometry g =
        detail::forward_axis(in[s], detail::dilated_extent(window[s], dil[s]), stride[s], pre[s],
                             post[s], a.padding_mode);
    pre[s] = g.pre;
    post[s] = g.post;
  }
  PoolGeometry g;
  g.planes = x[0] * x[1];
  g.in = axes3(in, 1);
  g.out = axes3(out, 1);
  g.window = axes3(window, 1);
  g.stride = axes3(stride, 1);
  g.dilation = axes3(dil, 1);
  g.pre = axes3(pre, 0);
  g.post = axes3(post, 0);
  g.blend = a.type == PoolingType::kMAX       ? 1.0
            : a.type == PoolingType::kAVERAGE ? 0.0
                                              : static_cast<double>(a.blend_factor);
  g.exclude_padding = a.average_count_excludes_padding;
  return std::make_unique<PoolDirect>(g);
}

class PoolKernel final : public Kernel {
 public:
  PoolKernel(const Problem& p, cudnnDataType_t dt, const Spatial& sp) : layer_(p.layer_name) {
    const PoolingAttrs& a = p.as<PoolingAttrs>();
    const std::string_view name = layer_;
    const std::vector<int> xd = nd_dims(p.input(0).dims), yd = nd_dims(p.output(0).dims);
    LK_CUDNN(cudnnCreateTensorDescriptor(&x_), name);
    LK_CUDNN(cudnnCreateTensorDescriptor(&y_), name);
    LK_CUDNN(cudnnSetTensorNdDescriptor(x_, dt, static_cast<int>(xd.size()), xd.data(),
                                        packed_strides(xd).data()),
             name);
    LK_CUDNN(cudnnSetTensorNdDescriptor(y_, dt, static_cast<int>(yd.size()), yd.data(),
                                        packed_strides(yd).data()),
             name);
    const cudnnPoolingMode_t mode = a.type == PoolingType::kMAX ? CUDNN_POOLING_MAX_DETERMINISTIC
                                    : a.average_count_excludes_padding
                                        ? CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING
                                        : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
    LK_CUDNN(cudnnCreatePoolingDescriptor(&pool_), name);
    LK_CUDNN(cudnnSetPoolingNdDescriptor(pool_, mode, CUDNN_PROPAGATE_NAN,
                                         static_cast<int>(sp.window.size()), sp.window.data(),
                                         sp.pad.data(), sp.stride.data()),
             name);
  }
  ~PoolKernel() override {
    if (x_) cudnnDestroyTensorDescriptor(x_);
    if (y_) cudnnDestroyTensorDescriptor(y_);
    if (pool_) cudnnDestroyPoolingDescriptor(pool_);
  }
  void run(LaunchCtx& ctx) const override {
    if (ctx.output(0).numel() == 0) return;
    const float one = 1.0f, zero = 0.0f;
    LK_CUDNN(cudnnPoolingForward(ctx.libraries().dnn, pool_, &one, x_, ctx.input(0).data, &zero, y_,
                                 ctx.output(0).data),
             ctx.layer_name());
  }

 private:
  std::string layer_;
  cudnnTensorDescriptor_t x_ = nullptr, y_ = nullptr;
  cudnnPoolingDescriptor_t pool_ = nullptr;
};

std::unique_ptr<Kernel> make_pool(const Problem& p) {
  const PoolingAttrs& a = p.as<PoolingAttrs>();
  cudnnDataType_t dt;
  const DataType t = p.input(0).type;
  if (!dnn_type(t, dt) || p.output(0).type != t || a.type == PoolingType::kMAX_AVERAGE_BLEND ||
      p.output(0).numel() == 0)
    return nullptr;
  for (int64_t d : a.dilation)
    if (d != 1) return nullptr;
  const int ns = p.input(0).dims.rank() - 2;
  Dims stride = a.stride.rank() == 0 ? a.window : a.stride;
  Spatial sp;
  if (!spatial_params(p.input(0).dims, p.output(0).dims, a.window, stride, a.pre_padding,
                      a.post_padding, Dims{}, a.padding_mode, sp))
    return nullptr;
  // A window that starts wholly in the padding gives no value in cuDNN's average-exclude mode.
  for (size_t i = 0; i < sp.pad.size(); ++i)
    if (sp.pad[i] >= sp.window[i]) return nullptr;
  (void)ns;
  return std::make_unique<PoolKernel>(p, dt, sp);
}

}  // namespace

std::vector<KernelEntry> dnn_kernels(LayerKind kind) {
  if (kind == LayerKind::kCONVOLUTION) return {{"cudnn", &make_conv}};
  if (kind == LayerKind::kDECONVOLUTION) return {{"cudnn backward data", &make_deconv}};
  if (kind == LayerKind::kPOOLING)
    return {{"cudnn", &make_pool}, {"direct window", &make_pool_direct}};
  return {};
}

}  // namespace layerkit::cuda
