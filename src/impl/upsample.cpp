// Upsample building block: F.interpolate's modes as one Resize layer whose attributes reproduce
// ATen's coordinate rules (see docs/layers/resize.md for the verified correspondences).
#include "layerkit/impl/upsample.h"

#include <cmath>
#include <limits>

#include "layerkit/impl/utils.h"

namespace layerkit::impl::upsample {

namespace {

struct ModeInfo {
  InterpolationMode interp;
  int min_spatial, max_spatial;
  bool interpolating;  // accepts align_corners
  bool exact;          // nearest-exact
};

ModeInfo parse_mode(std::string_view mode) {
  using I = InterpolationMode;
  if (mode == "nearest") return {I::kNEAREST, 1, 3, false, false};
  if (mode == "nearest-exact") return {I::kNEAREST, 1, 3, false, true};
  if (mode == "linear") return {I::kLINEAR, 1, 1, true, false};
  if (mode == "bilinear") return {I::kLINEAR, 2, 2, true, false};
  if (mode == "bicubic") return {I::kCUBIC, 2, 2, true, false};
  if (mode == "trilinear") return {I::kLINEAR, 3, 3, true, false};
  LK_FAIL(kINVALID_ARGUMENT, "unknown upsample mode '", mode,
          "'; expected nearest, nearest-exact, linear, bilinear, bicubic or trilinear");
}

template <typename T>
std::vector<T> expand(const std::vector<T>& v, int spatial, std::string_view what) {
  LK_CHECK(v.size() == 1 || static_cast<int>(v.size()) == spatial, what, " has ", v.size(),
           " entries; expected 1 or ", spatial, " (one per spatial dim)");
  return v.size() == 1 ? std::vector<T>(static_cast<size_t>(spatial), v[0]) : v;
}

// The output size ATen computes from a scale (in double).
int64_t aten_size(int64_t in, double scale) {
  return static_cast<int64_t>(std::floor(static_cast<double>(in) * scale));
}

}  // namespace

Tensor* upsample(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, std::string_view mode,
                 std::optional<std::vector<int64_t>> size,
                 std::optional<std::vector<double>> scale_factor,
                 std::optional<bool> align_corners) {
  Operand in(input);
  return guarded(ctx, "upsample::upsample", target, name, {&in}, [&]() -> Tensor* {
    LK_CHECK(input != nullptr, "input is a null tensor");
    ModeInfo m = parse_mode(mode);
    const Dims& d = input->dims();
    int rank = d.rank(), spatial = rank - 2;
    LK_CHECK(spatial >= m.min_spatial && spatial <= m.max_spatial, "mode '", mode, "' takes ",
             m.min_spatial + 2,
             m.min_spatial == m.max_spatial ? "" : detail::cat(" to ", m.max_spatial + 2),
             "-D input [N, C, spatial...]; got dims ", d.to_string());
    LK_CHECK(size.has_value() != scale_factor.has_value(),
             size ? "give either size or scale_factor, not both"
                  : "give either size or scale_factor; neither was given");
    LK_CHECK(!align_corners || m.interpolating,
             "align_corners can only be set with the interpolating modes linear, bilinear, "
             "bicubic and trilinear; mode is '",
             mode, "'");
    bool corners = align_corners.value_or(false);
    for (int a = 2; a < rank; ++a)
      LK_CHECK(d[a] != 0, "input spatial dim ", a, " is 0 (dims ", d.to_string(),
               "); input and output sizes must be greater than 0");

    ResizeAttrs attrs;
    attrs.resize_mode = m.interp;
    using CT = ResizeCoordinateTransformation;
    if (m.interp == InterpolationMode::kNEAREST) {
      attrs.coordinate_transformation = m.exact ? CT::kHALF_PIXEL : CT::kASYMMETRIC;
      attrs.nearest_rounding = m.exact ? ResizeRoundMode::kHALF_UP : ResizeRoundMode::kFLOOR;
    } else {
      attrs.coordinate_transformation = corners ? CT::kALIGN_CORNERS : CT::kHALF_PIXEL;
    }
    attrs.selector_for_single_pixel = ResizeSelector::kFORMULA;
    attrs.cubic_coeff = -0.75f;
    attrs.exclude_outside = false;

    Tensor* shape_input = nullptr;
    if (size) {
      std::vector<int64_t> out = expand(*size, spatial, "size");
      for (int64_t o : out) LK_CHECK(o > 0, "output size ", o, " must be greater than 0");
      bool leading_static = d[0] >= 0 && d[1] >= 0;
      if (leading_static) {
        Dims od = Dims::of_rank(rank);
        od[0] = d[0];
        od[1] = d[1];
        for (int a = 0; a < spatial; ++a) od[a + 2] = out[static_cast<size_t>(a)];
        attrs.output_dims = od;
      } else {
        // N and C come from the input's shape at run time.
        Tensor* shape = named_output(ctx, ctx.net().add_shape(input), target, source_ir,
                                     sub_name(name, "shape"));
        Tensor* nc = named_output(ctx, ctx.net().add_slice(shape, {0}, {2}, {1}), target, source_ir,
                                  sub_name(name, "batch_channels"));
        Tensor* sz = named_output(
            ctx, ctx.net().add_constant({spatial}, Weights::from_vector(DataType::kINT64, out)),
            target, source_ir, sub_name(name, "sizes"));
        std::vector<Tensor*> parts{nc, sz};
        shape_input = named_output(ctx, ctx.net().add_concatenation(parts, 0), target, source_ir,
                                   sub_name(name, "out_shape"));
      }
    } else {
      std::vector<double> s = expand(*scale_factor, spatial, "scale_factor");
      attrs.scales.assign(static_cast<size_t>(rank), 1.0);
      for (int a = 0; a < spatial; ++a) {
        double sc = s[static_cast<size_t>(a)];
        LK_CHECK(std::isfinite(sc) && sc > 0, "scale_factor ", sc, " must be finite and > 0");
        int64_t i = d[a + 2];
        if (i >= 0) {
          int64_t o = aten_size(i, sc);
          LK_CHECK(o > 0, "input size ", i, " with scale_factor ", sc, " gives output size ", o,
                   "; output sizes must be greater than 0");
          // ATen's linear kernels leave an axis whose size is unchanged as it is, whatever the
          // scale; scale 1 makes the layer copy that axis too.
          if (m.interp == InterpolationMode::kLINEAR && o == i) {
            attrs.scales[static_cast<size_t>(a + 2)] = 1.0;
            continue;
          }
        }
        attrs.scales[static_cast<size_t>(a + 2)] = sc;
      }
    }
    return named_output(ctx, ctx.net().add_resize(input, attrs, shape_input), target, source_ir,
                        name);
  });
}

Tensor* upsample(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, const InterpolateOptions& o) {
  return upsample(ctx, target, source_ir, name, input, o.mode, o.size, o.scale_factor,
                  o.align_corners);
}

}  // namespace layerkit::impl::upsample
