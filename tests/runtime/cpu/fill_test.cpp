// CPU kernel of Fill: LINSPACE against ATen arange expressions; seeded random fills checked for
// determinism, range and moments.
#include <cmath>

#include "test_util.h"

namespace lktest {
namespace {

at::Tensor run_fill(const FillAttrs& a, const FillInputs& in = {}, Network* net_in = nullptr) {
  Network local;
  Network& net = net_in ? *net_in : local;
  net.mark_output(net.add_fill(a, in)->output(0));
  return run1(net, {});
}

TEST(FillKernel, LinspaceRank1MatchesArange) {
  for (DataType t :
       {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32, DataType::kINT64}) {
    bool is_int = !is_floating(t);
    FillAttrs a;
    a.dims = {10};
    a.alpha = is_int ? -3.0 : -1.25;
    a.beta = {is_int ? 4.0 : 0.375};
    a.output_type = t;
    // Computed in float (int64 for integer outputs) and rounded on store, like the kernel spec.
    at::ScalarType ct = is_int ? at::kLong : at::kFloat;
    at::Tensor expected = (at::arange(10, ct) * a.beta[0] + a.alpha).to(to_aten(t));
    expect_close(run_fill(a), expected, 1.0, std::string(data_type_name(t)));
  }
}

TEST(FillKernel, LinspaceRank3SumsPerAxisDeltas) {
  for (DataType t :
       {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32, DataType::kINT64}) {
    bool is_int = !is_floating(t);
    FillAttrs a;
    a.dims = {2, 3, 4};
    a.alpha = is_int ? 7.0 : 0.5;
    a.beta = is_int ? std::vector<double>{100, -10, 1} : std::vector<double>{1.5, -0.25, 0.125};
    a.output_type = t;
    at::ScalarType ct = is_int ? at::kLong : at::kFloat;
    at::Tensor e = at::full({}, a.alpha, ct);
    e = e + (at::arange(2, ct) * a.beta[0]).view({2, 1, 1});
    e = e + (at::arange(3, ct) * a.beta[1]).view({1, 3, 1});
    e = e + (at::arange(4, ct) * a.beta[2]).view({1, 1, 4});
    expect_close(run_fill(a), e.to(to_aten(t)), 1.0, std::string(data_type_name(t)));
  }
}

TEST(FillKernel, LinspaceAlphaBetaTensors) {
  Network net;
  FillAttrs a;
  a.dims = {3, 2};
  a.output_type = DataType::kINT32;
  FillInputs in;
  in.alpha = constant(net, at::full({}, -4, at::kInt));
  in.beta = constant(net, at::tensor(std::vector<int32_t>{5, 2}, at::kInt));
  at::Tensor expected =
      (at::arange(3, at::kInt).view({3, 1}) * 5 + at::arange(2, at::kInt) * 2 - 4);
  expect_close(run_fill(a, in, &net), expected);
}

TEST(FillKernel, IntegerLinspaceHasKnownValues) {
  Network net;
  FillAttrs a;
  a.dims = {4};
  a.alpha = 1;
  a.beta = {2};
  a.output_type = DataType::kINT64;
  const KnownValues& k = net.add_fill(a)->output(0)->known_values();
  ASSERT_EQ(k.size(), 4u);
  EXPECT_EQ(*k[3], 7);
}

// Shape -> Fill: a ramp shaped like a dynamic input.
TEST(FillKernel, DynamicShapeTensor) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3});
  FillAttrs a;
  a.alpha = 2.0;
  a.beta = {10.0, 1.0};
  FillInputs in;
  in.shape = net.add_shape(x)->output(0);
  Layer* l = net.add_fill(a, in);
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 3}));
  net.mark_output(l->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 3}, {2, 3}, {6, 3});
  config.profiles.push_back(p);
  Runner r(net, config);
  for (int64_t n : {1, 2, 6}) {
    at::Tensor expected =
        (at::arange(n, at::kFloat) * 10.0).view({n, 1}) + at::arange(3, at::kFloat) * 1.0 + 2.0;
    expect_close(r.run({at::zeros({n, 3})})[0], expected, 1.0, std::to_string(n));
  }
}

constexpr int64_t kSamples = 100000;

FillAttrs random_attrs(FillOperation op, double alpha, double beta, uint64_t seed,
                       DataType t = DataType::kFLOAT) {
  FillAttrs a;
  a.op = op;
  a.dims = {kSamples};
  a.alpha = alpha;
  a.beta = {beta};
  a.seed = seed;
  a.output_type = t;
  return a;
}

TEST(FillKernel, RandomIsDeterministicPerSeed) {
  for (FillOperation op : {FillOperation::kRANDOM_UNIFORM, FillOperation::kRANDOM_NORMAL}) {
    at::Tensor a = run_fill(random_attrs(op, 0, 1, 42));
    at::Tensor b = run_fill(random_attrs(op, 0, 1, 42));
    at::Tensor c = run_fill(random_attrs(op, 0, 1, 43));
    EXPECT_TRUE(at::equal(a, b));
    EXPECT_FALSE(at::equal(a, c));
  }
}

// The fills are pure functions of the seed, so these checks give the same answer on every run:
// they cannot flake. The bounds (6 standard errors of each estimate for n = 100k samples) are
// what an unbiased generator passes for all but a ~1e-9 fraction of seeds.
TEST(FillKernel, UniformRangeAndMoments) {
  for (DataType t : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16}) {
    double lo = -3.0, hi = 5.0;
    at::Tensor v =
        run_fill(random_attrs(FillOperation::kRANDOM_UNIFORM, lo, hi, 7, t), {}).to(at::kDouble);
    EXPECT_GE(v.min().item<double>(), lo);
    // Rounding to 16-bit floats may land on the bound; fp32 values stay strictly below it.
    if (t == DataType::kFLOAT) {
      EXPECT_LT(v.max().item<double>(), hi);
    } else {
      EXPECT_LE(v.max().item<double>(), hi);
    }
    double sd = (hi - lo) / std::sqrt(12.0);
    double n = static_cast<double>(kSamples);
    EXPECT_NEAR(v.mean().item<double>(), (lo + hi) / 2, 6 * sd / std::sqrt(n));
    // Var of the sample variance of U(0,1) is (1/80 - 1/144)/n, i.e. sd^2 * sqrt(0.8/n).
    EXPECT_NEAR(v.var().item<double>(), sd * sd, 6 * sd * sd * std::sqrt(0.8 / n));
  }
}

TEST(FillKernel, NormalMoments) {
  double mean = 1.5, stddev = 2.0;
  at::Tensor v =
      run_fill(random_attrs(FillOperation::kRANDOM_NORMAL, mean, stddev, 9)).to(at::kDouble);
  double n = static_cast<double>(kSamples);
  EXPECT_NEAR(v.mean().item<double>(), mean, 6 * stddev / std::sqrt(n));
  // Var of the sample variance of a normal is 2 sigma^4 / (n - 1).
  EXPECT_NEAR(v.var().item<double>(), stddev * stddev, 6 * stddev * stddev * std::sqrt(2.0 / n));
  // A normal sample of 100k has about 4.6% of values beyond 2 sigma (binomial sd ~0.066%).
  double tail = (at::abs(v - mean) > 2 * stddev).to(at::kDouble).mean().item<double>();
  EXPECT_NEAR(tail, 0.0455, 6 * std::sqrt(0.0455 * 0.9545 / n));
}

}  // namespace
}  // namespace lktest
