// Fused attention on the GPU (Note [Fused attention], kernel.h): the head-split transposes,
// Q K^T, the softmax prologue chain, the softmax, P V and the head merge as one kernel.
#include <cuda_pipeline.h>
#include <mma.h>

#include "runtime/cuda/device.cuh"
#include "runtime/cuda/kernel.h"

namespace layerkit::cuda {
namespace {

template <DataType T>
struct WmmaElement;
template <>
struct WmmaElement<DataType::kHALF> {
  using type = __half;
};
template <>
struct WmmaElement<DataType::kBF16> {
  using type = __nv_bfloat16;
};

constexpr int kWarps = 4;
constexpr int kTileRows = 16 * kWarps;  // query rows per block, 16 per warp
constexpr int kMaxKeys = 256;           // keys held in shared memory at once

struct AttentionArgs {
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  void* out = nullptr;
  int64_t heads = 0, sq = 0, sk = 0;
  int skp = 0;  // sk rounded up to a multiple of 16 (the padded keys score -inf)
  SoftmaxChain chain;
  const void* side[2] = {};
  int64_t side_strides[2][4] = {};  // broadcast strides against the scores [B, H, Sq, Sk]
};

// Row strides in elements of the three [B, S, H, D] operands and the output: H * D.
// Shared memory, per block: K and V (skp rows of D, padded to D + 8 elements against bank
// conflicts), the block's Q rows, then per warp its 16 rows of fp32 scores (later its output
// rows) and of probabilities in T.
__host__ __device__ constexpr int kv_ld(int d) {
  return d + 8;
}
__host__ __device__ inline int score_ld(int skp, int d) {
  return (skp > d ? skp : d) + 4;
}
__host__ __device__ inline int prob_ld(int skp) {
  return skp + 8;
}

size_t shared_bytes(int skp, int d) {
  return static_cast<size_t>(2 * skp + kTileRows) * kv_ld(d) * 2 +
         static_cast<size_t>(kWarps) * 16 * score_ld(skp, d) * 4 +
         static_cast<size_t>(kWarps) * 16 * prob_ld(skp) * 2;
}

template <DataType T, int D>
__global__ void __launch_bounds__(32 * kWarps) attention_kernel(AttentionArgs a) {
  using namespace nvcuda;
  using E = typename WmmaElement<T>::type;
  extern __shared__ __align__(128) unsigned char smem[];
  constexpr int ldkv = kv_ld(D);
  const int skp = a.skp;
  const int lds = score_ld(skp, D), ldp = prob_ld(skp);
  E* ks = reinterpret_cast<E*>(smem);
  E* vs = ks + skp * ldkv;
  E* qs = vs + skp * ldkv;
  float* sf = reinterpret_cast<float*>(qs + kTileRows * ldkv);
  E* ps = reinterpret_cast<E*>(sf + kWarps * 16 * lds);
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y;
  const int64_t q0 = static_cast<int64_t>(blockIdx.x) * kTileRows;
  const int64_t row_stride = a.heads * D;
  // Rows [s0, s0 + rows) of head h of one operand into shared memory, 16 bytes per asynchronous
  // copy (all of them in flight at once: with few warps per SM, copies made one after another
  // would wait out the memory latency each time); rows past the sequence are zeros.
  constexpr int kVec = 8, kPacks = D / kVec;
  auto load_rows = [&](const void* src, int64_t len, int64_t s0, int rows, E* dst) {
    const E* base = static_cast<const E*>(src) + b * len * row_stride + h * D;
    for (int i = static_cast<int>(threadIdx.x); i < rows * kPacks; i += 32 * kWarps) {
      const int r = i / kPacks, c = (i % kPacks) * kVec;
      E* to = dst + r * ldkv + c;
      if (s0 + r < len)
        __pipeline_memcpy_async(to, base + (s0 + r) * row_stride + c, 16);
      else
        *reinterpret_cast<uint4*>(to) = make_uint4(0, 0, 0, 0);
    }
  };
  load_rows(a.q, a.sq, q0, kTileRows, qs);
  load_rows(a.k, a.sk, 0, skp, ks);
  load_rows(a.v, a.sk, 0, skp, vs);
  __pipeline_commit();
  __pipeline_wait_prior(0);
  __syncthreads();

  float* sw = sf + warp * 16 * lds;
  E* pw = ps + warp * 16 * ldp;
  const E* qw = qs + warp * 16 * ldkv;
  // Scores: the warp's 16 query rows against every key, fp32 accumulation.
  for (int n = 0; n < skp / 16; ++n) {
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.0f);
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, E, wmma::row_major> fa;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, E, wmma::col_major> fb;
      wmma::load_matrix_sync(fa, qw + kk * 16, ldkv);
      wmma::load_matrix_sync(fb, ks + n * 16 * ldkv + kk * 16, ldkv);
      wmma::mma_sync(acc, fa, fb, acc);
    }
    wmma::store_matrix_sync(sw + n * 16, acc, lds, wmma::mem_row_major);
  }
  __syncwarp();

