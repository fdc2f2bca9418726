// Building blocks for splitting a tensor along one dim: aten::split.Tensor and
// aten::split_with_sizes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::split {

// Chunks of `split_size` along `dim` (at::split), the last one smaller when the size does not
// divide the dim. The dim must be static: the number of outputs depends on it.
std::vector<Tensor*> split(ConversionContext& ctx, const Target& target,
                           std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                           int64_t split_size, int64_t dim = 0);

// Chunks of the given sizes along `dim` (at::split_with_sizes); the sizes must sum to the dim:
// checked when the block is added on a static dim; on a dynamic one by a strict-bounds Slice
// named "{name}_sizes_sum_check", which fails the engine build when the profile admits another
// size (and would fail a run with kRUNTIME).
std::vector<Tensor*> split(ConversionContext& ctx, const Target& target,
                           std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                           const std::vector<int64_t>& sizes, int64_t dim = 0);
std::vector<Tensor*> split_with_sizes(ConversionContext& ctx, const Target& target,
                                      std::optional<SourceIR> source_ir, std::string_view name,
                                      Tensor* input, const std::vector<int64_t>& sizes,
                                      int64_t dim = 0);

}  // namespace layerkit::impl::split
