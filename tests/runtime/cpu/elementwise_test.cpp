// ATen comparisons of the ElementWise, Unary and Select reference kernels.
#include <limits>

#include "test_util.h"

namespace lktest {
namespace {

using E = ElementWiseOperation;
using U = UnaryOperation;

const std::vector<DataType> kArithTypes = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                           DataType::kINT8,  DataType::kINT32, DataType::kINT64};
const std::vector<DataType> kCompareTypes = {DataType::kFLOAT, DataType::kHALF, DataType::kBF16,
                                             DataType::kINT32, DataType::kINT64};
const std::vector<DataType> kAllTypes = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                         DataType::kINT8,  DataType::kINT32, DataType::kINT64,
                                         DataType::kBOOL};

std::string name_of(DataType t, std::string_view what) {
  return std::string(what) + " " + std::string(data_type_name(t));
}

// Applies `f` as ATen does for reduced-precision floats: in float, rounded to the input type.
at::Tensor in_float(const at::Tensor& x, const std::function<at::Tensor(const at::Tensor&)>& f) {
  if (x.scalar_type() == at::kHalf || x.scalar_type() == at::kBFloat16)
    return f(x.to(at::kFloat)).to(x.scalar_type());
  return f(x);
}
at::Tensor in_float2(const at::Tensor& a, const at::Tensor& b,
                     const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& f) {
  if (a.scalar_type() == at::kHalf || a.scalar_type() == at::kBFloat16) {
    at::Tensor r = f(a.to(at::kFloat), b.to(at::kFloat));
    return r.scalar_type() == at::kBool ? r : r.to(a.scalar_type());
  }
  return f(a, b);
}

at::Tensor run_binary(E op, const at::Tensor& a, const at::Tensor& b) {
  Network net;
  Tensor* x = net.add_input("a", from_aten(a.scalar_type()), dims_of(a));
  Tensor* y = net.add_input("b", from_aten(b.scalar_type()), dims_of(b));
  net.mark_output(net.add_elementwise(x, y, op)->output(0));
  return run1(net, {a, b});
}

at::Tensor aten_binary(E op, const at::Tensor& a, const at::Tensor& b) {
  bool integral = !at::isFloatingType(a.scalar_type());
  switch (op) {
    case E::kSUM:
      return in_float2(a, b, [](auto& p, auto& q) { return at::add(p, q); });
    case E::kPROD:
      return in_float2(a, b, [](auto& p, auto& q) { return at::mul(p, q); });
    case E::kMAX:
      return in_float2(a, b, [](auto& p, auto& q) { return at::maximum(p, q); });
    case E::kMIN:
      return in_float2(a, b, [](auto& p, auto& q) { return at::minimum(p, q); });
    case E::kSUB:
      return in_float2(a, b, [](auto& p, auto& q) { return at::sub(p, q); });
    case E::kDIV:
      if (integral) return at::div(a, b, "trunc");
      return in_float2(a, b, [](auto& p, auto& q) { return at::div(p, q); });
    case E::kPOW:
      return in_float2(a, b, [](auto& p, auto& q) { return at::pow(p, q); });
    case E::kFLOOR_DIV:
      return in_float2(a, b, [](auto& p, auto& q) { return at::div(p, q, "floor"); });
    case E::kAND:
      return at::logical_and(a, b);
    case E::kOR:
      return at::logical_or(a, b);
    case E::kXOR:
      return at::logical_xor(a, b);
    case E::kEQUAL:
      return in_float2(a, b, [](auto& p, auto& q) { return at::eq(p, q); });
    case E::kGREATER:
      return in_float2(a, b, [](auto& p, auto& q) { return at::gt(p, q); });
    case E::kLESS:
      return in_float2(a, b, [](auto& p, auto& q) { return at::lt(p, q); });
    case E::kBITWISE_AND:
      return at::bitwise_and(a, b);
    case E::kBITWISE_OR:
      return at::bitwise_or(a, b);
    case E::kBITWISE_XOR:
      return at::bitwise_xor(a, b);
  }
  return {};
}

