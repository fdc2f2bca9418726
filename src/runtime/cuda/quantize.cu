// CUDA kernels for the Quantize, Dequantize and DynamicQuantize kinds, bit for bit as the CPU
// reference kernels of src/runtime/cpu/quantize.cpp (rounding, saturation, NaN codes and scales;
// divisions and products go through dev::host_div / host_mul, Note [NaN results]).
#include <cmath>
#include <memory>
#include <vector>

#include "core/element.h"
#include "runtime/cuda/device.cuh"

namespace layerkit::cuda {
namespace {

// Which scale element a data element reads: the scale's dims seen as blocks over the data (per
// tensor: all ones; per channel: dims[axis] on the axis; blocks: the scale's own dims), as the
// CPU's block_scale_dims does. Only the axes along which the scale varies are kept, so a per-tensor
// scale costs no index arithmetic and a per-channel one a single division. Passed by value.
struct ScaleMap {
  int axes = 0;
  int64_t x_stride[kMaxDims] = {};  // data stride of each kept axis
  int64_t x_dim[kMaxDims] = {};
  int64_t block[kMaxDims] = {};     // data elements per scale element along it
  int64_t s_stride[kMaxDims] = {};  // scale stride along it
  __device__ int64_t offset(int64_t i) const {
    int64_t off = 0;
    for (int k = 0; k < axes; ++k) off += (i / x_stride[k] % x_dim[k]) / block[k] * s_stride[k];
    return off;
  }
};

// Needs a non-empty data tensor (a scale dim may be 0 only when the data dim is).
ScaleMap scale_map(const Dims& x, const Dims& s, int32_t axis_attr) {
  const int rank = x.rank();
  Dims e = Dims::of_rank(rank, 1);
  const int64_t count = s.volume();
  if (s.rank() == 1 && count != 1) {
    e[axis_attr < 0 ? axis_attr + rank : axis_attr] = s[0];
  } else if (s.rank() == rank && count != 1) {
    e = s;  // inference checked the rank and that every scale dim divides its data dim
  }
  ScaleMap m;
  int64_t xs = 1, ss = 1;
  for (int d = rank - 1; d >= 0; --d) {
    if (e[d] > 1) {
      m.x_stride[m.axes] = xs;
      m.x_dim[m.axes] = x[d];
      m.block[m.axes] = x[d] / e[d];
      m.s_stride[m.axes] = ss;
      ++m.axes;
    }
    xs *= x[d];
    ss *= e[d];
  }
  return m;
}

// Rounds half to even and saturates to [lo, hi]; NaN gives 0 (the CPU's round_saturate).
__device__ inline int8_t round_saturate(float v, int lo, int hi) {
  if (isnan(v)) return 0;
  const float r = rintf(v);
  if (r <= static_cast<float>(lo)) return static_cast<int8_t>(lo);
  if (r >= static_cast<float>(hi)) return static_cast<int8_t>(hi);
  return static_cast<int8_t>(r);
}

// out = saturate(round_even(x / scale)). Zero points are all zero (inference checked the ones it
// could see), and the CPU reference ignores them, so this does too.
class QuantizeKernel final : public Kernel {
 public:
  explicit QuantizeKernel(const QuantizeAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& s = ctx.input(1);
    const DeviceTensor& y = ctx.output(0);
    const int64_t n = x.numel();
    if (n == 0) return;
    const ScaleMap m = scale_map(x.dims, s.dims, a_.axis);
    const DataType xt = x.type, st = s.type, yt = y.type;
    const void* xp = x.data;
    const void* sp = s.data;
    void* yp = y.data;
    for_each(ctx, n, [=] __device__(int64_t i) {
      const float v = dev::host_div(dev::load_f(xt, xp, i), dev::load_f(st, sp, m.offset(i)));
      if (yt == DataType::kINT8)
        static_cast<int8_t*>(yp)[i] = round_saturate(v, -128, 127);
      else if (yt == DataType::kINT4)
        static_cast<int8_t*>(yp)[i] = round_saturate(v, -8, 7);
      else  // kFP8 and kFP4 round to nearest even and saturate on store
        dev::store_f(yt, yp, i, v);
    });
  }

 private:
  QuantizeAttrs a_;
};

// out = x * scale (zero points as in Quantize).
class DequantizeKernel final : public Kernel {
 public:
  explicit DequantizeKernel(const DequantizeAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& s = ctx.input(1);
    const DeviceTensor& y = ctx.output(0);
    const int64_t n = x.numel();
    if (n == 0) return;
    const ScaleMap m = scale_map(x.dims, s.dims, a_.axis);
    const DataType xt = x.type, st = s.type, yt = y.type;
    const void* xp = x.data;
    const void* sp = s.data;
    void* yp = y.data;
    for_each(ctx, n, [=] __device__(int64_t i) {
      dev::store_f(yt, yp, i,
                   dev::host_mul(dev::load_f(xt, xp, i), dev::load_f(st, sp, m.offset(i))));
    });
  }

