// Inference, validation and the text form of the Conditional and Loop kinds.
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
Tensor* int64_constant(Network& net, int64_t v) {
  return net.add_constant(Dims{}, Weights::from_vector(std::vector<int64_t>{v}))->output(0);
}
Tensor* float_constant(Network& net, const Dims& d, float v) {
  return net
      .add_constant(d, Weights::from_vector(std::vector<float>(static_cast<size_t>(d.volume()), v)))
      ->output(0);
}

// A loop body with one carried float value of `dims`: x -> x + 1, scan output x * 2; the next
// condition is a constant true, or x's first element < 10 when `data_dependent`.
Body add_one_body(const Dims& dims, bool data_dependent = false) {
  auto b = std::make_shared<Network>();
  b->add_input("i", DataType::kINT64, Dims{});
  Tensor* cond = b->add_input("cond", DataType::kBOOL, Dims{});
  (void)cond;
  Tensor* x = b->add_input("x", DataType::kFLOAT, dims);
  Tensor* one = float_constant(*b, Dims::of_rank(dims.rank(), 1), 1.0f);
  Tensor* two = float_constant(*b, Dims::of_rank(dims.rank(), 1), 2.0f);
  Tensor* next = b->add_elementwise(x, one, ElementWiseOperation::kSUM)->output(0);
  Tensor* scan = b->add_elementwise(x, two, ElementWiseOperation::kPROD)->output(0);
  Tensor* c = nullptr;
  if (data_dependent) {
    Tensor* ten = float_constant(*b, Dims::of_rank(dims.rank(), 1), 10.0f);
    Tensor* less = b->add_elementwise(next, ten, ElementWiseOperation::kLESS)->output(0);
    ShuffleAttrs flat;
    flat.reshape_dims = Dims{static_cast<int64_t>(dims.volume())};
    Tensor* f = b->add_shuffle(less, flat)->output(0);
    c = b->add_slice(f, Dims{0}, Dims{1}, Dims{1})->output(0);
    ShuffleAttrs scalar;
    scalar.reshape_dims = Dims{};
    c = b->add_shuffle(c, scalar)->output(0);
  } else {
    c = bool_constant(*b, true);
  }
  b->mark_output(c);
  b->mark_output(next);
  b->mark_output(scan);
  return b;
}

TEST(LoopInference, ConstantTripCountGivesStaticScanOutputs) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Layer* l = net.add_loop(loop_of(add_one_body({2, 3})), int64_constant(net, 4), nullptr,
                          std::vector<Tensor*>{x}, {}, {});
  EXPECT_EQ(l->num_outputs(), 2);
  EXPECT_EQ(l->output(0)->dims(), (Dims{2, 3}));
  EXPECT_EQ(l->output(1)->dims(), (Dims{4, 2, 3}));
}

TEST(LoopInference, ScanOutputAxisAndRunTimeTripLimit) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* m = net.add_input("m", DataType::kINT64, Dims{});
  LoopAttrs a = loop_of(add_one_body({2, 3}));
  a.scan_output_axes = {2};
  Layer* l = net.add_loop(a, m, nullptr, std::vector<Tensor*>{x}, {}, {});
  EXPECT_EQ(l->output(1)->dims(), (Dims{2, 3, -1}));
}

TEST(LoopInference, DataDependentConditionMakesTheIterationCountDynamic) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Layer* l = net.add_loop(loop_of(add_one_body({2, 3}, true)), int64_constant(net, 4), nullptr,
                          std::vector<Tensor*>{x}, {}, {});
  EXPECT_EQ(l->output(1)->dims(), (Dims{-1, 2, 3}));
  // A condition known false before the first iteration: no iteration at all.
  Layer* none = net.add_loop(loop_of(add_one_body({2, 3}, true)), nullptr,
                             bool_constant(net, false), std::vector<Tensor*>{x}, {}, {});
  EXPECT_EQ(none->output(1)->dims(), (Dims{0, 2, 3}));
}

