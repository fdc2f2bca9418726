// Vectorized fp32 fast paths (AVX-512 / AVX2 chosen at run time) for common pointwise layers:
// Activation (relu, sigmoid, tanh, gelu), ElementWise sum/sub/prod/div over equal or
// one-sided broadcast shapes, and SoftMax over the last axis.
#include <omp.h>

#include <immintrin.h>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "network/layers/conv_geometry.h"
#include "network/layers/matmul_shape.h"
#include "runtime/cpu/fusion.h"
#include "runtime/cpu/kernel_list.h"

// Each loop is compiled for AVX-512, AVX2 and the baseline; the loader picks the best the CPU
// has (GCC function multiversioning), so shipped builds need no -march flag.
// Under ThreadSanitizer the baseline alone: the clones' resolvers run while the loader relocates
// the program, before the TSan runtime is set up, and their instrumented entry crashes there.
#if defined(__SANITIZE_THREAD__)
#define LK_CLONES
#else
#define LK_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
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

// The loops of an arithmetic operation; none for the others (kMAX/kMIN keep the reference's NaN
// and signed-zero rules).
std::optional<BinaryLoops> binary_loops(ElementWiseOperation op) {
  switch (op) {
    case ElementWiseOperation::kSUM:
      return BinaryLoops{&add_vv, &add_vs, &add_sv};
    case ElementWiseOperation::kSUB:
      return BinaryLoops{&sub_vv, &sub_vs, &sub_sv};
    case ElementWiseOperation::kPROD:
      return BinaryLoops{&mul_vv, &mul_vs, &mul_sv};
    case ElementWiseOperation::kDIV:
      return BinaryLoops{&div_vv, &div_vs, &div_sv};
    default:
      return std::nullopt;
  }
}

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

class VectorActivation final : public Kernel {
 public:
  explicit VectorActivation(void (*loop)(const float*, float*, int64_t)) : loop_(loop) {}
  void run(KernelCtx& ctx) const override {
    const float* x = ctx.input(0).as<float>();
    float* y = ctx.output(0).as<float>();
    parallel_chunks(ctx.output(0).numel(), ctx.num_threads(), kChunkElements,
                    [&](int64_t b, int64_t e) { loop_(x + b, y + b, e - b); });
  }

 private:
  void (*loop_)(const float*, float*, int64_t);
};

using ActivationLoop = void (*)(const float*, float*, int64_t);

// The vectorized loop of an activation; null for those the reference computes.
ActivationLoop activation_loop(ActivationType type) {
  switch (type) {
    case ActivationType::kRELU:
      return &relu_loop;
    case ActivationType::kSIGMOID:
      return &sigmoid_loop;
    case ActivationType::kTANH:
      return &tanh_loop;
    case ActivationType::kGELU_ERF:
      return &gelu_erf_loop;
    case ActivationType::kGELU_TANH:
      return &gelu_tanh_loop;
    default:
      return nullptr;
  }
}

std::unique_ptr<Kernel> make_activation(const KernelProblem& p) {
  if (p.input(0).type != DataType::kFLOAT || p.output(0).type != DataType::kFLOAT) return nullptr;
  const ActivationLoop loop = activation_loop(p.as<ActivationAttrs>().type);
  return loop ? std::make_unique<VectorActivation>(loop) : nullptr;
}

// ---- ElementWise --------------------------------------------------------------------------------

