// grid_sample building block: maps torch's mode names onto the GridSample layer, whose kernel
// follows ATen's grid_sampler_2d.
#include "layerkit/impl/grid.h"

#include "layerkit/impl/utils.h"

namespace layerkit::impl::grid {

Tensor* grid_sample(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* input, Tensor* grid, std::string_view mode,
                    std::string_view padding_mode, bool align_corners) {
  Operand in(input), g(grid);
  return guarded(ctx, "grid::grid_sample", target, name, {&in, &g}, [&]() -> Tensor* {
    LK_CHECK(input != nullptr && grid != nullptr, "input and grid must be non-null tensors");
    GridSampleAttrs attrs;
    attrs.align_corners = align_corners;
    if (mode == "bilinear") {
      attrs.interpolation_mode = InterpolationMode::kLINEAR;
    } else if (mode == "nearest") {
      attrs.interpolation_mode = InterpolationMode::kNEAREST;
    } else if (mode == "bicubic") {
      attrs.interpolation_mode = InterpolationMode::kCUBIC;
    } else {
      LK_FAIL(kINVALID_ARGUMENT, "unknown grid_sample mode '", mode,
              "'; expected bilinear, nearest or bicubic");
    }
    if (padding_mode == "zeros") {
      attrs.sample_mode = SampleMode::kFILL;
    } else if (padding_mode == "border") {
      attrs.sample_mode = SampleMode::kCLAMP;
    } else if (padding_mode == "reflection") {
      attrs.sample_mode = SampleMode::kREFLECT;
    } else {
      LK_FAIL(kINVALID_ARGUMENT, "unknown grid_sample padding_mode '", padding_mode,
              "'; expected zeros, border or reflection");
    }
    const Dims& di = input->dims();
    const Dims& dg = grid->dims();
    LK_CHECK(di.rank() == 4,
             "input must be 4-D [N, C, H, W] (5-D volumetric sampling is not "
             "supported); got dims ",
             di.to_string());
    LK_CHECK(dg.rank() == 4 && (dg[3] == 2 || dg[3] == -1),
             "grid must be 4-D [N, H_out, W_out, 2] for a 4-D input; got dims ", dg.to_string());
    LK_CHECK(di[0] < 0 || dg[0] < 0 || di[0] == dg[0], "input batch ", di[0], " and grid batch ",
             dg[0], " differ (input ", di.to_string(), ", grid ", dg.to_string(), ")");
    LK_CHECK(is_floating(input->type()) && input->type() == grid->type(),
             "input and grid must have the same float type; got ", data_type_name(input->type()),
             " and ", data_type_name(grid->type()));
    return named_output(ctx, ctx.net().add_grid_sample(input, grid, attrs), target, source_ir,
                        name);
  });
}

Tensor* grid_sample(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* input, Tensor* grid,
                    const GridSampleOptions& o) {
  return grid_sample(ctx, target, source_ir, name, input, grid, o.mode, o.padding_mode,
                     o.align_corners);
}

}  // namespace layerkit::impl::grid
