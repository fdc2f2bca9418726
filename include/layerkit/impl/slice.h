// Building blocks for slicing along one dim: aten::slice.Tensor and aten::select.int.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::slice {

// input[start:stop:step] along `dim` (Tensor::slice): negative start/stop count from the end,
// out-of-range bounds are clamped to the dim, an absent start is 0 and an absent stop the dim
// size; step > 0. start/stop are ints or one-element (0-D or [1]) int32/int64 tensors whose
// values may be known only at run time; a dynamic dim is handled with shape arithmetic.
Tensor* slice(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Tensor* input, int64_t dim,
              std::optional<Operand> start = std::nullopt,
              std::optional<Operand> stop = std::nullopt, int64_t step = 1);

// input.select(dim, index) (select.int): picks one index (negative counts from the end) and
// removes the dim. An index outside a static dim fails at build time, outside a dynamic dim at
// run time.
Tensor* select(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Tensor* input, int64_t dim, int64_t index);

}  // namespace layerkit::impl::slice