  // Per row, as the unfused layers: the score rounded to T (the product's output), each chain
  // step rounded to T, then the softmax in fp32. Two lanes share a row (even and odd columns), so
  // each lane walks many elements and a reduction is one shuffle; the probabilities are the
  // exponentials times the sum's reciprocal.
  {
    const int r = lane >> 1, half = lane & 1;
    const int64_t row = q0 + warp * 16 + r;
    const int64_t q = row < a.sq ? row : a.sq - 1;  // padding rows: any valid row's operands
    float* srow = sw + r * lds;
    int64_t sbase[2] = {0, 0};
    for (int k = 0; k < 2; ++k)
      sbase[k] = b * a.side_strides[k][0] + h * a.side_strides[k][1] + q * a.side_strides[k][2];
    const int steps = a.chain.steps;
    const int sk = static_cast<int>(a.sk);
    float mx = -INFINITY;
#pragma unroll 4
    for (int j = half; j < sk; j += 2) {
      float v = dev::round_to<T>(srow[j]);
      for (int s = 0; s < steps; ++s) {
        const SoftmaxStep& st = a.chain.step[s];
        float side = st.value;
        if (!st.scalar) {
          const int k = st.input - 1;
          side = dev::load_f(T, a.side[k], sbase[k] + j * a.side_strides[k][3]);
        }
        v = dev::round_to<T>(st.side_first ? dev::chain_step(st.op, side, v)
                                           : dev::chain_step(st.op, v, side));
      }
      srow[j] = v;
      mx = fmaxf(mx, v);
    }
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
    float sum = 0.0f;
#pragma unroll 4
    for (int j = half; j < sk; j += 2) {
      const float e = expf(srow[j] - mx);
      srow[j] = e;
      sum += e;
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    const float inv = __frcp_rn(sum);
#pragma unroll 4
    for (int j = half; j < skp; j += 2) {
      const float p = j < sk ? __fmul_rn(srow[j], inv) : 0.0f;
      if constexpr (T == DataType::kHALF)
        pw[r * ldp + j] = __float2half_rn(p);
      else
        pw[r * ldp + j] = __float2bfloat16_rn(p);
    }
  }
  __syncwarp();

  // P V into the warp's score rows (consumed), fp32 accumulation.
  for (int dn = 0; dn < D / 16; ++dn) {
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.0f);
    for (int kk = 0; kk < skp / 16; ++kk) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, E, wmma::row_major> fa;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, E, wmma::row_major> fb;
      wmma::load_matrix_sync(fa, pw + kk * 16, ldp);
      wmma::load_matrix_sync(fb, vs + kk * 16 * ldkv + dn * 16, ldkv);
      wmma::mma_sync(acc, fa, fb, acc);
    }
    wmma::store_matrix_sync(sw + dn * 16, acc, lds, wmma::mem_row_major);
  }
  __syncwarp();

  // The output rows in the merged [B, Sq, H, D] layout, 8 elements per store.
  E* out = static_cast<E*>(a.out);
  for (int i = lane; i < 16 * kPacks; i += 32) {
    const int r = i / kPacks, c = (i % kPacks) * kVec;
    const int64_t q = q0 + warp * 16 + r;
    if (q >= a.sq) continue;
    union {
      uint4 u;
      E e[kVec];
    } pack;
#pragma unroll
    for (int j = 0; j < kVec; ++j) {
      if constexpr (T == DataType::kHALF)
        pack.e[j] = __float2half_rn(sw[r * lds + c + j]);
      else
        pack.e[j] = __float2bfloat16_rn(sw[r * lds + c + j]);
    }
    *reinterpret_cast<uint4*>(out + ((b * a.sq + q) * a.heads + h) * D + c) = pack.u;
  }
}

