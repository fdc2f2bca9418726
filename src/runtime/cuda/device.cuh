// Device-side helpers of the CUDA kernels: element access for every DataType, index maps, launch.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

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

__device__ inline float fp8_to_float(uint8_t b) {
  __nv_fp8_e4m3 v;
  v.__x = b;
  return static_cast<float>(v);
}
__device__ inline uint8_t float_to_fp8(float f) {
  return static_cast<uint8_t>(__nv_cvt_float_to_fp8(f, __NV_SATFINITE, __NV_E4M3));
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
  return ldexpf(1.0f, static_cast<int>(b) - 127);
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
    case DataType::kHALF:
      return __half2float(static_cast<const __half*>(p)[i]);
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
      static_cast<__half*>(p)[i] = __float2half_rn(v);
      return;
    case DataType::kBF16:
      static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16_rn(v);
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
};

// Row-major strides of `in` read against output dims `out` of the same rank, with 0 on axes
// where `in` has size 1 (Note [Broadcasting]).
void broadcast_strides(const Dims& in, const Dims& out, int64_t* strides);

constexpr int kBlock = 256;
inline unsigned grid_for(int64_t n) {
  int64_t blocks = (n + kBlock - 1) / kBlock;
  return static_cast<unsigned>(blocks < 65535 * 16 ? (blocks < 1 ? 1 : blocks) : 65535 * 16);
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
