// Helper kernels of the cuDNN family: explicit zero padding, float conversion, the
// deconvolution epilogue (crop + bias) and the direct pooling kernel (see dnn_kernels.h).
#include <cmath>

#include "core/element.h"
#include "runtime/cuda/device.cuh"
#include "runtime/cuda/dnn_kernels.h"

namespace layerkit::cuda {
namespace {

struct Box {
  int64_t d[3];
};
Box box(const Axes3& a) {
  return {{a[0], a[1], a[2]}};
}

template <typename T>
void pad_typed(const LaunchCtx& ctx, const void* xv, void* yv, int64_t planes, Box in, Box pre,
               Box out) {
  const T* x = static_cast<const T*>(xv);
  T* y = static_cast<T*>(yv);
  const int64_t out_vol = out.d[0] * out.d[1] * out.d[2];
  const int64_t in_vol = in.d[0] * in.d[1] * in.d[2];
  for_each(ctx, planes * out_vol, [=] __device__(int64_t e) {
    const int64_t plane = e / out_vol;
    int64_t rest = e % out_vol, src = 0;
    bool inside = true;
    int64_t idx[3];
    for (int a = 2; a >= 0; --a) {
      idx[a] = rest % out.d[a] - pre.d[a];
      rest /= out.d[a];
      inside = inside && idx[a] >= 0 && idx[a] < in.d[a];
    }
    if (inside) src = (idx[0] * in.d[1] + idx[1]) * in.d[2] + idx[2];
    y[e] = inside ? x[plane * in_vol + src] : T(0);  // all-zero bits: +0 in every float type
  });
}

// PoolGeometry as plain arrays, by value for the kernel.
struct PoolArrays {
  int64_t in[3], out[3], window[3], stride[3], dil[3], pre[3], post[3];
};

}  // namespace

void pad_spatial(const LaunchCtx& ctx, DataType t, const void* x, void* y, int64_t planes,
                 const Axes3& in, const Axes3& pre, const Axes3& out) {
  switch (element_size(t)) {
    case 2:
      return pad_typed<uint16_t>(ctx, x, y, planes, box(in), box(pre), box(out));
    case 4:
      return pad_typed<uint32_t>(ctx, x, y, planes, box(in), box(pre), box(out));
    default:
      LK_FAIL(kINTERNAL, "layer '", ctx.layer_name(), "': padding ", data_type_name(t));
  }
}

void to_float(const LaunchCtx& ctx, DataType t, const void* x, float* y, int64_t n) {
  for_each(ctx, n, [=] __device__(int64_t i) { y[i] = dev::load_f(t, x, i); });
}

void deconv_epilogue(const LaunchCtx& ctx, const float* full, const Axes3& full_dims,
                     const Axes3& offset, int64_t batch, int64_t channels, DataType bias_type,
                     const void* bias, DataType out_type, void* out, const Axes3& out_dims) {
  const Box f = box(full_dims), off = box(offset), o = box(out_dims);
  const int64_t out_vol = o.d[0] * o.d[1] * o.d[2];
  const int64_t full_vol = f.d[0] * f.d[1] * f.d[2];
  for_each(ctx, batch * channels * out_vol, [=] __device__(int64_t e) {
    const int64_t plane = e / out_vol;
    int64_t rest = e % out_vol, src = 0;
    int64_t idx[3];
    for (int a = 2; a >= 0; --a) {
      idx[a] = rest % o.d[a] + off.d[a];
      rest /= o.d[a];
    }
    src = (idx[0] * f.d[1] + idx[1]) * f.d[2] + idx[2];
    double v = full[plane * full_vol + src];
    if (bias) v += static_cast<double>(dev::load_f(bias_type, bias, plane % channels));
    dev::store_f(out_type, out, e, static_cast<float>(v));
  });
}

void pool_direct(const LaunchCtx& ctx, const PoolGeometry& geom, DataType xt, const void* x,
                 DataType yt, void* y) {
  PoolArrays g{};
  for (int a = 0; a < 3; ++a) {
    const auto u = static_cast<size_t>(a);
    g.in[a] = geom.in[u];
    g.out[a] = geom.out[u];
    g.window[a] = geom.window[u];
    g.stride[a] = geom.stride[u];
    g.dil[a] = geom.dilation[u];
    g.pre[a] = geom.pre[u];
    g.post[a] = geom.post[u];
  }
  const double blend = geom.blend;
  const bool exclude = geom.exclude_padding;
  const int64_t in_vol = g.in[0] * g.in[1] * g.in[2];
  const int64_t out_vol = g.out[0] * g.out[1] * g.out[2];
  for_each(ctx, geom.planes * out_vol, [=] __device__(int64_t e) {
    const int64_t plane = e / out_vol, o = e % out_vol;
    const int64_t oi[3] = {o / (g.out[1] * g.out[2]), (o / g.out[2]) % g.out[1], o % g.out[2]};
    // As the reference: padding never wins a max; the average divides by the in-bounds count
    // or by the window clipped to the padded extent.
    double mx = -INFINITY, sum = 0.0;
    int64_t inside = 0, padded = 0;
    for (int64_t k0 = 0; k0 < g.window[0]; ++k0)
      for (int64_t k1 = 0; k1 < g.window[1]; ++k1)
        for (int64_t k2 = 0; k2 < g.window[2]; ++k2) {
          const int64_t kk[3] = {k0, k1, k2};
          bool in_bounds = true, in_padded = true;
          int64_t flat = 0;
          for (int d = 0; d < 3; ++d) {
            const int64_t p = oi[d] * g.stride[d] - g.pre[d] + kk[d] * g.dil[d];
            in_bounds = in_bounds && p >= 0 && p < g.in[d];
            in_padded = in_padded && p >= -g.pre[d] && p < g.in[d] + g.post[d];
            flat = flat * g.in[d] + p;
          }
          if (in_padded) ++padded;
          if (!in_bounds) continue;
          const double v = dev::load_f(xt, x, plane * in_vol + flat);
          if (v > mx || isnan(v)) mx = v;
          sum += v;
          ++inside;
        }
    const int64_t count = exclude ? inside : padded;
    const double avg = count > 0 ? sum / static_cast<double>(count) : 0.0;
    const double r = blend == 1.0   ? mx
                     : blend == 0.0 ? avg
                                    : __dadd_rn(__dmul_rn(blend, mx), __dmul_rn(1.0 - blend, avg));
    dev::store_f(yt, y, e, static_cast<float>(r));
  });
}

}  // namespace layerkit::cuda
