// CUDA kernels for the kinds that move elements without looking at them: Shuffle, Slice,
// Concatenation, Padding. One byte-size-generic copy serves every type (sub-byte types hold one
// element per byte, Note [Host element representation]).
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/element.h"
#include "network/layers/slice_sample.h"
#include "runtime/cuda/device.cuh"

namespace layerkit::cuda {
namespace {

// Dims and their row-major strides, by value for kernels.
struct Shape {
  int rank = 0;
  int64_t dims[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
  explicit Shape(const Dims& d) : rank(d.rank()) {
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; --i) {
      dims[i] = d[i];
      strides[i] = s;
      s *= d[i];
    }
  }
};

// Kernel parameters, by value.
struct ShuffleMap {
  int rr, xr;
  int64_t out_dims[kMaxDims];
  int64_t r_stride_of_out[kMaxDims];  // stride in the reshaped space of each output axis
  int64_t t_dims[kMaxDims];
  int64_t x_stride_of_t[kMaxDims];  // input stride of each transposed axis
};
struct SliceMap {
  int rank;
  SampleMode mode;
  int64_t out_dims[kMaxDims], x_dims[kMaxDims], start[kMaxDims], stride[kMaxDims];
};
struct PadMap {
  int rank;
  int64_t out_dims[kMaxDims], x_dims[kMaxDims], pre[kMaxDims];
};

std::vector<int> permutation(const std::vector<int32_t>& perm, int rank) {
  std::vector<int> p;
  for (int i = 0; i < rank; ++i) p.push_back(perm.empty() ? i : perm[static_cast<size_t>(i)]);
  return p;
}

bool is_identity(const std::vector<int>& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != static_cast<int>(i)) return false;
  return true;
}

// Note [Shuffle as a strided view]
// first_transpose(x) is a strided view of x. Its reshape is again a strided view when every run of
// its axes that x holds contiguously (outer stride = inner stride x inner size) splits or merges
// into whole axes of the reshaped dims, no reshaped axis straddling two runs; the second
// transpose only permutes those strides. The Shuffle is then a copy through one strided map,
// which runs as rows (Note [Row kernels], pointwise.cu): a head split [B, S, H, D] ->
// [B, H, S, D] copies rows of D elements in 16-byte packs instead of dividing twice per element.
// Other reshapes keep the two-step map below.

// The strides, in x, of reshaping the view (`dims`, `strides`, `rank`) to `to`; false when the
// reshape is not a view.
bool reshaped_view(const int64_t* dims, const int64_t* strides, int rank, const Dims& to,
                   int64_t* out) {
  int v = to.rank() - 1;
  int d = rank - 1;
  while (d >= 0) {
    if (dims[d] == 1) {
      --d;
      continue;
    }
    const int64_t base = strides[d];
    int64_t run = dims[d];
    for (--d; d >= 0 && (dims[d] == 1 || strides[d] == base * run); --d) run *= dims[d];
    int64_t got = 1;
    for (; v >= 0 && got < run; --v) {
      out[v] = base * got;
      got *= to[v];
    }
    if (got != run) return false;
  }
  for (; v >= 0; --v) {
    if (to[v] != 1) return false;
    out[v] = 0;
  }
  return true;
}

template <typename S, int V>
__global__ void copy_rows_kernel(RowMap<1> m, const S* x, S* y) {
  for (uint32_t r = blockIdx.y * blockDim.y + threadIdx.y; r < m.rows;
       r += gridDim.y * blockDim.y) {
    uint32_t off[1];
    m.outer.offsets32(r, off);
    for (uint32_t c = (blockIdx.x * blockDim.x + threadIdx.x) * V; c < m.cols;
         c += gridDim.x * blockDim.x * V)
      *reinterpret_cast<Pack<S, V>*>(y + static_cast<size_t>(r) * m.cols + c) =
          load_pack<V>(x, off[0], m.inner[0], c);
  }
}

template <typename S>
void copy_rows(const LaunchCtx& ctx, const RowMap<1>& m, const void* x, void* y) {
  constexpr int kVec = 16 / static_cast<int>(sizeof(S));
  const void* in[1] = {x};
  dim3 grid, block;
  if (packs_fit(m, kVec, sizeof(Pack<S, kVec>), in, y)) {
    row_geometry(m, kVec, grid, block);
    copy_rows_kernel<S, kVec>
        <<<grid, block, 0, ctx.stream()>>>(m, static_cast<const S*>(x), static_cast<S*>(y));
  } else {
    row_geometry(m, 1, grid, block);
    copy_rows_kernel<S, 1>
        <<<grid, block, 0, ctx.stream()>>>(m, static_cast<const S*>(x), static_cast<S*>(y));
  }
  LK_CUDA(cudaGetLastError(), ctx.layer_name());
}

// Copies the contiguous output `y` (dims `dims`) from x through `strides` (elements of x per
// output axis) as rows; false when the copy needs 64-bit offsets.
bool strided_copy(const LaunchCtx& ctx, DataType type, const Dims& dims, const int64_t* strides,
                  int64_t x_numel, const void* x, void* y) {
  const int64_t n = dims.volume();
  if (n > INT32_MAX || x_numel > INT32_MAX) return false;
  IndexMap<1> m;
  m.rank = dims.rank();
  for (int d = 0; d < m.rank; ++d) {
    m.dims[d] = dims[d];
    m.strides[0][d] = strides[d];
  }
  m.coalesce();
  const RowMap<1> rm = row_map(m, n);
  switch (element_size(type)) {
    case 1:
      copy_rows<uint8_t>(ctx, rm, x, y);
      return true;
    case 2:
      copy_rows<uint16_t>(ctx, rm, x, y);
      return true;
    case 4:
      copy_rows<uint32_t>(ctx, rm, x, y);
      return true;
    case 8:
      copy_rows<uint64_t>(ctx, rm, x, y);
      return true;
    default:
      return false;
  }
}

// out = second_transpose(reshape(first_transpose(x))): an output index goes back through the
// second permutation to the reshaped index space, whose flat offset is the transposed input's.
class ShuffleKernel final : public Kernel {
 public:
  explicit ShuffleKernel(const ShuffleAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    const int xr = x.dims.rank(), rr = y.dims.rank();
    std::vector<int> p1 = permutation(a_.first_transpose, xr);
    std::vector<int> p2 = permutation(a_.second_transpose, rr);
    if (is_identity(p1) && is_identity(p2)) {
      if (y.bytes() > 0)
        LK_CUDA(cudaMemcpyAsync(y.data, x.data, static_cast<size_t>(y.bytes()),
                                cudaMemcpyDeviceToDevice, ctx.stream()),
                ctx.layer_name());
      return;
    }
    if (y.numel() == 0) return;
    {  // Note [Shuffle as a strided view]
      Dims r = Dims::of_rank(rr);
      for (int i = 0; i < rr; ++i) r[p2[static_cast<size_t>(i)]] = y.dims[i];
      Shape xs(x.dims);
      int64_t t_dims[kMaxDims], t_strides[kMaxDims], r_strides[kMaxDims], y_strides[kMaxDims];
      for (int i = 0; i < xr; ++i) {
        t_dims[i] = x.dims[p1[static_cast<size_t>(i)]];
        t_strides[i] = xs.strides[p1[static_cast<size_t>(i)]];
      }
      if (reshaped_view(t_dims, t_strides, xr, r, r_strides)) {
        for (int i = 0; i < rr; ++i) y_strides[i] = r_strides[p2[static_cast<size_t>(i)]];
        if (strided_copy(ctx, x.type, y.dims, y_strides, x.numel(), x.data, y.data)) return;
      }
    }
    ShuffleMap m{};
    m.rr = rr;
    m.xr = xr;
    Dims r = Dims::of_rank(rr);
    for (int i = 0; i < rr; ++i) r[p2[static_cast<size_t>(i)]] = y.dims[i];
    Shape rs(r), xs(x.dims);
    for (int i = 0; i < rr; ++i) {
      m.out_dims[i] = y.dims[i];
      m.r_stride_of_out[i] = rs.strides[p2[static_cast<size_t>(i)]];
    }
    for (int i = 0; i < xr; ++i) {
      m.t_dims[i] = x.dims[p1[static_cast<size_t>(i)]];
      m.x_stride_of_t[i] = xs.strides[p1[static_cast<size_t>(i)]];
    }
    gather_any(ctx, x.type, y.numel(), x.data, y.data, [=] __device__(int64_t i) {
      int64_t flat = 0;
      for (int d = m.rr - 1; d >= 0; --d) {
        flat += (i % m.out_dims[d]) * m.r_stride_of_out[d];
        i /= m.out_dims[d];
      }
      int64_t off = 0;
      for (int d = m.xr - 1; d >= 0; --d) {
        off += (flat % m.t_dims[d]) * m.x_stride_of_t[d];
        flat /= m.t_dims[d];
      }
      return off;
    });
  }

