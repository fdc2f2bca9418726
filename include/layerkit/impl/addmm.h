// Building block for at::addmm.
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::addmm {

// at::addmm: beta * input + alpha * (mat1 @ mat2) for 2-D mat1 [n, m] and mat2 [m, p]; input
// broadcasts to [n, p]. beta == 0 ignores input (its NaNs do not propagate), as torch does.
// beta and alpha are scalars; integral operands need integral ones.
Tensor* addmm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input, Operand mat1, Operand mat2, Operand beta = 1,
              Operand alpha = 1);

}  // namespace layerkit::impl::addmm
