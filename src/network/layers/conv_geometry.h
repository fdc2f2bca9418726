// Spatial geometry shared by Convolution, Deconvolution and Pooling: per-axis output sizes and
// the padding TensorRT's PaddingMode implies (used by inference and by the reference kernels).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "layerkit/core/dims.h"
#include "layerkit/core/size.h"
#include "layerkit/network/layers.h"

namespace layerkit::detail {

// The spatial axes of a layer, always padded to three (leading axes of size 1, stride 1, no
// padding) so kernels can loop over exactly three spatial axes.
inline constexpr int kSpatialAxes = 3;

struct AxisGeometry {
  int64_t out = -1;  // -1: input size unknown
  int64_t pre = 0;   // padding actually used (explicit, or computed for the SAME modes)
  int64_t post = 0;
};

inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
inline int64_t ceil_div(int64_t a, int64_t b) {
  return -floor_div(-a, b);
}

// The formulas below take any attribute values inference has checked (sizes and strides >= 1,
// padding >= 0), which a model or a plan may set near 2^63; each intermediate that can exceed
// int64 goes through checked_* (Note [Size arithmetic]), so such a layer fails with an Error that
// infer_layer prefixes with the layer's name instead of wrapping into a plausible size.

// Dilated kernel/window extent: DK = 1 + D * (F - 1).
inline int64_t dilated_extent(int64_t size, int64_t dilation) {
  return checked_add(1, checked_mul(dilation, size - 1, "dilation x (kernel size - 1)"),
                     "dilated kernel extent");
}

// Convolution and pooling (TensorRT's PaddingMode formulas, M = I + B + A):
// ROUND_DOWN O = floor((M - DK) / S) + 1, ROUND_UP O = ceil((M - DK) / S) + 1,
// SAME_* O = ceil(I / S) with P = floor((I - 1) / S) * S + DK - I split floor(P/2) before
// (UPPER) or after (LOWER). With explicit padding `out` may be <= 0; callers reject that.
inline AxisGeometry forward_axis(int64_t in, int64_t extent, int64_t stride, int64_t pre,
                                 int64_t post, PaddingMode mode) {
  if (mode == PaddingMode::kSAME_UPPER || mode == PaddingMode::kSAME_LOWER) {
    if (in < 0) return {-1, 0, 0};
    // Clamped at 0 like ONNX's auto_pad: a negative P would only leave trailing input unread.
    // floor_div(in - 1, stride) * stride lies in [in - stride, in - 1]: no overflow.
    int64_t p = std::max<int64_t>(
        0, checked_add(floor_div(in - 1, stride) * stride, extent, "SAME padding") - in);
    checked_add(in, p, "padded input");  // callers compare in + P with the extent
    int64_t half = p / 2;
    int64_t out = ceil_div(in, stride);
    return mode == PaddingMode::kSAME_UPPER ? AxisGeometry{out, half, p - half}
                                            : AxisGeometry{out, p - half, half};
  }
  if (in < 0) return {-1, pre, post};
  int64_t span = checked_add(checked_add(in, pre, "padded input"), post, "padded input") - extent;
  int64_t steps =
      mode == PaddingMode::kEXPLICIT_ROUND_UP ? ceil_div(span, stride) : floor_div(span, stride);
  return {steps + 1, pre, post};
}

// Deconvolution (TensorRT): explicit O = (I - 1) * S + DK - (B + A) for both rounding modes;
// SAME_* P = max(DK - S, 0) split floor(P/2) before (UPPER) or after (LOWER), so
// O = min(I * S, (I - 1) * S + DK).
inline AxisGeometry transposed_axis(int64_t in, int64_t extent, int64_t stride, int64_t pre,
                                    int64_t post, PaddingMode mode) {
  if (mode == PaddingMode::kSAME_UPPER || mode == PaddingMode::kSAME_LOWER) {
    int64_t p = std::max<int64_t>(0, extent - stride);
    int64_t half = p / 2;
    pre = mode == PaddingMode::kSAME_UPPER ? half : p - half;
    post = p - pre;
  }
  if (in < 0) return {-1, pre, post};
  const int64_t full = checked_add(checked_mul(in - 1, stride, "(input - 1) x stride"), extent,
                                   "(input - 1) x stride + dilated kernel extent");
  return {full - checked_add(pre, post, "padding"), pre, post};
}

// One spatial parameter per axis: `d` itself, or `fill` everywhere when `d` has rank 0.
inline std::vector<int64_t> per_axis(const Dims& d, int axes, int64_t fill) {
  if (d.rank() == 0) return std::vector<int64_t>(static_cast<size_t>(axes), fill);
  return d.to_vector();
}

// Left-pads a per-axis vector to kSpatialAxes entries with `fill`.
inline std::vector<int64_t> to3(const std::vector<int64_t>& v, int64_t fill) {
  std::vector<int64_t> r(static_cast<size_t>(kSpatialAxes) - v.size(), fill);
  r.insert(r.end(), v.begin(), v.end());
  return r;
}

}  // namespace layerkit::detail
