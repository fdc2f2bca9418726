// The backend-conformance program: builds every case for the CPU reference engine and for each
// other backend of this build (CUDA) and compares their outputs with the per-dtype tolerances.
// It links no libtorch, so it runs on a GPU host; without a device it says so and exits 77.
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/element.h"
#include "layerkit/builder/builder.h"
#include "layerkit/network/network.h"
#include "layerkit/runtime/backend.h"
#include "layerkit/runtime/engine.h"

#ifdef LAYERKIT_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

using namespace layerkit;

namespace {

constexpr int kSkip = 77;

struct Case {
  std::string kind;   // the layer kind under test (the line it is counted on)
  std::string label;  // what varies
  std::function<void(Network&)> build;
  // Per dynamic input: min/opt/max; the case runs at each of the three.
  std::map<std::string, ProfileDims> profile;
  double accumulate = 1;  // K of an accumulating op: tolerances scale by sqrt(K)
  // Integer inputs are drawn from [lo, hi]; floats from [flo, fhi].
  int lo = -4, hi = 4;
  float flo = -2.0f, fhi = 2.0f;
  // Both engines must fail, with the same error (a bad index found at run time).
  bool expect_error = false;
  // Nonzero: floats are drawn as multiples of `step` (so that exact ties of a rounding occur).
  float step = 0;
  // FP8 and FP4 inputs drawn as uniformly random codes (NaN codes included) instead of values.
  bool all_codes = false;
  // The leading elements of the input named "x" (NaN, infinities, zeros, ...), as floats.
  std::vector<float> fixed;
  // Per input name: a float range replacing [flo, fhi].
  std::map<std::string, std::pair<float, float>> ranges;
  // Outputs compared bit for bit (codes of quantized types, the bits of floats), not within the
  // dtype's tolerance.
  bool exact = false;
};

struct Tolerance {
  double rtol, atol;
};
Tolerance tolerance(DataType t) {
  switch (t) {
    case DataType::kFLOAT:
      return {1.3e-6, 1e-5};
    case DataType::kHALF:
      return {1e-3, 1e-5};
    case DataType::kBF16:
      return {1.6e-2, 1e-5};
    case DataType::kFP8:
      return {1.25e-1, 1e-5};  // one E4M3 step (3 mantissa bits)
    default:
      return {0, 0};
  }
}

std::vector<uint8_t> random_input(const std::string& name, DataType t, const Dims& d, const Case& c,
                                  std::mt19937& rng) {
  const int64_t n = d.volume();
  std::vector<uint8_t> host(static_cast<size_t>(n * element_size(t)));
  float flo = c.flo, fhi = c.fhi;
  if (auto it = c.ranges.find(name); it != c.ranges.end()) std::tie(flo, fhi) = it->second;
  std::uniform_real_distribution<float> f(flo, fhi);
  std::uniform_int_distribution<int> i(c.lo, c.hi);
  std::uniform_int_distribution<int> code(0, t == DataType::kFP4 ? 15 : 255);
  std::uniform_int_distribution<int64_t> grid(
      c.step > 0 ? static_cast<int64_t>(std::ceil(flo / c.step)) : 0,
      c.step > 0 ? static_cast<int64_t>(std::floor(fhi / c.step)) : 0);
  for (int64_t k = 0; k < n; ++k) {
    if (t == DataType::kBOOL)
      store_i(t, host.data(), k, i(rng) > 0);
    else if (c.all_codes && (t == DataType::kFP8 || t == DataType::kFP4))
      host[static_cast<size_t>(k)] = static_cast<uint8_t>(code(rng));
    else if (is_floating(t))
      store_f(t, host.data(), k,
              flo == fhi   ? flo
              : c.step > 0 ? static_cast<float>(grid(rng)) * c.step
                           : f(rng));
    else
      store_i(t, host.data(), k, i(rng));
  }
  if (name == "x")
    for (size_t k = 0; k < c.fixed.size() && static_cast<int64_t>(k) < n; ++k) {
      if (is_floating(t)) store_f(t, host.data(), static_cast<int64_t>(k), c.fixed[k]);
    }
  std::vector<uint8_t> packed(static_cast<size_t>(packed_bytes(t, n)));
  pack(t, host.data(), packed.data(), n);
  return packed;
}

struct RunResult {
  bool ok = true;
  std::string error;
  std::vector<OwnedTensor> outputs;
  // (kind, implementation) of every layer of the engine's network.
  std::vector<std::pair<std::string, std::string>> implementations;
};

RunResult run(const Network& net, const BuilderConfig& config,
              const std::map<std::string, Dims>& shapes,
              const std::vector<std::vector<uint8_t>>& inputs) {
  RunResult r;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ExecutionContext> ctx;
  // Also after a failed run: the implementation of the layer that failed is the one it tried.
  auto implementations = [&] {
    if (!ctx) return;
    const Network& en = engine->network();
    for (int i = 0; i < en.num_layers(); ++i)
      r.implementations.emplace_back(layer_kind_name(en.layer(i)->kind()),
                                     ctx->layer_implementation(en.layer(i)->name()));
  };
  try {
    engine = Builder::build(net, config);
    ctx = engine->create_execution_context();
    for (int i = 0; i < net.num_inputs(); ++i) {
      const Tensor* t = net.input(i);
      ctx->set_input_shape(t->name(), shapes.at(t->name()));
      ctx->set_input(t->name(), inputs[static_cast<size_t>(i)].data());
    }
    ctx->execute();
    for (int i = 0; i < net.num_outputs(); ++i)
      r.outputs.push_back(ctx->output(net.output(i)->name()));
  } catch (const Error& e) {
    r.ok = false;
    r.error = e.what();
  }
  try {
    implementations();
  } catch (const Error&) {
    r.implementations.clear();
  }
  return r;
}

// One run point of a case: the input shapes at profile point p (0 min, 1 opt, 2 max; static
// shapes once), random inputs of those shapes, and the CPU reference engine's configuration.
struct Point {
  std::map<std::string, Dims> shapes;
  std::vector<std::vector<uint8_t>> inputs;
  BuilderConfig ref;
};
Point make_point(const Case& c, const Network& net, int p, std::mt19937& rng) {
  Point pt;
  OptimizationProfile prof;
  for (int i = 0; i < net.num_inputs(); ++i) {
    const Tensor* t = net.input(i);
    auto it = c.profile.find(t->name());
    if (it == c.profile.end()) {
      pt.shapes[t->name()] = t->dims();
    } else {
      const ProfileDims& pd = it->second;
      pt.shapes[t->name()] = p == 0 ? pd.min : p == 1 ? pd.opt : pd.max;
      prof.set_dimensions(t->name(), pd.min, pd.opt, pd.max);
    }
  }
  for (int i = 0; i < net.num_inputs(); ++i)
    pt.inputs.push_back(random_input(net.input(i)->name(), net.input(i)->type(),
                                     pt.shapes[net.input(i)->name()], c, rng));
  pt.ref.optimization_level = 0;
  pt.ref.reference_kernels_only = true;
  if (!c.profile.empty()) pt.ref.profiles.push_back(prof);
  return pt;
}

// Empty when equal within tolerance (bit for bit when `exact`); else the first mismatch.
std::string compare(const OwnedTensor& ref, const OwnedTensor& got, double k, bool exact,
                    std::optional<DataType> tolerance_of = std::nullopt) {
  if (ref.type != got.type || ref.dims != got.dims)
    return "output " + std::string(data_type_name(got.type)) + got.dims.to_string() +
           ", reference " + std::string(data_type_name(ref.type)) + ref.dims.to_string();
  const int64_t n = ref.dims.volume();
  std::vector<uint8_t> a(static_cast<size_t>(n * element_size(ref.type)));
  std::vector<uint8_t> b(a.size());
  unpack(ref.type, ref.data.data(), a.data(), n);
  unpack(got.type, got.data.data(), b.data(), n);
  const Tolerance tol = tolerance(tolerance_of.value_or(ref.type));
  const double scale = std::sqrt(std::max(1.0, k));
  const size_t es = static_cast<size_t>(element_size(ref.type));
  for (int64_t i = 0; i < n && exact; ++i) {
    const size_t at = static_cast<size_t>(i) * es;
    if (std::memcmp(a.data() + at, b.data() + at, es) == 0) continue;
    uint64_t x = 0, y = 0;
    std::memcpy(&x, a.data() + at, es);
    std::memcpy(&y, b.data() + at, es);
    char buf[200];
    std::snprintf(buf, sizeof buf, "element %lld: code 0x%llx (%.9g), reference 0x%llx (%.9g)",
                  static_cast<long long>(i), static_cast<unsigned long long>(y),
                  is_floating(ref.type) ? load_f(got.type, b.data(), i)
                                        : static_cast<double>(load_i(got.type, b.data(), i)),
                  static_cast<unsigned long long>(x),
                  is_floating(ref.type) ? load_f(ref.type, a.data(), i)
                                        : static_cast<double>(load_i(ref.type, a.data(), i)));
    return buf;
  }
  if (exact) return {};
  for (int64_t i = 0; i < n; ++i) {
    if (is_floating(ref.type)) {
      const double x = load_f(ref.type, a.data(), i), y = load_f(got.type, b.data(), i);
      if (std::isnan(x) && std::isnan(y)) continue;
      if (x == y) continue;
      if (std::fabs(x - y) <= (tol.atol + tol.rtol * std::fabs(x)) * scale) continue;
      char buf[160];
      std::snprintf(buf, sizeof buf, "element %lld: %.9g, reference %.9g",
                    static_cast<long long>(i), y, x);
      return buf;
    }
    const int64_t x = load_i(ref.type, a.data(), i), y = load_i(got.type, b.data(), i);
    if (x != y)
      return "element " + std::to_string(i) + ": " + std::to_string(y) + ", reference " +
             std::to_string(x);
  }
  return {};
}

// Note [Reduced-precision oracle]
// In fp16/bf16 mode two correct engines round at different points: a fused kernel keeps a
// convolution's output in fp32 through its bias, residual add and activation, while the reference
// engine rounds after every layer. After a cancellation (conv output near 1 plus a residual near
// -1) their results differ by a rounding of the intermediate, which no tolerance relative to the
// small output can bound. So reduced-precision results are judged against the fp32 engine: the
// device may be off the fp32 result by the reference's own error there plus the reduced type's
// tolerance, i.e. it must be at least as accurate as the reference engine in that mode.
std::string compare_reduced(const OwnedTensor& ref, const OwnedTensor& got, const OwnedTensor& fp32,
                            double k, DataType reduced) {
  if (ref.type != got.type || ref.dims != got.dims || fp32.dims != ref.dims)
    return "output " + std::string(data_type_name(got.type)) + got.dims.to_string() +
           ", reference " + std::string(data_type_name(ref.type)) + ref.dims.to_string();
  if (!is_floating(ref.type)) return compare(ref, got, k, false);
  const std::vector<float> r = ref.to_floats(), g = got.to_floats(), f = fp32.to_floats();
  const Tolerance tol = tolerance(reduced);
  const double scale = std::sqrt(std::max(1.0, k));
  for (size_t i = 0; i < r.size(); ++i) {
    if (std::isnan(r[i]) && std::isnan(g[i])) continue;
    const double bound =
        std::fabs(double(r[i]) - f[i]) + (tol.atol + tol.rtol * std::fabs(f[i])) * scale;
    if (std::fabs(double(g[i]) - f[i]) <= bound) continue;
    char buf[200];
    std::snprintf(buf, sizeof buf, "element %zu: %.9g, reference %.9g, fp32 %.9g", i, g[i], r[i],
                  f[i]);
    return buf;
  }
  return {};
}

// ---- the cases ----

using DT = DataType;
const std::vector<DT> kFloat = {DT::kFLOAT, DT::kHALF, DT::kBF16};

Tensor* in(Network& n, const char* name, DT t, Dims d) {
  return n.add_input(name, t, d);
}
// Attention as exported models spell it (defined with the models below).
Tensor* attention(Network& n, Tensor* q, Tensor* k, Tensor* v, Tensor* mask,
                  bool k_read_transposed);

Tensor* constant(Network& n, DT t, Dims d, uint32_t seed, float lo = -1, float hi = 1) {
  const int64_t count = d.volume();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> f(lo, hi);
  std::vector<uint8_t> host(static_cast<size_t>(count * element_size(t)));
  for (int64_t i = 0; i < count; ++i) {
    if (is_floating(t))
      store_f(t, host.data(), i, f(rng));
    else
      store_i(t, host.data(), i, static_cast<int64_t>(std::floor(f(rng) * 3)));
  }
  std::vector<uint8_t> packed(static_cast<size_t>(packed_bytes(t, count)));
  pack(t, host.data(), packed.data(), count);
  return n.add_constant(d, Weights::copy(t, packed.data(), count))->output(0);
}

std::string name_of(DT t) {
  return std::string(data_type_name(t));
}

// An integer constant with the given values (indices that must hit a particular element).
Tensor* int_constant(Network& n, DT t, Dims d, const std::vector<int64_t>& values) {
  std::vector<uint8_t> host(values.size() * static_cast<size_t>(element_size(t)));
  for (size_t i = 0; i < values.size(); ++i)
    store_i(t, host.data(), static_cast<int64_t>(i), values[i]);
  return n.add_constant(d, Weights::copy(t, host.data(), static_cast<int64_t>(values.size())))
      ->output(0);
}

// Positive scales of type `t`: powers of two around `base` (so x / scale is exact and the ties of
// an input grid survive it) or values in [0.6, 1.6) * base.
Tensor* scale_tensor(Network& n, DT t, const Dims& d, float base, bool pow2, uint32_t seed) {
  const int64_t count = d.volume();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> f(0.6f, 1.6f);
  std::vector<uint8_t> host(static_cast<size_t>(count * element_size(t)));
  for (int64_t i = 0; i < count; ++i)
    store_f(t, host.data(), i,
            pow2 ? std::ldexp(base, static_cast<int>(i % 3) - 1) : base * f(rng));
  return n.add_constant(d, Weights::copy(t, host.data(), count))->output(0);
}
Tensor* zeros(Network& n, DT t, const Dims& d) {
  return n.add_constant(d, Weights::zeros(t, d.volume()))->output(0);
}

// Quantize, Dequantize and DynamicQuantize: every format, input type and scale layout, compared
// bit for bit. Float inputs lie on a grid (exact ties of the rounding), reach past the format's
// range (saturation) and begin with NaN (quiet, negative, signaling), infinities, signed zeros,
// huge and subnormal values; quantized inputs cover every code.
template <typename Add>
void add_quantize_cases(Add& add) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const float snan = std::bit_cast<float>(0x7fa00001u);
  const std::vector<float> specials = {nan,   -nan,  snan,   inf,    -inf,    0.0f,
                                       -0.0f, 1e30f, -1e30f, 1e-40f, -1e-40f, 3e-39f};
  const std::vector<DT> quantized = {DT::kINT8, DT::kFP8, DT::kINT4, DT::kFP4};
  // x / scale spans past each format's largest value for inputs in [-8, 8].
  auto base = [](DT q) { return q == DT::kINT8 ? 1.0f / 16 : q == DT::kFP8 ? 1.0f / 32 : 1.0f; };
  struct Layout {
    std::string label;
    Dims x, s;
    int32_t axis;
  };
  const std::vector<Layout> layouts = {
      {"per tensor 0-D", {4, 3, 8}, {}, -1},
      {"per tensor 1-element", {4, 3, 8}, {1}, 0},
      {"per channel axis 0", {4, 3, 8}, {4}, 0},
      {"per channel axis 1", {4, 3, 8}, {3}, 1},
      {"per channel axis -1", {4, 3, 8}, {8}, -1},
      {"blocks 2x1x4", {4, 3, 8}, {2, 1, 4}, -1},
      {"blocks 1x3x2", {4, 3, 8}, {1, 3, 2}, -1},
      {"rank 1 per channel", {6}, {6}, 0},
      {"rank 2 blocks of 4 on the last axis", {3, 16}, {3, 4}, -1},
      {"rank 4 per channel axis -3", {2, 5, 3, 4}, {5}, -3},
      {"rank 5 blocks", {2, 2, 3, 2, 8}, {1, 2, 1, 1, 2}, -1},
      {"empty, per channel", {0, 8}, {8}, 1},
      {"empty, blocks", {0, 8}, {1, 2}, -1},
  };
  // Dynamic batch at min/opt/max: per channel, blocks spanning the batch, blocks along it.
  struct Dynamic {
    std::string label;
    Dims x, s;
    int32_t axis;
    ProfileDims profile;
  };
  const std::vector<Dynamic> dynamics = {
      {"dynamic batch, per channel", {-1, 3, 8}, {3}, 1, {{1, 3, 8}, {4, 3, 8}, {9, 3, 8}}},
      {"dynamic batch, blocks over the batch",
       {-1, 3, 8},
       {1, 3, 2},
       -1,
       {{1, 3, 8}, {4, 3, 8}, {9, 3, 8}}},
      {"dynamic batch, blocks along it", {-1, 8}, {2, 2}, -1, {{2, 8}, {6, 8}, {10, 8}}},
  };
  uint32_t seed = 100;
  for (DT q : quantized) {
    for (DT t : kFloat)
      for (DT st : t == DT::kFLOAT ? std::vector<DT>{DT::kFLOAT} : std::vector<DT>{t, DT::kFLOAT})
        for (size_t li = 0; li < layouts.size(); ++li) {
          // fp32 scales on fp16/bf16 data: a third of the layouts.
          if (st != t && li % 3 != 0) continue;
          const Layout L = layouts[li];
          const bool pow2 = li % 2 == 0;
          const uint32_t sd = ++seed;
          Case* c = add("Quantize",
                        name_of(t) + " to " + name_of(q) + ", " + name_of(st) + " scale, " +
                            L.label + (pow2 ? ", power-of-two scales" : ""),
                        [=](Network& n) {
                          QuantizeAttrs a;
                          a.axis = L.axis;
                          a.output_type = q;
                          Tensor* s = scale_tensor(n, st, L.s, base(q), pow2, sd);
                          n.mark_output(n.add_quantize(in(n, "x", t, L.x), s, a)->output(0));
                        });
          c->flo = -8;
          c->fhi = 8;
          c->step = 1.0f / 64;
          c->fixed = specials;
          c->exact = true;
        }
    for (DT to : kFloat)
      for (DT st : to == DT::kFLOAT ? std::vector<DT>{DT::kFLOAT} : std::vector<DT>{to, DT::kFLOAT})
        for (size_t li = 0; li < layouts.size(); ++li) {
          if (st != to && li % 3 != 0) continue;
          const Layout L = layouts[li];
          const bool pow2 = li % 2 == 1;
          const uint32_t sd = ++seed;
          Case* c = add("Dequantize",
                        name_of(q) + " to " + name_of(to) + ", " + name_of(st) + " scale, " +
                            L.label + (pow2 ? ", power-of-two scales" : ""),
                        [=](Network& n) {
                          DequantizeAttrs a;
                          a.axis = L.axis;
                          a.to_type = to;
                          Tensor* s = scale_tensor(n, st, L.s, 0.75f, pow2, sd);
                          n.mark_output(n.add_dequantize(in(n, "x", q, L.x), s, a)->output(0));
                        });
          c->lo = q == DT::kINT8 ? -128 : -8;
          c->hi = q == DT::kINT8 ? 127 : 7;
          c->all_codes = true;
          c->exact = true;
        }
    // Zero points (all zero, as inference requires), of the quantized type and of float32.
    for (DT zt : {q, DT::kFLOAT})
      for (bool channel : {false, true}) {
        const Dims sdims = channel ? Dims{3} : Dims{};
        const std::string label =
            "zero point " + name_of(zt) + (channel ? ", per channel" : ", per tensor");
        const uint32_t sd = ++seed;
        Case* c = add("Quantize", "float32 to " + name_of(q) + ", " + label, [=](Network& n) {
          QuantizeAttrs a;
          a.axis = 1;
          a.output_type = q;
          Tensor* s = scale_tensor(n, DT::kFLOAT, sdims, base(q), false, sd);
          n.mark_output(n.add_quantize(in(n, "x", DT::kFLOAT, {4, 3, 8}), s, a, zeros(n, zt, sdims))
                            ->output(0));
        });
        c->flo = -8;
        c->fhi = 8;
        c->step = 1.0f / 64;
        c->fixed = specials;
        c->exact = true;
        c = add("Dequantize", name_of(q) + " to float16, " + label, [=](Network& n) {
          DequantizeAttrs a;
          a.axis = 1;
          a.to_type = DT::kHALF;
          Tensor* s = scale_tensor(n, DT::kFLOAT, sdims, 0.75f, false, sd);
          n.mark_output(
              n.add_dequantize(in(n, "x", q, {4, 3, 8}), s, a, zeros(n, zt, sdims))->output(0));
        });
        c->lo = q == DT::kINT8 ? -128 : -8;
        c->hi = q == DT::kINT8 ? 127 : 7;
        c->all_codes = true;
        c->exact = true;
      }
    for (const Dynamic& D : dynamics)
      for (DT t : {DT::kFLOAT, DT::kBF16}) {
        const uint32_t sd = ++seed;
        Case* c =
            add("Quantize", name_of(t) + " to " + name_of(q) + ", " + D.label, [=](Network& n) {
              QuantizeAttrs a;
              a.axis = D.axis;
              a.output_type = q;
              Tensor* s = scale_tensor(n, t, D.s, base(q), true, sd);
              n.mark_output(n.add_quantize(in(n, "x", t, D.x), s, a)->output(0));
            });
        c->profile["x"] = D.profile;
        c->flo = -8;
        c->fhi = 8;
        c->step = 1.0f / 64;
        c->fixed = specials;
        c->exact = true;
        c = add("Dequantize", name_of(q) + " to " + name_of(t) + ", " + D.label, [=](Network& n) {
          DequantizeAttrs a;
          a.axis = D.axis;
          a.to_type = t;
          Tensor* s = scale_tensor(n, t, D.s, 0.75f, false, sd);
          n.mark_output(n.add_dequantize(in(n, "x", q, D.x), s, a)->output(0));
        });
        c->profile["x"] = D.profile;
        c->lo = q == DT::kINT8 ? -128 : -8;
        c->hi = q == DT::kINT8 ? 127 : 7;
        c->all_codes = true;
        c->exact = true;
      }
    // A scale computed at run time (a network input), per channel.
    {
      Case* c = add(
          "Quantize", "float16 to " + name_of(q) + ", run-time per-channel scale", [=](Network& n) {
            QuantizeAttrs a;
            a.axis = 1;
            a.output_type = q;
            n.mark_output(
                n.add_quantize(in(n, "x", DT::kHALF, {4, 3, 8}), in(n, "s", DT::kHALF, {3}), a)
                    ->output(0));
          });
      c->flo = -8;
      c->fhi = 8;
      c->step = 1.0f / 64;
      c->ranges["s"] = {base(q) / 2, base(q) * 2};
      c->fixed = specials;
      c->exact = true;
      c = add(
          "Dequantize", name_of(q) + " to bfloat16, run-time per-channel scale", [=](Network& n) {
            DequantizeAttrs a;
            a.axis = 1;
            a.to_type = DT::kBF16;
            n.mark_output(n.add_dequantize(in(n, "x", q, {4, 3, 8}), in(n, "s", DT::kFLOAT, {3}), a)
                              ->output(0));
          });
      c->lo = q == DT::kINT8 ? -128 : -8;
      c->hi = q == DT::kINT8 ? 127 : 7;
      c->all_codes = true;
      c->ranges["s"] = {0.1f, 2.0f};
      c->exact = true;
    }
  }

