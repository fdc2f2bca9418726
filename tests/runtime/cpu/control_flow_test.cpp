// CPU reference kernels of the Conditional and Loop kinds against loops written out with ATen.
#include "test_util.h"

namespace lktest {
namespace {

using Body = std::shared_ptr<Network>;

LoopAttrs loop_of(std::shared_ptr<const Network> body, std::vector<int32_t> scan_input_axes = {}) {
  LoopAttrs a;
  a.body = std::move(body);
  a.scan_input_axes = std::move(scan_input_axes);
  return a;
}

Tensor* bool_constant(Network& net, bool v) {
  return net.add_constant(Dims{}, Weights::from_vector(std::vector<bool>{v}))->output(0);
}
Tensor* float_constant(Network& net, const Dims& d, float v) {
  return net
      .add_constant(d, Weights::from_vector(std::vector<float>(static_cast<size_t>(d.volume()), v)))
      ->output(0);
}
// The one element of a [1]-shaped or 0-D tensor as 0-D.
Tensor* scalar_of(Network& net, Tensor* t) {
  ShuffleAttrs a;
  a.reshape_dims = Dims{};
  return net.add_shuffle(t, a)->output(0);
}

BuilderConfig with_profile(const std::string& name, const Dims& min, const Dims& opt,
                           const Dims& max) {
  BuilderConfig c;
  OptimizationProfile p;
  p.set_dimensions(name, min, opt, max);
  c.profiles.push_back(p);
  return c;
}

// A data-dependent loop: while sum(x) < limit: x = x * 2 + i (i the iteration). Outputs the
// final x and the sum before each iteration, stacked.
TEST(LoopKernel, DataDependentConditionIsEvaluatedPerIteration) {
  auto b = std::make_shared<Network>();
  Tensor* i = b->add_input("i", DataType::kINT64, Dims{});
  b->add_input("cond", DataType::kBOOL, Dims{});
  Tensor* x = b->add_input("x", DataType::kFLOAT, {2, 2});
  Tensor* limit = b->add_input("limit", DataType::kFLOAT, Dims{});
  Tensor* two = float_constant(*b, {1, 1}, 2.0f);
  ShuffleAttrs to11;
  to11.reshape_dims = Dims{1, 1};
  Tensor* fi = b->add_shuffle(b->add_cast(i, DataType::kFLOAT)->output(0), to11)->output(0);
  Tensor* next =
      b->add_elementwise(b->add_elementwise(x, two, ElementWiseOperation::kPROD)->output(0), fi,
                         ElementWiseOperation::kSUM)
          ->output(0);
  Tensor* sum_before = scalar_of(*b, b->add_reduce(x, ReduceOperation::kSUM, 3, false)->output(0));
  Tensor* sum_after =
      scalar_of(*b, b->add_reduce(next, ReduceOperation::kSUM, 3, false)->output(0));
  b->mark_output(b->add_elementwise(sum_after, limit, ElementWiseOperation::kLESS)->output(0));
  b->mark_output(next);
  b->mark_output(sum_before);

  Network net;
  Tensor* x0 = net.add_input("x0", DataType::kFLOAT, {2, 2});
  Tensor* lim = net.add_input("limit", DataType::kFLOAT, Dims{});
  // The loop's own check before the first iteration: sum(x0) < limit.
  Tensor* s0 = scalar_of(net, net.add_reduce(x0, ReduceOperation::kSUM, 3, false)->output(0));
  Tensor* c0 = net.add_elementwise(s0, lim, ElementWiseOperation::kLESS)->output(0);
  Layer* l = net.add_loop(loop_of(b), nullptr, c0, std::vector<Tensor*>{x0}, {},
                          std::vector<Tensor*>{lim});
  EXPECT_EQ(l->output(1)->dims(), (Dims{-1}));
  net.mark_output(l->output(0));
  net.mark_output(l->output(1));
  Runner runner(net);
  for (float lv : {0.5f, 10.0f, 1000.0f}) {
    SCOPED_TRACE(lv);
    at::Tensor xv = random(DataType::kFLOAT, {2, 2}, 3, 0.1, 1.0);
    std::vector<at::Tensor> got = runner.run({xv, at::full({}, lv)});
    // The oracle: the same loop in ATen.
    at::Tensor y = xv.clone();
    std::vector<at::Tensor> sums;
    for (int64_t t = 0; y.sum().item<float>() < lv; ++t) {
      sums.push_back(y.sum());
      y = y * 2 + static_cast<float>(t);
    }
    expect_close(got[0], y, 1.0, "final x");
    expect_close(got[1], sums.empty() ? at::zeros({0}) : at::stack(sums), 1.0, "sums");
  }
}

// A trip-limited loop with a scan input read from its end along axis 1 and a scan output stacked
// along axis 1, last iteration first: acc += column; out[:, T-1-t] = acc.
TEST(LoopKernel, TripLimitScanInputsAndReversedScanOutputs) {
  auto b = std::make_shared<Network>();
  b->add_input("i", DataType::kINT64, Dims{});
  b->add_input("cond", DataType::kBOOL, Dims{});
  Tensor* acc = b->add_input("acc", DataType::kFLOAT, {3});
  Tensor* col = b->add_input("col", DataType::kFLOAT, {3});
  Tensor* next = b->add_elementwise(acc, col, ElementWiseOperation::kSUM)->output(0);
  b->mark_output(bool_constant(*b, true));
  b->mark_output(next);
  b->mark_output(b->add_identity(next)->output(0));

  Network net;
  Tensor* a0 = net.add_input("a0", DataType::kFLOAT, {3});
  Tensor* xs = net.add_input("xs", DataType::kFLOAT, {3, -1});
  Tensor* m = net.add_input("m", DataType::kINT32, {1});
  LoopAttrs a{.body = b,
              .scan_input_axes = {1},
              .scan_input_reverse = {1},
              .scan_output_axes = {1},
              .scan_output_reverse = {1}};
  Layer* l = net.add_loop(a, m, nullptr, std::vector<Tensor*>{a0}, std::vector<Tensor*>{xs}, {});
  net.mark_output(l->output(0));
  net.mark_output(l->output(1));
  Runner runner(net, with_profile("xs", {3, 1}, {3, 5}, {3, 8}));
  for (int64_t len : {1, 5, 8})
    for (int32_t limit : {0, 2, 100}) {
      SCOPED_TRACE(len);
      SCOPED_TRACE(limit);
      at::Tensor av = random(DataType::kFLOAT, {3}, 7);
      at::Tensor xv = random(DataType::kFLOAT, {3, len}, 8);
      std::vector<at::Tensor> got =
          runner.run({av, xv, at::full({1}, limit, at::TensorOptions().dtype(at::kInt))});
      const int64_t trips = std::min<int64_t>(len, limit);
      at::Tensor y = av.clone();
      std::vector<at::Tensor> cols;
      for (int64_t t = 0; t < trips; ++t) {
        y = y + xv.select(1, len - 1 - t);
        cols.push_back(y);
      }
      std::reverse(cols.begin(), cols.end());
      expect_close(got[0], y, 1.0, "final acc");
      expect_close(got[1], trips == 0 ? at::zeros({3, 0}) : at::stack(cols, 1), 1.0, "scan");
    }
}

// A conditional on a run-time value whose branches give different shapes.
TEST(ConditionalKernel, RunTimeConditionPicksTheBranchAndItsShape) {
  auto t = std::make_shared<Network>();
  Tensor* x = t->add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* k = t->add_input("k", DataType::kFLOAT, Dims{1, 1});
  t->mark_output(t->add_elementwise(x, k, ElementWiseOperation::kPROD)->output(0));
  auto e = std::make_shared<Network>();
  Tensor* y = e->add_input("x", DataType::kFLOAT, {2, 3});
  e->add_input("k", DataType::kFLOAT, Dims{1, 1});
  e->mark_output(e->add_concatenation(std::vector<Tensor*>{y, y}, 1)->output(0));

  Network net;
  Tensor* xi = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* ki = net.add_input("k", DataType::kFLOAT, {1, 1});
  // The condition is computed in the network: sum(x) > 0.
  Tensor* s = scalar_of(net, net.add_reduce(xi, ReduceOperation::kSUM, 3, false)->output(0));
  Tensor* zero =
      net.add_constant(Dims{}, Weights::from_vector(std::vector<float>{0.0f}))->output(0);
  Tensor* c = net.add_elementwise(s, zero, ElementWiseOperation::kGREATER)->output(0);
  Layer* l = net.add_conditional(c, t, e, std::vector<Tensor*>{xi, ki});
  EXPECT_EQ(l->output(0)->dims(), (Dims{2, -1}));
  net.mark_output(l->output(0));
  Runner runner(net);
  for (uint64_t seed : {1, 2, 3, 4, 5, 6}) {
    at::Tensor xv = random(DataType::kFLOAT, {2, 3}, seed);
    at::Tensor kv = random(DataType::kFLOAT, {1, 1}, seed + 10);
    at::Tensor want = xv.sum().item<float>() > 0 ? xv * kv : at::cat({xv, xv}, 1);
    expect_close(runner.run({xv, kv})[0], want, 1.0, "seed " + std::to_string(seed));
  }
}

// A loop inside a conditional's branch: bodies nest.
TEST(ConditionalKernel, NestedLoopInABranch) {
  auto lb = std::make_shared<Network>();
  lb->add_input("i", DataType::kINT64, Dims{});
  lb->add_input("cond", DataType::kBOOL, Dims{});
  Tensor* v = lb->add_input("v", DataType::kFLOAT, {4});
  lb->mark_output(bool_constant(*lb, true));
  lb->mark_output(lb->add_elementwise(v, v, ElementWiseOperation::kSUM)->output(0));
  auto t = std::make_shared<Network>();
  Tensor* x = t->add_input("x", DataType::kFLOAT, {4});
  Tensor* n = t->add_constant(Dims{}, Weights::from_vector(std::vector<int64_t>{3}))->output(0);
  t->mark_output(t->add_loop(loop_of(lb), n, nullptr, std::vector<Tensor*>{x}, {}, {})->output(0));
  auto e = std::make_shared<Network>();
  Tensor* y = e->add_input("x", DataType::kFLOAT, {4});
  e->mark_output(e->add_unary(y, UnaryOperation::kNEG)->output(0));
  Network net;
  Tensor* c = net.add_input("c", DataType::kBOOL, Dims{});
  Tensor* xi = net.add_input("x", DataType::kFLOAT, {4});
  net.mark_output(net.add_conditional(c, t, e, std::vector<Tensor*>{xi})->output(0));
  Runner runner(net);
  at::Tensor xv = random(DataType::kFLOAT, {4}, 9);
  expect_close(runner.run({at::full({}, true, at::kBool), xv})[0], xv * 8, 1.0, "then");
  expect_close(runner.run({at::full({}, false, at::kBool), xv})[0], -xv, 1.0, "else");
}

// A carried value may change its dims per iteration where the body declares them dynamic: a
// vector that doubles its length each time.
TEST(LoopKernel, CarriedValuesChangeDimsWhereTheBodyDeclaresThemDynamic) {
  auto b = std::make_shared<Network>();
  b->add_input("i", DataType::kINT64, Dims{});
  b->add_input("cond", DataType::kBOOL, Dims{});
  Tensor* v = b->add_input("v", DataType::kFLOAT, {-1});
  b->mark_output(bool_constant(*b, true));
  b->mark_output(b->add_concatenation(std::vector<Tensor*>{v, v}, 0)->output(0));
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2});
  Tensor* n = net.add_constant(Dims{}, Weights::from_vector(std::vector<int64_t>{3}))->output(0);
  Layer* l = net.add_loop(loop_of(b), n, nullptr, std::vector<Tensor*>{x}, {}, {});
  l->set_name("grow");
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1}));
  net.mark_output(l->output(0));
  at::Tensor xv = random(DataType::kFLOAT, {2}, 1);
  expect_close(run1(net, {xv}), at::cat({xv, xv, xv, xv, xv, xv, xv, xv}), 1.0, "grown");
}

}  // namespace
}  // namespace lktest
