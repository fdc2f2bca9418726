// Reference kernels for the Resize and GridSample kinds.
#include <algorithm>
#include <cmath>
#include <optional>

#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

namespace {

// One input position contributing to an output position along one axis.
struct Tap {
  int64_t index;
  float weight;
};

float cubic_near(float x, float A) {  // |x| <= 1
  return ((A + 2) * x - (A + 3)) * x * x + 1;
}
float cubic_far(float x, float A) {  // 1 < |x| < 2
  return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
}

int64_t round_nearest(float x, ResizeRoundMode mode) {
  switch (mode) {
    case ResizeRoundMode::kHALF_UP:
      return static_cast<int64_t>(std::floor(x + 0.5f));
    case ResizeRoundMode::kHALF_DOWN:
      return static_cast<int64_t>(std::ceil(x - 0.5f));
    case ResizeRoundMode::kFLOOR:
      return static_cast<int64_t>(std::floor(x));
    case ResizeRoundMode::kCEIL:
      return static_cast<int64_t>(std::ceil(x));
  }
  return 0;
}

// The taps of every output position of one axis. Coordinates are computed in float with the
// ratio in/out (or 1/scale when a scale is given) as ATen does, so nearest indices agree with it
// bit for bit.
std::vector<std::vector<Tap>> axis_taps(const ResizeAttrs& a, int64_t in, int64_t out,
                                        std::optional<double> scale) {
  std::vector<std::vector<Tap>> taps(static_cast<size_t>(out));
  bool identity = in == out && (!scale || *scale == 1.0);
  using CT = ResizeCoordinateTransformation;
  float ratio;
  if (a.coordinate_transformation == CT::kALIGN_CORNERS) {
    ratio = out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
  } else {
    ratio =
        scale ? static_cast<float>(1.0 / *scale) : static_cast<float>(in) / static_cast<float>(out);
  }
  for (int64_t o = 0; o < out; ++o) {
    auto& t = taps[static_cast<size_t>(o)];
    if (identity) {
      t.push_back({o, 1.0f});
      continue;
    }
    float x;
    if (out == 1 && a.selector_for_single_pixel == ResizeSelector::kUPPER) {
      x = 0.0f;  // kUPPER picks the upper-left pixel (ONNX's pytorch_half_pixel)
    } else if (a.coordinate_transformation == CT::kHALF_PIXEL) {
      x = ratio * (static_cast<float>(o) + 0.5f) - 0.5f;
    } else {
      x = ratio * static_cast<float>(o);
    }
    switch (a.resize_mode) {
      case InterpolationMode::kNEAREST: {
        int64_t i = std::clamp<int64_t>(round_nearest(x, a.nearest_rounding), 0, in - 1);
        t.push_back({i, 1.0f});
        break;
      }
      case InterpolationMode::kLINEAR: {
        // Positions before the first pixel read it alone (edge clamping), as ATen and ONNX do.
        x = std::max(x, 0.0f);
        int64_t i0 = std::min(static_cast<int64_t>(x), in - 1);
        int64_t i1 = std::min(i0 + 1, in - 1);
        float l1 = x - static_cast<float>(i0);
        t.push_back({i0, 1.0f - l1});
        t.push_back({i1, l1});
        break;
      }
      case InterpolationMode::kCUBIC: {
        float A = a.cubic_coeff;
        float f = std::floor(x);
        float u = x - f;
        auto i0 = static_cast<int64_t>(f);
        float w[4] = {cubic_far(u + 1.0f, A), cubic_near(u, A), cubic_near(1.0f - u, A),
                      cubic_far(2.0f - u, A)};
        float kept = 0.0f;
        for (int k = 0; k < 4; ++k) {
          int64_t i = i0 - 1 + k;
          bool inside = i >= 0 && i < in;
          if (a.exclude_outside && !inside) continue;
          kept += w[k];
          // Outside taps read the edge pixel unless exclude_outside drops them.
          t.push_back({std::clamp<int64_t>(i, 0, in - 1), w[k]});
        }
        if (a.exclude_outside)
          for (Tap& tp : t) tp.weight /= kept;
        break;
      }
    }
  }
  return taps;
}

// The per-axis scale the coordinates use: the given one, or none when output sizes were given.
std::vector<std::optional<double>> resize_scales(const ResizeAttrs& a, KernelCtx& ctx, int rank) {
  std::vector<std::optional<double>> s(static_cast<size_t>(rank));
  if (ctx.num_inputs() == 2 && ctx.has_input(1)) {
    const KernelTensor& t = ctx.input(1);
    if (t.type == DataType::kFLOAT)
      for (int d = 0; d < rank; ++d) s[static_cast<size_t>(d)] = load_f(t, d);
  } else if (!a.output_dims && !a.scales.empty()) {
    for (int d = 0; d < rank; ++d) s[static_cast<size_t>(d)] = a.scales[static_cast<size_t>(d)];
  }
  return s;
}

}  // namespace

