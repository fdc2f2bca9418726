// CPU reference kernels of Normalization and SoftMax against ATen, per float type and shape.
#include <cmath>

#include "test_util.h"

namespace lktest {
namespace {

// References run in float on the same-typed inputs and round to the type at the end, which is
// what ATen does for half/bf16 (and what our kernels do).
at::Tensor f32(const at::Tensor& t) {
  return t.to(at::kFloat);
}

at::Tensor run_norm(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& bias,
                    const NormalizationAttrs& a) {
  Network net;
  Tensor* in = net.add_input("x", from_aten(x.scalar_type()), dims_of(x));
  Layer* l = net.add_normalization(in, constant(net, scale), constant(net, bias), a);
  net.mark_output(l->output(0));
  return run1(net, {x});
}

TEST(NormalizationKernel, LayerNormMatchesAten) {
  for (DataType t : kFloatTypes) {
    SCOPED_TRACE(data_type_name(t));
    at::Tensor x = random(t, {2, 3, 5, 7}, 1);
    at::Tensor g = random(t, {1, 1, 5, 7}, 2), b = random(t, {1, 1, 5, 7}, 3);
    NormalizationAttrs a;
    a.axes = 0b1100;
    a.epsilon = 1e-3f;
    at::Tensor want =
        at::layer_norm(f32(x), {5, 7}, f32(g).reshape({5, 7}), f32(b).reshape({5, 7}), 1e-3)
            .to(x.scalar_type());
    // Mean and variance accumulate over K = 35 elements: tolerance scale sqrt(K).
    expect_close(run_norm(x, g, b, a), want, std::sqrt(35.0));
  }
}

TEST(NormalizationKernel, InstanceNormMatchesAten) {
  for (DataType t : kFloatTypes) {
    SCOPED_TRACE(data_type_name(t));
    at::Tensor x = random(t, {3, 4, 6, 5}, 4, -3.0, 5.0);
    at::Tensor g = random(t, {1, 4, 1, 1}, 5), b = random(t, {1, 4, 1, 1}, 6);
    NormalizationAttrs a;
    a.axes = 0b1100;
    at::Tensor want = at::instance_norm(f32(x), f32(g).flatten(), f32(b).flatten(), {}, {},
                                        /*use_input_stats=*/true, 0.1, 1e-5, false)
                          .to(x.scalar_type());
    // Accumulates over K = 30 elements: tolerance scale sqrt(K).
    expect_close(run_norm(x, g, b, a), want, std::sqrt(30.0));
  }
}

TEST(NormalizationKernel, GroupNormPerChannelAffineMatchesAten) {
  for (DataType t : kFloatTypes) {
    SCOPED_TRACE(data_type_name(t));
    at::Tensor x = random(t, {2, 6, 3, 5}, 7);
    at::Tensor g = random(t, {1, 6, 1, 1}, 8), b = random(t, {1, 6, 1, 1}, 9);
    NormalizationAttrs a;
    a.axes = 0b1100;
    a.num_groups = 3;
    at::Tensor want =
        at::group_norm(f32(x), 3, f32(g).flatten(), f32(b).flatten(), 1e-5).to(x.scalar_type());
    // Each group accumulates K = 2 * 15 elements: tolerance scale sqrt(K).
    expect_close(run_norm(x, g, b, a), want, std::sqrt(30.0));
  }
}

TEST(NormalizationKernel, GroupNormPerGroupAffineMatchesAten) {
  // TensorRT 8.6 documents scale/bias of shape [1, G, 1, ...]: one value per group.
  for (DataType t : kFloatTypes) {
    SCOPED_TRACE(data_type_name(t));
    at::Tensor x = random(t, {2, 8, 3, 3}, 10);
    at::Tensor g = random(t, {1, 2, 1, 1}, 11), b = random(t, {1, 2, 1, 1}, 12);
    NormalizationAttrs a;
    a.axes = 0b1100;
    a.num_groups = 2;
    at::Tensor norm = at::group_norm(f32(x), 2, {}, {}, 1e-5);
    at::Tensor want = (norm * f32(g).repeat_interleave(4, 1) + f32(b).repeat_interleave(4, 1))
                          .to(x.scalar_type());
    // Each group accumulates K = 4 * 9 elements: tolerance scale sqrt(K).
    expect_close(run_norm(x, g, b, a), want, std::sqrt(36.0));
  }
}

TEST(NormalizationKernel, GroupNormWithoutSpatialAxesMatchesAten) {
  // Rank 2 and axes 0: statistics over each group's channels only.
  at::Tensor x = random(DataType::kFLOAT, {3, 12}, 13);
  at::Tensor g = random(DataType::kFLOAT, {1, 12}, 14), b = random(DataType::kFLOAT, {1, 12}, 15);
  NormalizationAttrs a;
  a.axes = 0;
  a.num_groups = 4;
  at::Tensor want = at::group_norm(x, 4, g.flatten(), b.flatten(), 1e-5);
  expect_close(run_norm(x, g, b, a), want);
}

TEST(NormalizationKernel, ArbitraryAxesMatchMeanVarFormula) {
  for (DataType t : kFloatTypes) {
    SCOPED_TRACE(data_type_name(t));
    // Normalize over axes 0 and 3 with a per-axis-1 scale and an elementwise bias.
    at::Tensor x = random(t, {3, 4, 1, 5}, 16);
    at::Tensor g = random(t, {1, 4, 1, 1}, 17), b = random(t, {3, 4, 1, 5}, 18);
    NormalizationAttrs a;
    a.axes = 0b1001;
    a.epsilon = 1e-2f;
    at::Tensor xd = x.to(at::kDouble);
    at::Tensor mean = xd.mean(std::vector<int64_t>{0, 3}, true);
    at::Tensor var = (xd - mean).pow(2).mean(std::vector<int64_t>{0, 3}, true);
    at::Tensor want = ((xd - mean) / at::sqrt(var + 1e-2) * g.to(at::kDouble) + b.to(at::kDouble))
                          .to(at::kFloat)
                          .to(x.scalar_type());
    expect_close(run_norm(x, g, b, a), want);
  }
}

TEST(NormalizationKernel, DynamicShapesAtMinOptMax) {
  Network net;
  Tensor* in = net.add_input("x", DataType::kFLOAT, {-1, 4, -1});
  at::Tensor g = random(DataType::kFLOAT, {1, 4, 1}, 20),
             b = random(DataType::kFLOAT, {1, 4, 1}, 21);
  NormalizationAttrs a;
  a.axes = 0b100;
  Layer* l = net.add_normalization(in, constant(net, g), constant(net, b), a);
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 4, -1}));
  net.mark_output(l->output(0));
  BuilderConfig config;
  config.profiles.emplace_back();
  config.profiles[0].set_dimensions("x", {1, 4, 1}, {2, 4, 6}, {3, 4, 11});
  Runner runner(net, config);
  int seed = 22;
  for (std::vector<int64_t> shape : {std::vector<int64_t>{1, 4, 1}, {2, 4, 6}, {3, 4, 11}}) {
    at::Tensor x = random(DataType::kFLOAT, shape, seed++);
    at::Tensor want =
        at::instance_norm(x, g.flatten(), b.flatten(), {}, {}, true, 0.1, 1e-5, false);
    // Accumulates over up to K = 11 elements: tolerance scale sqrt(K).
    expect_close(runner.run({x}).at(0), want, std::sqrt(11.0));
  }
}

