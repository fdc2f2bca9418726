// The backend-conformance program: builds every case for the CPU reference engine and for each
// other backend of this build (CUDA) and compares their outputs with the per-dtype tolerances.
// It links no libtorch, so it runs on a GPU host; without a device it says so and exits 77.
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "core/element.h"
#include "layerkit/builder/builder.h"
#include "layerkit/network/network.h"
#include "layerkit/runtime/backend.h"
#include "layerkit/runtime/engine.h"

#ifdef LAYERKIT_HAS_CUDA
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
  try {
    auto engine = Builder::build(net, config);
    auto ctx = engine->create_execution_context();
    for (int i = 0; i < net.num_inputs(); ++i) {
      const Tensor* t = net.input(i);
      ctx->set_input_shape(t->name(), shapes.at(t->name()));
      ctx->set_input(t->name(), inputs[static_cast<size_t>(i)].data());
    }
    ctx->execute();
    const Network& en = engine->network();
    for (int i = 0; i < net.num_outputs(); ++i)
      r.outputs.push_back(ctx->output(net.output(i)->name()));
    for (int i = 0; i < en.num_layers(); ++i)
      r.implementations.emplace_back(layer_kind_name(en.layer(i)->kind()),
                                     ctx->layer_implementation(en.layer(i)->name()));
  } catch (const Error& e) {
    r.ok = false;
    r.error = e.what();
  }
  return r;
}

// Empty when equal within tolerance (bit for bit when `exact`); else the first mismatch.
std::string compare(const OwnedTensor& ref, const OwnedTensor& got, double k, bool exact) {
  if (ref.type != got.type || ref.dims != got.dims)
    return "output " + std::string(data_type_name(got.type)) + got.dims.to_string() +
           ", reference " + std::string(data_type_name(ref.type)) + ref.dims.to_string();
  const int64_t n = ref.dims.volume();
  std::vector<uint8_t> a(static_cast<size_t>(n * element_size(ref.type)));
  std::vector<uint8_t> b(a.size());
  unpack(ref.type, ref.data.data(), a.data(), n);
  unpack(got.type, got.data.data(), b.data(), n);
  const Tolerance tol = tolerance(ref.type);
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
      std::snprintf(buf, sizeof buf, "element %lld: %.9g, reference %.9g", static_cast<long long>(i),
                    y, x);
      return buf;
    }
    const int64_t x = load_i(ref.type, a.data(), i), y = load_i(got.type, b.data(), i);
    if (x != y)
      return "element " + std::to_string(i) + ": " + std::to_string(y) + ", reference " +
             std::to_string(x);
  }
  return {};
}

// ---- the cases ----

using DT = DataType;
const std::vector<DT> kFloat = {DT::kFLOAT, DT::kHALF, DT::kBF16};

