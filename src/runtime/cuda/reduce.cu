// CUDA kernels for the row-wise kinds: Reduce, SoftMax and Normalization (one thread block per
// output row, accumulating in double, integers in int64, as the CPU reference does), TopK (a
// shared-memory sort per row segment) and Cumulative (a running sum per line).
#include <algorithm>
#include <cfloat>

#include "runtime/cuda/device.cuh"

namespace layerkit::cuda {
namespace {

constexpr int kThreads = 256;

// Sums (or max/min) a per-thread value over the block; every thread gets the result.
template <typename T, typename Op>
__device__ T block_reduce(T v, Op op, T* shared) {
  const int lane = threadIdx.x;
  shared[lane] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (lane < s) shared[lane] = op(shared[lane], shared[lane + s]);
    __syncthreads();
  }
  T r = shared[0];
  __syncthreads();
  return r;
}

// Threads per row block: a power of two (block_reduce halves it) from one warp up to kThreads,
// so short rows (a global average pool's 49 elements) do not leave most of the block idle.
unsigned threads_for(int64_t row_len) {
  unsigned t = 32;
  while (t < kThreads && static_cast<int64_t>(t) < row_len) t *= 2;
  return t;
}

// Input offsets of output row `o` (over the kept axes) and of element `j` within a row (over
// the reduced axes), each as an index space with input strides.
struct RowMap {
  int kept_rank = 0, red_rank = 0;
  int64_t kept_dims[kMaxDims] = {}, kept_strides[kMaxDims] = {};
  int64_t red_dims[kMaxDims] = {}, red_strides[kMaxDims] = {};
  int64_t row_len = 1;
  __device__ int64_t row_base(int64_t o) const {
    int64_t off = 0;
    for (int d = kept_rank - 1; d >= 0; --d) {
      off += (o % kept_dims[d]) * kept_strides[d];
      o /= kept_dims[d];
    }
    return off;
  }
  __device__ int64_t element(int64_t j) const {
    int64_t off = 0;
    for (int d = red_rank - 1; d >= 0; --d) {
      off += (j % red_dims[d]) * red_strides[d];
      j /= red_dims[d];
    }
    return off;
  }
};

RowMap row_map(const Dims& dims, AxesMask axes) {
  RowMap m;
  const std::vector<int64_t> strides = dims.strides();
  for (int d = 0; d < dims.rank(); ++d) {
    if (axes & (1u << d)) {
      m.red_dims[m.red_rank] = dims[d];
      m.red_strides[m.red_rank++] = strides[static_cast<size_t>(d)];
      m.row_len *= dims[d];
    } else {
      m.kept_dims[m.kept_rank] = dims[d];
      m.kept_strides[m.kept_rank++] = strides[static_cast<size_t>(d)];
    }
  }
  return m;
}

template <typename T>
struct ReduceOp {
  ReduceOperation op;
  __device__ T operator()(T a, T b) const {
    switch (op) {
      case ReduceOperation::kSUM:
      case ReduceOperation::kAVG:
        if constexpr (std::is_integral_v<T>)
          return static_cast<T>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
        else
          return a + b;
      case ReduceOperation::kPROD:
        if constexpr (std::is_integral_v<T>)
          return static_cast<T>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
        else
          return a * b;
      case ReduceOperation::kMAX:
        if constexpr (!std::is_integral_v<T>)
          if (isnan(a) || isnan(b)) return a + b;
        return a > b ? a : b;
      case ReduceOperation::kMIN:
        if constexpr (!std::is_integral_v<T>)
          if (isnan(a) || isnan(b)) return a + b;
        return a < b ? a : b;
    }
    return a;
  }
  __device__ T identity() const {
    switch (op) {
      case ReduceOperation::kPROD:
        return T(1);
      case ReduceOperation::kMAX:
        if constexpr (std::is_integral_v<T>)
          return INT64_MIN;
        else
          return -INFINITY;
      case ReduceOperation::kMIN:
        if constexpr (std::is_integral_v<T>)
          return INT64_MAX;
        else
          return INFINITY;
      default:
        return T(0);
    }
  }
};

template <typename T>
__global__ void reduce_rows(RowMap m, ReduceOp<T> op, DataType xt, const void* x, DataType yt,
                            void* y) {
  __shared__ T shared[kThreads];
  const int64_t o = blockIdx.x;
  const int64_t base = m.row_base(o);
  T acc = op.identity();
  for (int64_t j = threadIdx.x; j < m.row_len; j += blockDim.x) {
    T v;
    if constexpr (std::is_integral_v<T>)
      v = dev::load_i(xt, x, base + m.element(j));
    else
      v = static_cast<double>(dev::load_f(xt, x, base + m.element(j)));
    acc = op(acc, v);
  }
  acc = block_reduce(acc, op, shared);
  if (threadIdx.x == 0) {
    if (op.op == ReduceOperation::kAVG) acc = acc / static_cast<T>(m.row_len);
    if constexpr (std::is_integral_v<T>)
      dev::store_i(yt, y, o, acc);
    else
      dev::store_f(yt, y, o, static_cast<float>(acc));
  }
}

class ReduceKernel final : public Kernel {
 public:
  explicit ReduceKernel(const ReduceAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    if (x.numel() == 0 && y.numel() > 0 &&
        (a_.op == ReduceOperation::kMAX || a_.op == ReduceOperation::kMIN))
      LK_FAIL(kRUNTIME, "Reduce layer '", ctx.layer_name(), "': ", enum_name(a_.op),
              " over zero elements (input ", x.dims.to_string(), ") has no value");
    const int64_t rows = y.numel();
    if (rows == 0) return;
    RowMap m = row_map(x.dims, a_.axes);
    if (x.numel() == 0) m.row_len = 0;
    LK_CHECK(rows <= INT32_MAX, "Reduce layer '", ctx.layer_name(), "': ", rows, " rows");
    if (is_floating(x.type)) {
      reduce_rows<double><<<static_cast<unsigned>(rows), threads_for(m.row_len), 0, ctx.stream()>>>(
          m, ReduceOp<double>{a_.op}, x.type, x.data, y.type, y.data);
    } else {
      reduce_rows<int64_t>
          <<<static_cast<unsigned>(rows), threads_for(m.row_len), 0, ctx.stream()>>>(
              m, ReduceOp<int64_t>{a_.op}, x.type, x.data, y.type, y.data);
    }
    LK_CUDA(cudaGetLastError(), ctx.layer_name());
  }

