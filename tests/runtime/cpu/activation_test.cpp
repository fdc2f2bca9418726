// ATen comparisons of the Activation, ParametricReLU and Scale reference kernels.
#include "test_util.h"

namespace lktest {
namespace {

using A = ActivationType;

std::string name_of(DataType t, std::string_view what) {
  return std::string(what) + " " + std::string(data_type_name(t));
}

// ATen's semantics for reduced-precision floats: compute in float, round to the input type.
at::Tensor in_float(const at::Tensor& x, const std::function<at::Tensor(const at::Tensor&)>& f) {
  if (x.scalar_type() == at::kHalf || x.scalar_type() == at::kBFloat16)
    return f(x.to(at::kFloat)).to(x.scalar_type());
  return f(x);
}

at::Tensor run_activation(const at::Tensor& x, A type, float alpha, float beta) {
  Network net;
  Tensor* in = net.add_input("x", from_aten(x.scalar_type()), dims_of(x));
  net.mark_output(net.add_activation(in, type, alpha, beta)->output(0));
  return run1(net, {x});
}

struct ActCase {
  A type;
  float alpha, beta;
  std::function<at::Tensor(const at::Tensor&)> ref;
};

// TensorRT's standard SELU constants (the values at::selu uses).
constexpr float kSeluAlpha = 1.6732632423543772f;
constexpr float kSeluScale = 1.0507009873554805f;

const std::vector<ActCase>& act_cases() {
  static const std::vector<ActCase> cases = {
      {A::kRELU, 0, 0, [](auto& x) { return at::relu(x); }},
      {A::kSIGMOID, 0, 0, [](auto& x) { return at::sigmoid(x); }},
      {A::kTANH, 0, 0, [](auto& x) { return at::tanh(x); }},
      {A::kLEAKY_RELU, 0.1f, 0, [](auto& x) { return at::leaky_relu(x, 0.1f); }},
      {A::kELU, 0.7f, 0, [](auto& x) { return at::elu(x, 0.7f); }},
      {A::kSELU, kSeluAlpha, kSeluScale, [](auto& x) { return at::selu(x); }},
      {A::kSOFTSIGN, 0, 0, [](auto& x) { return at::div(x, at::abs(x) + 1); }},
      // alpha * log(exp(beta x) + 1) = alpha * beta * softplus_beta(x); threshold far above
      // the inputs so ATen's linear cut-off never applies.
      {A::kSOFTPLUS, 1.5f, 2.0f,
       [](auto& x) { return at::softplus(x, 2.0f, 1000.0f) * (1.5f * 2.0f); }},
      {A::kCLIP, -0.5f, 1.0f, [](auto& x) { return at::clamp(x, -0.5f, 1.0f); }},
      {A::kHARD_SIGMOID, 1.0f / 6.0f, 0.5f, [](auto& x) { return at::hardsigmoid(x); }},
      {A::kSCALED_TANH, 1.7f, 0.66f, [](auto& x) { return at::tanh(x * 0.66f) * 1.7f; }},
      {A::kTHRESHOLDED_RELU, 0.3f, 0,
       [](auto& x) { return at::where(x > 0.3f, x, at::zeros_like(x)); }},
      {A::kGELU_ERF, 0, 0, [](auto& x) { return at::gelu(x, "none"); }},
      {A::kGELU_TANH, 0, 0, [](auto& x) { return at::gelu(x, "tanh"); }},
  };
  return cases;
}

TEST(ActivationKernel, EveryTypeAndFloatType) {
  uint64_t seed = 10;
  for (const ActCase& c : act_cases()) {
    for (DataType t : kFloatTypes) {
      at::Tensor x = random(t, {2, 3, 4, 5}, seed++, -4, 4);
      expect_close(run_activation(x, c.type, c.alpha, c.beta), in_float(x, c.ref), 1.0,
                   name_of(t, enum_name(c.type)));
    }
  }
}

TEST(ActivationKernel, SoftplusIsStableForLargeInputs) {
  at::Tensor x = at::tensor({-200.0f, -50.0f, 0.0f, 50.0f, 200.0f});
  at::Tensor got = run_activation(x, A::kSOFTPLUS, 1.0f, 1.0f);
  // ATen's default threshold (20) returns x itself there, which is exact in float.
  expect_close(got, at::softplus(x, 1.0f, 20.0f));
  EXPECT_FALSE(at::isinf(got).any().item<bool>());
}

TEST(ActivationKernel, DynamicShapeAtMinOptMax) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3, 4});
  net.mark_output(net.add_activation(x, A::kGELU_TANH)->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 3, 4}, {2, 3, 4}, {7, 3, 4});
  config.profiles.push_back(p);
  Runner r(net, config);
  uint64_t seed = 100;
  for (int64_t n : {1, 2, 7}) {
    at::Tensor a = random(DataType::kFLOAT, {n, 3, 4}, seed++);
    expect_close(r.run({a}).at(0), at::gelu(a, "tanh"), 1.0, "batch " + std::to_string(n));
  }
}

