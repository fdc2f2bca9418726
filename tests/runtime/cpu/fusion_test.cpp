// Fusion groups of the CPU executor (Note [Fusion groups]): which layers fuse, the fused results
// against the reference kernels run layer by layer, and the fallback when shapes forbid fusing.
#include <cmath>

#include "kernel_names.h"
#include "test_util.h"

namespace lktest {
namespace {

Dims dims(const std::vector<int64_t>& v) {
  return Dims(std::span<const int64_t>(v));
}

Weights weights_of(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return Weights::copy(DataType::kFLOAT, c.data_ptr(), c.numel());
}

// Runs `net` with the fast lists (fusion on) and with reference kernels only (no fusion), both at
// optimization level 0 so the network is the one built here, over each input set; compares
// every output and returns the fast runner for inspection of what ran.
struct Fused {
  std::unique_ptr<Runner> fast;
};
Fused compare(const Network& net, const std::vector<std::vector<at::Tensor>>& input_sets,
              double scale, BuilderConfig cfg = {}) {
  Fused f{std::make_unique<Runner>(net, cfg, 0)};
  cfg.reference_kernels_only = true;
  Runner ref(net, cfg, 0);
  for (const auto& inputs : input_sets) {
    std::vector<at::Tensor> a = f.fast->run(inputs), b = ref.run(inputs);
    EXPECT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) expect_close(a[i], b[i], scale);
  }
  return f;
}

std::string impl(Fused& f, const Layer* l) {
  return f.fast->context().layer_implementation(l->name());
}

TEST(Fusion, ConvolutionWithResidualAddAndReluIsOneOneDnnPrimitive) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, dims({2, 8, 10, 10}));
  Tensor* r = net.add_input("r", DataType::kFLOAT, dims({2, 16, 10, 10}));
  ConvolutionAttrs a;
  a.num_output_maps = 16;
  a.kernel_size = dims({3, 3});
  a.pre_padding = dims({1, 1});
  a.post_padding = dims({1, 1});
  a.kernel = weights_of(random(DataType::kFLOAT, {16, 8, 3, 3}, 1, -0.5, 0.5));
  a.bias = weights_of(random(DataType::kFLOAT, {16}, 2));
  Layer* conv = net.add_convolution_nd(x, a);
  Layer* add = net.add_elementwise(conv->output(0), r, ElementWiseOperation::kSUM);
  Layer* relu = net.add_activation(add->output(0), ActivationType::kRELU);
  net.mark_output(relu->output(0));
  Fused f = compare(
      net,
      {{random(DataType::kFLOAT, {2, 8, 10, 10}, 3), random(DataType::kFLOAT, {2, 16, 10, 10}, 4)}},
      std::sqrt(8.0 * 9.0));
  // oneDNN takes the add and relu as post-ops, or (a gemm-based convolution, which applies binary
  // post-ops slowly) the vectorized chain applies both after it.
  const std::string fused = " fused with '" + add->name() + "', '" + relu->name() + "'";
  EXPECT_TRUE(impl(f, conv) == onednn_or("-") + fused ||
              impl(f, conv) == onednn_or("reference") + " + vectorized chain" + fused)
      << impl(f, conv);
  EXPECT_EQ(impl(f, add), "fused into '" + conv->name() + "'");
  EXPECT_EQ(impl(f, relu), "fused into '" + conv->name() + "'");
}