 private:
  ReduceAttrs a_;
};

struct MaxF {
  __device__ float operator()(float a, float b) const { return a > b ? a : b; }
};
struct SumD {
  __device__ double operator()(double a, double b) const { return a + b; }
};

__global__ void softmax_rows(RowMap m, DataType xt, const void* x, DataType yt, void* y) {
  __shared__ float sf[kThreads];
  __shared__ double sd[kThreads];
  const int64_t base = m.row_base(blockIdx.x);
  float mx = -INFINITY;
  for (int64_t j = threadIdx.x; j < m.row_len; j += blockDim.x)
    mx = fmaxf(mx, dev::load_f(xt, x, base + m.element(j)));
  mx = block_reduce(mx, MaxF{}, sf);
  double sum = 0.0;
  for (int64_t j = threadIdx.x; j < m.row_len; j += blockDim.x)
    sum += exp(static_cast<double>(dev::load_f(xt, x, base + m.element(j))) - mx);
  sum = block_reduce(sum, SumD{}, sd);
  for (int64_t j = threadIdx.x; j < m.row_len; j += blockDim.x) {
    const int64_t off = base + m.element(j);
    dev::store_f(yt, y, off,
                 static_cast<float>(exp(static_cast<double>(dev::load_f(xt, x, off)) - mx) / sum));
  }
}

// Last-axis softmax and layer norm run one warp per row (kRowWarps rows per block), the row
// in registers: one read and one write of the row, statistics by warp shuffles in fp32. (The
// generic block kernels above read the row three times and accumulate in double: at GPT-2's
// attention rows SoftMax was the slowest kernel of the model.)
constexpr int kRowWarps = 4;

// The softmax chain kernel (Note [Softmax prologue]; with no steps, the plain last-axis softmax):
// up to three operands (root and two sides), each addressed by broadcast strides against the
// output; one warp per row, the row in registers when it fits (kPer > 0), else three passes that
// recompute the prologue (kPer == 0). NaN and infinity propagate as in the generic kernel: the
// max skips NaN, exp(NaN) poisons the sum, so a row with a NaN is all NaN.
struct ChainArgs {
  int rank = 0;
  int64_t dims[kMaxDims] = {};
  const void* ptr[3] = {};
  int64_t strides[3][kMaxDims] = {};
  int operands = 1;
  SoftmaxChain chain;
};

template <DataType T>
__device__ inline float chain_value(const ChainArgs& a, const int64_t (&base)[3],
                                    const int64_t (&last)[3], int j) {
  float v = dev::load_f(T, a.ptr[0], base[0] + j * last[0]);
  for (int s = 0; s < a.chain.steps; ++s) {
    const SoftmaxStep& st = a.chain.step[s];
    const float side =
        st.scalar ? st.value : dev::load_f(T, a.ptr[st.input], base[st.input] + j * last[st.input]);
    v = dev::round_to<T>(st.side_first ? dev::chain_step(st.op, side, v)
                                       : dev::chain_step(st.op, v, side));
  }
  return v;
}

template <DataType T, int kPer>
__global__ void softmax_chain_rows(ChainArgs a, void* y, int64_t rows, int len) {
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowWarps + threadIdx.x / 32;
  if (row >= rows) return;
  int64_t base[3] = {0, 0, 0}, last[3] = {0, 0, 0};
  int64_t r = row;
  for (int d = a.rank - 2; d >= 0; --d) {
    const int64_t i = r % a.dims[d];
    r /= a.dims[d];
    for (int k = 0; k < a.operands; ++k) base[k] += i * a.strides[k][d];
  }
  for (int k = 0; k < a.operands; ++k) last[k] = a.strides[k][a.rank - 1];
  const int64_t out = row * len;
  if constexpr (kPer > 0) {
    float v[kPer];
    float mx = -INFINITY;
#pragma unroll
    for (int i = 0; i < kPer; ++i) {
      const int j = lane + i * 32;
      v[i] = j < len ? chain_value<T>(a, base, last, j) : -INFINITY;
      mx = fmaxf(mx, v[i]);
    }
    for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    float sum = 0.0f;
#pragma unroll
    for (int i = 0; i < kPer; ++i)
      if (lane + i * 32 < len) {
        v[i] = expf(v[i] - mx);
        sum += v[i];
      }
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
#pragma unroll
    for (int i = 0; i < kPer; ++i) {
      const int j = lane + i * 32;
      if (j < len) dev::store_f(T, y, out + j, __fdiv_rn(v[i], sum));
    }
  } else {
    float mx = -INFINITY;
    for (int j = lane; j < len; j += 32) mx = fmaxf(mx, chain_value<T>(a, base, last, j));
    for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    float sum = 0.0f;
    for (int j = lane; j < len; j += 32) sum += expf(chain_value<T>(a, base, last, j) - mx);
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    for (int j = lane; j < len; j += 32)
      dev::store_f(T, y, out + j, __fdiv_rn(expf(chain_value<T>(a, base, last, j) - mx), sum));
  }
}

template <DataType T>
void launch_softmax_chain(const LaunchCtx& ctx, const ChainArgs& a, void* y, int64_t rows,
                          int len) {
  const unsigned blocks = static_cast<unsigned>((rows + kRowWarps - 1) / kRowWarps);
  const unsigned threads = 32 * kRowWarps;
  const int per = (len + 31) / 32;
  if (per <= 1)
    softmax_chain_rows<T, 1><<<blocks, threads, 0, ctx.stream()>>>(a, y, rows, len);
  else if (per <= 4)
    softmax_chain_rows<T, 4><<<blocks, threads, 0, ctx.stream()>>>(a, y, rows, len);
  else if (per <= 8)
    softmax_chain_rows<T, 8><<<blocks, threads, 0, ctx.stream()>>>(a, y, rows, len);
  else if (per <= 16)
    softmax_chain_rows<T, 16><<<blocks, threads, 0, ctx.stream()>>>(a, y, rows, len);
  else if (per <= 32)
    softmax_chain_rows<T, 32><<<blocks, threads, 0, ctx.stream()>>>(a, y, rows, len);
  else
    softmax_chain_rows<T, 0><<<blocks, threads, 0, ctx.stream()>>>(a, y, rows, len);
}

class SoftmaxChainKernel final : public Kernel {
 public:
  explicit SoftmaxChainKernel(const SoftmaxChain& chain) : chain_(chain) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& y = ctx.output(0);
    if (y.numel() == 0) return;
    ChainArgs a;
    a.chain = chain_;
    a.rank = y.dims.rank();
    for (int d = 0; d < a.rank; ++d) a.dims[d] = y.dims[d];
    a.operands = 1;
    for (int s = 0; s < chain_.steps; ++s)
      if (!chain_.step[s].scalar) a.operands = std::max(a.operands, chain_.step[s].input + 1);
    for (int k = 0; k < a.operands; ++k) {
      const DeviceTensor& t = ctx.input(k);
      LK_CHECK(t.type == y.type && t.dims.rank() == a.rank, "SoftMax layer '", ctx.layer_name(),
               "': fused operand ", k, " is ", data_type_name(t.type), t.dims.to_string(),
               " against the output ", data_type_name(y.type), y.dims.to_string());
      a.ptr[k] = t.data;
      broadcast_strides(t.dims, y.dims, a.strides[k]);
    }
    const int64_t len = y.dims[a.rank - 1];
    const int64_t rows = y.numel() / len;
    LK_CHECK(len <= INT32_MAX && rows / kRowWarps < INT32_MAX, "SoftMax layer '", ctx.layer_name(),
             "': ", rows, " rows of ", len);
    if (y.type == DataType::kFLOAT)
      launch_softmax_chain<DataType::kFLOAT>(ctx, a, y.data, rows, static_cast<int>(len));
    else if (y.type == DataType::kHALF)
      launch_softmax_chain<DataType::kHALF>(ctx, a, y.data, rows, static_cast<int>(len));
    else
      launch_softmax_chain<DataType::kBF16>(ctx, a, y.data, rows, static_cast<int>(len));
    LK_CUDA(cudaGetLastError(), ctx.layer_name());
  }

