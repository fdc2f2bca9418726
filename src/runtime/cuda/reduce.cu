// CUDA kernels for the row-wise kinds: Reduce, SoftMax and Normalization, one thread block per
// output row, accumulating in double (integers in int64) as the CPU reference does.
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
  void run(LaunchCtx& ctx) override {
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
      reduce_rows<double><<<static_cast<unsigned>(rows), kThreads, 0, ctx.stream()>>>(
          m, ReduceOp<double>{a_.op}, x.type, x.data, y.type, y.data);
    } else {
      reduce_rows<int64_t><<<static_cast<unsigned>(rows), kThreads, 0, ctx.stream()>>>(
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

class SoftMaxKernel final : public Kernel {
 public:
  explicit SoftMaxKernel(AxesMask axes) : axes_(axes) {}
  void run(LaunchCtx& ctx) override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    if (x.numel() == 0) return;
    const int rank = x.dims.rank();
    int axis = rank - 1;
    for (int d = 0; d < rank; ++d)
      if (axes_ & (1u << d)) axis = d;
    RowMap m = row_map(x.dims, AxesMask{1u} << axis);
    const int64_t rows = x.numel() / m.row_len;
    softmax_rows<<<static_cast<unsigned>(rows), kThreads, 0, ctx.stream()>>>(m, x.type, x.data,
                                                                             y.type, y.data);
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
    dev::store_f(yt, y, off,
                 static_cast<float>((dev::load_f(xt, x, off) - mean) * rstd * g + b));
  }
}

class NormalizationKernel final : public Kernel {
 public:
  explicit NormalizationKernel(const NormalizationAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& scale = ctx.input(1);
    const DeviceTensor& bias = ctx.input(2);
    const DeviceTensor& y = ctx.output(0);
    if (x.numel() == 0) return;
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

}  // namespace

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
                 if (a.num_groups > 1 && (p.input(0).dims.rank() < 2 ||
                                          p.input(0).dims[1] % a.num_groups != 0))
                   return nullptr;
                 return std::make_unique<NormalizationKernel>(a);
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
    case LayerKind::kTOPK:
    case LayerKind::kCUMULATIVE:
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
      break;
  }
  return {};
}

}  // namespace layerkit::cuda
