// CUDA kernels for the Gather, Scatter and NonZero kinds, with the CPU reference's index rules.
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include <vector>

#include "network/layers/gather_index.h"
#include "runtime/cuda/device.cuh"

namespace layerkit::cuda {
namespace {

// Dims and row-major strides of one tensor, by value for kernels.
struct Layout {
  int rank = 0;
  int64_t dims[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
  Layout() = default;
  explicit Layout(const Dims& d) : rank(d.rank()) {
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; --i) {
      dims[i] = d[i];
      strides[i] = s;
      s *= d[i];
    }
  }
  // The multi-index of flat element i.
  __device__ void unflatten(int64_t i, int64_t (&idx)[kMaxDims]) const {
    for (int d = rank - 1; d >= 0; --d) {
      idx[d] = i % dims[d];
      i /= dims[d];
    }
  }
};

// As detail::resolve_index: negative indices count from the end; -1 when out of range.
__device__ inline int64_t resolve(int64_t v, int64_t n) {
  if (v < 0) v += n;
  return v >= 0 && v < n ? v : -1;
}

// A device flag that kernels raise on an out-of-range index (Note [Run-time checks]): the CPU
// reference raises an error for a bad index, so the run must not end as if the output were valid.
class BadIndexFlag {
 public:
  explicit BadIndexFlag(const LaunchCtx& ctx) : ctx_(ctx), flag_(ctx.check_flag()) {}
  int* device() const { return flag_; }
  // `report` throws the layer's error; it runs when a kernel raised the flag.
  void check(std::function<void(const LaunchCtx&)> report) const {
    ctx_.check(flag_, std::move(report));
  }