 private:
  SoftmaxChain chain_;
};

class SoftMaxKernel final : public Kernel {
 public:
  explicit SoftMaxKernel(AxesMask axes) : axes_(axes) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    if (x.numel() == 0) return;
    const int rank = x.dims.rank();
    int axis = rank - 1;
    for (int d = 0; d < rank; ++d)
      if (axes_ & (1u << d)) axis = d;
    RowMap m = row_map(x.dims, AxesMask{1u} << axis);
    const int64_t rows = x.numel() / m.row_len;
    const DataType t = x.type;
    const bool typed = t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
    if (typed && t == y.type && axis == rank - 1 && m.row_len <= 32 * 32 &&
        rows / kRowWarps < INT32_MAX) {
      // The softmax chain kernel with no steps: the row as it is.
      ChainArgs args;
      args.rank = rank;
      for (int d = 0; d < rank; ++d) args.dims[d] = x.dims[d];
      args.ptr[0] = x.data;
      broadcast_strides(x.dims, x.dims, args.strides[0]);
      const int len = static_cast<int>(m.row_len);
      if (t == DataType::kFLOAT)
        launch_softmax_chain<DataType::kFLOAT>(ctx, args, y.data, rows, len);
      else if (t == DataType::kHALF)
        launch_softmax_chain<DataType::kHALF>(ctx, args, y.data, rows, len);
      else
        launch_softmax_chain<DataType::kBF16>(ctx, args, y.data, rows, len);
      LK_CUDA(cudaGetLastError(), ctx.layer_name());
      return;
    }
    softmax_rows<<<static_cast<unsigned>(rows), threads_for(m.row_len), 0, ctx.stream()>>>(
        m, x.type, x.data, y.type, y.data);
    LK_CUDA(cudaGetLastError(), ctx.layer_name());
  }

 private:
  AxesMask axes_;
};