// Operands valid for `op`: divisors away from zero (with both signs), positive float bases for
// kPOW and small non-negative integer exponents (ATen rejects negative integer powers).
std::pair<at::Tensor, at::Tensor> operands(E op, DataType t, const std::vector<int64_t>& sa,
                                           const std::vector<int64_t>& sb, uint64_t seed) {
  bool integral = is_integer(t);
  if (op == E::kDIV || op == E::kFLOOR_DIV) {
    at::Tensor a = integral ? random(t, sa, seed, -20, 20) : random(t, sa, seed, -4, 4);
    at::Tensor b = integral ? random(t, sb, seed + 1, 1, 5) : random(t, sb, seed + 1, 0.5, 2);
    at::Tensor neg = random(DataType::kBOOL, sb, seed + 2);
    return {a, at::where(neg, at::neg(b), b)};
  }
  if (op == E::kPOW) {
    if (integral) return {random(t, sa, seed, -4, 4), random(t, sb, seed + 1, 0, 3)};
    return {random(t, sa, seed, 0.25, 2), random(t, sb, seed + 1, -2, 2)};
  }
  if (op == E::kEQUAL || op == E::kGREATER || op == E::kLESS) {
    // Few distinct values, so equal pairs occur and every comparison sees both outcomes.
    return {random(DataType::kINT32, sa, seed, -3, 3).to(to_aten(t)),
            random(DataType::kINT32, sb, seed + 1, -3, 3).to(to_aten(t))};
  }
  if (integral) return {random(t, sa, seed, -10, 10), random(t, sb, seed + 1, -10, 10)};
  return {random(t, sa, seed), random(t, sb, seed + 1)};
}

const std::vector<E> kArithOps = {E::kSUM, E::kPROD, E::kMAX, E::kMIN,
                                  E::kSUB, E::kDIV,  E::kPOW, E::kFLOOR_DIV};

TEST(ElementWiseKernel, ArithmeticEveryOpAndTypeWithBroadcast) {
  uint64_t seed = 10;
  for (E op : kArithOps) {
    for (DataType t : kArithTypes) {
      auto [a, b] = operands(op, t, {2, 1, 4}, {1, 3, 4}, seed += 3);
      std::string what = name_of(t, enum_name(op));
      at::Tensor got = run_binary(op, a, b);
      expect_close(got, aten_binary(op, a, b), 1.0, what);
    }
  }
}

TEST(ElementWiseKernel, ArithmeticSameShapeAndScalarBroadcast) {
  uint64_t seed = 100;
  for (E op : kArithOps) {
    for (DataType t : kArithTypes) {
      auto [a, b] = operands(op, t, {2, 3, 5}, {2, 3, 5}, seed += 3);
      expect_close(run_binary(op, a, b), aten_binary(op, a, b), 1.0,
                   name_of(t, enum_name(op)) + " same shape");
      auto [c, d] = operands(op, t, {1, 1, 1}, {2, 3, 5}, seed += 3);
      expect_close(run_binary(op, c, d), aten_binary(op, c, d), 1.0,
                   name_of(t, enum_name(op)) + " [1,1,1] with [2,3,5]");
    }
  }
}

TEST(ElementWiseKernel, RankZeroOperands) {
  at::Tensor a = random(DataType::kFLOAT, {}, 1), b = random(DataType::kFLOAT, {}, 2);
  expect_close(run_binary(E::kSUB, a, b), at::sub(a, b));
}

TEST(ElementWiseKernel, LogicalOpsOnBool) {
  uint64_t seed = 200;
  for (E op : {E::kAND, E::kOR, E::kXOR}) {
    at::Tensor a = random(DataType::kBOOL, {2, 1, 4}, seed += 2);
    at::Tensor b = random(DataType::kBOOL, {1, 3, 4}, seed + 1);
    expect_close(run_binary(op, a, b), aten_binary(op, a, b), 1.0, std::string(enum_name(op)));
  }
}

TEST(ElementWiseKernel, BitwiseOpsOnIntegersAndBools) {
  uint64_t seed = 250;
  for (DataType t :
       {DataType::kUINT8, DataType::kINT8, DataType::kINT32, DataType::kINT64, DataType::kBOOL}) {
    for (E op : {E::kBITWISE_AND, E::kBITWISE_OR, E::kBITWISE_XOR}) {
      // Negative values exercise the sign bits of the signed types.
      double lo = t == DataType::kUINT8 ? 0 : -100, hi = t == DataType::kUINT8 ? 255 : 100;
      at::Tensor a = random(t, {2, 1, 4}, seed += 2, lo, hi);
      at::Tensor b = random(t, {1, 3, 4}, seed + 1, lo, hi);
      expect_close(run_binary(op, a, b), aten_binary(op, a, b), 1.0, name_of(t, enum_name(op)));
    }
  }
}

