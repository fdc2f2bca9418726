// Helper kernels of the cuDNN family (dnn.cpp): explicit padding, conversion to float, the
// deconvolution epilogue and a direct pooling kernel for what cuDNN's descriptors cannot say.
#pragma once

#include <array>
#include <cstdint>

#include "runtime/cuda/kernel.h"

namespace layerkit::cuda {

// Three spatial axes (fewer are padded with leading unit axes), as the CPU reference uses.
using Axes3 = std::array<int64_t, 3>;

// y[plane, pre + i] = x[plane, i] over three spatial axes, zero elsewhere; y has dims `out`.
void pad_spatial(const LaunchCtx& ctx, DataType t, const void* x, void* y, int64_t planes,
                 const Axes3& in, const Axes3& pre, const Axes3& out);

// y[i] = float(x[i]) for n elements.
void to_float(const LaunchCtx& ctx, DataType t, const void* x, float* y, int64_t n);

// out[n, k, o] = round(full[n, k, o + offset] + bias[k]) over three spatial axes: crops the
// uncropped deconvolution and adds the bias (type `bias_type`; null: none) in one rounding.
void deconv_epilogue(const LaunchCtx& ctx, const float* full, const Axes3& full_dims,
                     const Axes3& offset, int64_t batch, int64_t channels, DataType bias_type,
                     const void* bias, DataType out_type, void* out, const Axes3& out_dims);

struct PoolGeometry {
  int64_t planes = 0;
  Axes3 in{}, out{}, window{}, stride{}, dilation{}, pre{}, post{};
  double blend = 1.0;  // 1: max, 0: average, else blend * max + (1 - blend) * average
  bool exclude_padding = true;
};

// The reference's pooling loop per output element (double accumulation, NaN propagation).
void pool_direct(const LaunchCtx& ctx, const PoolGeometry& g, DataType xt, const void* x,
                 DataType yt, void* y);

}  // namespace layerkit::cuda