// Normalization: one block per statistic. The statistic's index space is the data's with the
// normalized axes collapsed (and axis 1 split into groups); its elements are the normalized axes
// plus, with groups, the channels of one group.
struct NormMap {
  int rank = 0;
  int64_t dims[kMaxDims] = {}, strides[kMaxDims] = {};
  uint32_t axes = 0;
  int64_t groups = 1, cpg = 1;
  int64_t stat_dims[kMaxDims] = {};
  int64_t count = 1;
  int scale_rank = 0, bias_rank = 0;
  int64_t scale_dims[kMaxDims] = {}, bias_dims[kMaxDims] = {};
  // Full data index of element j of statistic s.
  __device__ void index(int64_t s, int64_t j, int64_t (&idx)[kMaxDims]) const {
    for (int d = rank - 1; d >= 0; --d) {
      idx[d] = s % stat_dims[d];
      s /= stat_dims[d];
    }
    for (int d = rank - 1; d >= 0; --d) {
      if (axes & (1u << d)) {
        idx[d] = j % dims[d];
        j /= dims[d];
      }
    }
    if (groups > 1 && !(axes & 2u)) {
      idx[1] = idx[1] * cpg + j % cpg;
    }
  }
  __device__ int64_t offset(const int64_t (&idx)[kMaxDims]) const {
    int64_t off = 0;
    for (int d = 0; d < rank; ++d) off += idx[d] * strides[d];
    return off;
  }
  __device__ int64_t affine(const int64_t* p, int prank, const int64_t (&idx)[kMaxDims]) const {
    int64_t off = 0;
    for (int d = 0; d < prank; ++d) {
      int64_t i = idx[d];
      if (p[d] == 1) {
        i = 0;
      } else if (d == 1 && groups > 1 && p[d] == groups && cpg != 1) {
        i /= cpg;
      }
      off = off * p[d] + i;
    }
    return off;
  }
};

__global__ void normalize(NormMap m, float eps, DataType xt, const void* x, DataType st,
                          const void* scale, DataType bt, const void* bias, DataType yt, void* y) {
  __shared__ double sd[kThreads];
  const int64_t s = blockIdx.x;
  int64_t idx[kMaxDims];
  double sum = 0.0;
  for (int64_t j = threadIdx.x; j < m.count; j += blockDim.x) {
    m.index(s, j, idx);
    sum += dev::load_f(xt, x, m.offset(idx));
  }
  const double mean = block_reduce(sum, SumD{}, sd) / static_cast<double>(m.count);
  double sq = 0.0;
  for (int64_t j = threadIdx.x; j < m.count; j += blockDim.x) {
    m.index(s, j, idx);
    const double dv = dev::load_f(xt, x, m.offset(idx)) - mean;
    sq += dv * dv;
  }
  const double var = block_reduce(sq, SumD{}, sd) / static_cast<double>(m.count);
  const double rstd = 1.0 / sqrt(var + static_cast<double>(eps));
  for (int64_t j = threadIdx.x; j < m.count; j += blockDim.x) {
    m.index(s, j, idx);
    const int64_t off = m.offset(idx);
    const double g = dev::load_f(st, scale, m.affine(m.scale_dims, m.scale_rank, idx));
    const double b = dev::load_f(bt, bias, m.affine(m.bias_dims, m.bias_rank, idx));
    dev::store_f(yt, y, off, static_cast<float>((dev::load_f(xt, x, off) - mean) * rstd * g + b));
  }
}

// Layer norm over the last axis of one float type T in and out, rows of at most 32 * kPer
// elements, scale and bias each one value or one per element of the row: one warp per row holds
// the row in registers, so mean and variance are two exact passes over registers (fp32, the
// variance from the centred values) and the row is read once. The generic kernel above reads it
// three times through a full index computation per element.
template <DataType T, int kPer>
__global__ void layer_norm_last_axis(const void* x, void* y, int64_t rows, int len, float eps,
                                     DataType st, const void* scale, bool scale_per_element,
                                     DataType bt, const void* bias, bool bias_per_element) {
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowWarps + threadIdx.x / 32;
  if (row >= rows) return;
  const int64_t base = row * len;
  float v[kPer];
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < kPer; ++i) {
    const int j = lane + i * 32;
    v[i] = j < len ? dev::load_f(T, x, base + j) : 0.0f;
    sum += v[i];
  }
  for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
  const float mean = sum / static_cast<float>(len);
  float sq = 0.0f;
#pragma unroll
  for (int i = 0; i < kPer; ++i)
    if (lane + i * 32 < len) {
      const float d = v[i] - mean;
      sq += d * d;
    }
  for (int o = 16; o > 0; o >>= 1) sq += __shfl_xor_sync(0xffffffffu, sq, o);
  const float rstd = rsqrtf(sq / static_cast<float>(len) + eps);
