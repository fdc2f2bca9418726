// Building block for torch.cumsum / ONNX CumSum on the Cumulative layer. A composite (matmul with
// a triangular matrix, or log-steps of shifted adds) would cost O(n^2) or O(n log n) work, lose
// integer exactness through the float matmul, and need shape tensors for dynamic lengths; the
// Cumulative layer (TensorRT's ICumulativeLayer) does it in one pass for any length.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::cumsum {

// at::cumsum(input, dim, dtype) plus ONNX CumSum's `exclusive` (each output leaves its own element
// out, the first is 0) and `reverse` (sums run from the end). Output type as torch: `dtype` when
// given (the input is cast to it first), else the input's type for floating inputs and int64 for
// integer and bool inputs. ONNX CumSum keeps integer types: converters pass dtype = the input's
// type (int8/uint8 then accumulate in int32 and wrap back, as in their own type).
Tensor* cumsum(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Tensor* input, int64_t dim, bool exclusive = false,
               bool reverse = false, std::optional<DataType> dtype = std::nullopt);

}  // namespace layerkit::impl::cumsum