TEST(Fusion, MatrixMultiplyWithBiasAndGelu) {
  for (ActivationType act :
       {ActivationType::kGELU_ERF, ActivationType::kGELU_TANH, ActivationType::kSIGMOID,
        ActivationType::kTANH, ActivationType::kLEAKY_RELU, ActivationType::kSOFTPLUS}) {
    SCOPED_TRACE(static_cast<int>(act));
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, dims({-1, 16, 32}));
    Tensor* w = constant(net, random(DataType::kFLOAT, {1, 32, 64}, 5, -0.3, 0.3));
    Tensor* b = constant(net, random(DataType::kFLOAT, {1, 1, 64}, 6));
    Layer* mm = net.add_matrix_multiply(x, MatrixOperation::kNONE, w, MatrixOperation::kNONE);
    Layer* add = net.add_elementwise(mm->output(0), b, ElementWiseOperation::kSUM);
    Layer* g = net.add_activation(add->output(0), act, 0.1f, 1.0f);
    net.mark_output(g->output(0));
    BuilderConfig cfg;
    OptimizationProfile p;
    p.set_dimensions("x", dims({1, 16, 32}), dims({2, 16, 32}), dims({4, 16, 32}));
    cfg.profiles.push_back(p);
    Fused f = compare(net,
                      {{random(DataType::kFLOAT, {1, 16, 32}, 7)},
                       {random(DataType::kFLOAT, {4, 16, 32}, 8)},
                       {random(DataType::kFLOAT, {2, 16, 32}, 9)}},
                      std::sqrt(32.0), cfg);
    // Softplus has no oneDNN post-op: the vectorized chain applies both steps after the product.
    // (Without oneDNN the reference product and the chain.)
    const std::string how = act == ActivationType::kSOFTPLUS
                                ? onednn_or("reference") + " + vectorized chain"
                                : onednn_or("reference + vectorized chain");
    EXPECT_EQ(impl(f, mm), how + " fused with '" + add->name() + "', '" + g->name() + "'");
  }
}

TEST(Fusion, ConvolutionTakesLeadingActivationsAsPostOps) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, dims({2, 4, 9, 9}));
  ConvolutionAttrs a;
  a.num_output_maps = 8;
  a.kernel_size = dims({3, 3});
  a.kernel = weights_of(random(DataType::kFLOAT, {8, 4, 3, 3}, 40, -0.5, 0.5));
  Layer* conv = net.add_convolution_nd(x, a);
  Layer* relu = net.add_activation(conv->output(0), ActivationType::kRELU);
  Tensor* s = constant(net, random(DataType::kFLOAT, {1, 8, 1, 1}, 41));
  Layer* mul = net.add_elementwise(relu->output(0), s, ElementWiseOperation::kPROD);
  Layer* sp = net.add_activation(mul->output(0), ActivationType::kSOFTPLUS, 1.0f, 1.0f);
  net.mark_output(sp->output(0));
  Fused f = compare(net, {{random(DataType::kFLOAT, {2, 4, 9, 9}, 42)}}, std::sqrt(4.0 * 9.0));
  // Softplus has no oneDNN post-op: at most relu and the per-channel product go into the
  // primitive, and the chain applies what is left.
  EXPECT_EQ(impl(f, conv), onednn_or("reference") + " + vectorized chain fused with '" +
                               relu->name() + "', '" + mul->name() + "', '" + sp->name() + "'");
}

// Leaky ReLU then ReLU after a convolution: oneDNN (2.x) applied the second ReLU post-op with the
// first one's alpha, so negative values came out (found by random_networks, seed 12, network
// 10017). Each ReLU with its own alpha after the first stays out of the primitive.
TEST(Fusion, ConvolutionWithLeakyReluThenRelu) {
  for (const bool relu_last : {true, false}) {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, dims({7, 2, 1, 8}));
    ConvolutionAttrs a;
    a.num_output_maps = 4;
    a.kernel_size = dims({1, 3});
    a.pre_padding = dims({1, 1});
    a.post_padding = dims({1, 1});
    a.kernel = weights_of(random(DataType::kFLOAT, {4, 2, 1, 3}, 43, -0.5, 0.5));
    Layer* conv = net.add_convolution_nd(x, a);
    Layer* first = relu_last
                       ? net.add_activation(conv->output(0), ActivationType::kLEAKY_RELU, 0.125f)
                       : net.add_activation(conv->output(0), ActivationType::kRELU);
    Layer* second = relu_last
                        ? net.add_activation(first->output(0), ActivationType::kRELU)
                        : net.add_activation(first->output(0), ActivationType::kLEAKY_RELU, 0.125f);
    net.mark_output(second->output(0));
    const at::Tensor in = random(DataType::kFLOAT, {7, 2, 1, 8}, 44);
    Fused f = compare(net, {{in}}, std::sqrt(2.0 * 3.0));
    if (relu_last) {
      EXPECT_GE(f.fast->run({in})[0].min().item<float>(), 0.0f);
    }
  }
}