#pragma unroll
  for (int i = 0; i < kPer; ++i) {
    const int j = lane + i * 32;
    if (j >= len) continue;
    const float g = dev::load_f(st, scale, scale_per_element ? j : 0);
    const float b = dev::load_f(bt, bias, bias_per_element ? j : 0);
    dev::store_f(T, y, base + j, (v[i] - mean) * rstd * g + b);
  }
}

template <DataType T>
void launch_layer_norm_last_axis(const LaunchCtx& ctx, const DeviceTensor& x, const DeviceTensor& y,
                                 const DeviceTensor& scale, const DeviceTensor& bias, float eps) {
  const int len = static_cast<int>(x.dims[x.dims.rank() - 1]);
  const int64_t rows = x.numel() / len;
  const unsigned blocks = static_cast<unsigned>((rows + kRowWarps - 1) / kRowWarps);
  const unsigned threads = 32 * kRowWarps;
  const bool sp = scale.numel() > 1, bp = bias.numel() > 1;
  const int per = (len + 31) / 32;
#define LK_LAYER_NORM(P)                                            \
  layer_norm_last_axis<T, P><<<blocks, threads, 0, ctx.stream()>>>( \
      x.data, y.data, rows, len, eps, scale.type, scale.data, sp, bias.type, bias.data, bp)
  if (per <= 2)
    LK_LAYER_NORM(2);
  else if (per <= 4)
    LK_LAYER_NORM(4);
  else if (per <= 8)
    LK_LAYER_NORM(8);
  else if (per <= 16)
    LK_LAYER_NORM(16);
  else if (per <= 24)
    LK_LAYER_NORM(24);
  else
    LK_LAYER_NORM(32);
#undef LK_LAYER_NORM
}

// Whether a parameter of a last-axis layer norm over rows of `len` is one value, or one per
// element of the row (leading dims all 1): the shapes the warp kernel reads directly.
bool row_parameter(const Dims& p, int64_t len) {
  if (p.volume() == 1) return true;
  for (int d = 0; d + 1 < p.rank(); ++d)
    if (p[d] != 1) return false;
  return p.rank() >= 1 && p[p.rank() - 1] == len;
}

class NormalizationKernel final : public Kernel {
 public:
  explicit NormalizationKernel(const NormalizationAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& scale = ctx.input(1);
    const DeviceTensor& bias = ctx.input(2);
    const DeviceTensor& y = ctx.output(0);
    if (x.numel() == 0) return;
    const int rank = x.dims.rank();
    const DataType t = x.type;
    const bool typed = t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
    const int64_t len = x.dims[rank - 1];
    if (typed && t == y.type && a_.num_groups == 1 && a_.axes == (AxesMask{1u} << (rank - 1)) &&
        len <= 32 * 32 && row_parameter(scale.dims, len) && row_parameter(bias.dims, len) &&
        x.numel() / len / kRowWarps < INT32_MAX) {
      if (t == DataType::kFLOAT)
        launch_layer_norm_last_axis<DataType::kFLOAT>(ctx, x, y, scale, bias, a_.epsilon);
      else if (t == DataType::kHALF)
        launch_layer_norm_last_axis<DataType::kHALF>(ctx, x, y, scale, bias, a_.epsilon);
      else
        launch_layer_norm_last_axis<DataType::kBF16>(ctx, x, y, scale, bias, a_.epsilon);
      LK_CUDA(cudaGetLastError(), ctx.layer_name());
      return;
    }
    NormMap m;
    m.rank = x.dims.rank();
    m.axes = a_.axes;
    m.groups = a_.num_groups;
    m.cpg = m.groups > 1 ? x.dims[1] / m.groups : 1;
    const std::vector<int64_t> strides = x.dims.strides();
    int64_t stats = 1;
    for (int d = 0; d < m.rank; ++d) {
      m.dims[d] = x.dims[d];
      m.strides[d] = strides[static_cast<size_t>(d)];
      m.stat_dims[d] = (a_.axes & (1u << d)) ? 1 : x.dims[d];
      if (a_.axes & (1u << d)) m.count *= x.dims[d];
    }
    if (m.groups > 1) {
      m.stat_dims[1] = m.groups;
      if (!(a_.axes & 2u)) m.count *= m.cpg;
    }
    for (int d = 0; d < m.rank; ++d) stats *= m.stat_dims[d];
    m.scale_rank = scale.dims.rank();
    m.bias_rank = bias.dims.rank();
    for (int d = 0; d < m.scale_rank; ++d) m.scale_dims[d] = scale.dims[d];
    for (int d = 0; d < m.bias_rank; ++d) m.bias_dims[d] = bias.dims[d];
    normalize<<<static_cast<unsigned>(stats), kThreads, 0, ctx.stream()>>>(
        m, a_.epsilon, x.type, x.data, scale.type, scale.data, bias.type, bias.data, y.type,
        y.data);
    LK_CUDA(cudaGetLastError(), ctx.layer_name());
  }

 private:
  NormalizationAttrs a_;
};

// Note [TopK order]
// The CPU reference sorts by a strict total order: NaN counts as the largest value, -0 equals +0,
// and equal values go to the lower index. Each element becomes a (key, index) pair whose
// lexicographic ascending order is exactly that order (for kMIN) or its value-reversed form (for
// kMAX), so every pair is distinct and any correct sort picks the same k elements in the same
// order as std::partial_sort does there. Values are read back from the input by index, so a
// kept -0 or NaN payload is the input's own.
constexpr uint64_t kSentinelKey = UINT64_MAX;
constexpr uint32_t kSentinelIndex = UINT32_MAX;  // sorts after every real index (n < 2^32 - 1)

