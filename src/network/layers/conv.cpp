// Inference and printing for the Convolution and Deconvolution kinds.
#include "network/infer.h"
#include "network/layers/conv_checks.h"
#include "network/layers/conv_geometry.h"

namespace layerkit::detail {
namespace {

constexpr std::initializer_list<DataType> kConvTypes = {DataType::kFLOAT, DataType::kHALF,
                                                        DataType::kBF16};

// Both kinds share every attribute; only the kernel layout and the size formula differ.
template <typename A>
void infer_conv(const A& a, InferCtx& ctx, bool transposed) {
  ctx.check(ctx.num_inputs() >= 1 && ctx.num_inputs() <= 3, "takes 1 to 3 inputs (data, kernel, ",
            "bias), got ", ctx.num_inputs());
  ctx.check(ctx.has_input(0), "input 0 (data) is missing");
  const ValueDesc& x = ctx.input(0);
  check_type(ctx, 0, kConvTypes);
  const int axes = a.kernel_size.rank();
  ctx.check(axes >= 1 && axes <= 3, "kernel_size ", a.kernel_size.to_string(), " has rank ", axes,
            "; expected 1, 2 or 3 spatial axes");
  for (int i = 0; i < axes; ++i)
    ctx.check(a.kernel_size[i] >= 1, "kernel_size ", a.kernel_size.to_string(), " has a value < 1");
  ctx.check(x.dims.rank() == axes + 2, "input 0 has rank ", x.dims.rank(), " (dims ",
            x.dims.to_string(), "); a kernel_size of rank ", axes, " needs rank ", axes + 2,
            " [N, C, spatial...]");
  check_spatial_param(ctx, "stride", a.stride, axes, 1);
  check_spatial_param(ctx, "dilation", a.dilation, axes, 1);
  check_spatial_param(ctx, "pre_padding", a.pre_padding, axes, 0);
  check_spatial_param(ctx, "post_padding", a.post_padding, axes, 0);
  check_padding_mode(ctx, a.padding_mode);

  const int64_t k_out = a.num_output_maps, groups = a.num_groups;
  ctx.check(k_out >= 1, "num_output_maps ", k_out, " must be >= 1");
  ctx.check(groups >= 1, "num_groups ", groups, " must be >= 1");
  const int64_t c = x.dims[1];
  // TensorRT needs the channel count at build time: the kernel's shape depends on it.
  ctx.check(c >= 0, "the channel dimension (axis 1) of input 0 must be known, got ",
            x.dims.to_string());
  ctx.check(c % groups == 0, "input channels ", c, " are not divisible by num_groups ", groups);
  ctx.check(k_out % groups == 0, "num_output_maps ", k_out, " is not divisible by num_groups ",
            groups);

  // Convolution kernel [K, C/groups, k...]; deconvolution kernel [C, K/groups, k...].
  Dims kdims = transposed ? Dims{c, k_out / groups} : Dims{k_out, c / groups};
  for (int i = 0; i < axes; ++i) kdims.push_back(a.kernel_size[i]);
  if (ctx.has_input(1)) {
    const ValueDesc& w = ctx.input(1);
    ctx.check(w.type == x.type, "kernel tensor (input 1) has type ", data_type_name(w.type),
              "; expected the data type ", data_type_name(x.type));
    bool match = w.dims.rank() == kdims.rank();
    for (int i = 0; match && i < kdims.rank(); ++i)
      match = w.dims[i] == kdims[i] || w.dims[i] == -1;
    ctx.check(match, "kernel tensor (input 1) has dims ", w.dims.to_string(), "; expected ",
              kdims.to_string(), transposed ? " [C, K/groups, k...]" : " [K, C/groups, k...]");
  } else {
    ctx.check(!a.kernel.empty(), "no kernel: give kernel weights or a kernel tensor (input 1)");
    ctx.check(a.kernel.type() == DataType::kFLOAT || a.kernel.type() == x.type,
              "kernel weights have type ", data_type_name(a.kernel.type()),
              "; expected float32 or the data type ", data_type_name(x.type));
    ctx.check(a.kernel.count() == kdims.volume(), "kernel weights hold ", a.kernel.count(),
              " values; expected ", kdims.volume(), " for kernel dims ", kdims.to_string(),
              transposed ? " [C, K/groups, k...]" : " [K, C/groups, k...]");
  }
  if (ctx.has_input(2)) {
    const ValueDesc& b = ctx.input(2);
    ctx.check(b.type == x.type, "bias tensor (input 2) has type ", data_type_name(b.type),
              "; expected the data type ", data_type_name(x.type));
    ctx.check(b.dims.rank() == 1 && (b.dims[0] == k_out || b.dims[0] == -1),
              "bias tensor (input 2) has dims ", b.dims.to_string(), "; expected [", k_out, "]");
  } else if (!a.bias.empty()) {
    ctx.check(a.bias.type() == DataType::kFLOAT || a.bias.type() == x.type,
              "bias weights have type ", data_type_name(a.bias.type()),
              "; expected float32 or the data type ", data_type_name(x.type));
    ctx.check(a.bias.count() == k_out, "bias weights hold ", a.bias.count(), " values; expected ",
              k_out, " (num_output_maps)");
  }

  std::vector<int64_t> stride = per_axis(a.stride, axes, 1);
  std::vector<int64_t> dil = per_axis(a.dilation, axes, 1);
  std::vector<int64_t> pre = per_axis(a.pre_padding, axes, 0);
  std::vector<int64_t> post = per_axis(a.post_padding, axes, 0);
  Dims out{x.dims[0], k_out};
  for (int i = 0; i < axes; ++i) {
    auto s = static_cast<size_t>(i);
    int64_t in = x.dims[i + 2];
    int64_t ext = dilated_extent(a.kernel_size[i], dil[s]);
    AxisGeometry g = transposed
                         ? transposed_axis(in, ext, stride[s], pre[s], post[s], a.padding_mode)
                         : forward_axis(in, ext, stride[s], pre[s], post[s], a.padding_mode);
    if (in >= 0 && !transposed)
      ctx.check(in + g.pre + g.post >= ext, "spatial axis ", i, ": padded input ",
                in + g.pre + g.post, " (", in, " + padding ", g.pre, " + ", g.post,
                ") is smaller than the dilated kernel extent ", ext);
    if (in >= 0)
      ctx.check(g.out >= 1, "spatial axis ", i, ": output size ", g.out, " is not positive (input ",
                in, ", kernel extent ", ext, ", stride ", stride[s], ", padding ", g.pre, " + ",
                g.post, ")");
    out.push_back(g.out);
  }
  ctx.add_output(x.type, out);
}

template <typename A>
void print_conv(const A& a, AttrPrinter& p) {
  p.add("num_output_maps", a.num_output_maps);
  p.add("kernel_size", a.kernel_size);
  p.add("kernel", a.kernel);
  p.add("bias", a.bias);
  p.add("stride", a.stride);
  p.add("pre_padding", a.pre_padding);
  p.add("post_padding", a.post_padding);
  p.add("dilation", a.dilation);
  p.add("padding_mode", a.padding_mode);
  p.add("num_groups", a.num_groups);
}

}  // namespace

void infer(const ConvolutionAttrs& a, InferCtx& ctx) {
  infer_conv(a, ctx, false);
}
void print_attrs(const ConvolutionAttrs& a, AttrPrinter& p) {
  print_conv(a, p);
}

void infer(const DeconvolutionAttrs& a, InferCtx& ctx) {
  infer_conv(a, ctx, true);
}
void print_attrs(const DeconvolutionAttrs& a, AttrPrinter& p) {
  print_conv(a, p);
}

}  // namespace layerkit::detail
