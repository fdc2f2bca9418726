// Two converters written the way docs/converters.md describes: a causal self-attention layer
// with a dynamic sequence length (projections + scaled_dot_product_attention) and a conv +
// batch-norm + SiLU block. Each network is built, run at several shapes and checked against
// plain loops; the program exits non-zero on any mismatch.
#include <cmath>
#include <cstdio>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "layerkit/builder/builder.h"
#include "layerkit/impl/activation.h"
#include "layerkit/impl/attention.h"
#include "layerkit/impl/conv.h"
#include "layerkit/impl/matmul.h"
#include "layerkit/impl/normalization.h"
#include "layerkit/impl/utils.h"
#include "layerkit/runtime/engine.h"

namespace {

using namespace layerkit;
using namespace layerkit::impl;

std::vector<float> random_vector(size_t n, float scale, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

int failures = 0;

void expect_close(std::span<const float> got, const std::vector<float>& want, const char* what) {
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i)
    worst = std::max(worst, std::fabs(got[i] - want[i]) / (1e-4 + std::fabs(want[i])));
  bool ok = got.size() == want.size() && worst < 1e-3;
  std::printf("  %-40s %zu values, worst relative error %.2e: %s\n", what, want.size(), worst,
              ok ? "ok" : "MISMATCH");
  if (!ok) ++failures;
}

// ---- converter 1: causal self-attention, aten.scaled_dot_product_attention after three
// projections, as an exported decoder layer has it ----

struct AttentionWeights {
  int64_t dim = 16;
  std::vector<float> wq, wk, wv;  // [dim, dim], applied as x @ w
};

// The converter: every layer is named after the node ("layer0/attn/..."), targets are the ATen
// op names, weights are host constants (they become Constant layers' weights).
Tensor* convert_causal_attention(ConversionContext& ctx, std::string_view name, Tensor* x,
                                 const AttentionWeights& w) {
  const Dims wd{w.dim, w.dim};
  auto project = [&](const std::vector<float>& weight, std::string_view suffix) {
    return matmul::matrix_multiply(ctx, "mm.default", SourceIR::kATEN, sub_name(name, suffix), x,
                                   HostConstant::of(wd, weight));
  };
  Tensor* q = project(w.wq, "q_proj");
  Tensor* k = project(w.wk, "k_proj");
  Tensor* v = project(w.wv, "v_proj");
  return attention::scaled_dot_product_attention(ctx, "scaled_dot_product_attention.default",
                                                 SourceIR::kATEN, name, q, k, v, std::nullopt,
                                                 /*dropout_p=*/0.0, /*is_causal=*/true);
}

std::vector<float> attention_reference(const std::vector<float>& x, int64_t len,
                                       const AttentionWeights& w) {
  const int64_t d = w.dim;
  auto proj = [&](const std::vector<float>& m) {
    std::vector<float> r(static_cast<size_t>(len * d), 0.0f);
    for (int64_t i = 0; i < len; ++i)
      for (int64_t j = 0; j < d; ++j)
        for (int64_t e = 0; e < d; ++e) r[i * d + j] += x[i * d + e] * m[e * d + j];
    return r;
  };
  std::vector<float> q = proj(w.wq), k = proj(w.wk), v = proj(w.wv);
  std::vector<float> out(static_cast<size_t>(len * d), 0.0f);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  for (int64_t i = 0; i < len; ++i) {
    std::vector<double> p(static_cast<size_t>(i + 1));
    double mx = -1e300, sum = 0;
    for (int64_t j = 0; j <= i; ++j) {
      double s = 0;
      for (int64_t e = 0; e < d; ++e) s += q[i * d + e] * k[j * d + e];
      p[j] = s * scale;
      mx = std::max(mx, p[j]);
    }
    for (double& s : p) sum += (s = std::exp(s - mx));
    for (int64_t j = 0; j <= i; ++j)
      for (int64_t e = 0; e < d; ++e)
        out[i * d + e] += static_cast<float>(p[j] / sum) * v[j * d + e];
  }
  return out;
}

void run_attention_example(std::mt19937& rng) {
  std::printf("causal attention, dynamic sequence length\n");
  AttentionWeights w;
  const size_t n = static_cast<size_t>(w.dim * w.dim);
  w.wq = random_vector(n, 0.3f, rng);
  w.wk = random_vector(n, 0.3f, rng);
  w.wv = random_vector(n, 0.3f, rng);

  Network net;
  ConversionContext ctx(net);
  // The sequence length is dynamic (-1); the profile gives it min 1, opt 4, max 12.
  Tensor* x = net.add_input("hidden_states", DataType::kFLOAT, {1, -1, w.dim});
  Tensor* y = convert_causal_attention(ctx, "layer0/attn", x, w);
  y->set_name("attn_out");
  net.mark_output(y);
  std::printf("  %d layers; output %s\n", net.num_layers(), describe(*y).c_str());

  BuilderConfig config;
  OptimizationProfile profile;
  profile.set_dimensions("hidden_states", {1, 1, w.dim}, {1, 4, w.dim}, {1, 12, w.dim});
  config.profiles.push_back(profile);
  auto engine = Builder::build(net, config);
  auto exec = engine->create_execution_context();
  for (int64_t len : {1, 4, 12}) {
    std::vector<float> in = random_vector(static_cast<size_t>(len * w.dim), 1.0f, rng);
    exec->set_input_shape("hidden_states", {1, len, w.dim});
    exec->set_input("hidden_states", in.data());
    exec->execute();
    const OwnedTensor& out = exec->output("attn_out");
    std::string what = "length " + std::to_string(len);
    expect_close(out.as<float>(), attention_reference(in, len, w), what.c_str());
  }
}

// ---- converter 2: conv + batch norm + SiLU (aten.convolution, aten._native_batch_norm_legit_no
// _training, aten.silu), with the option structs ----

struct ConvBnParams {
  int64_t cin = 3, cout = 4, k = 3;
  std::vector<float> weight, bias, gamma, beta, mean, var;
};

Tensor* convert_conv_bn_silu(ConversionContext& ctx, std::string_view name, Tensor* x,
                             const ConvBnParams& p) {
  Tensor* c =
      conv::convolution(ctx, "convolution.default", SourceIR::kATEN, sub_name(name, "conv"), x,
                        {.weight = HostConstant::of({p.cout, p.cin, p.k, p.k}, p.weight),
                         .bias = HostConstant::of({p.cout}, p.bias),
                         .stride = {1, 1},
                         .padding = {1, 1}});
  Tensor* b = normalization::batch_norm(ctx, "_native_batch_norm_legit_no_training.default",
                                        SourceIR::kATEN, sub_name(name, "bn"), c,
                                        {.weight = HostConstant::of({p.cout}, p.gamma),
                                         .bias = HostConstant::of({p.cout}, p.beta),
                                         .running_mean = HostConstant::of({p.cout}, p.mean),
                                         .running_var = HostConstant::of({p.cout}, p.var),
                                         .eps = 1e-5});
  return activation::silu(ctx, "silu.default", SourceIR::kATEN, sub_name(name, "act"), b);
}

std::vector<float> conv_bn_silu_reference(const std::vector<float>& x, int64_t n, int64_t h,
                                          int64_t wd, const ConvBnParams& p) {
  std::vector<float> out(static_cast<size_t>(n * p.cout * h * wd));
  for (int64_t b = 0; b < n; ++b)
    for (int64_t o = 0; o < p.cout; ++o)
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < wd; ++j) {
          double s = p.bias[o];
          for (int64_t c = 0; c < p.cin; ++c)
            for (int64_t di = 0; di < p.k; ++di)
              for (int64_t dj = 0; dj < p.k; ++dj) {
                int64_t y = i + di - 1, z = j + dj - 1;
                if (y < 0 || y >= h || z < 0 || z >= wd) continue;
                s += x[((b * p.cin + c) * h + y) * wd + z] *
                     p.weight[((o * p.cin + c) * p.k + di) * p.k + dj];
              }
          double v = (s - p.mean[o]) / std::sqrt(p.var[o] + 1e-5) * p.gamma[o] + p.beta[o];
          out[((b * p.cout + o) * h + i) * wd + j] = static_cast<float>(v / (1.0 + std::exp(-v)));
        }
  return out;
}