class VectorElementWise final : public Kernel {
 public:
  // `full` is the input that covers the output; the other broadcasts per `view`.
  VectorElementWise(BinaryLoops loops, int full, BroadcastView view)
      : loops_(loops), full_(full), view_(view) {}
  void run(KernelCtx& ctx) const override {
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

std::unique_ptr<Kernel> make_elementwise(const KernelProblem& p) {
  const KernelTensor& a = p.input(0);
  const KernelTensor& b = p.input(1);
  const KernelTensor& y = p.output(0);
  if (a.type != DataType::kFLOAT || b.type != DataType::kFLOAT || y.type != DataType::kFLOAT ||
      y.numel() == 0)
    return nullptr;
  const std::optional<BinaryLoops> loops = binary_loops(p.as<ElementWiseAttrs>().op);
  if (!loops) return nullptr;
  const int full = a.dims == y.dims ? 0 : b.dims == y.dims ? 1 : -1;
  if (full < 0) return nullptr;  // both operands broadcast
  std::optional<BroadcastView> v = one_sided(full == 0 ? b.dims : a.dims, y.dims);
  if (!v) return nullptr;
  // One value for the whole output (a broadcast scalar): a single run of `inner` elements.
  if (v->mid == 1) v = BroadcastView{1, 1, y.numel()};
  return std::make_unique<VectorElementWise>(*loops, full, *v);
}

// ---- SoftMax ------------------------------------------------------------------------------------

class VectorSoftMax final : public Kernel {
 public:
  explicit VectorSoftMax(int64_t len) : len_(len) {}
  void run(KernelCtx& ctx) const override {
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

std::unique_ptr<Kernel> make_softmax(const KernelProblem& p) {
  const KernelTensor& x = p.input(0);
  if (x.type != DataType::kFLOAT || p.output(0).type != DataType::kFLOAT || x.numel() == 0)
    return nullptr;
  const int rank = x.dims.rank();
  // No axis bit means the last axis, as in the reference.
  const AxesMask axes = p.as<SoftMaxAttrs>().axes;
  if (rank == 0 || (axes != 0 && axes != (AxesMask{1} << (rank - 1)))) return nullptr;
  return std::make_unique<VectorSoftMax>(x.dims[rank - 1]);
}

// ---- Normalization ------------------------------------------------------------------------------

// Row statistics accumulate in double (8 lanes) in two passes, as the reference does.
constexpr int64_t kDoubleLanes = 8;

LK_CLONES double sum_loop(const float* x, int64_t n) {
  double s[kDoubleLanes] = {};
  int64_t i = 0;
  for (; i + kDoubleLanes <= n; i += kDoubleLanes)
    for (int64_t j = 0; j < kDoubleLanes; ++j) s[j] += static_cast<double>(x[i + j]);
  for (; i < n; ++i) s[0] += static_cast<double>(x[i]);
  double r = 0.0;
  for (double v : s) r += v;
  return r;
}
LK_CLONES double squared_deviation_loop(const float* x, double mean, int64_t n) {
  double s[kDoubleLanes] = {};
  int64_t i = 0;
  for (; i + kDoubleLanes <= n; i += kDoubleLanes)
    for (int64_t j = 0; j < kDoubleLanes; ++j) {
      const double d = static_cast<double>(x[i + j]) - mean;
      s[j] += d * d;
    }
  for (; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - mean;
    s[0] += d * d;
  }
  double r = 0.0;
  for (double v : s) r += v;
  return r;
}
// y = (x - mean) * rstd * g + b, g and b per element (vv) or one value each (ss).
LK_CLONES void normalize_vv(const float* x, float mean, float rstd, const float* g, const float* b,
                            float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * rstd * g[i] + b[i];
}
LK_CLONES void normalize_ss(const float* x, float mean, float rstd, float g, float b, float* y,
                            int64_t n) {
  const float s = rstd * g;
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * s + b;
}

// How scale or bias meets a row of `len` normalized values: the same `len` values for every row
// (per_element), or one value per row, (row * len / inner) % mid.
struct AffineOperand {
  bool per_element = false;
  int64_t inner = 1, mid = 1;
};

std::optional<AffineOperand> affine_operand(const Dims& p, const Dims& x, int64_t len) {
  std::optional<BroadcastView> v = one_sided(p, x);
  if (!v) return std::nullopt;
  if (v->mid == 1) return AffineOperand{false, 1, 1};
  if (v->inner == 1 && v->mid == len) return AffineOperand{true, 1, len};
  if (v->inner % len == 0) return AffineOperand{false, v->inner, v->mid};
  return std::nullopt;
}

class VectorNormalization final : public Kernel {
 public:
  VectorNormalization(int64_t len, float epsilon, AffineOperand g, AffineOperand b)
      : len_(len), epsilon_(epsilon), g_(g), b_(b) {}
  void run(KernelCtx& ctx) const override {
    const float* x = ctx.input(0).as<float>();
    const float* g = ctx.input(1).as<float>();
    const float* b = ctx.input(2).as<float>();
    float* y = ctx.output(0).as<float>();
    const int64_t len = len_, rows = ctx.output(0).numel() / len;
    parallel_chunks(
        rows, ctx.num_threads(), std::max<int64_t>(1, kChunkElements / len),
        [&](int64_t lo, int64_t hi) {
          for (int64_t r = lo; r < hi; ++r) {
            const float* xr = x + r * len;
            const double n = static_cast<double>(len);
            const double mean = sum_loop(xr, len) / n;
            const double var = squared_deviation_loop(xr, mean, len) / n;
            const auto rstd =
                static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(epsilon_)));
            const auto m = static_cast<float>(mean);
            if (g_.per_element && b_.per_element) {
              normalize_vv(xr, m, rstd, g, b, y + r * len, len);
            } else if (!g_.per_element && !b_.per_element) {
              normalize_ss(xr, m, rstd, g[(r * len / g_.inner) % g_.mid],
                           b[(r * len / b_.inner) % b_.mid], y + r * len, len);
            } else {
              for (int64_t k = 0; k < len; ++k) {
                const float gv = g_.per_element ? g[k] : g[(r * len / g_.inner) % g_.mid];
                const float bv = b_.per_element ? b[k] : b[(r * len / b_.inner) % b_.mid];
                y[r * len + k] = (xr[k] - m) * rstd * gv + bv;
              }
            }
          }
        });
  }

 private:
  int64_t len_;
  float epsilon_;
  AffineOperand g_, b_;
};

// Normalization over trailing axes with one group (layer norm, instance norm over the spatial
// axes); group norm and other axis sets run the reference.
std::unique_ptr<Kernel> make_normalization(const KernelProblem& p) {
  const auto& a = p.as<NormalizationAttrs>();
  const KernelTensor& x = p.input(0);
  const KernelTensor& y = p.output(0);
  if (a.num_groups != 1 || !p.has_input(1) || !p.has_input(2) || x.numel() == 0) return nullptr;
  for (const KernelTensor* t : {&x, &p.input(1), &p.input(2), &y})
    if (t->type != DataType::kFLOAT || t->dims.rank() != x.dims.rank()) return nullptr;
  const int rank = x.dims.rank();
  int first = rank;
  while (first > 0 && (a.axes & (AxesMask{1} << (first - 1)))) --first;
  if (first == rank || (a.axes >> first) != (AxesMask{1} << (rank - first)) - 1 ||
      (a.axes & ((AxesMask{1} << first) - 1)) != 0)
    return nullptr;
  int64_t len = 1;
  for (int d = first; d < rank; ++d) len *= x.dims[d];
  std::optional<AffineOperand> g = affine_operand(p.input(1).dims, x.dims, len);
  std::optional<AffineOperand> b = affine_operand(p.input(2).dims, x.dims, len);
  if (!g || !b || len == 0) return nullptr;
  return std::make_unique<VectorNormalization>(len, a.epsilon, *g, *b);
}

// ---- Reduce -------------------------------------------------------------------------------------

// max/min with NaN sticking, as the reference (and at::amax/amin).
LK_INLINE float max_nan(float m, float v) {
  return v > m || v != v ? v : m;
}
LK_INLINE float min_nan(float m, float v) {
  return v < m || v != v ? v : m;
}

LK_CLONES float extremum_loop(const float* x, int64_t n, bool is_max) {
  float m[kLanes];
  for (float& v : m)
    v = is_max ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  int64_t i = 0;
  if (is_max) {
    for (; i + kLanes <= n; i += kLanes)
      for (int64_t j = 0; j < kLanes; ++j) m[j] = max_nan(m[j], x[i + j]);
  } else {
    for (; i + kLanes <= n; i += kLanes)
      for (int64_t j = 0; j < kLanes; ++j) m[j] = min_nan(m[j], x[i + j]);
  }
  for (; i < n; ++i) m[0] = is_max ? max_nan(m[0], x[i]) : min_nan(m[0], x[i]);
  float r = m[0];
  for (int64_t j = 1; j < kLanes; ++j) r = is_max ? max_nan(r, m[j]) : min_nan(r, m[j]);
  return r;
}

// acc[j] (+)= x[j] over one slice of the reduced block (when the reduced axes are not innermost).
LK_CLONES void accumulate_sum(double* acc, const float* x, int64_t n) {
  for (int64_t j = 0; j < n; ++j) acc[j] += static_cast<double>(x[j]);
}
LK_CLONES void accumulate_extremum(float* acc, const float* x, int64_t n, bool is_max) {
  if (is_max) {
    for (int64_t j = 0; j < n; ++j) acc[j] = max_nan(acc[j], x[j]);
  } else {
    for (int64_t j = 0; j < n; ++j) acc[j] = min_nan(acc[j], x[j]);
  }
}

// Sum, average, max and min (fp32) over one contiguous run of axes, the input viewed as
// [outer, len, inner]; sums accumulate in double as in the reference. Products stay there.
class VectorReduce final : public Kernel {
 public:
  VectorReduce(ReduceOperation op, int64_t outer, int64_t len, int64_t inner)
      : op_(op), outer_(outer), len_(len), inner_(inner) {}
  void run(KernelCtx& ctx) const override {
    const float* x = ctx.input(0).as<float>();
    float* y = ctx.output(0).as<float>();
    const bool sum = op_ == ReduceOperation::kSUM || op_ == ReduceOperation::kAVG;
    const bool is_max = op_ == ReduceOperation::kMAX;
    const double scale = op_ == ReduceOperation::kAVG ? 1.0 / static_cast<double>(len_) : 1.0;
    const int64_t len = len_, inner = inner_;
    parallel_chunks(outer_, ctx.num_threads(), std::max<int64_t>(1, kChunkElements / (len * inner)),
                    [&](int64_t lo, int64_t hi) {
                      std::vector<double> acc(sum && inner > 1 ? static_cast<size_t>(inner) : 0);
                      for (int64_t o = lo; o < hi; ++o) {
                        const float* xo = x + o * len * inner;
                        float* yo = y + o * inner;
                        if (inner == 1) {
                          yo[0] = sum ? static_cast<float>(sum_loop(xo, len) * scale)
                                      : extremum_loop(xo, len, is_max);
                        } else if (sum) {
                          std::fill(acc.begin(), acc.end(), 0.0);
                          for (int64_t l = 0; l < len; ++l)
                            accumulate_sum(acc.data(), xo + l * inner, inner);
                          for (int64_t j = 0; j < inner; ++j)
                            yo[j] = static_cast<float>(acc[static_cast<size_t>(j)] * scale);
                        } else {
                          std::copy(xo, xo + inner, yo);
                          for (int64_t l = 1; l < len; ++l)
                            accumulate_extremum(yo, xo + l * inner, inner, is_max);
                        }
                      }
                    });
  }

 private:
  ReduceOperation op_;
  int64_t outer_, len_, inner_;
};

std::unique_ptr<Kernel> make_reduce(const KernelProblem& p) {
  const auto& a = p.as<ReduceAttrs>();
  const KernelTensor& x = p.input(0);
  if (x.type != DataType::kFLOAT || p.output(0).type != DataType::kFLOAT ||
      a.op == ReduceOperation::kPROD)
    return nullptr;
  const int rank = x.dims.rank();
  int lo = 0;
  while (lo < rank && !(a.axes & (AxesMask{1} << lo))) ++lo;
  int hi = lo;
  while (hi < rank && (a.axes & (AxesMask{1} << hi))) ++hi;
  if (lo == rank || (a.axes >> hi) != 0) return nullptr;  // no axis, or not one contiguous run
  int64_t outer = 1, len = 1, inner = 1;
  for (int d = 0; d < rank; ++d) (d < lo ? outer : d < hi ? len : inner) *= x.dims[d];
  if (len == 0 || outer * inner == 0) return nullptr;  // the reference's empty-reduction rules
  return std::make_unique<VectorReduce>(a.op, outer, len, inner);
}

// ---- MatrixMultiply with few rows
// -----------------------------------------------------------------

// A few rows of A against a constant B (fully connected layers at small batch): B is packed once
// into panels of kPanel columns, [panel][k][kPanel], and streamed once per block of up to kRows
// rows, each row's kPanel results held in one vector register. oneDNN's gemm repacks B on every
// call, which at these sizes costs more than the arithmetic.
constexpr int64_t kPanel = 8;
constexpr int64_t kRows = 8;
constexpr int64_t kMaxSkinnyRows = 16;

// Portable form (CPUs without AVX2 and FMA).
void skinny_panel(const float* const* a, const float* bp, int64_t k, float* const* y, int64_t rows,
                  int64_t cols) {
  float acc[kRows][kPanel] = {};
  for (int64_t kk = 0; kk < k; ++kk) {
    const float* b = bp + kk * kPanel;
    for (int64_t r = 0; r < kRows; ++r) {
      const float av = a[r][kk];
      for (int64_t j = 0; j < kPanel; ++j) acc[r][j] += av * b[j];
    }
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) y[r][j] = acc[r][j];
}

// AVX2 + FMA: the kRows x kPanel accumulators are eight ymm registers; written with intrinsics
// because the compiler spills a 2-D accumulator array and target_clones' "avx2" lacks FMA.
__attribute__((target("avx2,fma"))) void skinny_panel_fma(const float* const* a, const float* bp,
                                                          int64_t k, float* const* y, int64_t rows,
                                                          int64_t cols) {
  static_assert(kRows == 8 && kPanel == 8);
  __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5], *a6 = a[6],
              *a7 = a[7];
  for (int64_t kk = 0; kk < k; ++kk) {
    const __m256 b = _mm256_loadu_ps(bp + kk * kPanel);
    c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + kk), b, c0);
    c1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a1 + kk), b, c1);
    c2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + kk), b, c2);
    c3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a3 + kk), b, c3);
    c4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a4 + kk), b, c4);
    c5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a5 + kk), b, c5);
    c6 = _mm256_fmadd_ps(_mm256_broadcast_ss(a6 + kk), b, c6);
    c7 = _mm256_fmadd_ps(_mm256_broadcast_ss(a7 + kk), b, c7);
  }
  alignas(32) float acc[kRows][kPanel];
  _mm256_store_ps(acc[0], c0), _mm256_store_ps(acc[1], c1), _mm256_store_ps(acc[2], c2);
  _mm256_store_ps(acc[3], c3), _mm256_store_ps(acc[4], c4), _mm256_store_ps(acc[5], c5);
  _mm256_store_ps(acc[6], c6), _mm256_store_ps(acc[7], c7);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) y[r][j] = acc[r][j];
}

