// Building block for torch's grid_sample (aten::grid_sampler, 2-D) as one GridSample layer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::grid {

// F.grid_sample on input [N, C, H, W] with grid [N, H_out, W_out, 2] (x, y in [-1, 1]) of the
// same float type; output [N, C, H_out, W_out]. mode: "bilinear", "nearest", "bicubic";
// padding_mode: "zeros", "border", "reflection".
Tensor* grid_sample(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* input, Tensor* grid,
                    std::string_view mode = "bilinear", std::string_view padding_mode = "zeros",
                    bool align_corners = false);

// Note [Option structs] (conv.h), in F.grid_sample's parameter names.
struct GridSampleOptions {
  std::string mode = "bilinear";
  std::string padding_mode = "zeros";
  bool align_corners = false;
};
Tensor* grid_sample(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* input, Tensor* grid,
                    const GridSampleOptions& options);

}  // namespace layerkit::impl::grid
