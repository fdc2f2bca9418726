// CUDA kernels for the Resize and GridSample kinds, computing as the CPU reference does.
#include <optional>
#include <vector>

#include "runtime/cuda/device.cuh"

namespace layerkit::cuda {
namespace {

// Note [Exact float steps]: the CPU reference is built for baseline x86-64, where every float
// and double operation rounds on its own; nvcc would fuse a multiply and an add into one FMA
// (one rounding), which moves a nearest index across a tie or a weight by an ulp. Coordinates,
// weights and sums therefore use the round-to-nearest intrinsics, which are never fused, in the
// reference's order of operations.
__device__ inline float fadd(float a, float b) {
  return __fadd_rn(a, b);
}
__device__ inline float fsub(float a, float b) {
  return __fsub_rn(a, b);
}
__device__ inline float fmul(float a, float b) {
  return __fmul_rn(a, b);
}
__device__ inline float fdiv(float a, float b) {
  return __fdiv_rn(a, b);
}
__device__ inline double dadd(double a, double b) {
  return __dadd_rn(a, b);
}
__device__ inline double dmul(double a, double b) {
  return __dmul_rn(a, b);
}

// The cubic convolution kernel's two pieces, as the reference writes them.
__device__ inline float cubic_near(float x, float A) {  // |x| <= 1
  return fadd(fmul(fmul(fsub(fmul(fadd(A, 2.0f), x), fadd(A, 3.0f)), x), x), 1.0f);
}
__device__ inline float cubic_far(float x, float A) {  // 1 < |x| < 2
  return fsub(fmul(fadd(fmul(fsub(fmul(A, x), fmul(5.0f, A)), x), fmul(8.0f, A)), x),
              fmul(4.0f, A));
}

__device__ inline int64_t clamp_index(int64_t i, int64_t lo, int64_t hi) {
  return i < lo ? lo : (i > hi ? hi : i);
}

// ---- Resize ----

// The input positions and weights one output position of one axis reads (at most 4).
struct Taps {
  int64_t index[4];
  float weight[4];
  int count;
};

struct ResizeMap {
  int rank = 0;
  InterpolationMode mode = InterpolationMode::kNEAREST;
  ResizeCoordinateTransformation transform = ResizeCoordinateTransformation::kASYMMETRIC;
  ResizeSelector selector = ResizeSelector::kFORMULA;
  ResizeRoundMode rounding = ResizeRoundMode::kFLOOR;
  float cubic_coeff = -0.75f;
  bool exclude_outside = false;
  int64_t in[kMaxDims] = {}, out[kMaxDims] = {}, in_strides[kMaxDims] = {};
  int64_t first[kMaxDims] = {};  // where each axis's taps start in the table
  float ratio[kMaxDims] = {};
  bool identity[kMaxDims] = {};
};

__device__ inline int64_t round_nearest(float x, ResizeRoundMode mode) {
  switch (mode) {
    case ResizeRoundMode::kHALF_UP:
      return static_cast<int64_t>(floorf(fadd(x, 0.5f)));
    case ResizeRoundMode::kHALF_DOWN:
      return static_cast<int64_t>(ceilf(fsub(x, 0.5f)));
    case ResizeRoundMode::kFLOOR:
      return static_cast<int64_t>(floorf(x));
    case ResizeRoundMode::kCEIL:
      return static_cast<int64_t>(ceilf(x));
  }
  return 0;
}

// The taps of output position o of axis d, as the reference's axis_taps computes them.
__device__ Taps axis_taps(const ResizeMap& m, int d, int64_t o) {
  Taps t{};
  const int64_t in = m.in[d];
  if (m.identity[d]) {
    t.index[0] = o;
    t.weight[0] = 1.0f;
    t.count = 1;
    return t;
  }
  const float ratio = m.ratio[d];
  float x;
  if (m.out[d] == 1 && m.selector == ResizeSelector::kUPPER)
    x = 0.0f;
  else if (m.transform == ResizeCoordinateTransformation::kHALF_PIXEL)
    x = fsub(fmul(ratio, fadd(static_cast<float>(o), 0.5f)), 0.5f);
  else
    x = fmul(ratio, static_cast<float>(o));
  switch (m.mode) {
    case InterpolationMode::kNEAREST:
      t.index[0] = clamp_index(round_nearest(x, m.rounding), 0, in - 1);
      t.weight[0] = 1.0f;
      t.count = 1;
      break;
    case InterpolationMode::kLINEAR: {
      if (x < 0.0f) x = 0.0f;  // before the first pixel: edge clamping, as ATen and ONNX
      const int64_t i0 = clamp_index(static_cast<int64_t>(x), INT64_MIN, in - 1);
      const int64_t i1 = clamp_index(i0 + 1, INT64_MIN, in - 1);
      const float l1 = fsub(x, static_cast<float>(i0));
      t.index[0] = i0;
      t.weight[0] = fsub(1.0f, l1);
      t.index[1] = i1;
      t.weight[1] = l1;
      t.count = 2;
      break;
    }
    case InterpolationMode::kCUBIC: {
      const float A = m.cubic_coeff;
      const float f = floorf(x);
      const float u = fsub(x, f);
      const auto i0 = static_cast<int64_t>(f);
      const float w[4] = {cubic_far(fadd(u, 1.0f), A), cubic_near(u, A),
                          cubic_near(fsub(1.0f, u), A), cubic_far(fsub(2.0f, u), A)};
      float kept = 0.0f;
      for (int k = 0; k < 4; ++k) {
        const int64_t i = i0 - 1 + k;
        const bool inside = i >= 0 && i < in;
        if (m.exclude_outside && !inside) continue;
        kept = fadd(kept, w[k]);
        t.index[t.count] = clamp_index(i, 0, in - 1);  // outside taps read the edge pixel
        t.weight[t.count++] = w[k];
      }
      if (m.exclude_outside)
        for (int k = 0; k < t.count; ++k) t.weight[k] = fdiv(t.weight[k], kept);
      break;
    }
  }
  return t;
}

class ResizeKernel final : public Kernel {
 public:
  explicit ResizeKernel(const ResizeAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    if (y.numel() == 0) return;
    const int rank = x.dims.rank();
    // The per-axis scale the coordinates use (the reference's resize_scales): float scales from
    // input 1, else the attribute's scales when no output dims are given, else none.
    std::vector<std::optional<double>> scales(static_cast<size_t>(rank));
    if (ctx.num_inputs() == 2 && ctx.has_input(1)) {
      if (ctx.input(1).type == DataType::kFLOAT) {
        const void* h = ctx.host_input(1);
        for (int d = 0; d < rank; ++d)
          scales[static_cast<size_t>(d)] = load_f(DataType::kFLOAT, h, d);
      }
    } else if (!a_.output_dims && !a_.scales.empty()) {
      for (int d = 0; d < rank; ++d)
        scales[static_cast<size_t>(d)] = a_.scales[static_cast<size_t>(d)];
    }
    ResizeMap m;
    m.rank = rank;
    m.mode = a_.resize_mode;
    m.transform = a_.coordinate_transformation;
    m.selector = a_.selector_for_single_pixel;
    m.rounding = a_.nearest_rounding;
    m.cubic_coeff = a_.cubic_coeff;
    m.exclude_outside = a_.exclude_outside;
    const std::vector<int64_t> strides = x.dims.strides();
    int64_t total = 0;
    for (int d = 0; d < rank; ++d) {
      const int64_t in = x.dims[d], out = y.dims[d];
      const std::optional<double>& s = scales[static_cast<size_t>(d)];
      m.in[d] = in;
      m.out[d] = out;
      m.in_strides[d] = strides[static_cast<size_t>(d)];
      m.first[d] = total;
      total += out;
      m.identity[d] = in == out && (!s || *s == 1.0);
      // The ratio in float, computed on the host exactly as the reference does.
      if (a_.coordinate_transformation == ResizeCoordinateTransformation::kALIGN_CORNERS)
        m.ratio[d] = out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
      else
        m.ratio[d] =
            s ? static_cast<float>(1.0 / *s) : static_cast<float>(in) / static_cast<float>(out);
    }
    auto* table = static_cast<Taps*>(ctx.scratch(static_cast<size_t>(total) * sizeof(Taps)));
    for_each(ctx, total, [=] __device__(int64_t e) {
      int d = 0;
      while (d + 1 < m.rank && e >= m.first[d + 1]) ++d;
      table[e] = axis_taps(m, d, e - m.first[d]);
    });
    const DataType t = x.type;
    const void* xp = x.data;
    void* yp = y.data;
    const bool integer = !is_floating(t);
    for_each(ctx, y.numel(), [=] __device__(int64_t i) {
      const Taps* at[kMaxDims];
      int64_t rest = i;
      for (int d = m.rank - 1; d >= 0; --d) {
        at[d] = &table[m.first[d] + rest % m.out[d]];
        rest /= m.out[d];
      }
      if (integer) {  // nearest only: one tap per axis, copied exactly
        int64_t off = 0;
        for (int d = 0; d < m.rank; ++d) off += at[d]->index[0] * m.in_strides[d];
        dev::store_i(t, yp, i, dev::load_i(t, xp, off));
        return;
      }
      // The tensor product of the axes' taps, last axis fastest, summed in double.
      int k[kMaxDims] = {};
      double sum = 0.0;
      for (bool more = true; more;) {
        double w = 1.0;
        int64_t off = 0;
        for (int d = 0; d < m.rank; ++d) {
          w = dmul(w, static_cast<double>(at[d]->weight[k[d]]));
          off += at[d]->index[k[d]] * m.in_strides[d];
        }
        sum = dadd(sum, dmul(w, static_cast<double>(dev::load_f(t, xp, off))));
        more = false;
        for (int d = m.rank - 1; d >= 0; --d) {
          if (++k[d] < at[d]->count) {
            more = true;
            break;
          }
          k[d] = 0;
        }
      }
      dev::store_f(t, yp, i, static_cast<float>(sum));
    });
  }

