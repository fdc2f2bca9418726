// Convolution and Pooling on the GPU through cuDNN (fp32 with FMA math, so no TF32 rounding;
// fp16 and bf16 with tensor cores and fp32 accumulation), 1-3 spatial axes, groups, dilation.
// cuDNN's descriptors take symmetric padding only; asymmetric padding goes to the next entry.
#include <cstring>

#include "core/element.h"
#include "network/layers/conv_geometry.h"
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
                    const Dims& pre_d, const Dims& post_d, const Dims& dilation_d,
                    PaddingMode mode, Spatial& sp) {
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

class ConvKernel final : public Kernel {
 public:
  ConvKernel(const Problem& p, cudnnDataType_t dt, const Spatial& sp)
      : layer_(p.layer_name), type_(p.output(0).type) {
    const ConvolutionAttrs& a = p.as<ConvolutionAttrs>();
    cudnnHandle_t h = p.libraries->dnn;
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
      LK_CUDNN(cudnnSetActivationDescriptor(act_, CUDNN_ACTIVATION_IDENTITY, CUDNN_PROPAGATE_NAN,
                                            0.0),
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

  void run(LaunchCtx& ctx) override {
    const DeviceTensor& y = ctx.output(0);
    if (y.numel() == 0) return;
    Libraries& libs = ctx.libraries();
    void* ws = workspace_ ? ctx.scratch(workspace_) : nullptr;
    const float one = 1.0f, zero = 0.0f;
    const void* w = weights_from_input_ ? ctx.input(1).data : weight_;
    if (has_bias_) {
      const void* b = bias_from_input_ ? ctx.input(2).data : bias_;
      LK_CUDNN(cudnnConvolutionBiasActivationForward(libs.dnn, &one, x_, ctx.input(0).data, w_, w,
                                                     conv_, algo_, ws, workspace_, &zero, y_,
                                                     y.data, b_, b, act_, y_, y.data),
               ctx.layer_name());
      return;
    }
    LK_CUDNN(cudnnConvolutionForward(libs.dnn, &one, x_, ctx.input(0).data, w_, w, conv_, algo_,
                                     ws, workspace_, &zero, y_, y.data),
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
  }

  std::string layer_;
  DataType type_;
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
};

std::unique_ptr<Kernel> make_conv(const Problem& p) {
  const ConvolutionAttrs& a = p.as<ConvolutionAttrs>();
  cudnnDataType_t dt;
  const DataType t = p.input(0).type;
  if (!dnn_type(t, dt) || p.output(0).type != t) return nullptr;
  if (p.has_input(1) && p.input(1).type != t && p.host_constant[1] == nullptr) return nullptr;
  if (p.has_input(2) && p.input(2).type != t && p.host_constant[2] == nullptr) return nullptr;
  Spatial sp;
  if (!spatial_params(p.input(0).dims, p.output(0).dims, a.kernel_size, a.stride, a.pre_padding,
                      a.post_padding, a.dilation, a.padding_mode, sp))
    return nullptr;
  return std::make_unique<ConvKernel>(p, dt, sp);
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
    const cudnnPoolingMode_t mode = a.type == PoolingType::kMAX
                                        ? CUDNN_POOLING_MAX_DETERMINISTIC
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
  void run(LaunchCtx& ctx) override {
    if (ctx.output(0).numel() == 0) return;
    const float one = 1.0f, zero = 0.0f;
    LK_CUDNN(cudnnPoolingForward(ctx.libraries().dnn, pool_, &one, x_, ctx.input(0).data, &zero,
                                 y_, ctx.output(0).data),
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
  if (!dnn_type(t, dt) || p.output(0).type != t || a.type == PoolingType::kMAX_AVERAGE_BLEND)
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
  if (kind == LayerKind::kPOOLING) return {{"cudnn", &make_pool}};
  return {};
}

}  // namespace layerkit::cuda