__device__ uint64_t topk_key(DataType t, const void* x, int64_t off, bool largest) {
  uint64_t ord;
  if (dev::is_floating(t)) {
    const float f = dev::load_f(t, x, off);
    uint32_t o;
    if (isnan(f)) {
      o = 0xFFFFFFFFu;
    } else {
      const uint32_t b = f == 0.0f ? 0u : __float_as_uint(f);
      o = (b & 0x80000000u) ? ~b : (b | 0x80000000u);  // monotone in the value
    }
    ord = o;
  } else {
    ord = static_cast<uint64_t>(dev::load_i(t, x, off)) ^ (uint64_t{1} << 63);
  }
  return largest ? ~ord : ord;
}

// One TopK pass: block b sorts segment b % segments of row b / segments. Row r is the line
// (outer r / inner, inner r % inner) of the input along the axis; the source is the input itself
// (first pass) or the candidates of the previous pass, [rows][len] pairs.
struct TopKPass {
  int64_t rows = 0, inner = 1, n = 0;  // the input's geometry (n: the axis length)
  int64_t len = 0;                     // this pass's row length
  int64_t segments = 1;
  int p = 1;      // segment capacity, a power of 2
  int64_t k = 1;  // pairs kept per segment
  bool largest = true;
  DataType xt = DataType::kFLOAT;
  const void* x = nullptr;
  const uint64_t* src_key = nullptr;  // null: read the input
  const uint32_t* src_idx = nullptr;
  uint64_t* dst_key = nullptr;  // null: the last pass writes the outputs
  uint32_t* dst_idx = nullptr;
  DataType vt = DataType::kFLOAT, it = DataType::kINT32;
  void* values = nullptr;
  void* indices = nullptr;
};

__global__ void topk_pass(TopKPass a) {
  extern __shared__ uint64_t shared_keys[];
  uint64_t* keys = shared_keys;
  uint32_t* idxs = reinterpret_cast<uint32_t*>(keys + a.p);
  const int64_t row = static_cast<int64_t>(blockIdx.x) / a.segments;
  const int64_t seg = static_cast<int64_t>(blockIdx.x) % a.segments;
  const int64_t outer = row / a.inner, in = row % a.inner;
  const int64_t begin = seg * a.p;
  for (int i = threadIdx.x; i < a.p; i += blockDim.x) {
    const int64_t j = begin + i;
    if (j >= a.len) {
      keys[i] = kSentinelKey;
      idxs[i] = kSentinelIndex;
    } else if (a.src_key) {
      keys[i] = a.src_key[row * a.len + j];
      idxs[i] = a.src_idx[row * a.len + j];
    } else {
      keys[i] = topk_key(a.xt, a.x, (outer * a.n + j) * a.inner + in, a.largest);
      idxs[i] = static_cast<uint32_t>(j);
    }
  }
  __syncthreads();
  // Bitonic sort of the p pairs, ascending.
  for (int size = 2; size <= a.p; size <<= 1) {
    for (int stride = size >> 1; stride > 0; stride >>= 1) {
      for (int t = threadIdx.x; t < a.p / 2; t += blockDim.x) {
        const int i = 2 * t - (t & (stride - 1));
        const int j = i + stride;
        const bool up = (i & size) == 0;
        const bool j_first = keys[j] < keys[i] || (keys[j] == keys[i] && idxs[j] < idxs[i]);
        if (j_first == up) {
          const uint64_t kk = keys[i];
          keys[i] = keys[j];
          keys[j] = kk;
          const uint32_t ii = idxs[i];
          idxs[i] = idxs[j];
          idxs[j] = ii;
        }
      }
      __syncthreads();
    }
  }
  for (int64_t j = threadIdx.x; j < a.k; j += blockDim.x) {
    if (a.dst_key) {
      const int64_t dst = (row * a.segments + seg) * a.k + j;
      a.dst_key[dst] = keys[j];
      a.dst_idx[dst] = idxs[j];
    } else {
      const int64_t pick = idxs[j];
      const int64_t src = (outer * a.n + pick) * a.inner + in;
      const int64_t dst = (outer * a.k + j) * a.inner + in;
      if (dev::is_floating(a.xt))
        dev::store_f(a.vt, a.values, dst, dev::load_f(a.xt, a.x, src));
      else
        dev::store_i(a.vt, a.values, dst, dev::load_i(a.xt, a.x, src));
      dev::store_i(a.it, a.indices, dst, pick);
    }
  }
}

int pow2_at_least(int64_t n) {
  int p = 1;
  while (p < n) p <<= 1;
  return p;
}

class TopKKernel final : public Kernel {
 public:
  // A segment of up to 8192 pairs (96 KiB of shared memory) is sorted by one block; longer rows
  // are cut into segments whose best k survive to the next pass.
  static constexpr int kMaxSegment = 8192;

