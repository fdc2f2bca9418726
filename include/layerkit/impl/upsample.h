// Building block for torch's F.interpolate / aten upsample_* ops, as one Resize layer.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::upsample {

// Resizes the spatial dims of input [N, C, spatial...] as F.interpolate does. mode: "nearest"
// and "nearest-exact" (1 to 3 spatial dims), "linear" (1), "bilinear" (2), "bicubic" (2),
// "trilinear" (3). Give exactly one of `size` (output sizes) and `scale_factor` (each may hold
// one entry for every spatial dim, or one entry used for all). With a scale the output size is
// floor(in * scale) and coordinates use 1 / scale (recompute_scale_factor unset); with a size
// they use in / out. align_corners only for the interpolating modes (unset means false).
Tensor* upsample(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, std::string_view mode,
                 std::optional<std::vector<int64_t>> size,
                 std::optional<std::vector<double>> scale_factor = std::nullopt,
                 std::optional<bool> align_corners = std::nullopt);

// Note [Option structs] (conv.h), in F.interpolate's parameter names.
struct InterpolateOptions {
  std::optional<std::vector<int64_t>> size = std::nullopt;
  std::optional<std::vector<double>> scale_factor = std::nullopt;
  std::string mode = "nearest";
  std::optional<bool> align_corners = std::nullopt;
};
Tensor* upsample(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, const InterpolateOptions& options);

}  // namespace layerkit::impl::upsample
