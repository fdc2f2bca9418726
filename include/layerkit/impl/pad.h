// Building blocks for torch's padding ops (F.pad's constant, reflect, replicate, circular modes).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::pad {

// `pad` is in torch order, last dim first: [left, right, top, bottom, front, back, ...]; its
// length is even and at most 2 * rank. Any number of trailing dims of a tensor of any rank may be
// padded, with static or dynamic dims. Each block adds one Slice layer (two for circular padding
// that crops), plus shape arithmetic when a padded dim is dynamic.

// at::constant_pad_nd: fills with `value` (cast to the input type); negative entries crop.
Tensor* constant_pad(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                     const std::vector<int64_t>& pad, double value = 0.0);
// at::reflection_pad{1,2,3}d: mirrors without repeating the edge; entries in [0, dim - 1].
Tensor* reflection_pad(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                       const std::vector<int64_t>& pad);
// at::replication_pad{1,2,3}d: repeats the edge element; entries >= 0.
Tensor* replication_pad(ConversionContext& ctx, const Target& target,
                        std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                        const std::vector<int64_t>& pad);
// at::pad(..., "circular"): wraps around; entries in [-dim, dim]; negative entries crop first
// and the wrap then reads the cropped tensor, as ATen does.
Tensor* circular_pad(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                     const std::vector<int64_t>& pad);

}  // namespace layerkit::impl::pad
