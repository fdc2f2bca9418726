// Convolution building block: at::convolution on one Convolution layer (1D/2D/3D, groups,
// symmetric, asymmetric or "same"/"valid" padding, weights as constants or tensors).
#include "layerkit/impl/conv.h"

#include "impl/spatial_util.h"
#include "layerkit/impl/deconv.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::conv {

namespace {

bool is_float16_32(DataType t) {
  return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
}

// The shared body: pre/post padding given explicitly, or by `mode` ("same"/"valid").
Tensor* conv_impl(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Tensor* input, const Operand& weight,
                  const std::optional<Operand>& bias, const std::vector<int64_t>& stride_in,
                  std::vector<int64_t> pre_in, std::vector<int64_t> post_in,
                  std::optional<std::string_view> mode, const std::vector<int64_t>& dilation_in,
                  int64_t groups) {
  LK_CHECK(input != nullptr, "input is a null tensor");
  DataType t = input->type();
  LK_CHECK(is_float16_32(t), "input is ", data_type_name(t),
           "; convolution takes float32, float16 or bfloat16 (as ATen's CPU kernels)");
  spatial::WeightOperand w = spatial::weight_operand(ctx, weight, t, target, source_ir,
                                                     sub_name(name, "kernel"), "weight");
  int wrank = w.dims.rank();
  LK_CHECK(wrank >= 3 && wrank <= 5, "weight ", w.dims.to_string(),
           " must have rank 3, 4 or 5 ([K, C/groups, kernel...] for 1D/2D/3D)");
  int n = wrank - 2;
  int rank = input->dims().rank();
  LK_CHECK(rank == n + 2 || rank == n + 1, "input ", input->dims().to_string(), " has rank ", rank,
           "; a ", n, "D convolution (weight ", w.dims.to_string(), ") takes rank ", n + 2, " (or ",
           n + 1, " unbatched)");
  std::vector<int64_t> stride = spatial::expand(stride_in, n, 1, "stride");
  std::vector<int64_t> dilation = spatial::expand(dilation_in, n, 1, "dilation");
  for (int i = 0; i < n; ++i) {
    LK_CHECK(stride[i] >= 1, "stride ", spatial::list(stride), " must be >= 1");
    LK_CHECK(dilation[i] >= 1, "dilation ", spatial::list(dilation), " must be >= 1");
  }
  std::vector<int64_t> pre, post;
  if (mode) {
    LK_CHECK(*mode == "same" || *mode == "valid", "padding '", *mode,
             "' is not one of 'same', 'valid'");
    pre.assign(static_cast<size_t>(n), 0);
    post = pre;
    if (*mode == "same") {
      for (int i = 0; i < n; ++i)
        LK_CHECK(stride[i] == 1, "padding='same' needs stride 1 (as torch), got stride ",
                 spatial::list(stride));
      for (int i = 0; i < n; ++i) {
        int64_t total = dilation[i] * (w.dims[2 + i] - 1);
        pre[i] = total / 2;
        post[i] = total - pre[i];
      }
    }
  } else {
    pre = spatial::expand(pre_in, n, 0, "padding");
    post = spatial::expand(post_in, n, 0, "post padding");
    for (int i = 0; i < n; ++i)
      LK_CHECK(pre[i] >= 0 && post[i] >= 0, "negative padding ", spatial::list(pre), " / ",
               spatial::list(post), " is not supported (as torch)");
  }
  LK_CHECK(groups >= 1, "groups ", groups, " must be >= 1");
  int64_t k = w.dims[0];
  LK_CHECK(k % groups == 0, "weight ", w.dims.to_string(), " has ", k,
           " output channels, not divisible by groups ", groups);
  int64_t channels = w.dims[1] * groups;
  Tensor* x = rank == n + 1 ? spatial::add_batch(ctx, input, target, source_ir, name) : input;
  const Dims& xd = x->dims();
  LK_CHECK(xd[1] == -1 || xd[1] == channels, "channel mismatch: input ", input->dims().to_string(),
           " has ", xd[1], " channels but weight ", w.dims.to_string(), " with groups ", groups,
           " expects ", channels);
  for (int i = 0; i < n; ++i) {
    int64_t extent = dilation[i] * (w.dims[2 + i] - 1) + 1;
    int64_t in = xd[2 + i];
    LK_CHECK(in == -1 || in + pre[i] + post[i] >= extent, "kernel ", w.dims.to_string(),
             " (dilated extent ", extent, ") is larger than the padded input ",
             input->dims().to_string(), " + padding ", spatial::list(pre), "/", spatial::list(post),
             " on spatial axis ", i);
  }
  x = spatial::pin_channels(ctx, x, channels, target, source_ir, name);

  ConvolutionAttrs a;
  a.num_output_maps = k;
  a.kernel_size = Dims::of_rank(n);
  a.stride = Dims::of_rank(n);
  a.dilation = Dims::of_rank(n);
  a.pre_padding = Dims::of_rank(n);
  a.post_padding = Dims::of_rank(n);
  for (int i = 0; i < n; ++i) {
    a.kernel_size[i] = w.dims[2 + i];
    a.stride[i] = stride[i];
    a.dilation[i] = dilation[i];
    a.pre_padding[i] = pre[i];
    a.post_padding[i] = post[i];
  }
  a.num_groups = groups;
  a.kernel = w.weights;
  Tensor* bias_tensor = spatial::bias_operand(ctx, bias, t, k, target, source_ir, name, a.bias);
  Layer* l = ctx.net().add_convolution_nd(x, a, w.tensor, bias_tensor);
  return spatial::finish_layer(ctx, l, a.kernel, a.bias, rank == n + 1, target, source_ir, name);
}

}  // namespace