class SkinnyMatmul final : public Kernel {
 public:
  // B(kk, j) = b[kk * stride_k + j * stride_n].
  SkinnyMatmul(int64_t k, int64_t n, const float* b, int64_t stride_k, int64_t stride_n)
      : k_(k), n_(n), panels_((n + kPanel - 1) / kPanel) {
    packed_.assign(static_cast<size_t>(panels_ * k * kPanel), 0.0f);
    for (int64_t p = 0; p < panels_; ++p)
      for (int64_t kk = 0; kk < k; ++kk)
        for (int64_t j = 0; j < kPanel && p * kPanel + j < n; ++j)
          packed_[static_cast<size_t>((p * k + kk) * kPanel + j)] =
              b[kk * stride_k + (p * kPanel + j) * stride_n];
  }
  void run(KernelCtx& ctx) const override {
    const float* a = ctx.input(0).as<float>();
    float* y = ctx.output(0).as<float>();
    const int64_t rows = ctx.output(0).numel() / n_;
    parallel_chunks(
        panels_, ctx.num_threads(), std::max<int64_t>(1, 4096 / k_), [&](int64_t lo, int64_t hi) {
          for (int64_t r0 = 0; r0 < rows; r0 += kRows) {
            const int64_t rr = std::min(kRows, rows - r0);
            // Rows past the end repeat the last one; their results are dropped.
            const float* arow[kRows];
            for (int64_t r = 0; r < kRows; ++r) arow[r] = a + (r0 + std::min(r, rr - 1)) * k_;
            for (int64_t p = lo; p < hi; ++p) {
              float* yrow[kRows];
              for (int64_t r = 0; r < rr; ++r) yrow[r] = y + (r0 + r) * n_ + p * kPanel;
              (fma_ ? skinny_panel_fma : skinny_panel)(arow, packed_.data() + p * k_ * kPanel, k_,
                                                       yrow, rr, std::min(kPanel, n_ - p * kPanel));
            }
          }
        });
  }
  uint64_t prepared_bytes() const override { return packed_.size() * sizeof(float); }

