// Element-wise building blocks: binary arithmetic, logical, bitwise and comparison ops, and unary
// ops, following PyTorch's promotion (Note [Type promotion]) and broadcasting (Note
// [Broadcasting]).
#include "layerkit/impl/elementwise.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "layerkit/impl/utils.h"

namespace layerkit::impl::elementwise {

namespace {

using E = ElementWiseOperation;
using U = UnaryOperation;

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
  int rank = std::max(lhs.rank(), rhs.rank());
  Tensor* a = to_tensor(ctx, lhs, type, rank, target, source_ir, sub_name(name, "lhs"));
  Tensor* b = to_tensor(ctx, rhs, type, rank, target, source_ir, sub_name(name, "rhs"));
  std::array<Tensor*, 2> pair{a, b};
  std::vector<Tensor*> bc = broadcast(ctx, pair, target, source_ir, name);
  return named_output(ctx, ctx.net().add_elementwise(bc[0], bc[1], op), target, source_ir, name);
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
  return named_output(ctx, ctx.net().add_unary(x, op), target, source_ir, name);
}

Tensor* input_tensor(ConversionContext& ctx, const Operand& op, DataType type, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name) {
  return to_tensor(ctx, op, type, op.rank(), target, source_ir, name);
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

// Note [Two-layer ge and le]
// a >= b (strict = kGREATER) and a <= b (strict = kLESS) in at most two layers, each operand
// converted once:
//   integers and bool (no NaN): not(a < b), not(a > b); with an integer scalar bound one layer,
//     a >= c as a > c - 1 (and c >= a as c + 1 > a; likewise for <=), unless c -+ 1 leaves the
//     compute type's range;
//   floats: max(a, b) == a, min(a, b) == a. MAX/MIN propagate NaN and NaN equals nothing, so a
//     NaN on either side gives false, as torch's ge/le; -0 and +0 compare equal either way.
Tensor* compare_or_equal(ConversionContext& ctx, const Target& target,
                         std::optional<SourceIR> source_ir, std::string_view name,
                         const Operand& lhs, const Operand& rhs, E strict) {
  DataType t = result_type({&lhs, &rhs});
  if (!is_floating(t)) {
    DataType lt = layer_type(E::kEQUAL, t);
    int64_t lo = lt == DataType::kINT32 ? INT32_MIN : INT64_MIN;
    int64_t hi = lt == DataType::kINT32 ? INT32_MAX : INT64_MAX;
    // The shifted scalar bound, when it stays inside the compute type.
    auto shifted = [&](const Operand& c, int64_t delta) -> std::optional<Operand> {
      if (!c.is_int()) return std::nullopt;
      int64_t v = c.int_value();
      if (v < lo || v > hi || (delta < 0 && v == lo) || (delta > 0 && v == hi)) return std::nullopt;
      return Operand(v + delta);
    };
    int64_t d = strict == E::kGREATER ? 1 : -1;
    if (std::optional<Operand> c = shifted(rhs, -d))
      return compare(ctx, target, source_ir, name, lhs, *c, strict);
    if (std::optional<Operand> c = shifted(lhs, d))
      return compare(ctx, target, source_ir, name, *c, rhs, strict);
    E opposite = strict == E::kGREATER ? E::kLESS : E::kGREATER;
    Tensor* o = compare(ctx, target, source_ir, sub_name(name, "opposite"), lhs, rhs, opposite);
    return unary_layer(ctx, target, source_ir, name, o, U::kNOT);
  }
  int rank = std::max(lhs.rank(), rhs.rank());
  Tensor* a = to_tensor(ctx, lhs, t, rank, target, source_ir, sub_name(name, "lhs"));
  Tensor* b = to_tensor(ctx, rhs, t, rank, target, source_ir, sub_name(name, "rhs"));
  std::array<Tensor*, 2> pair{a, b};
  std::vector<Tensor*> bc = broadcast(ctx, pair, target, source_ir, name);
  Tensor* m = named_output(
      ctx, ctx.net().add_elementwise(bc[0], bc[1], strict == E::kGREATER ? E::kMAX : E::kMIN),
      target, source_ir, sub_name(name, strict == E::kGREATER ? "max" : "min"));
  return named_output(ctx, ctx.net().add_elementwise(m, bc[0], E::kEQUAL), target, source_ir, name);
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

namespace {
// lhs - round(lhs / rhs) * rhs with `mode` "trunc" (fmod) or "floor" (remainder). Computed per
// Note [Precision policy].
Tensor* remainder_impl(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, Operand lhs,
                       Operand rhs, std::string_view mode, std::string_view op) {
  DataType t = result_type({&lhs, &rhs});
  LK_CHECK(t != DataType::kBOOL, op, " does not take bool operands");
  DataType ct = compute_type(t);
  Tensor* a = to_tensor(ctx, lhs, ct, lhs.rank(), target, source_ir, sub_name(name, "lhs"));
  Tensor* b = to_tensor(ctx, rhs, ct, rhs.rank(), target, source_ir, sub_name(name, "rhs"));
  Tensor* q =
      div_impl(ctx, target, source_ir, sub_name(name, std::string(mode) + "_div"), a, b, mode);
  Tensor* p = arithmetic(ctx, target, source_ir, sub_name(name, "prod"), q, b, E::kPROD, ct);
  Tensor* r =
      arithmetic(ctx, target, source_ir, ct == t ? name : sub_name(name, "sub"), a, p, E::kSUB, ct);
  return cast_to(ctx, r, t, target, source_ir, name);
}
}  // namespace

Tensor* fmod(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand lhs, Operand rhs) {
  return guarded(ctx, "elementwise::fmod", target, name, {&lhs, &rhs}, [&]() -> Tensor* {
    return remainder_impl(ctx, target, source_ir, name, lhs, rhs, "trunc", "fmod");
  });
}

Tensor* remainder(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Operand lhs, Operand rhs) {
  return guarded(ctx, "elementwise::remainder", target, name, {&lhs, &rhs}, [&]() -> Tensor* {
    return remainder_impl(ctx, target, source_ir, name, lhs, rhs, "floor", "remainder");
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

// ---- trunc, reciprocal, log1p, expm1, log2, log10, isnan, isinf, isfinite, clamp ----

namespace {

// A floating unary composite: integer and bool inputs promote to fp32, 16-bit floats compute in
// fp32 (Note [Precision policy]); `body` gets the input in the compute type and the name of its
// last layer, and the result is cast back once.
using FloatBody = std::function<Tensor*(Tensor* x, const std::string& last)>;
Tensor* float_composite(ConversionContext& ctx, const Target& target,
                        std::optional<SourceIR> source_ir, std::string_view name,
                        const Operand& input, std::string_view block, const FloatBody& body) {
  return guarded(ctx, block, target, name, {&input}, [&]() -> Tensor* {
    DataType t = operand_type(input);
    if (!is_floating(t)) t = DataType::kFLOAT;
    LK_CHECK(t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16, block,
             " takes float32, float16, bfloat16, integer or bool inputs; got ", data_type_name(t));
    DataType ct = compute_type(t);
    Tensor* x = input_tensor(ctx, input, ct, target, source_ir, name);
    Tensor* y = body(x, ct == t ? std::string(name) : sub_name(name, "compute"));
    return cast_to(ctx, y, t, target, source_ir, name);
  });
}

// A constant of x's type shaped [1]*rank(x), broadcasting against x without a reshape.
Tensor* like(ConversionContext& ctx, Tensor* x, double v, const Target& target,
             std::optional<SourceIR> source_ir, std::string_view name) {
  return scalar_constant(ctx, v, x->type(), Dims::of_rank(x->dims().rank(), 1), target, source_ir,
                         name);
}

Tensor* ew_layer(ConversionContext& ctx, Tensor* a, Tensor* b, E op, const Target& target,
                 std::optional<SourceIR> source_ir, std::string_view name) {
  return named_output(ctx, ctx.net().add_elementwise(a, b, op), target, source_ir, name);
}

Tensor* select_layer(ConversionContext& ctx, Tensor* c, Tensor* a, Tensor* b, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name) {
  return named_output(ctx, ctx.net().add_select(c, a, b), target, source_ir, name);
}

}  // namespace

Tensor* trunc(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input) {
  return guarded(ctx, "elementwise::trunc", target, name, {&input}, [&]() -> Tensor* {
    DataType t = operand_type(input);
    LK_CHECK(t != DataType::kBOOL, "trunc does not take bool tensors (as in torch)");
    Tensor* x = input_tensor(ctx, input, t, target, source_ir, name);
    if (!is_floating(t)) return x;  // integers are their own truncation
    // sign(x) * floor(|x|) is exact in the input type, so no upcast is needed.
    return trunc_float(ctx, target, source_ir, name, x);
  });
}

Tensor* reciprocal(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input) {
  return unary_block(ctx, target, source_ir, name, input, "elementwise::reciprocal", U::kRECIP,
                     IntRule::kPROMOTE);
}

Tensor* log2(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input) {
  return float_composite(
      ctx, target, source_ir, name, input, "elementwise::log2",
      [&](Tensor* x, const std::string& last) {
        Tensor* l = unary_layer(ctx, target, source_ir, sub_name(name, "log"), x, U::kLOG);
        Tensor* k =
            like(ctx, x, 1.0 / std::numbers::ln2, target, source_ir, sub_name(name, "inv_ln2"));
        return ew_layer(ctx, l, k, E::kPROD, target, source_ir, last);
      });
}

Tensor* log10(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input) {
  return float_composite(
      ctx, target, source_ir, name, input, "elementwise::log10",
      [&](Tensor* x, const std::string& last) {
        Tensor* l = unary_layer(ctx, target, source_ir, sub_name(name, "log"), x, U::kLOG);
        Tensor* k =
            like(ctx, x, 1.0 / std::numbers::ln10, target, source_ir, sub_name(name, "inv_ln10"));
        return ew_layer(ctx, l, k, E::kPROD, target, source_ir, last);
      });
}

// Note [log1p and expm1]
// log(1 + x) loses the digits of x below the rounding of 1 + x (x = 1e-4 keeps 3 of fp32's 7),
// and exp(x) - 1 likewise. log1p uses Goldberg's correction: with u = 1 + x and d = u - 1 (both
// rounded), log(u) * (x / d) is accurate to a few ulps; d == 0 means x is below the rounding of
// 1 and the result is x; d == x (so also x = inf) needs no correction, which keeps inf / inf from
// making a NaN. expm1 uses ELU, whose negative branch is expm1 itself: expm1(x) = elu(x) for
// x <= 0, and for x > 0 expm1(x) = exp(x) * -expm1(-x) = -(exp(x) * elu(-x)), a product of two
// accurate factors.
Tensor* log1p(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input) {
  return float_composite(
      ctx, target, source_ir, name, input, "elementwise::log1p",
      [&](Tensor* x, const std::string& last) {
        auto sub = [&](std::string_view s) { return sub_name(name, s); };
        Tensor* one = like(ctx, x, 1.0, target, source_ir, sub("one"));
        Tensor* u = ew_layer(ctx, x, one, E::kSUM, target, source_ir, sub("u"));
        Tensor* d = ew_layer(ctx, u, one, E::kSUB, target, source_ir, sub("d"));
        Tensor* l = unary_layer(ctx, target, source_ir, sub("log"), u, U::kLOG);
        Tensor* q = ew_layer(ctx, x, d, E::kDIV, target, source_ir, sub("x_over_d"));
        Tensor* exact = ew_layer(ctx, d, x, E::kEQUAL, target, source_ir, sub("d_is_x"));
        Tensor* f = select_layer(ctx, exact, one, q, target, source_ir, sub("factor"));
        Tensor* r = ew_layer(ctx, l, f, E::kPROD, target, source_ir, sub("corrected"));
        Tensor* zero = like(ctx, x, 0.0, target, source_ir, sub("zero"));
        Tensor* tiny = ew_layer(ctx, d, zero, E::kEQUAL, target, source_ir, sub("tiny"));
        return select_layer(ctx, tiny, x, r, target, source_ir, last);
      });
}

Tensor* expm1(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input) {
  return float_composite(
      ctx, target, source_ir, name, input, "elementwise::expm1",
      [&](Tensor* x, const std::string& last) {
        auto sub = [&](std::string_view s) { return sub_name(name, s); };
        auto elu = [&](Tensor* v, std::string_view n) {
          return named_output(ctx, ctx.net().add_activation(v, ActivationType::kELU, 1.0f, 0.0f),
                              target, source_ir, n);
        };
        Tensor* neg_branch = elu(x, sub("elu"));
        Tensor* nx = unary_layer(ctx, target, source_ir, sub("neg"), x, U::kNEG);
        Tensor* em = elu(nx, sub("expm1_neg"));
        Tensor* e = unary_layer(ctx, target, source_ir, sub("exp"), x, U::kEXP);
        Tensor* p = ew_layer(ctx, e, em, E::kPROD, target, source_ir, sub("prod"));
        Tensor* pos_branch = unary_layer(ctx, target, source_ir, sub("positive"), p, U::kNEG);
        Tensor* zero = like(ctx, x, 0.0, target, source_ir, sub("zero"));
        Tensor* pos = ew_layer(ctx, x, zero, E::kGREATER, target, source_ir, sub("is_positive"));
        return select_layer(ctx, pos, pos_branch, neg_branch, target, source_ir, last);
      });
}

namespace {
// isnan / isinf of an integer or bool tensor: all false, as not(x == x).
Tensor* never(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, const Operand& input) {
  Tensor* e =
      compare(ctx, target, source_ir, sub_name(name, "self_equal"), input, input, E::kEQUAL);
  return unary_layer(ctx, target, source_ir, name, e, U::kNOT);
}

Tensor* float_class(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, const Operand& input, std::string_view block, U op) {
  return guarded(ctx, block, target, name, {&input}, [&]() -> Tensor* {
    DataType t = operand_type(input);
    if (!is_floating(t)) return never(ctx, target, source_ir, name, input);
    Tensor* x = input_tensor(ctx, input, t, target, source_ir, name);
    return unary_layer(ctx, target, source_ir, name, x, op);
  });
}
}  // namespace

Tensor* isnan(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input) {
  return float_class(ctx, target, source_ir, name, input, "elementwise::isnan", U::kISNAN);
}

Tensor* isinf(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input) {
  return float_class(ctx, target, source_ir, name, input, "elementwise::isinf", U::kISINF);
}

// |x| < inf: false for infinities and (NaN comparing false) for NaN; integers: x == x.
Tensor* isfinite(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Operand input) {
  return guarded(ctx, "elementwise::isfinite", target, name, {&input}, [&]() -> Tensor* {
    DataType t = operand_type(input);
    if (!is_floating(t)) return compare(ctx, target, source_ir, name, input, input, E::kEQUAL);
    Tensor* x = input_tensor(ctx, input, t, target, source_ir, name);
    Tensor* a = unary_layer(ctx, target, source_ir, sub_name(name, "abs"), x, U::kABS);
    Tensor* inf = like(ctx, x, std::numeric_limits<double>::infinity(), target, source_ir,
                       sub_name(name, "inf"));
    return ew_layer(ctx, a, inf, E::kLESS, target, source_ir, name);
  });
}

namespace {
Tensor* clamp_impl(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, const Operand& input, const std::optional<Operand>& lo,
                   const std::optional<Operand>& hi, std::string_view block) {
  std::vector<const Operand*> ops{&input};
  if (lo) ops.push_back(&*lo);
  if (hi) ops.push_back(&*hi);
  auto body = [&]() -> Tensor* {
    LK_CHECK(lo || hi, "at least one of min and max must be given (as torch requires)");
    DataType t = result_type(ops);
    LK_CHECK(t != DataType::kBOOL, "clamp does not take bool operands (as in torch)");
    if (!lo) return arithmetic(ctx, target, source_ir, name, input, *hi, E::kMIN, t);
    Tensor* r = arithmetic(ctx, target, source_ir, hi ? sub_name(name, "min") : std::string(name),
                           input, *lo, E::kMAX, t);
    return hi ? arithmetic(ctx, target, source_ir, name, r, *hi, E::kMIN, t) : r;
  };
  if (ops.size() == 3) return guarded(ctx, block, target, name, {ops[0], ops[1], ops[2]}, body);
  if (ops.size() == 2) return guarded(ctx, block, target, name, {ops[0], ops[1]}, body);
  return guarded(ctx, block, target, name, {ops[0]}, body);
}
}  // namespace

Tensor* clamp(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input, std::optional<Operand> min,
              std::optional<Operand> max) {
  return clamp_impl(ctx, target, source_ir, name, input, min, max, "elementwise::clamp");
}

Tensor* clip(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input, std::optional<Operand> min,
             std::optional<Operand> max) {
  return clamp_impl(ctx, target, source_ir, name, input, min, max, "elementwise::clip");
}

}  // namespace layerkit::impl::elementwise
