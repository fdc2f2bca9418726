// CUDA kernels for the pointwise kinds: Identity, Cast, ElementWise, Unary, Activation, Select,
// ParametricReLU and Scale, each with the CPU reference's scalar semantics in every dtype.
#include <algorithm>

#include "core/element.h"
#include "runtime/cuda/device.cuh"

namespace layerkit::cuda {

void broadcast_strides(const Dims& in, const Dims& out, int64_t* strides) {
  int64_t s = 1;
  for (int d = out.rank() - 1; d >= 0; --d) {
    const int64_t n = d < in.rank() ? in[d] : 1;
    strides[d] = n == 1 ? 0 : s;
    s *= n;
  }
}

namespace {

bool int_like(DataType t) {
  return is_integer(t) || t == DataType::kBOOL;
}

// ---- scalar semantics (ports of network/layers/elementwise_ops.h and cpu/activation.cpp) ----

__device__ inline float elementwise_float(ElementWiseOperation op, float a, float b) {
  using E = ElementWiseOperation;
  switch (op) {
    case E::kSUM:
      return a + b;
    case E::kPROD:
      return a * b;
    case E::kSUB:
      return a - b;
    case E::kMAX:
      return (isnan(a) || isnan(b)) ? __int_as_float(0x7fc00000) : (a > b ? a : b);
    case E::kMIN:
      return (isnan(a) || isnan(b)) ? __int_as_float(0x7fc00000) : (a < b ? a : b);
    case E::kDIV:
      return a / b;
    case E::kPOW:
      return powf(a, b);
    case E::kFLOOR_DIV: {
      if (b == 0.0f) return floorf(a / b);
      float mod = fmodf(a, b);
      float div = (a - mod) / b;
      if (mod != 0.0f && ((b < 0.0f) != (mod < 0.0f))) div -= 1.0f;
      if (div == 0.0f) return copysignf(0.0f, a / b);
      float fl = floorf(div);
      if (div - fl > 0.5f) fl += 1.0f;
      return fl;
    }
    case E::kEQUAL:
      return a == b ? 1.0f : 0.0f;
    case E::kGREATER:
      return a > b ? 1.0f : 0.0f;
    case E::kLESS:
      return a < b ? 1.0f : 0.0f;
    case E::kAND:
    case E::kOR:
    case E::kXOR:
    case E::kBITWISE_AND:
    case E::kBITWISE_OR:
    case E::kBITWISE_XOR:
      break;
  }
  return 0.0f;
}

// false: integer division by zero.
__device__ inline bool elementwise_int(ElementWiseOperation op, int64_t a, int64_t b, int64_t& r) {
  using E = ElementWiseOperation;
  auto ua = static_cast<uint64_t>(a), ub = static_cast<uint64_t>(b);
  switch (op) {
    case E::kSUM:
      r = static_cast<int64_t>(ua + ub);
      return true;
    case E::kPROD:
      r = static_cast<int64_t>(ua * ub);
      return true;
    case E::kSUB:
      r = static_cast<int64_t>(ua - ub);
      return true;
    case E::kMAX:
      r = a > b ? a : b;
      return true;
    case E::kMIN:
      r = a < b ? a : b;
      return true;
    case E::kDIV:
      if (b == 0) return false;
      r = (a == INT64_MIN && b == -1) ? INT64_MIN : a / b;
      return true;
    case E::kFLOOR_DIV: {
      if (b == 0) return false;
      if (a == INT64_MIN && b == -1) {
        r = INT64_MIN;
        return true;
      }
      int64_t q = a / b;
      if (a % b != 0 && ((a < 0) != (b < 0))) --q;
      r = q;
      return true;
    }
    case E::kPOW: {
      if (b < 0) {
        if (a == 0) return false;
        r = a == 1 ? 1 : a == -1 ? ((b % 2 == 0) ? 1 : -1) : 0;
        return true;
      }
      uint64_t p = 1, base = ua;
      for (uint64_t e = ub; e; e >>= 1) {
        if (e & 1) p *= base;
        base *= base;
      }
      r = static_cast<int64_t>(p);
      return true;
    }
    case E::kAND:
      r = (a != 0 && b != 0) ? 1 : 0;
      return true;
    case E::kOR:
      r = (a != 0 || b != 0) ? 1 : 0;
      return true;
    case E::kXOR:
      r = ((a != 0) != (b != 0)) ? 1 : 0;
      return true;
    case E::kEQUAL:
      r = a == b ? 1 : 0;
      return true;
    case E::kGREATER:
      r = a > b ? 1 : 0;
      return true;
    case E::kLESS:
      r = a < b ? 1 : 0;
      return true;
    case E::kBITWISE_AND:
      r = a & b;
      return true;
    case E::kBITWISE_OR:
      r = a | b;
      return true;
    case E::kBITWISE_XOR:
      r = a ^ b;
      return true;
  }
  r = 0;
  return true;
}

__device__ inline float unary_float(UnaryOperation op, float v) {
  using U = UnaryOperation;
  switch (op) {
    case U::kEXP:
      return expf(v);
    case U::kLOG:
      return logf(v);
    case U::kSQRT:
      return sqrtf(v);
    case U::kRECIP:
      return 1.0f / v;
    case U::kABS:
      return fabsf(v);
    case U::kNEG:
      return -v;
    case U::kSIN:
      return sinf(v);
    case U::kCOS:
      return cosf(v);
    case U::kTAN:
      return tanf(v);
    case U::kSINH:
      return sinhf(v);
    case U::kCOSH:
      return coshf(v);
    case U::kASIN:
      return asinf(v);
    case U::kACOS:
      return acosf(v);
    case U::kATAN:
      return atanf(v);
    case U::kASINH:
      return asinhf(v);
    case U::kACOSH:
      return acoshf(v);
    case U::kATANH:
      return atanhf(v);
    case U::kCEIL:
      return ceilf(v);
    case U::kFLOOR:
      return floorf(v);
    case U::kERF:
      return erff(v);
    case U::kSIGN:
      return isnan(v) ? v : static_cast<float>((v > 0.0f) - (v < 0.0f));
    case U::kROUND:
      return rintf(v);
    case U::kISINF:
      return isinf(v) ? 1.0f : 0.0f;
    case U::kISNAN:
      return isnan(v) ? 1.0f : 0.0f;
    case U::kNOT:
      return v == 0.0f ? 1.0f : 0.0f;
  }
  return v;
}

__device__ inline int64_t unary_int(UnaryOperation op, int64_t x) {
  switch (op) {
    case UnaryOperation::kABS:
      return x < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(x)) : x;
    case UnaryOperation::kNEG:
      return static_cast<int64_t>(0 - static_cast<uint64_t>(x));
    case UnaryOperation::kSIGN:
      return (x > 0) - (x < 0);
    case UnaryOperation::kNOT:
      return x == 0 ? 1 : 0;
    default:
      return 0;
  }
}

__device__ inline float softplus(float z) {
  return z > 0.0f ? z + log1pf(expf(-z)) : log1pf(expf(z));
}

__device__ inline float activate(ActivationType t, float alpha, float beta, float x) {
  switch (t) {
    case ActivationType::kRELU:
      return x < 0.0f ? 0.0f : x;
    case ActivationType::kSIGMOID:
      return 1.0f / (1.0f + expf(-x));
    case ActivationType::kTANH:
      return tanhf(x);
    case ActivationType::kLEAKY_RELU:
      return x >= 0.0f ? x : alpha * x;
    case ActivationType::kELU:
      return x >= 0.0f ? x : alpha * expm1f(x);
    case ActivationType::kSELU:
      return beta * (x > 0.0f ? x : alpha * expm1f(x));
    case ActivationType::kSOFTSIGN:
      return x / (1.0f + fabsf(x));
    case ActivationType::kSOFTPLUS:
      return alpha * softplus(beta * x);
    case ActivationType::kCLIP:
      return isnan(x) ? x : fminf(fmaxf(x, alpha), beta);
    case ActivationType::kHARD_SIGMOID:
      return fmaxf(0.0f, fminf(1.0f, alpha * x + beta));
    case ActivationType::kSCALED_TANH:
      return alpha * tanhf(beta * x);
    case ActivationType::kTHRESHOLDED_RELU:
      return x > alpha ? x : 0.0f;
    case ActivationType::kGELU_ERF:
      return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case ActivationType::kGELU_TANH: {
      constexpr float kSqrt2OverPi = 0.79788456080286536f;
      return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
    }
  }
  return x;
}

// ---- row kernels ----

// Note [Row kernels]
// A pointwise layer over operands of one float type T (ElementWise, Unary, Activation) runs as
// rows: its coalesced index map (IndexMap::coalesce) is an outer space of `rows` over an inner
// axis of `cols` output elements, the output row-major. A thread finds its row's operand offsets
// once (the divisions of IndexMap::offsets32 over the outer dims) and then walks the row, so
// the divisions per element that the flat map costs are gone: a bias [C] added to [B, S, C]
// reads one division per row. Where every operand walks the inner axis contiguously or
// broadcasts along it, the row length and every row start are multiples of V and the pointers
// are aligned, a thread moves V elements (16 bytes of T) per load and store. The arithmetic per
// element is the flat kernels' (the same scalar functions in float, the same rounding stores), so
// results are bit for bit those of the CPU reference as before.

template <DataType T>
struct StorageOf {
  using type = uint16_t;  // kHALF and kBF16: their bits
};
template <>
struct StorageOf<DataType::kFLOAT> {
  using type = float;
};

template <DataType T, int V, int K, typename F>
__global__ void rows_kernel(RowMap<K> m, Operands<K> in, void* out, F f) {
  using S = typename StorageOf<T>::type;
  S* y = static_cast<S*>(out);
  for (uint32_t r = blockIdx.y * blockDim.y + threadIdx.y; r < m.rows;
       r += gridDim.y * blockDim.y) {
    uint32_t off[K];
    m.outer.offsets32(r, off);
    for (uint32_t c = (blockIdx.x * blockDim.x + threadIdx.x) * V; c < m.cols;
         c += gridDim.x * blockDim.x * V) {
      Pack<S, V> x[K];
#pragma unroll
      for (int k = 0; k < K; ++k)
        x[k] = load_pack<V>(static_cast<const S*>(in.p[k]), off[k], m.inner[k], c);
      Pack<S, V> res;
#pragma unroll
      for (int j = 0; j < V; ++j) {
        float v[K];
#pragma unroll
        for (int k = 0; k < K; ++k) v[k] = dev::load_f(T, x[k].v, j);
        dev::store_f(T, res.v, j, f(v));
      }
      *reinterpret_cast<Pack<S, V>*>(y + static_cast<size_t>(r) * m.cols + c) = res;
    }
  }
}

template <DataType T, int V, int K, typename F>
void launch_rows(const LaunchCtx& ctx, const RowMap<K>& m, const Operands<K>& in, void* y, F f) {
  dim3 grid, block;
  row_geometry(m, V, grid, block);
  rows_kernel<T, V, K><<<grid, block, 0, ctx.stream()>>>(m, in, y, f);
  LK_CUDA(cudaGetLastError(), ctx.layer_name());
}

// Runs f over `m` (output dims and each operand's broadcast strides) as rows of T, writing the
// contiguous output `y`; false when the output has more than INT32_MAX elements (32-bit offsets;
// the caller's flat 64-bit kernel runs it then).
template <DataType T, int K, typename F>
bool run_rows(const LaunchCtx& ctx, IndexMap<K> m, const Operands<K>& in, void* y, int64_t n, F f) {
  using S = typename StorageOf<T>::type;
  constexpr int kVec = 16 / static_cast<int>(sizeof(S));
  if (n > INT32_MAX) return false;
  if (n == 0) return true;
  m.coalesce();
  const RowMap<K> rm = row_map(m, n);
  const bool vec = packs_fit(rm, kVec, sizeof(Pack<S, kVec>), in.p, y);
  if (vec)
    launch_rows<T, kVec>(ctx, rm, in, y, f);
  else
    launch_rows<T, 1>(ctx, rm, in, y, f);
  return true;
}

// A contiguous map of dims `d` for K operands of those dims.
template <int K>
IndexMap<K> contiguous_map(const Dims& d) {
  IndexMap<K> m;
  m.rank = d.rank();
  for (int i = 0; i < m.rank; ++i) m.dims[i] = d[i];
  for (int k = 0; k < K; ++k) broadcast_strides(d, d, m.strides[k]);
  return m;
}

// run_rows for T = t where t has row kernels (fp32, fp16, bf16); false otherwise.
template <int K, typename F>
bool run_rows_of(const LaunchCtx& ctx, DataType t, const IndexMap<K>& m, const Operands<K>& in,
                 void* y, int64_t n, F f) {
  switch (t) {
    case DataType::kFLOAT:
      return run_rows<DataType::kFLOAT>(ctx, m, in, y, n, f);
    case DataType::kHALF:
      return run_rows<DataType::kHALF>(ctx, m, in, y, n, f);
    case DataType::kBF16:
      return run_rows<DataType::kBF16>(ctx, m, in, y, n, f);
    default:
      return false;
  }
}

// ---- kernels ----

class CopyKernel final : public Kernel {
 public:
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    if (x.bytes() > 0)
      LK_CUDA(cudaMemcpyAsync(y.data, x.data, static_cast<size_t>(x.bytes()),
                              cudaMemcpyDeviceToDevice, ctx.stream()),
              ctx.layer_name());
  }
};

