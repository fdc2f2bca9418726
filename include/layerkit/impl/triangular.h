// Building blocks for torch.tril / torch.triu (a row/column index mask and a Select).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::triangular {

// at::tril: keeps the elements of the last two dims with column - row <= diagonal, zeros the
// rest; rank >= 2, any type but sub-byte, dynamic dims allowed.
Tensor* tril(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, int64_t diagonal = 0);
// at::triu: keeps column - row >= diagonal.
Tensor* triu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, int64_t diagonal = 0);

}  // namespace layerkit::impl::triangular