 private:
  const LaunchCtx& ctx_;
  int* flag_ = nullptr;
};

// The indices on the host (only on the error path), so the message can be derived by the very
// code the CPU reference runs: the same first bad index, the same words.
std::vector<int64_t> download_indices(const LaunchCtx& ctx, const DeviceTensor& ind) {
  std::vector<uint8_t> raw(static_cast<size_t>(ind.bytes()));
  if (!raw.empty()) {
    LK_CUDA(cudaMemcpyAsync(raw.data(), ind.data, raw.size(), cudaMemcpyDeviceToHost, ctx.stream()),
            ctx.layer_name());
    LK_CUDA(cudaStreamSynchronize(ctx.stream()), ctx.layer_name());
  }
  std::vector<int64_t> v(static_cast<size_t>(ind.numel()));
  for (int64_t i = 0; i < ind.numel(); ++i)
    v[static_cast<size_t>(i)] = load_i(ind.type, raw.data(), i);
  return v;
}

// Throws the error the CPU reference raises (KernelCtx::fail): kRUNTIME, "<Kind> layer '<name>':".
[[noreturn]] void fail_as_reference(const LaunchCtx& ctx, const std::string& message) {
  LK_FAIL(kRUNTIME, layer_kind_name(ctx.kind()), " layer '", ctx.layer_name(), "': ", message);
}

// ---- Gather ----

// Gather kDEFAULT as rows (Note [Row kernels], pointwise.cu): output row r is the slice of
// `inner` elements that index element r % n_ind picks from outer slice r / n_ind, so a thread
// reads its row's index once and copies in packs; an embedding lookup copies whole table rows.
template <typename S, int V>
__global__ void gather_rows_kernel(const S* data, S* y, DataType it, const void* ip, uint32_t rows,
                                   uint32_t n_ind, uint32_t inner, int64_t axis_dim, int* flag) {
  for (uint32_t r = blockIdx.y * blockDim.y + threadIdx.y; r < rows; r += gridDim.y * blockDim.y) {
    const int64_t k = resolve(dev::load_i(it, ip, r % n_ind), axis_dim);
    if (k < 0) {
      *flag = 1;
      continue;
    }
    const S* src = data + (static_cast<int64_t>(r / n_ind) * axis_dim + k) * inner;
    S* dst = y + static_cast<size_t>(r) * inner;
    for (uint32_t c = (blockIdx.x * blockDim.x + threadIdx.x) * V; c < inner;
         c += gridDim.x * blockDim.x * V)
      *reinterpret_cast<Pack<S, V>*>(dst + c) = load_pack<V>(src, 0, 1, c);
  }
}

template <typename S>
void gather_rows(const LaunchCtx& ctx, const void* data, void* y, DataType it, const void* ip,
                 uint32_t rows, uint32_t n_ind, uint32_t inner, int64_t axis_dim, int* flag) {
  constexpr int kVec = 16 / static_cast<int>(sizeof(S));
  RowMap<1> m;  // the launch geometry only
  m.rows = rows;
  m.cols = inner;
  dim3 grid, block;
  const auto* d = static_cast<const S*>(data);
  auto* out = static_cast<S*>(y);
  if (inner % kVec == 0 && reinterpret_cast<uintptr_t>(data) % sizeof(Pack<S, kVec>) == 0 &&
      reinterpret_cast<uintptr_t>(y) % sizeof(Pack<S, kVec>) == 0) {
    row_geometry(m, kVec, grid, block);
    gather_rows_kernel<S, kVec>
        <<<grid, block, 0, ctx.stream()>>>(d, out, it, ip, rows, n_ind, inner, axis_dim, flag);
  } else {
    row_geometry(m, 1, grid, block);
    gather_rows_kernel<S, 1>
        <<<grid, block, 0, ctx.stream()>>>(d, out, it, ip, rows, n_ind, inner, axis_dim, flag);
  }
  LK_CUDA(cudaGetLastError(), ctx.layer_name());
}

// Gather kDEFAULT without a batch axis: out = data[:axis] + indices + data[axis+1:], so an output
// element splits into (outer, index element, inner) with no further index arithmetic.
class GatherDefaultKernel final : public Kernel {
 public:
  explicit GatherDefaultKernel(const GatherAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& data = ctx.input(0);
    const DeviceTensor& ind = ctx.input(1);
    const DeviceTensor& y = ctx.output(0);
    if (y.numel() == 0) return;
    const int axis = a_.axis < 0 ? a_.axis + data.dims.rank() : a_.axis;
    int64_t inner = 1;
    for (int d = axis + 1; d < data.dims.rank(); ++d) inner *= data.dims[d];
    const int64_t n_ind = ind.numel(), axis_dim = data.dims[axis];
    const DataType it = ind.type;
    const void* ip = ind.data;
    BadIndexFlag bad(ctx);
    int* flag = bad.device();
    const int64_t es = element_size(data.type);
    if (y.numel() <= INT32_MAX && n_ind <= INT32_MAX &&
        (es == 1 || es == 2 || es == 4 || es == 8)) {
      const auto rows = static_cast<uint32_t>(y.numel() / inner);
      const auto ni = static_cast<uint32_t>(n_ind), in = static_cast<uint32_t>(inner);
      switch (es) {
        case 1:
          gather_rows<uint8_t>(ctx, data.data, y.data, it, ip, rows, ni, in, axis_dim, flag);
          break;
        case 2:
          gather_rows<uint16_t>(ctx, data.data, y.data, it, ip, rows, ni, in, axis_dim, flag);
          break;
        case 4:
          gather_rows<uint32_t>(ctx, data.data, y.data, it, ip, rows, ni, in, axis_dim, flag);
          break;
        default:
          gather_rows<uint64_t>(ctx, data.data, y.data, it, ip, rows, ni, in, axis_dim, flag);
          break;
      }
      bad.check([a = a_, axis](const LaunchCtx& c) { report(c, a, axis); });
      return;
    }
    gather_any(ctx, data.type, y.numel(), data.data, y.data, [=] __device__(int64_t i) {
      const int64_t in = i % inner;
      const int64_t j = (i / inner) % n_ind;
      const int64_t o = i / (inner * n_ind);
      const int64_t k = resolve(dev::load_i(it, ip, j), axis_dim);
      if (k < 0) {
        *flag = 1;
        return int64_t{-1};
      }
      return (o * axis_dim + k) * inner + in;
    });
    bad.check([a = a_, axis](const LaunchCtx& c) { report(c, a, axis); });
  }

