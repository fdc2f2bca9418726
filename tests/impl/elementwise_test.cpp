// Element-wise building blocks against ATen: every op, dtype, scalar side and broadcast; errors.
#include "layerkit/impl/elementwise.h"

#include <ATen/ScalarOps.h>

#include <cmath>
#include <limits>
#include <tuple>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace ew = layerkit::impl::elementwise;

const Target kTarget("test.op");

// A PyTorch "wrapped number": a scalar operand with weak type in promotion.
at::Tensor wrapped(const at::Scalar& s) {
  at::Tensor t = at::scalar_to_tensor(s);
  t.unsafeGetTensorImpl()->set_wrapped_number(true);
  return t;
}

// ATen on CPU computes fp16/bf16 in fp32 and rounds; for ops 1.13 lacks in half precision on CPU
// the reference does that explicitly.
at::Tensor reference(const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& f,
                     const at::Tensor& a, const at::Tensor& b) {
  try {
    return f(a, b);
  } catch (const c10::Error&) {
    at::ScalarType out = at::result_type(a, b);
    auto up = [](const at::Tensor& t) {
      bool low = t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16;
      return low ? t.to(at::kFloat) : t;
    };
    at::Tensor r = f(up(a), up(b));
    return r.scalar_type() == at::kBool ? r : r.to(out);
  }
}

using BinaryBlock = Tensor* (*)(ConversionContext&, const Target&, std::optional<SourceIR>,
                                std::string_view, Operand, Operand);

struct BinaryCase {
  std::string name;
  std::function<Tensor*(ConversionContext&, Operand, Operand)> block;
  std::function<at::Tensor(const at::Tensor&, const at::Tensor&)> aten;
  std::vector<DataType> types;
  enum Domain { kANY, kNONZERO_DIVISOR, kPOW } domain = kANY;
};

BinaryCase simple(std::string name, BinaryBlock fn,
                  std::function<at::Tensor(const at::Tensor&, const at::Tensor&)> aten,
                  std::vector<DataType> types, BinaryCase::Domain d = BinaryCase::kANY) {
  return {name,
          [fn, name](ConversionContext& ctx, Operand a, Operand b) {
            return fn(ctx, kTarget, SourceIR::kATEN, name, a, b);
          },
          std::move(aten), std::move(types), d};
}

const std::vector<DataType> kAll = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                    DataType::kINT32, DataType::kINT64, DataType::kBOOL};
const std::vector<DataType> kNumeric = {DataType::kFLOAT, DataType::kHALF, DataType::kBF16,
                                        DataType::kINT32, DataType::kINT64};
const std::vector<DataType> kIntegral = {DataType::kINT32, DataType::kINT64, DataType::kBOOL,
                                         DataType::kUINT8, DataType::kINT8};