  explicit TopKKernel(const TopKAttrs& a) : a_(a) {}

  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& values = ctx.output(0);
    const DeviceTensor& indices = ctx.output(1);
    if (values.numel() == 0) return;
    int axis = 0;
    while (!(a_.axes & (1u << axis))) ++axis;
    TopKPass pass;
    pass.n = x.dims[axis];
    pass.k = values.dims[axis];
    int64_t outer = 1;
    for (int d = 0; d < axis; ++d) outer *= x.dims[d];
    for (int d = axis + 1; d < x.dims.rank(); ++d) pass.inner *= x.dims[d];
    pass.rows = outer * pass.inner;
    pass.largest = a_.op == TopKOperation::kMAX;
    pass.xt = x.type;
    pass.x = x.data;
    pass.vt = values.type;
    pass.it = indices.type;
    pass.values = values.data;
    pass.indices = indices.data;
    pass.len = pass.n;
    LK_CUDA(cudaFuncSetAttribute(topk_pass, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 kMaxSegment * 12),
            ctx.layer_name());
    // Segments of max(4096, 2k) keep at most half of each pass, so the passes shrink the rows
    // geometrically until one segment holds a whole row.
    const int seg = std::max(4096, pow2_at_least(2 * pass.k));
    uint64_t* keys[2] = {nullptr, nullptr};
    uint32_t* idxs[2] = {nullptr, nullptr};
    int buf = 0;
    while (pass.len > kMaxSegment) {
      pass.p = seg;
      pass.segments = (pass.len + seg - 1) / seg;
      const int64_t pairs = pass.rows * pass.segments * pass.k;
      if (!keys[buf]) {
        keys[buf] = static_cast<uint64_t*>(ctx.scratch(static_cast<size_t>(pairs) * 8));
        idxs[buf] = static_cast<uint32_t*>(ctx.scratch(static_cast<size_t>(pairs) * 4));
      }
      pass.dst_key = keys[buf];
      pass.dst_idx = idxs[buf];
      launch(ctx, pass);
      pass.src_key = keys[buf];
      pass.src_idx = idxs[buf];
      pass.len = pass.segments * pass.k;
      buf ^= 1;
    }
    pass.p = pow2_at_least(pass.len);
    pass.segments = 1;
    pass.dst_key = nullptr;
    pass.dst_idx = nullptr;
    launch(ctx, pass);
  }

 private:
  static void launch(const LaunchCtx& ctx, const TopKPass& pass) {
    const int64_t blocks = pass.rows * pass.segments;
    LK_CHECK(blocks <= INT32_MAX, "TopK layer '", ctx.layer_name(), "': ", blocks, " blocks");
    const int threads = std::clamp(pass.p / 2, 32, 1024);
    topk_pass<<<static_cast<unsigned>(blocks), threads, static_cast<size_t>(pass.p) * 12,
                ctx.stream()>>>(pass);
    LK_CUDA(cudaGetLastError(), ctx.layer_name());
  }

  TopKAttrs a_;
};

// Cumulative: lines along the axis. One thread per line adds in the CPU reference's order and
// accumulator type (double for float32, float for 16-bit floats, wrapping int64 for integers),
// so the results are the reference's bit for bit. Few long lines instead take one block each,
// scanning chunks of the block's width; that reassociates the sum, which is exact for integers
// and for float32 differs from the sequential double sum only far below float32 rounding, so
// 16-bit floats (accumulated in float) always take the sequential form.
struct ScanLines {
  int64_t lines = 0, inner = 1, n = 0;
  bool exclusive = false, reverse = false;
  DataType xt = DataType::kFLOAT, yt = DataType::kFLOAT;
  const void* x = nullptr;
  void* y = nullptr;
  __device__ int64_t offset(int64_t line, int64_t k) const {
    const int64_t pos = reverse ? n - 1 - k : k;
    return ((line / inner) * n + pos) * inner + line % inner;
  }
};

template <typename Acc>
__device__ Acc scan_load(DataType t, const void* x, int64_t i) {
  if constexpr (std::is_integral_v<Acc>)
    return dev::load_i(t, x, i);
  else
    return static_cast<Acc>(dev::load_f(t, x, i));
}
template <typename Acc>
__device__ void scan_store(DataType t, void* y, int64_t i, Acc v) {
  if constexpr (std::is_integral_v<Acc>)
    dev::store_i(t, y, i, v);
  else
    dev::store_f(t, y, i, static_cast<float>(v));
}
template <typename Acc>
__device__ Acc scan_add(Acc a, Acc b) {
  if constexpr (std::is_integral_v<Acc>)
    return static_cast<Acc>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  else
    return a + b;
}

template <typename Acc>
__global__ void scan_per_thread(ScanLines s) {
  const int64_t line = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (line >= s.lines) return;
  Acc sum = 0;
  for (int64_t k = 0; k < s.n; ++k) {
    const int64_t off = s.offset(line, k);
    const Acc v = scan_load<Acc>(s.xt, s.x, off);
    if (!s.exclusive) sum = scan_add(sum, v);
    scan_store<Acc>(s.yt, s.y, off, sum);
    if (s.exclusive) sum = scan_add(sum, v);
  }
}