// ---- ParametricReLU ----

at::Tensor run_prelu(const at::Tensor& x, const at::Tensor& slope) {
  Network net;
  Tensor* in = net.add_input("x", from_aten(x.scalar_type()), dims_of(x));
  Tensor* s = net.add_input("slope", from_aten(slope.scalar_type()), dims_of(slope));
  net.mark_output(net.add_parametric_relu(in, s)->output(0));
  return run1(net, {x, slope});
}

TEST(ParametricReLUKernel, PerChannelSlopeMatchesPrelu) {
  uint64_t seed = 200;
  for (DataType t : kFloatTypes) {
    at::Tensor x = random(t, {2, 3, 4, 5}, seed++);
    at::Tensor slope = random(t, {1, 3, 1, 1}, seed++, -1, 1);
    at::Tensor ref =
        in_float(x, [&](auto& v) { return at::prelu(v, slope.to(at::kFloat).reshape({3})); });
    expect_close(run_prelu(x, slope), ref, 1.0, name_of(t, "prelu per channel"));
  }
}

TEST(ParametricReLUKernel, GeneralBroadcastSlopeMatchesWhere) {
  uint64_t seed = 300;
  for (DataType t : kFloatTypes) {
    at::Tensor x = random(t, {2, 3, 4, 5}, seed++);
    for (std::vector<int64_t> shape : {std::vector<int64_t>{2, 1, 4, 1}, {2, 3, 4, 5}}) {
      at::Tensor slope = random(t, shape, seed++, -1, 1);
      at::Tensor ref =
          in_float(x, [&](auto& v) { return at::where(v >= 0, v, v * slope.to(at::kFloat)); });
      expect_close(run_prelu(x, slope), ref, 1.0,
                   name_of(t, "prelu " + dims_of(slope).to_string()));
    }
  }
}

TEST(ParametricReLUKernel, DynamicShapeAtMinOptMax) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kHALF, {-1, 3, -1});
  Tensor* s = net.add_input("slope", DataType::kHALF, {1, 3, 1});
  net.mark_output(net.add_parametric_relu(x, s)->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 3, 1}, {2, 3, 5}, {4, 3, 9});
  config.profiles.push_back(p);
  Runner r(net, config);
  uint64_t seed = 400;
  for (auto [n, w] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {2, 5}, {4, 9}}) {
    at::Tensor a = random(DataType::kHALF, {n, 3, w}, seed++);
    at::Tensor sl = random(DataType::kHALF, {1, 3, 1}, seed++, -1, 1);
    at::Tensor ref =
        in_float(a, [&](auto& v) { return at::prelu(v, sl.to(at::kFloat).reshape({3})); });
    expect_close(r.run({a, sl}).at(0), ref, 1.0, "shape " + dims_of(a).to_string());
  }
}

// ---- Scale ----

Weights weights_of(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return Weights::copy(from_aten(c.scalar_type()), c.data_ptr(), c.numel());
}

at::Tensor run_scale(const at::Tensor& x, const ScaleAttrs& attrs) {
  Network net;
  Tensor* in = net.add_input("x", from_aten(x.scalar_type()), dims_of(x));
  net.mark_output(net.add_scale_nd(in, attrs)->output(0));
  return run1(net, {x});
}

