// Building block for torch's prelu: a learned negative slope per channel.
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::prelu {

// x >= 0 ? x : weight * x (at::prelu). `input` is fp32/fp16/bf16; `weight` is a 0-D or 1-D
// tensor, host constant or scalar with 1 element or C = input.size(1) elements (C = 1 for inputs
// of rank < 2), broadcast over the other dims. The weight is converted to the input's type
// (torch accepts an fp32 weight with a bf16 input but not the reverse; layerkit takes both).
Tensor* prelu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input, Operand weight);

}  // namespace layerkit::impl::prelu
