// The optimizing builder end to end: the user's network stays untouched, the engine reports what
// the passes did and its memory plan, and representative networks (a ResNet block, a transformer
// layer as frontends expand it) compute at optimization level 1 what they compute at level 0.
#include <cmath>

#include "builder/passes/pass_test_util.h"

namespace lktest {
namespace {

using E = ElementWiseOperation;

Tensor* weights_const(Network& net, std::vector<int64_t> dims, uint64_t seed, double lo = -0.3,
                      double hi = 0.3) {
  return constant(net, random(DataType::kFLOAT, dims, seed, lo, hi));
}

// conv -> (constant bias add) -> batch norm as Scale -> relu -> conv -> Scale -> + x -> relu,
// on x[-1, 4, 6, 6], plus an Identity and a dead branch for the eliminations.
std::unique_ptr<Network> resnet_block() {
  auto net = std::make_unique<Network>();
  Tensor* x = net->add_input("x", DataType::kFLOAT, {-1, 4, 6, 6});
  uint64_t seed = 100;
  auto conv_bn = [&](Tensor* in, bool bias_as_add) {
    ConvolutionAttrs a;
    a.num_output_maps = 4;
    a.kernel_size = Dims{3, 3};
    a.pre_padding = Dims{1, 1};
    a.post_padding = Dims{1, 1};
    at::Tensor w = random(DataType::kFLOAT, {4, 4, 3, 3}, seed++, -0.3, 0.3);
    a.kernel = Weights::copy(DataType::kFLOAT, w.data_ptr(), w.numel());
    Tensor* h = net->add_convolution_nd(in, a)->output(0);
    if (bias_as_add)
      h = net->add_elementwise(h, weights_const(*net, {1, 4, 1, 1}, seed++), E::kSUM)->output(0);
    ScaleAttrs s;
    s.mode = ScaleMode::kCHANNEL;
    at::Tensor sc = random(DataType::kFLOAT, {4}, seed++, 0.5, 1.5);
    at::Tensor sh = random(DataType::kFLOAT, {4}, seed++, -0.2, 0.2);
    s.scale = Weights::copy(DataType::kFLOAT, sc.data_ptr(), 4);
    s.shift = Weights::copy(DataType::kFLOAT, sh.data_ptr(), 4);
    return net->add_scale_nd(h, s)->output(0);
  };
  Tensor* h = conv_bn(x, true);
  h = net->add_activation(h, ActivationType::kRELU)->output(0);
  h = net->add_identity(h)->output(0);
  net->add_unary(h, UnaryOperation::kEXP);  // read by nothing
  h = conv_bn(h, false);
  h = net->add_elementwise(h, x, E::kSUM)->output(0);
  Tensor* y = net->add_activation(h, ActivationType::kRELU)->output(0);
  y->set_name("y");
  net->mark_output(y);
  return net;
}

// One post-norm transformer layer on x[-1, 5, 8] as an exporter expands it: linear layers as
// MatrixMultiply + bias add, attention with transposes and an exp/max/sum softmax, layer norms
// written out op by op, the erf GELU written out.
std::unique_ptr<Network> transformer_layer() {
  auto net = std::make_unique<Network>();
  const int64_t e = 8, f = 16;
  Tensor* x = net->add_input("x", DataType::kFLOAT, {-1, 5, e});
  uint64_t seed = 200;
  auto sc = [&](float v) { return constant(*net, at::full({1, 1, 1}, v, at::kFloat)); };
  auto linear = [&](Tensor* in, int64_t k, int64_t n) {
    Tensor* w = weights_const(*net, {1, k, n}, seed++, -1.0 / std::sqrt(double(k)),
                              1.0 / std::sqrt(double(k)));
    Tensor* h =
        net->add_matrix_multiply(in, MatrixOperation::kNONE, w, MatrixOperation::kNONE)->output(0);
    return net->add_elementwise(h, weights_const(*net, {1, 1, n}, seed++, -0.1, 0.1), E::kSUM)
        ->output(0);
  };
  auto layer_norm = [&](Tensor* in) {
    Tensor* m = net->add_reduce(in, ReduceOperation::kAVG, 4u, true)->output(0);
    Tensor* d = net->add_elementwise(in, m, E::kSUB)->output(0);
    Tensor* sq = net->add_elementwise(d, sc(2.0f), E::kPOW)->output(0);
    Tensor* v = net->add_reduce(sq, ReduceOperation::kAVG, 4u, true)->output(0);
    Tensor* s = net->add_unary(net->add_elementwise(v, sc(1e-5f), E::kSUM)->output(0),
                               UnaryOperation::kSQRT)
                    ->output(0);
    Tensor* n = net->add_elementwise(d, s, E::kDIV)->output(0);
    n = net->add_elementwise(n, weights_const(*net, {1, 1, e}, seed++, 0.8, 1.2), E::kPROD)
            ->output(0);
    return net->add_elementwise(n, weights_const(*net, {1, 1, e}, seed++, -0.1, 0.1), E::kSUM)
        ->output(0);
  };
  // Single-head attention: softmax(q k^T / sqrt(e)) v, k^T through two transposes.
  Tensor* q = linear(x, e, e);
  Tensor* k = linear(x, e, e);
  Tensor* v = linear(x, e, e);
  ShuffleAttrs t1, t2;
  t1.first_transpose = {1, 0, 2};  // [5, B, e]
  t2.first_transpose = {1, 2, 0};  // [B, e, 5]
  Tensor* kt = net->add_shuffle(net->add_shuffle(k, t1)->output(0), t2)->output(0);
  Tensor* s =
      net->add_matrix_multiply(q, MatrixOperation::kNONE, kt, MatrixOperation::kNONE)->output(0);
  s = net->add_elementwise(s, sc(std::sqrt(float(e))), E::kDIV)->output(0);
  Tensor* mx = net->add_reduce(s, ReduceOperation::kMAX, 4u, true)->output(0);
  Tensor* ex = net->add_unary(net->add_elementwise(s, mx, E::kSUB)->output(0), UnaryOperation::kEXP)
                   ->output(0);
  Tensor* p = net->add_elementwise(
                     ex, net->add_reduce(ex, ReduceOperation::kSUM, 4u, true)->output(0), E::kDIV)
                  ->output(0);
  Tensor* c =
      net->add_matrix_multiply(p, MatrixOperation::kNONE, v, MatrixOperation::kNONE)->output(0);
  Tensor* x1 = layer_norm(net->add_elementwise(x, linear(c, e, e), E::kSUM)->output(0));
  Tensor* h = linear(x1, e, f);
  Tensor* erf = net->add_unary(net->add_elementwise(h, sc(std::sqrt(2.0f)), E::kDIV)->output(0),
                               UnaryOperation::kERF)
                    ->output(0);
  Tensor* g =
      net->add_elementwise(net->add_elementwise(h, sc(0.5f), E::kPROD)->output(0),
                           net->add_elementwise(erf, sc(1.0f), E::kSUM)->output(0), E::kPROD)
          ->output(0);
  Tensor* y = layer_norm(net->add_elementwise(x1, linear(g, f, e), E::kSUM)->output(0));
  y->set_name("y");
  net->mark_output(y);
  return net;
}

BuilderConfig batch_profile(const Dims& min, const Dims& opt, const Dims& max) {
  BuilderConfig c;
  OptimizationProfile p;
  p.set_dimensions("x", min, opt, max);
  c.profiles.push_back(p);
  return c;
}

// Every pass that should fire on `net` did (by the report's statistics).
void expect_rewrites(const Engine& engine, const std::vector<std::string>& passes) {
  for (const std::string& name : passes) {
    bool found = false;
    for (const PassStatistics& s : engine.build_report().passes)
      if (s.pass == name) found = s.rewrites > 0;
    EXPECT_TRUE(found) << name << " made no rewrite:\n" << engine.build_report().to_string();
  }
}

TEST(Optimize, ResNetBlockMatchesUnoptimizedAtMinOptMax) {
  auto net = resnet_block();
  BuilderConfig cfg = batch_profile({1, 4, 6, 6}, {2, 4, 6, 6}, {3, 4, 6, 6});
  const std::string before = net->to_string();
  auto engine = Builder::build(*net, cfg);
  EXPECT_EQ(net->to_string(), before) << "the user's network changed";
  expect_rewrites(*engine, {"eliminate_dead_layers", "eliminate_no_ops", "fuse_conv_bias"});
  // Both convolutions absorbed their Scale (and the first its bias add).
  int convs = 0, others = 0;
  for (int i = 0; i < engine->network().num_layers(); ++i) {
    LayerKind k = engine->network().layer(i)->kind();
    convs += k == LayerKind::kCONVOLUTION;
    others += k == LayerKind::kSCALE || k == LayerKind::kIDENTITY || k == LayerKind::kUNARY;
  }
  EXPECT_EQ(convs, 2);
  EXPECT_EQ(others, 0) << engine->network().to_string();
  // Two 3x3 convolutions over 4 channels: 36 products each; tolerance scaled by sqrt(36 * 36).
  for (int64_t b : {1, 2, 3})
    expect_optimized_matches(*net, {random(DataType::kFLOAT, {b, 4, 6, 6}, uint64_t(b))}, 36.0,
                             cfg);
}

TEST(Optimize, TransformerLayerMatchesUnoptimizedAtMinOptMax) {
  auto net = transformer_layer();
  BuilderConfig cfg = batch_profile({1, 5, 8}, {2, 5, 8}, {4, 5, 8});
  auto engine = Builder::build(*net, cfg);
  expect_rewrites(*engine, {"merge_shuffles", "recognize_patterns"});
  int norms = 0, gelus = 0, softmaxes = 0;
  for (int i = 0; i < engine->network().num_layers(); ++i) {
    const Layer* l = engine->network().layer(i);
    norms += l->kind() == LayerKind::kNORMALIZATION;
    softmaxes += l->kind() == LayerKind::kSOFTMAX;
    gelus += l->kind() == LayerKind::kACTIVATION &&
             l->attrs<ActivationAttrs>().type == ActivationType::kGELU_ERF;
  }
  EXPECT_EQ(norms, 2) << engine->network().to_string();
  EXPECT_EQ(gelus, 1);
  EXPECT_EQ(softmaxes, 1);
  // Accumulations: projections over K = 8 and 16, attention over 5: scaled by sqrt(16 * 8).
  for (int64_t b : {1, 2, 4})
    expect_optimized_matches(*net, {random(DataType::kFLOAT, {b, 5, 8}, uint64_t(b), -1, 1)},
                             std::sqrt(16.0 * 8.0), cfg);
}

TEST(Optimize, LevelZeroRunsNoPass) {
  auto net = resnet_block();
  BuilderConfig cfg = batch_profile({1, 4, 6, 6}, {2, 4, 6, 6}, {3, 4, 6, 6});
  cfg.optimization_level = 0;
  auto engine = Builder::build(*net, cfg);
  EXPECT_EQ(engine->network().to_string(), net->to_string());
  EXPECT_TRUE(engine->build_report().passes.empty());
  EXPECT_TRUE(engine->build_report().records.empty());
  cfg.optimization_level = 7;
  expect_error([&] { Builder::build(*net, cfg); }, {"optimization_level is 7"});
}

TEST(Optimize, ReportNamesTheOriginalLayers) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* i = named(net.add_identity(x), "copy");
  net.mark_output(named(net.add_unary(i, UnaryOperation::kABS), "y"));
  auto engine = Builder::build(net, {});
  const BuildReport& r = engine->build_report();
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].pass, "eliminate_no_ops");
  EXPECT_EQ(r.records[0].layer, "copy");
  EXPECT_NE(r.to_string().find("eliminate_no_ops: copy: Identity removed"), std::string::npos)
      << r.to_string();
}