void run_reference(const ResizeAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& y = ctx.output(0);
  int rank = x.dims.rank();
  if (y.numel() == 0) return;
  auto scales = resize_scales(a, ctx, rank);
  std::vector<std::vector<std::vector<Tap>>> taps;
  for (int d = 0; d < rank; ++d)
    taps.push_back(axis_taps(a, x.dims[d], y.dims[d], scales[static_cast<size_t>(d)]));
  std::vector<int64_t> in_strides = x.dims.strides();
  bool integer = !is_floating(x.type);

  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  std::vector<size_t> k(static_cast<size_t>(rank));
  int64_t o = 0;
  do {
    // Sum over the tensor product of the axes' taps.
    std::vector<const std::vector<Tap>*> at(static_cast<size_t>(rank));
    for (int d = 0; d < rank; ++d)
      at[static_cast<size_t>(d)] =
          &taps[static_cast<size_t>(d)][static_cast<size_t>(idx[static_cast<size_t>(d)])];
    std::fill(k.begin(), k.end(), 0);
    double sum = 0.0;
    int64_t first_off = 0;
    for (bool more = true; more;) {
      double w = 1.0;
      int64_t off = 0;
      for (int d = 0; d < rank; ++d) {
        const Tap& tp = (*at[static_cast<size_t>(d)])[k[static_cast<size_t>(d)]];
        w *= tp.weight;
        off += tp.index * in_strides[static_cast<size_t>(d)];
      }
      if (integer) {
        first_off = off;  // nearest: exactly one tap
        break;
      }
      sum += w * static_cast<double>(load_f(x, off));
      more = false;
      for (int d = rank - 1; d >= 0; --d) {
        size_t ud = static_cast<size_t>(d);
        if (++k[ud] < at[ud]->size()) {
          more = true;
          break;
        }
        k[ud] = 0;
      }
    }
    if (integer)
      store_i(y, o, load_i(x, first_off));
    else
      store_f(y, o, static_cast<float>(sum));
    ++o;
  } while (next_index(y.dims, idx));
}

namespace {

// Reflects `v` into [lo2/2, hi2/2] (bounds given doubled, as ATen's grid sampler does).
float reflect(float v, int64_t lo2, int64_t hi2) {
  if (lo2 == hi2) return 0.0f;
  float mn = static_cast<float>(lo2) / 2;
  float span = static_cast<float>(hi2 - lo2) / 2;
  v = std::fabs(v - mn);
  float extra = std::fmod(v, span);
  auto flips = static_cast<int64_t>(std::floor(v / span));
  return flips % 2 == 0 ? extra + mn : span - extra + mn;
}

// Applies kCLAMP / kREFLECT to a source coordinate; kFILL leaves it (out of range reads 0).
float pad_coordinate(float v, int64_t size, const GridSampleAttrs& a) {
  if (a.sample_mode == SampleMode::kCLAMP) {
    v = std::clamp(v, 0.0f, static_cast<float>(size - 1));
  } else if (a.sample_mode == SampleMode::kREFLECT) {
    v = a.align_corners ? reflect(v, 0, 2 * (size - 1)) : reflect(v, -1, 2 * size - 1);
    v = std::clamp(v, 0.0f, static_cast<float>(size - 1));
  }
  return v;
}

}  // namespace