  // Re-derives the CPU reference's message for the first bad index (row-major over the output).
  [[noreturn]] static void report(const LaunchCtx& ctx, const GatherAttrs& a, int axis) {
    const std::vector<int64_t> v = download_indices(ctx, ctx.input(1));
    detail::gather_sources(
        a, axis, ctx.input(0).dims, ctx.input(1).dims, ctx.output(0).dims,
        [&](int64_t i) { return v[static_cast<size_t>(i)]; },
        [&](const std::string& msg) { fail_as_reference(ctx, msg); });
    LK_FAIL(kINTERNAL, "Gather layer '", ctx.layer_name(),
            "': the device flagged an out-of-range index the host does not find");
  }

 private:
  GatherAttrs a_;
};

// Every Gather mode through one index map (detail::gather_sources, one output element per thread).
struct GatherMap {
  GatherMode mode;
  int axis, nb;
  int64_t m;  // kND: the number of indexed data axes
  Layout out, data, ind;
};

__device__ int64_t gather_source(const GatherMap& g, int64_t i, DataType it, const void* ip,
                                 int* flag) {
  int64_t o[kMaxDims];
  g.out.unflatten(i, o);
  const int r = g.data.rank, q = g.ind.rank;
  int64_t src = 0, where = 0;
  switch (g.mode) {
    case GatherMode::kDEFAULT: {
      const int nq = q - g.nb;
      for (int d = 0; d < g.axis; ++d) src += (g.data.dims[d] == 1 ? 0 : o[d]) * g.data.strides[d];
      if (g.nb == 1) where += (g.ind.dims[0] == 1 ? 0 : o[0]) * g.ind.strides[0];
      for (int d = 0; d < nq; ++d) where += o[g.axis + d] * g.ind.strides[g.nb + d];
      for (int d = g.axis + 1; d < r; ++d) src += o[d - 1 + nq] * g.data.strides[d];
      const int64_t k = resolve(dev::load_i(it, ip, where), g.data.dims[g.axis]);
      if (k < 0) break;
      return src + k * g.data.strides[g.axis];
    }
    case GatherMode::kELEMENT: {
      for (int d = 0; d < r; ++d) {
        where += o[d] * g.ind.strides[d];
        if (d != g.axis) src += o[d] * g.data.strides[d];
      }
      const int64_t k = resolve(dev::load_i(it, ip, where), g.data.dims[g.axis]);
      if (k < 0) break;
      return src + k * g.data.strides[g.axis];
    }
    case GatherMode::kND: {
      for (int d = 0; d < q - 1; ++d) where += o[d] * g.ind.strides[d];
      for (int d = 0; d < g.nb; ++d) src += o[d] * g.data.strides[d];
      for (int64_t k = 0; k < g.m; ++k) {
        const int dim = static_cast<int>(g.nb + k);
        const int64_t v = resolve(dev::load_i(it, ip, where + k), g.data.dims[dim]);
        if (v < 0) {
          *flag = 1;
          return -1;
        }
        src += v * g.data.strides[dim];
      }
      for (int d = static_cast<int>(g.nb + g.m); d < r; ++d)
        src += o[q - 1 + d - g.nb - g.m] * g.data.strides[d];
      return src;
    }
  }
  *flag = 1;
  return -1;
}

class GatherIndexMapKernel final : public Kernel {
 public:
  explicit GatherIndexMapKernel(const GatherAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& data = ctx.input(0);
    const DeviceTensor& ind = ctx.input(1);
    const DeviceTensor& y = ctx.output(0);
    if (y.numel() == 0) return;
    const int r = data.dims.rank();
    GatherMap g{};
    g.mode = a_.mode;
    g.axis = a_.mode == GatherMode::kND ? 0 : (a_.axis < 0 ? a_.axis + r : a_.axis);
    g.nb = a_.num_elementwise_dims;
    g.m = a_.mode == GatherMode::kND ? ind.dims[ind.dims.rank() - 1] : 0;
    g.out = Layout(y.dims);
    g.data = Layout(data.dims);
    g.ind = Layout(ind.dims);
    const DataType it = ind.type;
    const void* ip = ind.data;
    BadIndexFlag bad(ctx);
    int* flag = bad.device();
    gather_any(ctx, data.type, y.numel(), data.data, y.data,
               [=] __device__(int64_t i) { return gather_source(g, i, it, ip, flag); });
    bad.check(
        [a = a_, axis = g.axis](const LaunchCtx& c) { GatherDefaultKernel::report(c, a, axis); });
  }