TEST(Fusion, ConvolutionUnderAReversedSubtractionUsesTheVectorizedChain) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, dims({1, 4, 6, 6}));
  ConvolutionAttrs a;
  a.num_output_maps = 8;
  a.kernel_size = dims({1, 1});
  a.kernel = weights_of(random(DataType::kFLOAT, {8, 4, 1, 1}, 10));
  Layer* conv = net.add_convolution_nd(x, a);
  Tensor* c = constant(net, random(DataType::kFLOAT, {1, 8, 1, 1}, 11));
  Layer* sub = net.add_elementwise(c, conv->output(0), ElementWiseOperation::kSUB);  // c - conv
  net.mark_output(sub->output(0));
  Fused f = compare(net, {{random(DataType::kFLOAT, {1, 4, 6, 6}, 12)}}, 2.0);
  EXPECT_EQ(impl(f, conv),
            onednn_or("reference") + " + vectorized chain fused with '" + sub->name() + "'");
}

TEST(Fusion, PointwiseChainRunsAsOneKernelWithEveryBroadcastForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, dims({3, 5, 70}));
  Tensor* y = net.add_input("y", DataType::kFLOAT, dims({3, 5, 70}));
  Layer* sig = net.add_activation(x, ActivationType::kSIGMOID);
  Layer* mul = net.add_elementwise(sig->output(0), y, ElementWiseOperation::kPROD);
  Tensor* last_axis = constant(net, random(DataType::kFLOAT, {1, 1, 70}, 13));
  Layer* sub = net.add_elementwise(last_axis, mul->output(0), ElementWiseOperation::kSUB);
  Tensor* middle = constant(net, random(DataType::kFLOAT, {1, 5, 1}, 14, 0.5, 2.0));
  Layer* div = net.add_elementwise(sub->output(0), middle, ElementWiseOperation::kDIV);
  Tensor* one = constant(net, random(DataType::kFLOAT, {1, 1, 1}, 15));
  Layer* add = net.add_elementwise(one, div->output(0), ElementWiseOperation::kSUM);
  Layer* tanh = net.add_activation(add->output(0), ActivationType::kTANH);
  Layer* clip = net.add_activation(tanh->output(0), ActivationType::kCLIP, -0.5f, 0.5f);
  net.mark_output(clip->output(0));
  Fused f = compare(
      net, {{random(DataType::kFLOAT, {3, 5, 70}, 16), random(DataType::kFLOAT, {3, 5, 70}, 17)}},
      1.0);
  EXPECT_EQ(impl(f, sig), "vectorized chain fused with '" + mul->name() + "', '" + sub->name() +
                              "', '" + div->name() + "', '" + add->name() + "', '" + tanh->name() +
                              "', '" + clip->name() + "'");
}

TEST(Fusion, ElementWiseAnchorTakesTheOperandThatCoversTheOutput) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, dims({4, 1}));
  Tensor* y = net.add_input("y", DataType::kFLOAT, dims({4, 9}));
  Layer* div = net.add_elementwise(x, y, ElementWiseOperation::kDIV);  // x broadcasts: x / y
  Layer* relu = net.add_activation(div->output(0), ActivationType::kRELU);
  net.mark_output(relu->output(0));
  Fused f = compare(
      net, {{random(DataType::kFLOAT, {4, 1}, 18), random(DataType::kFLOAT, {4, 9}, 19, 0.5, 2.0)}},
      1.0);
  EXPECT_EQ(impl(f, div), "vectorized chain fused with '" + relu->name() + "'");
}