template <DataType T, int D>
void launch(const LaunchCtx& ctx, const AttentionArgs& a, int64_t batch) {
  const size_t bytes = shared_bytes(a.skp, D);
  LK_CUDA(cudaFuncSetAttribute(attention_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(bytes)),
          ctx.layer_name());
  const dim3 grid(static_cast<unsigned>((a.sq + kTileRows - 1) / kTileRows),
                  static_cast<unsigned>(a.heads), static_cast<unsigned>(batch));
  attention_kernel<T, D><<<grid, 32 * kWarps, bytes, ctx.stream()>>>(a);
  LK_CUDA(cudaGetLastError(), ctx.layer_name());
}

template <DataType T>
void launch_typed(const LaunchCtx& ctx, const AttentionArgs& a, int64_t batch, int64_t d) {
  if (d == 32)
    launch<T, 32>(ctx, a, batch);
  else if (d == 64)
    launch<T, 64>(ctx, a, batch);
  else
    launch<T, 128>(ctx, a, batch);
}

class AttentionKernel final : public Kernel {
 public:
  explicit AttentionKernel(const SoftmaxChain& chain) : chain_(chain) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& q = ctx.input(0);
    const DeviceTensor& k = ctx.input(1);
    const DeviceTensor& v = ctx.input(2);
    const DeviceTensor& y = ctx.output(0);
    LK_CHECK(fused_attention_takes(q.type, q.dims, k.dims, v.dims) && y.type == q.type &&
                 y.dims == q.dims,
             "fused attention at '", ctx.layer_name(), "': Q ", q.dims.to_string(), " K ",
             k.dims.to_string(), " V ", v.dims.to_string(), " output ", y.dims.to_string());
    if (y.numel() == 0) return;
    AttentionArgs a;
    a.q = q.data;
    a.k = k.data;
    a.v = v.data;
    a.out = y.data;
    a.heads = q.dims[2];
    a.sq = q.dims[1];
    a.sk = k.dims[1];
    a.skp = static_cast<int>((a.sk + 15) / 16 * 16);
    a.chain = chain_;
    const Dims scores{q.dims[0], q.dims[2], q.dims[1], k.dims[1]};
    for (int s = 0; s < chain_.steps; ++s) {
      const SoftmaxStep& st = chain_.step[s];
      if (st.scalar) continue;
      const int i = st.input - 1;
      const DeviceTensor& side = ctx.input(2 + st.input);
      LK_CHECK(i >= 0 && i < 2 && side.type == q.type && side.dims.rank() == 4,
               "fused attention at '", ctx.layer_name(), "': chain operand ", st.input, " is ",
               data_type_name(side.type), side.dims.to_string());
      a.side[i] = side.data;
      broadcast_strides(side.dims, scores, a.side_strides[i]);
    }
    if (q.type == DataType::kHALF)
      launch_typed<DataType::kHALF>(ctx, a, q.dims[0], q.dims[3]);
    else
      launch_typed<DataType::kBF16>(ctx, a, q.dims[0], q.dims[3]);
  }

 private:
  SoftmaxChain chain_;
};

}  // namespace

bool fused_attention_takes(DataType t, const Dims& q, const Dims& k, const Dims& v) {
  if (t != DataType::kHALF && t != DataType::kBF16) return false;
  if (q.rank() != 4 || k != v || k.rank() != 4 || !q.is_static() || !k.is_static()) return false;
  const int64_t d = q[3];
  if (k[0] != q[0] || k[2] != q[2] || k[3] != d || (d != 32 && d != 64 && d != 128)) return false;
  if (k[1] < 1 || k[1] > kMaxKeys || q[1] < 1 || q[0] < 1 || q[0] > 65535 || q[2] > 65535)
    return false;
  int device = 0, optin = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) !=
          cudaSuccess)
    return false;
  const int skp = static_cast<int>((k[1] + 15) / 16 * 16);
  return shared_bytes(skp, static_cast<int>(d)) <= static_cast<size_t>(optin);
}

std::unique_ptr<Kernel> make_fused_attention_kernel(const SoftmaxChain& chain) {
  return std::make_unique<AttentionKernel>(chain);
}

}  // namespace layerkit::cuda