 private:
  GatherAttrs a_;
};

// ---- Scatter ----

// Note [Device scatter order]: the CPU reference applies the updates one by one in row-major
// order, so for duplicate targets the last update wins (kNONE) or the updates combine in that
// order, rounding to the data type after each step (float sums and products depend on the
// order; so does which zero max/min keep). The device sorts (target, update index) pairs by
// target with a stable radix sort, so each target's updates stay in row-major order, then one
// thread per target applies them sequentially: the same result bit for bit, deterministically.

struct ScatterMap {
  ScatterMode mode;
  int axis;
  int64_t m;  // kND: the number of indexed data axes
  Layout upd, data, ind;
};

// The flat data offset update i targets, or -1 for an out-of-range index.
__device__ int64_t scatter_target(const ScatterMap& s, int64_t i, DataType it, const void* ip) {
  int64_t u[kMaxDims];
  s.upd.unflatten(i, u);
  const int r = s.data.rank, q = s.ind.rank;
  int64_t dst = 0, where = 0;
  if (s.mode == ScatterMode::kELEMENT) {
    for (int d = 0; d < r; ++d) {
      where += u[d] * s.ind.strides[d];
      if (d != s.axis) dst += u[d] * s.data.strides[d];
    }
    const int64_t k = resolve(dev::load_i(it, ip, where), s.data.dims[s.axis]);
    return k < 0 ? -1 : dst + k * s.data.strides[s.axis];
  }
  for (int d = 0; d < q - 1; ++d) where += u[d] * s.ind.strides[d];
  for (int64_t k = 0; k < s.m; ++k) {
    const int dim = static_cast<int>(k);
    const int64_t v = resolve(dev::load_i(it, ip, where + k), s.data.dims[dim]);
    if (v < 0) return -1;
    dst += v * s.data.strides[dim];
  }
  for (int d = static_cast<int>(s.m); d < r; ++d) dst += u[q - 1 + d - s.m] * s.data.strides[d];
  return dst;
}

// One step of a reduction, exactly as the CPU reference's (NaN-sticking max/min on floats,
// wrapping int64 sums and products on integers).
__device__ inline float combine_f(ScatterReduction op, float cur, float u) {
  switch (op) {
    case ScatterReduction::kSUM:
      return cur + u;
    case ScatterReduction::kPROD:
      return cur * u;
    case ScatterReduction::kMAX:
      return isnan(cur) || cur >= u ? cur : u;
    case ScatterReduction::kMIN:
      return isnan(cur) || cur <= u ? cur : u;
    case ScatterReduction::kNONE:
      return u;
  }
  return u;
}
__device__ inline int64_t combine_i(ScatterReduction op, int64_t cur, int64_t u) {
  switch (op) {
    case ScatterReduction::kSUM:
      return static_cast<int64_t>(static_cast<uint64_t>(cur) + static_cast<uint64_t>(u));
    case ScatterReduction::kPROD:
      return static_cast<int64_t>(static_cast<uint64_t>(cur) * static_cast<uint64_t>(u));
    case ScatterReduction::kMAX:
      return cur > u ? cur : u;
    case ScatterReduction::kMIN:
      return cur < u ? cur : u;
    case ScatterReduction::kNONE:
      return u;
  }
  return u;
}

template <typename T>
void scatter_last(const LaunchCtx& ctx, int64_t n, int64_t sentinel, const int64_t* keys,
                  const int64_t* order, const void* upd, void* out) {
  const T* u = static_cast<const T*>(upd);
  T* y = static_cast<T*>(out);
  for_each(ctx, n, [=] __device__(int64_t p) {
    const int64_t key = keys[p];
    // The last entry of each target's run holds its last update in row-major order.
    if (key == sentinel || (p + 1 < n && keys[p + 1] == key)) return;
    y[key] = u[order[p]];
  });
}

class ScatterKernel final : public Kernel {
 public:
  explicit ScatterKernel(const ScatterAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& data = ctx.input(0);
    const DeviceTensor& ind = ctx.input(1);
    const DeviceTensor& upd = ctx.input(2);
    const DeviceTensor& y = ctx.output(0);
    const int r = data.dims.rank();
    ScatterMap s{};
    s.mode = a_.mode;
    s.axis = a_.mode == ScatterMode::kND ? 0 : (a_.axis < 0 ? a_.axis + r : a_.axis);
    s.m = a_.mode == ScatterMode::kND ? ind.dims[ind.dims.rank() - 1] : 0;
    s.upd = Layout(upd.dims);
    s.data = Layout(data.dims);
    s.ind = Layout(ind.dims);
    if (y.bytes() > 0)
      LK_CUDA(cudaMemcpyAsync(y.data, data.data, static_cast<size_t>(y.bytes()),
                              cudaMemcpyDeviceToDevice, ctx.stream()),
              ctx.layer_name());
    const int64_t n = upd.numel();
    if (n == 0) return;
    // Targets are in [0, N); out-of-range updates get the key N, which sorts last and is skipped.
    const int64_t sentinel = data.numel();
    int bits = 1;
    while (bits < 63 && (int64_t{1} << bits) <= sentinel) ++bits;
    const size_t bytes = static_cast<size_t>(n) * sizeof(int64_t);
    auto* keys = static_cast<int64_t*>(ctx.scratch(bytes));
    auto* order = static_cast<int64_t*>(ctx.scratch(bytes));
    auto* keys_sorted = static_cast<int64_t*>(ctx.scratch(bytes));
    auto* order_sorted = static_cast<int64_t*>(ctx.scratch(bytes));
    BadIndexFlag bad(ctx);
    int* flag = bad.device();
    const DataType it = ind.type;
    const void* ip = ind.data;
    for_each(ctx, n, [=] __device__(int64_t i) {
      const int64_t t = scatter_target(s, i, it, ip);
      if (t < 0) *flag = 1;
      keys[i] = t < 0 ? sentinel : t;
      order[i] = i;
    });
    size_t temp_bytes = 0;
    LK_CUDA(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys, keys_sorted, order,
                                            order_sorted, n, 0, bits, ctx.stream()),
            ctx.layer_name());
    void* temp = ctx.scratch(temp_bytes);
    LK_CUDA(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys, keys_sorted, order,
                                            order_sorted, n, 0, bits, ctx.stream()),
            ctx.layer_name());
    apply(ctx, n, sentinel, keys_sorted, order_sorted, upd, y);
    bad.check([a = a_, axis = s.axis](const LaunchCtx& c) {
      const std::vector<int64_t> v = download_indices(c, c.input(1));
      detail::scatter_targets(
          a, axis, c.input(0).dims, c.input(1).dims, c.input(2).dims,
          [&](int64_t i) { return v[static_cast<size_t>(i)]; },
          [&](const std::string& msg) { fail_as_reference(c, msg); });
      LK_FAIL(kINTERNAL, "Scatter layer '", c.layer_name(),
              "': the device flagged an out-of-range index the host does not find");
    });
  }

