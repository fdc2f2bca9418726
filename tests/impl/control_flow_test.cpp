// control_flow building blocks: a constant condition inlines the taken body, a run-time one makes
// a Conditional layer; a loop with a known trip count unrolls within the limit and gives the Loop
// layer's values; errors name the block and leave the network unchanged.
#include "layerkit/impl/control_flow.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace cf = layerkit::impl::control_flow;

const Target kTarget("cond");

int count_kind(const Network& net, LayerKind k) {
  int n = 0;
  for (int i = 0; i < net.num_layers(); ++i) n += net.layer(i)->kind() == k;
  return n;
}

// then: x * 3; else: -x.
std::pair<std::shared_ptr<Network>, std::shared_ptr<Network>> branches() {
  auto t = std::make_shared<Network>();
  Tensor* x = t->add_input("x", DataType::kFLOAT, {-1, 4});
  Tensor* three =
      t->add_constant({1, 1}, Weights::from_vector(std::vector<float>{3.0f}))->output(0);
  t->mark_output(t->add_elementwise(x, three, ElementWiseOperation::kPROD)->output(0));
  auto e = std::make_shared<Network>();
  Tensor* y = e->add_input("x", DataType::kFLOAT, {-1, 4});
  e->mark_output(e->add_unary(y, UnaryOperation::kNEG)->output(0));
  return {t, e};
}

TEST(IfConditional, ConstantConditionInlinesAndRunTimeConditionMakesALayer) {
  auto [t, e] = branches();
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 4}, {3, 4}, {5, 4});
  config.profiles.push_back(p);
  for (bool constant : {true, false}) {
    SCOPED_TRACE(constant);
    Network net;
    ConversionContext ctx(net);
    Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 4});
    Tensor* c =
        constant
            ? net.add_constant(Dims{}, Weights::from_vector(std::vector<bool>{false}))->output(0)
            : net.add_input("c", DataType::kBOOL, Dims{});
    std::vector<Tensor*> outs = cf::if_conditional(ctx, kTarget, SourceIR::kONNX, "branch", c, t, e,
                                                   std::vector<Tensor*>{x});
    ASSERT_EQ(outs.size(), 1u);
    net.mark_output(outs[0]);
    EXPECT_EQ(count_kind(net, LayerKind::kCONDITIONAL), constant ? 0 : 1) << net.to_string();
    // Inlined layers are named after the block and the body layer (Note [Layer naming]).
    if (constant)
      EXPECT_NE(net.to_string().find("[UNARY]-[onnx_ops.cond]-[branch_else_"), std::string::npos)
          << net.to_string();
    else
      EXPECT_NE(net.to_string().find("[CONDITIONAL]-[onnx_ops.cond]-[branch]"), std::string::npos)
          << net.to_string();
    Runner runner(net, config);
    for (int64_t rows : {1, 3, 5}) {
      at::Tensor xv = random(DataType::kFLOAT, {rows, 4}, static_cast<uint64_t>(rows));
      std::vector<at::Tensor> in{xv};
      if (!constant) in.push_back(at::full({}, rows != 3, at::kBool));
      const bool taken = !constant && rows != 3;
      expect_close(runner.run(in)[0], taken ? xv * 3 : -xv, 1.0, std::to_string(rows));
    }
  }
}

TEST(IfConditional, MismatchedBranchesFailAndLeaveTheNetworkUnchanged) {
  auto [t, e] = branches();
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 4});
  Tensor* c = net.add_input("c", DataType::kBOOL, Dims{});
  Tensor* k = net.add_constant(Dims{}, Weights::from_vector(std::vector<bool>{true}))->output(0);
  auto other = std::make_shared<Network>();
  Tensor* y = other->add_input("x", DataType::kFLOAT, {-1, 4});
  other->mark_output(other->add_cast(y, DataType::kINT32)->output(0));
  // Checked even when the condition is constant and one body is inlined.
  for (Tensor* cond : {c, k})
    expect_error_unchanged(
        net,
        [&] {
          cf::if_conditional(ctx, kTarget, SourceIR::kONNX, "bad", cond, t, other,
                             std::vector<Tensor*>{x});
        },
        {"control_flow::if_conditional", "bad", "output 0 is float32 in the then body"});
  expect_error_unchanged(
      net, [&] { cf::if_conditional(ctx, kTarget, SourceIR::kONNX, "bad", c, t, nullptr, {}); },
      {"control_flow::if_conditional", "a body is missing"});
}