TEST(LoopInference, ScanInputsBoundTheTripCount) {
  // Body: carried sum s (float [3]) += slice (float [3]); scan inputs [5, 3] along axis 0.
  auto b = std::make_shared<Network>();
  b->add_input("i", DataType::kINT64, Dims{});
  b->add_input("cond", DataType::kBOOL, Dims{});
  Tensor* s = b->add_input("s", DataType::kFLOAT, {3});
  Tensor* x = b->add_input("x", DataType::kFLOAT, {3});
  Tensor* sum = b->add_elementwise(s, x, ElementWiseOperation::kSUM)->output(0);
  b->mark_output(bool_constant(*b, true));
  b->mark_output(sum);
  b->mark_output(b->add_identity(sum)->output(0));
  Network net;
  Tensor* init = net.add_input("init", DataType::kFLOAT, {3});
  Tensor* xs = net.add_input("xs", DataType::kFLOAT, {5, 3});
  LoopAttrs a = loop_of(b, {0});
  Layer* l =
      net.add_loop(a, nullptr, nullptr, std::vector<Tensor*>{init}, std::vector<Tensor*>{xs}, {});
  EXPECT_EQ(l->output(1)->dims(), (Dims{5, 3}));
  Tensor* dyn = net.add_input("dyn", DataType::kFLOAT, {-1, 3});
  Layer* d =
      net.add_loop(a, nullptr, nullptr, std::vector<Tensor*>{init}, std::vector<Tensor*>{dyn}, {});
  EXPECT_EQ(d->output(1)->dims(), (Dims{-1, 3}));
}

TEST(LoopInference, BadLoopsNameTheLayerAndLeaveTheNetworkUnchanged) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* xi = net.add_input("xi", DataType::kINT32, {2, 3});
  Tensor* fc = net.add_input("fc", DataType::kFLOAT, Dims{});
  Tensor* b2 = net.add_input("b2", DataType::kBOOL, {2});
  Tensor* m = int64_constant(net, 3);
  const LoopAttrs ok = loop_of(add_one_body({2, 3}));
  // A carried value of another type than the body declares.
  expect_error_unchanged(net,
                         [&] { net.add_loop(ok, m, nullptr, std::vector<Tensor*>{xi}, {}, {}); },
                         {"Loop layer", "carried value 0", "int32", "float32"});
  // A condition that is not a bool scalar.
  expect_error_unchanged(
      net, [&] { net.add_loop(ok, m, fc, std::vector<Tensor*>{x}, {}, {}); },
      {"Loop layer", "condition (input 1) must be a bool tensor of one element"});
  expect_error_unchanged(net, [&] { net.add_loop(ok, m, b2, std::vector<Tensor*>{x}, {}, {}); },
                         {"condition (input 1)", "bool[2]"});
  // A trip limit that is not an integer scalar.
  expect_error_unchanged(net,
                         [&] { net.add_loop(ok, fc, nullptr, std::vector<Tensor*>{x}, {}, {}); },
                         {"trip limit (input 0)", "float32[]"});
  // Dims the body does not declare.
  Tensor* wide = net.add_input("wide", DataType::kFLOAT, {2, 4});
  expect_error_unchanged(net,
                         [&] { net.add_loop(ok, m, nullptr, std::vector<Tensor*>{wide}, {}, {}); },
                         {"carried value 0", "[2,4]", "declared [2,3]"});
  // A body that gives a carried value back with other dims than it takes.
  {
    auto b = std::make_shared<Network>();
    b->add_input("i", DataType::kINT64, Dims{});
    b->add_input("cond", DataType::kBOOL, Dims{});
    Tensor* v = b->add_input("v", DataType::kFLOAT, {2});
    Tensor* vv = v;
    b->mark_output(bool_constant(*b, true));
    b->mark_output(b->add_concatenation(std::vector<Tensor*>{v, vv}, 0)->output(0));
    Tensor* v2 = net.add_input("v2", DataType::kFLOAT, {2});
    expect_error_unchanged(
        net, [&] { net.add_loop(loop_of(b), m, nullptr, std::vector<Tensor*>{v2}, {}, {}); },
        {"as the body gives it back", "[4]", "declared [2]"});
  }
  // Neither a trip limit nor a scan input, and a condition that never turns false.
  expect_error_unchanged(
      net, [&] { net.add_loop(ok, nullptr, nullptr, std::vector<Tensor*>{x}, {}, {}); },
      {"would never end"});
  // Too few body inputs for the values passed.
  expect_error_unchanged(
      net,
      [&] { net.add_loop(ok, m, nullptr, std::vector<Tensor*>{x}, {}, std::vector<Tensor*>{x}); },
      {"the body has 3 inputs but the loop gives it 4"});
  expect_error_unchanged(
      net, [&] { net.add_loop(LoopAttrs{}, m, nullptr, std::vector<Tensor*>{x}, {}, {}); },
      {"body is missing"});
}