TEST(ElementWiseKernel, ComparisonsGiveBool) {
  uint64_t seed = 300;
  for (E op : {E::kEQUAL, E::kGREATER, E::kLESS}) {
    for (DataType t : kCompareTypes) {
      auto [a, b] = operands(op, t, {2, 1, 4}, {1, 3, 4}, seed += 2);
      at::Tensor got = run_binary(op, a, b);
      EXPECT_EQ(got.scalar_type(), at::kBool);
      expect_close(got, aten_binary(op, a, b), 1.0, name_of(t, enum_name(op)));
    }
  }
}

TEST(ElementWiseKernel, Int64ArithmeticIsExact) {
  // Beyond 2^53 a float (or double) path would lose the low bits.
  int64_t big = (int64_t{1} << 60) + 3;
  at::Tensor a = at::tensor({big, -big, big, int64_t{7}}, at::kLong);
  at::Tensor b = at::tensor({int64_t{1}, int64_t{-5}, int64_t{3}, int64_t{-2}}, at::kLong);
  expect_close(run_binary(E::kSUM, a, b), at::add(a, b), 1.0, "sum");
  expect_close(run_binary(E::kSUB, a, b), at::sub(a, b), 1.0, "sub");
  expect_close(run_binary(E::kDIV, a, b), at::div(a, b, "trunc"), 1.0, "div");
  expect_close(run_binary(E::kFLOOR_DIV, a, b), at::div(a, b, "floor"), 1.0, "floor_div");
  expect_close(run_binary(E::kMAX, a, b), at::maximum(a, b), 1.0, "max");
}

TEST(ElementWiseKernel, IntegerDivisionTruncatesAndFloorDivisionFloors) {
  at::Tensor a = at::tensor({7, -7, 7, -7, 6}, at::kInt);
  at::Tensor b = at::tensor({2, 2, -2, -2, 3}, at::kInt);
  expect_close(run_binary(E::kDIV, a, b), at::tensor({3, -3, -3, 3, 2}, at::kInt), 1.0, "div");
  expect_close(run_binary(E::kFLOOR_DIV, a, b), at::tensor({3, -4, -4, 3, 2}, at::kInt), 1.0,
               "floor_div");
}

TEST(ElementWiseKernel, IntegerDivisionByZeroIsARuntimeError) {
  for (E op : {E::kDIV, E::kFLOOR_DIV}) {
    for (DataType t : {DataType::kINT8, DataType::kINT32, DataType::kINT64}) {
      at::Tensor a = at::tensor({4, 5, 6}, at::kLong).to(to_aten(t));
      at::Tensor b = at::tensor({1, 0, 2}, at::kLong).to(to_aten(t));
      expect_error([&] { run_binary(op, a, b); }, {"division by zero", "5 by 0"},
                   ErrorCode::kRUNTIME);
    }
  }
}

TEST(ElementWiseKernel, FloatDivisionByZeroFollowsIeee) {
  at::Tensor a = at::tensor({1.0f, -1.0f, 0.0f}), b = at::zeros({3});
  expect_close(run_binary(E::kDIV, a, b), at::div(a, b));
}

TEST(ElementWiseKernel, DynamicShapeAtMinOptMax) {
  Network net;
  Tensor* x = net.add_input("a", DataType::kFLOAT, {-1, 3, 4});
  Tensor* y = net.add_input("b", DataType::kFLOAT, {1, 3, -1});
  net.mark_output(net.add_elementwise(x, y, E::kPROD)->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("a", {1, 3, 4}, {2, 3, 4}, {5, 3, 4});
  p.set_dimensions("b", {1, 3, 1}, {1, 3, 4}, {1, 3, 4});
  config.profiles.push_back(p);
  Runner r(net, config);
  uint64_t seed = 400;
  for (auto [n, w] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {2, 4}, {5, 4}}) {
    at::Tensor a = random(DataType::kFLOAT, {n, 3, 4}, seed++);
    at::Tensor b = random(DataType::kFLOAT, {1, 3, w}, seed++);
    auto outs = r.run({a, b});
    expect_close(outs.at(0), at::mul(a, b), 1.0, "batch " + std::to_string(n));
  }
}

// ---- Unary ----