// v <- v * 0.5 + 1 with a constant trip count; scan output v.
std::shared_ptr<Network> halving_body() {
  auto b = std::make_shared<Network>();
  b->add_input("i", DataType::kINT64, Dims{});
  b->add_input("cond", DataType::kBOOL, Dims{});
  Tensor* v = b->add_input("v", DataType::kFLOAT, {2, 3});
  Tensor* h = b->add_constant({1, 1}, Weights::from_vector(std::vector<float>{0.5f}))->output(0);
  Tensor* one = b->add_constant({1, 1}, Weights::from_vector(std::vector<float>{1.0f}))->output(0);
  Tensor* next =
      b->add_elementwise(b->add_elementwise(v, h, ElementWiseOperation::kPROD)->output(0), one,
                         ElementWiseOperation::kSUM)
          ->output(0);
  b->mark_output(b->add_constant(Dims{}, Weights::from_vector(std::vector<bool>{true}))->output(0));
  b->mark_output(next);
  b->mark_output(b->add_identity(next)->output(0));
  return b;
}

TEST(Loop, UnrolledAndLoopLayerGiveTheSameValues) {
  for (int64_t trips : {1, 4})
    for (int64_t limit : {0, 1000}) {
      SCOPED_TRACE(trips);
      SCOPED_TRACE(limit);
      Network net;
      ConversionContext ctx(net);
      Tensor* v0 = net.add_input("v0", DataType::kFLOAT, {2, 3});
      cf::LoopInputs in;
      in.trip_limit =
          net.add_constant(Dims{}, Weights::from_vector(std::vector<int64_t>{trips}))->output(0);
      in.carried = {v0};
      cf::LoopOptions opt;
      opt.scan_output_axes = {2};
      opt.scan_output_reverse = {1};
      opt.max_unrolled_layers = limit;
      cf::LoopResult r = cf::loop(ctx, kTarget, SourceIR::kONNX, "loop", halving_body(), in, opt);
      EXPECT_EQ(count_kind(net, LayerKind::kLOOP), limit == 0 ? 1 : 0) << net.to_string();
      EXPECT_EQ(r.scan_outputs.at(0)->dims(), (Dims{2, 3, trips}));
      net.mark_output(r.carried.at(0));
      net.mark_output(r.scan_outputs.at(0));
      at::Tensor v = random(DataType::kFLOAT, {2, 3}, 4);
      std::vector<at::Tensor> got = run(net, {v});
      std::vector<at::Tensor> scans;
      for (int64_t t = 0; t < trips; ++t) {
        v = v * 0.5 + 1;
        scans.insert(scans.begin(), v);
      }
      expect_close(got[0], v, 1.0, "final");
      expect_close(got[1], at::stack(scans, 2), 1.0, "scan");
    }
}

TEST(Loop, ErrorsNameTheBlockAndLeaveTheNetworkUnchanged) {
  Network net;
  ConversionContext ctx(net);
  Tensor* vi = net.add_input("vi", DataType::kINT32, {2, 3});
  cf::LoopInputs in;
  in.trip_limit =
      net.add_constant(Dims{}, Weights::from_vector(std::vector<int64_t>{2}))->output(0);
  in.carried = {vi};
  expect_error_unchanged(net,
                         [&] { cf::loop(ctx, kTarget, SourceIR::kONNX, "l", halving_body(), in); },
                         {"control_flow::loop", "'l'", "carried value 0", "int32", "float32"});
  expect_error_unchanged(net, [&] { cf::loop(ctx, kTarget, SourceIR::kONNX, "l", nullptr, in); },
                         {"control_flow::loop", "the body is missing"});
}

}  // namespace
}  // namespace lktest