std::vector<BinaryCase> binary_cases() {
  using C = BinaryCase;
  return {
      {"add",
       [](ConversionContext& c, Operand a, Operand b) {
         return ew::add(c, kTarget, SourceIR::kATEN, "add", a, b);
       },
       [](auto& a, auto& b) { return at::add(a, b); }, kAll},
      {"add_alpha",
       [](ConversionContext& c, Operand a, Operand b) {
         return ew::add(c, kTarget, SourceIR::kATEN, "add", a, b, 3);
       },
       [](auto& a, auto& b) { return at::add(a, b, 3); }, kNumeric},
      {"sub",
       [](ConversionContext& c, Operand a, Operand b) {
         return ew::sub(c, kTarget, SourceIR::kATEN, "sub", a, b);
       },
       [](auto& a, auto& b) { return at::sub(a, b); }, kNumeric},
      {"sub_alpha",
       [](ConversionContext& c, Operand a, Operand b) {
         return ew::sub(c, kTarget, SourceIR::kATEN, "sub", a, b, 2);
       },
       [](auto& a, auto& b) { return at::sub(a, b, 2); }, kNumeric},
      simple(
          "mul", ew::mul, [](auto& a, auto& b) { return at::mul(a, b); }, kAll),
      {"div",
       [](ConversionContext& c, Operand a, Operand b) {
         return ew::div(c, kTarget, SourceIR::kATEN, "div", a, b);
       },
       [](auto& a, auto& b) { return at::div(a, b); }, kNumeric, C::kNONZERO_DIVISOR},
      {"div_trunc",
       [](ConversionContext& c, Operand a, Operand b) {
         return ew::div(c, kTarget, SourceIR::kATEN, "div", a, b, "trunc");
       },
       [](auto& a, auto& b) { return at::div(a, b, "trunc"); }, kNumeric, C::kNONZERO_DIVISOR},
      {"div_floor",
       [](ConversionContext& c, Operand a, Operand b) {
         return ew::div(c, kTarget, SourceIR::kATEN, "div", a, b, "floor");
       },
       [](auto& a, auto& b) { return at::div(a, b, "floor"); }, kNumeric, C::kNONZERO_DIVISOR},
      simple(
          "floor_div", ew::floor_div, [](auto& a, auto& b) { return at::div(a, b, "floor"); },
          kNumeric, C::kNONZERO_DIVISOR),
      simple(
          "trunc_div", ew::trunc_div, [](auto& a, auto& b) { return at::div(a, b, "trunc"); },
          kNumeric, C::kNONZERO_DIVISOR),
      simple(
          "fmod", ew::fmod, [](auto& a, auto& b) { return at::fmod(a, b); }, kNumeric,
          C::kNONZERO_DIVISOR),
      simple(
          "remainder", ew::remainder, [](auto& a, auto& b) { return at::remainder(a, b); },
          kNumeric, C::kNONZERO_DIVISOR),
      simple(
          "pow", ew::pow, [](auto& a, auto& b) { return at::pow(a, b); }, kNumeric, C::kPOW),
      simple(
          "logical_and", ew::logical_and, [](auto& a, auto& b) { return at::logical_and(a, b); },
          kAll),
      simple(
          "logical_or", ew::logical_or, [](auto& a, auto& b) { return at::logical_or(a, b); },
          kAll),
      simple(
          "logical_xor", ew::logical_xor, [](auto& a, auto& b) { return at::logical_xor(a, b); },
          kAll),
      simple(
          "bitwise_and", ew::bitwise_and, [](auto& a, auto& b) { return at::bitwise_and(a, b); },
          kIntegral),
      simple(
          "bitwise_or", ew::bitwise_or, [](auto& a, auto& b) { return at::bitwise_or(a, b); },
          kIntegral),
      simple(
          "bitwise_xor", ew::bitwise_xor, [](auto& a, auto& b) { return at::bitwise_xor(a, b); },
          kIntegral),
      simple(
          "eq", ew::eq, [](auto& a, auto& b) { return at::eq(a, b); }, kAll),
      simple(
          "ne", ew::ne, [](auto& a, auto& b) { return at::ne(a, b); }, kAll),
      simple(
          "gt", ew::gt, [](auto& a, auto& b) { return at::gt(a, b); }, kAll),
      simple(
          "ge", ew::ge, [](auto& a, auto& b) { return at::ge(a, b); }, kAll),
      simple(
          "lt", ew::lt, [](auto& a, auto& b) { return at::lt(a, b); }, kAll),
      simple(
          "le", ew::le, [](auto& a, auto& b) { return at::le(a, b); }, kAll),
      simple(
          "max", ew::max, [](auto& a, auto& b) { return at::maximum(a, b); }, kAll),
      simple(
          "min", ew::min, [](auto& a, auto& b) { return at::minimum(a, b); }, kAll),
  };
}

// Operands in the op's domain. Comparisons draw from few values so equal pairs occur.
at::Tensor operand(const BinaryCase& c, DataType t, const std::vector<int64_t>& shape,
                   uint64_t seed, bool is_rhs) {
  if (t == DataType::kBOOL) return random(t, shape, seed);
  if (t == DataType::kUINT8) return random(t, shape, seed, 1, 200);
  bool integral = is_integer(t);
  if (c.domain == BinaryCase::kNONZERO_DIVISOR && is_rhs) {
    at::Tensor mag = integral ? random(t, shape, seed, 1, 6) : random(t, shape, seed, 0.5, 3);
    return at::where(random(DataType::kBOOL, shape, seed + 7), mag, at::neg(mag));
  }
  if (c.domain == BinaryCase::kPOW)
    return is_rhs ? (integral ? random(t, shape, seed, 0, 3) : random(t, shape, seed, -2, 2))
                  : (integral ? random(t, shape, seed, -4, 4) : random(t, shape, seed, 0.25, 2));
  if (integral) return random(t, shape, seed, -9, 9);
  return random(t, shape, seed, -3, 3);
}