 private:
  ShuffleAttrs a_;
};

__device__ inline int64_t source_index(SampleMode mode, int64_t raw, int64_t d) {
  if (raw >= 0 && raw < d) return raw;
  switch (mode) {
    case SampleMode::kSTRICT_BOUNDS:
    case SampleMode::kFILL:
      return -1;
    case SampleMode::kWRAP:
      return ((raw % d) + d) % d;
    case SampleMode::kCLAMP:
      return raw < 0 ? 0 : d - 1;
    case SampleMode::kREFLECT: {
      if (d == 1) return 0;
      const int64_t period = 2 * (d - 1);
      const int64_t m = ((raw % period) + period) % period;
      return m < d ? m : period - m;
    }
  }
  return -1;
}

class SliceKernel final : public Kernel {
 public:
  explicit SliceKernel(const SliceAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    const int rank = x.dims.rank();
    auto param = [&](int input, const Dims& attr) {
      std::vector<int64_t> v;
      if (ctx.has_input(input)) {
        const DeviceTensor& t = ctx.input(input);
        const void* h = ctx.host_input(input);
        for (int64_t i = 0; i < t.numel(); ++i) v.push_back(load_i(t.type, h, i));
      } else {
        v.assign(attr.begin(), attr.end());
      }
      return v;
    };
    std::vector<int> axes;
    if (ctx.has_input(5)) {
      const DeviceTensor& t = ctx.input(5);
      const void* h = ctx.host_input(5);
      for (int64_t i = 0; i < t.numel(); ++i) {
        const int64_t ax = load_i(t.type, h, i);
        axes.push_back(static_cast<int>(ax < 0 ? ax + rank : ax));
      }
    } else {
      for (int d = 0; d < rank; ++d) axes.push_back(d);
    }
    const std::vector<int64_t> start = param(1, a_.start), stride = param(3, a_.stride);
    SliceMap m{};
    m.rank = rank;
    m.mode = a_.mode;
    for (int d = 0; d < rank; ++d) {
      m.out_dims[d] = y.dims[d];
      m.x_dims[d] = x.dims[d];
      m.start[d] = 0;
      m.stride[d] = 1;
    }
    for (size_t k = 0; k < axes.size(); ++k) {
      m.start[axes[k]] = start[k];
      m.stride[axes[k]] = stride[k];
    }
    if (y.numel() == 0) return;
    // Bounds are checked on the host, axis by axis, so a bad slice fails as on the CPU.
    for (int d = 0; d < rank; ++d) {
      if (m.x_dims[d] == 0 && a_.mode != SampleMode::kFILL)
        LK_FAIL(kRUNTIME, "Slice layer '", ctx.layer_name(), "': mode ", enum_name(a_.mode),
                " cannot read from axis ", d, " of size 0");
      if (a_.mode != SampleMode::kSTRICT_BOUNDS || m.out_dims[d] == 0) continue;
      for (int64_t raw : {m.start[d], m.start[d] + (m.out_dims[d] - 1) * m.stride[d]})
        if (raw < 0 || raw >= m.x_dims[d])
          LK_FAIL(kRUNTIME, "Slice layer '", ctx.layer_name(),
                  "': kSTRICT_BOUNDS slice reads index ", raw, " of axis ", d, " (size ",
                  m.x_dims[d], ", start ", m.start[d], ", stride ", m.stride[d], ") of input dims ",
                  x.dims.to_string());
    }
    std::vector<uint8_t> fill(8, 0);
    if (ctx.has_input(4))
      std::memcpy(fill.data(), ctx.host_input(4), static_cast<size_t>(element_size(x.type)));
    gather_any(
        ctx, x.type, y.numel(), x.data, y.data,
        [=] __device__(int64_t i) {
          int64_t off = 0, scale = 1;
          for (int d = m.rank - 1; d >= 0; --d) {
            const int64_t o = i % m.out_dims[d];
            i /= m.out_dims[d];
            const int64_t src =
                m.x_dims[d] > 0 ? source_index(m.mode, m.start[d] + o * m.stride[d], m.x_dims[d])
                                : -1;
            if (src < 0) return int64_t{-1};
            off += src * scale;
            scale *= m.x_dims[d];
          }
          return off;
        },
        fill.data());
  }