 private:
  DequantizeAttrs a_;
};

// The E8M0 code of an MXFP8 block's scale, 2^ceil(log2(amax / 448)) (see the CPU reference): the
// smallest power of two that keeps amax / scale within the FP8 range. Double arithmetic keeps
// the ceil exact, as on the host.
__device__ inline uint8_t mxfp8_scale_code(float amax) {
  if (isnan(amax)) return 0xff;
  const double r = static_cast<double>(amax) / 448.0;
  int ex = 0;
  // NOTE: the host calls frexp on an infinity too, which returns it and leaves the exponent at
  // its initial 0 (glibc does not touch it), so an infinite block maximum gives the scale 2^0.
  const double f = isinf(r) ? r : frexp(r, &ex);
  const int e = r == 0.0 ? -127 : (f == 0.5 ? ex - 1 : ex);
  return static_cast<uint8_t>(min(max(e + 127, 0), 254));
}

struct DynamicQuantizeParams {
  DataType xt, yt, st, gt;
  const void* x;
  const void* global;  // null: the global scale is 1
  void* y;
  void* scales;
  int64_t num_blocks, axis_dim, inner, block_size;
  bool mxfp8;
  float qmax;
};

// One thread per block: its absolute maximum, its scale, then its quantized elements.
__global__ void dynamic_quantize_kernel(DynamicQuantizeParams p) {
  for (int64_t b = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; b < p.num_blocks;
       b += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    // Scale dims are the data's with the axis divided by the block size: b = (o, j, in).
    const int64_t in = b % p.inner;
    const int64_t t = b / p.inner;
    const int64_t per_axis = p.axis_dim / p.block_size;
    const int64_t base =
        ((t / per_axis) * p.axis_dim + (t % per_axis) * p.block_size) * p.inner + in;
    // The first NaN wins and ends the scan (its payload reaches a float scale); |v| clears the
    // sign bit only, as the host's fabs does.
    float amax = 0.0f;
    for (int64_t k = 0; k < p.block_size; ++k) {
      const float v = __uint_as_float(__float_as_uint(dev::load_f(p.xt, p.x, base + k * p.inner)) &
                                      0x7fffffffu);
      if (isnan(v) || v > amax) amax = v;
      if (isnan(amax)) break;
    }
    float divisor;  // data = round(x / divisor)
    if (p.mxfp8) {
      const uint8_t code = mxfp8_scale_code(amax);
      static_cast<uint8_t*>(p.scales)[b] = code;
      divisor = dev::e8m0_to_float(code);
    } else {
      const float global = p.global ? dev::load_f(p.gt, p.global, 0) : 1.0f;
      dev::store_f(p.st, p.scales, b, dev::host_div(dev::host_div(amax, p.qmax), global));
      // NVFP4 scales round to FP8 (saturating); float scales are exact.
      divisor = dev::host_mul(dev::load_f(p.st, p.scales, b), global);
    }
    for (int64_t k = 0; k < p.block_size; ++k) {
      const int64_t i = base + k * p.inner;
      // An all-zero block (or one whose scale underflows to 0) quantizes to zeros.
      const float q = divisor == 0.0f ? 0.0f : dev::host_div(dev::load_f(p.xt, p.x, i), divisor);
      dev::store_f(p.yt, p.y, i, q);
    }
  }
}

class DynamicQuantizeKernel final : public Kernel {
 public:
  explicit DynamicQuantizeKernel(const DynamicQuantizeAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    const DeviceTensor& s = ctx.output(1);
    const int rank = x.dims.rank();
    const int axis = a_.axis < 0 ? a_.axis + rank : a_.axis;
    DynamicQuantizeParams p{};
    p.mxfp8 = a_.scale_type == DataType::kE8M0;
    if (p.mxfp8 && ctx.has_input(1)) {
      // A constant global scale was checked at build time; one computed at run time is read on
      // the host here (a synchronization point, only for MXFP8 with a global-scale input), so a
      // wrong one fails as on the CPU.
      const float g = load_f(ctx.input(1).type, ctx.host_input(1), 0);
      if (g != 1.0f)
        LK_FAIL(kRUNTIME, "DynamicQuantize layer '", ctx.layer_name(),
                "': MXFP8 needs a global scale of 1, got ", g);
    }
    p.xt = x.type;
    p.yt = y.type;
    p.st = s.type;
    p.x = x.data;
    p.y = y.data;
    p.scales = s.data;
    if (ctx.has_input(1)) {
      p.gt = ctx.input(1).type;
      p.global = ctx.input(1).data;
    }
    p.qmax = a_.output_type == DataType::kFP4 ? 6.0f : 448.0f;
    p.block_size = a_.block_size;
    p.axis_dim = x.dims[axis];
    p.inner = 1;
    for (int d = axis + 1; d < rank; ++d) p.inner *= x.dims[d];
    p.num_blocks = s.numel();
    if (p.num_blocks == 0) return;
    dynamic_quantize_kernel<<<grid_for(p.num_blocks), kBlock, 0, ctx.stream()>>>(p);
    LK_CUDA(cudaGetLastError(), ctx.layer_name());
  }

 private:
  DynamicQuantizeAttrs a_;
};

bool is_quantized(DataType t) {
  return t == DataType::kINT8 || t == DataType::kFP8 || t == DataType::kINT4 || t == DataType::kFP4;
}
bool is_unquantized(DataType t) {
  return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
}

}  // namespace

std::vector<KernelEntry> quantize_kernels(LayerKind kind) {
  switch (kind) {
    case LayerKind::kQUANTIZE:
      return {{"quantize", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 if (!is_unquantized(p.input(0).type) || !is_quantized(p.output(0).type))
                   return nullptr;
                 return std::make_unique<QuantizeKernel>(p.as<QuantizeAttrs>());
               }}};
    case LayerKind::kDEQUANTIZE:
      return {{"dequantize", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 if (!is_quantized(p.input(0).type) || !is_unquantized(p.output(0).type))
                   return nullptr;
                 return std::make_unique<DequantizeKernel>(p.as<DequantizeAttrs>());
               }}};
    case LayerKind::kDYNAMIC_QUANTIZE:
      return {{"dynamic quantize", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 const DynamicQuantizeAttrs& a = p.as<DynamicQuantizeAttrs>();
                 if (!is_unquantized(p.input(0).type) || a.block_size < 1) return nullptr;
                 return std::make_unique<DynamicQuantizeKernel>(a);
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
    case LayerKind::kPADDING:
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