  // DynamicQuantize: NVFP4, MXFP8 and FP8 with float scales; blocks along the last and the second
  // to last axis of rank-2 and rank-3 data. The leading elements put an all-zero block, a block
  // with NaNs (signaling first), one with infinities, one of subnormals and one of large values in
  // front of random grid values.
  std::vector<float> blocks(160);
  for (int k = 0; k < 160; ++k) {
    const float r = static_cast<float>(k % 9 - 4);
    blocks[static_cast<size_t>(k)] = k < 32    ? 0.0f
                                     : k < 64  ? 0.1f * r
                                     : k < 96  ? 0.5f * r
                                     : k < 128 ? 1e-39f * r
                                               : 1000.0f * r;
  }
  blocks[32] = snan;
  blocks[40] = -nan;
  blocks[70] = inf;
  blocks[75] = -inf;
  struct Format {
    std::string label;
    DT out, scale;
    int32_t block_size;
    bool global;  // a global-scale input
    float value;  // its value
  };
  const std::vector<Format> formats = {
      {"NVFP4", DT::kFP4, DT::kFP8, 16, true, 1.0f},
      {"NVFP4 global scale 1/64", DT::kFP4, DT::kFP8, 16, true, 1.0f / 64},
      {"MXFP8", DT::kFP8, DT::kE8M0, 32, false, 1.0f},
      {"MXFP8 global scale 1", DT::kFP8, DT::kE8M0, 32, true, 1.0f},
      {"FP8 float scales, blocks of 8", DT::kFP8, DT::kFLOAT, 8, true, 1.0f},
      {"FP8 float scales, blocks of 5, global scale 0.75", DT::kFP8, DT::kFLOAT, 5, true, 0.75f},
      {"FP8 float scales, blocks of 1, global scale 2", DT::kFP8, DT::kFLOAT, 1, true, 2.0f},
  };
  struct Blocked {
    Dims x;
    int32_t axis;
  };
  const std::vector<Blocked> shapes = {
      {{3, 160}, 1}, {{160, 3}, -2}, {{2, 3, 160}, -1}, {{2, 160, 3}, 1}};
  auto dynamic_quantize = [](Network& n, Tensor* x, Tensor* g, const Format& f, int32_t axis) {
    DynamicQuantizeAttrs a;
    a.axis = axis;
    a.block_size = f.block_size;
    a.output_type = f.out;
    a.scale_type = f.scale;
    Layer* l = n.add_dynamic_quantize(x, g, a);
    n.mark_output(l->output(0));
    n.mark_output(l->output(1));
  };
  auto global = [](Network& n, DT t, float v) {
    std::vector<uint8_t> host(static_cast<size_t>(element_size(t)));
    store_f(t, host.data(), 0, v);
    return n.add_constant({}, Weights::copy(t, host.data(), 1))->output(0);
  };
  for (size_t fi = 0; fi < formats.size(); ++fi)
    for (DT t : kFloat)
      for (const Blocked& b : shapes) {
        const Format f = formats[fi];
        // The global scale has the data's type for fp16/bf16 data in every other format.
        const DT gt = fi % 2 == 1 ? t : DT::kFLOAT;
        Case* c =
            add("DynamicQuantize",
                f.label + ", " + name_of(t) + " " + b.x.to_string() + " axis " +
                    std::to_string(b.axis) + (f.global ? ", " + name_of(gt) + " global scale" : ""),
                [=](Network& n) {
                  Tensor* x = in(n, "x", t, b.x);
                  dynamic_quantize(n, x, f.global ? global(n, gt, f.value) : nullptr, f, b.axis);
                });
        c->flo = -4;
        c->fhi = 4;
        c->step = 1.0f / 256;
        c->fixed = blocks;
        c->exact = true;
      }
  for (const Format& f : formats)
    for (DT t : {DT::kFLOAT, DT::kHALF}) {
      const bool outer = t == DT::kHALF;  // rank 3, blocks on the second to last axis
      Case* c =
          add("DynamicQuantize",
              f.label + ", " + name_of(t) + ", dynamic batch" + (outer ? ", rank 3, axis -2" : ""),
              [=](Network& n) {
                Tensor* x = in(n, "x", t, outer ? Dims{-1, 160, 3} : Dims{-1, 160});
                dynamic_quantize(n, x, f.global ? global(n, DT::kFLOAT, f.value) : nullptr, f,
                                 outer ? -2 : 1);
              });
      c->profile["x"] = outer ? ProfileDims{{1, 160, 3}, {2, 160, 3}, {5, 160, 3}}
                              : ProfileDims{{1, 160}, {4, 160}, {7, 160}};
      c->flo = -4;
      c->fhi = 4;
      c->step = 1.0f / 256;
      c->fixed = blocks;
      c->exact = true;
    }
  // A global scale computed at run time (for MXFP8 it must be 1; another value is an error
  // case).
  for (const Format& f : {formats[0], formats[3], formats[5]}) {
    Case* c =
        add("DynamicQuantize", f.label + ", bfloat16, run-time global scale", [=](Network& n) {
          dynamic_quantize(n, in(n, "x", DT::kBF16, {4, 160}), in(n, "g", DT::kFLOAT, {}), f, -1);
        });
    c->flo = -4;
    c->fhi = 4;
    c->step = 1.0f / 256;
    c->fixed = blocks;
    c->ranges["g"] = f.scale == DT::kE8M0 ? std::pair{1.0f, 1.0f} : std::pair{0.25f, 2.0f};
    c->exact = true;
  }
}

