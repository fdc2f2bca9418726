// Building blocks for aten reshape, view and flatten.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::shuffle {

// reshape(input, shape) with torch semantics: at most one -1 (inferred from the volume), 0 is
// a real size 0 (TensorRT's copy-placeholder meaning is off), volumes must agree.
Tensor* reshape(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, const std::vector<int64_t>& shape);
// reshape(input, shape tensor): `shape` is an int32/int64 1-D tensor with a build-time length,
// read at run time (one -1 allowed; 0 is a real size 0).
Tensor* reshape(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, Tensor* shape);
// view: reshape (a Shuffle always produces a new tensor, so view's aliasing is moot here).
Tensor* view(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, const std::vector<int64_t>& shape);
Tensor* view(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, Tensor* shape);
// flatten(input, start_dim, end_dim): dims start..end (negative count from the end) become one;
// a rank-0 input gives [1].
Tensor* flatten(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, int64_t start_dim = 0, int64_t end_dim = -1);

}  // namespace layerkit::impl::shuffle
