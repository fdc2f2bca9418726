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
#undef LK_UNARY

}  // namespace layerkit::impl::elementwise