std::vector<Case> make_cases() {
  std::vector<Case> cs;
  auto add = [&](std::string kind, std::string label, std::function<void(Network&)> b,
                 double k = 1) {
    Case c;
    c.kind = std::move(kind);
    c.label = std::move(label);
    c.build = std::move(b);
    c.accumulate = k;
    cs.push_back(std::move(c));
    return &cs.back();
  };
  using EW = ElementWiseOperation;
  // ElementWise: every op on the types it takes, same shapes and both broadcast forms.
  const std::vector<std::pair<EW, std::vector<DT>>> ew = {
      {EW::kSUM, {DT::kFLOAT, DT::kHALF, DT::kBF16, DT::kINT32, DT::kINT64, DT::kINT8}},
      {EW::kPROD, {DT::kFLOAT, DT::kHALF, DT::kBF16, DT::kINT32, DT::kINT64}},
      {EW::kSUB, {DT::kFLOAT, DT::kHALF, DT::kINT32, DT::kINT64}},
      {EW::kDIV, {DT::kFLOAT, DT::kHALF, DT::kBF16}},
      {EW::kMAX, {DT::kFLOAT, DT::kHALF, DT::kINT32}},
      {EW::kMIN, {DT::kFLOAT, DT::kBF16, DT::kINT64}},
      {EW::kPOW, {DT::kFLOAT, DT::kINT32}},
      {EW::kFLOOR_DIV, {DT::kFLOAT, DT::kINT32, DT::kINT64}},
      {EW::kEQUAL, {DT::kFLOAT, DT::kINT32, DT::kINT64}},
      {EW::kGREATER, {DT::kFLOAT, DT::kHALF, DT::kINT64}},
      {EW::kLESS, {DT::kFLOAT, DT::kINT32}},
      {EW::kAND, {DT::kBOOL}},
      {EW::kOR, {DT::kBOOL}},
      {EW::kXOR, {DT::kBOOL}},
      {EW::kBITWISE_AND, {DT::kINT32, DT::kINT64, DT::kINT8}},
      {EW::kBITWISE_OR, {DT::kINT32, DT::kUINT8}},
      {EW::kBITWISE_XOR, {DT::kINT64, DT::kBOOL}},
  };
  const std::vector<std::pair<Dims, Dims>> ew_shapes = {
      {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {1, 3, 1}}, {{2, 1, 4}, {1, 5, 1}}, {{0, 3}, {1, 3}}};
  for (const auto& [op, types] : ew)
    for (DT t : types)
      for (const auto& [a, b] : ew_shapes) {
        Case* c =
            add("ElementWise",
                std::string(enum_name(op)) + " " + name_of(t) + " " + a.to_string() + b.to_string(),
                [=](Network& n) {
                  Layer* l = n.add_elementwise(in(n, "a", t, a), in(n, "b", t, b), op);
                  n.mark_output(l->output(0));
                });
        if (op == EW::kPOW) {
          c->lo = 0;
          c->hi = 3;
          c->flo = 0.1f;
        }
        if (op == EW::kDIV || op == EW::kFLOOR_DIV) c->lo = 1;
      }
  // Row kernels (Note [Row kernels]): rows of whole 16-byte packs (a bias over [B, S, C], a
  // per-channel scale over [N, C, H*W], a same-shape residual) and rows that are not (odd row
  // lengths: one element per thread).
  const std::vector<std::pair<Dims, Dims>> row_shapes = {
      {{3, 5, 32}, {1, 1, 32}}, {{2, 16, 8}, {1, 16, 1}}, {{4, 1, 24}, {4, 1, 24}},
      {{1, 8, 16}, {2, 8, 1}},  {{3, 5, 33}, {1, 1, 33}}, {{6, 40}, {6, 1}}};
  for (DT t : kFloat)
    for (EW op : {EW::kSUM, EW::kPROD, EW::kSUB})
      for (const auto& [a, b] : row_shapes)
        add("ElementWise",
            std::string(enum_name(op)) + " rows " + name_of(t) + " " + a.to_string() +
                b.to_string(),
            [=](Network& n) {
              n.mark_output(n.add_elementwise(in(n, "a", t, a), in(n, "b", t, b), op)->output(0));
            });
  // Dynamic batch at min, opt and max.
  {
    Case* c = add("ElementWise", "SUM float32 dynamic batch", [](Network& n) {
      Layer* l = n.add_elementwise(in(n, "a", DT::kFLOAT, {-1, 8}), in(n, "b", DT::kFLOAT, {1, 8}),
                                   EW::kSUM);
      n.mark_output(l->output(0));
    });
    c->profile["a"] = {{1, 8}, {4, 8}, {16, 8}};
  }
  using U = UnaryOperation;
  for (int o = 0; o <= static_cast<int>(U::kNOT); ++o) {
    const U op = static_cast<U>(o);
    std::vector<DT> types =
        op == U::kNOT ? std::vector<DT>{DT::kBOOL}
        : (op == U::kABS || op == U::kNEG || op == U::kSIGN)
            ? std::vector<DT>{DT::kFLOAT, DT::kHALF, DT::kBF16, DT::kINT32, DT::kINT64}
            : kFloat;
    for (DT t : types)
      for (const Dims& d : {Dims{3, 17}, Dims{4, 32}})  // one element per thread; 16-byte packs
        add("Unary", std::string(enum_name(op)) + " " + name_of(t) + " " + d.to_string(),
            [=](Network& n) { n.mark_output(n.add_unary(in(n, "x", t, d), op)->output(0)); });
  }
  for (int a = 0; a <= static_cast<int>(ActivationType::kGELU_TANH); ++a)
    for (DT t : kFloat) {
      const auto at = static_cast<ActivationType>(a);
      for (const Dims& d : {Dims{2, 5, 7}, Dims{2, 4, 16}})  // one element per thread; packs
        add("Activation", std::string(enum_name(at)) + " " + name_of(t) + " " + d.to_string(),
            [=](Network& n) {
              n.mark_output(n.add_activation(in(n, "x", t, d), at, 0.3f, 1.5f)->output(0));
            });
    }
  const std::vector<DT> cast_types = {DT::kFLOAT, DT::kHALF,  DT::kBF16, DT::kINT8, DT::kUINT8,
                                      DT::kINT32, DT::kINT64, DT::kBOOL, DT::kFP8};
  for (DT from : cast_types)
    for (DT to : cast_types) {
      Case* c = add("Cast", name_of(from) + " to " + name_of(to), [=](Network& n) {
        n.mark_output(n.add_cast(in(n, "x", from, {4, 9}), to)->output(0));
      });
      c->lo = -300;
      c->hi = 300;
      c->flo = -300;
      c->fhi = 300;
    }
  for (DT t : {DT::kFLOAT, DT::kINT64, DT::kBOOL, DT::kINT4})
    add("Identity", name_of(t), [=](Network& n) {
      n.mark_output(n.add_identity(in(n, "x", t, {3, 5}))->output(0));
    });
  // Shuffle: transposes around a reshape, and a reshape from a shape tensor.
  for (DT t : {DT::kFLOAT, DT::kHALF, DT::kINT8, DT::kINT64}) {
    add("Shuffle", "transpose " + name_of(t), [=](Network& n) {
      ShuffleAttrs s;
      s.first_transpose = {2, 0, 1};
      n.mark_output(n.add_shuffle(in(n, "x", t, {2, 3, 4}), s)->output(0));
    });
    add("Shuffle", "transpose-reshape-transpose " + name_of(t), [=](Network& n) {
      ShuffleAttrs s;
      s.first_transpose = {0, 2, 1, 3};
      s.reshape_dims = Dims{2, 12, 5};
      s.second_transpose = {1, 0, 2};
      n.mark_output(n.add_shuffle(in(n, "x", t, {2, 3, 4, 5}), s)->output(0));
    });
  }
  // Shuffles that are one strided copy (Note [Shuffle as a strided view]): attention's head
  // split and merge, a reshape that splits an axis before a transpose, a transpose of the last
  // two axes; and one whose reshape merges axes the transpose separated (the two-step map).
  for (DT t : {DT::kFLOAT, DT::kHALF, DT::kINT8, DT::kINT64}) {
    add("Shuffle", "head split " + name_of(t), [=](Network& n) {
      ShuffleAttrs s;
      s.first_transpose = {0, 2, 1, 3};
      n.mark_output(n.add_shuffle(in(n, "x", t, {2, 5, 3, 16}), s)->output(0));
    });
    add("Shuffle", "reshape-split then transpose " + name_of(t), [=](Network& n) {
      ShuffleAttrs s;
      s.reshape_dims = Dims{2, 5, 3, 16};
      s.second_transpose = {0, 2, 3, 1};
      n.mark_output(n.add_shuffle(in(n, "x", t, {2, 5, 48}), s)->output(0));
    });
    add("Shuffle", "transpose last two " + name_of(t), [=](Network& n) {
      ShuffleAttrs s;
      s.first_transpose = {0, 1, 3, 2};
      n.mark_output(n.add_shuffle(in(n, "x", t, {2, 3, 7, 16}), s)->output(0));
    });
    add("Shuffle", "head merge (not a view) " + name_of(t), [=](Network& n) {
      ShuffleAttrs s;
      s.first_transpose = {0, 2, 1, 3};
      s.reshape_dims = Dims{2, 5, 48};
      n.mark_output(n.add_shuffle(in(n, "x", t, {2, 3, 5, 16}), s)->output(0));
    });
    add("Shuffle", "size-1 axes " + name_of(t), [=](Network& n) {
      ShuffleAttrs s;
      s.first_transpose = {2, 0, 3, 1};
      s.reshape_dims = Dims{1, 4, 1, 6, 1};
      n.mark_output(n.add_shuffle(in(n, "x", t, {1, 2, 4, 3}), s)->output(0));
    });
  }
  {
    Case* c = add("Shuffle", "reshape by a shape tensor, dynamic batch", [](Network& n) {
      Tensor* x = in(n, "x", DT::kFLOAT, {-1, 6, 4});
      Tensor* shape = n.add_shape(x)->output(0);
      // [b, 6, 4] -> [b, 24] through Shape, Slice and Concatenation on shape tensors.
      Tensor* b = n.add_slice(shape, {0}, {1}, {1})->output(0);
      std::vector<int64_t> v{24};
      Tensor* rest = n.add_constant({1}, Weights::copy(DT::kINT64, v.data(), 1))->output(0);
      Tensor* parts[] = {b, rest};
      Tensor* dims = n.add_concatenation(parts, 0)->output(0);
      n.mark_output(n.add_shuffle(x, {}, dims)->output(0));
    });
    c->profile["x"] = {{1, 6, 4}, {3, 6, 4}, {9, 6, 4}};
  }
  for (SampleMode m : {SampleMode::kSTRICT_BOUNDS, SampleMode::kWRAP, SampleMode::kCLAMP,
                       SampleMode::kFILL, SampleMode::kREFLECT})
    for (DT t : {DT::kFLOAT, DT::kINT32}) {
      const bool strict = m == SampleMode::kSTRICT_BOUNDS;
      add("Slice", std::string(enum_name(m)) + " " + name_of(t), [=](Network& n) {
        // Strict: inside the input; the other modes read past its end on every axis.
        Dims start = strict ? Dims{1, 0, 3} : Dims{3, 1, 4};
        n.mark_output(n.add_slice(in(n, "x", t, {4, 5, 6}), start,
                                  strict ? Dims{2, 3, 1} : Dims{4, 6, 5},
                                  strict ? Dims{1, 2, 2} : Dims{2, 1, 3}, m)
                          ->output(0));
      });
    }
  for (int axis : {0, 1, 2})
    for (DT t : {DT::kFLOAT, DT::kHALF, DT::kINT64})
      add("Concatenation", "axis " + std::to_string(axis) + " " + name_of(t), [=](Network& n) {
        Dims a{2, 3, 4}, b{2, 3, 4};
        b[axis] = 5;
        Tensor* parts[] = {in(n, "a", t, a), in(n, "b", t, b), in(n, "c", t, a)};
        n.mark_output(n.add_concatenation(parts, axis)->output(0));
      });
  for (DT t : {DT::kFLOAT, DT::kINT8})
    add("Padding", name_of(t), [=](Network& n) {
      n.mark_output(n.add_padding_nd(in(n, "x", t, {1, 2, 4, 5}), {1, 2}, {2, 0})->output(0));
    });
  // Gather: every mode, negative axes, batch axes, every data type (one element per byte for
  // the sub-byte ones), ranks 1-5, empty tensors, a dynamic batch, and bad indices. Indices are
  // drawn from [lo, hi], negative ones counting from the end.
  const std::vector<DT> all_types = {DT::kFLOAT, DT::kHALF,  DT::kBF16,  DT::kINT8,
                                     DT::kUINT8, DT::kINT32, DT::kINT64, DT::kBOOL,
                                     DT::kFP8,   DT::kINT4,  DT::kFP4,   DT::kE8M0};
  auto gather_case = [&](std::string label, DT t, Dims d, DT it, Dims i, int axis, GatherMode m,
                         int nb, int lo, int hi) {
    Case* c = add(
        "Gather",
        std::move(label) + " " + name_of(t) + " " + name_of(it) + " data" + d.to_string() +
            " indices" + i.to_string(),
        [=](Network& n) {
          n.mark_output(n.add_gather(in(n, "d", t, d), in(n, "i", it, i), axis, m, nb)->output(0));
        });
    c->lo = lo;
    c->hi = hi;
    return c;
  };
  using GM = GatherMode;
  for (int axis : {0, 1, 2, -1, -3})
    for (DT it : {DT::kINT32, DT::kINT64})
      gather_case("DEFAULT axis " + std::to_string(axis), DT::kFLOAT, {4, 5, 6}, it, {2, 3}, axis,
                  GM::kDEFAULT, 0, -4, 3);
  for (DT t : all_types) {
    gather_case("DEFAULT axis 1", t, {3, 5, 4}, DT::kINT64, {2, 2}, 1, GM::kDEFAULT, 0, -5, 4);
    gather_case("DEFAULT batch axis", t, {3, 5, 4}, DT::kINT32, {3, 2}, 1, GM::kDEFAULT, 1, -5, 4);
    gather_case("ELEMENT axis 1", t, {4, 5}, DT::kINT32, {4, 3}, 1, GM::kELEMENT, 0, -5, 4);
    gather_case("ND m=2", t, {3, 4, 5}, DT::kINT64, {2, 2}, 0, GM::kND, 0, -3, 2);
  }
  // Embedding lookups: rows of whole packs, and rows that are not.
  for (DT t : {DT::kFLOAT, DT::kHALF, DT::kINT8, DT::kINT64}) {
    gather_case("DEFAULT embedding", t, {50, 32}, DT::kINT64, {3, 7}, 0, GM::kDEFAULT, 0, -50, 49);
    gather_case("DEFAULT embedding odd rows", t, {20, 13}, DT::kINT32, {2, 5}, 0, GM::kDEFAULT, 0,
                -20, 19);
    gather_case("DEFAULT middle axis rows", t, {3, 9, 16}, DT::kINT32, {4}, 1, GM::kDEFAULT, 0, -9,
                8);
  }
  // DEFAULT: scalar indices, batch axis broadcast from either side, ranks 1 and 5, empty.
  gather_case("DEFAULT scalar index", DT::kFLOAT, {4, 5}, DT::kINT32, {}, 1, GM::kDEFAULT, 0, -5,
              4);
  gather_case("DEFAULT rank 1", DT::kHALF, {7}, DT::kINT64, {3, 2}, 0, GM::kDEFAULT, 0, -7, 6);
  gather_case("DEFAULT rank 5", DT::kFLOAT, {2, 3, 2, 4, 3}, DT::kINT32, {5}, 3, GM::kDEFAULT, 0,
              -4, 3);
  gather_case("DEFAULT indices rank 3", DT::kINT64, {4, 6}, DT::kINT32, {2, 1, 3}, -1, GM::kDEFAULT,
              0, -6, 5);
  gather_case("DEFAULT batch axis, data broadcast", DT::kFLOAT, {1, 5, 4}, DT::kINT32, {3, 2}, 1,
              GM::kDEFAULT, 1, -5, 4);
  gather_case("DEFAULT batch axis, indices broadcast", DT::kFLOAT, {3, 5, 4}, DT::kINT64, {1, 2}, 2,
              GM::kDEFAULT, 1, -4, 3);
  gather_case("DEFAULT batch axis 0-D rest", DT::kBF16, {3, 5}, DT::kINT32, {3}, 1, GM::kDEFAULT, 1,
              -5, 4);
  gather_case("DEFAULT empty indices", DT::kFLOAT, {4, 5}, DT::kINT32, {0}, 1, GM::kDEFAULT, 0, -5,
              4);
  gather_case("DEFAULT empty data", DT::kFLOAT, {0, 5}, DT::kINT32, {3}, 1, GM::kDEFAULT, 0, -5, 4);
  // ELEMENT: every axis, a gather axis larger than the data's, indices smaller off the axis.
  for (int axis : {0, 1, 2, -1})
    for (DT it : {DT::kINT32, DT::kINT64})
      gather_case("ELEMENT axis " + std::to_string(axis), DT::kFLOAT, {3, 4, 5}, it, {3, 4, 5},
                  axis, GM::kELEMENT, 0, -3, 2);
  gather_case("ELEMENT larger gather axis", DT::kFLOAT, {4, 5}, DT::kINT32, {7, 3}, 0, GM::kELEMENT,
              0, -4, 3);
  gather_case("ELEMENT rank 1", DT::kINT32, {6}, DT::kINT64, {9}, 0, GM::kELEMENT, 0, -6, 5);
  gather_case("ELEMENT rank 5", DT::kHALF, {2, 3, 2, 3, 4}, DT::kINT32, {2, 2, 2, 3, 3}, 3,
              GM::kELEMENT, 0, -3, 2);
  gather_case("ELEMENT empty", DT::kFLOAT, {4, 5}, DT::kINT32, {0, 5}, 0, GM::kELEMENT, 0, -4, 3);
  // ND: index tuples of length 1..rank, batch axes, empty.
  for (int m = 1; m <= 3; ++m)
    for (DT it : {DT::kINT32, DT::kINT64})
      gather_case("ND m=" + std::to_string(m), DT::kFLOAT, {3, 4, 5}, it, {2, 3, m}, 0, GM::kND, 0,
                  -3, 2);
  gather_case("ND batch 1", DT::kFLOAT, {3, 4, 5}, DT::kINT32, {3, 2, 1}, 0, GM::kND, 1, -4, 3);
  gather_case("ND batch 1 m=2", DT::kHALF, {3, 4, 5}, DT::kINT64, {3, 2}, 0, GM::kND, 1, -4, 3);
  gather_case("ND batch 2", DT::kINT8, {2, 3, 4, 5}, DT::kINT32, {2, 3, 4, 1}, 0, GM::kND, 2, -4,
              3);
  gather_case("ND rank 5", DT::kFLOAT, {2, 3, 3, 2, 4}, DT::kINT32, {4, 2}, 0, GM::kND, 0, -2, 1);
  gather_case("ND indices rank 1", DT::kFLOAT, {3, 4}, DT::kINT64, {2}, 0, GM::kND, 0, -3, 2);
  gather_case("ND empty", DT::kFLOAT, {3, 4, 5}, DT::kINT32, {0, 2}, 0, GM::kND, 0, -3, 2);
  {
    Case* c = add("Gather", "DEFAULT dynamic batch", [](Network& n) {
      n.mark_output(n.add_gather(in(n, "d", DT::kFLOAT, {-1, 5, 6}), in(n, "i", DT::kINT32, {4}), 2)
                        ->output(0));
    });
    c->profile["d"] = {{1, 5, 6}, {3, 5, 6}, {8, 5, 6}};
    c->lo = -6;
    c->hi = 5;
  }
  {
    Case* c = add("Gather", "ELEMENT dynamic indices", [](Network& n) {
      n.mark_output(n.add_gather(in(n, "d", DT::kFLOAT, {4, 6}), in(n, "i", DT::kINT64, {-1, 6}), 0,
                                 GatherMode::kELEMENT)
                        ->output(0));
    });
    c->profile["i"] = {{1, 6}, {4, 6}, {9, 6}};
    c->lo = -4;
    c->hi = 3;
  }
  {
    Case* c = add("Gather", "ND dynamic indices", [](Network& n) {
      n.mark_output(n.add_gather(in(n, "d", DT::kFLOAT, {3, 4, 5}), in(n, "i", DT::kINT32, {-1, 2}),
                                 0, GatherMode::kND)
                        ->output(0));
    });
    c->profile["i"] = {{1, 2}, {3, 2}, {7, 2}};
    c->lo = -3;
    c->hi = 2;
  }
  // Bad indices: both engines raise the same error, naming the same first bad index.
  auto bad_gather = [&](std::string label, Dims d, Dims i, std::vector<int64_t> v, int axis,
                        GatherMode m, int nb) {
    Case* c = add("Gather", "out of range: " + std::move(label), [=](Network& n) {
      n.mark_output(
          n.add_gather(in(n, "d", DT::kFLOAT, d), int_constant(n, DT::kINT32, i, v), axis, m, nb)
              ->output(0));
    });
    c->expect_error = true;
  };
  bad_gather("DEFAULT", {4, 3}, {4}, {1, -4, 4, 9}, 0, GM::kDEFAULT, 0);
  bad_gather("DEFAULT below -n", {4, 3}, {3}, {0, -5, 1}, 1, GM::kDEFAULT, 0);
  bad_gather("DEFAULT batch axis", {2, 3}, {2, 2}, {0, 1, 2, 3}, 1, GM::kDEFAULT, 1);
  bad_gather("ELEMENT", {3, 4}, {3, 2}, {0, 1, 2, 4, -1, -5}, 1, GM::kELEMENT, 0);
  bad_gather("ND", {3, 4}, {2, 2}, {0, 0, 3, 1}, 0, GM::kND, 0);
  bad_gather("ND second of a tuple", {3, 4}, {2, 2}, {0, 4, 1, 1}, 0, GM::kND, 0);
  using R = ReduceOperation;
  for (R op : {R::kSUM, R::kPROD, R::kMAX, R::kMIN, R::kAVG})
    for (DT t : {DT::kFLOAT, DT::kHALF, DT::kINT32})
      for (AxesMask axes : {AxesMask{1}, AxesMask{2}, AxesMask{5}, AxesMask{7}})
        for (bool keep : {false, true}) {
          if (op == R::kAVG && t == DT::kINT32) continue;  // kAVG takes floating types only
          Case* c = add(
              "Reduce",
              std::string(enum_name(op)) + " " + name_of(t) + " axes " + std::to_string(axes) +
                  (keep ? " keep" : ""),
              [=](Network& n) {
                n.mark_output(n.add_reduce(in(n, "x", t, {3, 4, 5}), op, axes, keep)->output(0));
              },
              60);
          if (op == R::kPROD) {
            c->flo = 0.5f;
            c->fhi = 1.5f;
            c->lo = -1;
            c->hi = 1;
          }
        }
  for (AxesMask axes : {AxesMask{0}, AxesMask{1}, AxesMask{2}})
    for (DT t : kFloat)
      add(
          "SoftMax", "axes " + std::to_string(axes) + " " + name_of(t),
          [=](Network& n) {
            n.mark_output(n.add_softmax(in(n, "x", t, {2, 7, 33}), axes)->output(0));
          },
          33);
  // Rows as wide as attention's (the warp-per-row kernel's largest) and wider (the block kernel).
  for (int64_t len : {int64_t{1}, int64_t{1024}, int64_t{1500}})
    for (DT t : kFloat)
      add(
          "SoftMax", "row of " + std::to_string(len) + " " + name_of(t),
          [=](Network& n) {
            n.mark_output(n.add_softmax(in(n, "x", t, {3, 5, len}), 4)->output(0));
          },
          static_cast<double>(len));
  // Normalization: layer norm (last axis), instance norm (spatial axes), group norm.
  for (DT t : kFloat) {
    add(
        "Normalization", "layer norm " + name_of(t),
        [=](Network& n) {
          Tensor* x = in(n, "x", t, {2, 5, 64});
          NormalizationAttrs a;
          a.axes = 4;
          n.mark_output(n.add_normalization(x, constant(n, t, {1, 1, 64}, 1),
                                            constant(n, t, {1, 1, 64}, 2), a)
                            ->output(0));
        },
        64);
    // BERT's width (24 elements per lane of the warp kernel), and a wide row with one scale and
    // bias value for the whole row.
    add(
        "Normalization", "layer norm of 768 " + name_of(t),
        [=](Network& n) {
          Tensor* x = in(n, "x", t, {3, 7, 768});
          NormalizationAttrs a;
          a.axes = 4;
          n.mark_output(n.add_normalization(x, constant(n, t, {1, 1, 768}, 1, 0.5f, 1.5f),
                                            constant(n, t, {1, 1, 768}, 2), a)
                            ->output(0));
        },
        768);
    add(
        "Normalization", "layer norm of 1000, scalar scale " + name_of(t),
        [=](Network& n) {
          Tensor* x = in(n, "x", t, {2, 1000});
          NormalizationAttrs a;
          a.axes = 2;
          n.mark_output(
              n.add_normalization(x, constant(n, t, {1, 1}, 1), constant(n, t, {1, 1}, 2), a)
                  ->output(0));
        },
        1000);
    add(
        "Normalization", "instance norm " + name_of(t),
        [=](Network& n) {
          Tensor* x = in(n, "x", t, {2, 3, 6, 6});
          NormalizationAttrs a;
          a.axes = 12;
          n.mark_output(n.add_normalization(x, constant(n, t, {1, 3, 1, 1}, 3),
                                            constant(n, t, {1, 3, 1, 1}, 4), a)
                            ->output(0));
        },
        36);
    add(
        "Normalization", "group norm " + name_of(t),
        [=](Network& n) {
          Tensor* x = in(n, "x", t, {2, 6, 4, 4});
          NormalizationAttrs a;
          a.axes = 12;
          a.num_groups = 3;
          n.mark_output(n.add_normalization(x, constant(n, t, {1, 3, 1, 1}, 5),
                                            constant(n, t, {1, 3, 1, 1}, 6), a)
                            ->output(0));
        },
        32);
  }
  using M = MatrixOperation;
  struct MM {
    Dims a, b;
    M oa, ob;
  };
  const std::vector<MM> mms = {{{7, 33}, {33, 5}, M::kNONE, M::kNONE},
                               {{33, 7}, {33, 5}, M::kTRANSPOSE, M::kNONE},
                               {{7, 33}, {5, 33}, M::kNONE, M::kTRANSPOSE},
                               {{3, 7, 33}, {3, 33, 5}, M::kNONE, M::kNONE},
                               {{3, 7, 33}, {1, 33, 5}, M::kNONE, M::kNONE},
                               {{1, 7, 33}, {4, 5, 33}, M::kNONE, M::kTRANSPOSE},
                               {{2, 1, 7, 9}, {1, 3, 9, 4}, M::kNONE, M::kNONE},
                               {{33}, {33, 5}, M::kVECTOR, M::kNONE},
                               {{7, 33}, {33}, M::kNONE, M::kVECTOR},
                               {{0, 33}, {33, 5}, M::kNONE, M::kNONE},
                               {{64, 128}, {128, 96}, M::kNONE, M::kNONE},
                               // Mixed batch broadcasting (outer launches over strided batches).
                               {{2, 1, 3, 4, 5}, {1, 2, 1, 5, 6}, M::kNONE, M::kNONE},
                               {{3, 1, 6, 4}, {1, 2, 6, 5}, M::kTRANSPOSE, M::kNONE},
                               {{2, 1, 7}, {1, 3, 4, 7}, M::kVECTOR, M::kTRANSPOSE},
                               {{4, 1, 5, 8}, {4, 3, 8}, M::kNONE, M::kVECTOR},
                               {{1, 3, 1, 2, 4}, {2, 1, 3, 4, 3}, M::kNONE, M::kNONE},
                               // Empty contraction (zeros), empty batch, empty rows.
                               {{3, 0}, {0, 4}, M::kNONE, M::kNONE},
                               {{2, 3, 0}, {1, 0, 5}, M::kNONE, M::kNONE},
                               {{0, 3, 4}, {1, 4, 5}, M::kNONE, M::kNONE},
                               {{3, 4}, {4, 0}, M::kNONE, M::kNONE}};
  for (const MM& m : mms)
    for (DT t : kFloat)
      add(
          "MatrixMultiply", name_of(t) + " " + m.a.to_string() + " x " + m.b.to_string(),
          [=](Network& n) {
            n.mark_output(n.add_matrix_multiply(in(n, "a", t, m.a), m.oa, in(n, "b", t, m.b), m.ob)
                              ->output(0));
          },
          128);
  // MatrixMultiply takes floating types only (integer operands are rejected when the layer is
  // added). Dynamic batch, broadcast against a single matrix and against a mixed batch.
  for (DT t : kFloat) {
    Case* c = add(
        "MatrixMultiply", name_of(t) + " dynamic batch",
        [=](Network& n) {
          n.mark_output(n.add_matrix_multiply(in(n, "a", t, {-1, 1, 5, 12}), M::kNONE,
                                              in(n, "b", t, {1, 3, 12, 6}), M::kNONE)
                            ->output(0));
        },
        12);
    c->profile["a"] = {{1, 1, 5, 12}, {2, 1, 5, 12}, {6, 1, 5, 12}};
  }
  // A linear layer's bias sum and a residual sum after it (Note [MatMul epilogue]: one cuBLASLt
  // call on CUDA), the bias as either operand, and a residual that broadcasts (the layers one by
  // one there). Every operand is positive: the reference rounds the product, then each sum, to
  // the type, where the fused call rounds once, so under cancellation (a small sum of large
  // terms) the reference's own error would exceed the tolerance of the small result.
  for (DT t : kFloat)
    for (int variant = 0; variant < 3; ++variant) {
      Case* c = add(
          "MatrixMultiply",
          std::string(variant == 0   ? "bias and residual sums "
                      : variant == 1 ? "bias first, no residual "
                                     : "broadcast residual ") +
              name_of(t),
          [=](Network& n) {
            Tensor* x = in(n, "x", t, {2, 5, 32});
            Tensor* w = constant(n, t, {1, 32, 24}, 11, 0.0f, 0.5f);
            Tensor* bias = constant(n, t, {1, 1, 24}, 12, 0.0f, 1.0f);
            Tensor* y = n.add_matrix_multiply(x, M::kNONE, w, M::kNONE)->output(0);
            y = variant == 1 ? n.add_elementwise(bias, y, ElementWiseOperation::kSUM)->output(0)
                             : n.add_elementwise(y, bias, ElementWiseOperation::kSUM)->output(0);
            if (variant != 1) {
              Tensor* r = in(n, "r", t, variant == 0 ? Dims{2, 5, 24} : Dims{2, 1, 24});
              y = n.add_elementwise(r, y, ElementWiseOperation::kSUM)->output(0);
            }
            n.mark_output(y);
          },
          32);
      c->flo = 0.0f;
      c->fhi = 2.0f;
    }
  // Attention (Note [Fused attention]): query and key lengths not multiples of 16, a broadcast
  // mask, K read transposed, head sizes 32, 64 and 128, and 300 keys (the layers one by one).
  struct Att {
    int64_t b, sq, sk, h, d;
    bool mask, k_read_transposed;
  };
  for (const Att& at : {Att{2, 20, 20, 4, 64, false, false}, Att{2, 7, 33, 3, 64, true, true},
                        Att{1, 130, 130, 2, 32, true, false}, Att{2, 40, 40, 2, 128, false, true},
                        Att{1, 16, 300, 2, 64, false, false}})
    for (DT t : {DT::kHALF, DT::kBF16, DT::kFLOAT}) {
      // Queries and keys in [-1, 1]: scores of attention's usual size (not logits of tens, whose
      // rounding to the type alone moves the probabilities by more than the output's tolerance).
      Case* c = add(
          "SoftMax",
          "attention " + std::to_string(at.b) + "x" + std::to_string(at.sq) + "x" +
              std::to_string(at.sk) + " heads " + std::to_string(at.h) + "x" +
              std::to_string(at.d) + (at.mask ? " mask" : "") +
              (at.k_read_transposed ? " K^T" : "") + " " + name_of(t),
          [=](Network& n) {
            Tensor* q = in(n, "q", t, {at.b, at.sq, at.h, at.d});
            Tensor* k = in(n, "k", t, {at.b, at.sk, at.h, at.d});
            Tensor* v = in(n, "v", t, {at.b, at.sk, at.h, at.d});
            Tensor* mask = at.mask ? in(n, "mask", t, {at.b, 1, 1, at.sk}) : nullptr;
            n.mark_output(attention(n, q, k, v, mask, at.k_read_transposed));
          },
          static_cast<double>(at.d + at.sk));
      c->ranges["q"] = {-1.0f, 1.0f};
      c->ranges["k"] = {-1.0f, 1.0f};
    }
  // Convolution: 1-3 spatial axes, stride, dilation, groups, asymmetric padding, bias.
  struct Conv {
    Dims x, k;
    int64_t maps, groups;
    Dims stride, pre, post, dil;
    bool bias;
  };
  const std::vector<Conv> convs = {
      {{2, 3, 9, 9}, {3, 3}, 8, 1, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true},
      {{1, 4, 10, 8}, {3, 3}, 6, 2, {2, 2}, {1, 1}, {1, 1}, {1, 1}, false},
      {{1, 4, 10, 8}, {3, 3}, 4, 4, {1, 1}, {2, 2}, {2, 2}, {2, 2}, true},
      {{1, 3, 9, 9}, {3, 3}, 5, 1, {1, 1}, {0, 1}, {1, 0}, {1, 1}, true},
      {{2, 3, 17}, {5}, 4, 1, {2}, {2}, {2}, {1}, true},
      {{1, 2, 5, 6, 7}, {3, 3, 3}, 3, 1, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, true},
      {{1, 64, 14, 14}, {3, 3}, 64, 1, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true}};
  for (const Conv& cv : convs)
    for (DT t : {DT::kFLOAT, DT::kHALF, DT::kBF16}) {
      int64_t k = cv.x[1] / cv.groups;
      for (int64_t s : cv.k) k *= s;
      add(
          "Convolution",
          name_of(t) + " x" + cv.x.to_string() + " k" + cv.k.to_string() + " g" +
              std::to_string(cv.groups) + " pre" + cv.pre.to_string() + " post" +
              cv.post.to_string(),
          [=](Network& n) {
            ConvolutionAttrs a;
            a.num_output_maps = cv.maps;
            a.kernel_size = cv.k;
            a.stride = cv.stride;
            a.pre_padding = cv.pre;
            a.post_padding = cv.post;
            a.dilation = cv.dil;
            a.num_groups = cv.groups;
            Dims kd{cv.maps, cv.x[1] / cv.groups};
            for (int64_t s : cv.k) kd.push_back(s);
            Tensor* w = constant(n, t, kd, 11);
            Tensor* b = cv.bias ? constant(n, t, {cv.maps}, 12) : nullptr;
            n.mark_output(n.add_convolution_nd(in(n, "x", t, cv.x), a, w, b)->output(0));
          },
          static_cast<double>(k));
    }
  for (PoolingType pt : {PoolingType::kMAX, PoolingType::kAVERAGE})
    for (DT t : {DT::kFLOAT, DT::kHALF})
      for (bool pad : {false, true})
        for (bool exclude : {true, false}) {
          if (pt == PoolingType::kMAX && !exclude) continue;
          add(
              "Pooling",
              std::string(enum_name(pt)) + " " + name_of(t) + (pad ? " padded" : "") +
                  (exclude ? "" : " count-pad"),
              [=](Network& n) {
                PoolingAttrs a;
                a.type = pt;
                a.window = {3, 3};
                a.stride = {2, 2};
                if (pad) a.pre_padding = a.post_padding = {1, 1};
                a.average_count_excludes_padding = exclude;
                n.mark_output(n.add_pooling_nd(in(n, "x", t, {2, 3, 9, 10}), a)->output(0));
              },
              9);
        }
  {
    Case* c = add("Pooling", "MAX ceil mode", [](Network& n) {
      PoolingAttrs a;
      a.window = {2, 2};
      a.padding_mode = PaddingMode::kEXPLICIT_ROUND_UP;
      n.mark_output(n.add_pooling_nd(in(n, "x", DT::kFLOAT, {1, 2, 7, 7}), a)->output(0));
    });
    (void)c;
  }
  // Convolution geometry cuDNN's symmetric padding cannot say (explicit padding first): one
  // side only, rounding up, the SAME modes with even kernels; 1-3 spatial axes, empty batch.
  struct ConvX {
    Dims x, k, stride, pre, post, dil;
    PaddingMode mode;
    int64_t groups;
  };
  using PM = PaddingMode;
  const std::vector<ConvX> conv_x = {
      {{2, 3, 8, 9}, {3, 3}, {1, 1}, {2, 0}, {0, 1}, {1, 1}, PM::kEXPLICIT_ROUND_DOWN, 1},
      {{1, 4, 9, 9}, {3, 2}, {2, 2}, {1, 0}, {1, 1}, {1, 2}, PM::kEXPLICIT_ROUND_UP, 2},
      {{1, 3, 10, 7}, {4, 4}, {2, 3}, {}, {}, {1, 1}, PM::kSAME_UPPER, 1},
      {{1, 3, 10, 7}, {2, 4}, {1, 2}, {}, {}, {1, 1}, PM::kSAME_LOWER, 1},
      {{2, 2, 13}, {4}, {3}, {0}, {2}, {1}, PM::kEXPLICIT_ROUND_UP, 1},
      {{1, 2, 5, 6, 4},
       {2, 3, 2},
       {1, 2, 1},
       {1, 0, 1},
       {0, 2, 0},
       {1, 1, 1},
       PM::kEXPLICIT_ROUND_DOWN,
       1},
      {{0, 3, 6, 6}, {3, 3}, {1, 1}, {1, 0}, {0, 1}, {1, 1}, PM::kEXPLICIT_ROUND_DOWN, 1}};
  for (const ConvX& cv : conv_x)
    for (DT t : {DT::kFLOAT, DT::kHALF, DT::kBF16}) {
      int64_t k = cv.x[1] / cv.groups;
      for (int64_t s : cv.k) k *= s;
      add(
          "Convolution",
          name_of(t) + " x" + cv.x.to_string() + " k" + cv.k.to_string() + " " +
              std::string(enum_name(cv.mode)) + " pre" + cv.pre.to_string() + " post" +
              cv.post.to_string(),
          [=](Network& n) {
            ConvolutionAttrs a;
            a.num_output_maps = 4;
            a.kernel_size = cv.k;
            a.stride = cv.stride;
            a.pre_padding = cv.pre;
            a.post_padding = cv.post;
            a.dilation = cv.dil;
            a.padding_mode = cv.mode;
            a.num_groups = cv.groups;
            Dims kd{4, cv.x[1] / cv.groups};
            for (int64_t s : cv.k) kd.push_back(s);
            n.mark_output(n.add_convolution_nd(in(n, "x", t, cv.x), a, constant(n, t, kd, 21),
                                               constant(n, t, {4}, 22))
                              ->output(0));
          },
          static_cast<double>(k));
    }
  {
    Case* c = add(
        "Convolution", "float32 asymmetric padding, dynamic batch",
        [](Network& n) {
          ConvolutionAttrs a;
          a.num_output_maps = 5;
          a.kernel_size = {3, 3};
          a.pre_padding = {0, 1};
          a.post_padding = {2, 0};
          n.mark_output(n.add_convolution_nd(in(n, "x", DT::kFLOAT, {-1, 2, 6, 6}), a,
                                             constant(n, DT::kFLOAT, {5, 2, 3, 3}, 23))
                            ->output(0));
        },
        18);
    c->profile["x"] = {{1, 2, 6, 6}, {2, 2, 6, 6}, {5, 2, 6, 6}};
  }
  // Pooling cuDNN cannot express runs the direct window kernel: asymmetric padding (max pads
  // never win; averages count the padding or not), rounding up, SAME, dilation, the blend.
  struct PoolX {
    PoolingType type;
    Dims x, window, stride, pre, post, dil;
    PaddingMode mode;
    bool exclude;
    float blend;
  };
  const std::vector<PoolX> pool_x = {
      {PoolingType::kMAX,
       {2, 3, 9, 8},
       {3, 3},
       {2, 2},
       {2, 0},
       {0, 1},
       {},
       PM::kEXPLICIT_ROUND_DOWN,
       true,
       0},
      {PoolingType::kAVERAGE,
       {2, 3, 9, 8},
       {3, 3},
       {2, 2},
       {2, 0},
       {0, 1},
       {},
       PM::kEXPLICIT_ROUND_DOWN,
       true,
       0},
      {PoolingType::kAVERAGE,
       {2, 3, 9, 8},
       {3, 3},
       {2, 2},
       {2, 0},
       {0, 1},
       {},
       PM::kEXPLICIT_ROUND_DOWN,
       false,
       0},
      {PoolingType::kAVERAGE,
       {1, 2, 7, 7},
       {2, 3},
       {3, 2},
       {1, 1},
       {1, 1},
       {},
       PM::kEXPLICIT_ROUND_UP,
       false,
       0},
      {PoolingType::kMAX, {1, 2, 7, 6}, {2, 2}, {2, 2}, {}, {}, {}, PM::kSAME_UPPER, true, 0},
      {PoolingType::kAVERAGE, {1, 2, 7, 6}, {4, 2}, {1, 1}, {}, {}, {}, PM::kSAME_LOWER, true, 0},
      {PoolingType::kMAX,
       {1, 2, 11, 11},
       {3, 3},
       {1, 2},
       {1, 1},
       {1, 1},
       {2, 2},
       PM::kEXPLICIT_ROUND_DOWN,
       true,
       0},
      {PoolingType::kMAX_AVERAGE_BLEND,
       {1, 3, 8, 8},
       {2, 2},
       {2, 2},
       {1, 0},
       {0, 1},
       {},
       PM::kEXPLICIT_ROUND_DOWN,
       true,
       0.3f},
      {PoolingType::kAVERAGE,
       {2, 3, 11},
       {4},
       {2},
       {2},
       {0},
       {},
       PM::kEXPLICIT_ROUND_DOWN,
       false,
       0},
      {PoolingType::kMAX,
       {1, 2, 5, 6, 7},
       {2, 3, 2},
       {2, 1, 2},
       {0, 1, 1},
       {1, 0, 0},
       {},
       PM::kEXPLICIT_ROUND_DOWN,
       true,
       0},
      {PoolingType::kAVERAGE,
       {0, 3, 6, 6},
       {2, 2},
       {2, 2},
       {1, 0},
       {0, 0},
       {},
       PM::kEXPLICIT_ROUND_DOWN,
       true,
       0}};
  for (const PoolX& px : pool_x)
    for (DT t : {DT::kFLOAT, DT::kHALF, DT::kBF16})
      add(
          "Pooling",
          std::string(enum_name(px.type)) + " " + name_of(t) + " x" + px.x.to_string() + " " +
              std::string(enum_name(px.mode)) + " pre" + px.pre.to_string() + " post" +
              px.post.to_string() + " dilation" + px.dil.to_string() +
              (px.exclude ? "" : " count-pad"),
          [=](Network& n) {
            PoolingAttrs a;
            a.type = px.type;
            a.window = px.window;
            a.stride = px.stride;
            a.pre_padding = px.pre;
            a.post_padding = px.post;
            a.dilation = px.dil;
            a.padding_mode = px.mode;
            a.average_count_excludes_padding = px.exclude;
            a.blend_factor = px.blend;
            n.mark_output(n.add_pooling_nd(in(n, "x", t, px.x), a)->output(0));
          },
          12);
  {
    Case* c = add("Pooling", "MAX float16 asymmetric, dynamic batch", [](Network& n) {
      PoolingAttrs a;
      a.window = {3, 3};
      a.stride = {1, 1};
      a.pre_padding = {1, 0};
      a.post_padding = {0, 2};
      n.mark_output(n.add_pooling_nd(in(n, "x", DT::kHALF, {-1, 3, 8, 8}), a)->output(0));
    });
    c->profile["x"] = {{1, 3, 8, 8}, {2, 3, 8, 8}, {4, 3, 8, 8}};
  }
  for (ScaleMode m : {ScaleMode::kUNIFORM, ScaleMode::kCHANNEL, ScaleMode::kELEMENTWISE})
    add("Scale", std::string(enum_name(m)), [=](Network& n) {
      ScaleAttrs a;
      a.mode = m;
      const int64_t count = m == ScaleMode::kUNIFORM ? 1 : m == ScaleMode::kCHANNEL ? 3 : 3 * 4 * 5;
      std::vector<float> s(static_cast<size_t>(count)), h(s.size());
      for (size_t i = 0; i < s.size(); ++i) {
        s[i] = 0.5f + 0.1f * static_cast<float>(i);
        h[i] = -0.2f * static_cast<float>(i);
      }
      a.scale = Weights::copy(DT::kFLOAT, s.data(), count);
      a.shift = Weights::copy(DT::kFLOAT, h.data(), count);
      n.mark_output(n.add_scale_nd(in(n, "x", DT::kFLOAT, {2, 3, 4, 5}), a)->output(0));
    });
  for (DT t : {DT::kFLOAT, DT::kHALF, DT::kINT64})
    add("Select", name_of(t), [=](Network& n) {
      Tensor* c = in(n, "c", DT::kBOOL, {2, 1, 4});
      n.mark_output(n.add_select(c, in(n, "t", t, {2, 3, 4}), in(n, "e", t, {1, 3, 1}))->output(0));
    });
  add("ParametricReLU", "channel slope", [](Network& n) {
    Tensor* x = in(n, "x", DT::kFLOAT, {2, 3, 4});
    n.mark_output(n.add_parametric_relu(x, constant(n, DT::kFLOAT, {1, 3, 1}, 7))->output(0));
  });
  // Kinds that run through the reference fallback for now: checked all the same.
  // TopK: both operations on every type it takes, each axis position, k from 1 to the axis
  // length (3840, TensorRT's limit, on rows long enough for several segment passes), empty
  // tensors, a k tensor, dynamic dims, and NaN / signed-zero orders.
  {
    const std::vector<DT> topk_types = {DT::kFLOAT, DT::kHALF, DT::kBF16, DT::kINT32, DT::kINT64};
    struct TK {
      Dims x;
      AxesMask axes;
      int64_t k;
    };
    const std::vector<TK> tks = {{{2, 9}, 2, 3},       {{2, 9}, 2, 9},          {{5, 7, 6}, 1, 2},
                                 {{3, 4, 5, 6}, 4, 5}, {{2, 3, 2, 4, 5}, 8, 2}, {{7}, 1, 4},
                                 {{0, 9}, 2, 3},       {{3, 20000}, 2, 3840},   {{2, 100000}, 2, 7},
                                 {{50000, 3}, 1, 4},   {{2, 3840}, 2, 3840}};
    int variant = 0;
    for (TopKOperation op : {TopKOperation::kMAX, TopKOperation::kMIN})
      for (DT t : topk_types)
        for (const TK& tk : tks) {
          const DT it = (variant++ % 2) ? DT::kINT64 : DT::kINT32;
          add("TopK",
              std::string(enum_name(op)) + " " + name_of(t) + " x" + tk.x.to_string() + " axes " +
                  std::to_string(tk.axes) + " k " + std::to_string(tk.k) + " " + name_of(it),
              [=](Network& n) {
                Layer* l = n.add_topk(in(n, "x", t, tk.x), op, tk.k, tk.axes, it);
                n.mark_output(l->output(0));
                n.mark_output(l->output(1));
              });
        }
    // NaN counts as the largest value; log of [-2, 2] gives NaNs, -inf at 0 and ties.
    for (TopKOperation op : {TopKOperation::kMAX, TopKOperation::kMIN})
      for (DT t : kFloat)
        for (int64_t k : {int64_t{5}, int64_t{37}})
          add("TopK",
              std::string(enum_name(op)) + " " + name_of(t) + " with NaNs k " + std::to_string(k),
              [=](Network& n) {
                Tensor* x = n.add_unary(in(n, "x", t, {4, 37}), UnaryOperation::kLOG)->output(0);
                Layer* l = n.add_topk(x, op, k, 2);
                n.mark_output(l->output(0));
                n.mark_output(l->output(1));
              });
    // Products with zero: +0 and -0 tie, so the lower index wins whatever the sign.
    for (TopKOperation op : {TopKOperation::kMAX, TopKOperation::kMIN})
      add("TopK", std::string(enum_name(op)) + " signed zeros tie", [=](Network& n) {
        std::vector<float> zero{0.0f};
        Tensor* z = n.add_constant({1, 1}, Weights::copy(DT::kFLOAT, zero.data(), 1))->output(0);
        Tensor* x =
            n.add_elementwise(in(n, "x", DT::kFLOAT, {3, 40}), z, ElementWiseOperation::kPROD)
                ->output(0);
        Layer* l = n.add_topk(x, op, 17, 2);
        n.mark_output(l->output(0));
        n.mark_output(l->output(1));
      });
    add("TopK", "k from a tensor", [](Network& n) {
      std::vector<int32_t> k{4};
      Tensor* kt = n.add_constant({}, Weights::copy(DT::kINT32, k.data(), 1))->output(0);
      Layer* l =
          n.add_topk(in(n, "x", DT::kFLOAT, {3, 11}), TopKOperation::kMAX, 1, 2, DT::kINT64, kt);
      n.mark_output(l->output(0));
      n.mark_output(l->output(1));
    });
    {
      Case* c = add("TopK", "dynamic batch", [](Network& n) {
        Layer* l = n.add_topk(in(n, "x", DT::kHALF, {-1, 33}), TopKOperation::kMIN, 5, 2);
        n.mark_output(l->output(0));
        n.mark_output(l->output(1));
      });
      c->profile["x"] = {{1, 33}, {4, 33}, {16, 33}};
    }
    {
      Case* c = add("TopK", "dynamic axis length", [](Network& n) {
        Layer* l = n.add_topk(in(n, "x", DT::kINT32, {4, -1}), TopKOperation::kMAX, 5, 2);
        n.mark_output(l->output(0));
        n.mark_output(l->output(1));
      });
      c->profile["x"] = {{4, 5}, {4, 300}, {4, 9000}};
      c->lo = -50;
      c->hi = 50;
    }
  }
  // Cumulative: every type, exclusive and reverse, each axis position (negative too), rank 1
  // to 5, empty tensors, long lines (the per-block scan), integer wrap-around, dynamic dims.
  {
    const std::vector<DT> cum_types = {DT::kFLOAT, DT::kHALF, DT::kBF16, DT::kINT32, DT::kINT64};
    const std::vector<std::pair<Dims, int>> cums = {
        {{3, 8}, 1}, {{4, 5, 6}, 0}, {{4, 5, 6}, -1}, {{2, 3, 4, 5, 2}, -3},
        {{17}, 0},   {{0, 5}, 1},    {{3, 5000}, 1},  {{5000, 2}, -2}};
    for (DT t : cum_types)
      for (const auto& [x, axis] : cums)
        for (bool exclusive : {false, true})
          for (bool reverse : {false, true}) {
            const int rank = x.rank();
            const int64_t len = x[axis < 0 ? axis + rank : axis];
            add(
                "Cumulative",
                "SUM " + name_of(t) + " x" + x.to_string() + " axis " + std::to_string(axis) +
                    (exclusive ? " exclusive" : "") + (reverse ? " reverse" : ""),
                [=](Network& n) {
                  n.mark_output(n.add_cumulative(in(n, "x", t, x), CumulativeOperation::kSUM, axis,
                                                 exclusive, reverse)
                                    ->output(0));
                },
                static_cast<double>(len));
          }
    for (DT t : {DT::kINT32, DT::kINT64}) {
      Case* c = add("Cumulative", "SUM " + name_of(t) + " wraps", [=](Network& n) {
        n.mark_output(
            n.add_cumulative(in(n, "x", t, {2, 3000}), CumulativeOperation::kSUM, 1)->output(0));
      });
      c->lo = -2000000000;
      c->hi = 2000000000;
    }
    {
      Case* c = add(
          "Cumulative", "SUM float32 dynamic lines",
          [](Network& n) {
            n.mark_output(n.add_cumulative(in(n, "x", DT::kFLOAT, {-1, 40}),
                                           CumulativeOperation::kSUM, 1, true)
                              ->output(0));
          },
          40);
      c->profile["x"] = {{1, 40}, {8, 40}, {64, 40}};
    }
    {
      Case* c = add(
          "Cumulative", "SUM float32 dynamic axis",
          [](Network& n) {
            n.mark_output(n.add_cumulative(in(n, "x", DT::kFLOAT, {2, -1}),
                                           CumulativeOperation::kSUM, -1, false, true)
                              ->output(0));
          },
          3000);
      c->profile["x"] = {{2, 1}, {2, 100}, {2, 3000}};
    }
  }
  // Resize: every mode, rounding, coordinate transformation and single-pixel selector; cubic
  // coefficients and exclude_outside; 1-3 spatial axes; output dims, scales (attribute or
  // input) and a shape tensor; identity axes; empty outputs; a dynamic batch.
  using CT = ResizeCoordinateTransformation;
  using IM = InterpolationMode;
  const std::vector<DT> nearest_types = {DT::kFLOAT, DT::kHALF,  DT::kBF16,
                                         DT::kINT8,  DT::kINT32, DT::kINT64};
  auto resize_attrs = [](IM mode, CT ct, Dims out) {
    ResizeAttrs a;
    a.output_dims = out;
    a.resize_mode = mode;
    a.coordinate_transformation = ct;
    return a;
  };
  auto resize_case = [&](std::string label, DT t, Dims x, ResizeAttrs a) {
    return add("Resize", std::move(label) + " " + name_of(t) + " " + x.to_string(),
               [=](Network& n) { n.mark_output(n.add_resize(in(n, "x", t, x), a)->output(0)); });
  };
  for (CT ct : {CT::kALIGN_CORNERS, CT::kASYMMETRIC, CT::kHALF_PIXEL})
    for (ResizeRoundMode r : {ResizeRoundMode::kHALF_UP, ResizeRoundMode::kHALF_DOWN,
                              ResizeRoundMode::kFLOOR, ResizeRoundMode::kCEIL})
      for (DT t : nearest_types) {
        // Up on H by a non-integer factor (ties on half-pixel grids), down on W.
        ResizeAttrs a = resize_attrs(IM::kNEAREST, ct, {1, 2, 8, 4});
        a.nearest_rounding = r;
        resize_case("NEAREST " + std::string(enum_name(ct)) + " " + std::string(enum_name(r)), t,
                    {1, 2, 5, 7}, a);
      }
  for (CT ct : {CT::kALIGN_CORNERS, CT::kASYMMETRIC, CT::kHALF_PIXEL})
    for (DT t : kFloat) {
      resize_case("LINEAR " + std::string(enum_name(ct)), t, {2, 3, 4, 5},
                  resize_attrs(IM::kLINEAR, ct, {2, 3, 7, 3}));
      resize_case("LINEAR 1-D " + std::string(enum_name(ct)), t, {2, 3, 7},
                  resize_attrs(IM::kLINEAR, ct, {2, 3, 12}));
      resize_case("LINEAR 3-D " + std::string(enum_name(ct)), t, {1, 2, 3, 4, 5},
                  resize_attrs(IM::kLINEAR, ct, {1, 2, 5, 3, 8}));
      for (bool exclude : {false, true})
        for (float coeff : {-0.75f, -0.5f}) {
          ResizeAttrs a = resize_attrs(IM::kCUBIC, ct, {1, 2, 9, 4});
          a.exclude_outside = exclude;
          a.cubic_coeff = coeff;
          resize_case("CUBIC " + std::string(enum_name(ct)) + " A=" + std::to_string(coeff) +
                          (exclude ? " exclude_outside" : ""),
                      t, {1, 2, 5, 6}, a);
        }
      resize_case("CUBIC 1-D " + std::string(enum_name(ct)), t, {2, 9},
                  resize_attrs(IM::kCUBIC, ct, {2, 13}));
      resize_case("NEAREST 3-D " + std::string(enum_name(ct)), t, {1, 1, 3, 4, 5},
                  resize_attrs(IM::kNEAREST, ct, {1, 1, 6, 2, 9}));
    }
  // One output pixel on an axis: the formula or kUPPER (the upper-left pixel).
  for (IM mode : {IM::kNEAREST, IM::kLINEAR, IM::kCUBIC})
    for (ResizeSelector sel : {ResizeSelector::kFORMULA, ResizeSelector::kUPPER}) {
      ResizeAttrs a = resize_attrs(mode, CT::kHALF_PIXEL, {1, 2, 1, 3});
      a.selector_for_single_pixel = sel;
      resize_case(std::string(enum_name(mode)) + " one pixel " + std::string(enum_name(sel)),
                  DT::kFLOAT, {1, 2, 5, 7}, a);
    }
  // Scales instead of output dims: the coordinates use 1/scale, not in/out.
  for (IM mode : {IM::kNEAREST, IM::kLINEAR, IM::kCUBIC})
    for (CT ct : {CT::kASYMMETRIC, CT::kHALF_PIXEL})
      for (DT t : {DT::kFLOAT, DT::kHALF}) {
        ResizeAttrs a;
        a.resize_mode = mode;
        a.coordinate_transformation = ct;
        a.scales = {1.0, 1.0, 1.7, 0.6};
        resize_case(std::string(enum_name(mode)) + " scales " + std::string(enum_name(ct)), t,
                    {2, 2, 5, 8}, a);
      }
  {
    ResizeAttrs a;
    a.scales = {1.0, 2.0, 3.0};
    resize_case("NEAREST integer scales", DT::kINT32, {2, 3, 4}, a);
    resize_case("NEAREST identity", DT::kINT64, {2, 3, 4},
                resize_attrs(IM::kNEAREST, CT::kHALF_PIXEL, {2, 3, 4}));
    resize_case("LINEAR identity", DT::kBF16, {2, 3, 4},
                resize_attrs(IM::kLINEAR, CT::kALIGN_CORNERS, {2, 3, 4}));
    resize_case("LINEAR rank 1", DT::kFLOAT, {6}, resize_attrs(IM::kLINEAR, CT::kHALF_PIXEL, {11}));
    resize_case("LINEAR empty output", DT::kFLOAT, {2, 3, 4},
                resize_attrs(IM::kLINEAR, CT::kHALF_PIXEL, {2, 0, 6}));
    resize_case("NEAREST empty input", DT::kINT8, {0, 3, 4},
                resize_attrs(IM::kNEAREST, CT::kASYMMETRIC, {0, 5, 2}));
  }
  // Scales as a constant input and as an engine input; output dims from a shape tensor.
  for (IM mode : {IM::kNEAREST, IM::kLINEAR}) {
    add("Resize", std::string(enum_name(mode)) + " scales input (constant)", [=](Network& n) {
      ResizeAttrs a;
      a.resize_mode = mode;
      a.coordinate_transformation = CT::kHALF_PIXEL;
      std::vector<float> sc{1.0f, 1.0f, 2.5f, 0.75f};
      Tensor* s = n.add_constant({4}, Weights::copy(DT::kFLOAT, sc.data(), 4))->output(0);
      n.mark_output(n.add_resize(in(n, "x", DT::kFLOAT, {1, 2, 4, 8}), a, s)->output(0));
    });
    Case* c = add(
        "Resize", std::string(enum_name(mode)) + " scales input (engine input)", [=](Network& n) {
          ResizeAttrs a;
          a.resize_mode = mode;
          a.coordinate_transformation = CT::kASYMMETRIC;
          n.mark_output(
              n.add_resize(in(n, "x", DT::kFLOAT, {1, 2, 4, 8}), a, in(n, "s", DT::kFLOAT, {4}))
                  ->output(0));
        });
    c->flo = 1.0f;
    c->fhi = 2.5f;
    Case* d = add("Resize", std::string(enum_name(mode)) + " output dims from a shape tensor",
                  [=](Network& n) {
                    ResizeAttrs a;
                    a.resize_mode = mode;
                    a.coordinate_transformation = CT::kALIGN_CORNERS;
                    Tensor* like = in(n, "like", DT::kFLOAT, {1, 2, -1, -1});
                    n.mark_output(n.add_resize(in(n, "x", DT::kFLOAT, {1, 2, 4, 5}), a,
                                               n.add_shape(like)->output(0))
                                      ->output(0));
                  });
    d->profile["like"] = {{1, 2, 1, 2}, {1, 2, 6, 9}, {1, 2, 11, 16}};
  }
  {
    Case* c = add("Resize", "LINEAR scales, dynamic batch", [](Network& n) {
      ResizeAttrs a;
      a.resize_mode = IM::kLINEAR;
      a.coordinate_transformation = CT::kHALF_PIXEL;
      a.scales = {1.0, 1.0, 2.0, 2.0};
      n.mark_output(n.add_resize(in(n, "x", DT::kHALF, {-1, 3, 4, 4}), a)->output(0));
    });
    c->profile["x"] = {{1, 3, 4, 4}, {2, 3, 4, 4}, {5, 3, 4, 4}};
  }
  // GridSample: every interpolation and padding mode, both align_corners, the three float types;
  // the grid reaches past [-1, 1] so every padding mode matters.
  for (IM mode : {IM::kNEAREST, IM::kLINEAR, IM::kCUBIC})
    for (SampleMode pad : {SampleMode::kFILL, SampleMode::kCLAMP, SampleMode::kREFLECT})
      for (bool align : {false, true})
        for (DT t : kFloat) {
          Case* c = add("GridSample",
                        std::string(enum_name(mode)) + " " + std::string(enum_name(pad)) +
                            (align ? " align_corners " : " ") + name_of(t),
                        [=](Network& n) {
                          GridSampleAttrs a;
                          a.interpolation_mode = mode;
                          a.sample_mode = pad;
                          a.align_corners = align;
                          n.mark_output(n.add_grid_sample(in(n, "x", t, {2, 3, 5, 6}),
                                                          in(n, "g", t, {2, 4, 7, 2}), a)
                                            ->output(0));
                        });
          c->flo = -1.3f;
          c->fhi = 1.3f;
        }
  for (SampleMode pad : {SampleMode::kCLAMP, SampleMode::kREFLECT}) {
    Case* c =
        add("GridSample", "LINEAR one-pixel image " + std::string(enum_name(pad)), [=](Network& n) {
          GridSampleAttrs a;
          a.sample_mode = pad;
          n.mark_output(n.add_grid_sample(in(n, "x", DT::kFLOAT, {1, 2, 1, 1}),
                                          in(n, "g", DT::kFLOAT, {1, 3, 3, 2}), a)
                            ->output(0));
        });
    c->flo = -1.5f;
    c->fhi = 1.5f;
  }
  add("GridSample", "empty grid", [](Network& n) {
    n.mark_output(n.add_grid_sample(in(n, "x", DT::kFLOAT, {1, 2, 5, 5}),
                                    in(n, "g", DT::kFLOAT, {1, 0, 4, 2}))
                      ->output(0));
  });
  {
    Case* c = add("GridSample", "LINEAR dynamic batch", [](Network& n) {
      n.mark_output(n.add_grid_sample(in(n, "x", DT::kFLOAT, {-1, 2, 5, 5}),
                                      in(n, "g", DT::kFLOAT, {-1, 3, 4, 2}))
                        ->output(0));
    });
    c->profile["x"] = {{1, 2, 5, 5}, {2, 2, 5, 5}, {4, 2, 5, 5}};
    c->profile["g"] = {{1, 3, 4, 2}, {2, 3, 4, 2}, {4, 3, 4, 2}};
    c->flo = -1.2f;
    c->fhi = 1.2f;
  }
  // Scatter: ELEMENT on every axis and ND with tuples of every length, each reduction on the
  // types it takes (kNONE on every type), with many duplicate targets (later updates win, or
  // combine in row-major order), empty updates, a dynamic dim, and bad indices.
  using SR = ScatterReduction;
  auto scatter_case = [&](std::string label, DT t, Dims d, DT it, Dims i, Dims u, ScatterMode m,
                          int axis, SR red, int lo, int hi) {
    Case* c = add("Scatter",
                  std::move(label) + " " + std::string(enum_name(red)) + " " + name_of(t) + " " +
                      name_of(it) + " data" + d.to_string() + " indices" + i.to_string(),
                  [=](Network& n) {
                    n.mark_output(n.add_scatter(in(n, "d", t, d), in(n, "i", it, i),
                                                in(n, "u", t, u), m, axis, red)
                                      ->output(0));
                  });
    c->lo = lo;
    c->hi = hi;
    if (red == SR::kPROD) {
      c->flo = 0.5f;
      c->fhi = 1.5f;
    }
    return c;
  };
  using SM = ScatterMode;
  const std::vector<DT> arith = {DT::kFLOAT, DT::kHALF,  DT::kBF16, DT::kINT8,
                                 DT::kUINT8, DT::kINT32, DT::kINT64};
  for (SR red : {SR::kNONE, SR::kSUM, SR::kPROD, SR::kMAX, SR::kMIN}) {
    std::vector<DT> types = red == SR::kNONE ? all_types : arith;
    if (red == SR::kMAX || red == SR::kMIN) types.push_back(DT::kBOOL);
    for (DT t : types) {
      scatter_case("ELEMENT axis 0", t, {4, 3}, DT::kINT32, {6, 3}, {6, 3}, SM::kELEMENT, 0, red,
                   -4, 3);
      scatter_case("ND m=1", t, {4, 3, 2}, DT::kINT64, {5, 1}, {5, 3, 2}, SM::kND, 0, red, -4, 3);
    }
    for (DT it : {DT::kINT32, DT::kINT64}) {
      for (int axis : {1, 2, -1}) {
        Dims i{3, 4, 5};
        i[axis < 0 ? axis + 3 : axis] += 2;  // only the scatter axis may exceed the data
        scatter_case("ELEMENT axis " + std::to_string(axis), DT::kFLOAT, {3, 4, 5}, it, i, i,
                     SM::kELEMENT, axis, red, -3, 2);
      }
      scatter_case("ND m=2", DT::kFLOAT, {3, 4, 5}, it, {2, 3, 2}, {2, 3, 5}, SM::kND, 0, red, -3,
                   2);
      scatter_case("ND m=3", DT::kHALF, {3, 4, 5}, it, {7, 3}, {7}, SM::kND, 0, red, -3, 2);
    }
  }
  scatter_case("ELEMENT indices smaller", DT::kFLOAT, {4, 5}, DT::kINT32, {2, 3}, {2, 3},
               SM::kELEMENT, 1, SR::kNONE, -5, 4);
  scatter_case("ELEMENT rank 1", DT::kINT64, {6}, DT::kINT32, {9}, {9}, SM::kELEMENT, 0, SR::kSUM,
               -6, 5);
  scatter_case("ELEMENT rank 5", DT::kFLOAT, {2, 3, 2, 3, 4}, DT::kINT64, {2, 3, 2, 3, 6},
               {2, 3, 2, 3, 6}, SM::kELEMENT, 4, SR::kMAX, -4, 3);
  scatter_case("ND rank 5", DT::kBF16, {2, 3, 2, 3, 4}, DT::kINT32, {3, 2}, {3, 2, 3, 4}, SM::kND,
               0, SR::kSUM, -2, 1);
  scatter_case("ELEMENT empty updates", DT::kFLOAT, {4, 3}, DT::kINT32, {0, 3}, {0, 3},
               SM::kELEMENT, 0, SR::kNONE, -4, 3);
  scatter_case("ND empty updates", DT::kFLOAT, {4, 3}, DT::kINT32, {0, 1}, {0, 3}, SM::kND, 0,
               SR::kSUM, -4, 3);
  scatter_case("ELEMENT empty data", DT::kFLOAT, {0, 3}, DT::kINT32, {0, 3}, {0, 3}, SM::kELEMENT,
               1, SR::kNONE, -3, 2);
  {
    // Every update on one element: a long chain in row-major order.
    Case* c = scatter_case("ND all on one target", DT::kHALF, {3, 2}, DT::kINT32, {400, 2}, {400},
                           SM::kND, 0, SR::kSUM, 1, 1);
    (void)c;
  }
  {
    Case* c = add("Scatter", "ELEMENT dynamic updates", [](Network& n) {
      n.mark_output(n.add_scatter(in(n, "d", DT::kFLOAT, {5, 4}), in(n, "i", DT::kINT32, {-1, 4}),
                                  in(n, "u", DT::kFLOAT, {-1, 4}), ScatterMode::kELEMENT, 0,
                                  ScatterReduction::kSUM)
                        ->output(0));
    });
    c->profile["i"] = {{1, 4}, {6, 4}, {20, 4}};
    c->profile["u"] = {{1, 4}, {6, 4}, {20, 4}};
    c->lo = -5;
    c->hi = 4;
  }
  auto bad_scatter = [&](std::string label, Dims d, Dims i, std::vector<int64_t> v, Dims u,
                         ScatterMode m, int axis, SR red) {
    Case* c = add("Scatter", "out of range: " + std::move(label), [=](Network& n) {
      n.mark_output(n.add_scatter(in(n, "d", DT::kFLOAT, d), int_constant(n, DT::kINT64, i, v),
                                  in(n, "u", DT::kFLOAT, u), m, axis, red)
                        ->output(0));
    });
    c->expect_error = true;
  };
  bad_scatter("ELEMENT", {4, 3}, {2, 3}, {0, 1, 2, 3, -5, 4}, {2, 3}, SM::kELEMENT, 0, SR::kNONE);
  bad_scatter("ELEMENT axis 1", {4, 3}, {2, 2}, {0, -3, 3, 1}, {2, 2}, SM::kELEMENT, 1, SR::kSUM);
  bad_scatter("ND", {4, 3}, {3, 2}, {0, 0, 1, 3, 9, 0}, {3}, SM::kND, 0, SR::kMAX);

  // Fill: LINSPACE on every output type and the random fills on the floating ones (the same
  // counter-based numbers as the reference), with attributes or tensors for alpha and beta and
  // dims from a shape tensor. Integer ramps of at most 64 elements with no tensor inputs are
  // the shape program's (host) work, so the integer cases are larger.
  {
    const std::vector<DT> ramp_types = {DT::kFLOAT, DT::kHALF, DT::kBF16, DT::kINT32, DT::kINT64};
    const std::vector<Dims> fill_dims = {{100}, {10, 20}, {4, 5, 6}, {2, 3, 2, 3, 4}, {0, 5}};
    for (DT t : ramp_types)
      for (const Dims& d : fill_dims) {
        const bool int_out = t == DT::kINT32 || t == DT::kINT64;
        if (int_out && d.volume() <= 64) continue;
        add("Fill", "LINSPACE " + name_of(t) + " " + d.to_string(), [=](Network& n) {
          FillAttrs a;
          a.op = FillOperation::kLINSPACE;
          a.dims = d;
          a.output_type = t;
          a.alpha = int_out ? -7 : 1.5;
          for (int i = 0; i < d.rank(); ++i)
            a.beta.push_back(int_out ? 3 - 2 * i : 0.37 - 0.61 * i);
          n.mark_output(n.add_fill(a)->output(0));
        });
      }
    for (DT t : ramp_types)
      add("Fill", "LINSPACE " + name_of(t) + " alpha and beta tensors", [=](Network& n) {
        FillAttrs a;
        a.op = FillOperation::kLINSPACE;
        a.dims = {6, 7};
        a.output_type = t;
        FillInputs fi;
        fi.alpha = in(n, "alpha", t, {});
        fi.beta = in(n, "beta", t, {2});
        n.mark_output(n.add_fill(a, fi)->output(0));
      });
    {
      Case* c = add("Fill", "LINSPACE float32 dims from a shape tensor", [](Network& n) {
        FillAttrs a;
        a.op = FillOperation::kLINSPACE;
        a.alpha = 0.25;
        a.beta = {1.0, -0.5};
        FillInputs fi;
        fi.shape = n.add_shape(in(n, "x", DT::kFLOAT, {-1, 9}))->output(0);
        n.mark_output(n.add_fill(a, fi)->output(0));
      });
      c->profile["x"] = {{1, 9}, {5, 9}, {40, 9}};
    }
    for (FillOperation op : {FillOperation::kRANDOM_UNIFORM, FillOperation::kRANDOM_NORMAL})
      for (DT t : kFloat) {
        for (const Dims& d : {Dims{1000}, Dims{30, 40}, Dims{2, 3, 4, 5, 6}, Dims{0, 4}})
          add("Fill", std::string(enum_name(op)) + " " + name_of(t) + " " + d.to_string(),
              [=](Network& n) {
                FillAttrs a;
                a.op = op;
                a.dims = d;
                a.output_type = t;
                a.alpha = op == FillOperation::kRANDOM_UNIFORM ? -3.0 : 1.0;
                a.beta = {op == FillOperation::kRANDOM_UNIFORM ? 5.0 : 2.5};
                a.seed = 0x5eed + static_cast<uint64_t>(d.volume());
                n.mark_output(n.add_fill(a)->output(0));
              });
        // Computed on the device: beta = |b| (a deviation) or alpha + |b| (a non-empty range).
        add("Fill", std::string(enum_name(op)) + " " + name_of(t) + " alpha and beta tensors",
            [=](Network& n) {
              FillAttrs a;
              a.op = op;
              a.dims = {25, 40};
              a.output_type = t;
              a.seed = 99;
              FillInputs fi;
              fi.alpha = in(n, "alpha", t, {});
              fi.beta = n.add_unary(in(n, "b", t, {}), UnaryOperation::kABS)->output(0);
              if (op == FillOperation::kRANDOM_UNIFORM)
                fi.beta =
                    n.add_elementwise(fi.alpha, fi.beta, ElementWiseOperation::kSUM)->output(0);
              n.mark_output(n.add_fill(a, fi)->output(0));
            });
      }
    // Uniform draws right below the upper bound round to it in 16-bit types; the reference
    // keeps them below.
    for (DT t : {DT::kHALF, DT::kBF16})
      add("Fill", "RANDOM_UNIFORM " + name_of(t) + " narrow range", [=](Network& n) {
        FillAttrs a;
        a.op = FillOperation::kRANDOM_UNIFORM;
        a.dims = {4096};
        a.output_type = t;
        a.alpha = 1.0;
        a.beta = {1.001};
        n.mark_output(n.add_fill(a)->output(0));
      });
    {
      Case* c = add("Fill", "RANDOM_NORMAL float32 dims from a shape tensor", [](Network& n) {
        FillAttrs a;
        a.op = FillOperation::kRANDOM_NORMAL;
        a.alpha = -1.0;
        a.beta = {0.5};
        a.seed = 7;
        FillInputs fi;
        fi.shape = n.add_shape(in(n, "x", DT::kFLOAT, {3, -1}))->output(0);
        n.mark_output(n.add_fill(a, fi)->output(0));
      });
      c->profile["x"] = {{3, 1}, {3, 50}, {3, 700}};
    }
  }
  add("Shape", "shape of a dynamic input", [](Network& n) {
    Tensor* x = in(n, "x", DT::kFLOAT, {2, 3});
    n.mark_output(n.add_shape(x)->output(0));
  });
  add_quantize_cases(add);
  // NonZero: every type it takes, ranks 1-5, all zeros, empty; counted by inference on a host
  // input, or on the device for a tensor computed there (after a Cast, which also puts zeros
  // into the float types).
  const std::vector<DT> nz_types = {DT::kFLOAT, DT::kHALF,  DT::kBF16,  DT::kINT8,
                                    DT::kUINT8, DT::kINT32, DT::kINT64, DT::kBOOL};
  for (DT t : nz_types) {
    Case* c = add("NonZero", "host input " + name_of(t), [=](Network& n) {
      n.mark_output(n.add_non_zero(in(n, "x", t, {3, 5}))->output(0));
    });
    c->lo = -1;
    c->hi = 1;
    for (Dims d : {Dims{11}, Dims{3, 5}, Dims{2, 3, 4}, Dims{2, 1, 3, 4}, Dims{2, 2, 3, 1, 4}}) {
      Case* e = add("NonZero", "device input " + name_of(t) + " " + d.to_string(), [=](Network& n) {
        Tensor* x = n.add_cast(in(n, "x", DT::kINT32, d), t)->output(0);
        n.mark_output(n.add_non_zero(x)->output(0));
      });
      e->lo = -1;
      e->hi = 1;
    }
  }
  {
    Case* c = add("NonZero", "device input all zeros", [](Network& n) {
      n.mark_output(
          n.add_non_zero(n.add_cast(in(n, "x", DT::kINT32, {4, 6}), DT::kFLOAT)->output(0))
              ->output(0));
    });
    c->lo = 0;
    c->hi = 0;
    add("NonZero", "device input empty", [](Network& n) {
      n.mark_output(
          n.add_non_zero(n.add_cast(in(n, "x", DT::kINT32, {3, 0, 2}), DT::kHALF)->output(0))
              ->output(0));
    });
    Case* d = add("NonZero", "device input of a dynamic batch", [](Network& n) {
      n.mark_output(
          n.add_non_zero(n.add_cast(in(n, "x", DT::kINT64, {-1, 7}), DT::kINT32)->output(0))
              ->output(0));
    });
    d->profile["x"] = {{1, 7}, {5, 7}, {33, 7}};
    d->lo = -1;
    d->hi = 1;
    // The indices feed a device layer: NonZero's data-dependent dims propagate.
    Case* e = add("NonZero", "feeding a Gather", [](Network& n) {
      Tensor* x = in(n, "x", DT::kFLOAT, {6});
      Tensor* nz =
          n.add_non_zero(n.add_cast(in(n, "m", DT::kINT32, {6}), DT::kBOOL)->output(0))->output(0);
      n.mark_output(n.add_gather(x, nz, 0)->output(0));
    });
    e->lo = 0;
    e->hi = 1;
  }

  // Conditional and Loop: no device kernel; a backend runs them on its host fallback (their
  // bodies on a CPU executor), fed by and feeding device layers.
  {
    auto scalar_sum = [](Network& n, Tensor* t, AxesMask axes) {
      ShuffleAttrs s;
      s.reshape_dims = Dims{};
      return n.add_shuffle(n.add_reduce(t, R::kSUM, axes, false)->output(0), s)->output(0);
    };
    auto zero = [](Network& n, const Dims& d, float v) {
      return n
          .add_constant(
              d, Weights::from_vector(std::vector<float>(static_cast<size_t>(d.volume()), v)))
          ->output(0);
    };
    Case* c =
        add("Conditional", "run-time condition, branches of different shapes", [=](Network& n) {
          Tensor* x =
              n.add_activation(in(n, "x", DT::kFLOAT, {-1, 3}), ActivationType::kTANH)->output(0);
          auto t = std::make_shared<Network>();
          Tensor* tx = t->add_input("x", DT::kFLOAT, {-1, 3});
          t->mark_output(t->add_elementwise(tx, tx, ElementWiseOperation::kPROD)->output(0));
          auto e = std::make_shared<Network>();
          Tensor* ex = e->add_input("x", DT::kFLOAT, {-1, 3});
          e->mark_output(e->add_concatenation(std::vector<Tensor*>{ex, ex}, 1)->output(0));
          Tensor* cond = n.add_elementwise(scalar_sum(n, x, 3), zero(n, {}, 0.0f),
                                           ElementWiseOperation::kGREATER)
                             ->output(0);
          Tensor* y = n.add_conditional(cond, t, e, std::vector<Tensor*>{x})->output(0);
          n.mark_output(n.add_activation(y, ActivationType::kSIGMOID)->output(0));
        });
    c->profile["x"] = {{1, 3}, {4, 3}, {9, 3}};
    Case* l = add("Loop", "data-dependent condition over a scan input", [=](Network& n) {
      Tensor* x =
          n.add_activation(in(n, "x", DT::kFLOAT, {-1, 4}), ActivationType::kRELU)->output(0);
      auto b = std::make_shared<Network>();
      b->add_input("i", DT::kINT64, Dims{});
      b->add_input("cond", DT::kBOOL, Dims{});
      Tensor* acc = b->add_input("acc", DT::kFLOAT, {4});
      Tensor* row = b->add_input("row", DT::kFLOAT, {4});
      Tensor* next = b->add_elementwise(acc, row, ElementWiseOperation::kSUM)->output(0);
      b->mark_output(b->add_elementwise(scalar_sum(*b, next, 1), zero(*b, {}, 6.0f),
                                        ElementWiseOperation::kLESS)
                         ->output(0));
      b->mark_output(next);
      b->mark_output(b->add_activation(next, ActivationType::kTANH)->output(0));
      LoopAttrs a;
      a.body = b;
      a.scan_input_axes = {0};
      Layer* loop = n.add_loop(a, nullptr, nullptr, std::vector<Tensor*>{zero(n, {4}, 0.0f)},
                               std::vector<Tensor*>{x}, {});
      n.mark_output(loop->output(0));
      n.mark_output(n.add_activation(loop->output(1), ActivationType::kSIGMOID)->output(0));
    });
    l->profile["x"] = {{1, 4}, {5, 4}, {12, 4}};
    add("Loop", "trip limit, invariant from a device layer, reversed scan output", [=](Network& n) {
      Tensor* w =
          n.add_activation(in(n, "w", DT::kFLOAT, {2, 3}), ActivationType::kTANH)->output(0);
      auto b = std::make_shared<Network>();
      b->add_input("i", DT::kINT64, Dims{});
      b->add_input("cond", DT::kBOOL, Dims{});
      Tensor* v = b->add_input("v", DT::kFLOAT, {2, 3});
      Tensor* bw = b->add_input("w", DT::kFLOAT, {2, 3});
      Tensor* next = b->add_elementwise(v, bw, ElementWiseOperation::kPROD)->output(0);
      b->mark_output(
          b->add_constant(Dims{}, Weights::from_vector(std::vector<bool>{true}))->output(0));
      b->mark_output(next);
      b->mark_output(b->add_identity(next)->output(0));
      LoopAttrs a;
      a.body = b;
      a.scan_output_axes = {1};
      a.scan_output_reverse = {1};
      Tensor* m = n.add_constant(Dims{}, Weights::from_vector(std::vector<int64_t>{5}))->output(0);
      Layer* loop = n.add_loop(a, m, nullptr, std::vector<Tensor*>{in(n, "v", DT::kFLOAT, {2, 3})},
                               {}, std::vector<Tensor*>{w});
      n.mark_output(loop->output(0));
      n.mark_output(loop->output(1));
    });
  }

  // Collective at world size 1: every operation (and reduction) is the identity on one rank.
  {
    using CO = CollectiveOperation;
    const std::vector<DT> coll_types = {DT::kFLOAT, DT::kHALF, DT::kBF16, DT::kINT32, DT::kINT64};
    struct CC {
      CO op;
      ReduceOperation rop;
      int axis;
    };
    const std::vector<CC> ccs = {
        {CO::kALL_REDUCE, R::kSUM, 0},     {CO::kALL_REDUCE, R::kPROD, 0},
        {CO::kALL_REDUCE, R::kMAX, 0},     {CO::kALL_REDUCE, R::kMIN, 0},
        {CO::kALL_REDUCE, R::kAVG, 0},     {CO::kALL_GATHER, R::kSUM, 0},
        {CO::kALL_GATHER, R::kSUM, -1},    {CO::kREDUCE_SCATTER, R::kSUM, 1},
        {CO::kREDUCE_SCATTER, R::kMAX, -2}};
    for (const CC& cc : ccs)
      for (DT t : coll_types)
        for (const Dims& d : {Dims{4, 3}, Dims{2, 3, 4, 1, 5}, Dims{0, 3}}) {
          add("Collective",
              std::string(enum_name(cc.op)) + " " + std::string(enum_name(cc.rop)) + " axis " +
                  std::to_string(cc.axis) + " " + name_of(t) + " " + d.to_string(),
              [=](Network& n) {
                CollectiveAttrs a;
                a.op = cc.op;
                a.reduce_op = cc.rop;
                a.axis = cc.axis;
                n.mark_output(n.add_collective(in(n, "x", t, d), a)->output(0));
              });
        }
    Case* c = add("Collective", "ALL_GATHER dynamic batch", [](Network& n) {
      CollectiveAttrs a;
      a.op = CO::kALL_GATHER;
      n.mark_output(n.add_collective(in(n, "x", DT::kFLOAT, {-1, 6}), a)->output(0));
    });
    c->profile["x"] = {{1, 6}, {3, 6}, {12, 6}};
  }
  // Deconvolution through cuDNN's backward data: 1-3 spatial axes, stride, dilation, groups,
  // asymmetric padding (an output padding is a smaller post padding), the SAME modes, bias as
  // weights or a tensor, the kernel as a computed tensor, empty batch, dynamic batch.
  struct DeconvX {
    Dims x, k;
    int64_t maps, groups;
    Dims stride, pre, post, dil;
    PaddingMode mode;
    int bias;  // 0: none, 1: weights, 2: a constant tensor
  };
  const std::vector<DeconvX> deconvs = {
      {{1, 2, 4, 4}, {3, 3}, 3, 1, {2, 2}, {}, {}, {}, PM::kEXPLICIT_ROUND_DOWN, 0},
      {{2, 4, 5, 4}, {3, 3}, 6, 2, {2, 1}, {1, 1}, {1, 1}, {1, 1}, PM::kEXPLICIT_ROUND_DOWN, 1},
      {{1, 3, 5, 5}, {4, 4}, 2, 1, {2, 2}, {1, 1}, {0, 0}, {1, 1}, PM::kEXPLICIT_ROUND_DOWN, 2},
      {{1, 2, 6, 5}, {3, 2}, 4, 1, {3, 2}, {2, 0}, {1, 1}, {2, 1}, PM::kEXPLICIT_ROUND_UP, 1},
      {{1, 4, 5, 6}, {3, 3}, 4, 4, {1, 1}, {1, 1}, {1, 1}, {2, 2}, PM::kEXPLICIT_ROUND_DOWN, 2},
      {{1, 2, 5, 5}, {4, 4}, 3, 1, {2, 2}, {}, {}, {}, PM::kSAME_UPPER, 1},
      {{1, 2, 5, 5}, {3, 5}, 3, 1, {2, 3}, {}, {}, {}, PM::kSAME_LOWER, 0},
      {{2, 3, 9}, {4}, 2, 1, {3}, {2}, {1}, {1}, PM::kEXPLICIT_ROUND_DOWN, 1},
      {{1, 2, 3, 4, 3},
       {3, 2, 3},
       2,
       1,
       {2, 2, 1},
       {1, 0, 1},
       {0, 0, 1},
       {1, 1, 1},
       PM::kEXPLICIT_ROUND_DOWN,
       2},
      {{1, 16, 8, 8}, {3, 3}, 32, 1, {2, 2}, {1, 1}, {0, 0}, {1, 1}, PM::kEXPLICIT_ROUND_DOWN, 1},
      {{0, 2, 4, 4}, {3, 3}, 3, 1, {2, 2}, {1, 0}, {0, 0}, {}, PM::kEXPLICIT_ROUND_DOWN, 1}};
  for (const DeconvX& dv : deconvs)
    for (DT t : {DT::kFLOAT, DT::kHALF, DT::kBF16}) {
      // Each output gathers about C/groups * prod(kernel / stride) products.
      double k = static_cast<double>(dv.x[1] / dv.groups);
      for (int i = 0; i < dv.k.rank(); ++i)
        k *= std::max(1.0, static_cast<double>(dv.k[i]) /
                               static_cast<double>(dv.stride.rank() ? dv.stride[i] : 1));
      add(
          "Deconvolution",
          name_of(t) + " x" + dv.x.to_string() + " k" + dv.k.to_string() + " g" +
              std::to_string(dv.groups) + " s" + dv.stride.to_string() + " " +
              std::string(enum_name(dv.mode)) + " pre" + dv.pre.to_string() + " post" +
              dv.post.to_string() + " d" + dv.dil.to_string() + " bias " + std::to_string(dv.bias),
          [=](Network& n) {
            DeconvolutionAttrs a;
            a.num_output_maps = dv.maps;
            a.kernel_size = dv.k;
            a.stride = dv.stride;
            a.pre_padding = dv.pre;
            a.post_padding = dv.post;
            a.dilation = dv.dil;
            a.padding_mode = dv.mode;
            a.num_groups = dv.groups;
            Dims kd{dv.x[1], dv.maps / dv.groups};
            for (int64_t s : dv.k) kd.push_back(s);
            std::vector<float> bias(static_cast<size_t>(dv.maps));
            for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.25f * static_cast<float>(i) - 0.5f;
            if (dv.bias == 1) a.bias = Weights::copy(DT::kFLOAT, bias.data(), dv.maps);
            Tensor* b = dv.bias == 2 ? constant(n, t, {dv.maps}, 32) : nullptr;
            n.mark_output(n.add_deconvolution_nd(in(n, "x", t, dv.x), a, constant(n, t, kd, 31), b)
                              ->output(0));
          },
          k);
    }
  add(
      "Deconvolution", "float32 kernel and bias computed on the device",
      [](Network& n) {
        DeconvolutionAttrs a;
        a.num_output_maps = 4;
        a.kernel_size = {2, 2};
        a.stride = {2, 2};
        a.pre_padding = {1, 0};
        Tensor* w = n.add_activation(in(n, "w", DT::kFLOAT, {3, 4, 2, 2}), ActivationType::kTANH)
                        ->output(0);
        Tensor* b = n.add_unary(in(n, "b", DT::kFLOAT, {4}), UnaryOperation::kNEG)->output(0);
        n.mark_output(
            n.add_deconvolution_nd(in(n, "x", DT::kFLOAT, {2, 3, 4, 5}), a, w, b)->output(0));
      },
      12);
  for (DT t : {DT::kFLOAT, DT::kHALF}) {
    Case* c = add(
        "Deconvolution", name_of(t) + " dynamic batch",
        [=](Network& n) {
          DeconvolutionAttrs a;
          a.num_output_maps = 3;
          a.kernel_size = {3, 3};
          a.stride = {2, 2};
          a.pre_padding = {1, 1};
          a.post_padding = {0, 0};
          std::vector<float> bias{0.5f, -1.0f, 0.25f};
          a.bias = Weights::copy(DT::kFLOAT, bias.data(), 3);
          n.mark_output(n.add_deconvolution_nd(in(n, "x", t, {-1, 2, 5, 5}), a,
                                               constant(n, t, {2, 3, 3, 3}, 33))
                            ->output(0));
        },
        18);
    c->profile["x"] = {{1, 2, 5, 5}, {3, 2, 5, 5}, {6, 2, 5, 5}};
  }
  return cs;
}