TEST(ImplElementwise, TensorTensorEveryOpAndTypeWithRankBroadcast) {
  uint64_t seed = 1;
  for (const BinaryCase& c : binary_cases()) {
    for (DataType t : c.types) {
      // [2,3,4] against [3,1]: the second operand gains a leading 1 (Note [Broadcasting]).
      at::Tensor a = operand(c, t, {2, 3, 4}, seed++, false);
      at::Tensor b = operand(c, t, {3, 1}, seed++, true);
      at::Tensor got =
          run_block({a, b}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            return c.block(ctx, in[0], in[1]);
          });
      expect_close(got, reference(c.aten, a, b), 1.0,
                   c.name + " " + std::string(data_type_name(t)));
      // Swapped sides, so the lower-rank operand is on the left (only where either side may
      // hold any value: not for divisors and exponents).
      if (c.domain != BinaryCase::kANY) continue;
      got = run_block({b, a}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return c.block(ctx, in[0], in[1]);
      });
      expect_close(got, reference(c.aten, b, a), 1.0,
                   c.name + " swapped " + std::string(data_type_name(t)));
    }
  }
}

TEST(ImplElementwise, ScalarOperandsOnEitherSidePromoteAsTorch) {
  uint64_t seed = 500;
  for (const BinaryCase& c : binary_cases()) {
    for (DataType t : c.types) {
      std::vector<at::Scalar> scalars;
      if (c.domain == BinaryCase::kPOW) {
        scalars = {at::Scalar(int64_t{2}), at::Scalar(0.5)};
      } else if (c.name.rfind("bitwise", 0) == 0) {
        scalars = {at::Scalar(int64_t{6})};
      } else {
        scalars = {at::Scalar(int64_t{3}), at::Scalar(-2.5), at::Scalar(true)};
      }
      for (const at::Scalar& s : scalars) {
        if (c.domain == BinaryCase::kNONZERO_DIVISOR && s.isBoolean()) continue;
        if (c.name.rfind("bitwise", 0) == 0 && t == DataType::kBOOL) continue;  // bool & int: int64
        if ((c.name == "sub" || c.name == "sub_alpha") && s.isBoolean()) continue;
        if (c.name == "add_alpha" || c.name == "sub_alpha")
          if (s.isFloatingPoint() && !at::isFloatingType(to_aten(t))) continue;  // torch rejects
        Operand op = s.isIntegral(false) ? Operand(s.toLong())
                     : s.isBoolean()     ? Operand(s.toBool())
                                         : Operand(s.toDouble());
        at::Tensor x = operand(c, t, {2, 5}, seed++, true);
        std::string what = c.name + " " + std::string(data_type_name(t)) + " with " + op.describe();
        at::Tensor got =
            run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return c.block(ctx, in[0], op);
            });
        expect_close(got, reference(c.aten, x, wrapped(s)), 1.0, what + " on the right");
        if (c.domain != BinaryCase::kANY)
          continue;  // the scalar would be the divisor/exponent base
        got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return c.block(ctx, op, in[0]);
        });
        expect_close(got, reference(c.aten, wrapped(s), x), 1.0, what + " on the left");
      }
    }
  }
}

TEST(ImplElementwise, ZeroDimTensorDoesNotPromoteDimensionedTensor) {
  // An int32 [4] tensor with an int64 0-d tensor stays int32; with a float 0-d tensor it is fp32.
  at::Tensor x = random(DataType::kINT32, {4}, 3, -5, 5);
  for (DataType t0 : {DataType::kINT64, DataType::kFLOAT, DataType::kHALF}) {
    at::Tensor s = random(t0, {}, 4, -3, 3);
    at::Tensor got = run_block({x, s}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return ew::add(ctx, kTarget, SourceIR::kATEN, "add", in[0], in[1]);
    });
    expect_close(got, at::add(x, s), 1.0,
                 std::string("int32 + 0-d ") + std::string(data_type_name(t0)));
  }
}

TEST(ImplElementwise, Int64StaysExactBeyondFloatPrecision) {
  at::Tensor a = at::full({3}, int64_t{1} << 60, at::kLong) + at::arange(3, at::kLong);
  at::Tensor got = run_block({a}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return ew::add(ctx, kTarget, SourceIR::kATEN, "add", in[0], int64_t{7});
  });
  expect_close(got, a + 7);
}

struct UnaryCase {
  std::string name;
  Tensor* (*fn)(ConversionContext&, const Target&, std::optional<SourceIR>, std::string_view,
                Operand);
  std::function<at::Tensor(const at::Tensor&)> aten;
  std::vector<DataType> types;
  double lo, hi;
};