 private:
  int64_t k_, n_, panels_;
  std::vector<float> packed_;
  bool fma_ = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
};

std::unique_ptr<Kernel> make_skinny_matmul(const KernelProblem& p) {
  const auto& a = p.as<MatrixMultiplyAttrs>();
  const KernelTensor& x0 = p.input(0);
  const KernelTensor& x1 = p.input(1);
  const KernelTensor& y = p.output(0);
  if (!p.is_constant(1) || x0.type != DataType::kFLOAT || x1.type != DataType::kFLOAT ||
      y.type != DataType::kFLOAT || y.numel() == 0)
    return nullptr;
  const detail::MatmulOperand m0 = detail::split_operand(x0.dims, a.op0);
  const detail::MatmulOperand m1 = detail::split_operand(x1.dims, a.op1);
  if (m0.vector || m0.transposed || m1.vector || m0.cols == 0) return nullptr;
  for (int64_t d : m1.batch)
    if (d != 1) return nullptr;
  // One row is a matrix-vector product, where oneDNN measured faster (MLP 4096x4096 at batch 1:
  // 4.7 ms a layer against 10 ms here); from 2 rows its repacking of B loses.
  const int64_t rows = m0.batch.volume() * m0.rows;
  if (rows < 2 || rows > kMaxSkinnyRows) return nullptr;
  // Stored B: [K, N], or [N, K] when transposed.
  const int64_t k = m1.rows, n = m1.cols;
  return std::make_unique<SkinnyMatmul>(k, n, x1.as<float>(), m1.transposed ? 1 : n,
                                        m1.transposed ? k : 1);
}