// Bad input on a device backend: each must end in a layerkit::Error with the expected code and
// a message containing `needle`, and leave the context usable.
int error_cases(const Backend& b) {
  int failed = 0;
  auto expect = [&](const char* what, ErrorCode code, const char* needle, auto&& body) {
    try {
      body();
      std::printf("FAIL errors [%s]: no error\n", what);
      ++failed;
    } catch (const Error& e) {
      if (e.code() != code || std::string(e.what()).find(needle) == std::string::npos) {
        std::printf("FAIL errors [%s]: %s (%s)\n", what, e.what(),
                    std::string(error_code_name(e.code())).c_str());
        ++failed;
      }
    }
  };
  BuilderConfig config;
  config.device = b.device();
  {
    BuilderConfig bad = config;
    bad.device_index = 99;
    Network n;
    n.mark_output(
        n.add_activation(n.add_input("x", DT::kFLOAT, {4}), ActivationType::kRELU)->output(0));
    expect("no such GPU", ErrorCode::kUNSUPPORTED, "GPU 99", [&] { Builder::build(n, bad); });
  }
  Network n;
  Tensor* x = n.add_input("x", DT::kFLOAT, {-1, 8});
  n.mark_output(n.add_activation(x, ActivationType::kRELU)->output(0));
  OptimizationProfile prof;
  prof.set_dimensions("x", {1, 8}, {2, 8}, {4, 8});
  config.profiles.push_back(prof);
  auto engine = Builder::build(n, config);
  auto ctx = engine->create_execution_context();
  std::vector<float> host(32, 1.0f);
  expect("shape outside the profile", ErrorCode::kINVALID_ARGUMENT, "outside optimization profile",
         [&] {
           ctx->set_input_shape("x", {5, 8});
         });
  ctx->set_input_shape("x", {2, 8});
  expect("host memory passed as device memory", ErrorCode::kINVALID_ARGUMENT, "not device memory",
         [&] {
           ctx->set_input("x", host.data(), DeviceType::kCUDA);
           ctx->execute();
         });
#ifdef LAYERKIT_WITH_CUDA
  void* dev = nullptr;
  if (cudaMalloc(&dev, 256) == cudaSuccess) {
    expect("unaligned device address", ErrorCode::kINVALID_ARGUMENT, "not aligned", [&] {
      ctx->set_input("x", static_cast<char*>(dev) + 1, DeviceType::kCUDA);
      ctx->execute();
    });
    cudaFree(dev);
  }
#endif
  // Still usable after the errors.
  ctx->set_input("x", host.data());
  try {
    ctx->execute();
  } catch (const Error& e) {
    std::printf("FAIL errors [context usable after errors]: %s\n", e.what());
    ++failed;
  }
  {
    Network g;
    Tensor* d = g.add_input("d", DT::kFLOAT, {4, 3});
    Tensor* i = g.add_input("i", DT::kINT32, {2});
    g.mark_output(g.add_gather(d, i, 0)->output(0));
    BuilderConfig c;
    c.device = b.device();
    auto e = Builder::build(g, c);
    auto gc = e->create_execution_context();
    std::vector<float> data(12, 2.0f);
    std::vector<int32_t> bad{1, 7}, good{1, -1};
    gc->set_input("d", data.data());
    gc->set_input("i", bad.data());
    expect("gather index out of range", ErrorCode::kRUNTIME, "out of range",
           [&] { gc->execute(); });
    gc->set_input("i", good.data());
    try {
      gc->execute();
    } catch (const Error& e2) {
      std::printf("FAIL errors [gather after a bad index]: %s\n", e2.what());
      ++failed;
    }
  }
  {
    // A uniform fill whose tensor bounds form an empty range fails at run time, as on the CPU.
    Network f;
    FillAttrs a;
    a.op = FillOperation::kRANDOM_UNIFORM;
    a.dims = {8};
    FillInputs fi;
    fi.alpha = f.add_input("alpha", DT::kFLOAT, {});
    fi.beta = f.add_input("beta", DT::kFLOAT, {});
    f.mark_output(f.add_fill(a, fi)->output(0));
    BuilderConfig c;
    c.device = b.device();
    auto e = Builder::build(f, c);
    auto fc = e->create_execution_context();
    float lo = 2.0f, hi = 1.0f;
    fc->set_input("alpha", &lo);
    fc->set_input("beta", &hi);
    expect("uniform fill with an empty range", ErrorCode::kRUNTIME, "is empty",
           [&] { fc->execute(); });
  }
  {
    // MXFP8 scales are plain powers of two: a global scale computed at run time must be 1.
    Network q;
    DynamicQuantizeAttrs a;
    a.block_size = 32;
    a.output_type = DT::kFP8;
    a.scale_type = DT::kE8M0;
    Layer* l = q.add_dynamic_quantize(q.add_input("x", DT::kFLOAT, {2, 32}),
                                      q.add_input("g", DT::kFLOAT, {}), a);
    q.mark_output(l->output(0));
    q.mark_output(l->output(1));
    BuilderConfig c;
    c.device = b.device();
    auto e = Builder::build(q, c);
    auto qc = e->create_execution_context();
    std::vector<float> data(64, 1.5f), two{2.0f}, one{1.0f};
    qc->set_input("x", data.data());
    qc->set_input("g", two.data());
    expect("MXFP8 global scale not 1", ErrorCode::kRUNTIME, "global scale is 2",
           [&] { qc->execute(); });
    qc->set_input("g", one.data());
    try {
      qc->execute();
    } catch (const Error& e2) {
      std::printf("FAIL errors [MXFP8 after a bad global scale]: %s\n", e2.what());
      ++failed;
    }
  }
  {
    // 2^16 x 2^20 floats (256 GiB) is more than the device holds.
    Network big;
    Tensor* a = big.add_input("a", DT::kFLOAT, {65536, 1});
    Tensor* c = big.add_input("c", DT::kFLOAT, {1, 1048576});
    big.mark_output(big.add_elementwise(a, c, ElementWiseOperation::kSUM)->output(0));
    BuilderConfig bc;
    bc.device = b.device();
    auto e = Builder::build(big, bc);
    auto bctx = e->create_execution_context();
    std::vector<float> va(65536, 1.0f), vc(1048576, 1.0f);
    bctx->set_input("a", va.data());
    bctx->set_input("c", vc.data());
    expect("device out of memory", ErrorCode::kOUT_OF_MEMORY, "bytes", [&] { bctx->execute(); });
  }
  std::printf("errors on %s: %d failed\n", std::string(b.name()).c_str(), failed);
  return failed;
}

