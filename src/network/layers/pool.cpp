// Inference and printing for the Pooling kind.
#include "network/infer.h"
#include "network/layers/conv_checks.h"
#include "network/layers/conv_geometry.h"

namespace layerkit::detail {

void infer(const PoolingAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 1, "takes 1 input, got ", ctx.num_inputs());
  const ValueDesc& x = ctx.input(0);
  check_type(ctx, 0, {DataType::kFLOAT, DataType::kHALF, DataType::kBF16});
  auto type = static_cast<int32_t>(a.type);
  ctx.check(type >= 0 && type <= static_cast<int32_t>(PoolingType::kMAX_AVERAGE_BLEND), "type ",
            type, " is not a PoolingType");
  const int axes = a.window.rank();
  ctx.check(axes >= 1 && axes <= 3, "window ", a.window.to_string(), " has rank ", axes,
            "; expected 1, 2 or 3 spatial axes");
  for (int i = 0; i < axes; ++i)
    ctx.check(a.window[i] >= 1, "window ", a.window.to_string(), " has a value < 1");
  ctx.check(x.dims.rank() == axes + 2, "input 0 has rank ", x.dims.rank(), " (dims ",
            x.dims.to_string(), "); a window of rank ", axes, " needs rank ", axes + 2,
            " [N, C, spatial...]");
  check_spatial_param(ctx, "stride", a.stride, axes, 1);
  check_spatial_param(ctx, "dilation", a.dilation, axes, 1);
  check_spatial_param(ctx, "pre_padding", a.pre_padding, axes, 0);
  check_spatial_param(ctx, "post_padding", a.post_padding, axes, 0);
  check_padding_mode(ctx, a.padding_mode);
  std::vector<int64_t> dil = per_axis(a.dilation, axes, 1);
  bool dilated = false;
  for (int64_t d : dil) dilated = dilated || d != 1;
  ctx.check(!dilated || a.type == PoolingType::kMAX, "dilation ", a.dilation.to_string(),
            " is supported for kMAX pooling only, not ", enum_name(a.type));
  if (a.type == PoolingType::kMAX_AVERAGE_BLEND)
    ctx.check(a.blend_factor >= 0.0f && a.blend_factor <= 1.0f, "blend_factor ", a.blend_factor,
              " is outside [0, 1]");

  std::vector<int64_t> stride = per_axis(a.stride, axes, 0);  // 0: the window (rank 0 stride)
  std::vector<int64_t> pre = per_axis(a.pre_padding, axes, 0);
  std::vector<int64_t> post = per_axis(a.post_padding, axes, 0);
  Dims out{x.dims[0], x.dims[1]};
  for (int i = 0; i < axes; ++i) {
    auto s = static_cast<size_t>(i);
    if (stride[s] == 0) stride[s] = a.window[i];
    int64_t ext = dilated_extent(a.window[i], dil[s]);
    bool same =
        a.padding_mode == PaddingMode::kSAME_UPPER || a.padding_mode == PaddingMode::kSAME_LOWER;
    // A window lying wholly in explicit padding would have no element to pool.
    if (!same)
      ctx.check(pre[s] < ext && post[s] < ext, "spatial axis ", i, ": padding ", pre[s], " + ",
                post[s], " must be smaller than the window extent ", ext);
    int64_t in = x.dims[i + 2];
    AxisGeometry g = forward_axis(in, ext, stride[s], pre[s], post[s], a.padding_mode);
    if (in >= 0) {
      ctx.check(in + g.pre + g.post >= ext, "spatial axis ", i, ": window extent ", ext,
                " is larger than the padded input ", in + g.pre + g.post, " (", in, " + padding ",
                g.pre, " + ", g.post, ")");
      ctx.check(g.out >= 1, "spatial axis ", i, ": output size ", g.out, " is not positive");
    }
    out.push_back(g.out);
  }
  ctx.add_output(x.type, out);
}

void print_attrs(const PoolingAttrs& a, AttrPrinter& p) {
  p.add("type", a.type);
  p.add("window", a.window);
  p.add("stride", a.stride);
  p.add("pre_padding", a.pre_padding);
  p.add("post_padding", a.post_padding);
  p.add("dilation", a.dilation);
  p.add("padding_mode", a.padding_mode);
  p.add("average_count_excludes_padding", a.average_count_excludes_padding);
  p.add("blend_factor", a.blend_factor);
}

}  // namespace layerkit::detail
