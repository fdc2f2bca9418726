// Reference kernels for the Quantize, Dequantize and DynamicQuantize kinds.
#include <algorithm>
#include <cmath>

#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {
namespace {

// The scale's dims seen as blocks over the data: rank of the data, data dim d split into
// scale_dims[d] blocks. Per tensor is all ones, per channel is dims[axis] on the axis.
Dims block_scale_dims(const KernelTensor& x, const KernelTensor& s, int32_t axis_attr) {
  int rank = x.dims.rank();
  Dims e = Dims::of_rank(rank, 1);
  if (s.dims.rank() == 0 || s.numel() == 1) return e;
  if (s.dims.rank() == 1) {
    int axis = axis_attr < 0 ? axis_attr + rank : axis_attr;
    e[axis] = s.dims[0];
    return e;
  }
  return s.dims;  // inference checked rank and divisibility
}

// Offset into the scale of the data element at `idx`.
int64_t scale_offset(const Dims& x, const Dims& e, const std::vector<int64_t>& idx) {
  int64_t off = 0;
  for (int d = 0; d < x.rank(); ++d) {
    int64_t block = x[d] / e[d];
    off = off * e[d] + idx[static_cast<size_t>(d)] / block;
  }
  return off;
}

// Rounds half to even and saturates to [lo, hi]; NaN gives 0 (Note [Scalar conversions]).
int64_t round_saturate(float v, int64_t lo, int64_t hi) {
  if (std::isnan(v)) return 0;
  float r = std::nearbyint(v);  // default rounding mode: ties to even
  if (r <= static_cast<float>(lo)) return lo;
  if (r >= static_cast<float>(hi)) return hi;
  return static_cast<int64_t>(r);
}

}  // namespace

void run_reference(const QuantizeAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& s = ctx.input(1);
  const KernelTensor& out = ctx.output(0);
  // Zero points are all zero (inference checked), so out = saturate(round(x / scale)).
  Dims e = block_scale_dims(x, s, a.axis);
  std::vector<int64_t> idx(static_cast<size_t>(x.dims.rank()), 0);
  for (int64_t i = 0; i < x.numel(); ++i, next_index(x.dims, idx)) {
    float v = load_f(x, i) / load_f(s, scale_offset(x.dims, e, idx));
    switch (a.output_type) {
      case DataType::kINT8:
        store_i(out, i, round_saturate(v, -128, 127));
        break;
      case DataType::kINT4:
        store_i(out, i, round_saturate(v, -8, 7));
        break;
      default:  // kFP8 and kFP4 round to nearest even and saturate on store
        store_f(out, i, v);
        break;
    }
  }
}

void run_reference(const DequantizeAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& s = ctx.input(1);
  const KernelTensor& out = ctx.output(0);
  Dims e = block_scale_dims(x, s, a.axis);
  std::vector<int64_t> idx(static_cast<size_t>(x.dims.rank()), 0);
  for (int64_t i = 0; i < x.numel(); ++i, next_index(x.dims, idx))
    store_f(out, i, load_f(x, i) * load_f(s, scale_offset(x.dims, e, idx)));
}

void run_reference(const DynamicQuantizeAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& data = ctx.output(0);
  const KernelTensor& scales = ctx.output(1);
  int rank = x.dims.rank();
  int axis = a.axis < 0 ? a.axis + rank : a.axis;
  float global = ctx.has_input(1) ? load_f(ctx.input(1), 0) : 1.0f;
  bool mxfp8 = a.scale_type == DataType::kE8M0;
  float qmax = a.output_type == DataType::kFP4 ? 6.0f : 448.0f;
  if (mxfp8 && global != 1.0f) ctx.fail("MXFP8 needs a global scale of 1, got ", global);

  int64_t stride = 1;  // elements between neighbours along the axis
  for (int d = axis + 1; d < rank; ++d) stride *= x.dims[d];
  std::vector<int64_t> sidx(static_cast<size_t>(rank), 0);
  for (int64_t b = 0; b < scales.numel(); ++b, next_index(scales.dims, sidx)) {
    // First data element of block b.
    std::vector<int64_t> xidx = sidx;
    xidx[static_cast<size_t>(axis)] *= a.block_size;
    int64_t base = 0;
    for (int d = 0; d < rank; ++d) base = base * x.dims[d] + xidx[static_cast<size_t>(d)];

    float amax = 0.0f;
    for (int64_t k = 0; k < a.block_size; ++k) {
      float v = std::fabs(load_f(x, base + k * stride));
      if (std::isnan(v) || v > amax) amax = v;
      if (std::isnan(amax)) break;
    }
    float divisor;  // data = round(x / divisor)
    if (mxfp8) {
      // scale = 2^ceil(log2(amax / 448)): the smallest power of two that keeps amax / scale
      // within the FP8 range, so no element saturates. Double arithmetic keeps the ceil exact.
      uint8_t code;
      if (std::isnan(amax)) {
        code = 0xff;
      } else {
        double r = static_cast<double>(amax) / 448.0;
        int ex = 0;
        double f = std::frexp(r, &ex);  // r = f * 2^ex, f in [0.5, 1)
        int e = (r == 0.0) ? -127 : (f == 0.5 ? ex - 1 : ex);
        code = static_cast<uint8_t>(std::clamp(e + 127, 0, 254));
      }
      static_cast<uint8_t*>(scales.data)[b] = code;
      divisor = e8m0_bits_to_float(code);
    } else {
      float sf = amax / qmax / global;
      store_f(scales, b, sf);  // NVFP4: rounds to FP8 (saturating); float: exact
      divisor = load_f(scales, b) * global;
    }
    for (int64_t k = 0; k < a.block_size; ++k) {
      int64_t i = base + k * stride;
      // An all-zero block (or one whose scale underflows to 0) quantizes to zeros.
      float q = divisor == 0.0f ? 0.0f : load_f(x, i) / divisor;
      store_f(data, i, q);
    }
  }
}

}  // namespace layerkit::cpu
