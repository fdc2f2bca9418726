// Reference kernels for the Activation, ParametricReLU, Scale kinds.
#include <cmath>

#include "runtime/cpu/fusion.h"
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

namespace {

// log(1 + exp(z)) without overflow for large z or loss of precision for very negative z.
float softplus(float z) {
  return z > 0.0f ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}

}  // namespace

float activate(const ActivationAttrs& a, float x) {
  const float alpha = a.alpha, beta = a.beta;
  switch (a.type) {
    case ActivationType::kRELU:
      return x < 0.0f ? 0.0f : x;  // NaN passes through
    case ActivationType::kSIGMOID:
      return 1.0f / (1.0f + std::exp(-x));
    case ActivationType::kTANH:
      return std::tanh(x);
    case ActivationType::kLEAKY_RELU:
      return x >= 0.0f ? x : alpha * x;
    case ActivationType::kELU:
      return x >= 0.0f ? x : alpha * std::expm1(x);
    case ActivationType::kSELU:
      return beta * (x > 0.0f ? x : alpha * std::expm1(x));
    case ActivationType::kSOFTSIGN:
      return x / (1.0f + std::fabs(x));
    case ActivationType::kSOFTPLUS:
      return alpha * softplus(beta * x);
    case ActivationType::kCLIP:
      return std::isnan(x) ? x : std::fmin(std::fmax(x, alpha), beta);
    case ActivationType::kHARD_SIGMOID:
      return std::fmax(0.0f, std::fmin(1.0f, alpha * x + beta));
    case ActivationType::kSCALED_TANH:
      return alpha * std::tanh(beta * x);
    case ActivationType::kTHRESHOLDED_RELU:
      return x > alpha ? x : 0.0f;
    case ActivationType::kGELU_ERF:
      return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
    case ActivationType::kGELU_TANH: {
      constexpr float kSqrt2OverPi = 0.79788456080286536f;
      return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
    }
  }
  return x;
}

void run_reference(const ActivationAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& out = ctx.output(0);
  for (int64_t i = 0; i < x.numel(); ++i) store_f(out, i, activate(a, load_f(x, i)));
}

void run_reference(const ParametricReLUAttrs&, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& slope = ctx.input(1);
  const KernelTensor& out = ctx.output(0);
  if (out.numel() == 0) return;
  std::vector<int64_t> idx(static_cast<size_t>(out.dims.rank()), 0);
  int64_t i = 0;
  do {
    float v = load_f(x, i);
    store_f(out, i, v >= 0.0f ? v : load_f(slope, broadcast_offset(slope.dims, idx)) * v);
    ++i;
  } while (next_index(out.dims, idx));
}

void run_reference(const ScaleAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& out = ctx.output(0);
  const Dims& d = x.dims;
  // Elements per step of the channel axis (kCHANNEL) and per batch (kELEMENTWISE).
  int64_t inner = 1;
  for (int i = a.channel_axis + 1; i < d.rank(); ++i) inner *= d[i];
  int64_t channels = d[a.channel_axis];
  auto weight = [&](const Weights& w, int64_t i, float dflt) {
    if (w.empty()) return dflt;
    int64_t k = 0;
    if (a.mode == ScaleMode::kCHANNEL) k = (i / inner) % channels;
    if (a.mode == ScaleMode::kELEMENTWISE) k = i % (inner * channels);
    return load_f(w.type(), w.data(), k);
  };
  for (int64_t i = 0; i < x.numel(); ++i) {
    float v = load_f(x, i) * weight(a.scale, i, 1.0f) + weight(a.shift, i, 0.0f);
    if (!a.power.empty()) v = std::pow(v, weight(a.power, i, 1.0f));
    store_f(out, i, v);
  }
}

}  // namespace layerkit::cpu
