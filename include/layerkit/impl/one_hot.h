// Building blocks for torch one_hot and ONNX OneHot (an index ramp compared with the indices).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::one_hot {

// at::one_hot(indices, num_classes): int64 output of dims indices.dims + [num_classes] with a 1
// where the class equals the index. `indices` int64 or int32; num_classes >= 1 (torch's -1, the
// largest index + 1, depends on the values and is rejected). Where torch fails on an index
// outside [0, num_classes), the row here is all zeros.
Tensor* one_hot(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* indices, int64_t num_classes);
// ONNX OneHot: `depth` an int (>= 1) or a one-element tensor (0-D or [1], any integer or float
// type, cast to int64; known at build time or only at run time); the output has the type of the
// values (off_value and on_value promoted per Note [Type promotion]; each a scalar or a
// one-element tensor) and a new dim of size depth at `axis` (in [-(r+1), r] for indices of rank
// r). Indices in [-depth, -1] count from the end; other indices outside [0, depth) give a row of
// off_value. Non-integer indices are cast to int64 first.
Tensor* one_hot_values(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, Tensor* indices,
                       Operand depth, Operand off_value, Operand on_value, int64_t axis = -1);

}  // namespace layerkit::impl::one_hot
