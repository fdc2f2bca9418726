// Device-side helpers of the CUDA kernels: element access for every DataType, index maps, launch.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/element.h"
#include "layerkit/core/data_type.h"
#include "layerkit/core/dims.h"
#include "runtime/cuda/kernel.h"

namespace layerkit::cuda {

// Element access in the common domains of core/element.h: floating kernels compute in float,
// integer kernels in int64, and stores round exactly as the host's store_f/store_i do (Note
// [Scalar conversions]), so a device kernel and the CPU reference agree bit for bit wherever the
// arithmetic itself does.
namespace dev {

// The host's round_to_code (core/data_type.cpp) on the device: rounds the finite non-negative
// `a` to a binary format with `man_bits` mantissa bits, minimum normal exponent `emin` and `bias`,
// ties to even, giving the code `(biased exponent << man_bits) | mantissa` (exponent 0:
// subnormal). frexpf, ldexpf and nearbyintf are exact, so every code equals the host's.
__device__ inline uint32_t round_to_code(float a, int man_bits, int emin, int bias) {
  if (a == 0.0f) return 0;
  int exp;
  frexpf(a, &exp);
  int e = exp - 1;
  if (e < emin) e = emin;
  uint32_t q = static_cast<uint32_t>(nearbyintf(ldexpf(a, man_bits - e)));
  if (q == 0) return 0;
  if (q >= (1u << (man_bits + 1))) {
    q >>= 1;
    e += 1;
  }
  if (q < (1u << man_bits)) return q;
  return (static_cast<uint32_t>(e + bias) << man_bits) | (q & ((1u << man_bits) - 1));
}

// E4M3 as the host decodes it. NOTE: not through cuda_fp8.h, whose conversions return one
// canonical NaN for both NaN codes; the host gives the quiet NaN 0x7fc00000 with the code's sign.
__device__ inline float fp8_to_float(uint8_t b) {
  const uint32_t sign = static_cast<uint32_t>(b & 0x80) << 24;
  const uint32_t e = (b >> 3) & 0xfu, m = b & 0x7u;
  if (e == 0xf && m == 0x7) return __uint_as_float(sign | 0x7fc00000u);
  // Subnormals are m * 2^-9; normals (8 + m) * 2^(e - 10), i.e. float exponent e - 7 + 127.
  const float a = e == 0 ? static_cast<float>(m) * 0.001953125f
                         : __uint_as_float(((e + 120u) << 23) | (m << 20));
  return __uint_as_float(__float_as_uint(a) | sign);
}
// Saturating E4M3 (Note [Scalar conversions]) as the host's float_to_fp8e4m3_bits: NaN keeps its
// sign (0x7f / 0xff), where the hardware conversion gives 0x7f for both.
__device__ inline uint8_t float_to_fp8(float f) {
  const uint8_t sign = signbit(f) ? 0x80 : 0x00;
  if (isnan(f)) return static_cast<uint8_t>(sign | 0x7f);
  const float a = fabsf(f);
  if (isinf(a)) return static_cast<uint8_t>(sign | 0x7e);
  const uint32_t code = round_to_code(a, 3, -6, 7);
  return static_cast<uint8_t>(sign | (code > 0x7e ? 0x7eu : code));
}
__device__ inline float fp4_to_float(uint8_t n) {
  float sign = (n & 0x8) ? -1.0f : 1.0f;
  int e = (n >> 1) & 0x3;
  int m = n & 0x1;
  if (e == 0) return sign * 0.5f * static_cast<float>(m);
  return sign * ldexpf(static_cast<float>(m | 0x2), e - 2);
}
__device__ inline uint8_t float_to_fp4(float f) {
  if (isnan(f)) return 0x7;
  uint8_t sign = signbit(f) ? 0x8 : 0x0;
  float a = fabsf(f);
  if (isinf(a)) return static_cast<uint8_t>(sign | 0x7);
  if (a == 0.0f) return sign;
  // E2M1: one mantissa bit, minimum normal exponent 0, bias 1; ties to even.
  int exp;
  frexpf(a, &exp);
  int e = exp - 1;
  if (e < 0) e = 0;
  uint32_t q = static_cast<uint32_t>(nearbyintf(ldexpf(a, 1 - e)));
  uint32_t code;
  if (q == 0) {
    code = 0;
  } else {
    if (q >= 4u) {
      q >>= 1;
      e += 1;
    }
    code = q < 2u ? q : ((static_cast<uint32_t>(e + 1) << 1) | (q & 1u));
  }
  if (code > 0x7) code = 0x7;
  return static_cast<uint8_t>(sign | code);
}
__device__ inline float e8m0_to_float(uint8_t b) {
  if (b == 0xff) return __int_as_float(0x7fc00000);
  // 2^(b - 127) built from its bits; code 0 is the subnormal 2^-127.
  return b == 0 ? __uint_as_float(0x00400000u) : __uint_as_float(static_cast<uint32_t>(b) << 23);
}
__device__ inline uint8_t float_to_e8m0(float f) {
  if (isnan(f)) return 0xff;
  if (!(f > 0.0f)) return 0x00;
  if (isinf(f)) return 0xfe;
  int exp;
  float frac = frexpf(f, &exp);
  int e = exp - 1;
  if (2.0f * frac >= 1.5f) e += 1;
  int biased = e + 127;
  if (biased <= 0) return 0x00;
  if (biased >= 0xfe) return 0xfe;
  return static_cast<uint8_t>(biased);
}

// fp16 and bf16 rounded to nearest even as the hardware does; a NaN becomes what the host's
// float_to_half_bits / float_to_bf16_bits make of it (sign kept; bf16 also keeps the top payload
// bits), where the hardware conversions give one canonical NaN.
__device__ inline uint16_t float_to_half_bits(float v) {
  if (isnan(v)) return static_cast<uint16_t>(((__float_as_uint(v) >> 16) & 0x8000u) | 0x7e00u);
  return __half_as_ushort(__float2half_rn(v));
}
__device__ inline uint16_t float_to_bf16_bits(float v) {
  if (isnan(v)) return static_cast<uint16_t>((__float_as_uint(v) >> 16) | 0x0040u);
  return __bfloat16_as_ushort(__float2bfloat16_rn(v));
}

// Note [NaN results]
// IEEE-754 leaves open which NaN an operation returns. The host the CPU reference runs on
// (x86-64 SSE/AVX) returns the first NaN operand, quieted, and for an invalid operation (0/0,
// inf/inf, 0*inf) its default NaN 0xffc00000, sign set; GPU arithmetic returns one canonical NaN.
// Kernels whose NaN results reach a stored sign or payload (FP8 codes, fp16/bf16/fp32 bits) divide
// and multiply through these, so they store what the host stores. (The __f*_rn forms also keep
// the compiler from fusing a product into an FMA, which the host never does.)
__device__ inline float host_nan(float a, float b) {
  if (isnan(a)) return __uint_as_float(__float_as_uint(a) | 0x00400000u);
  if (isnan(b)) return __uint_as_float(__float_as_uint(b) | 0x00400000u);
  return __uint_as_float(0xffc00000u);
}
__device__ inline float host_div(float a, float b) {
  const float q = __fdiv_rn(a, b);
  return isnan(q) ? host_nan(a, b) : q;
}
__device__ inline float host_mul(float a, float b) {
  const float p = __fmul_rn(a, b);
  return isnan(p) ? host_nan(a, b) : p;
}

// Float to integer: truncate toward zero, saturate, NaN -> 0.
__device__ inline int64_t float_to_int(float v, int64_t lo, int64_t hi) {
  if (isnan(v)) return 0;
  double t = trunc(static_cast<double>(v));
  if (t <= static_cast<double>(lo)) return lo;
  if (t >= static_cast<double>(hi)) return hi;
  return static_cast<int64_t>(t);
}

__device__ inline float load_f(DataType t, const void* p, int64_t i) {
  switch (t) {
    case DataType::kFLOAT:
      return static_cast<const float*>(p)[i];
    case DataType::kHALF: {
      // A NaN loads as the host's half_bits_to_float makes it: 0x7fc00000 with the sign.
      const uint16_t h = static_cast<const uint16_t*>(p)[i];
      if ((h & 0x7fffu) > 0x7c00u)
        return __uint_as_float((static_cast<uint32_t>(h & 0x8000u) << 16) | 0x7fc00000u);
      return __half2float(__ushort_as_half(h));
    }
    case DataType::kBF16:
      return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
    case DataType::kINT8:
    case DataType::kINT4:
      return static_cast<float>(static_cast<const int8_t*>(p)[i]);
    case DataType::kUINT8:
      return static_cast<float>(static_cast<const uint8_t*>(p)[i]);
    case DataType::kINT32:
      return static_cast<float>(static_cast<const int32_t*>(p)[i]);
    case DataType::kINT64:
      return static_cast<float>(static_cast<const int64_t*>(p)[i]);
    case DataType::kBOOL:
      return static_cast<const uint8_t*>(p)[i] ? 1.0f : 0.0f;
    case DataType::kFP8:
      return fp8_to_float(static_cast<const uint8_t*>(p)[i]);
    case DataType::kFP4:
      return fp4_to_float(static_cast<const uint8_t*>(p)[i]);
    case DataType::kE8M0:
      return e8m0_to_float(static_cast<const uint8_t*>(p)[i]);
  }
  return 0.0f;
}

__device__ inline void store_f(DataType t, void* p, int64_t i, float v) {
  switch (t) {
    case DataType::kFLOAT:
      static_cast<float*>(p)[i] = v;
      return;
    case DataType::kHALF:
      static_cast<uint16_t*>(p)[i] = float_to_half_bits(v);
      return;
    case DataType::kBF16:
      static_cast<uint16_t*>(p)[i] = float_to_bf16_bits(v);
      return;
    case DataType::kINT8:
      static_cast<int8_t*>(p)[i] = static_cast<int8_t>(float_to_int(v, -128, 127));
      return;
    case DataType::kUINT8:
      static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(float_to_int(v, 0, 255));
      return;
    case DataType::kINT32:
      static_cast<int32_t*>(p)[i] =
          static_cast<int32_t>(float_to_int(v, -2147483648LL, 2147483647LL));
      return;
    case DataType::kINT64:
      static_cast<int64_t*>(p)[i] = float_to_int(v, INT64_MIN, INT64_MAX);
      return;
    case DataType::kBOOL:
      static_cast<uint8_t*>(p)[i] = v != 0.0f ? 1 : 0;
      return;
    case DataType::kFP8:
      static_cast<uint8_t*>(p)[i] = float_to_fp8(v);
      return;
    case DataType::kINT4:
      static_cast<int8_t*>(p)[i] = static_cast<int8_t>(float_to_int(v, -8, 7));
      return;
    case DataType::kFP4:
      static_cast<uint8_t*>(p)[i] = float_to_fp4(v);
      return;
    case DataType::kE8M0:
      static_cast<uint8_t*>(p)[i] = float_to_e8m0(v);
      return;
  }
}

__device__ inline int64_t load_i(DataType t, const void* p, int64_t i) {
  switch (t) {
    case DataType::kINT8:
    case DataType::kINT4:
      return static_cast<const int8_t*>(p)[i];
    case DataType::kUINT8:
      return static_cast<const uint8_t*>(p)[i];
    case DataType::kINT32:
      return static_cast<const int32_t*>(p)[i];
    case DataType::kINT64:
      return static_cast<const int64_t*>(p)[i];
    case DataType::kBOOL:
      return static_cast<const uint8_t*>(p)[i] ? 1 : 0;
    case DataType::kFLOAT:
    case DataType::kHALF:
    case DataType::kBF16:
    case DataType::kFP8:
    case DataType::kFP4:
    case DataType::kE8M0:
      return float_to_int(dev::load_f(t, p, i), INT64_MIN, INT64_MAX);
  }
  return 0;
}

__device__ inline void store_i(DataType t, void* p, int64_t i, int64_t v) {
  switch (t) {
    case DataType::kINT8:
      static_cast<int8_t*>(p)[i] = static_cast<int8_t>(v);
      return;
    case DataType::kUINT8:
      static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(v);
      return;
    case DataType::kINT32:
      static_cast<int32_t*>(p)[i] = static_cast<int32_t>(v);
      return;
    case DataType::kINT64:
      static_cast<int64_t*>(p)[i] = v;
      return;
    case DataType::kBOOL:
      static_cast<uint8_t*>(p)[i] = v != 0 ? 1 : 0;
      return;
    case DataType::kINT4:
      static_cast<int8_t*>(p)[i] = static_cast<int8_t>(static_cast<int8_t>((v & 0xf) << 4) >> 4);
      return;
    case DataType::kFLOAT:
    case DataType::kHALF:
    case DataType::kBF16:
    case DataType::kFP8:
    case DataType::kFP4:
    case DataType::kE8M0:
      dev::store_f(t, p, i, static_cast<float>(v));
      return;
  }
}

__device__ inline bool is_floating(DataType t) {
  return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16 ||
         t == DataType::kFP8 || t == DataType::kFP4 || t == DataType::kE8M0;
}

// A float value rounded to float type T and back, as a store of T and a load would do it.
template <DataType T>
__device__ inline float round_to(float v) {
  if constexpr (T == DataType::kHALF)
    return __half2float(__float2half_rn(v));
  else if constexpr (T == DataType::kBF16)
    return __bfloat162float(__float2bfloat16_rn(v));
  else
    return v;
}

// One ElementWise kSUM/kSUB/kPROD/kDIV step of a fused chain as its layer computes it, each
// operation rounded once (no FMA contraction), so fused chains equal the layers run one by one.
__device__ inline float chain_step(ElementWiseOperation op, float a, float b) {
  switch (op) {
    case ElementWiseOperation::kSUM:
      return __fadd_rn(a, b);
    case ElementWiseOperation::kSUB:
      return __fsub_rn(a, b);
    case ElementWiseOperation::kPROD:
      return __fmul_rn(a, b);
    default:
      return __fdiv_rn(a, b);
  }
}

}  // namespace dev

// An output index space of rank <= kMaxDims with, per operand, the element stride of each output
// axis (0 where the operand broadcasts along it). Passed to kernels by value.
template <int kOperands>
struct IndexMap {
  int rank = 0;
  int64_t dims[kMaxDims] = {};
  int64_t strides[kOperands][kMaxDims] = {};
  // The offsets of output element `i` in each operand.
  __device__ void offsets(int64_t i, int64_t (&off)[kOperands]) const {
    for (int k = 0; k < kOperands; ++k) off[k] = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t n = dims[d];
      const int64_t q = i % n;
      i /= n;
      for (int k = 0; k < kOperands; ++k) off[k] += q * strides[k][d];
    }
  }
  // Drops axes of size 1 and merges each pair of adjacent axes that every operand walks as one
  // axis (the outer stride is the inner stride times the inner size; broadcast axes, stride 0,
  // merge with broadcast axes), so kernels divide by fewer dims: a bias [1, 1, C] added to
  // [B, S, C] becomes one [B*S, C] map, a same-shape operation one axis. The output index space
  // is row-major either way, so output element i keeps its offsets.
  void coalesce() {
    int r = 0;
    for (int d = 0; d < rank; ++d) {
      if (dims[d] == 1) continue;
      bool merge = r > 0;
      for (int k = 0; k < kOperands && merge; ++k)
        merge = strides[k][r - 1] == strides[k][d] * dims[d];
      if (merge) {
        dims[r - 1] *= dims[d];
        for (int k = 0; k < kOperands; ++k) strides[k][r - 1] = strides[k][d];
        continue;
      }
      dims[r] = dims[d];
      for (int k = 0; k < kOperands; ++k) strides[k][r] = strides[k][d];
      ++r;
    }
    rank = r;
  }
  // The same in 32-bit arithmetic (64-bit division is several times slower on the GPU), for
  // outputs of at most INT32_MAX elements: no operand is larger, so neither is any offset.
  __device__ void offsets32(uint32_t i, uint32_t (&off)[kOperands]) const {
    for (int k = 0; k < kOperands; ++k) off[k] = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const auto n = static_cast<uint32_t>(dims[d]);
      const uint32_t q = i % n;
      i /= n;
      for (int k = 0; k < kOperands; ++k) off[k] += q * static_cast<uint32_t>(strides[k][d]);
    }
  }
};

