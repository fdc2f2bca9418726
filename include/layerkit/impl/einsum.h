// Building block for torch.einsum, composed of Reduce, Shuffle and MatrixMultiply layers.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::einsum {

// at::einsum(equation, operands) for one or more operands: letters a-z and A-Z label dims, "..."
// stands for broadcast (numpy-aligned) dims, "->" gives the output explicitly; without it the
// output is "..." then the letters used exactly once, in ASCII order (uppercase first). Labels
// left out of the output are summed. Operands are float32/float16/bfloat16, promoted together per
// Note [Type promotion]; 16-bit inputs compute in float32 and round once (Note [Precision
// policy]). Operands are contracted left to right, each pair by one MatrixMultiply after summing
// labels used nowhere else. Limits: a label repeated within one operand (a diagonal) is rejected;
// with an explicit output, "..." must appear there when the operands' "..." covers any dim; a
// label's sizes must agree between operands (only "..." dims broadcast).
Tensor* einsum(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, std::string_view equation,
               const std::vector<Tensor*>& operands);

}  // namespace layerkit::impl::einsum