at::Tensor run_softmax(const at::Tensor& x, AxesMask axes) {
  Network net;
  Tensor* in = net.add_input("x", from_aten(x.scalar_type()), dims_of(x));
  net.mark_output(net.add_softmax(in, axes)->output(0));
  return run1(net, {x});
}

TEST(SoftMaxKernel, MatchesAtenOnEveryAxis) {
  for (DataType t : kFloatTypes) {
    SCOPED_TRACE(data_type_name(t));
    at::Tensor x = random(t, {3, 1, 4, 5}, 30, -4.0, 4.0);
    for (int d = 0; d < 4; ++d) {
      SCOPED_TRACE(d);
      expect_close(run_softmax(x, 1u << d), at::softmax(f32(x), d).to(x.scalar_type()));
    }
    // Mask 0 means the last axis.
    expect_close(run_softmax(x, 0), at::softmax(f32(x), 3).to(x.scalar_type()));
  }
}

TEST(SoftMaxKernel, LargeInputsStayFinite) {
  // exp(1000) overflows float: only a max-subtracting softmax gets these right.
  at::Tensor x = random(DataType::kFLOAT, {2, 7}, 31, 900.0, 1000.0);
  at::Tensor y = run_softmax(x, 2);
  EXPECT_TRUE(at::isfinite(y).all().item<bool>());
  expect_close(y, at::softmax(x, 1));
}

TEST(SoftMaxKernel, DynamicShapesAtMinOptMax) {
  Network net;
  Tensor* in = net.add_input("x", DataType::kHALF, {-1, -1});
  net.mark_output(net.add_softmax(in, 1u << 1)->output(0));
  BuilderConfig config;
  config.profiles.emplace_back();
  config.profiles[0].set_dimensions("x", {1, 1}, {3, 8}, {5, 17});
  Runner runner(net, config);
  int seed = 32;
  for (std::vector<int64_t> shape : {std::vector<int64_t>{1, 1}, {3, 8}, {5, 17}}) {
    at::Tensor x = random(DataType::kHALF, shape, seed++);
    expect_close(runner.run({x}).at(0), at::softmax(f32(x), 1).to(at::kHalf));
  }
}

}  // namespace
}  // namespace lktest