Tensor* in(Network& n, const char* name, DT t, Dims d) {
  return n.add_input(name, t, d);
}
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
        Case* c = add("ElementWise",
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
      add("Unary", std::string(enum_name(op)) + " " + name_of(t), [=](Network& n) {
        n.mark_output(n.add_unary(in(n, "x", t, {3, 17}), op)->output(0));
      });
  }
  for (int a = 0; a <= static_cast<int>(ActivationType::kGELU_TANH); ++a)
    for (DT t : kFloat) {
      const auto at = static_cast<ActivationType>(a);
      add("Activation", std::string(enum_name(at)) + " " + name_of(t), [=](Network& n) {
        n.mark_output(n.add_activation(in(n, "x", t, {2, 5, 7}), at, 0.3f, 1.5f)->output(0));
      });
    }
  const std::vector<DT> cast_types = {DT::kFLOAT, DT::kHALF,  DT::kBF16, DT::kINT8,
                                      DT::kUINT8, DT::kINT32, DT::kINT64, DT::kBOOL, DT::kFP8};
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
        n.mark_output(n.add_slice(in(n, "x", t, {4, 5, 6}), start, strict ? Dims{2, 3, 1} : Dims{4, 6, 5},
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
  for (int axis : {0, 1, 2})
    for (DT it : {DT::kINT32, DT::kINT64}) {
      Case* c = add("Gather", "DEFAULT axis " + std::to_string(axis) + " " + name_of(it),
                    [=](Network& n) {
                      Tensor* d = in(n, "d", DT::kFLOAT, {4, 5, 6});
                      Tensor* i = in(n, "i", it, {2, 3});
                      n.mark_output(n.add_gather(d, i, axis)->output(0));
                    });
      c->lo = -4;
      c->hi = 3;
    }
  {
    Case* c = add("Gather", "ELEMENT", [](Network& n) {
      Tensor* d = in(n, "d", DT::kFLOAT, {4, 5});
      Tensor* i = in(n, "i", DT::kINT32, {4, 3});
      n.mark_output(n.add_gather(d, i, 1, GatherMode::kELEMENT)->output(0));
    });
    c->lo = 0;
  }
  using R = ReduceOperation;
  for (R op : {R::kSUM, R::kPROD, R::kMAX, R::kMIN, R::kAVG})
    for (DT t : {DT::kFLOAT, DT::kHALF, DT::kINT32})
      for (AxesMask axes : {AxesMask{1}, AxesMask{2}, AxesMask{5}, AxesMask{7}})
        for (bool keep : {false, true}) {
          if (op == R::kAVG && t == DT::kINT32) continue;  // kAVG takes floating types only
          Case* c = add("Reduce",
                        std::string(enum_name(op)) + " " + name_of(t) + " axes " +
                            std::to_string(axes) + (keep ? " keep" : ""),
                        [=](Network& n) {
                          n.mark_output(
                              n.add_reduce(in(n, "x", t, {3, 4, 5}), op, axes, keep)->output(0));
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
      add("SoftMax", "axes " + std::to_string(axes) + " " + name_of(t), [=](Network& n) {
        n.mark_output(n.add_softmax(in(n, "x", t, {2, 7, 33}), axes)->output(0));
      }, 33);
  // Normalization: layer norm (last axis), instance norm (spatial axes), group norm.
  for (DT t : kFloat) {
    add("Normalization", "layer norm " + name_of(t), [=](Network& n) {
      Tensor* x = in(n, "x", t, {2, 5, 64});
      NormalizationAttrs a;
      a.axes = 4;
      n.mark_output(n.add_normalization(x, constant(n, t, {1, 1, 64}, 1),
                                        constant(n, t, {1, 1, 64}, 2), a)
                        ->output(0));
    }, 64);
    add("Normalization", "instance norm " + name_of(t), [=](Network& n) {
      Tensor* x = in(n, "x", t, {2, 3, 6, 6});
      NormalizationAttrs a;
      a.axes = 12;
      n.mark_output(n.add_normalization(x, constant(n, t, {1, 3, 1, 1}, 3),
                                        constant(n, t, {1, 3, 1, 1}, 4), a)
                        ->output(0));
    }, 36);
    add("Normalization", "group norm " + name_of(t), [=](Network& n) {
      Tensor* x = in(n, "x", t, {2, 6, 4, 4});
      NormalizationAttrs a;
      a.axes = 12;
      a.num_groups = 3;
      n.mark_output(n.add_normalization(x, constant(n, t, {1, 3, 1, 1}, 5),
                                        constant(n, t, {1, 3, 1, 1}, 6), a)
                        ->output(0));
    }, 32);
  }
  using M = MatrixOperation;
  struct MM {
    Dims a, b;
    M oa, ob;
  };
  const std::vector<MM> mms = {
      {{7, 33}, {33, 5}, M::kNONE, M::kNONE},        {{33, 7}, {33, 5}, M::kTRANSPOSE, M::kNONE},
      {{7, 33}, {5, 33}, M::kNONE, M::kTRANSPOSE},   {{3, 7, 33}, {3, 33, 5}, M::kNONE, M::kNONE},
      {{3, 7, 33}, {1, 33, 5}, M::kNONE, M::kNONE},  {{1, 7, 33}, {4, 5, 33}, M::kNONE, M::kTRANSPOSE},
      {{2, 1, 7, 9}, {1, 3, 9, 4}, M::kNONE, M::kNONE}, {{33}, {33, 5}, M::kVECTOR, M::kNONE},
      {{7, 33}, {33}, M::kNONE, M::kVECTOR},          {{0, 33}, {33, 5}, M::kNONE, M::kNONE},
      {{64, 128}, {128, 96}, M::kNONE, M::kNONE}};
  for (const MM& m : mms)
    for (DT t : kFloat)
      add("MatrixMultiply", name_of(t) + " " + m.a.to_string() + " x " + m.b.to_string(),
          [=](Network& n) {
            n.mark_output(
                n.add_matrix_multiply(in(n, "a", t, m.a), m.oa, in(n, "b", t, m.b), m.ob)->output(0));
          },
          128);
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
    for (DT t : {DT::kFLOAT, DT::kHALF}) {
      int64_t k = cv.x[1] / cv.groups;
      for (int64_t s : cv.k) k *= s;
      add("Convolution", name_of(t) + " x" + cv.x.to_string() + " k" + cv.k.to_string() + " g" +
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
          add("Pooling",
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
  add("TopK", "k=3 axis 1", [](Network& n) {
    Layer* l = n.add_topk(in(n, "x", DT::kFLOAT, {2, 9}), TopKOperation::kMAX, 3, 2);
    n.mark_output(l->output(0));
    n.mark_output(l->output(1));
  });
  add("Cumulative", "sum axis 1", [](Network& n) {
    n.mark_output(
        n.add_cumulative(in(n, "x", DT::kFLOAT, {3, 8}), CumulativeOperation::kSUM, 1)->output(0));
  }, 8);
  add("Resize", "linear x2", [](Network& n) {
    ResizeAttrs a;
    a.output_dims = Dims{1, 2, 8, 10};
    a.resize_mode = InterpolationMode::kLINEAR;
    a.coordinate_transformation = ResizeCoordinateTransformation::kHALF_PIXEL;
    n.mark_output(n.add_resize(in(n, "x", DT::kFLOAT, {1, 2, 4, 5}), a)->output(0));
  });
  {
    Case* c = add("GridSample", "bilinear", [](Network& n) {
      n.mark_output(n.add_grid_sample(in(n, "x", DT::kFLOAT, {1, 2, 5, 5}),
                                      in(n, "g", DT::kFLOAT, {1, 3, 4, 2}))
                        ->output(0));
    });
    c->flo = -1;
    c->fhi = 1;
  }
  {
    Case* c = add("Scatter", "ELEMENT axis 0", [](Network& n) {
      n.mark_output(n.add_scatter(in(n, "d", DT::kFLOAT, {4, 3}), in(n, "i", DT::kINT32, {2, 3}),
                                  in(n, "u", DT::kFLOAT, {2, 3}), ScatterMode::kELEMENT, 0)
                        ->output(0));
    });
    c->lo = 0;
    c->hi = 3;
  }
  add("Fill", "linspace", [](Network& n) {
    FillAttrs a;
    a.dims = {3, 4};
    a.alpha = 1.5;
    a.beta = {0.5, -0.25};
    Layer* f = n.add_fill(a);
    n.mark_output(n.add_elementwise(f->output(0), in(n, "x", DT::kFLOAT, {3, 4}),
                                    ElementWiseOperation::kSUM)
                      ->output(0));
  });
  add("Shape", "shape of a dynamic input", [](Network& n) {
    Tensor* x = in(n, "x", DT::kFLOAT, {2, 3});
    n.mark_output(n.add_shape(x)->output(0));
  });
  add_quantize_cases(add);
  add("NonZero", "data-dependent output", [](Network& n) {
    n.mark_output(n.add_non_zero(in(n, "x", DT::kINT32, {3, 5}))->output(0));
  });
  add("Collective", "all_reduce world size 1", [](Network& n) {
    n.mark_output(n.add_collective(in(n, "x", DT::kFLOAT, {4}), {})->output(0));
  });
  add("Deconvolution", "2-D stride 2", [](Network& n) {
    DeconvolutionAttrs a;
    a.num_output_maps = 3;
    a.kernel_size = {3, 3};
    a.stride = {2, 2};
    Tensor* w = constant(n, DT::kFLOAT, {2, 3, 3, 3}, 13);
    n.mark_output(n.add_deconvolution_nd(in(n, "x", DT::kFLOAT, {1, 2, 4, 4}), a, w)->output(0));
  }, 18);
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
    n.mark_output(n.add_activation(n.add_input("x", DT::kFLOAT, {4}), ActivationType::kRELU)->output(0));
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
         [&] { ctx->set_input_shape("x", {5, 8}); });
  ctx->set_input_shape("x", {2, 8});
  expect("host memory passed as device memory", ErrorCode::kINVALID_ARGUMENT, "not device memory",
         [&] {
           ctx->set_input("x", host.data(), DeviceType::kCUDA);
           ctx->execute();
         });
#ifdef LAYERKIT_HAS_CUDA
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
    expect("gather index out of range", ErrorCode::kRUNTIME, "outside", [&] { gc->execute(); });
    gc->set_input("i", good.data());
    try {
      gc->execute();
    } catch (const Error& e2) {
      std::printf("FAIL errors [gather after a bad index]: %s\n", e2.what());
      ++failed;
    }
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
    expect("MXFP8 global scale not 1", ErrorCode::kRUNTIME, "global scale of 1, got 2",
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
  if (others.empty()) {
    std::printf("backend conformance: no backend besides the CPU can run here; nothing compared\n");
    return kSkip;
  }
  std::vector<Case> cases = make_cases();
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
        std::map<std::string, Dims> shapes;
        OptimizationProfile prof;
        for (int i = 0; i < net.num_inputs(); ++i) {
          const Tensor* t = net.input(i);
          auto it = c.profile.find(t->name());
          if (it == c.profile.end()) {
            shapes[t->name()] = t->dims();
          } else {
            const ProfileDims& pd = it->second;
            shapes[t->name()] = p == 0 ? pd.min : p == 1 ? pd.opt : pd.max;
            prof.set_dimensions(t->name(), pd.min, pd.opt, pd.max);
          }
        }
        std::vector<std::vector<uint8_t>> inputs;
        for (int i = 0; i < net.num_inputs(); ++i)
          inputs.push_back(random_input(net.input(i)->name(), net.input(i)->type(),
                                        shapes[net.input(i)->name()], c, rng));
        BuilderConfig ref;
        ref.optimization_level = 0;
        ref.reference_kernels_only = true;
        if (!c.profile.empty()) ref.profiles.push_back(prof);
        BuilderConfig dev = ref;
        dev.reference_kernels_only = false;
        dev.device = b->device();
        const RunResult r = run(net, ref, shapes, inputs);
        const RunResult d = run(net, dev, shapes, inputs);
        std::string problem;
        if (r.ok != d.ok) {
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
        bool device_kernel = d.ok;
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
                      points > 1 ? (p == 0 ? " (min)" : p == 1 ? " (opt)" : " (max)") : "",
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
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