// (x * scale + shift) ^ power in float, weights viewed with `wshape` to broadcast.
at::Tensor scale_ref(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& shift,
                     const at::Tensor& power, const std::vector<int64_t>& wshape) {
  return in_float(x, [&](auto& v) {
    at::Tensor r = v;
    if (scale.defined()) r = r * scale.to(at::kFloat).reshape(wshape);
    if (shift.defined()) r = r + shift.to(at::kFloat).reshape(wshape);
    if (power.defined()) r = at::pow(r, power.to(at::kFloat).reshape(wshape));
    return r;
  });
}

TEST(ScaleKernel, EveryModeAndFloatTypeWithSameAndFloat32Weights) {
  uint64_t seed = 500;
  struct ModeCase {
    ScaleMode mode;
    int32_t axis;
    std::vector<int64_t> wcount, wshape;
  };
  std::vector<ModeCase> modes = {
      {ScaleMode::kUNIFORM, 1, {1}, {1, 1, 1, 1}},
      {ScaleMode::kCHANNEL, 1, {3}, {1, 3, 1, 1}},
      {ScaleMode::kCHANNEL, 2, {4}, {1, 1, 4, 1}},
      {ScaleMode::kELEMENTWISE, 1, {3, 4, 5}, {1, 3, 4, 5}},
      {ScaleMode::kELEMENTWISE, 2, {4, 5}, {1, 1, 4, 5}},
  };
  for (const ModeCase& m : modes) {
    for (DataType t : kFloatTypes) {
      for (DataType wt : {t, DataType::kFLOAT}) {
        // Positive bases keep the power real.
        at::Tensor x = random(t, {2, 3, 4, 5}, seed++, 0.25, 2);
        at::Tensor scale = random(wt, m.wcount, seed++, 0.5, 2);
        at::Tensor shift = random(wt, m.wcount, seed++, 0, 1);
        at::Tensor power = random(wt, m.wcount, seed++, 0.5, 2.5);
        ScaleAttrs a;
        a.mode = m.mode;
        a.channel_axis = m.axis;
        a.scale = weights_of(scale);
        a.shift = weights_of(shift);
        a.power = weights_of(power);
        std::string what = name_of(t, enum_name(m.mode)) + " axis " + std::to_string(m.axis) +
                           " weights " + std::string(data_type_name(wt));
        expect_close(run_scale(x, a), scale_ref(x, scale, shift, power, m.wshape), 1.0, what);
      }
    }
  }
}

TEST(ScaleKernel, EmptyWeightsAreIdentityDefaults) {
  uint64_t seed = 600;
  for (DataType t : kFloatTypes) {
    at::Tensor x = random(t, {2, 3, 4}, seed++, -2, 2);
    ScaleAttrs a;
    a.mode = ScaleMode::kCHANNEL;
    expect_close(run_scale(x, a), x, 1.0, name_of(t, "no weights"));
    // Only a shift: scale 1, power 1 (negative bases are fine without a power).
    at::Tensor shift = random(t, {3}, seed++, -1, 1);
    a.shift = weights_of(shift);
    expect_close(run_scale(x, a), scale_ref(x, {}, shift, {}, {1, 3, 1}), 1.0,
                 name_of(t, "shift only"));
  }
}

TEST(ScaleKernel, DynamicBatchAtMinOptMax) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3, 2});
  at::Tensor scale = random(DataType::kFLOAT, {3}, 700, 0.5, 2);
  at::Tensor shift = random(DataType::kFLOAT, {3}, 701);
  ScaleAttrs a;
  a.mode = ScaleMode::kCHANNEL;
  a.scale = weights_of(scale);
  a.shift = weights_of(shift);
  net.mark_output(net.add_scale_nd(x, a)->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 3, 2}, {4, 3, 2}, {9, 3, 2});
  config.profiles.push_back(p);
  Runner r(net, config);
  uint64_t seed = 710;
  for (int64_t n : {1, 4, 9}) {
    at::Tensor in = random(DataType::kFLOAT, {n, 3, 2}, seed++);
    expect_close(r.run({in}).at(0), scale_ref(in, scale, shift, {}, {1, 3, 1}), 1.0,
                 "batch " + std::to_string(n));
  }
}

}  // namespace
}  // namespace lktest
