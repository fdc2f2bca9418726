// Building blocks for aten permute and transpose.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::permutation {

// permute(input, dims): output dim i is input dim dims[i]; dims is a permutation of the input's
// dims, negative entries counting from the end.
Tensor* permute(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, const std::vector<int64_t>& dims);
// transpose(input, dim0, dim1): swaps two dims (negative count from the end).
Tensor* transpose(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Tensor* input, int64_t dim0, int64_t dim1);

}  // namespace layerkit::impl::permutation