std::vector<UnaryCase> unary_cases() {
  const std::vector<DataType> kF = {DataType::kFLOAT, DataType::kHALF, DataType::kBF16};
  auto with_ints = [&](std::vector<DataType> extra) {
    std::vector<DataType> v = kF;
    v.insert(v.end(), extra.begin(), extra.end());
    return v;
  };
  std::vector<DataType> ints = {DataType::kINT32, DataType::kINT64};
  return {
      {"abs", ew::abs, [](auto& x) { return at::abs(x); },
       with_ints({DataType::kINT32, DataType::kINT64, DataType::kINT8, DataType::kUINT8}), -5, 5},
      {"neg", ew::neg, [](auto& x) { return at::neg(x); },
       with_ints({DataType::kINT32, DataType::kINT64, DataType::kINT8, DataType::kUINT8}), -5, 5},
      {"sign", ew::sign, [](auto& x) { return at::sign(x); },
       with_ints({DataType::kINT32, DataType::kINT64, DataType::kBOOL}), -5, 5},
      {"floor", ew::floor, [](auto& x) { return at::floor(x); }, with_ints(ints), -5, 5},
      {"ceil", ew::ceil, [](auto& x) { return at::ceil(x); }, with_ints(ints), -5, 5},
      {"round", ew::round, [](auto& x) { return at::round(x); }, with_ints(ints), -5, 5},
      {"sqrt", ew::sqrt, [](auto& x) { return at::sqrt(x); }, with_ints(ints), 0.1, 9},
      {"rsqrt", ew::rsqrt, [](auto& x) { return at::rsqrt(x); }, with_ints(ints), 0.5, 9},
      {"exp", ew::exp, [](auto& x) { return at::exp(x); }, with_ints(ints), -3, 3},
      {"log", ew::log, [](auto& x) { return at::log(x); }, with_ints(ints), 0.1, 9},
      {"sin", ew::sin, [](auto& x) { return at::sin(x); }, with_ints(ints), -3, 3},
      {"cos", ew::cos, [](auto& x) { return at::cos(x); }, with_ints(ints), -3, 3},
      {"tan", ew::tan, [](auto& x) { return at::tan(x); }, kF, -1.2, 1.2},
      {"asin", ew::asin, [](auto& x) { return at::asin(x); }, kF, -0.95, 0.95},
      {"acos", ew::acos, [](auto& x) { return at::acos(x); }, kF, -0.95, 0.95},
      {"atan", ew::atan, [](auto& x) { return at::atan(x); }, with_ints(ints), -3, 3},
      {"sinh", ew::sinh, [](auto& x) { return at::sinh(x); }, with_ints(ints), -3, 3},
      {"cosh", ew::cosh, [](auto& x) { return at::cosh(x); }, with_ints(ints), -3, 3},
      {"asinh", ew::asinh, [](auto& x) { return at::asinh(x); }, with_ints(ints), -3, 3},
      {"acosh", ew::acosh, [](auto& x) { return at::acosh(x); }, kF, 1.05, 9},
      {"atanh", ew::atanh, [](auto& x) { return at::atanh(x); }, kF, -0.95, 0.95},
      {"erf", ew::erf, [](auto& x) { return at::erf(x); }, with_ints(ints), -3, 3},
      {"not_", ew::not_, [](auto& x) { return at::logical_not(x); },
       with_ints({DataType::kINT32, DataType::kINT64, DataType::kBOOL}), -2, 2},
      {"trunc", ew::trunc, [](auto& x) { return at::trunc(x); },
       with_ints({DataType::kINT32, DataType::kINT64, DataType::kINT8, DataType::kUINT8}), -5, 5},
      {"reciprocal", ew::reciprocal, [](auto& x) { return at::reciprocal(x); },
       with_ints({DataType::kINT32, DataType::kINT64, DataType::kBOOL}), 0.2, 5},
      {"log1p", ew::log1p, [](auto& x) { return at::log1p(x); }, with_ints(ints), -0.9, 9},
      {"expm1", ew::expm1, [](auto& x) { return at::expm1(x); }, with_ints(ints), -3, 3},
      {"log2", ew::log2, [](auto& x) { return at::log2(x); }, with_ints(ints), 0.1, 9},
      {"log10", ew::log10, [](auto& x) { return at::log10(x); }, with_ints(ints), 0.1, 9},
      {"isnan", ew::isnan, [](auto& x) { return at::isnan(x); },
       with_ints({DataType::kINT32, DataType::kINT64, DataType::kUINT8, DataType::kBOOL}), -3, 3},
      {"isinf", ew::isinf, [](auto& x) { return at::isinf(x); },
       with_ints({DataType::kINT32, DataType::kINT64, DataType::kUINT8, DataType::kBOOL}), -3, 3},
      {"isfinite", ew::isfinite, [](auto& x) { return at::isfinite(x); },
       with_ints({DataType::kINT32, DataType::kINT64, DataType::kUINT8, DataType::kBOOL}), -3, 3},
  };
}

