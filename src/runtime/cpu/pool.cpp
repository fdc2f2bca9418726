// Reference kernel for the Pooling kind: per output element, a loop over its window (three
// spatial axes; fewer are padded with unit axes).
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <tuple>
#include <utility>

#include "network/layers/conv_geometry.h"
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const PoolingAttrs& a, KernelCtx& ctx) {
  using detail::kSpatialAxes;
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& y = ctx.output(0);
  const int axes = a.window.rank();
  std::vector<int64_t> in(x.dims.begin() + 2, x.dims.end());
  std::vector<int64_t> out(y.dims.begin() + 2, y.dims.end());
  std::vector<int64_t> window = a.window.to_vector();
  std::vector<int64_t> stride = a.stride.rank() == 0 ? window : a.stride.to_vector();
  std::vector<int64_t> dil = detail::per_axis(a.dilation, axes, 1);
  std::vector<int64_t> pre = detail::per_axis(a.pre_padding, axes, 0);
  std::vector<int64_t> post = detail::per_axis(a.post_padding, axes, 0);
  for (size_t s = 0; s < static_cast<size_t>(axes); ++s) {
    detail::AxisGeometry g = detail::forward_axis(in[s], detail::dilated_extent(window[s], dil[s]),
                                                  stride[s], pre[s], post[s], a.padding_mode);
    pre[s] = g.pre;
    post[s] = g.post;
  }
  in = detail::to3(in, 1);
  out = detail::to3(out, 1);
  window = detail::to3(window, 1);
  stride = detail::to3(stride, 1);
  dil = detail::to3(dil, 1);
  pre = detail::to3(pre, 0);
  post = detail::to3(post, 0);

  const int64_t planes = x.dims[0] * x.dims[1];
  const int64_t in_vol = in[0] * in[1] * in[2];
  const int64_t out_vol = out[0] * out[1] * out[2];
  const double blend = a.type == PoolingType::kMAX       ? 1.0
                       : a.type == PoolingType::kAVERAGE ? 0.0
                                                         : static_cast<double>(a.blend_factor);
  for (int64_t plane = 0; plane < planes; ++plane) {
    for (int64_t o = 0; o < out_vol; ++o) {
      std::array<int64_t, kSpatialAxes> oi{o / (out[1] * out[2]), (o / out[2]) % out[1],
                                           o % out[2]};
      // Padding never wins a max; the average divides by the in-bounds count, or (when padding
      // counts) by the window clipped to the padded extent [-pre, in + post). Both conditions hold
      // per axis, so each axis' window positions [lo, hi) inside the input and the count inside
      // the padded extent come from the window's first position and its dilation, and the loop
      // visits in-bounds elements only: a window of 2^31 over a few inputs (an LRN of that size
      // made one) costs what it reads, not its extent.
      std::array<int64_t, kSpatialAxes> lo{}, hi{};
      int64_t padded = 1;
      for (size_t d = 0; d < kSpatialAxes; ++d) {
        const int64_t first = oi[d] * stride[d] - pre[d];  // position of window index 0
        // Window indices k in [0, window) with lower <= first + k * dil < upper.
        auto range = [&](int64_t lower, int64_t upper) {
          const int64_t from = std::max<int64_t>(0, detail::ceil_div(lower - first, dil[d]));
          const int64_t to =
              std::min<int64_t>(window[d], detail::floor_div(upper - 1 - first, dil[d]) + 1);
          return std::pair<int64_t, int64_t>{from, std::max(from, to)};
        };
        std::tie(lo[d], hi[d]) = range(0, in[d]);
        const auto [pfrom, pto] = range(-pre[d], in[d] + post[d]);
        padded *= pto - pfrom;
      }
      double mx = -std::numeric_limits<double>::infinity(), sum = 0.0;
      int64_t inside = 0;
      for (int64_t k0 = lo[0]; k0 < hi[0]; ++k0)
        for (int64_t k1 = lo[1]; k1 < hi[1]; ++k1)
          for (int64_t k2 = lo[2]; k2 < hi[2]; ++k2) {
            std::array<int64_t, kSpatialAxes> kk{k0, k1, k2};
            int64_t flat = 0;
            for (size_t d = 0; d < kSpatialAxes; ++d)
              flat = flat * in[d] + oi[d] * stride[d] - pre[d] + kk[d] * dil[d];
            double v = load_f(x, plane * in_vol + flat);
            if (v > mx || std::isnan(v)) mx = v;  // NaN propagates, as in ATen
            sum += v;
            ++inside;
          }
      // A window with no in-bounds element (possible with kEXPLICIT_ROUND_UP and a stride larger
      // than the window) averages to 0.
      int64_t count = a.average_count_excludes_padding ? inside : padded;
      double avg = count > 0 ? sum / static_cast<double>(count) : 0.0;
      double r = blend == 1.0 ? mx : blend == 0.0 ? avg : blend * mx + (1.0 - blend) * avg;
      store_f(y, plane * out_vol + o, static_cast<float>(r));
    }
  }
}

}  // namespace layerkit::cpu