Tensor* convolution(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* input, Operand weight,
                    std::optional<Operand> bias, std::vector<int64_t> stride,
                    std::vector<int64_t> padding, std::vector<int64_t> dilation, bool transposed,
                    std::vector<int64_t> output_padding, int64_t groups) {
  if (transposed)
    return deconv::deconvolution(ctx, target, source_ir, name, input, std::move(weight),
                                 std::move(bias), std::move(stride), std::move(padding),
                                 std::move(dilation), std::move(output_padding), groups);
  Operand in(input);
  return guarded(ctx, "conv::convolution", target, name, {&in, &weight}, [&] {
    for (int64_t p : output_padding)
      LK_CHECK(p == 0, "output_padding ", spatial::list(output_padding),
               " is only meaningful for transposed convolution");
    return conv_impl(ctx, target, source_ir, name, input, weight, bias, stride, padding, padding,
                     std::nullopt, dilation, groups);
  });
}

Tensor* convolution(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* input, Operand weight,
                    std::optional<Operand> bias, std::vector<int64_t> stride,
                    std::vector<int64_t> pre_padding, std::vector<int64_t> post_padding,
                    std::vector<int64_t> dilation, int64_t groups) {
  Operand in(input);
  return guarded(ctx, "conv::convolution", target, name, {&in, &weight}, [&] {
    return conv_impl(ctx, target, source_ir, name, input, weight, bias, stride, pre_padding,
                     post_padding, std::nullopt, dilation, groups);
  });
}

Tensor* convolution(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* input, Operand weight,
                    std::optional<Operand> bias, std::vector<int64_t> stride,
                    std::string_view padding_mode, std::vector<int64_t> dilation, int64_t groups) {
  Operand in(input);
  return guarded(ctx, "conv::convolution", target, name, {&in, &weight}, [&] {
    return conv_impl(ctx, target, source_ir, name, input, weight, bias, stride, {}, {},
                     padding_mode, dilation, groups);
  });
}

Tensor* convolution(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* input, const ConvolutionOptions& o) {
  if (!o.padding_mode.empty()) {
    if (!o.padding.empty() || o.transposed || !o.output_padding.empty()) {
      Operand x(input);
      return guarded(ctx, "conv::convolution", target, name, {&x}, [&]() -> Tensor* {
        LK_FAIL(kINVALID_ARGUMENT, "padding_mode '", o.padding_mode,
                "' takes no padding, transposed or output_padding");
      });
    }
    return convolution(ctx, target, source_ir, name, input, o.weight, o.bias, o.stride,
                       o.padding_mode, o.dilation, o.groups);
  }
  return convolution(ctx, target, source_ir, name, input, o.weight, o.bias, o.stride, o.padding,
                     o.dilation, o.transposed, o.output_padding, o.groups);
}

}  // namespace layerkit::impl::conv
