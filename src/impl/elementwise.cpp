// Element-wise building blocks: binary arithmetic, logical, bitwise and comparison ops, and unary
// ops, following PyTorch's promotion (Note [Type promotion]) and broadcasting (Note
// [Broadcasting]).
#include "layerkit/impl/elementwise.h"

#include <algorithm>
#include <array>

#include "layerkit/impl/utils.h"

namespace layerkit::impl::elementwise {

namespace {

using E = ElementWiseOperation;
using U = UnaryOperation;

int operand_rank(const Operand& op) {
  if (op.is_tensor()) return op.tensor() ? op.tensor()->dims().rank() : 0;
  if (op.is_host_constant()) return op.host_constant().dims.rank();
  return 0;
}

// The type the ElementWise layer computes in for a promoted type `t`: the layer has no uint8 or
// bool arithmetic (and no int8 comparisons), so those compute in int32 and are cast back, which
// wraps exactly as torch's uint8 arithmetic does.
DataType layer_type(E op, DataType t) {
  bool cmp = op == E::kEQUAL || op == E::kGREATER || op == E::kLESS;
  if (t == DataType::kUINT8 || t == DataType::kBOOL || (cmp && t == DataType::kINT8))
    return DataType::kINT32;
  return t;
}

// The one path every binary block takes: convert both operands to `type`, broadcast, add the
// ElementWise layer named `name`.
Tensor* binary_layer(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, const Operand& lhs,
                     const Operand& rhs, E op, DataType type) {
  int rank = std::max(operand_rank(lhs), operand_rank(rhs));
  Tensor* a = to_tensor(ctx, lhs, type, rank, target, source_ir, sub_name(name, "lhs"));
  Tensor* b = to_tensor(ctx, rhs, type, rank, target, source_ir, sub_name(name, "rhs"));
  std::array<Tensor*, 2> pair{a, b};
  std::vector<Tensor*> bc = broadcast(ctx, pair, target, source_ir, name);
  Layer* l = ctx.net().add_elementwise(bc[0], bc[1], op);
  set_layer_name(ctx, l, target, source_ir, name);
  return l->output(0);
}

// Arithmetic in the promoted type (computed in layer_type and cast back when they differ).
Tensor* arithmetic(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, const Operand& lhs, const Operand& rhs, E op,
                   std::optional<DataType> forced = std::nullopt) {
  DataType t = forced.value_or(result_type({&lhs, &rhs}));
  DataType lt = layer_type(op, t);
  if (lt == t) return binary_layer(ctx, target, source_ir, name, lhs, rhs, op, t);
  Tensor* r = binary_layer(ctx, target, source_ir, sub_name(name, "wide"), lhs, rhs, op, lt);
  return cast_to(ctx, r, t, target, source_ir, name);
}

Tensor* unary_layer(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* x, U op) {
  Layer* l = ctx.net().add_unary(x, op);
  set_layer_name(ctx, l, target, source_ir, name);
  return l->output(0);
}

Tensor* input_tensor(ConversionContext& ctx, const Operand& op, DataType type, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name) {
  return to_tensor(ctx, op, type, operand_rank(op), target, source_ir, name);
}

bool is_int_or_bool(DataType t) {
  return is_integer(t) || t == DataType::kBOOL;
}

// trunc(x) for floating x: sign(x) * floor(|x|) (exact, keeps NaN and infinities).
Tensor* trunc_float(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* x) {
  Tensor* a = unary_layer(ctx, target, source_ir, sub_name(name, "abs"), x, U::kABS);
  Tensor* f = unary_layer(ctx, target, source_ir, sub_name(name, "floor"), a, U::kFLOOR);
  Tensor* s = unary_layer(ctx, target, source_ir, sub_name(name, "sign"), x, U::kSIGN);
  return binary_layer(ctx, target, source_ir, name, f, s, E::kPROD, x->type());
}

Tensor* logical(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, const Operand& lhs, const Operand& rhs, E op) {
  return binary_layer(ctx, target, source_ir, name, lhs, rhs, op, DataType::kBOOL);
}

Tensor* bitwise(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, const Operand& lhs, const Operand& rhs, E op) {
  DataType t = result_type({&lhs, &rhs});
  LK_CHECK(is_int_or_bool(t), "bitwise ops take integer or bool operands; these promote to ",
           data_type_name(t));
  return binary_layer(ctx, target, source_ir, name, lhs, rhs, op, t);
}

Tensor* compare(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, const Operand& lhs, const Operand& rhs, E op) {
  DataType t = layer_type(op, result_type({&lhs, &rhs}));
  return binary_layer(ctx, target, source_ir, name, lhs, rhs, op, t);
}

// a >= b as (a > b) or (a == b), which is false for NaN as torch's ge is.
Tensor* compare_or_equal(ConversionContext& ctx, const Target& target,
                         std::optional<SourceIR> source_ir, std::string_view name,
                         const Operand& lhs, const Operand& rhs, E strict) {
  Tensor* s = compare(ctx, target, source_ir, sub_name(name, "strict"), lhs, rhs, strict);
  Tensor* e = compare(ctx, target, source_ir, sub_name(name, "equal"), lhs, rhs, E::kEQUAL);
  return binary_layer(ctx, target, source_ir, name, s, e, E::kOR, DataType::kBOOL);
}

bool is_one(const Operand& op) {
  return op.is_scalar() && op.as_double() == 1.0;
}

}  // namespace

Tensor* add(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Operand lhs, Operand rhs, Operand alpha) {
  return guarded(ctx, "elementwise::add", target, name, {&lhs, &rhs, &alpha}, [&]() -> Tensor* {
    LK_CHECK(alpha.is_scalar(), "alpha must be a scalar");
    DataType t = result_type({&lhs, &rhs});
    LK_CHECK(!(is_int_or_bool(t) && alpha.is_float()), "alpha is a float but the operands are ",
             data_type_name(t), "; integral inputs need an integral alpha (as torch requires)");
    Operand scaled = rhs;
    if (!is_one(alpha))
      scaled = arithmetic(ctx, target, source_ir, sub_name(name, "alpha"), rhs, alpha, E::kPROD, t);
    return arithmetic(ctx, target, source_ir, name, lhs, scaled, E::kSUM, t);
  });
}

Tensor* sub(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Operand lhs, Operand rhs, Operand alpha) {
  return guarded(ctx, "elementwise::sub", target, name, {&lhs, &rhs, &alpha}, [&]() -> Tensor* {
    LK_CHECK(alpha.is_scalar(), "alpha must be a scalar");
    DataType t = result_type({&lhs, &rhs});
    LK_CHECK(t != DataType::kBOOL,
             "subtracting bool tensors is not supported (as in torch); use "
             "logical_xor");
    LK_CHECK(!(is_integer(t) && alpha.is_float()), "alpha is a float but the operands are ",
             data_type_name(t), "; integral inputs need an integral alpha (as torch requires)");
    Operand scaled = rhs;
    if (!is_one(alpha))
      scaled = arithmetic(ctx, target, source_ir, sub_name(name, "alpha"), rhs, alpha, E::kPROD, t);
    return arithmetic(ctx, target, source_ir, name, lhs, scaled, E::kSUB, t);
  });
}

Tensor* mul(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Operand lhs, Operand rhs) {
  return guarded(ctx, "elementwise::mul", target, name, {&lhs, &rhs},
                 [&] { return arithmetic(ctx, target, source_ir, name, lhs, rhs, E::kPROD); });
}

namespace {
Tensor* div_impl(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, const Operand& lhs, const Operand& rhs,
                 std::optional<std::string_view> mode) {
  DataType t = result_type({&lhs, &rhs});
  if (!mode) {
    // True division: integral operands divide as the default float type.
    DataType ft = is_floating(t) ? t : DataType::kFLOAT;
    return arithmetic(ctx, target, source_ir, name, lhs, rhs, E::kDIV, ft);
  }
  if (*mode == "floor") return arithmetic(ctx, target, source_ir, name, lhs, rhs, E::kFLOOR_DIV, t);
  LK_CHECK(*mode == "trunc", "rounding_mode '", *mode, "' is not one of none, 'trunc', 'floor'");
  if (!is_floating(t)) return arithmetic(ctx, target, source_ir, name, lhs, rhs, E::kDIV, t);
  // Note [Precision policy]: truncate the fp32 quotient, round once.
  DataType ct = compute_type(t);
  Tensor* q = arithmetic(ctx, target, source_ir, sub_name(name, "quotient"), lhs, rhs, E::kDIV, ct);
  Tensor* r = trunc_float(ctx, target, source_ir, ct == t ? name : sub_name(name, "trunc"), q);
  return cast_to(ctx, r, t, target, source_ir, name);
}
}  // namespace

Tensor* div(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Operand lhs, Operand rhs,
            std::optional<std::string_view> rounding_mode) {
  return guarded(ctx, "elementwise::div", target, name, {&lhs, &rhs},
                 [&] { return div_impl(ctx, target, source_ir, name, lhs, rhs, rounding_mode); });
}

Tensor* floor_div(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Operand lhs, Operand rhs) {
  return guarded(ctx, "elementwise::floor_div", target, name, {&lhs, &rhs},
                 [&] { return div_impl(ctx, target, source_ir, name, lhs, rhs, "floor"); });
}

Tensor* trunc_div(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Operand lhs, Operand rhs) {
  return guarded(ctx, "elementwise::trunc_div", target, name, {&lhs, &rhs},
                 [&] { return div_impl(ctx, target, source_ir, name, lhs, rhs, "trunc"); });
}

Tensor* fmod(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand lhs, Operand rhs) {
  return guarded(ctx, "elementwise::fmod", target, name, {&lhs, &rhs}, [&]() -> Tensor* {
    DataType t = result_type({&lhs, &rhs});
    LK_CHECK(t != DataType::kBOOL, "fmod does not take bool operands");
    // lhs - trunc(lhs / rhs) * rhs: the remainder takes the sign of lhs. Computed per
    // Note [Precision policy].
    DataType ct = compute_type(t);
    Tensor* a =
        to_tensor(ctx, lhs, ct, operand_rank(lhs), target, source_ir, sub_name(name, "lhs"));
    Tensor* b =
        to_tensor(ctx, rhs, ct, operand_rank(rhs), target, source_ir, sub_name(name, "rhs"));
    Tensor* q = div_impl(ctx, target, source_ir, sub_name(name, "trunc_div"), a, b, "trunc");
    Tensor* p = arithmetic(ctx, target, source_ir, sub_name(name, "prod"), q, b, E::kPROD, ct);
    Tensor* r = arithmetic(ctx, target, source_ir, ct == t ? name : sub_name(name, "sub"), a, p,
                           E::kSUB, ct);
    return cast_to(ctx, r, t, target, source_ir, name);
  });
}

Tensor* pow(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Operand lhs, Operand rhs) {
  return guarded(ctx, "elementwise::pow", target, name, {&lhs, &rhs}, [&]() -> Tensor* {
    DataType t = result_type({&lhs, &rhs});
    LK_CHECK(!(is_int_or_bool(t) && rhs.is_int() && rhs.int_value() < 0),
             "integers to negative integer powers are not allowed (exponent ",
             rhs.is_int() ? rhs.int_value() : 0, ")");
    return arithmetic(ctx, target, source_ir, name, lhs, rhs, E::kPOW, t);
  });
}

#define LK_BINARY_BLOCK(fn, body)                                                             \
  Tensor* fn(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir, \
             std::string_view name, Operand lhs, Operand rhs) {                               \
    return guarded(ctx, "elementwise::" #fn, target, name, {&lhs, &rhs},                      \
                   [&]() -> Tensor* { return body; });                                        \
  }

LK_BINARY_BLOCK(logical_and, logical(ctx, target, source_ir, name, lhs, rhs, E::kAND))
LK_BINARY_BLOCK(logical_or, logical(ctx, target, source_ir, name, lhs, rhs, E::kOR))
LK_BINARY_BLOCK(logical_xor, logical(ctx, target, source_ir, name, lhs, rhs, E::kXOR))
LK_BINARY_BLOCK(bitwise_and, bitwise(ctx, target, source_ir, name, lhs, rhs, E::kBITWISE_AND))
LK_BINARY_BLOCK(bitwise_or, bitwise(ctx, target, source_ir, name, lhs, rhs, E::kBITWISE_OR))
LK_BINARY_BLOCK(bitwise_xor, bitwise(ctx, target, source_ir, name, lhs, rhs, E::kBITWISE_XOR))
LK_BINARY_BLOCK(eq, compare(ctx, target, source_ir, name, lhs, rhs, E::kEQUAL))
LK_BINARY_BLOCK(gt, compare(ctx, target, source_ir, name, lhs, rhs, E::kGREATER))
LK_BINARY_BLOCK(lt, compare(ctx, target, source_ir, name, lhs, rhs, E::kLESS))
LK_BINARY_BLOCK(ge, compare_or_equal(ctx, target, source_ir, name, lhs, rhs, E::kGREATER))
LK_BINARY_BLOCK(le, compare_or_equal(ctx, target, source_ir, name, lhs, rhs, E::kLESS))
LK_BINARY_BLOCK(ne, unary_layer(ctx, target, source_ir, name,
                                compare(ctx, target, source_ir, sub_name(name, "eq"), lhs, rhs,
                                        E::kEQUAL),
                                U::kNOT))
LK_BINARY_BLOCK(max, arithmetic(ctx, target, source_ir, name, lhs, rhs, E::kMAX))
LK_BINARY_BLOCK(min, arithmetic(ctx, target, source_ir, name, lhs, rhs, E::kMIN))
#undef LK_BINARY_BLOCK

// ---- unary ----

namespace {

enum class IntRule {
  kPROMOTE,   // integer/bool inputs compute in fp32 (sqrt, exp, ...)
  kKEEP,      // integer inputs stay integer (abs, neg, sign)
  kIDENTITY,  // integer inputs are returned unchanged (floor, ceil, round)
};

Tensor* unary_block(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, const Operand& input, std::string_view block, U op,
                    IntRule rule) {
  return guarded(ctx, block, target, name, {&input}, [&]() -> Tensor* {
    DataType t = operand_type(input);
    if (is_int_or_bool(t)) {
      switch (rule) {
        case IntRule::kPROMOTE:
          t = DataType::kFLOAT;
          break;
        case IntRule::kKEEP:
          LK_CHECK(t != DataType::kBOOL || op == U::kSIGN, enum_name(op),
                   " does not take bool tensors (as in torch)");
          if (t == DataType::kBOOL) return input_tensor(ctx, input, t, target, source_ir, name);
          if (t == DataType::kUINT8 && op == U::kABS)
            return input_tensor(ctx, input, t, target, source_ir, name);
          if (t == DataType::kUINT8) {
            Tensor* x = input_tensor(ctx, input, DataType::kINT32, target, source_ir,
                                     sub_name(name, "wide"));
            Tensor* r = unary_layer(ctx, target, source_ir, sub_name(name, "op"), x, op);
            return cast_to(ctx, r, t, target, source_ir, name);
          }
          break;
        case IntRule::kIDENTITY:
          LK_CHECK(t != DataType::kBOOL, enum_name(op),
                   " does not take bool tensors (as in torch)");
          return input_tensor(ctx, input, t, target, source_ir, name);
      }
    }
    Tensor* x = input_tensor(ctx, input, t, target, source_ir, name);
    return unary_layer(ctx, target, source_ir, name, x, op);
  });
}

}  // namespace

#define LK_UNARY_BLOCK(fn, op, rule)                                                          \
  Tensor* fn(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir, \
             std::string_view name, Operand input) {                                          \
    return unary_block(ctx, target, source_ir, name, input, "elementwise::" #fn, op, rule);   \
  }

LK_UNARY_BLOCK(abs, U::kABS, IntRule::kKEEP)
LK_UNARY_BLOCK(neg, U::kNEG, IntRule::kKEEP)
LK_UNARY_BLOCK(sign, U::kSIGN, IntRule::kKEEP)
LK_UNARY_BLOCK(floor, U::kFLOOR, IntRule::kIDENTITY)
LK_UNARY_BLOCK(ceil, U::kCEIL, IntRule::kIDENTITY)
LK_UNARY_BLOCK(round, U::kROUND, IntRule::kIDENTITY)
LK_UNARY_BLOCK(sqrt, U::kSQRT, IntRule::kPROMOTE)
LK_UNARY_BLOCK(exp, U::kEXP, IntRule::kPROMOTE)
LK_UNARY_BLOCK(log, U::kLOG, IntRule::kPROMOTE)
LK_UNARY_BLOCK(sin, U::kSIN, IntRule::kPROMOTE)
LK_UNARY_BLOCK(cos, U::kCOS, IntRule::kPROMOTE)
LK_UNARY_BLOCK(tan, U::kTAN, IntRule::kPROMOTE)
LK_UNARY_BLOCK(asin, U::kASIN, IntRule::kPROMOTE)
LK_UNARY_BLOCK(acos, U::kACOS, IntRule::kPROMOTE)
LK_UNARY_BLOCK(atan, U::kATAN, IntRule::kPROMOTE)
LK_UNARY_BLOCK(sinh, U::kSINH, IntRule::kPROMOTE)
LK_UNARY_BLOCK(cosh, U::kCOSH, IntRule::kPROMOTE)
LK_UNARY_BLOCK(asinh, U::kASINH, IntRule::kPROMOTE)
LK_UNARY_BLOCK(acosh, U::kACOSH, IntRule::kPROMOTE)
LK_UNARY_BLOCK(atanh, U::kATANH, IntRule::kPROMOTE)
LK_UNARY_BLOCK(erf, U::kERF, IntRule::kPROMOTE)
#undef LK_UNARY_BLOCK

Tensor* rsqrt(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input) {
  return guarded(ctx, "elementwise::rsqrt", target, name, {&input}, [&]() -> Tensor* {
    DataType t = operand_type(input);
    if (!is_floating(t)) t = DataType::kFLOAT;
    Tensor* x = input_tensor(ctx, input, t, target, source_ir, name);
    Tensor* s = unary_layer(ctx, target, source_ir, sub_name(name, "sqrt"), x, U::kSQRT);
    return unary_layer(ctx, target, source_ir, name, s, U::kRECIP);
  });
}

Tensor* not_(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input) {
  return guarded(ctx, "elementwise::not_", target, name, {&input}, [&]() -> Tensor* {
    Tensor* x = input_tensor(ctx, input, DataType::kBOOL, target, source_ir, name);
    return unary_layer(ctx, target, source_ir, name, x, U::kNOT);
  });
}

}  // namespace layerkit::impl::elementwise