// Row-major strides of `in` read against output dims `out` of the same rank, with 0 on axes
// where `in` has size 1 (Note [Broadcasting]).
void broadcast_strides(const Dims& in, const Dims& out, int64_t* strides);

constexpr int kBlock = 256;
inline unsigned grid_for(int64_t n) {
  int64_t blocks = (n + kBlock - 1) / kBlock;
  return static_cast<unsigned>(blocks < 65535 * 16 ? (blocks < 1 ? 1 : blocks) : 65535 * 16);
}

// ---- rows (Note [Row kernels], pointwise.cu) ----

template <typename S, int V>
struct alignas(sizeof(S) * V) Pack {
  S v[V];
};

// The outer map (rank - 1 dims) and each operand's stride along the inner axis.
template <int K>
struct RowMap {
  IndexMap<K> outer;
  uint32_t inner[K] = {};
  uint32_t rows = 1, cols = 1;
};

template <int K>
struct Operands {
  const void* p[K];
};

template <int V, typename S>
__device__ inline Pack<S, V> load_pack(const S* p, uint32_t base, uint32_t stride, uint32_t c) {
  if constexpr (V > 1) {
    if (stride == 1) return *reinterpret_cast<const Pack<S, V>*>(p + base + c);
  }
  Pack<S, V> x;
#pragma unroll
  for (int j = 0; j < V; ++j) x.v[j] = p[base + (c + static_cast<uint32_t>(j)) * stride];
  return x;
}

