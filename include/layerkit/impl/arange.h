// Building block for aten::arange (start, end, step).
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::arange {

// [start, start + step, ...) below `end` (above it for a negative step), as at::arange: length
// ceil((end - start) / step), step nonzero and pointing from start towards end. Each of start,
// end, step is an int/float/bool scalar or a one-element int/float tensor (value known at run
// time). Without a dtype the result is int64 unless an argument is floating (then float32).
Tensor* arange(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Operand start, Operand end, Operand step = 1,
               std::optional<DataType> dtype = std::nullopt);
// arange(0, end, 1).
Tensor* arange(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Operand end);

}  // namespace layerkit::impl::arange
