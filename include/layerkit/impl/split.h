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
// checked at build time on a static dim, at run time (kRUNTIME from a strict-bounds Slice) on a
// dynamic one.
std::vector<Tensor*> split(ConversionContext& ctx, const Target& target,
                           std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                           const std::vector<int64_t>& sizes, int64_t dim = 0);
std::vector<Tensor*> split_with_sizes(ConversionContext& ctx, const Target& target,
                                      std::optional<SourceIR> source_ir, std::string_view name,
                                      Tensor* input, const std::vector<int64_t>& sizes,
                                      int64_t dim = 0);

}  // namespace layerkit::impl::split
