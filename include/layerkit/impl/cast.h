// Building blocks for dtype conversion (aten.to / aten._to_copy).
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::cast {

// Converts `input` to `to` as Tensor::to does (floats to integers truncate toward zero; to bool:
// nonzero is true; integers to narrower integers wrap). A tensor that already has type `to` is
// returned unchanged and no layer is added: network tensors are immutable, so an alias is as
// good as a copy; a caller that needs a distinct tensor (e.g. to mark a network input as an
// output) adds an Identity itself. Scalars become rank-0 constants of `to`; float64 host
// constants follow ConversionSettings::doubles (truncated to fp32 with a warning, or rejected).
Tensor* cast(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input, DataType to);
// aten._to_copy: the same as cast.
Tensor* to_copy(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Operand input, DataType to);

}  // namespace layerkit::impl::cast