 private:
  ResizeAttrs a_;
};

// ---- GridSample ----

// Reflects v into [lo2/2, hi2/2] (bounds given doubled, as ATen's grid sampler does).
__device__ inline float reflect(float v, int64_t lo2, int64_t hi2) {
  if (lo2 == hi2) return 0.0f;
  const float mn = fdiv(static_cast<float>(lo2), 2.0f);
  const float span = fdiv(static_cast<float>(hi2 - lo2), 2.0f);
  v = fabsf(fsub(v, mn));
  const float extra = fmodf(v, span);
  const auto flips = static_cast<int64_t>(floorf(fdiv(v, span)));
  return flips % 2 == 0 ? fadd(extra, mn) : fadd(fsub(span, extra), mn);
}

// std::clamp's order of comparisons (a NaN passes through unchanged).
__device__ inline float clampf(float v, float lo, float hi) {
  return v < lo ? lo : (hi < v ? hi : v);
}

struct GridMap {
  InterpolationMode mode;
  SampleMode padding;
  bool align_corners;
  int64_t N, C, H, W, Ho, Wo;
};

// kCLAMP / kREFLECT on a source coordinate; kFILL leaves it (out of range reads 0).
__device__ inline float pad_coordinate(const GridMap& g, float v, int64_t size) {
  if (g.padding == SampleMode::kCLAMP) {
    v = clampf(v, 0.0f, static_cast<float>(size - 1));
  } else if (g.padding == SampleMode::kREFLECT) {
    v = g.align_corners ? reflect(v, 0, 2 * (size - 1)) : reflect(v, -1, 2 * size - 1);
    v = clampf(v, 0.0f, static_cast<float>(size - 1));
  }
  return v;
}

__device__ inline float unnormalize(const GridMap& g, float c, int64_t size) {
  return g.align_corners ? fmul(fdiv(fadd(c, 1.0f), 2.0f), static_cast<float>(size - 1))
                         : fdiv(fsub(fmul(fadd(c, 1.0f), static_cast<float>(size)), 1.0f), 2.0f);
}

// One output element per thread: out[n, c, h, w] samples input image (n, c) at grid[n, h, w].
class GridSampleKernel final : public Kernel {
 public:
  explicit GridSampleKernel(const GridSampleAttrs& a) : a_(a) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& grid = ctx.input(1);
    const DeviceTensor& y = ctx.output(0);
    if (y.numel() == 0) return;
    GridMap g{a_.interpolation_mode,
              a_.sample_mode,
              a_.align_corners,
              x.dims[0],
              x.dims[1],
              x.dims[2],
              x.dims[3],
              y.dims[2],
              y.dims[3]};
    const DataType t = x.type;
    const void* xp = x.data;
    const void* gp = grid.data;
    void* yp = y.data;
    for_each(ctx, y.numel(), [=] __device__(int64_t o) {
      const int64_t w = o % g.Wo, h = (o / g.Wo) % g.Ho, c = (o / (g.Wo * g.Ho)) % g.C,
                    n = o / (g.Wo * g.Ho * g.C);
      // Reads the image at an integer position; outside it reads 0 (kFILL).
      auto value = [&](int64_t iy, int64_t ix) -> float {
        if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) return 0.0f;
        return dev::load_f(t, xp, ((n * g.C + c) * g.H + iy) * g.W + ix);
      };
      const int64_t gi = ((n * g.Ho + h) * g.Wo + w) * 2;
      const float ix = unnormalize(g, dev::load_f(t, gp, gi), g.W);
      const float iy = unnormalize(g, dev::load_f(t, gp, gi + 1), g.H);
      double out = 0.0;
      if (g.mode == InterpolationMode::kCUBIC) {
        // Cubic pads each of the 4x4 taps, not the sampling point.
        const float fx = floorf(ix), fy = floorf(iy);
        const float tx = fsub(ix, fx), ty = fsub(iy, fy);
        constexpr float A = -0.75f;
        const float wx[4] = {cubic_far(fadd(tx, 1.0f), A), cubic_near(tx, A),
                             cubic_near(fsub(1.0f, tx), A), cubic_far(fsub(2.0f, tx), A)};
        const float wy[4] = {cubic_far(fadd(ty, 1.0f), A), cubic_near(ty, A),
                             cubic_near(fsub(1.0f, ty), A), cubic_far(fsub(2.0f, ty), A)};
        for (int j = 0; j < 4; ++j) {
          for (int i = 0; i < 4; ++i) {
            const float px = pad_coordinate(g, fadd(fsub(fx, 1.0f), static_cast<float>(i)), g.W);
            const float py = pad_coordinate(g, fadd(fsub(fy, 1.0f), static_cast<float>(j)), g.H);
            const double v = value(static_cast<int64_t>(py), static_cast<int64_t>(px));
            out = dadd(out, dmul(dmul(static_cast<double>(wy[j]), static_cast<double>(wx[i])), v));
          }
        }
      } else {
        const float px = pad_coordinate(g, ix, g.W), py = pad_coordinate(g, iy, g.H);
        if (g.mode == InterpolationMode::kNEAREST) {
          // Round half to even, as ATen's nearbyint.
          out = value(static_cast<int64_t>(nearbyintf(py)), static_cast<int64_t>(nearbyintf(px)));
        } else {
          const float fx = floorf(px), fy = floorf(py);
          const float tx = fsub(px, fx), ty = fsub(py, fy);
          const auto x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
          const float ux = fsub(1.0f, tx), uy = fsub(1.0f, ty);
          out = dmul(static_cast<double>(fmul(ux, uy)), value(y0, x0));
          out = dadd(out, dmul(static_cast<double>(fmul(tx, uy)), value(y0, x0 + 1)));
          out = dadd(out, dmul(static_cast<double>(fmul(ux, ty)), value(y0 + 1, x0)));
          out = dadd(out, dmul(static_cast<double>(fmul(tx, ty)), value(y0 + 1, x0 + 1)));
        }
      }
      dev::store_f(t, yp, o, static_cast<float>(out));
    });
  }

 private:
  GridSampleAttrs a_;
};

}  // namespace

std::vector<KernelEntry> resize_kernels(LayerKind kind) {
  switch (kind) {
    case LayerKind::kRESIZE:
      return {{"resize (separable taps)", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 return std::make_unique<ResizeKernel>(p.as<ResizeAttrs>());
               }}};
    case LayerKind::kGRID_SAMPLE:
      return {{"grid sample", [](const Problem& p) -> std::unique_ptr<Kernel> {
                 return std::make_unique<GridSampleKernel>(p.as<GridSampleAttrs>());
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
    case LayerKind::kSCALE:
    case LayerKind::kNORMALIZATION:
    case LayerKind::kSELECT:
    case LayerKind::kPARAMETRIC_RELU:
    case LayerKind::kQUANTIZE:
    case LayerKind::kDEQUANTIZE:
    case LayerKind::kDYNAMIC_QUANTIZE:
    case LayerKind::kCOLLECTIVE:
    case LayerKind::kNON_ZERO:
    case LayerKind::kPADDING:
    // Control flow runs on the host fallback (bodies on a CPU executor).
    case LayerKind::kCONDITIONAL:
    case LayerKind::kLOOP:
      break;
  }
  return {};
}

}  // namespace layerkit::cuda