// relu(x) + y with x [1..3, 6] and y [3, 6]: at x [1, 6] the side operand widens the chain.
struct Widening {
  Network net;
  Layer* relu = nullptr;
  Layer* add = nullptr;
  BuilderConfig cfg;
  Widening() {
    Tensor* x = net.add_input("x", DataType::kFLOAT, dims({-1, 6}));
    Tensor* y = net.add_input("y", DataType::kFLOAT, dims({3, 6}));
    relu = net.add_activation(x, ActivationType::kRELU);
    add = net.add_elementwise(relu->output(0), y, ElementWiseOperation::kSUM);
    net.mark_output(add->output(0));
    OptimizationProfile p;
    p.set_dimensions("x", dims({1, 6}), dims({3, 6}), dims({3, 6}));
    cfg.profiles.push_back(p);
  }
};

TEST(Fusion, ASideOperandThatWidensTheChainRunsTheLayersOneByOne) {
  Widening w;
  Network& net = w.net;
  Layer *relu = w.relu, *add = w.add;
  BuilderConfig cfg = w.cfg;
  at::Tensor yv = random(DataType::kFLOAT, {3, 6}, 20);
  // [1, 6] + [3, 6]: the chain would widen, so the group runs unfused; [3, 6]: fused.
  Fused f = compare(net, {{random(DataType::kFLOAT, {1, 6}, 21), yv}}, 1.0, cfg);
  EXPECT_EQ(impl(f, relu), "vectorized");
  EXPECT_EQ(impl(f, add), "vectorized");
  f.fast->run({random(DataType::kFLOAT, {3, 6}, 22), yv});
  EXPECT_EQ(impl(f, relu), "vectorized chain fused with '" + add->name() + "'");
  // Back to the widening shape: unfused again, and still right.
  at::Tensor x1 = random(DataType::kFLOAT, {1, 6}, 23);
  at::Tensor got = f.fast->run({x1, yv}).at(0);
  expect_close(got, at::relu(x1) + yv);
  EXPECT_EQ(impl(f, add), "vectorized");
}

TEST(Fusion, UnfusedRunsProfileEachLayer) {
  Widening w;
  Layer *relu = w.relu, *add = w.add;
  Runner r(w.net, w.cfg, 0);
  r.context().set_profiling(true);
  at::Tensor yv = random(DataType::kFLOAT, {3, 6}, 50);
  r.run({random(DataType::kFLOAT, {1, 6}, 51), yv});  // widening: the layers run one by one
  std::vector<LayerProfile> prof = r.context().profile();
  ASSERT_EQ(prof.size(), 2u);
  EXPECT_EQ(prof[0].name, relu->name());
  EXPECT_EQ(prof[1].name, add->name());
  r.run({random(DataType::kFLOAT, {3, 6}, 52), yv});  // fused: one more run on the anchor only
  prof = r.context().profile();
  ASSERT_EQ(prof.size(), 2u);
  EXPECT_EQ(prof[0].calls, 2);
  EXPECT_EQ(prof[1].calls, 1);
  EXPECT_EQ(prof[0].implementation, "vectorized chain fused with '" + add->name() + "'");
}