template <typename Acc>
__global__ void scan_per_block(ScanLines s) {
  __shared__ Acc part[kThreads];
  const int64_t line = blockIdx.x;
  const int t = threadIdx.x;
  Acc carry = 0;
  for (int64_t base = 0; base < s.n; base += kThreads) {
    const int64_t k = base + t;
    const int64_t off = k < s.n ? s.offset(line, k) : 0;
    const Acc v = k < s.n ? scan_load<Acc>(s.xt, s.x, off) : Acc(0);
    part[t] = v;
    __syncthreads();
    // Inclusive Hillis-Steele scan of the chunk.
    for (int d = 1; d < kThreads; d <<= 1) {
      const Acc add = t >= d ? part[t - d] : Acc(0);
      __syncthreads();
      part[t] = scan_add(part[t], add);
      __syncthreads();
    }
    if (k < s.n) {
      const Acc before = s.exclusive ? (t > 0 ? part[t - 1] : Acc(0)) : part[t];
      scan_store<Acc>(s.yt, s.y, off, s.exclusive && t == 0 ? carry : scan_add(carry, before));
    }
    carry = scan_add(carry, part[kThreads - 1]);
    __syncthreads();
  }
}

class CumulativeKernel final : public Kernel {
 public:
  explicit CumulativeKernel(const CumulativeAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    if (x.numel() == 0) return;
    const int rank = x.dims.rank();
    const int axis = a_.axis < 0 ? a_.axis + rank : a_.axis;
    ScanLines s;
    s.n = x.dims[axis];
    for (int d = axis + 1; d < rank; ++d) s.inner *= x.dims[d];
    s.lines = x.numel() / s.n;
    s.exclusive = a_.exclusive;
    s.reverse = a_.reverse;
    s.xt = x.type;
    s.yt = y.type;
    s.x = x.data;
    s.y = y.data;
    const bool sixteen = x.type == DataType::kHALF || x.type == DataType::kBF16;
    // Per block when the lines are too few to fill the device and long enough to pay for it.
    const bool per_block = !sixteen && s.lines < 2048 && s.n >= 4 * kThreads;
    LK_CHECK(s.lines <= INT32_MAX, "Cumulative layer '", ctx.layer_name(), "': ", s.lines,
             " lines");
    const auto line_blocks = static_cast<unsigned>((s.lines + kThreads - 1) / kThreads);
    if (x.type == DataType::kFLOAT) {
      if (per_block)
        scan_per_block<double><<<static_cast<unsigned>(s.lines), kThreads, 0, ctx.stream()>>>(s);
      else
        scan_per_thread<double><<<line_blocks, kThreads, 0, ctx.stream()>>>(s);
    } else if (sixteen) {
      scan_per_thread<float><<<line_blocks, kThreads, 0, ctx.stream()>>>(s);
    } else if (per_block) {
      scan_per_block<int64_t><<<static_cast<unsigned>(s.lines), kThreads, 0, ctx.stream()>>>(s);
    } else {
      scan_per_thread<int64_t><<<line_blocks, kThreads, 0, ctx.stream()>>>(s);
    }
    LK_CUDA(cudaGetLastError(), ctx.layer_name());
  }

 private:
  CumulativeAttrs a_;
};

}  // namespace

std::unique_ptr<Kernel> make_softmax_chain_kernel(const SoftmaxChain& chain) {
  return std::make_unique<SoftmaxChainKernel>(chain);
}

std::vector<KernelEntry> reduce_kernels(LayerKind kind) {
  switch (kind) {
    case LayerKind::kREDUCE:
      return {{"row reduction", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 if (p.output(0).numel() > INT32_MAX) return nullptr;
                 return std::make_unique<ReduceKernel>(p.as<ReduceAttrs>());
               }}};
    case LayerKind::kSOFTMAX:
      return {{"row softmax", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 if (p.output(0).numel() / std::max<int64_t>(1, p.input(0).dims.rank() ? 1 : 1) >
                     int64_t{INT32_MAX} * 256)
                   return nullptr;
                 return std::make_unique<SoftMaxKernel>(p.as<SoftMaxAttrs>().axes);
               }}};
    case LayerKind::kNORMALIZATION:
      return {{"row normalization", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 const NormalizationAttrs& a = p.as<NormalizationAttrs>();
                 // With groups, the channel axis is split: only when it is not normalized whole.
                 if (a.num_groups > 1 &&
                     (p.input(0).dims.rank() < 2 || p.input(0).dims[1] % a.num_groups != 0))
                   return nullptr;
                 return std::make_unique<NormalizationKernel>(a);
               }}};
    case LayerKind::kTOPK:
      return {{"segment sort", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 const TopKAttrs& a = p.as<TopKAttrs>();
                 int axis = 0;
                 while (axis < p.input(0).dims.rank() && !(a.axes & (1u << axis))) ++axis;
                 // Indices travel as 32-bit values (Note [TopK order]).
                 if (axis == p.input(0).dims.rank() || p.input(0).dims[axis] >= kSentinelIndex)
                   return nullptr;
                 return std::make_unique<TopKKernel>(a);
               }}};
    case LayerKind::kCUMULATIVE:
      return {{"line scan", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 return std::make_unique<CumulativeKernel>(p.as<CumulativeAttrs>());
               }}};
    case LayerKind::kINPUT:
    case LayerKind::kCONSTANT:
    case LayerKind::kIDENTITY:
    case LayerKind::kCAST:
    case LayerKind::kELEMENTWISE:
    case LayerKind::kUNARY:
    case LayerKind::kACTIVATION:
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
    case LayerKind::kRESIZE:
    case LayerKind::kGRID_SAMPLE:
    case LayerKind::kPADDING:
    case LayerKind::kSCALE:
    case LayerKind::kSELECT:
    case LayerKind::kPARAMETRIC_RELU:
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