// ---- Pooling ------------------------------------------------------------------------------------

// 2-D max pooling over NCHW planes, directly: oneDNN 2.6's plain-layout pooling ("simple_nchw")
// is several times slower. Windows inside the input skip the bounds tests. NaN propagates and a
// window over padding only gives -inf, as in the reference.
struct PoolGeometry {
  int64_t kh, kw, sh, sw, dh, dw, ph, pw;
};

LK_CLONES void max_pool_plane(const float* x, float* y, int64_t h, int64_t w, int64_t oh,
                              int64_t ow, PoolGeometry g) {
  // Output columns whose whole window lies inside the row: [ox_lo, ox_hi).
  int64_t ox_lo = 0, ox_hi = ow;
  while (ox_lo < ow && ox_lo * g.sw - g.pw < 0) ++ox_lo;
  while (ox_hi > ox_lo && (ox_hi - 1) * g.sw - g.pw + (g.kw - 1) * g.dw >= w) --ox_hi;
  for (int64_t oy = 0; oy < oh; ++oy) {
    float* yr = y + oy * ow;
    for (int64_t ox = 0; ox < ow; ++ox) yr[ox] = -std::numeric_limits<float>::infinity();
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = oy * g.sh - g.ph + ky * g.dh;
      if (iy < 0 || iy >= h) continue;
      const float* xr = x + iy * w;
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const int64_t off = kx * g.dw - g.pw;
        for (int64_t ox = ox_lo; ox < ox_hi; ++ox) yr[ox] = max_nan(yr[ox], xr[ox * g.sw + off]);
        for (int64_t ox = 0; ox < ow; ++ox) {
          if (ox == ox_lo) ox = ox_hi;
          if (ox >= ow) break;
          const int64_t ix = ox * g.sw + off;
          if (ix >= 0 && ix < w) yr[ox] = max_nan(yr[ox], xr[ix]);
        }
      }
    }
  }
}

