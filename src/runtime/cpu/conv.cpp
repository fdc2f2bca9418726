// Reference kernels for the Convolution and Deconvolution kinds: direct (gather) loops over
// three spatial axes (fewer are padded with unit axes), accumulating in double.
#include <array>
#include <functional>

#include "network/layers/conv_geometry.h"
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {
namespace {

using detail::kSpatialAxes;
using Vec3 = std::array<int64_t, kSpatialAxes>;

Vec3 vec3(const std::vector<int64_t>& v) {
  Vec3 r{};
  for (int i = 0; i < kSpatialAxes; ++i) r[static_cast<size_t>(i)] = v[static_cast<size_t>(i)];
  return r;
}

// Everything a kernel needs, with spatial parameters padded to three axes.
struct ConvGeometry {
  int64_t n, c, k, groups;
  Vec3 in, out, ksize, stride, dil, pre;
};

template <typename A>
ConvGeometry geometry(const A& a, const KernelTensor& x, const KernelTensor& y, bool transposed) {
  const int axes = a.kernel_size.rank();
  std::vector<int64_t> in(x.dims.begin() + 2, x.dims.end());
  std::vector<int64_t> out(y.dims.begin() + 2, y.dims.end());
  std::vector<int64_t> stride = detail::per_axis(a.stride, axes, 1);
  std::vector<int64_t> dil = detail::per_axis(a.dilation, axes, 1);
  std::vector<int64_t> pre = detail::per_axis(a.pre_padding, axes, 0);
  std::vector<int64_t> post = detail::per_axis(a.post_padding, axes, 0);
  for (int i = 0; i < axes; ++i) {
    auto s = static_cast<size_t>(i);
    int64_t ext = detail::dilated_extent(a.kernel_size[i], dil[s]);
    detail::AxisGeometry g =
        transposed ? detail::transposed_axis(in[s], ext, stride[s], pre[s], post[s], a.padding_mode)
                   : detail::forward_axis(in[s], ext, stride[s], pre[s], post[s], a.padding_mode);
    pre[s] = g.pre;
  }
  ConvGeometry g;
  g.n = x.dims[0];
  g.c = x.dims[1];
  g.k = a.num_output_maps;
  g.groups = a.num_groups;
  g.in = vec3(detail::to3(in, 1));
  g.out = vec3(detail::to3(out, 1));
  g.ksize = vec3(detail::to3(a.kernel_size.to_vector(), 1));
  g.stride = vec3(detail::to3(stride, 1));
  g.dil = vec3(detail::to3(dil, 1));
  g.pre = vec3(detail::to3(pre, 0));
  return g;
}

// Kernel and bias values come from the tensor inputs when present, else from the weights.
template <typename A>
std::function<float(int64_t)> kernel_values(const A& a, KernelCtx& ctx) {
  if (ctx.has_input(1)) {
    const KernelTensor& w = ctx.input(1);
    return [&w](int64_t i) { return load_f(w, i); };
  }
  return [&a](int64_t i) { return load_f(a.kernel.type(), a.kernel.data(), i); };
}
template <typename A>
std::function<double(int64_t)> bias_values(const A& a, KernelCtx& ctx) {
  if (ctx.has_input(2)) {
    const KernelTensor& b = ctx.input(2);
    return [&b](int64_t i) { return static_cast<double>(load_f(b, i)); };
  }
  if (a.bias.empty()) return [](int64_t) { return 0.0; };
  return [&a](int64_t i) { return static_cast<double>(load_f(a.bias.type(), a.bias.data(), i)); };
}

int64_t flat3(const Vec3& dims, const Vec3& idx) {
  return (idx[0] * dims[1] + idx[1]) * dims[2] + idx[2];
}
int64_t volume3(const Vec3& d) {
  return d[0] * d[1] * d[2];
}

// Calls f(idx) for every index of a three-axis box.
template <typename F>
void for_each3(const Vec3& dims, F f) {
  Vec3 i{};
  for (i[0] = 0; i[0] < dims[0]; ++i[0])
    for (i[1] = 0; i[1] < dims[1]; ++i[1])
      for (i[2] = 0; i[2] < dims[2]; ++i[2]) f(i);
}

}  // namespace

void run_reference(const ConvolutionAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& y = ctx.output(0);
  ConvGeometry g = geometry(a, x, y, false);
  auto w = kernel_values(a, ctx);
  auto bias = bias_values(a, ctx);
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  const int64_t in_vol = volume3(g.in), out_vol = volume3(g.out), k_vol = volume3(g.ksize);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t ko = 0; ko < g.k; ++ko) {
      const int64_t c0 = (ko / kg) * cg;
      for_each3(g.out, [&](const Vec3& o) {
        double acc = bias(ko);
        for (int64_t ci = 0; ci < cg; ++ci) {
          const int64_t x_base = (n * g.c + c0 + ci) * in_vol;
          const int64_t w_base = (ko * cg + ci) * k_vol;
          for_each3(g.ksize, [&](const Vec3& kk) {
            Vec3 p{};
            for (size_t d = 0; d < kSpatialAxes; ++d) {
              p[d] = o[d] * g.stride[d] - g.pre[d] + kk[d] * g.dil[d];
              if (p[d] < 0 || p[d] >= g.in[d]) return;  // zero padding contributes nothing
            }
            acc += static_cast<double>(load_f(x, x_base + flat3(g.in, p))) *
                   static_cast<double>(w(w_base + flat3(g.ksize, kk)));
          });
        }
        store_f(y, (n * g.k + ko) * out_vol + flat3(g.out, o), static_cast<float>(acc));
      });
    }
}

void run_reference(const DeconvolutionAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& y = ctx.output(0);
  ConvGeometry g = geometry(a, x, y, true);
  auto w = kernel_values(a, ctx);
  auto bias = bias_values(a, ctx);
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  const int64_t in_vol = volume3(g.in), out_vol = volume3(g.out), k_vol = volume3(g.ksize);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t ko = 0; ko < g.k; ++ko) {
      const int64_t c0 = (ko / kg) * cg, kl = ko % kg;
      for_each3(g.out, [&](const Vec3& o) {
        double acc = bias(ko);
        for (int64_t ci = 0; ci < cg; ++ci) {
          const int64_t x_base = (n * g.c + c0 + ci) * in_vol;
          const int64_t w_base = ((c0 + ci) * kg + kl) * k_vol;
          // Output o (in the uncropped output, o + pre) receives input i through kernel tap kk
          // when i * stride + kk * dilation == o + pre.
          for_each3(g.ksize, [&](const Vec3& kk) {
            Vec3 p{};
            for (size_t d = 0; d < kSpatialAxes; ++d) {
              int64_t t = o[d] + g.pre[d] - kk[d] * g.dil[d];
              if (t < 0 || t % g.stride[d] != 0 || t / g.stride[d] >= g.in[d]) return;
              p[d] = t / g.stride[d];
            }
            acc += static_cast<double>(load_f(x, x_base + flat3(g.in, p))) *
                   static_cast<double>(w(w_base + flat3(g.ksize, kk)));
          });
        }
        store_f(y, (n * g.k + ko) * out_vol + flat3(g.out, o), static_cast<float>(acc));
      });
    }
}

}  // namespace layerkit::cpu