// Reduced precision and CUDA graphs: networks built with the same flags for the reference
// engine and the backend (so both run the same rewritten network) and compared with the
// tolerance of the reduced type; graph replays compared run by run, across shape changes.
int feature_cases(const Backend& b) {
  int failed = 0, passed = 0;
  std::mt19937 rng(77);
  auto host_input = [&](DT t, const Dims& d) {
    Case c;
    return random_input("x", t, d, c, rng);
  };

  // Three small networks of the kinds reduced precision rewrites most.
  struct Net {
    const char* name;
    std::function<void(Network&)> build;
    double k;  // accumulation length for the tolerance
  };
  const std::vector<Net> nets = {
      {"mlp",
       [](Network& n) {
         Tensor* x = in(n, "x", DT::kFLOAT, {8, 64});
         Tensor* h = n.add_matrix_multiply(x, MatrixOperation::kNONE,
                                           constant(n, DT::kFLOAT, {64, 32}, 5, -0.3f, 0.3f),
                                           MatrixOperation::kNONE)
                         ->output(0);
         h = n.add_activation(h, ActivationType::kGELU_ERF)->output(0);
         h = n.add_matrix_multiply(h, MatrixOperation::kNONE,
                                   constant(n, DT::kFLOAT, {32, 16}, 6, -0.3f, 0.3f),
                                   MatrixOperation::kNONE)
                 ->output(0);
         n.mark_output(n.add_softmax(h, 1u << 1)->output(0));
       },
       64},
      {"conv block",
       [](Network& n) {
         Tensor* x = in(n, "x", DT::kFLOAT, {2, 8, 12, 12});
         ConvolutionAttrs a;
         a.num_output_maps = 8;
         a.kernel_size = Dims{3, 3};
         a.pre_padding = a.post_padding = Dims{1, 1};
         std::vector<float> w(8 * 8 * 9), bias(8);
         std::mt19937 g(9);
         std::uniform_real_distribution<float> u(-0.2f, 0.2f);
         for (float& v : w) v = u(g);
         for (float& v : bias) v = u(g);
         a.kernel = Weights::copy(DT::kFLOAT, w.data(), static_cast<int64_t>(w.size()));
         a.bias = Weights::copy(DT::kFLOAT, bias.data(), static_cast<int64_t>(bias.size()));
         Tensor* c = n.add_convolution_nd(x, a)->output(0);
         Tensor* r = n.add_elementwise(c, x, ElementWiseOperation::kSUM)->output(0);  // residual
         r = n.add_activation(r, ActivationType::kRELU)->output(0);
         PoolingAttrs p;
         p.type = PoolingType::kMAX;
         p.window = Dims{2, 2};
         n.mark_output(n.add_pooling_nd(r, p)->output(0));
       },
       72},
      {"layer norm + attention scores",
       [](Network& n) {
         Tensor* x = in(n, "x", DT::kFLOAT, {2, 16, 32});
         Tensor* scale = constant(n, DT::kFLOAT, {1, 1, 32}, 7, 0.5f, 1.5f);
         Tensor* bias = constant(n, DT::kFLOAT, {1, 1, 32}, 8);
         NormalizationAttrs na;
         na.axes = 1u << 2;
         Tensor* h = n.add_normalization(x, scale, bias, na)->output(0);
         Tensor* s =
             n.add_matrix_multiply(h, MatrixOperation::kNONE, h, MatrixOperation::kTRANSPOSE)
                 ->output(0);
         n.mark_output(n.add_softmax(s, 1u << 2)->output(0));
       },
       32},
  };
  for (const Net& net_case : nets) {
    for (BuilderFlag flag : {BuilderFlag::kFP16, BuilderFlag::kBF16}) {
      Network n;
      net_case.build(n);
      std::map<std::string, Dims> shapes;
      std::vector<std::vector<uint8_t>> inputs;
      for (int i = 0; i < n.num_inputs(); ++i) {
        shapes[n.input(i)->name()] = n.input(i)->dims();
        inputs.push_back(host_input(n.input(i)->type(), n.input(i)->dims()));
      }
      BuilderConfig ref;
      ref.reference_kernels_only = true;
      ref.set_flag(flag);
      BuilderConfig dev = ref;
      dev.reference_kernels_only = false;
      dev.device = b.device();
      const std::string what =
          std::string(net_case.name) + (flag == BuilderFlag::kFP16 ? " in fp16" : " in bf16");
      BuilderConfig fp32 = ref;
      fp32.flags = 0;
      const RunResult r = run(n, ref, shapes, inputs), d = run(n, dev, shapes, inputs),
                      f = run(n, fp32, shapes, inputs);
      std::string problem = !r.ok   ? "reference: " + r.error
                            : !f.ok ? "fp32 reference: " + f.error
                            : !d.ok ? d.error
                                    : "";
      for (size_t o = 0; problem.empty() && o < r.outputs.size(); ++o)
        problem = compare_reduced(r.outputs[o], d.outputs[o], f.outputs[o], net_case.k,
                                  flag == BuilderFlag::kFP16 ? DT::kHALF : DT::kBF16);
      if (problem.empty()) {
        ++passed;
      } else {
        std::printf("FAIL features [%s]: %s\n", what.c_str(), problem.c_str());
        ++failed;
      }
    }
  }
  // Graph replay: runs at two shapes, alternating, each compared with the reference engine, and
  // the second run at a shape must be a replay.
  {
    Network n;
    Tensor* x = in(n, "x", DT::kFLOAT, {-1, 64});
    Tensor* h = n.add_matrix_multiply(x, MatrixOperation::kNONE,
                                      constant(n, DT::kFLOAT, {64, 48}, 11, -0.3f, 0.3f),
                                      MatrixOperation::kNONE)
                    ->output(0);
    h = n.add_activation(h, ActivationType::kRELU)->output(0);
    Tensor* shape = n.add_shape(h)->output(0);
    n.mark_output(n.add_softmax(h, 1u << 1)->output(0));
    n.mark_output(shape);
    OptimizationProfile prof;
    prof.set_dimensions("x", {1, 64}, {4, 64}, {8, 64});
    BuilderConfig ref;
    ref.reference_kernels_only = true;
    ref.profiles.push_back(prof);
    BuilderConfig dev = ref;
    dev.reference_kernels_only = false;
    dev.device = b.device();
    dev.use_cuda_graph = true;
    try {
      auto re = Builder::build(n, ref);
      auto de = Builder::build(n, dev);
      auto rc = re->create_execution_context();
      auto dc = de->create_execution_context();
      const int64_t batches[] = {4, 4, 4, 2, 2, 4, 4, 8};
      const bool replays[] = {false, true, true, false, true, false, true, false};
      for (size_t r = 0; r < std::size(batches); ++r) {
        const Dims d{batches[r], 64};
        std::vector<uint8_t> xv = host_input(DT::kFLOAT, d);
        for (auto* c : {rc.get(), dc.get()}) {
          c->set_input_shape("x", d);
          c->set_input("x", xv.data());
          c->execute();
        }
        std::string problem;
        for (int o = 0; o < 2 && problem.empty(); ++o)
          problem =
              compare(rc->output(n.output(o)->name()), dc->output(n.output(o)->name()), 64, false);
        if (problem.empty() && dc->last_run_times().cuda_graph != replays[r])
          problem = "run " + std::to_string(r) + " at batch " + std::to_string(batches[r]) +
                    (replays[r] ? " did not replay its graph" : " replayed a graph it should not");
        if (!problem.empty()) {
          std::printf("FAIL features [cuda graph run %zu]: %s\n", r, problem.c_str());
          ++failed;
        } else {
          ++passed;
        }
      }
    } catch (const Error& e) {
      std::printf("FAIL features [cuda graph]: %s\n", e.what());
      ++failed;
    }
  }
  // A bad index found by a graph replay: the run ends in the reference's error (found after the
  // run, Note [Run-time checks]), and the context stays usable.
  {
    Network g;
    Tensor* d = g.add_input("d", DT::kFLOAT, {4, 3});
    Tensor* i = g.add_input("i", DT::kINT32, {2});
    g.mark_output(g.add_gather(d, i, 0)->output(0));
    BuilderConfig c;
    c.device = b.device();
    c.use_cuda_graph = true;
    std::vector<float> data(12);
    for (size_t k = 0; k < data.size(); ++k) data[k] = static_cast<float>(k);
    std::vector<int32_t> good{3, -4}, bad{1, 4};
    std::string problem;
    try {
      auto e = Builder::build(g, c);
      auto gc = e->create_execution_context();
      gc->set_input("d", data.data());
      gc->set_input("i", good.data());
      gc->execute();
      gc->execute();
      if (!gc->last_run_times().cuda_graph) problem = "the second run did not replay a graph";
      gc->set_input("i", bad.data());
      try {
        gc->execute();
        if (problem.empty()) problem = "a bad index in a replay raised no error";
      } catch (const Error& err) {
        if (err.code() != ErrorCode::kRUNTIME ||
            std::string(err.what()).find("out of range") == std::string::npos)
          problem = std::string("unexpected error: ") + err.what();
      }
      gc->set_input("i", good.data());
      gc->execute();
      const float* y = reinterpret_cast<const float*>(gc->output(g.output(0)->name()).data.data());
      if (problem.empty() && (y[0] != 9 || y[3] != 0))
        problem = "wrong values after the bad run: " + std::to_string(y[0]);
    } catch (const Error& err) {
      problem = err.what();
    }
    if (problem.empty()) {
      ++passed;
    } else {
      std::printf("FAIL features [bad index in a graph replay]: %s\n", problem.c_str());
      ++failed;
    }
  }
  std::printf("features on %s: %d passed, %d failed\n", std::string(b.name()).c_str(), passed,
              failed);
  return failed;
}