TEST(Optimize, MemoryPlanReusesBuffersOfAChain) {
  // x[-1, 256] -> 6 unary layers: at most two activations are alive at once, so two slots of
  // opt-shape size hold all six.
  Network net;
  Tensor* h = net.add_input("x", DataType::kFLOAT, {-1, 256});
  for (int k = 0; k < 6; ++k)
    h = net.add_unary(h, k % 2 ? UnaryOperation::kABS : UnaryOperation::kNEG)->output(0);
  net.mark_output(h);
  BuilderConfig cfg = batch_profile({1, 256}, {4, 256}, {8, 256});
  auto engine = Builder::build(net, cfg);
  const MemoryPlan& plan = engine->memory_plan();
  const int64_t one = 4 * 256 * 4;  // opt batch 4, float32
  EXPECT_EQ(plan.peak_bytes_unplanned, 6 * one);
  EXPECT_EQ(plan.peak_bytes_planned, 2 * one);
  ASSERT_EQ(plan.assignments.size(), 6u);
  for (size_t k = 0; k < 6; ++k) EXPECT_EQ(plan.assignments[k].slot, int(k % 2));
}

TEST(Optimize, MemoryPlanKeepsOutputsAndBranchesAlive) {
  // a = -x, b = |a|, c = a + b: a is read last by c, so a, b and c need three slots.
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {16});
  Tensor* a = net.add_unary(x, UnaryOperation::kNEG)->output(0);
  Tensor* b = net.add_unary(a, UnaryOperation::kABS)->output(0);
  net.mark_output(net.add_elementwise(a, b, E::kSUM)->output(0));
  auto engine = Builder::build(net, {});
  EXPECT_EQ(engine->memory_plan().peak_bytes_unplanned, 3 * 64);
  EXPECT_EQ(engine->memory_plan().peak_bytes_planned, 3 * 64);
}

}  // namespace
}  // namespace lktest
