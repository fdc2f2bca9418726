// Vectorized fp32 fast paths (AVX-512 / AVX2 chosen at run time) for common pointwise layers:
// Activation (relu, sigmoid, tanh, gelu), ElementWise sum/sub/prod/div over equal or
// one-sided broadcast shapes, and SoftMax over the last axis.
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "runtime/cpu/impl_list.h"

// Each loop is compiled for AVX-512, AVX2 and the baseline; the loader picks the best the CPU
// has (GCC function multiversioning), so shipped builds need no -march flag.
#define LK_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
// Helpers are inlined into each clone so they vectorize with the clone's instruction set.
#define LK_INLINE inline __attribute__((always_inline))

namespace layerkit::cpu {
namespace {

// exp(x) in fp32 from a range reduction x = n ln2 + r and a degree-6 polynomial for e^r (Cephes
// expf coefficients, about 1 ulp); written without library calls so it vectorizes. NaN
// propagates: comparisons with NaN are false, so the clamps keep it.
LK_INLINE float fast_exp(float x) {
  x = x > 88.3762626647949f ? 88.3762626647949f : x;
  x = x < -87.3365447505531f ? -87.3365447505531f : x;
  // Adding 1.5 * 2^23 rounds x / ln2 to the nearest integer n (the clamps keep it in range) and
  // leaves n in the low mantissa bits: no library call, so the loop vectorizes.
  constexpr float kRound = 12582912.0f;
  const float t = x * 1.44269504088896341f + kRound;
  const float n = t - kRound;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t ni = std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(kRound);
  return p * std::bit_cast<float>((ni + 127) << 23);
}

LK_INLINE float fast_sigmoid(float x) {
  return 1.0f / (1.0f + fast_exp(-x));
}

// tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|); no cancellation beyond fp32 rounding
// of 1 - e, which the absolute tolerance covers near 0.
LK_INLINE float fast_tanh(float x) {
  const float e = fast_exp(-2.0f * std::fabs(x));
  const float t = (1.0f - e) / (1.0f + e);
  return x < 0.0f ? -t : t;
}

// erf from Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
LK_INLINE float fast_erf(float x) {
  const float ax = std::fabs(x);
  const float t = 1.0f / (1.0f + 0.3275911f * ax);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  const float y = 1.0f - p * t * fast_exp(-ax * ax);
  return x < 0.0f ? -y : y;
}

LK_CLONES void relu_loop(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];  // NaN passes through
}
LK_CLONES void sigmoid_loop(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fast_sigmoid(x[i]);
}
LK_CLONES void tanh_loop(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fast_tanh(x[i]);
}
LK_CLONES void gelu_erf_loop(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = 0.5f * x[i] * (1.0f + fast_erf(x[i] * 0.70710678118654752f));
}
LK_CLONES void gelu_tanh_loop(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.0f + fast_tanh(0.79788456080286536f * (v + 0.044715f * v * v * v)));
  }
}

// Binary loops: vv (both operands full), vs (second is one value), sv (first is one value).
#define LK_BINARY(name, OP)                                                       \
  LK_CLONES void name##_vv(const float* a, const float* b, float* y, int64_t n) { \
    for (int64_t i = 0; i < n; ++i) y[i] = a[i] OP b[i];                          \
  }                                                                               \
  LK_CLONES void name##_vs(const float* a, float b, float* y, int64_t n) {        \
    for (int64_t i = 0; i < n; ++i) y[i] = a[i] OP b;                             \
  }                                                                               \
  LK_CLONES void name##_sv(float a, const float* b, float* y, int64_t n) {        \
    for (int64_t i = 0; i < n; ++i) y[i] = a OP b[i];                             \
  }
LK_BINARY(add, +)
LK_BINARY(sub, -)
LK_BINARY(mul, *)
LK_BINARY(div, /)
#undef LK_BINARY

struct BinaryLoops {
  void (*vv)(const float*, const float*, float*, int64_t);
  void (*vs)(const float*, float, float*, int64_t);
  void (*sv)(float, const float*, float*, int64_t);
};

// Reductions keep 16 partial results (one 512-bit vector) so they vectorize without
// reassociation flags; the order of the final combination is fixed.
constexpr int64_t kLanes = 16;

LK_CLONES float max_loop(const float* x, int64_t n) {
  float m[kLanes];
  for (float& v : m) v = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t j = 0; j < kLanes; ++j) m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
  for (; i < n; ++i) m[0] = x[i] > m[0] ? x[i] : m[0];
  float r = m[0];
  for (int64_t j = 1; j < kLanes; ++j) r = m[j] > r ? m[j] : r;
  return r;
}
// y = exp(x - shift); returns the sum of y.
LK_CLONES float exp_sum_loop(const float* x, float shift, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fast_exp(x[i] - shift);
  float s[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t j = 0; j < kLanes; ++j) s[j] += y[i + j];
  for (; i < n; ++i) s[0] += y[i];
  float r = 0.0f;
  for (float v : s) r += v;
  return r;
}