TEST(ImplElementwise, UnaryEveryOpAndType) {
  uint64_t seed = 900;
  for (const UnaryCase& c : unary_cases()) {
    for (DataType t : c.types) {
      double lo = c.lo, hi = c.hi;
      if (t == DataType::kUINT8) lo = 0;
      if (is_integer(t) && lo > 0) lo = 1;
      at::Tensor x = random(t, {3, 7}, seed++, lo, hi);
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return c.fn(ctx, kTarget, SourceIR::kATEN, c.name, in[0]);
      });
      at::Tensor expected;
      try {
        expected = c.aten(x);
      } catch (const c10::Error&) {  // no half/bf16 CPU kernel in ATen 1.13: compute in fp32
        expected = c.aten(x.to(at::kFloat)).to(x.scalar_type());
      }
      expect_close(got, expected, 1.0, c.name + " " + std::string(data_type_name(t)));
    }
  }
}

TEST(ImplElementwise, DynamicShapesAtMinOptMax) {
  // Both operands fully dynamic; the rank-1 operand is broadcast through a shape tensor.
  auto set = [](int64_t n, int64_t m, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, m}, seed),
                                   random(DataType::kFLOAT, {m}, seed + 1)};
  };
  run_block_dynamic(
      {set(1, 1, 10), set(3, 4, 20), set(5, 8, 30)},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        Tensor* s = ew::sub(ctx, kTarget, SourceIR::kATEN, "sub", in[0], in[1]);
        return ew::mul(ctx, kTarget, SourceIR::kATEN, "mul", s, 2.0);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, (in[0] - in[1]) * 2.0, 1.0, "sub then mul");
      });
}

TEST(ImplElementwise, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kINT32, {2, 3});
  Tensor* y = ew::add(ctx, "add.Tensor", SourceIR::kATEN, "add_1", x, 2.5);
  EXPECT_EQ(y->producer()->name(), "[ELEMENTWISE]-[aten_ops.add.Tensor]-[add_1]");
  EXPECT_EQ(y->name(), "[ELEMENTWISE]-[aten_ops.add.Tensor]-[add_1]");
  EXPECT_NE(net.find_layer("[CAST]-[aten_ops.add.Tensor]-[add_1_lhs_cast]"), nullptr)
      << net.to_string();
  EXPECT_NE(net.find_layer("[CONSTANT]-[aten_ops.add.Tensor]-[add_1_rhs_scalar]"), nullptr)
      << net.to_string();
  // A second block with the same name gets a deterministic suffix.
  Tensor* z = ew::add(ctx, "add.Tensor", SourceIR::kATEN, "add_1", y, 1.0);
  EXPECT_EQ(z->producer()->name(), "[ELEMENTWISE]-[aten_ops.add.Tensor]-[add_1]_1");
  // No source IR prints as "unknown".
  Tensor* w = ew::neg(ctx, "neg", std::nullopt, "n", z);
  EXPECT_EQ(w->producer()->name(), "[UNARY]-[unknown_ops.neg]-[n]");
}

TEST(ImplElementwise, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor f = random(DataType::kFLOAT, {2, 3}, 1);
  at::Tensor i = random(DataType::kINT32, {2, 3}, 2, -3, 3);
  at::Tensor f4 = random(DataType::kFLOAT, {4}, 3);
  auto two = [](auto fn) {
    return [fn](ConversionContext& ctx, const std::vector<Tensor*>& in) { return fn(ctx, in); };
  };
  // The int operand is cast to fp32 before the shapes are found not to broadcast: the cast is
  // rolled back too.
  expect_block_error({i, f4}, two([](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return ew::add(ctx, kTarget, SourceIR::kATEN, "bad", in[0], in[1]);
                     }),
                     {"elementwise::add", "test.op", "'bad'", "[2,3]", "[4]", "do not broadcast"});
  expect_block_error({f, f}, two([](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return ew::bitwise_and(ctx, kTarget, SourceIR::kATEN, "b", in[0], in[1]);
                     }),
                     {"elementwise::bitwise_and", "integer or bool", "float32"});
  expect_block_error({i}, two([](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return ew::add(ctx, kTarget, SourceIR::kATEN, "a", in[0], 1, 0.5);
                     }),
                     {"alpha", "integral"});
  expect_block_error({i}, two([](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return ew::pow(ctx, kTarget, SourceIR::kATEN, "p", in[0], -2);
                     }),
                     {"negative integer powers", "-2"});
  expect_block_error({f, f}, two([](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return ew::div(ctx, kTarget, SourceIR::kATEN, "d", in[0], in[1], "ceil");
                     }),
                     {"rounding_mode 'ceil'"});
  expect_block_error({random(DataType::kBOOL, {2}, 5)},
                     two([](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return ew::neg(ctx, kTarget, SourceIR::kATEN, "n", in[0]);
                     }),
                     {"kNEG", "bool"});
  expect_block_error({f}, two([](ConversionContext& ctx, const std::vector<Tensor*>&) {
                       return ew::add(ctx, kTarget, SourceIR::kATEN, "n",
                                      static_cast<Tensor*>(nullptr), 1);
                     }),
                     {"null tensor"});
}