at::Tensor run_unary(U op, const at::Tensor& a) {
  Network net;
  Tensor* x = net.add_input("x", from_aten(a.scalar_type()), dims_of(a));
  net.mark_output(net.add_unary(x, op)->output(0));
  return run1(net, {a});
}

struct UnaryCase {
  U op;
  double lo, hi;  // valid input range for the op
  std::function<at::Tensor(const at::Tensor&)> ref;
};

const std::vector<UnaryCase>& float_unary_cases() {
  static const std::vector<UnaryCase> cases = {
      {U::kEXP, -3, 3, [](auto& x) { return at::exp(x); }},
      {U::kLOG, 0.05, 5, [](auto& x) { return at::log(x); }},
      {U::kSQRT, 0, 5, [](auto& x) { return at::sqrt(x); }},
      {U::kRECIP, 0.25, 4, [](auto& x) { return at::reciprocal(x); }},
      {U::kABS, -3, 3, [](auto& x) { return at::abs(x); }},
      {U::kNEG, -3, 3, [](auto& x) { return at::neg(x); }},
      {U::kSIN, -3.5, 3.5, [](auto& x) { return at::sin(x); }},
      {U::kCOS, -3.5, 3.5, [](auto& x) { return at::cos(x); }},
      {U::kTAN, -1.3, 1.3, [](auto& x) { return at::tan(x); }},
      {U::kSINH, -3, 3, [](auto& x) { return at::sinh(x); }},
      {U::kCOSH, -3, 3, [](auto& x) { return at::cosh(x); }},
      {U::kASIN, -0.95, 0.95, [](auto& x) { return at::asin(x); }},
      {U::kACOS, -0.95, 0.95, [](auto& x) { return at::acos(x); }},
      {U::kATAN, -4, 4, [](auto& x) { return at::atan(x); }},
      {U::kASINH, -4, 4, [](auto& x) { return at::asinh(x); }},
      {U::kACOSH, 1.05, 5, [](auto& x) { return at::acosh(x); }},
      {U::kATANH, -0.9, 0.9, [](auto& x) { return at::atanh(x); }},
      {U::kCEIL, -4, 4, [](auto& x) { return at::ceil(x); }},
      {U::kFLOOR, -4, 4, [](auto& x) { return at::floor(x); }},
      {U::kERF, -3, 3, [](auto& x) { return at::erf(x); }},
      {U::kSIGN, -3, 3, [](auto& x) { return at::sign(x); }},
      {U::kROUND, -5, 5, [](auto& x) { return at::round(x); }},
  };
  return cases;
}

TEST(UnaryKernel, EveryFloatOpAndFloatType) {
  uint64_t seed = 500;
  for (const UnaryCase& c : float_unary_cases()) {
    for (DataType t : kFloatTypes) {
      at::Tensor x = random(t, {2, 3, 7}, seed++, c.lo, c.hi);
      expect_close(run_unary(c.op, x), in_float(x, c.ref), 1.0, name_of(t, enum_name(c.op)));
    }
  }
}

TEST(UnaryKernel, IntegerAbsNegSign) {
  uint64_t seed = 600;
  std::vector<std::pair<U, std::function<at::Tensor(const at::Tensor&)>>> cases = {
      {U::kABS, [](auto& x) { return at::abs(x); }},
      {U::kNEG, [](auto& x) { return at::neg(x); }},
      {U::kSIGN, [](auto& x) { return at::sign(x); }}};
  for (auto& [op, ref] : cases) {
    for (DataType t : {DataType::kINT8, DataType::kINT32, DataType::kINT64}) {
      at::Tensor x = random(t, {3, 5}, seed++, -100, 100);
      expect_close(run_unary(op, x), ref(x), 1.0, name_of(t, enum_name(op)));
    }
  }
  // Wrap-around at the type's minimum, as two's complement (and ATen) give.
  at::Tensor m = at::tensor({-128, 0, 127}, at::kChar);
  expect_close(run_unary(U::kABS, m), at::abs(m), 1.0, "int8 abs of -128");
  expect_close(run_unary(U::kNEG, m), at::neg(m), 1.0, "int8 neg of -128");
}

TEST(UnaryKernel, RoundHalfToEven) {
  at::Tensor x = at::tensor({0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.4f, -2.6f});
  for (DataType t : kFloatTypes) {
    at::Tensor xt = x.to(to_aten(t));
    at::Tensor got = run_unary(U::kROUND, xt);
    expect_close(got, in_float(xt, [](auto& v) { return at::round(v); }), 1.0, name_of(t, "round"));
    expect_close(got.to(at::kFloat),
                 at::tensor({0.0f, 2.0f, 2.0f, -0.0f, -2.0f, -2.0f, 2.0f, -3.0f}), 1.0,
                 name_of(t, "round values"));
  }
}