constexpr int64_t kChunkElements = 1 << 15;

// Splits [0, n) into chunks over the configured threads; small ranges stay on the caller since
// starting a parallel region costs more than the work.
// `min_chunk` items are about 32K elements of work.
template <typename F>
void parallel_chunks(int64_t n, int threads, int64_t min_chunk, F f) {
  const int64_t chunks = std::min<int64_t>(threads, std::max<int64_t>(1, n / min_chunk));
  if (chunks <= 1) {
    f(int64_t{0}, n);
    return;
  }
#pragma omp parallel for num_threads(static_cast <int>(chunks))
  for (int64_t c = 0; c < chunks; ++c) f(n * c / chunks, n * (c + 1) / chunks);
}

// ---- Activation ---------------------------------------------------------------------------------

class VectorActivation final : public LayerImpl {
 public:
  explicit VectorActivation(void (*loop)(const float*, float*, int64_t)) : loop_(loop) {}
  void run(KernelCtx& ctx) override {
    const float* x = ctx.input(0).as<float>();
    float* y = ctx.output(0).as<float>();
    parallel_chunks(ctx.output(0).numel(), ctx.num_threads(), kChunkElements,
                    [&](int64_t b, int64_t e) { loop_(x + b, y + b, e - b); });
  }

 private:
  void (*loop_)(const float*, float*, int64_t);
};

std::unique_ptr<LayerImpl> make_activation(const ImplProblem& p) {
  if (p.input(0).type != DataType::kFLOAT || p.output(0).type != DataType::kFLOAT) return nullptr;
  switch (p.as<ActivationAttrs>().type) {
    case ActivationType::kRELU:
      return std::make_unique<VectorActivation>(&relu_loop);
    case ActivationType::kSIGMOID:
      return std::make_unique<VectorActivation>(&sigmoid_loop);
    case ActivationType::kTANH:
      return std::make_unique<VectorActivation>(&tanh_loop);
    case ActivationType::kGELU_ERF:
      return std::make_unique<VectorActivation>(&gelu_erf_loop);
    case ActivationType::kGELU_TANH:
      return std::make_unique<VectorActivation>(&gelu_tanh_loop);
    case ActivationType::kLEAKY_RELU:
    case ActivationType::kELU:
    case ActivationType::kSELU:
    case ActivationType::kSOFTSIGN:
    case ActivationType::kSOFTPLUS:
    case ActivationType::kCLIP:
    case ActivationType::kHARD_SIGMOID:
    case ActivationType::kSCALED_TANH:
    case ActivationType::kTHRESHOLDED_RELU:
      return nullptr;
  }
  return nullptr;
}

// ---- ElementWise --------------------------------------------------------------------------------

// The output viewed as [outer, mid, inner]: the full operand covers all of it, the broadcast one
// only `mid` (1 on every other axis). Equal shapes are mid = everything.
struct BroadcastView {
  int64_t outer = 1, mid = 1, inner = 1;
};

// The view when `b` equals `out` on one contiguous run of axes and is 1 elsewhere.
std::optional<BroadcastView> one_sided(const Dims& b, const Dims& out) {
  const int r = out.rank();
  if (b.rank() != r) return std::nullopt;
  int lo = 0, hi = r;
  while (lo < r && b[lo] == 1) ++lo;
  while (hi > lo && b[hi - 1] == 1) --hi;
  BroadcastView v;
  for (int d = 0; d < r; ++d) {
    if (d >= lo && d < hi && b[d] != out[d]) return std::nullopt;
    (d < lo ? v.outer : d < hi ? v.mid : v.inner) *= out[d];
  }
  return v;
}

class VectorElementWise final : public LayerImpl {
 public:
  // `full` is the input that covers the output; the other broadcasts per `view`.
  VectorElementWise(BinaryLoops loops, int full, BroadcastView view)
      : loops_(loops), full_(full), view_(view) {}
  void run(KernelCtx& ctx) override {
    const float* f = ctx.input(full_).as<float>();
    const float* s = ctx.input(1 - full_).as<float>();
    float* y = ctx.output(0).as<float>();
    const BroadcastView v = view_;
    if (v.outer == 1 && v.inner == 1) {  // equal shapes
      parallel_chunks(v.mid, ctx.num_threads(), kChunkElements, [&](int64_t b, int64_t e) {
        full_ == 0 ? loops_.vv(f + b, s + b, y + b, e - b) : loops_.vv(s + b, f + b, y + b, e - b);
      });
      return;
    }
    // One row per outer index: contiguous against the broadcast operand (inner == 1), else one
    // broadcast value per run of `inner` elements.
    const int64_t rows = v.outer * (v.inner == 1 ? 1 : v.mid);
    const int64_t len = v.inner == 1 ? v.mid : v.inner;
    auto row = [&](int64_t i) {
      const int64_t off = i * len;
      if (v.inner == 1) {
        full_ == 0 ? loops_.vv(f + off, s, y + off, len) : loops_.vv(s, f + off, y + off, len);
      } else {
        const float sv = s[i % v.mid];
        full_ == 0 ? loops_.vs(f + off, sv, y + off, len) : loops_.sv(sv, f + off, y + off, len);
      }
    };
    parallel_chunks(rows, ctx.num_threads(), std::max<int64_t>(1, kChunkElements / len),
                    [&](int64_t b, int64_t e) {
                      for (int64_t i = b; i < e; ++i) row(i);
                    });
  }

