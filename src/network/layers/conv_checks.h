// Attribute validation shared by the Convolution, Deconvolution and Pooling inference functions.
#pragma once

#include <string_view>

#include "network/infer.h"
#include "network/layers/conv_geometry.h"

namespace layerkit::detail {

// A per-axis attribute must be empty (rank 0: its default) or give one value >= `min` per
// spatial axis.
inline void check_spatial_param(const InferCtx& ctx, std::string_view what, const Dims& d, int axes,
                                int64_t min) {
  ctx.check(d.rank() == 0 || d.rank() == axes, what, " ", d.to_string(), " has rank ", d.rank(),
            "; expected rank 0 (default) or ", axes, " (one per spatial axis)");
  for (int i = 0; i < d.rank(); ++i)
    ctx.check(d[i] >= min, what, " ", d.to_string(), " has ", d[i], " on spatial axis ", i,
              "; values must be >= ", min);
}

inline void check_padding_mode(const InferCtx& ctx, PaddingMode m) {
  auto v = static_cast<int32_t>(m);
  ctx.check(v >= 0 && v <= static_cast<int32_t>(PaddingMode::kSAME_LOWER), "padding_mode ", v,
            " is not a PaddingMode");
}

}  // namespace layerkit::detail