class DirectMaxPool final : public Kernel {
 public:
  explicit DirectMaxPool(PoolGeometry g) : g_(g) {}
  void run(KernelCtx& ctx) const override {
    const KernelTensor& x = ctx.input(0);
    const KernelTensor& y = ctx.output(0);
    const int64_t planes = x.dims[0] * x.dims[1], h = x.dims[2], w = x.dims[3];
    const int64_t oh = y.dims[2], ow = y.dims[3];
    const float* xp = x.as<float>();
    float* yp = y.as<float>();
    parallel_chunks(planes, ctx.num_threads(), std::max<int64_t>(1, kChunkElements / (h * w)),
                    [&](int64_t b, int64_t e) {
                      for (int64_t p = b; p < e; ++p)
                        max_pool_plane(xp + p * h * w, yp + p * oh * ow, h, w, oh, ow, g_);
                    });
  }

 private:
  PoolGeometry g_;
};

std::unique_ptr<Kernel> make_pooling(const KernelProblem& p) {
  const auto& a = p.as<PoolingAttrs>();
  const KernelTensor& x = p.input(0);
  const KernelTensor& y = p.output(0);
  if (a.type != PoolingType::kMAX || a.window.rank() != 2 || x.dims.rank() != 4 ||
      x.type != DataType::kFLOAT || y.type != DataType::kFLOAT || y.numel() == 0)
    return nullptr;
  const std::vector<int64_t> stride =
      a.stride.rank() == 0 ? a.window.to_vector() : a.stride.to_vector();
  const std::vector<int64_t> dil = detail::per_axis(a.dilation, 2, 1);
  const std::vector<int64_t> pre = detail::per_axis(a.pre_padding, 2, 0);
  const std::vector<int64_t> post = detail::per_axis(a.post_padding, 2, 0);
  int64_t pad[2];
  for (int i = 0; i < 2; ++i) {
    const auto u = static_cast<size_t>(i);
    pad[i] = detail::forward_axis(x.dims[i + 2], detail::dilated_extent(a.window[i], dil[u]),
                                  stride[u], pre[u], post[u], a.padding_mode)
                 .pre;
  }
  return std::make_unique<DirectMaxPool>(
      PoolGeometry{a.window[0], a.window[1], stride[0], stride[1], dil[0], dil[1], pad[0], pad[1]});
}

