// Building blocks for torch scatter / scatter_reduce and ONNX ScatterND (Scatter layer, with the
// layerkit reduction extension).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::scatter {

// at::scatter / at::scatter_reduce(include_self = true): out = input, then for every element of
// `index` (int64 or int32, the input's rank, no larger than the input off `dim`) the element of
// src at the same position goes to out[... index ...] along dim. `src` is a tensor of the input's
// type and rank, at least as large as the index in every dim (only the index's extent is read),
// or a scalar (converted to the input's type). `reduce`: "" (overwrite; a later duplicate wins),
// "sum", "prod", "amax", "amin", and torch.scatter's "add" / "multiply" as aliases of sum/prod.
// Duplicate indices accumulate in row-major order. Negative indices in [-size, -1] count from
// the end (ONNX ScatterElements; torch rejects them).
Tensor* scatter(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, int64_t dim, Tensor* index, Operand src,
                std::string_view reduce = "");
// ONNX ScatterND: indices int64/int32 of rank q >= 1 with a static last dim m <= rank(data);
// updates of dims indices[:-1] + data[m:] and the data's type. `reduction`: "none" (a later
// duplicate wins), "add", "mul", "max", "min". Negative indices count from the end.
Tensor* scatter_nd(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Tensor* data, Tensor* indices, Tensor* updates,
                   std::string_view reduction = "none");

}  // namespace layerkit::impl::scatter
