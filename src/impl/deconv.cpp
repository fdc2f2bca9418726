// Transposed convolution building block: at::conv_transpose{1,2,3}d on one Deconvolution layer,
// with output_padding expressed through the layer's post padding (and zero input rows).
#include "layerkit/impl/deconv.h"

#include "impl/spatial_util.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::deconv {

namespace {

Tensor* deconv_impl(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* input, const Operand& weight,
                    const std::optional<Operand>& bias, const std::vector<int64_t>& stride_in,
                    const std::vector<int64_t>& padding_in, const std::vector<int64_t>& dilation_in,
                    const std::vector<int64_t>& output_padding_in, int64_t groups) {
  LK_CHECK(input != nullptr, "input is a null tensor");
  DataType t = input->type();
  LK_CHECK(t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16, "input is ",
           data_type_name(t), "; deconvolution takes float32, float16 or bfloat16");
  spatial::WeightOperand w = spatial::weight_operand(ctx, weight, t, target, source_ir,
                                                     sub_name(name, "kernel"), "weight");
  int wrank = w.dims.rank();
  LK_CHECK(wrank >= 3 && wrank <= 5, "weight ", w.dims.to_string(),
           " must have rank 3, 4 or 5 ([C, K/groups, kernel...] for 1D/2D/3D)");
  int n = wrank - 2;
  int rank = input->dims().rank();
  LK_CHECK(rank == n + 2 || rank == n + 1, "input ", input->dims().to_string(), " has rank ", rank,
           "; a ", n, "D transposed convolution (weight ", w.dims.to_string(), ") takes rank ",
           n + 2, " (or ", n + 1, " unbatched)");
  std::vector<int64_t> stride = spatial::expand(stride_in, n, 1, "stride");
  std::vector<int64_t> dilation = spatial::expand(dilation_in, n, 1, "dilation");
  std::vector<int64_t> padding = spatial::expand(padding_in, n, 0, "padding");
  std::vector<int64_t> outpad = spatial::expand(output_padding_in, n, 0, "output_padding");
  for (int i = 0; i < n; ++i) {
    LK_CHECK(stride[i] >= 1, "stride ", spatial::list(stride), " must be >= 1");
    LK_CHECK(dilation[i] >= 1, "dilation ", spatial::list(dilation), " must be >= 1");
    LK_CHECK(padding[i] >= 0, "negative padding ", spatial::list(padding),
             " is not supported (as torch)");
    LK_CHECK(outpad[i] >= 0 && (outpad[i] < stride[i] || outpad[i] < dilation[i]),
             "output_padding ", spatial::list(outpad),
             " must be >= 0 and smaller than either stride ", spatial::list(stride),
             " or dilation ", spatial::list(dilation), " (as torch)");
  }
  LK_CHECK(groups >= 1, "groups ", groups, " must be >= 1");
  int64_t channels = w.dims[0];
  LK_CHECK(channels % groups == 0, "weight ", w.dims.to_string(), " has ", channels,
           " input channels, not divisible by groups ", groups);
  int64_t k = w.dims[1] * groups;
  Tensor* x = rank == n + 1 ? spatial::add_batch(ctx, input, target, source_ir, name) : input;
  LK_CHECK(x->dims()[1] == -1 || x->dims()[1] == channels, "channel mismatch: input ",
           input->dims().to_string(), " has ", x->dims()[1], " channels but weight ",
           w.dims.to_string(), " expects ", channels);
  x = spatial::pin_channels(ctx, x, channels, target, source_ir, name);

  // ATen's output is rows [p, p + O) of the uncropped result, O = (I-1)*S - 2p + DK + op. The
  // layer crops p before and A after; A = p - op reaches it while op <= p. Beyond that, zero
  // input rows at the end lengthen the uncropped result by S each without adding products, so
  // the extra rows hold just the bias, as in ATen.
  DeconvolutionAttrs a;
  a.num_output_maps = k;
  a.kernel_size = Dims::of_rank(n);
  a.stride = Dims::of_rank(n);
  a.dilation = Dims::of_rank(n);
  a.pre_padding = Dims::of_rank(n);
  a.post_padding = Dims::of_rank(n);
  Dims rows = Dims::of_rank(n, 0);
  bool pad_input = false;
  for (int i = 0; i < n; ++i) {
    a.kernel_size[i] = w.dims[2 + i];
    a.stride[i] = stride[i];
    a.dilation[i] = dilation[i];
    a.pre_padding[i] = padding[i];
    int64_t extra = outpad[i] - padding[i];
    rows[i] = extra > 0 ? (extra + stride[i] - 1) / stride[i] : 0;
    a.post_padding[i] = rows[i] * stride[i] - extra;
    pad_input = pad_input || rows[i] > 0;
    int64_t in = x->dims()[2 + i];
    int64_t out =
        (in - 1) * stride[i] - 2 * padding[i] + dilation[i] * (w.dims[2 + i] - 1) + 1 + outpad[i];
    LK_CHECK(in == -1 || out >= 1, "output size ", out, " on spatial axis ", i,
             " is too small (input ", input->dims().to_string(), ", padding ",
             spatial::list(padding), ")");
  }
  if (pad_input) {
    x = named_output(ctx, ctx.net().add_padding_nd(x, Dims::of_rank(n, 0), rows), target, source_ir,
                     sub_name(name, "output_padding"));
  }
  a.num_groups = groups;
  a.kernel = w.weights;
  Tensor* bias_tensor = spatial::bias_operand(ctx, bias, t, k, target, source_ir, name, a.bias);
  Layer* l = ctx.net().add_deconvolution_nd(x, a, w.tensor, bias_tensor);
  return spatial::finish_layer(ctx, l, a.kernel, a.bias, rank == n + 1, target, source_ir, name);
}

}  // namespace

Tensor* deconvolution(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                      Operand weight, std::optional<Operand> bias, std::vector<int64_t> stride,
                      std::vector<int64_t> padding, std::vector<int64_t> dilation,
                      std::vector<int64_t> output_padding, int64_t groups) {
  Operand in(input);
  return guarded(ctx, "deconv::deconvolution", target, name, {&in, &weight}, [&] {
    return deconv_impl(ctx, target, source_ir, name, input, weight, bias, stride, padding, dilation,
                       output_padding, groups);
  });
}

Tensor* deconvolution(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                      const DeconvolutionOptions& o) {
  return deconvolution(ctx, target, source_ir, name, input, o.weight, o.bias, o.stride, o.padding,
                       o.dilation, o.output_padding, o.groups);
}

}  // namespace layerkit::impl::deconv
