// Element-wise building blocks against ATen: every op, dtype, scalar side and broadcast; errors.
#include "layerkit/impl/elementwise.h"

#include <ATen/ScalarOps.h>

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

}  // namespace
}  // namespace lktest