  // Applies the sorted updates (Note [Device scatter order]). (Public: nvcc does not allow an
  // extended device lambda inside a private member function.)
  void apply(const LaunchCtx& ctx, int64_t n, int64_t sentinel, const int64_t* keys,
             const int64_t* order, const DeviceTensor& upd, const DeviceTensor& y) const {
    if (a_.reduction == ScatterReduction::kNONE) {
      switch (element_size(y.type)) {
        case 1:
          return scatter_last<uint8_t>(ctx, n, sentinel, keys, order, upd.data, y.data);
        case 2:
          return scatter_last<uint16_t>(ctx, n, sentinel, keys, order, upd.data, y.data);
        case 4:
          return scatter_last<uint32_t>(ctx, n, sentinel, keys, order, upd.data, y.data);
        case 8:
          return scatter_last<uint64_t>(ctx, n, sentinel, keys, order, upd.data, y.data);
        default:
          LK_FAIL(kINTERNAL, "Scatter layer '", ctx.layer_name(), "': element size ",
                  element_size(y.type));
      }
    }
    const ScatterReduction op = a_.reduction;
    const DataType t = y.type;
    const void* u = upd.data;
    void* out = y.data;
    for_each(ctx, n, [=] __device__(int64_t p) {
      const int64_t key = keys[p];
      if (key == sentinel || (p > 0 && keys[p - 1] == key)) return;
      // The first entry of a target's run applies all its updates in order, rounding to the
      // data type after each step as the reference does.
      for (int64_t k = p; k < n && keys[k] == key; ++k) {
        if (dev::is_floating(t))
          dev::store_f(t, out, key,
                       combine_f(op, dev::load_f(t, out, key), dev::load_f(t, u, order[k])));
        else
          dev::store_i(t, out, key,
                       combine_i(op, dev::load_i(t, out, key), dev::load_i(t, u, order[k])));
      }
    });
  }