// Whole blocks of the benchmark models in fp32, at the min/opt/max of a dynamic batch: the
// device engine at the default optimization level (fusions, device kernels) against the CPU
// reference engine at level 0, so a fusion or layout choice that only shows across layers is
// caught. k is the sum of the accumulation lengths along the longest path through the block.
Weights random_weights(int64_t count, uint32_t seed, float lo, float hi) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v) x = u(g);
  return Weights::copy(DT::kFLOAT, v.data(), count);
}

// Convolution (no bias) + batch norm as a per-channel Scale, optionally + ReLU.
Tensor* conv_bn(Network& n, Tensor* x, int64_t cin, int64_t cout, int64_t k, int64_t stride,
                bool relu, uint32_t seed) {
  ConvolutionAttrs a;
  a.num_output_maps = cout;
  a.kernel_size = Dims{k, k};
  a.stride = Dims{stride, stride};
  a.pre_padding = a.post_padding = Dims{k / 2, k / 2};
  const float bound = 1.0f / std::sqrt(static_cast<float>(cin * k * k));
  a.kernel = random_weights(cout * cin * k * k, seed, -bound, bound);
  Tensor* c = n.add_convolution_nd(x, a)->output(0);
  ScaleAttrs s;
  s.mode = ScaleMode::kCHANNEL;
  s.scale = random_weights(cout, seed + 1, 0.5f, 1.5f);
  s.shift = random_weights(cout, seed + 2, -0.2f, 0.2f);
  c = n.add_scale_nd(c, s)->output(0);
  return relu ? n.add_activation(c, ActivationType::kRELU)->output(0) : c;
}