class CastKernel final : public Kernel {
 public:
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    const DataType xt = x.type, yt = y.type;
    const void* xp = x.data;
    void* yp = y.data;
    if (int_like(xt)) {
      for_each(ctx, y.numel(),
               [=] __device__(int64_t i) { dev::store_i(yt, yp, i, dev::load_i(xt, xp, i)); });
    } else {
      for_each(ctx, y.numel(),
               [=] __device__(int64_t i) { dev::store_f(yt, yp, i, dev::load_f(xt, xp, i)); });
    }
  }
};

class ElementWiseKernel final : public Kernel {
 public:
  explicit ElementWiseKernel(ElementWiseOperation op) : op_(op) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& a = ctx.input(0);
    const DeviceTensor& b = ctx.input(1);
    const DeviceTensor& y = ctx.output(0);
    IndexMap<2> m;
    m.rank = y.dims.rank();
    for (int d = 0; d < m.rank; ++d) m.dims[d] = y.dims[d];
    broadcast_strides(a.dims, y.dims, m.strides[0]);
    broadcast_strides(b.dims, y.dims, m.strides[1]);
    m.coalesce();
    const ElementWiseOperation op = op_;
    const DataType at = a.type, yt = y.type;
    const void* ap = a.data;
    const void* bp = b.data;
    void* yp = y.data;
    if (is_floating(at)) {
      // Note [Row kernels]
      if (at == yt && b.type == at &&
          run_rows_of(
              ctx, at, m, Operands<2>{{ap, bp}}, yp, y.numel(),
              [=] __device__(const float(&v)[2]) { return elementwise_float(op, v[0], v[1]); }))
        return;
      for_each(ctx, y.numel(), [=] __device__(int64_t i) {
        int64_t off[2];
        m.offsets(i, off);
        dev::store_f(
            yt, yp, i,
            elementwise_float(op, dev::load_f(at, ap, off[0]), dev::load_f(at, bp, off[1])));
      });
      return;
    }
    // Integer division by zero is a run-time error on the CPU; here the flag reports it.
    int* flag = ctx.check_flag();  // Note [Run-time checks]
    for_each(ctx, y.numel(), [=] __device__(int64_t i) {
      int64_t off[2];
      m.offsets(i, off);
      int64_t r = 0;
      if (!elementwise_int(op, dev::load_i(at, ap, off[0]), dev::load_i(at, bp, off[1]), r)) {
        *flag = 1;
        r = 0;
      }
      dev::store_i(yt, yp, i, r);
    });
    ctx.check(flag, [op](const LaunchCtx& c) {
      LK_FAIL(kRUNTIME, "ElementWise layer '", c.layer_name(), "': integer division by zero in ",
              enum_name(op));
    });
  }

 private:
  ElementWiseOperation op_;
};