// `m` (coalesced, n output elements, n <= INT32_MAX) as rows: its last axis is the row.
template <int K>
RowMap<K> row_map(const IndexMap<K>& m, int64_t n) {
  RowMap<K> rm;
  if (m.rank == 0) return rm;
  rm.cols = static_cast<uint32_t>(m.dims[m.rank - 1]);
  rm.rows = static_cast<uint32_t>(n / m.dims[m.rank - 1]);
  rm.outer.rank = m.rank - 1;
  for (int d = 0; d + 1 < m.rank; ++d) {
    rm.outer.dims[d] = m.dims[d];
    for (int k = 0; k < K; ++k) rm.outer.strides[k][d] = m.strides[k][d];
  }
  for (int k = 0; k < K; ++k) rm.inner[k] = static_cast<uint32_t>(m.strides[k][m.rank - 1]);
  return rm;
}

// Whether threads may move packs of `v` elements (`pack_bytes` each): the rows are whole packs,
// every operand walks the row contiguously (or broadcasts along it) from aligned row starts, and
// the output is aligned.
template <int K>
bool packs_fit(const RowMap<K>& rm, int v, size_t pack_bytes, const void* const* in,
               const void* y) {
  if (rm.cols % static_cast<uint32_t>(v) != 0 || reinterpret_cast<uintptr_t>(y) % pack_bytes != 0)
    return false;
  for (int k = 0; k < K; ++k) {
    if (rm.inner[k] > 1) return false;
    if (rm.inner[k] == 0) continue;
    if (reinterpret_cast<uintptr_t>(in[k]) % pack_bytes != 0) return false;
    for (int d = 0; d < rm.outer.rank; ++d)
      if (rm.outer.strides[k][d] % v != 0) return false;
  }
  return true;
}

