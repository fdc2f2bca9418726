// Building blocks for shape queries: aten size, numel and shape as int64 tensors.
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::shape {

// Static dims give Constant layers; dynamic ones are read at run time by a Shape layer. The
// results are int64 shape tensors whose build-time values are known where the dims are static.

// size(input, dim): 0-D int64, the size of `dim` (negative counts from the end); without dim,
// the 1-D int64 shape (as shape()).
Tensor* size(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, std::optional<int64_t> dim = std::nullopt);
// numel(input): 0-D int64, the number of elements (1 for a rank-0 input).
Tensor* numel(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Tensor* input);
// shape(input): 1-D int64 [rank], the dims (aten's Tensor::sizes as a tensor).
Tensor* shape(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Tensor* input);

}  // namespace layerkit::impl::shape
