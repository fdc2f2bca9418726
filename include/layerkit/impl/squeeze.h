// Building blocks for aten squeeze and unsqueeze.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::squeeze {

// squeeze(input): removes every dim of static size 1. A dynamic dim is kept (the output rank
// must be fixed when the network is built), where torch would drop it if it were 1 at run time.
Tensor* squeeze(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input);
// squeeze(input, dim) / squeeze(input, dims): removes the listed dims that have size 1 and
// leaves the others, as torch does; negative dims count from the end; repeated dims fail. A
// listed dim of dynamic size fails: whether it is removed would depend on run-time sizes.
Tensor* squeeze(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, int64_t dim);
Tensor* squeeze(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, const std::vector<int64_t>& dims);
// unsqueeze(input, dim): inserts a size-1 dim at `dim` in [-(r+1), r] for a rank-r input.
Tensor* unsqueeze(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Tensor* input, int64_t dim);

}  // namespace layerkit::impl::squeeze