// Blocks of kBlock threads: x along a row (v elements per thread), y over rows, so short rows
// still fill whole blocks.
template <int K>
void row_geometry(const RowMap<K>& m, int v, dim3& grid, dim3& block) {
  const uint32_t threads = (m.cols + static_cast<uint32_t>(v) - 1) / static_cast<uint32_t>(v);
  const uint32_t tx = std::min<uint32_t>(kBlock, (threads + 31) / 32 * 32);
  const uint32_t ty = kBlock / tx;
  block = dim3(tx, ty);
  grid = dim3(std::min<uint32_t>((threads + tx - 1) / tx, 65535u * 16),
              std::min<uint32_t>((m.rows + ty - 1) / ty, 65535u));
}

// Calls f(i) for i in [0, n), grid-stride.
template <typename F>
__global__ void for_each_kernel(int64_t n, F f) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
    f(i);
}
template <typename F>
void for_each(const LaunchCtx& ctx, int64_t n, F f) {
  if (n <= 0) return;
  for_each_kernel<<<grid_for(n), kBlock, 0, ctx.stream()>>>(n, f);
  LK_CUDA(cudaGetLastError(), ctx.layer_name());
}

// Copies element source(i) of `src` to element i of `dst` for i in [0, n), through a kernel typed
// on the element size (so one instance serves every type of that size); source(i) < 0 leaves
// `fill` (or zero bytes, the value 0 of every type, when no fill is given).
template <typename T, typename F>
void gather_elements(const LaunchCtx& ctx, int64_t n, const void* src, void* dst, F source,
                     const void* fill) {
  const T* s = static_cast<const T*>(src);
  T* d = static_cast<T*>(dst);
  T f{};
  if (fill) std::memcpy(&f, fill, sizeof(T));
  for_each(ctx, n, [=] __device__(int64_t i) {
    const int64_t k = source(i);
    d[i] = k >= 0 ? s[k] : f;
  });
}

template <typename F>
void gather_any(const LaunchCtx& ctx, DataType type, int64_t n, const void* src, void* dst,
                F source, const void* fill = nullptr) {
  switch (element_size(type)) {
    case 1:
      return gather_elements<uint8_t>(ctx, n, src, dst, source, fill);
    case 2:
      return gather_elements<uint16_t>(ctx, n, src, dst, source, fill);
    case 4:
      return gather_elements<uint32_t>(ctx, n, src, dst, source, fill);
    case 8:
      return gather_elements<uint64_t>(ctx, n, src, dst, source, fill);
    default:
      LK_FAIL(kINTERNAL, "layer '", ctx.layer_name(), "': element size ", element_size(type));
  }
}

}  // namespace layerkit::cuda