class UnaryKernel final : public Kernel {
 public:
  explicit UnaryKernel(UnaryOperation op) : op_(op) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    const UnaryOperation op = op_;
    const DataType xt = x.type, yt = y.type;
    const void* xp = x.data;
    void* yp = y.data;
    if (!is_floating(xt)) {
      for_each(ctx, y.numel(), [=] __device__(int64_t i) {
        dev::store_i(yt, yp, i, unary_int(op, dev::load_i(xt, xp, i)));
      });
      return;
    }
    if (xt == yt && run_rows_of(ctx, xt, contiguous_map<1>(y.dims), Operands<1>{{xp}}, yp,
                                y.numel(), [=] __device__(const float(&v)[1]) {
                                  return unary_float(op, v[0]);
                                }))  // Note [Row kernels]
      return;
    for_each(ctx, y.numel(), [=] __device__(int64_t i) {
      dev::store_f(yt, yp, i, unary_float(op, dev::load_f(xt, xp, i)));
    });
  }

 private:
  UnaryOperation op_;
};

class ActivationKernel final : public Kernel {
 public:
  explicit ActivationKernel(const ActivationAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    const ActivationType t = a_.type;
    const float alpha = a_.alpha, beta = a_.beta;
    const DataType xt = x.type, yt = y.type;
    const void* xp = x.data;
    void* yp = y.data;
    if (xt == yt && run_rows_of(ctx, xt, contiguous_map<1>(y.dims), Operands<1>{{xp}}, yp,
                                y.numel(), [=] __device__(const float(&v)[1]) {
                                  return activate(t, alpha, beta, v[0]);
                                }))  // Note [Row kernels]
      return;
    for_each(ctx, y.numel(), [=] __device__(int64_t i) {
      dev::store_f(yt, yp, i, activate(t, alpha, beta, dev::load_f(xt, xp, i)));
    });
  }