TEST(UnaryKernel, NotOnBool) {
  at::Tensor x = random(DataType::kBOOL, {4, 5}, 700);
  expect_close(run_unary(U::kNOT, x), at::logical_not(x));
}

TEST(UnaryKernel, IsInfIsNanGiveBool) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  at::Tensor x = at::tensor({1.0f, inf, -inf, nan, 0.0f, -3.0f, 65504.0f, 1e30f});
  for (DataType t : kFloatTypes) {
    at::Tensor xt = x.to(to_aten(t));
    at::Tensor a = run_unary(U::kISINF, xt), b = run_unary(U::kISNAN, xt);
    EXPECT_EQ(a.scalar_type(), at::kBool);
    expect_close(a, at::isinf(xt), 1.0, name_of(t, "isinf"));
    expect_close(b, at::isnan(xt), 1.0, name_of(t, "isnan"));
  }
}

TEST(UnaryKernel, DynamicShapeAtMinOptMax) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kHALF, {-1, 5});
  net.mark_output(net.add_unary(x, U::kEXP)->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 5}, {3, 5}, {8, 5});
  config.profiles.push_back(p);
  Runner r(net, config);
  uint64_t seed = 800;
  for (int64_t n : {1, 3, 8}) {
    at::Tensor a = random(DataType::kHALF, {n, 5}, seed++);
    expect_close(r.run({a}).at(0), in_float(a, [](auto& v) { return at::exp(v); }), 1.0,
                 "batch " + std::to_string(n));
  }
}

// ---- Select ----

at::Tensor run_select(const at::Tensor& c, const at::Tensor& a, const at::Tensor& b) {
  Network net;
  Tensor* tc = net.add_input("c", DataType::kBOOL, dims_of(c));
  Tensor* ta = net.add_input("a", from_aten(a.scalar_type()), dims_of(a));
  Tensor* tb = net.add_input("b", from_aten(b.scalar_type()), dims_of(b));
  net.mark_output(net.add_select(tc, ta, tb)->output(0));
  return run1(net, {c, a, b});
}

TEST(SelectKernel, EveryTypeWithThreeWayBroadcast) {
  uint64_t seed = 900;
  for (DataType t : kAllTypes) {
    at::Tensor c = random(DataType::kBOOL, {2, 1, 4}, seed++);
    at::Tensor a = random(t, {1, 3, 4}, seed++, -50, 50);
    at::Tensor b = random(t, {2, 3, 1}, seed++, -50, 50);
    expect_close(run_select(c, a, b), at::where(c, a, b), 1.0, name_of(t, "select"));
  }
}

TEST(SelectKernel, SameShapes) {
  at::Tensor c = random(DataType::kBOOL, {3, 4}, 950);
  at::Tensor a = random(DataType::kFLOAT, {3, 4}, 951), b = random(DataType::kFLOAT, {3, 4}, 952);
  expect_close(run_select(c, a, b), at::where(c, a, b));
}

TEST(SelectKernel, DynamicShapeAtMinOptMax) {
  Network net;
  Tensor* c = net.add_input("c", DataType::kBOOL, {-1, 4});
  Tensor* a = net.add_input("a", DataType::kBF16, {1, 4});
  Tensor* b = net.add_input("b", DataType::kBF16, {-1, 1});
  net.mark_output(net.add_select(c, a, b)->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("c", {1, 4}, {2, 4}, {6, 4});
  p.set_dimensions("b", {1, 1}, {2, 1}, {6, 1});
  config.profiles.push_back(p);
  Runner r(net, config);
  uint64_t seed = 960;
  for (int64_t n : {1, 2, 6}) {
    at::Tensor tc = random(DataType::kBOOL, {n, 4}, seed++);
    at::Tensor ta = random(DataType::kBF16, {1, 4}, seed++);
    at::Tensor tb = random(DataType::kBF16, {n, 1}, seed++);
    expect_close(r.run({tc, ta, tb}).at(0), at::where(tc, ta, tb), 1.0,
                 "batch " + std::to_string(n));
  }
}

}  // namespace
}  // namespace lktest