TEST(ImplElementwise, Float64ConstantsAreTruncatedOrRejectedPerSetting) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3});
  HostConstant c = HostConstant::of_doubles({3}, {0.1, 0.2, 0.3});
  ew::add(ctx, kTarget, SourceIR::kATEN, "a", x, c);
  ASSERT_EQ(ctx.warnings().size(), 1u);
  EXPECT_NE(ctx.warnings()[0].find("truncated to float32"), std::string::npos);

  Network net2;
  ConversionContext strict(net2, ConversionSettings{DoublePolicy::kREJECT});
  Tensor* x2 = net2.add_input("x", DataType::kFLOAT, {3});
  expect_error_unchanged(net2, [&] { ew::add(strict, kTarget, SourceIR::kATEN, "a", x2, c); },
                         {"float64", "rejects"});
}

// ---- trunc, reciprocal, log1p, expm1, log2, log10, isnan/isinf/isfinite, clamp, ge/le ----

using UnaryFn = Tensor* (*)(ConversionContext&, const Target&, std::optional<SourceIR>,
                            std::string_view, Operand);

at::Tensor run_unary(UnaryFn fn, const at::Tensor& x) {
  return run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return fn(ctx, kTarget, SourceIR::kATEN, "u", in[0]);
  });
}

// Special values: NaN, infinities, signed zeros, and (for log1p/expm1) magnitudes far below the
// rounding of 1, where log(1 + x) and exp(x) - 1 would return 0 or lose every digit.
TEST(ImplElementwise, NewUnaryBlocksAtSpecialValues) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  at::Tensor x =
      at::tensor({0.0f, -0.0f, 1e-7f, -1e-7f, 3e-5f, -2e-4f, 1e-3f, -0.999f, -1.0f,  -2.0f,
                  inf,  -inf,  nan,   2.5f,   -2.5f, 0.5f,   88.0f, -88.0f,  1e-30f, -7.3f});
  for (auto [name, fn, aten] :
       std::vector<std::tuple<std::string, UnaryFn, std::function<at::Tensor(const at::Tensor&)>>>{
           {"trunc", ew::trunc, [](auto& v) { return at::trunc(v); }},
           {"reciprocal", ew::reciprocal, [](auto& v) { return at::reciprocal(v); }},
           {"log1p", ew::log1p, [](auto& v) { return at::log1p(v); }},
           {"expm1", ew::expm1, [](auto& v) { return at::expm1(v); }},
           {"log2", ew::log2, [](auto& v) { return at::log2(v); }},
           {"log10", ew::log10, [](auto& v) { return at::log10(v); }},
           {"isnan", ew::isnan, [](auto& v) { return at::isnan(v); }},
           {"isinf", ew::isinf, [](auto& v) { return at::isinf(v); }},
           {"isfinite", ew::isfinite, [](auto& v) { return at::isfinite(v); }}}) {
    for (at::ScalarType st : {at::kFloat, at::kHalf, at::kBFloat16}) {
      at::Tensor xi = x.to(st);
      at::Tensor expected;
      try {
        expected = aten(xi);
      } catch (const c10::Error&) {
        expected = aten(xi.to(at::kFloat)).to(st);
      }
      expect_close(run_unary(fn, xi), expected, 1.0, name + " special " + c10::toString(st));
    }
  }
  // Signed zero of trunc: -0.5 truncates to -0.
  at::Tensor t = run_unary(ew::trunc, at::tensor({-0.5f}));
  EXPECT_TRUE(std::signbit(t.item<float>()));
}