 private:
  ScatterAttrs a_;
};

// ---- NonZero ----

__device__ inline bool nonzero(DataType t, const void* p, int64_t i) {
  // As the reference: floats compare as float (NaN is nonzero, -0 is zero), the rest as int64.
  return dev::is_floating(t) ? dev::load_f(t, p, i) != 0.0f : dev::load_i(t, p, i) != 0;
}

__global__ void count_nonzero_kernel(DataType t, const void* p, int64_t n,
                                     unsigned long long* count) {
  unsigned long long c = 0;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
    c += nonzero(t, p, i) ? 1 : 0;
  for (int s = 16; s > 0; s >>= 1) c += __shfl_down_sync(0xffffffffu, c, s);
  if ((threadIdx.x & 31) == 0 && c) atomicAdd(count, c);
}

// out[d, c] = coordinate d of the c-th nonzero element (row-major), positions from a prefix sum.
class NonZeroKernel final : public Kernel {
 public:
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    const int64_t n = x.numel(), count = y.dims[1];
    if (n == 0 || count == 0) return;
    const size_t bytes = static_cast<size_t>(n) * sizeof(int64_t);
    auto* flags = static_cast<int64_t*>(ctx.scratch(bytes));
    auto* pos = static_cast<int64_t*>(ctx.scratch(bytes));
    const DataType t = x.type;
    const void* p = x.data;
    for_each(ctx, n, [=] __device__(int64_t i) { flags[i] = nonzero(t, p, i) ? 1 : 0; });
    size_t temp_bytes = 0;
    LK_CUDA(cub::DeviceScan::ExclusiveSum(nullptr, temp_bytes, flags, pos, n, ctx.stream()),
            ctx.layer_name());
    void* temp = ctx.scratch(temp_bytes);
    LK_CUDA(cub::DeviceScan::ExclusiveSum(temp, temp_bytes, flags, pos, n, ctx.stream()),
            ctx.layer_name());
    const Layout xl(x.dims);
    auto* out = static_cast<int64_t*>(y.data);
    // The count was taken from these same elements (on the device, or by inference on the host
    // copy), so it matches; the bound only keeps a stray write inside the output.
    for_each(ctx, n, [=] __device__(int64_t i) {
      if (!flags[i] || pos[i] >= count) return;
      int64_t idx[kMaxDims];
      xl.unflatten(i, idx);
      for (int d = 0; d < xl.rank; ++d) out[d * count + pos[i]] = idx[d];
    });
  }
};

}  // namespace

