// Building blocks for at::matmul (every rank combination, with batch broadcasting) and at::outer.
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::matmul {

// at::matmul: 1-D x 1-D is a dot product (0-d result), 2-D x 1-D and 1-D x 2-D matrix-vector
// products, and N-D operands batched with their batch dims broadcast (the lower rank gains
// leading 1s). Mixed types promote per Note [Type promotion]. Floats use one MatrixMultiply
// layer; int32/int64 (which that layer lacks) compute exactly as a product and a Reduce sum;
// bool, int8 and uint8 are rejected.
Tensor* matrix_multiply(ConversionContext& ctx, const Target& target,
                        std::optional<SourceIR> source_ir, std::string_view name, Operand a,
                        Operand b);

// at::outer: 1-D a [M] and b [N] give a[i] * b[j] of shape [M, N] (an element-wise product,
// not a matmul), promoting as elementwise::mul.
Tensor* outer(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand a, Operand b);

namespace detail {
// The matmul of two tensors already of one type, b's last two dims optionally transposed (the
// layer's kTRANSPOSE op); linear and addmm build on it. Checks shapes; not guarded.
Tensor* matmul_tensors(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, Tensor* a,
                       Tensor* b, bool transpose_b);
}  // namespace detail

}  // namespace layerkit::impl::matmul