void run_reference(const GridSampleAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& grid = ctx.input(1);
  const KernelTensor& y = ctx.output(0);
  const int64_t N = x.dims[0], C = x.dims[1], H = x.dims[2], W = x.dims[3];
  const int64_t Ho = y.dims[2], Wo = y.dims[3];
  auto unnormalize = [&](float c, int64_t size) {
    return a.align_corners ? (c + 1.0f) / 2.0f * static_cast<float>(size - 1)
                           : ((c + 1.0f) * static_cast<float>(size) - 1.0f) / 2.0f;
  };
  // Reads data at an integer position; positions outside the image read 0 (kFILL).
  auto value = [&](int64_t n, int64_t c, int64_t iy, int64_t ix) -> float {
    if (iy < 0 || iy >= H || ix < 0 || ix >= W) return 0.0f;
    return load_f(x, ((n * C + c) * H + iy) * W + ix);
  };
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t h = 0; h < Ho; ++h) {
      for (int64_t w = 0; w < Wo; ++w) {
        int64_t g = ((n * Ho + h) * Wo + w) * 2;
        float ix = unnormalize(load_f(grid, g), W);
        float iy = unnormalize(load_f(grid, g + 1), H);
        for (int64_t c = 0; c < C; ++c) {
          double out = 0.0;
          if (a.interpolation_mode == InterpolationMode::kCUBIC) {
            // Cubic pads each of the 4x4 taps, not the sampling point.
            float fx = std::floor(ix), fy = std::floor(iy);
            float tx = ix - fx, ty = iy - fy;
            constexpr float A = -0.75f;
            float wx[4] = {cubic_far(tx + 1.0f, A), cubic_near(tx, A), cubic_near(1.0f - tx, A),
                           cubic_far(2.0f - tx, A)};
            float wy[4] = {cubic_far(ty + 1.0f, A), cubic_near(ty, A), cubic_near(1.0f - ty, A),
                           cubic_far(2.0f - ty, A)};
            for (int j = 0; j < 4; ++j) {
              for (int i = 0; i < 4; ++i) {
                float px = pad_coordinate(fx - 1.0f + static_cast<float>(i), W, a);
                float py = pad_coordinate(fy - 1.0f + static_cast<float>(j), H, a);
                out += static_cast<double>(wy[j]) * wx[i] *
                       value(n, c, static_cast<int64_t>(py), static_cast<int64_t>(px));
              }
            }
          } else {
            float px = pad_coordinate(ix, W, a), py = pad_coordinate(iy, H, a);
            if (a.interpolation_mode == InterpolationMode::kNEAREST) {
              // Round half to even, as ATen's nearbyint.
              out = value(n, c, static_cast<int64_t>(std::nearbyint(py)),
                          static_cast<int64_t>(std::nearbyint(px)));
            } else {
              float fx = std::floor(px), fy = std::floor(py);
              float tx = px - fx, ty = py - fy;
              auto x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
              out = static_cast<double>((1 - tx) * (1 - ty)) * value(n, c, y0, x0) +
                    static_cast<double>(tx * (1 - ty)) * value(n, c, y0, x0 + 1) +
                    static_cast<double>((1 - tx) * ty) * value(n, c, y0 + 1, x0) +
                    static_cast<double>(tx * ty) * value(n, c, y0 + 1, x0 + 1);
            }
          }
          store_f(y, ((n * C + c) * Ho + h) * Wo + w, static_cast<float>(out));
        }
      }
    }
  }
}

}  // namespace layerkit::cpu
