// Building blocks for element-wise binary and unary ops, with PyTorch's promotion and broadcasting.
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::elementwise {

// Every binary op promotes its operands per Note [Type promotion] and broadcasts them per
// Note [Broadcasting] (include/layerkit/impl/utils.h); scalars may stand on either side.

Tensor* add(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Operand lhs, Operand rhs, Operand alpha = 1);
Tensor* sub(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Operand lhs, Operand rhs, Operand alpha = 1);
Tensor* mul(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Operand lhs, Operand rhs);
// rounding_mode: none (true division; integers give fp32), "trunc" or "floor" (as at::div).
Tensor* div(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Operand lhs, Operand rhs,
            std::optional<std::string_view> rounding_mode = std::nullopt);
Tensor* pow(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Operand lhs, Operand rhs);
Tensor* floor_div(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Operand lhs, Operand rhs);
Tensor* trunc_div(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Operand lhs, Operand rhs);
// C-style remainder: the result has the sign of lhs (at::fmod).
Tensor* fmod(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand lhs, Operand rhs);
// Python-style remainder: the result has the sign of rhs (at::remainder).
Tensor* remainder(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Operand lhs, Operand rhs);
Tensor* logical_and(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Operand lhs, Operand rhs);
Tensor* logical_or(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand lhs, Operand rhs);
Tensor* logical_xor(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Operand lhs, Operand rhs);
// Integer and bool operands only.
Tensor* bitwise_and(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Operand lhs, Operand rhs);
Tensor* bitwise_or(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand lhs, Operand rhs);
Tensor* bitwise_xor(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Operand lhs, Operand rhs);
// Comparisons return bool tensors.
Tensor* eq(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
           std::string_view name, Operand lhs, Operand rhs);
Tensor* ne(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
           std::string_view name, Operand lhs, Operand rhs);
Tensor* gt(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
           std::string_view name, Operand lhs, Operand rhs);
Tensor* ge(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
           std::string_view name, Operand lhs, Operand rhs);
Tensor* lt(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
           std::string_view name, Operand lhs, Operand rhs);
Tensor* le(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
           std::string_view name, Operand lhs, Operand rhs);
// at::maximum / at::minimum (NaN propagates).
Tensor* max(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Operand lhs, Operand rhs);
Tensor* min(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Operand lhs, Operand rhs);

// Unary ops. Integer and bool inputs of the floating ops (sqrt, exp, sin, ...) are promoted to
// fp32 as torch does; abs, neg, sign keep integer types; floor, ceil and round of an integer
// tensor return it unchanged; not_ returns bool.
#define LK_UNARY(fn)                                                                          \
  Tensor* fn(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir, \
             std::string_view name, Operand input);
LK_UNARY(abs)
LK_UNARY(neg)
LK_UNARY(floor)
LK_UNARY(ceil)
LK_UNARY(round)
LK_UNARY(sqrt)
LK_UNARY(rsqrt)
LK_UNARY(exp)
LK_UNARY(log)
LK_UNARY(sin)
LK_UNARY(cos)
LK_UNARY(tan)
LK_UNARY(asin)
LK_UNARY(acos)
LK_UNARY(atan)
LK_UNARY(sinh)
LK_UNARY(cosh)
LK_UNARY(asinh)
LK_UNARY(acosh)
LK_UNARY(atanh)
LK_UNARY(erf)
LK_UNARY(sign)
LK_UNARY(not_)
// at::trunc (integers unchanged, bool rejected), at::reciprocal, at::log1p, at::expm1,
// at::log2, at::log10 (integer and bool inputs promote to fp32). log1p and expm1 stay accurate
// near 0, where log(1 + x) and exp(x) - 1 lose every digit (Note [Precision policy]: 16-bit
// inputs compute in fp32).
LK_UNARY(trunc)
LK_UNARY(reciprocal)
LK_UNARY(log1p)
LK_UNARY(expm1)
LK_UNARY(log2)
LK_UNARY(log10)
// at::isnan / at::isinf / at::isfinite: bool results; integer and bool inputs are never NaN or
// infinite.
LK_UNARY(isnan)
LK_UNARY(isinf)
LK_UNARY(isfinite)
#undef LK_UNARY

// at::clamp (alias clip): min(max(input, min), max) with scalar or tensor bounds (either may be
// absent, not both); the result type promotes the input with the bounds (Note [Type promotion]),
// tensors broadcast (Note [Broadcasting]). Where min > max every element is max, as in torch;
// NaN inputs stay NaN.
Tensor* clamp(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input, std::optional<Operand> min,
              std::optional<Operand> max = std::nullopt);
Tensor* clip(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input, std::optional<Operand> min,
             std::optional<Operand> max = std::nullopt);

}  // namespace layerkit::impl::elementwise