// then: x + x ([2,3]); else: concat(x, x) on axis 1 ([2,6]).
std::pair<Body, Body> different_shapes() {
  auto t = std::make_shared<Network>();
  Tensor* x = t->add_input("x", DataType::kFLOAT, {2, 3});
  t->mark_output(t->add_elementwise(x, x, ElementWiseOperation::kSUM)->output(0));
  auto e = std::make_shared<Network>();
  Tensor* y = e->add_input("x", DataType::kFLOAT, {2, 3});
  e->mark_output(e->add_concatenation(std::vector<Tensor*>{y, y}, 1)->output(0));
  return {t, e};
}

TEST(ConditionalInference, BranchesOfDifferentShapesGiveDynamicDims) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* c = net.add_input("c", DataType::kBOOL, Dims{});
  auto [t, e] = different_shapes();
  Layer* l = net.add_conditional(c, t, e, std::vector<Tensor*>{x});
  EXPECT_EQ(l->output(0)->dims(), (Dims{2, -1}));
  // A condition known when the network is built gives the taken branch's dims.
  Layer* k = net.add_conditional(bool_constant(net, false), t, e, std::vector<Tensor*>{x});
  EXPECT_EQ(k->output(0)->dims(), (Dims{2, 6}));
}

TEST(ConditionalInference, BadConditionalsNameTheLayer) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* c = net.add_input("c", DataType::kBOOL, Dims{});
  Tensor* f = net.add_input("f", DataType::kFLOAT, Dims{});
  auto [t, e] = different_shapes();
  expect_error_unchanged(
      net, [&] { net.add_conditional(f, t, e, std::vector<Tensor*>{x}); },
      {"Conditional layer", "condition must be a bool tensor of one element", "float32[]"});
  expect_error_unchanged(net, [&] { net.add_conditional(c, t, e, {}); },
                         {"the then body has 1 inputs but the layer passes 0"});
  auto other = std::make_shared<Network>();
  Tensor* y = other->add_input("x", DataType::kFLOAT, {2, 3});
  other->mark_output(other->add_cast(y, DataType::kINT32)->output(0));
  expect_error_unchanged(net, [&] { net.add_conditional(c, t, other, std::vector<Tensor*>{x}); },
                         {"output 0 is float32 in the then body", "int32 in the else body"});
}

TEST(ControlFlowText, BodiesFollowTheirLayerIndented) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* c = net.add_input("c", DataType::kBOOL, Dims{});
  auto [t, e] = different_shapes();
  Layer* l = net.add_conditional(c, t, e, std::vector<Tensor*>{x});
  l->set_name("branch");
  net.mark_output(l->output(0));
  const std::string s = net.to_string();
  EXPECT_NE(s.find("branch: Conditional[then_layers=2 else_layers=2]"), std::string::npos) << s;
  EXPECT_NE(s.find("  then:\n    x: Input"), std::string::npos) << s;
  EXPECT_NE(s.find("  else:\n    x: Input"), std::string::npos) << s;
  EXPECT_NE(s.find("    Concatenation_1: Concatenation[axis=1]"), std::string::npos) << s;
}

}  // namespace
}  // namespace lktest
