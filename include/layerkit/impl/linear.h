// Building block for at::linear (a fully connected layer).
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::linear {

// at::linear: input [..., in] times weight [out, in] transposed (the MatrixMultiply layer's
// kTRANSPOSE op), plus bias [out] when given; any number of leading dims (1-D input gives
// [out]). With a bias, 16-bit floats compute in fp32 and round once (Note [Precision policy]).
Tensor* linear(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Operand input, Operand weight,
               std::optional<Operand> bias = std::nullopt);

}  // namespace layerkit::impl::linear