void run_conv_example(std::mt19937& rng) {
  std::printf("conv + batch norm + SiLU, dynamic batch\n");
  ConvBnParams p;
  p.weight = random_vector(static_cast<size_t>(p.cout * p.cin * p.k * p.k), 0.3f, rng);
  p.bias = random_vector(4, 0.1f, rng);
  p.gamma = random_vector(4, 0.5f, rng);
  p.beta = random_vector(4, 0.5f, rng);
  p.mean = random_vector(4, 0.5f, rng);
  p.var = {0.5f, 1.0f, 1.5f, 2.0f};

  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("image", DataType::kFLOAT, {-1, 3, 8, 8});
  Tensor* y = convert_conv_bn_silu(ctx, "backbone/stem", x, p);
  y->set_name("features");
  net.mark_output(y);
  std::printf("  %d layers; output %s\n", net.num_layers(), describe(*y).c_str());

  // A bad call fails with an Error naming the block, target, name and operands, and leaves the
  // network as it was.
  int before = net.num_layers();
  try {
    conv::convolution(ctx, "convolution.default", SourceIR::kATEN, "bad", x,
                      {.weight = HostConstant::of({4, 5, 3, 3}, std::vector<float>(180, 0.0f))});
    std::printf("  expected an error\n");
    ++failures;
  } catch (const Error& e) {
    std::printf("  error as expected: %.90s...\n", e.what());
    if (net.num_layers() != before) ++failures;
  }

  BuilderConfig config;
  OptimizationProfile profile;
  profile.set_dimensions("image", {1, 3, 8, 8}, {2, 3, 8, 8}, {4, 3, 8, 8});
  config.profiles.push_back(profile);
  auto engine = Builder::build(net, config);
  auto exec = engine->create_execution_context();
  for (int64_t n : {1, 2, 4}) {
    std::vector<float> in = random_vector(static_cast<size_t>(n * 3 * 64), 1.0f, rng);
    exec->set_input_shape("image", {n, 3, 8, 8});
    exec->set_input("image", in.data());
    exec->execute();
    std::string what = "batch " + std::to_string(n);
    expect_close(exec->output("features").as<float>(), conv_bn_silu_reference(in, n, 8, 8, p),
                 what.c_str());
  }
}

}  // namespace

int main() {
  std::mt19937 rng(7);
  try {
    run_attention_example(rng);
    run_conv_example(rng);
  } catch (const layerkit::Error& e) {
    std::fprintf(stderr, "unexpected error: %s\n", e.what());
    return 1;
  }
  if (failures == 0)
    std::printf("all converters match\n");
  else
    std::printf("%d mismatches\n", failures);
  return failures == 0 ? 0 : 1;
}