// One post-op over output elements [b, e).
void apply_post_op(const PostOp& op, float* y, int64_t b, int64_t e) {
  if (op.kind == PostOp::Kind::kACTIVATION) {
    if (const ActivationLoop loop = activation_loop(op.activation.type)) {
      loop(y + b, y + b, e - b);
    } else {
      for (int64_t i = b; i < e; ++i) y[i] = activate(op.activation, y[i]);
    }
    return;
  }
  const BinaryLoops loops = *binary_loops(op.op);
  const float* s = op.side->as<float>();
  const BroadcastView& v = op.view;
  // Runs of the output over which the side operand is contiguous (inner == 1) or one value.
  for (int64_t i = b; i < e;) {
    if (v.inner == 1) {
      const int64_t at = i % v.mid, len = std::min(e - i, v.mid - at);
      op.chain_is_lhs ? loops.vv(y + i, s + at, y + i, len) : loops.vv(s + at, y + i, y + i, len);
      i += len;
    } else {
      const float sv = s[(i / v.inner) % v.mid];
      const int64_t len = std::min(e - i, v.inner - i % v.inner);
      op.chain_is_lhs ? loops.vs(y + i, sv, y + i, len) : loops.sv(sv, y + i, y + i, len);
      i += len;
    }
  }
}

}  // namespace

void apply_post_ops(const float* src, float* y, int64_t n, std::span<const PostOp> ops,
                    int num_threads) {
  // 2048 floats (8 KiB) per block: the block stays in L1 through the whole chain.
  constexpr int64_t kBlock = 2048;
  parallel_chunks(n, num_threads, kChunkElements, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i += kBlock) {
      const int64_t end = std::min(e, i + kBlock);
      if (src != y) std::copy(src + i, src + end, y + i);
      for (const PostOp& op : ops) apply_post_op(op, y, i, end);
    }
  });
}

// Most kinds have no vectorized entry, so this is a lookup rather than a switch over every kind.
std::vector<KernelEntry> vectorized_kernels(LayerKind kind) {
  if (kind == LayerKind::kACTIVATION) return {{"vectorized", &make_activation}};
  if (kind == LayerKind::kELEMENTWISE) return {{"vectorized", &make_elementwise}};
  if (kind == LayerKind::kSOFTMAX) return {{"vectorized", &make_softmax}};
  if (kind == LayerKind::kNORMALIZATION) return {{"vectorized", &make_normalization}};
  if (kind == LayerKind::kPOOLING) return {{"direct", &make_pooling}};
  if (kind == LayerKind::kREDUCE) return {{"vectorized", &make_reduce}};
  if (kind == LayerKind::kMATRIX_MULTIPLY) return {{"skinny", &make_skinny_matmul}};
  return {};
}

}  // namespace layerkit::cpu