void resnet_blocks(Network& n) {
  Tensor* x = in(n, "x", DT::kFLOAT, {-1, 16, 14, 14});
  // Basic block with an identity shortcut.
  Tensor* h = conv_bn(n, x, 16, 16, 3, 1, true, 100);
  h = conv_bn(n, h, 16, 16, 3, 1, false, 110);
  h = n.add_activation(n.add_elementwise(h, x, ElementWiseOperation::kSUM)->output(0),
                       ActivationType::kRELU)
          ->output(0);
  // Basic block with a strided 1x1 projection shortcut.
  Tensor* y = conv_bn(n, h, 16, 32, 3, 2, true, 120);
  y = conv_bn(n, y, 32, 32, 3, 1, false, 130);
  Tensor* s = conv_bn(n, h, 16, 32, 1, 2, false, 140);
  y = n.add_activation(n.add_elementwise(y, s, ElementWiseOperation::kSUM)->output(0),
                       ActivationType::kRELU)
          ->output(0);
  PoolingAttrs p;
  p.type = PoolingType::kAVERAGE;
  p.window = Dims{7, 7};
  n.mark_output(n.add_pooling_nd(y, p)->output(0));
}

Tensor* dense(Network& n, Tensor* x, int64_t in_f, int64_t out_f, uint32_t seed) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(in_f));
  Tensor* w =
      n.add_constant(Dims{1, in_f, out_f}, random_weights(in_f * out_f, seed, -bound, bound))
          ->output(0);
  Tensor* b =
      n.add_constant(Dims{1, 1, out_f}, random_weights(out_f, seed + 1, -0.1f, 0.1f))->output(0);
  Tensor* y =
      n.add_matrix_multiply(x, MatrixOperation::kNONE, w, MatrixOperation::kNONE)->output(0);
  return n.add_elementwise(y, b, ElementWiseOperation::kSUM)->output(0);
}

Tensor* layer_norm(Network& n, Tensor* x, int64_t width, uint32_t seed) {
  Tensor* g = n.add_constant(Dims{1, 1, width}, random_weights(width, seed, 0.8f, 1.2f))->output(0);
  Tensor* b =
      n.add_constant(Dims{1, 1, width}, random_weights(width, seed + 1, -0.1f, 0.1f))->output(0);
  NormalizationAttrs a;
  a.axes = 1u << 2;
  return n.add_normalization(x, g, b, a)->output(0);
}

// A BERT-style encoder layer (post-norm), width 64, 4 heads of 16, FFN 256, dynamic batch and
// sequence length.
void encoder_layer(Network& n) {
  constexpr int64_t kWidth = 64, kHeads = 4, kHead = 16, kFfn = 256;
  Tensor* x = in(n, "x", DT::kFLOAT, {-1, -1, kWidth});
  auto heads = [&](Tensor* t) {
    ShuffleAttrs s;
    s.reshape_dims = Dims{0, 0, kHeads, kHead};
    s.second_transpose = {0, 2, 1, 3};
    return n.add_shuffle(t, s)->output(0);
  };
  Tensor* q = heads(dense(n, x, kWidth, kWidth, 200));
  Tensor* k = heads(dense(n, x, kWidth, kWidth, 210));
  Tensor* v = heads(dense(n, x, kWidth, kWidth, 220));
  Tensor* s =
      n.add_matrix_multiply(q, MatrixOperation::kNONE, k, MatrixOperation::kTRANSPOSE)->output(0);
  const float scale = 1.0f / std::sqrt(static_cast<float>(kHead));
  Tensor* c = n.add_constant(Dims{1, 1, 1, 1}, Weights::copy(DT::kFLOAT, &scale, 1))->output(0);
  s = n.add_elementwise(s, c, ElementWiseOperation::kPROD)->output(0);
  Tensor* p = n.add_softmax(s, 1u << 3)->output(0);
  Tensor* o =
      n.add_matrix_multiply(p, MatrixOperation::kNONE, v, MatrixOperation::kNONE)->output(0);
  ShuffleAttrs merge;
  merge.first_transpose = {0, 2, 1, 3};
  merge.reshape_dims = Dims{0, 0, kWidth};
  o = n.add_shuffle(o, merge)->output(0);
  o = dense(n, o, kWidth, kWidth, 230);
  Tensor* h =
      layer_norm(n, n.add_elementwise(o, x, ElementWiseOperation::kSUM)->output(0), kWidth, 240);
  Tensor* f =
      n.add_activation(dense(n, h, kWidth, kFfn, 250), ActivationType::kGELU_ERF)->output(0);
  f = dense(n, f, kFfn, kWidth, 260);
  n.mark_output(
      layer_norm(n, n.add_elementwise(f, h, ElementWiseOperation::kSUM)->output(0), kWidth, 270));
}

// Attention over [B, S, H, D] operands as exported models spell it (Note [Fused attention]: one
// kernel on CUDA in fp16 and bf16): the head transposes, Q K^T (K transposed by its shuffle, or
// read transposed by the product), a scale, an optional additive mask, the softmax, P V and the
// head merge.
Tensor* attention(Network& n, Tensor* q, Tensor* k, Tensor* v, Tensor* mask,
                  bool k_read_transposed) {
  using M = MatrixOperation;
  auto transpose = [&](Tensor* x, std::vector<int32_t> perm) {
    ShuffleAttrs s;
    s.first_transpose = std::move(perm);
    return n.add_shuffle(x, s)->output(0);
  };
  Tensor* kt = transpose(
      k, k_read_transposed ? std::vector<int32_t>{0, 2, 1, 3} : std::vector<int32_t>{0, 2, 3, 1});
  Tensor* s = n.add_matrix_multiply(transpose(q, {0, 2, 1, 3}), M::kNONE, kt,
                                    k_read_transposed ? M::kTRANSPOSE : M::kNONE)
                  ->output(0);
  const DT t = q->type();
  s = n.add_elementwise(s, constant(n, t, {1, 1, 1, 1}, 17, 0.12f, 0.13f),
                        ElementWiseOperation::kPROD)
          ->output(0);
  if (mask) s = n.add_elementwise(s, mask, ElementWiseOperation::kSUM)->output(0);
  Tensor* p = n.add_softmax(s, 1u << 3)->output(0);
  Tensor* o = n.add_matrix_multiply(p, M::kNONE, transpose(v, {0, 2, 1, 3}), M::kNONE)->output(0);
  return transpose(o, {0, 2, 1, 3});
}

// Self-attention of an fp16 input (query, key and value the same [B, 24, 2, 32] tensor).
void fp16_attention(Network& n) {
  Tensor* x = in(n, "x", DT::kHALF, {-1, 24, 2, 32});
  n.mark_output(attention(n, x, x, x, nullptr, false));
}

// Linear layers whose sums run in their cuBLASLt call on CUDA (Note [MatMul epilogue]): bias and
// residual, bias only, a residual that broadcasts at run time (the layers one by one), and a
// product that is also an engine output (not fused).
void linear_epilogues(Network& n) {
  Tensor* x = in(n, "x", DT::kFLOAT, {-1, 24, 48});
  Tensor* h = n.add_elementwise(dense(n, x, 48, 48, 300), x, ElementWiseOperation::kSUM)->output(0);
  Tensor* g = n.add_activation(dense(n, h, 48, 96, 310), ActivationType::kRELU)->output(0);
  Tensor* mean = n.add_reduce(h, ReduceOperation::kAVG, 1u << 1, true)->output(0);  // [B, 1, 48]
  Tensor* o =
      n.add_elementwise(dense(n, g, 96, 48, 320), mean, ElementWiseOperation::kSUM)->output(0);
  const float one = 1.0f;
  Tensor* w = n.add_constant(Dims{1, 48, 48}, random_weights(48 * 48, 330, -0.2f, 0.2f))->output(0);
  Tensor* p =
      n.add_matrix_multiply(o, MatrixOperation::kNONE, w, MatrixOperation::kNONE)->output(0);
  Tensor* c = n.add_constant(Dims{1, 1, 1}, Weights::copy(DT::kFLOAT, &one, 1))->output(0);
  n.mark_output(n.add_elementwise(p, c, ElementWiseOperation::kSUM)->output(0));
  n.mark_output(p);
}

// Attention scores with a scale and an additive mask before the softmax (the chain CUDA runs
// inside the softmax kernel, Note [Softmax prologue]).
void masked_attention(Network& n) {
  Tensor* x = in(n, "x", DT::kFLOAT, {-1, 2, 24, 8});
  Tensor* s =
      n.add_matrix_multiply(x, MatrixOperation::kNONE, x, MatrixOperation::kTRANSPOSE)->output(0);
  const float root = std::sqrt(8.0f);
  s = n.add_elementwise(
           s, n.add_constant(Dims{1, 1, 1, 1}, Weights::copy(DT::kFLOAT, &root, 1))->output(0),
           ElementWiseOperation::kDIV)
          ->output(0);
  std::vector<float> mask(24 * 24);
  for (int i = 0; i < 24; ++i)
    for (int j = 0; j < 24; ++j) mask[static_cast<size_t>(i * 24 + j)] = j > i ? -1e4f : 0.0f;
  Tensor* m = n.add_constant(Dims{1, 1, 24, 24}, Weights::copy(DT::kFLOAT, mask.data(), 24 * 24))
                  ->output(0);
  s = n.add_elementwise(m, s, ElementWiseOperation::kSUM)->output(0);
  Tensor* p = n.add_softmax(s, 1u << 3)->output(0);
  n.mark_output(
      n.add_matrix_multiply(p, MatrixOperation::kNONE, x, MatrixOperation::kNONE)->output(0));
}

// Steps with the side operand first (0.5 - x, then w * that), and a chain cut by an engine
// output (2 * x is an output, so only its + 1 can join the second softmax).
void softmax_prologues(Network& n) {
  Tensor* x = in(n, "x", DT::kFLOAT, {-1, 3, 40});
  const float half = 0.5f, two = 2.0f, one = 1.0f;
  auto scalar = [&](const float* v) {
    return n.add_constant(Dims{1, 1, 1}, Weights::copy(DT::kFLOAT, v, 1))->output(0);
  };
  Tensor* y = n.add_elementwise(scalar(&half), x, ElementWiseOperation::kSUB)->output(0);
  y = n.add_elementwise(constant(n, DT::kFLOAT, {1, 1, 40}, 31, 0.5f, 2.0f), y,
                        ElementWiseOperation::kPROD)
          ->output(0);
  n.mark_output(n.add_softmax(y, 1u << 2)->output(0));
  Tensor* d = n.add_elementwise(x, scalar(&two), ElementWiseOperation::kPROD)->output(0);
  n.mark_output(d);
  d = n.add_elementwise(d, scalar(&one), ElementWiseOperation::kSUM)->output(0);
  n.mark_output(n.add_softmax(d, 1u << 2)->output(0));
}

// A fused prologue on rows wider than the registers hold (the chain kernel's three-pass form).
void wide_softmax_prologue(Network& n) {
  Tensor* x = in(n, "x", DT::kFLOAT, {-1, 2, 1500});
  const float quarter = 0.25f;
  Tensor* c = n.add_constant(Dims{1, 1, 1}, Weights::copy(DT::kFLOAT, &quarter, 1))->output(0);
  Tensor* y = n.add_elementwise(x, c, ElementWiseOperation::kPROD)->output(0);
  n.mark_output(n.add_softmax(y, 1u << 2)->output(0));
}

// softmax((x + c)^2): the square's two operands are one tensor, which must still be computed, so
// only the product joins the softmax.
void softmax_of_a_square(Network& n) {
  Tensor* x = in(n, "x", DT::kFLOAT, {-1, 4, 24});
  Tensor* s =
      n.add_elementwise(x, constant(n, DT::kFLOAT, {1, 1, 24}, 41), ElementWiseOperation::kSUM)
          ->output(0);
  Tensor* y = n.add_elementwise(s, s, ElementWiseOperation::kPROD)->output(0);
  n.mark_output(n.add_softmax(y, 1u << 2)->output(0));
}

int model_cases(const Backend& b) {
  struct Model {
    const char* name;
    void (*build)(Network&);
    ProfileDims x;
    double k;
    int fused_softmaxes = 0;  // on CUDA: softmaxes that must run their prologue fused,
    int fused_steps = 0;      // and the ElementWise layers that must run inside them,
    int epilogues = 0;   // and the cuBLASLt calls that run their sums (Note [MatMul epilogue]),
    int attentions = 0;  // and the attentions run as one kernel (Note [Fused attention])
  };
  const Model models[] = {
      {"resnet basic blocks",
       resnet_blocks,
       {Dims{1, 16, 14, 14}, Dims{4, 16, 14, 14}, Dims{8, 16, 14, 14}},
       4 * 144 + 2 * 288 + 49},
      {"encoder layer",
       encoder_layer,
       {Dims{1, 4, 64}, Dims{2, 16, 64}, Dims{4, 48, 64}},
       64 + 16 + 48 + 64 + 64 + 256,
       1,
       1,
       6},
      {"linear epilogues",
       linear_epilogues,
       {Dims{1, 24, 48}, Dims{3, 24, 48}, Dims{5, 24, 48}},
       48 + 96 + 48,
       0,
       0,
       2},
      {"fp16 attention",
       fp16_attention,
       {Dims{1, 24, 2, 32}, Dims{3, 24, 2, 32}, Dims{5, 24, 2, 32}},
       32 + 24,
       1,
       1,
       0,
       1},
      {"masked attention",
       masked_attention,
       {Dims{1, 2, 24, 8}, Dims{3, 2, 24, 8}, Dims{6, 2, 24, 8}},
       8 + 24,
       1,
       2},
      {"softmax prologues",
       softmax_prologues,
       {Dims{1, 3, 40}, Dims{2, 3, 40}, Dims{5, 3, 40}},
       1,
       2,
       3},
      {"softmax of a square",
       softmax_of_a_square,
       {Dims{1, 4, 24}, Dims{2, 4, 24}, Dims{3, 4, 24}},
       1,
       1,
       1},
      {"wide softmax prologue",
       wide_softmax_prologue,
       {Dims{1, 2, 1500}, Dims{2, 2, 1500}, Dims{3, 2, 1500}},
       1500,
       1,
       1},
  };
  int failed = 0, passed = 0;
  std::mt19937 rng(91);
  for (const Model& m : models) {
    Case c;
    c.profile["x"] = m.x;
    c.build = m.build;
    Network net;
    m.build(net);
    for (int p = 0; p < 3; ++p) {
      const Point pt = make_point(c, net, p, rng);
      BuilderConfig dev = pt.ref;
      dev.optimization_level = BuilderConfig{}.optimization_level;
      dev.reference_kernels_only = false;
      dev.device = b.device();
      const RunResult r = run(net, pt.ref, pt.shapes, pt.inputs),
                      d = run(net, dev, pt.shapes, pt.inputs);
      std::string problem = !r.ok ? "reference: " + r.error : !d.ok ? d.error : "";
      for (size_t o = 0; problem.empty() && o < r.outputs.size(); ++o)
        problem = compare(r.outputs[o], d.outputs[o], m.k, false);
      if (problem.empty() && b.device() == DeviceType::kCUDA) {
        int fused = 0, steps = 0, epilogues = 0, attentions = 0;
        for (const auto& [kind, impl] : d.implementations) {
          if (kind == "SoftMax" && impl.find("fused") != std::string::npos) ++fused;
          if (kind == "ElementWise" && impl.rfind("fused into", 0) == 0) ++steps;
          if (kind == "ElementWise" && impl.rfind("cublaslt with", 0) == 0) ++epilogues;
          if (kind == "Shuffle" && impl.rfind("fused attention", 0) == 0) ++attentions;
        }
        if (fused != m.fused_softmaxes || steps != m.fused_steps || epilogues != m.epilogues ||
            attentions != m.attentions)
          problem = std::to_string(fused) + " softmaxes ran " + std::to_string(steps) +
                    " fused ElementWise layers and " + std::to_string(epilogues) +
                    " cuBLASLt calls their sums, " + std::to_string(attentions) +
                    " attentions one kernel, expected " + std::to_string(m.fused_softmaxes) + ", " +
                    std::to_string(m.fused_steps) + ", " + std::to_string(m.epilogues) + " and " +
                    std::to_string(m.attentions);
      }
      if (problem.empty()) {
        ++passed;
      } else {
        std::printf("FAIL models [%s at %s]: %s\n", m.name, pt.shapes.at("x").to_string().c_str(),
                    problem.c_str());
        ++failed;
      }
    }
  }
  std::printf("models on %s: %d passed, %d failed\n", std::string(b.name()).c_str(), passed,
              failed);
  return failed;
}

// Threads: two contexts of one engine run from two threads at once, each at its own shapes and
// inputs, and every run must equal the single-threaded run of the same input; one context
// entered from two threads must run each call correctly or refuse it with the guard's error,
// never mix the two runs.
int thread_cases(const Backend& b) {
  int failed = 0;
  Network n;
  encoder_layer(n);
  OptimizationProfile prof;
  prof.set_dimensions("x", Dims{1, 4, 64}, Dims{2, 16, 64}, Dims{4, 48, 64});
  BuilderConfig cfg;
  cfg.device = b.device();
  cfg.profiles.push_back(prof);
  constexpr int kInputs = 4, kRuns = 50;
  std::mt19937 rng(5);
  const Dims shapes[kInputs] = {Dims{1, 4, 64}, Dims{2, 16, 64}, Dims{4, 48, 64}, Dims{3, 7, 64}};
  std::vector<std::vector<uint8_t>> inputs;
  std::vector<std::vector<uint8_t>> expected;
  std::string problem;
  try {
    auto engine = Builder::build(n, cfg);
    {
      auto ctx = engine->create_execution_context();
      for (const Dims& d : shapes) {
        inputs.push_back(random_input("x", DT::kFLOAT, d, Case{}, rng));
        ctx->set_input_shape("x", d);
        ctx->set_input("x", inputs.back().data());
        ctx->execute();
        expected.push_back(ctx->output(n.output(0)->name()).data);
      }
    }
    std::atomic<int> wrong{0}, refused{0}, other{0};
    auto worker = [&](ExecutionContext* ctx, int first) {
      for (int r = 0; r < kRuns; ++r) {
        const int i = (first + r) % kInputs;
        try {
          ctx->set_input_shape("x", shapes[i]);
          ctx->set_input("x", inputs[static_cast<size_t>(i)].data());
          ctx->execute();
          if (ctx->output(n.output(0)->name()).data != expected[static_cast<size_t>(i)]) ++wrong;
        } catch (const Error& e) {
          if (std::string(e.what()).find("already running") != std::string::npos)
            ++refused;
          else
            ++other;
        }
      }
    };
    {
      auto c0 = engine->create_execution_context(), c1 = engine->create_execution_context();
      std::thread t0(worker, c0.get(), 0), t1(worker, c1.get(), 1);
      t0.join();
      t1.join();
      if (wrong || refused || other)
        problem = "two contexts: " + std::to_string(wrong.load()) + " wrong, " +
                  std::to_string(refused.load() + other.load()) + " failed runs of " +
                  std::to_string(2 * kRuns);
    }
    if (problem.empty()) {
      // Inputs bound once; both threads only call execute(), so each call either runs those
      // inputs or is refused by the guard, and the output after both is the expected one.
      auto c = engine->create_execution_context();
      c->set_input_shape("x", shapes[2]);
      c->set_input("x", inputs[2].data());
      std::atomic<int> ran{0};
      auto hammer = [&] {
        for (int r = 0; r < kRuns; ++r) {
          try {
            c->execute();
            ++ran;
          } catch (const Error& e) {
            if (std::string(e.what()).find("already running") != std::string::npos)
              ++refused;
            else
              ++other;
          }
        }
      };
      std::thread t0(hammer), t1(hammer);
      t0.join();
      t1.join();
      if (other || ran + refused != 2 * kRuns || ran == 0)
        problem = "one context from two threads: " + std::to_string(ran.load()) + " ran, " +
                  std::to_string(refused.load()) + " refused, " + std::to_string(other.load()) +
                  " other errors";
      else if (c->output(n.output(0)->name()).data != expected[2])
        problem = "one context from two threads: the output differs from the single run";
      else
        std::printf("threads: one context from two threads: %d runs, %d refused by the guard\n",
                    ran.load(), refused.load());
    }
  } catch (const Error& e) {
    problem = e.what();
  }
  if (!problem.empty()) {
    std::printf("FAIL threads: %s\n", problem.c_str());
    ++failed;
  }
  std::printf("threads on %s: %d failed\n", std::string(b.name()).c_str(), failed);
  return failed;
}