 private:
  SliceAttrs a_;
};

class ConcatenationKernel final : public Kernel {
 public:
  explicit ConcatenationKernel(int axis) : axis_(axis) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& y = ctx.output(0);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis_; ++d) outer *= y.dims[d];
    for (int d = axis_ + 1; d < y.dims.rank(); ++d) inner *= y.dims[d];
    const int64_t total = y.dims[axis_] * inner;
    const int64_t es = element_size(y.type);
    int64_t offset = 0;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const DeviceTensor& x = ctx.input(i);
      const int64_t chunk = x.dims[axis_] * inner;
      if (chunk > 0 && outer > 0)
        LK_CUDA(cudaMemcpy2DAsync(
                    static_cast<char*>(y.data) + offset * es, static_cast<size_t>(total * es),
                    x.data, static_cast<size_t>(chunk * es), static_cast<size_t>(chunk * es),
                    static_cast<size_t>(outer), cudaMemcpyDeviceToDevice, ctx.stream()),
                ctx.layer_name());
      offset += chunk;
    }
  }

 private:
  int axis_;
};

class PaddingKernel final : public Kernel {
 public:
  explicit PaddingKernel(const PaddingAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    PadMap m{};
    m.rank = x.dims.rank();
    const int first = m.rank - a_.pre_padding.rank();
    for (int d = 0; d < m.rank; ++d) {
      m.out_dims[d] = y.dims[d];
      m.x_dims[d] = x.dims[d];
      m.pre[d] = d >= first ? a_.pre_padding[d - first] : 0;
    }
    // All-zero bytes are the value 0 of every type (as the CPU reference fills).
    gather_any(ctx, x.type, y.numel(), x.data, y.data, [=] __device__(int64_t i) {
      int64_t off = 0, scale = 1;
      for (int d = m.rank - 1; d >= 0; --d) {
        const int64_t v = i % m.out_dims[d] - m.pre[d];
        i /= m.out_dims[d];
        if (v < 0 || v >= m.x_dims[d]) return int64_t{-1};
        off += v * scale;
        scale *= m.x_dims[d];
      }
      return off;
    });
  }