 private:
  ActivationAttrs a_;
};

class SelectKernel final : public Kernel {
 public:
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& c = ctx.input(0);
    const DeviceTensor& t = ctx.input(1);
    const DeviceTensor& e = ctx.input(2);
    const DeviceTensor& y = ctx.output(0);
    IndexMap<3> m;
    m.rank = y.dims.rank();
    for (int d = 0; d < m.rank; ++d) m.dims[d] = y.dims[d];
    broadcast_strides(c.dims, y.dims, m.strides[0]);
    broadcast_strides(t.dims, y.dims, m.strides[1]);
    broadcast_strides(e.dims, y.dims, m.strides[2]);
    m.coalesce();
    const DataType ct = c.type;
    const int64_t size = element_size(y.type);
    const void* cp = c.data;
    const auto* tp = static_cast<const uint8_t*>(t.data);
    const auto* ep = static_cast<const uint8_t*>(e.data);
    auto* yp = static_cast<uint8_t*>(y.data);
    for_each(ctx, y.numel(), [=] __device__(int64_t i) {
      int64_t off[3];
      m.offsets(i, off);
      const uint8_t* src =
          dev::load_i(ct, cp, off[0]) != 0 ? tp + off[1] * size : ep + off[2] * size;
      for (int64_t b = 0; b < size; ++b) yp[i * size + b] = src[b];
    });
  }
};