TEST(Fusion, ObservableIntermediatesStopTheChain) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, dims({2, 8}));
  Layer* a = net.add_activation(x, ActivationType::kSIGMOID);
  Layer* b = net.add_activation(a->output(0), ActivationType::kRELU);  // a's output is an output
  Layer* c = net.add_activation(b->output(0), ActivationType::kTANH);
  Layer* d1 = net.add_elementwise(c->output(0), c->output(0), ElementWiseOperation::kPROD);
  net.mark_output(a->output(0));
  net.mark_output(d1->output(0));
  Fused f = compare(net, {{random(DataType::kFLOAT, {2, 8}, 24)}}, 1.0);
  // a: a network output, so nothing fuses after it. b -> c fuse. c's output has two reads (both
  // inputs of d1), so d1 stays alone.
  EXPECT_EQ(impl(f, a), "vectorized");
  EXPECT_EQ(impl(f, b), "vectorized chain fused with '" + c->name() + "'");
  EXPECT_EQ(impl(f, d1), "vectorized");
}

TEST(Fusion, NonFloatChainsAndReferenceOnlyEnginesDoNotFuse) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kHALF, dims({2, 8}));
  Layer* a = net.add_activation(x, ActivationType::kRELU);
  Layer* b = net.add_activation(a->output(0), ActivationType::kTANH);
  net.mark_output(b->output(0));
  Fused f = compare(net, {{random(DataType::kHALF, {2, 8}, 25)}}, 1.0);
  EXPECT_EQ(impl(f, a), "reference");

  Network net32;
  Tensor* x32 = net32.add_input("x", DataType::kFLOAT, dims({2, 8}));
  Layer* a32 = net32.add_activation(x32, ActivationType::kRELU);
  net32.mark_output(net32.add_activation(a32->output(0), ActivationType::kTANH)->output(0));
  BuilderConfig ref;
  ref.reference_kernels_only = true;
  Runner r(net32, ref, 0);
  r.run({random(DataType::kFLOAT, {2, 8}, 26)});
  EXPECT_EQ(r.context().layer_implementation(a32->name()), "reference");
}

TEST(Fusion, ProfileShowsTheGroupOnItsAnchor) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, dims({4, 16}));
  Layer* a = net.add_activation(x, ActivationType::kSIGMOID);
  Layer* b = net.add_activation(a->output(0), ActivationType::kRELU);
  net.mark_output(b->output(0));
  Runner r(net, {}, 0);
  r.context().set_profiling(true);
  r.run({random(DataType::kFLOAT, {4, 16}, 27)});
  std::vector<LayerProfile> prof = r.context().profile();
  ASSERT_EQ(prof.size(), 1u);
  EXPECT_EQ(prof[0].name, a->name());
  EXPECT_EQ(prof[0].calls, 1);
  EXPECT_EQ(prof[0].implementation, "vectorized chain fused with '" + b->name() + "'");
}

// Buffers are reused once their last reader ran; a network whose tensors die at different points
// (a residual kept alive across a chain) gives the same results over repeated runs and shapes.
TEST(Fusion, ReusedBuffersKeepResultsAcrossRunsAndShapes) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, dims({-1, 32}));
  Tensor* w = constant(net, random(DataType::kFLOAT, {32, 32}, 28, -0.3, 0.3));
  Tensor* h = x;
  for (int i = 0; i < 4; ++i) {
    Layer* mm = net.add_matrix_multiply(h, MatrixOperation::kNONE, w, MatrixOperation::kNONE);
    Layer* sm = net.add_softmax(mm->output(0), 2);
    Layer* res = net.add_elementwise(sm->output(0), h, ElementWiseOperation::kSUM);
    h = net.add_activation(res->output(0), ActivationType::kTANH)->output(0);
  }
  net.mark_output(h);
  BuilderConfig cfg;
  OptimizationProfile p;
  p.set_dimensions("x", dims({1, 32}), dims({8, 32}), dims({64, 32}));
  cfg.profiles.push_back(p);
  compare(net,
          {{random(DataType::kFLOAT, {8, 32}, 29)},
           {random(DataType::kFLOAT, {64, 32}, 30)},
           {random(DataType::kFLOAT, {1, 32}, 31)},
           {random(DataType::kFLOAT, {8, 32}, 32)}},
          std::sqrt(32.0), cfg);
}

}  // namespace
}  // namespace lktest