bool counts_nonzero_on_device(DataType t) {
  switch (t) {
    case DataType::kFLOAT:
    case DataType::kHALF:
    case DataType::kBF16:
    case DataType::kINT8:
    case DataType::kUINT8:
    case DataType::kINT32:
    case DataType::kINT64:
    case DataType::kBOOL:
      return true;
    case DataType::kFP8:
    case DataType::kINT4:
    case DataType::kFP4:
    case DataType::kE8M0:
      return false;
  }
  return false;
}

int64_t count_nonzero(const DeviceTensor& x, cudaStream_t stream, std::string_view layer) {
  const int64_t n = x.numel();
  if (n == 0) return 0;
  unsigned long long* count = nullptr;
  check_cuda(cudaMallocAsync(&count, sizeof *count, stream), "cudaMallocAsync", layer,
             sizeof *count);
  unsigned long long host = 0;
  cudaError_t err = cudaMemsetAsync(count, 0, sizeof *count, stream);
  if (err == cudaSuccess) {
    count_nonzero_kernel<<<grid_for(n), kBlock, 0, stream>>>(x.type, x.data, n, count);
    err = cudaGetLastError();
  }
  // The count decides the output's dims, so the host waits for it here.
  if (err == cudaSuccess)
    err = cudaMemcpyAsync(&host, count, sizeof host, cudaMemcpyDeviceToHost, stream);
  cudaFreeAsync(count, stream);
  if (err == cudaSuccess) err = cudaStreamSynchronize(stream);
  check_cuda(err, "count_nonzero", layer);
  return static_cast<int64_t>(host);
}

std::vector<KernelEntry> gather_kernels(LayerKind kind) {
  switch (kind) {
    case LayerKind::kGATHER:
      return {{"gather",
               [](const Problem& p) -> std::unique_ptr<Kernel> {
                 const GatherAttrs& a = p.as<GatherAttrs>();
                 if (a.mode != GatherMode::kDEFAULT || a.num_elementwise_dims != 0) return nullptr;
                 return std::make_unique<GatherDefaultKernel>(a);
               }},
              {"gather (index map)", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 return std::make_unique<GatherIndexMapKernel>(p.as<GatherAttrs>());
               }}};
    case LayerKind::kSCATTER:
      return {{"scatter (sorted targets)", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 return std::make_unique<ScatterKernel>(p.as<ScatterAttrs>());
               }}};
    case LayerKind::kNON_ZERO:
      return {{"nonzero (prefix sum)", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 if (!counts_nonzero_on_device(p.input(0).type)) return nullptr;
                 return std::make_unique<NonZeroKernel>();
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
    case LayerKind::kSCALE:
    case LayerKind::kNORMALIZATION:
    case LayerKind::kSELECT:
    case LayerKind::kPARAMETRIC_RELU:
    case LayerKind::kQUANTIZE:
    case LayerKind::kDEQUANTIZE:
    case LayerKind::kDYNAMIC_QUANTIZE:
    case LayerKind::kCOLLECTIVE:
    case LayerKind::kPADDING:
    // Control flow runs on the host fallback (bodies on a CPU executor).
    case LayerKind::kCONDITIONAL:
    case LayerKind::kLOOP:
      break;
  }
  return {};
}

}  // namespace layerkit::cuda
