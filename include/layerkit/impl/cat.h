// Building block for aten cat.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::cat {

// cat(tensors, dim): joins tensors (or host constants) of equal rank >= 1 along `dim` (negative
// counts from the end); they must agree off `dim`. Types are promoted per Note [Type promotion].
// As in torch, 1-D inputs of size 0 are skipped (they only take part in promotion). Plain
// scalars are rejected (torch's cat takes tensors only).
Tensor* cat(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, const std::vector<Operand>& tensors, int64_t dim = 0);

}  // namespace layerkit::impl::cat