#ifdef LAYERKIT_WITH_CUDA
// A conv block and an MLP head in one engine with two dynamic inputs (conv weights are uploaded by
// their kernel, matmul weights are constants read on the device).
void io_network(Network& n) {
  Tensor* x = in(n, "x", DT::kFLOAT, {-1, 8, 8, 8});
  Tensor* h = conv_bn(n, x, 8, 8, 3, 1, true, 300);
  h = conv_bn(n, h, 8, 8, 3, 1, false, 310);
  h = n.add_elementwise(h, x, ElementWiseOperation::kSUM)->output(0);
  n.mark_output(n.add_activation(h, ActivationType::kRELU)->output(0));
  Tensor* v = in(n, "v", DT::kFLOAT, {-1, 64});
  Tensor* m = n.add_matrix_multiply(v, MatrixOperation::kNONE,
                                    constant(n, DT::kFLOAT, {64, 32}, 320, -0.3f, 0.3f),
                                    MatrixOperation::kNONE)
                  ->output(0);
  m = n.add_activation(m, ActivationType::kGELU_ERF)->output(0);
  n.mark_output(n.add_softmax(m, 1u << 1)->output(0));
}

// Blocks the stream it is launched on until `open` is set (or 10 s pass: `timed_out`).
struct Gate {
  std::atomic<bool> open{false}, timed_out{false};
  static void CUDART_CB wait(void* self) {
    auto* g = static_cast<Gate*>(self);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!g->open.load())
      if (std::chrono::steady_clock::now() > until) {
        g->timed_out = true;
        return;
      }
  }
};

// The engine state shared by contexts (weights once, a second context costs no engine memory),
// a caller's arena (set_device_memory) at min/opt/max, and enqueue with device-bound inputs and
// outputs returning before the device has run it.
int io_cases(const Backend& b) {
  int failed = 0, passed = 0;
  auto report = [&](const char* what, const std::string& problem) {
    if (problem.empty()) {
      ++passed;
    } else {
      std::printf("FAIL io [%s]: %s\n", what, problem.c_str());
      ++failed;
    }
  };
  Network n;
  io_network(n);
  OptimizationProfile prof;
  prof.set_dimensions("x", Dims{1, 8, 8, 8}, Dims{2, 8, 8, 8}, Dims{4, 8, 8, 8});
  prof.set_dimensions("v", Dims{1, 64}, Dims{2, 64}, Dims{4, 64});
  std::mt19937 rng(31);
  const int64_t batches[] = {1, 2, 4};
  std::vector<std::vector<uint8_t>> xs, vs;
  for (int64_t bt : batches) {
    xs.push_back(random_input("x", DT::kFLOAT, Dims{bt, 8, 8, 8}, Case{}, rng));
    vs.push_back(random_input("v", DT::kFLOAT, Dims{bt, 64}, Case{}, rng));
  }
  auto run_at = [&](ExecutionContext& c, size_t p) {
    c.set_input_shape("x", Dims{batches[p], 8, 8, 8});
    c.set_input_shape("v", Dims{batches[p], 64});
    c.set_input("x", xs[p].data());
    c.set_input("v", vs[p].data());
    c.execute();
    return std::vector<OwnedTensor>{c.output(n.output(0)->name()), c.output(n.output(1)->name())};
  };
  for (bool graphs : {false, true}) {
    const std::string mode = graphs ? " (cuda graphs)" : "";
    BuilderConfig ref;
    ref.reference_kernels_only = true;
    ref.profiles.push_back(prof);
    BuilderConfig dev = ref;
    dev.reference_kernels_only = false;
    dev.device = b.device();
    dev.use_cuda_graph = graphs;
    std::unique_ptr<Engine> re, de;
    std::vector<std::vector<OwnedTensor>> expected;
    try {
      re = Builder::build(n, ref);
      de = Builder::build(n, dev);
      auto rc = re->create_execution_context();
      for (size_t p = 0; p < 3; ++p) expected.push_back(run_at(*rc, p));
    } catch (const Error& e) {
      report(("build" + mode).c_str(), e.what());
      continue;
    }
    // Two contexts: the second adds nothing to the engine's memory and computes the same bits.
    std::string problem;
    std::vector<std::vector<OwnedTensor>> first;
    try {
      auto c1 = de->create_execution_context();
      for (size_t p = 0; p < 3; ++p) {
        first.push_back(run_at(*c1, p));
        for (size_t o = 0; o < 2 && problem.empty(); ++o)
          problem = compare(expected[p][o], first[p][o], 72, false);
      }
      const uint64_t w1 = de->weights_bytes(), m1 = c1->memory_bytes();
      auto c2 = de->create_execution_context();
      for (size_t p = 0; p < 3 && problem.empty(); ++p) {
        const std::vector<OwnedTensor> second = run_at(*c2, p);
        for (size_t o = 0; o < 2 && problem.empty(); ++o)
          if (second[o].data != first[p][o].data)
            problem = "the second context's output " + std::to_string(o) + " at batch " +
                      std::to_string(batches[p]) + " differs from the first's";
      }
      const uint64_t w2 = de->weights_bytes(), m2 = c2->memory_bytes();
      if (problem.empty() && (w1 == 0 || w2 != w1))
        problem = "engine weights " + std::to_string(w1) + " bytes with one context, " +
                  std::to_string(w2) + " with two (must be equal and nonzero)";
      if (problem.empty())
        std::printf(
            "io%s: engine weights %llu bytes with one context and with two; contexts "
            "hold %llu and %llu bytes of their own\n",
            mode.c_str(), static_cast<unsigned long long>(w2), static_cast<unsigned long long>(m1),
            static_cast<unsigned long long>(m2));
    } catch (const Error& e) {
      problem = e.what();
    }
    report(("two contexts share the engine" + mode).c_str(), problem);

    // A caller's arena: the same bits as a context with memory of its own, at min/opt/max, and
    // the arena's misuse refused.
    problem.clear();
    void* arena = nullptr;
    try {
      auto c = de->create_execution_context_without_device_memory();
      const uint64_t need = de->device_memory_size();
      try {
        run_at(*c, 1);
        problem = "a context without device memory ran";
      } catch (const Error& e) {
        if (std::string(e.what()).find("without device memory") == std::string::npos)
          problem = std::string("unexpected error: ") + e.what();
      }
      std::vector<uint8_t> host(static_cast<size_t>(need) + 256);
      try {
        c->set_device_memory(host.data(), need);
        if (problem.empty()) problem = "host memory was taken as the arena";
      } catch (const Error& e) {
        if (problem.empty() && std::string(e.what()).find("not device memory") == std::string::npos)
          problem = std::string("unexpected error for host memory: ") + e.what();
      }
      if (cudaMalloc(&arena, std::max<uint64_t>(need, 1)) != cudaSuccess)
        throw Error(ErrorCode::kOUT_OF_MEMORY, "cudaMalloc of the arena failed");
      if (need > 0) {
        try {
          c->set_device_memory(arena, need - 1);
          if (problem.empty()) problem = "an arena one byte short was taken";
        } catch (const Error&) {
        }
      }
      c->set_device_memory(arena, need);
      for (int round = 0; round < 2 && problem.empty(); ++round)
        for (size_t p = 0; p < 3 && problem.empty(); ++p) {
          const std::vector<OwnedTensor> got = run_at(*c, p);
          for (size_t o = 0; o < 2 && problem.empty(); ++o)
            if (got[o].data != first[p][o].data)
              problem = "in the caller's arena, output " + std::to_string(o) + " at batch " +
                        std::to_string(batches[p]) + " differs from a context with own memory";
        }
      if (problem.empty())
        std::printf("io%s: arena of %llu bytes (Engine::device_memory_size) at batch 1, 2, 4\n",
                    mode.c_str(), static_cast<unsigned long long>(need));
    } catch (const Error& e) {
      problem = e.what();
    }
    if (arena) cudaFree(arena);
    report(("caller's arena" + mode).c_str(), problem);

    // enqueue with every input and output in device memory returns before the device has run:
    // the caller's stream is held by a host function until enqueue has returned.
    problem.clear();
    void* dx = nullptr;
    void* dv = nullptr;
    void* dy0 = nullptr;
    void* dy1 = nullptr;
    cudaStream_t user = nullptr;
    try {
      const size_t p = 1;
      const auto bytes = [](const OwnedTensor& t) { return t.data.size(); };
      if (cudaMalloc(&dx, xs[p].size()) != cudaSuccess ||
          cudaMalloc(&dv, vs[p].size()) != cudaSuccess ||
          cudaMalloc(&dy0, bytes(first[p][0])) != cudaSuccess ||
          cudaMalloc(&dy1, bytes(first[p][1])) != cudaSuccess ||
          cudaStreamCreateWithFlags(&user, cudaStreamNonBlocking) != cudaSuccess)
        throw Error(ErrorCode::kOUT_OF_MEMORY, "device buffers for the test");
      cudaMemcpy(dx, xs[p].data(), xs[p].size(), cudaMemcpyHostToDevice);
      cudaMemcpy(dv, vs[p].data(), vs[p].size(), cudaMemcpyHostToDevice);
      auto c = de->create_execution_context();
      c->set_input_shape("x", Dims{batches[p], 8, 8, 8});
      c->set_input_shape("v", Dims{batches[p], 64});
      c->set_tensor_address("x", dx);
      c->set_tensor_address("v", dv);
      c->set_tensor_address(n.output(0)->name(), dy0);
      c->set_tensor_address(n.output(1)->name(), dy1);
      auto check_outputs = [&](const char* when) {
        for (int o = 0; o < 2 && problem.empty(); ++o) {
          std::vector<uint8_t> got(first[p][static_cast<size_t>(o)].data.size());
          cudaMemcpy(got.data(), o == 0 ? dy0 : dy1, got.size(), cudaMemcpyDeviceToHost);
          if (got != first[p][static_cast<size_t>(o)].data)
            problem = std::string(when) + ": output " + std::to_string(o) +
                      " in its bound device buffer differs from execute's";
        }
      };
      // Warm-up runs make the kernels (and capture the graph) while nothing holds the stream.
      for (int r = 0; r < 2; ++r) {
        c->enqueue(user);
        c->synchronize();
      }
      check_outputs("after the warm-up");
      for (int r = 0; r < 3 && problem.empty(); ++r) {
        cudaMemsetAsync(dy0, 0, bytes(first[p][0]), user);
        cudaMemsetAsync(dy1, 0, bytes(first[p][1]), user);
        Gate gate;
        cudaLaunchHostFunc(user, &Gate::wait, &gate);
        c->enqueue(user);
        const bool returned_first = !gate.timed_out.load();
        gate.open = true;
        c->synchronize();
        cudaStreamSynchronize(user);
        if (!returned_first) problem = "enqueue waited for the device (the held stream timed out)";
        if (graphs && problem.empty() && !c->last_run_times().cuda_graph)
          problem = "the run did not replay its graph";
        check_outputs("after an asynchronous enqueue");
      }
    } catch (const Error& e) {
      problem = e.what();
    }
    for (void* q : {dx, dv, dy0, dy1})
      if (q) cudaFree(q);
    if (user) cudaStreamDestroy(user);
    report(("asynchronous enqueue" + mode).c_str(), problem);

    // Host inputs are staged (Note [Pinned staging]) by the time enqueue returns: the caller may
    // overwrite them while the run still waits on the held stream, at two batch sizes (the
    // staging grows for the larger one and is reused for the smaller).
    problem.clear();
    dy0 = dy1 = nullptr;
    user = nullptr;
    try {
      if (cudaStreamCreateWithFlags(&user, cudaStreamNonBlocking) != cudaSuccess)
        throw Error(ErrorCode::kRUNTIME, "cudaStreamCreate for the test");
      auto c = de->create_execution_context();
      for (size_t p : {size_t{2}, size_t{0}, size_t{2}}) {
        if (!problem.empty()) break;
        const auto bytes = [&](int o) { return first[p][static_cast<size_t>(o)].data.size(); };
        if (dy0) cudaFree(dy0);
        if (dy1) cudaFree(dy1);
        dy0 = dy1 = nullptr;
        if (cudaMalloc(&dy0, bytes(0)) != cudaSuccess || cudaMalloc(&dy1, bytes(1)) != cudaSuccess)
          throw Error(ErrorCode::kOUT_OF_MEMORY, "device buffers for the test");
        std::vector<uint8_t> hx = xs[p], hv = vs[p];
        c->set_input_shape("x", Dims{batches[p], 8, 8, 8});
        c->set_input_shape("v", Dims{batches[p], 64});
        c->set_input("x", hx.data());
        c->set_input("v", hv.data());
        c->set_tensor_address(n.output(0)->name(), dy0);
        c->set_tensor_address(n.output(1)->name(), dy1);
        c->enqueue(user);  // makes the kernels while nothing holds the stream
        c->synchronize();
        Gate gate;
        cudaLaunchHostFunc(user, &Gate::wait, &gate);
        c->enqueue(user);
        const bool returned_first = !gate.timed_out.load();
        std::fill(hx.begin(), hx.end(), uint8_t{0xff});  // NaNs, were they read now
        std::fill(hv.begin(), hv.end(), uint8_t{0xff});
        gate.open = true;
        c->synchronize();
        cudaStreamSynchronize(user);
        if (!returned_first) problem = "enqueue with host inputs waited for the device";
        for (int o = 0; o < 2 && problem.empty(); ++o) {
          std::vector<uint8_t> got(bytes(o));
          cudaMemcpy(got.data(), o == 0 ? dy0 : dy1, got.size(), cudaMemcpyDeviceToHost);
          if (got != first[p][static_cast<size_t>(o)].data)
            problem = "batch " + std::to_string(batches[p]) + ": output " + std::to_string(o) +
                      " read host inputs overwritten after enqueue returned";
        }
      }
    } catch (const Error& e) {
      problem = e.what();
    }
    for (void* q : {dy0, dy1})
      if (q) cudaFree(q);
    if (user) cudaStreamDestroy(user);
    report(("host inputs staged by enqueue" + mode).c_str(), problem);
  }
  std::printf("io on %s: %d passed, %d failed\n", std::string(b.name()).c_str(), passed, failed);
  return failed;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  std::vector<const Backend*> others;
  for (const Backend* b : backends()) {
    if (b->device() == DeviceType::kCPU) continue;
    if (std::string why = b->unavailable_reason(0); !why.empty()) {
      std::printf("%s backend: skipped (%s)\n", std::string(b->name()).c_str(), why.c_str());
      continue;
    }
    others.push_back(b);
  }
  std::vector<Case> cases = make_cases();
  if (only == "--reference-only") {
    // Without a device: every case builds and runs (or fails as it expects) on the CPU
    // reference engine, so new cases can be checked on any machine.
    int bad = 0;
    std::mt19937 rng(1234);
    for (const Case& c : cases) {
      Network net;
      try {
        c.build(net);
      } catch (const Error& e) {
        std::printf("FAIL %s [%s]: the case does not build: %s\n", c.kind.c_str(), c.label.c_str(),
                    e.what());
        ++bad;
        continue;
      }
      for (int p = 0; p < (c.profile.empty() ? 1 : 3); ++p) {
        const Point pt = make_point(c, net, p, rng);
        const RunResult r = run(net, pt.ref, pt.shapes, pt.inputs);
        if (r.ok == c.expect_error) {
          std::printf("FAIL %s [%s]: %s\n", c.kind.c_str(), c.label.c_str(),
                      r.ok ? "runs without the expected error" : r.error.c_str());
          ++bad;
        } else if (c.expect_error) {
          std::printf("ok %s [%s]: %s\n", c.kind.c_str(), c.label.c_str(), r.error.c_str());
        }
      }
    }
    // The whole-block and thread cases also hold for the CPU engine's fast kernels.
    for (const Backend* b : backends())
      if (b->device() == DeviceType::kCPU) bad += model_cases(*b) + thread_cases(*b);
    std::printf("reference only: %zu cases, %d failed\n", cases.size(), bad);
    return bad == 0 ? 0 : 1;
  }
  if (others.empty()) {
    std::printf("backend conformance: no backend besides the CPU can run here; nothing compared\n");
    return kSkip;
  }
  struct Count {
    int cases = 0, passed = 0, on_device = 0;
  };
  std::map<std::string, Count> per_kind;
  for (int k = 0; k < kNumLayerKinds; ++k)
    per_kind[std::string(layer_kind_name(static_cast<LayerKind>(k)))];
  per_kind.erase("Input");
  per_kind.erase("Constant");
  int passed = 0, failed = 0;
  std::mt19937 rng(1234);
  for (const Case& c : cases) {
    if (!only.empty() && c.kind != only) continue;
    Network net;
    try {
      c.build(net);
    } catch (const Error& e) {
      std::printf("FAIL %s [%s]: the case does not build: %s\n", c.kind.c_str(), c.label.c_str(),
                  e.what());
      ++failed;
      ++per_kind[c.kind].cases;
      continue;
    }
    // min, opt, max of the profile (or the static shapes once).
    const int points = c.profile.empty() ? 1 : 3;
    for (const Backend* b : others) {
      for (int p = 0; p < points; ++p) {
        const Point pt = make_point(c, net, p, rng);
        BuilderConfig dev = pt.ref;
        dev.reference_kernels_only = false;
        dev.device = b->device();
        const RunResult r = run(net, pt.ref, pt.shapes, pt.inputs);
        const RunResult d = run(net, dev, pt.shapes, pt.inputs);
        std::string problem;
        if (c.expect_error) {
          if (r.ok || d.ok)
            problem = std::string(r.ok ? "the reference" : std::string(b->name())) +
                      " runs without the expected error";
          else if (r.error != d.error)
            problem = "error \"" + d.error + "\", reference \"" + r.error + "\"";
        } else if (r.ok != d.ok) {
          problem = r.ok ? "fails on " + std::string(b->name()) + ": " + d.error
                         : "the reference fails (" + r.error + ") but " + std::string(b->name()) +
                               " does not";
        } else if (r.ok) {
          for (size_t o = 0; o < r.outputs.size() && problem.empty(); ++o)
            problem = compare(r.outputs[o], d.outputs[o], c.accumulate, c.exact);
        }
        Count& cnt = per_kind[c.kind];
        ++cnt.cases;
        // Whether every layer of the kind under test ran a device kernel (no host fallback).
        bool device_kernel = d.ok || c.expect_error;
        bool seen = false;
        for (const auto& [kind, impl] : d.implementations) {
          if (kind != c.kind) continue;
          seen = true;
          if (impl.empty() || impl.rfind("host", 0) == 0) device_kernel = false;
        }
        device_kernel = device_kernel && seen;
        if (device_kernel) ++cnt.on_device;
        if (problem.empty()) {
          ++passed;
          ++cnt.passed;
        } else {
          ++failed;
          std::printf("FAIL %s [%s] on %s%s: %s\n", c.kind.c_str(), c.label.c_str(),
                      std::string(b->name()).c_str(),
                      points > 1 ? (p == 0   ? " (min)"
                                    : p == 1 ? " (opt)"
                                             : " (max)")
                                 : "",
                      problem.c_str());
        }
      }
    }
  }
  for (const auto& [kind, cnt] : per_kind) {
    if (!only.empty() && kind != only) continue;
    std::printf("%s: %d cases, %d passed (%d ran a device kernel, %d the host reference)%s\n",
                kind.c_str(), cnt.cases, cnt.passed, cnt.on_device, cnt.cases - cnt.on_device,
                cnt.cases == 0 ? " -- NO CASES" : "");
    if (cnt.cases == 0) ++failed;
  }
  if (only.empty() || only == "errors")
    for (const Backend* b : others) {
      const int f = error_cases(*b);
      failed += f;
      if (f == 0) ++passed;
    }
  if (only.empty() || only == "features")
    for (const Backend* b : others) {
      const int f = feature_cases(*b);
      failed += f;
      if (f == 0) ++passed;
    }
  if (only.empty() || only == "models")
    for (const Backend* b : others) {
      const int f = model_cases(*b);
      failed += f;
      if (f == 0) ++passed;
    }
  if (only.empty() || only == "threads")
    for (const Backend* b : others) {
      const int f = thread_cases(*b);
      failed += f;
      if (f == 0) ++passed;
    }
#ifdef LAYERKIT_WITH_CUDA
  if (only.empty() || only == "io")
    for (const Backend* b : others)
      if (b->device() == DeviceType::kCUDA) {
        const int f = io_cases(*b);
        failed += f;
        if (f == 0) ++passed;
      }
#endif
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