class ParametricReLUKernel final : public Kernel {
 public:
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& s = ctx.input(1);
    const DeviceTensor& y = ctx.output(0);
    IndexMap<1> m;
    m.rank = y.dims.rank();
    for (int d = 0; d < m.rank; ++d) m.dims[d] = y.dims[d];
    broadcast_strides(s.dims, y.dims, m.strides[0]);
    m.coalesce();
    const DataType xt = x.type, st = s.type, yt = y.type;
    const void* xp = x.data;
    const void* sp = s.data;
    void* yp = y.data;
    for_each(ctx, y.numel(), [=] __device__(int64_t i) {
      int64_t off[1];
      m.offsets(i, off);
      float v = dev::load_f(xt, xp, i);
      dev::store_f(yt, yp, i, v >= 0.0f ? v : dev::load_f(st, sp, off[0]) * v);
    });
  }
};

// Scale: the weights are uploaded once (with the kernel) as fp32.
class ScaleKernel final : public Kernel {
 public:
  ScaleKernel(const ScaleAttrs& a, const Dims& dims) : a_(a) {
    inner_ = 1;
    for (int i = a.channel_axis + 1; i < dims.rank(); ++i) inner_ *= dims[i];
    channels_ = dims.rank() > 0 ? dims[a.channel_axis] : 1;
    scale_ = upload(a.scale);
    shift_ = upload(a.shift);
    power_ = upload(a.power);
  }
  ~ScaleKernel() override {
    for (float* p : {scale_, shift_, power_})
      if (p) cudaFree(p);
  }
  uint64_t prepared_bytes() const override {
    return static_cast<uint64_t>(a_.scale.count() + a_.shift.count() + a_.power.count()) * 4;
  }
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    const DataType xt = x.type, yt = y.type;
    const void* xp = x.data;
    void* yp = y.data;
    const float* sc = scale_;
    const float* sh = shift_;
    const float* pw = power_;
    const int64_t inner = inner_, channels = channels_;
    const ScaleMode mode = a_.mode;
    for_each(ctx, y.numel(), [=] __device__(int64_t i) {
      int64_t k = 0;
      if (mode == ScaleMode::kCHANNEL) k = (i / inner) % channels;
      if (mode == ScaleMode::kELEMENTWISE) k = i % (inner * channels);
      float v = dev::load_f(xt, xp, i) * (sc ? sc[k] : 1.0f) + (sh ? sh[k] : 0.0f);
      if (pw) v = powf(v, pw[k]);
      dev::store_f(yt, yp, i, v);
    });
  }

 private:
  static float* upload(const Weights& w) {
    if (w.empty()) return nullptr;
    std::vector<float> host(static_cast<size_t>(w.count()));
    for (int64_t i = 0; i < w.count(); ++i)
      host[static_cast<size_t>(i)] = load_f(w.type(), w.data(), i);
    float* p = nullptr;
    check_cuda(cudaMalloc(&p, host.size() * sizeof(float)), "cudaMalloc", "",
               host.size() * sizeof(float));
    check_cuda(cudaMemcpy(p, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice),
               "cudaMemcpy");
    return p;
  }
  ScaleAttrs a_;
  int64_t inner_ = 1, channels_ = 1;
  float* scale_ = nullptr;
  float* shift_ = nullptr;
  float* power_ = nullptr;
};