TEST(ImplElementwise, NewUnaryBlocksDynamicShapesAndErrors) {
  auto set = [](int64_t n, int64_t m, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, m}, seed, 0.05, 3)};
  };
  for (auto [name, fn, aten] :
       std::vector<std::tuple<std::string, UnaryFn, std::function<at::Tensor(const at::Tensor&)>>>{
           {"log1p", ew::log1p, [](auto& v) { return at::log1p(v); }},
           {"expm1", ew::expm1, [](auto& v) { return at::expm1(v); }},
           {"isfinite", ew::isfinite, [](auto& v) { return at::isfinite(v); }},
           {"trunc", ew::trunc, [](auto& v) { return at::trunc(v); }}}) {
    run_block_dynamic(
        {set(1, 1, 1), set(3, 4, 2), set(6, 9, 3)},
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return fn(ctx, kTarget, SourceIR::kATEN, "u", in[0]);
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, aten(in[0]), 1.0, name + " dynamic");
        });
  }
  at::Tensor b = random(DataType::kBOOL, {3}, 4);
  expect_block_error({b},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return ew::trunc(ctx, kTarget, SourceIR::kATEN, "t", in[0]);
                     },
                     {"elementwise::trunc", "bool"});
  Network net;
  ConversionContext ctx(net);
  Tensor* f8 = net.add_input("f8", DataType::kFP8, {2});
  expect_error_unchanged(net, [&] { ew::log1p(ctx, kTarget, SourceIR::kATEN, "l", f8); },
                         {"elementwise::log1p", "fp8"});
}

// clamp / clip against at::clamp: scalar and tensor bounds, one or both, promotion, broadcasting,
// min > max, NaN inputs.
TEST(ImplElementwise, ClampScalarAndTensorBounds) {
  uint64_t seed = 3000;
  for (DataType t : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32,
                     DataType::kINT64, DataType::kINT8, DataType::kUINT8}) {
    at::Tensor x = random(t, {4, 5}, seed++, t == DataType::kUINT8 ? 0 : -6, 6);
    std::string tn(data_type_name(t));
    struct S {
      c10::optional<at::Scalar> lo, hi;
    };
    for (S sc : {S{at::Scalar(int64_t{-2}), at::Scalar(int64_t{3})}, S{at::Scalar(int64_t{1}), {}},
                 S{{}, at::Scalar(int64_t{2})}, S{at::Scalar(int64_t{4}), at::Scalar(int64_t{1})},
                 S{at::Scalar(-1.5), at::Scalar(2.5)}}) {
      // A negative bound does not convert to uint8 (ATen rejects it; here it would wrap).
      if (t == DataType::kUINT8 && sc.lo && sc.lo->toDouble() < 0) continue;
      auto op = [](const c10::optional<at::Scalar>& v) -> std::optional<Operand> {
        if (!v) return std::nullopt;
        return v->isFloatingPoint() ? Operand(v->toDouble()) : Operand(v->toLong());
      };
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return ew::clamp(ctx, kTarget, SourceIR::kATEN, "c", in[0], op(sc.lo), op(sc.hi));
      });
      at::Tensor expected;
      try {
        expected = at::clamp(x, sc.lo, sc.hi);
      } catch (const c10::Error&) {
        expected = at::clamp(x.to(at::kFloat), sc.lo, sc.hi).to(x.scalar_type());
      }
      expect_close(got, expected, 1.0, "clamp scalars " + tn);
    }
    // Tensor bounds of another shape (broadcast) and, for one, another type (promotion).
    at::Tensor lo = random(t, {5}, seed++, t == DataType::kUINT8 ? 0 : -4, 0);
    at::Tensor hi = random(DataType::kFLOAT, {4, 1}, seed++, 0, 4);
    at::Tensor got =
        run_block({x, lo, hi}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return ew::clip(ctx, kTarget, SourceIR::kATEN, "c", in[0], in[1], in[2]);
        });
    at::Tensor ex = x.scalar_type() == at::kHalf
                        ? at::clamp(x.to(at::kFloat), lo.to(at::kFloat), hi)
                        : at::clamp(x, lo, hi);
    expect_close(got, ex, 1.0, "clip tensors " + tn);
  }
  // NaN stays NaN; min > max gives max.
  const float nan = std::nanf("");
  at::Tensor x = at::tensor({nan, -3.0f, 0.5f, 9.0f});
  at::Tensor got = run_block({x}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return ew::clamp(ctx, kTarget, SourceIR::kATEN, "c", in[0], 0.0, 1.0);
  });
  expect_close(got, at::clamp(x, 0.0, 1.0), 1.0, "clamp NaN");
  // Dynamic shapes with a tensor bound.
  auto set = [](int64_t n, uint64_t s) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, 3}, s, -4, 4),
                                   random(DataType::kFLOAT, {n, 1}, s + 1, -1, 1)};
  };
  run_block_dynamic(
      {set(1, 1), set(4, 2), set(8, 3)},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return ew::clamp(ctx, kTarget, SourceIR::kATEN, "c", in[0], in[1], 2.0);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::clamp(in[0], in[1], at::full({1}, 2.0f)), 1.0, "clamp dynamic");
      });
  // Errors: no bound, bool input, incompatible shapes; the network is unchanged.
  at::Tensor f = random(DataType::kFLOAT, {2, 3}, 9);
  expect_block_error({f},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return ew::clamp(ctx, kTarget, SourceIR::kATEN, "c", in[0], std::nullopt,
                                        std::nullopt);
                     },
                     {"elementwise::clamp", "at least one of min and max"});
  expect_block_error({random(DataType::kBOOL, {3}, 1)},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return ew::clamp(ctx, kTarget, SourceIR::kATEN, "c", in[0], false, true);
                     },
                     {"elementwise::clamp", "bool"});
  expect_block_error({f, random(DataType::kFLOAT, {4}, 2)},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return ew::clamp(ctx, kTarget, SourceIR::kATEN, "c", in[0], in[1]);
                     },
                     {"elementwise::clamp", "broadcast"});
}