 private:
  BinaryLoops loops_;
  int full_;
  BroadcastView view_;
};

std::unique_ptr<LayerImpl> make_elementwise(const ImplProblem& p) {
  const HostTensor& a = p.input(0);
  const HostTensor& b = p.input(1);
  const HostTensor& y = p.output(0);
  if (a.type != DataType::kFLOAT || b.type != DataType::kFLOAT || y.type != DataType::kFLOAT ||
      y.numel() == 0)
    return nullptr;
  BinaryLoops loops{};
  switch (p.as<ElementWiseAttrs>().op) {
    case ElementWiseOperation::kSUM:
      loops = {&add_vv, &add_vs, &add_sv};
      break;
    case ElementWiseOperation::kSUB:
      loops = {&sub_vv, &sub_vs, &sub_sv};
      break;
    case ElementWiseOperation::kPROD:
      loops = {&mul_vv, &mul_vs, &mul_sv};
      break;
    case ElementWiseOperation::kDIV:
      loops = {&div_vv, &div_vs, &div_sv};
      break;
    case ElementWiseOperation::kMAX:  // NaN and signed-zero rules: the reference's
    case ElementWiseOperation::kMIN:
    case ElementWiseOperation::kPOW:
    case ElementWiseOperation::kFLOOR_DIV:
    case ElementWiseOperation::kAND:
    case ElementWiseOperation::kOR:
    case ElementWiseOperation::kXOR:
    case ElementWiseOperation::kEQUAL:
    case ElementWiseOperation::kGREATER:
    case ElementWiseOperation::kLESS:
    case ElementWiseOperation::kBITWISE_AND:
    case ElementWiseOperation::kBITWISE_OR:
    case ElementWiseOperation::kBITWISE_XOR:
      return nullptr;
  }
  const int full = a.dims == y.dims ? 0 : b.dims == y.dims ? 1 : -1;
  if (full < 0) return nullptr;  // both operands broadcast
  std::optional<BroadcastView> v = one_sided(full == 0 ? b.dims : a.dims, y.dims);
  if (!v) return nullptr;
  // One value for the whole output (a broadcast scalar): a single run of `inner` elements.
  if (v->mid == 1) v = BroadcastView{1, 1, y.numel()};
  return std::make_unique<VectorElementWise>(loops, full, *v);
}

// ---- SoftMax ------------------------------------------------------------------------------------

class VectorSoftMax final : public LayerImpl {
 public:
  explicit VectorSoftMax(int64_t len) : len_(len) {}
  void run(KernelCtx& ctx) override {
    const float* x = ctx.input(0).as<float>();
    float* y = ctx.output(0).as<float>();
    const int64_t rows = ctx.output(0).numel() / len_, len = len_;
    parallel_chunks(rows, ctx.num_threads(), std::max<int64_t>(1, kChunkElements / len),
                    [&](int64_t b, int64_t e) {
                      for (int64_t r = b; r < e; ++r) {
                        const float* xr = x + r * len;
                        float* yr = y + r * len;
                        // Subtracting the maximum keeps exp() from overflowing.
                        const float s = exp_sum_loop(xr, max_loop(xr, len), yr, len);
                        mul_vs(yr, 1.0f / s, yr, len);
                      }
                    });
  }

 private:
  int64_t len_;
};

std::unique_ptr<LayerImpl> make_softmax(const ImplProblem& p) {
  const HostTensor& x = p.input(0);
  if (x.type != DataType::kFLOAT || p.output(0).type != DataType::kFLOAT || x.numel() == 0)
    return nullptr;
  const int rank = x.dims.rank();
  // No axis bit means the last axis, as in the reference.
  const AxesMask axes = p.as<SoftMaxAttrs>().axes;
  if (rank == 0 || (axes != 0 && axes != (AxesMask{1} << (rank - 1)))) return nullptr;
  return std::make_unique<VectorSoftMax>(x.dims[rank - 1]);
}

}  // namespace

// Most kinds have no vectorized entry, so this is a lookup rather than a switch over every kind.
std::vector<ImplEntry> vector_implementations(LayerKind kind) {
  if (kind == LayerKind::kACTIVATION) return {{"vectorized", &make_activation}};
  if (kind == LayerKind::kELEMENTWISE) return {{"vectorized", &make_elementwise}};
  if (kind == LayerKind::kSOFTMAX) return {{"vectorized", &make_softmax}};
  return {};
}

}  // namespace layerkit::cpu