bool fits_index_map(const Problem& p) {
  return p.output(0).dims.rank() <= kMaxDims;
}

}  // namespace

std::vector<KernelEntry> pointwise_kernels(LayerKind kind) {
  switch (kind) {
    case LayerKind::kIDENTITY:
      return {{"copy", [](const Problem&) -> std::unique_ptr<Kernel> {
                 return std::make_unique<CopyKernel>();
               }}};
    case LayerKind::kCAST:
      return {{"pointwise", [](const Problem&) -> std::unique_ptr<Kernel> {
                 return std::make_unique<CastKernel>();
               }}};
    case LayerKind::kELEMENTWISE:
      return {{"pointwise", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 if (!fits_index_map(p)) return nullptr;
                 return std::make_unique<ElementWiseKernel>(p.as<ElementWiseAttrs>().op);
               }}};
    case LayerKind::kUNARY:
      return {{"pointwise", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 return std::make_unique<UnaryKernel>(p.as<UnaryAttrs>().op);
               }}};
    case LayerKind::kACTIVATION:
      return {{"pointwise", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 return std::make_unique<ActivationKernel>(p.as<ActivationAttrs>());
               }}};
    case LayerKind::kSELECT:
      return {{"pointwise", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 if (!fits_index_map(p)) return nullptr;
                 return std::make_unique<SelectKernel>();
               }}};
    case LayerKind::kPARAMETRIC_RELU:
      return {{"pointwise", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 if (!fits_index_map(p)) return nullptr;
                 return std::make_unique<ParametricReLUKernel>();
               }}};
    case LayerKind::kSCALE:
      return {{"pointwise", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 return std::make_unique<ScaleKernel>(p.as<ScaleAttrs>(), p.input(0).dims);
               }}};
    case LayerKind::kINPUT:
    case LayerKind::kCONSTANT:
    case LayerKind::kSHUFFLE:
    case LayerKind::kSLICE:
    case LayerKind::kCONCATENATION:
    case LayerKind::kGATHER:
    case LayerKind::kSCATTER:
    case LayerKind::kFILL:
    case LayerKind::kSHAPE:
    case LayerKind::kMATRIX_MULTIPLY:
    case LayerKind::kCONVOLUTION:
    case LayerKind::kDECONVOLUTION:
    case LayerKind::kPOOLING:
    case LayerKind::kREDUCE:
    case LayerKind::kTOPK:
    case LayerKind::kCUMULATIVE:
    case LayerKind::kSOFTMAX:
    case LayerKind::kRESIZE:
    case LayerKind::kGRID_SAMPLE:
    case LayerKind::kPADDING:
    case LayerKind::kNORMALIZATION:
    case LayerKind::kQUANTIZE:
    case LayerKind::kDEQUANTIZE:
    case LayerKind::kDYNAMIC_QUANTIZE:
    case LayerKind::kCOLLECTIVE:
    case LayerKind::kNON_ZERO:
    // Control flow runs on the host fallback (bodies on a CPU executor).
    case LayerKind::kCONDITIONAL:
    case LayerKind::kLOOP:
      break;
  }
  return {};
}

}  // namespace layerkit::cuda