 private:
  PaddingAttrs a_;
};

}  // namespace

std::vector<KernelEntry> copy_kernels(LayerKind kind) {
  switch (kind) {
    case LayerKind::kSHUFFLE:
      return {{"copy", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 return std::make_unique<ShuffleKernel>(p.as<ShuffleAttrs>());
               }}};
    case LayerKind::kSLICE:
      return {{"copy", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 return std::make_unique<SliceKernel>(p.as<SliceAttrs>());
               }}};
    case LayerKind::kCONCATENATION:
      return {{"copy", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 int axis = p.as<ConcatenationAttrs>().axis;
                 if (axis < 0) axis += p.output(0).dims.rank();
                 return std::make_unique<ConcatenationKernel>(axis);
               }}};
    case LayerKind::kPADDING:
      return {{"copy", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 return std::make_unique<PaddingKernel>(p.as<PaddingAttrs>());
               }}};
    case LayerKind::kINPUT:
    case LayerKind::kCONSTANT:
    case LayerKind::kIDENTITY:
    case LayerKind::kCAST:
    case LayerKind::kELEMENTWISE:
    case LayerKind::kUNARY:
    case LayerKind::kACTIVATION:
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
    case LayerKind::kSCALE:
    case LayerKind::kNORMALIZATION:
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