// Note [Two-layer ge and le]: results against ATen (NaN and signed zeros included) and the
// layer counts: at most two computing layers, one with an integer scalar bound.
TEST(ImplElementwise, GeLeInAtMostTwoLayers) {
  const float nan = std::nanf(""), inf = std::numeric_limits<float>::infinity();
  at::Tensor a = at::tensor({1.0f, 2.0f, nan, 3.0f, -0.0f, 0.0f, inf, -inf, nan});
  at::Tensor b = at::tensor({1.0f, 3.0f, 1.0f, nan, 0.0f, -0.0f, inf, 5.0f, nan});
  for (at::ScalarType st : {at::kFloat, at::kHalf, at::kBFloat16}) {
    at::Tensor x = a.to(st), y = b.to(st);
    for (bool ge : {true, false}) {
      at::Tensor got =
          run_block({x, y}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            return ge ? ew::ge(ctx, kTarget, SourceIR::kATEN, "g", in[0], in[1])
                      : ew::le(ctx, kTarget, SourceIR::kATEN, "g", in[0], in[1]);
          });
      expect_close(got, ge ? at::ge(x, y) : at::le(x, y), 1.0, ge ? "ge" : "le");
    }
  }
  // Integer scalar bounds on either side, at the edges of int32 (no shift past the range).
  at::Tensor i = at::tensor({INT32_MIN, -2, 0, 3, INT32_MAX}, at::kInt);
  for (int64_t c : {int64_t{-2}, int64_t{3}, int64_t{INT32_MAX}, int64_t{INT32_MIN}}) {
    for (int k = 0; k < 4; ++k) {
      at::Tensor got = run_block({i}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        switch (k) {
          case 0:
            return ew::ge(ctx, kTarget, SourceIR::kATEN, "g", in[0], c);
          case 1:
            return ew::ge(ctx, kTarget, SourceIR::kATEN, "g", c, in[0]);
          case 2:
            return ew::le(ctx, kTarget, SourceIR::kATEN, "g", in[0], c);
          default:
            return ew::le(ctx, kTarget, SourceIR::kATEN, "g", c, in[0]);
        }
      });
      at::Tensor cs = at::scalar_tensor(c, at::kInt);
      at::Tensor ex = k == 0   ? at::ge(i, cs)
                      : k == 1 ? at::ge(cs, i)
                      : k == 2 ? at::le(i, cs)
                               : at::le(cs, i);
      expect_close(got, ex, 1.0, "int scalar " + std::to_string(c) + " case " + std::to_string(k));
    }
  }
  auto computing_layers = [](DataType t, bool scalar, bool ge) {
    Network net;
    ConversionContext ctx(net);
    Tensor* x = net.add_input("x", t, {4, 5});
    Operand rhs = scalar ? Operand(int64_t{2}) : Operand(net.add_input("y", t, {4, 5}));
    ge ? ew::ge(ctx, kTarget, SourceIR::kATEN, "g", x, rhs)
       : ew::le(ctx, kTarget, SourceIR::kATEN, "g", x, rhs);
    int n = 0;
    for (int k = 0; k < net.num_layers(); ++k)
      if (net.layer(k)->kind() != LayerKind::kINPUT && net.layer(k)->kind() != LayerKind::kCONSTANT)
        ++n;
    return n;
  };
  for (bool ge : {true, false}) {
    EXPECT_EQ(computing_layers(DataType::kFLOAT, false, ge), 2);  // was 3: gt, eq, or
    EXPECT_EQ(computing_layers(DataType::kFLOAT, true, ge), 2);
    EXPECT_EQ(computing_layers(DataType::kINT32, false, ge), 2);
    EXPECT_EQ(computing_layers(DataType::kINT32, true, ge), 1);
  }
}

}  // namespace
}  // namespace lktest
