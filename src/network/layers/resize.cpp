// Inference and printing for the Resize and GridSample kinds.
#include <cmath>

#include "network/infer.h"

namespace layerkit::detail {

namespace {

constexpr std::initializer_list<DataType> kFloats = {DataType::kFLOAT, DataType::kHALF,
                                                     DataType::kBF16};

// Output size of one axis from a scale, as TensorRT (and ATen) compute it.
int64_t scaled_size(int64_t in, double scale) {
  if (in < 0) return -1;
  return static_cast<int64_t>(std::floor(static_cast<double>(in) * scale));
}

void check_scales(const InferCtx& ctx, const std::vector<double>& scales, std::string_view what) {
  for (size_t i = 0; i < scales.size(); ++i)
    ctx.check(std::isfinite(scales[i]) && scales[i] > 0.0, what, " ", i, " is ", scales[i],
              "; scales must be finite and > 0");
}

}  // namespace

void infer(const ResizeAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 1 || ctx.num_inputs() == 2,
            "expected 1 or 2 inputs (data, optional shape or scales), got ", ctx.num_inputs());
  ctx.check(ctx.has_input(0), "input 0 (data) is missing");
  ctx.check(a.resize_mode == InterpolationMode::kNEAREST ||
                a.resize_mode == InterpolationMode::kLINEAR ||
                a.resize_mode == InterpolationMode::kCUBIC,
            "resize_mode ", static_cast<int>(a.resize_mode), " is not a valid InterpolationMode");
  ctx.check(static_cast<int>(a.coordinate_transformation) >= 0 &&
                static_cast<int>(a.coordinate_transformation) <= 2,
            "coordinate_transformation ", static_cast<int>(a.coordinate_transformation),
            " is not valid");
  ctx.check(static_cast<int>(a.selector_for_single_pixel) >= 0 &&
                static_cast<int>(a.selector_for_single_pixel) <= 1,
            "selector_for_single_pixel ", static_cast<int>(a.selector_for_single_pixel),
            " is not valid");
  ctx.check(static_cast<int>(a.nearest_rounding) >= 0 && static_cast<int>(a.nearest_rounding) <= 3,
            "nearest_rounding ", static_cast<int>(a.nearest_rounding), " is not valid");
  ctx.check(std::isfinite(a.cubic_coeff), "cubic_coeff ", a.cubic_coeff, " must be finite");
  if (a.resize_mode == InterpolationMode::kNEAREST) {
    // Nearest only copies elements, so integer data is fine (TensorRT accepts int8/int32 too).
    check_type(ctx, 0,
               {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT8,
                DataType::kINT32, DataType::kINT64});
  } else {
    ctx.check(is_floating(ctx.input(0).type), "resize_mode ", enum_name(a.resize_mode),
              " needs floating data (", type_list(kFloats), "), got ",
              data_type_name(ctx.input(0).type));
    check_type(ctx, 0, kFloats);
  }
  const Dims& in = ctx.input(0).dims;
  int rank = in.rank();
  ctx.check(rank >= 1, "the data must have rank >= 1, got ", in.to_string());

  Dims out = Dims::of_rank(rank, -1);
  if (ctx.num_inputs() == 2 && ctx.has_input(1)) {
    const ValueDesc& s = ctx.input(1);
    ctx.check(s.dims.rank() == 1 && (s.dims[0] == rank || s.dims[0] == -1), "input 1 has dims ",
              s.dims.to_string(), "; the output shape or scales must be 1-D with one entry per ",
              "data axis ([", rank, "])");
    if (s.type == DataType::kINT32 || s.type == DataType::kINT64) {
      if (auto v = ctx.int_values(1)) {
        ctx.check(static_cast<int>(v->size()) == rank, "input 1 holds ", v->size(),
                  " sizes but the data has rank ", rank);
        for (int d = 0; d < rank; ++d) {
          ctx.check((*v)[static_cast<size_t>(d)] >= 0, "output size ", (*v)[static_cast<size_t>(d)],
                    " at axis ", d, " (input 1) is negative");
          out[d] = (*v)[static_cast<size_t>(d)];
        }
      }
    } else if (s.type == DataType::kFLOAT) {
      if (s.host_data && s.dims[0] == rank) {
        const float* p = static_cast<const float*>(s.host_data);
        std::vector<double> scales(p, p + rank);
        check_scales(ctx, scales, "scale (input 1)");
        for (int d = 0; d < rank; ++d) out[d] = scaled_size(in[d], scales[static_cast<size_t>(d)]);
      }
    } else {
      ctx.fail("input 1 has type ", data_type_name(s.type),
               "; expected int32/int64 output sizes or float32 scales");
    }
  } else if (a.output_dims) {
    ctx.check(a.output_dims->rank() == rank, "output_dims ", a.output_dims->to_string(),
              " has rank ", a.output_dims->rank(), " but the data has rank ", rank);
    for (int d = 0; d < rank; ++d)
      ctx.check((*a.output_dims)[d] >= 0, "output_dims ", a.output_dims->to_string(),
                " has a negative size at axis ", d,
                "; pass dynamic output sizes as input 1 instead");
    out = *a.output_dims;
  } else if (!a.scales.empty()) {
    ctx.check(static_cast<int>(a.scales.size()) == rank, "got ", a.scales.size(),
              " scales but the data has rank ", rank, "; give one scale per axis");
    check_scales(ctx, a.scales, "scale");
    for (int d = 0; d < rank; ++d) out[d] = scaled_size(in[d], a.scales[static_cast<size_t>(d)]);
  } else {
    ctx.fail("no output size: set output_dims or scales, or pass input 1");
  }
  for (int d = 0; d < rank; ++d)
    ctx.check(!(in[d] == 0 && out[d] > 0), "axis ", d, " has input size 0 but output size ", out[d],
              "; there is nothing to sample");
  ctx.add_output(ctx.input(0).type, out);
}

void print_attrs(const ResizeAttrs& a, AttrPrinter& p) {
  p.add("output_dims", a.output_dims ? a.output_dims->to_string() : std::string("none"));
  p.add("scales", a.scales);
  p.add("resize_mode", a.resize_mode);
  p.add("coordinate_transformation", a.coordinate_transformation);
  p.add("selector_for_single_pixel", a.selector_for_single_pixel);
  p.add("nearest_rounding", a.nearest_rounding);
  p.add("cubic_coeff", a.cubic_coeff);
  p.add("exclude_outside", a.exclude_outside);
}

void infer(const GridSampleAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 2, "expected 2 inputs (data, grid), got ", ctx.num_inputs());
  ctx.check(ctx.has_input(0), "input 0 (data) is missing");
  ctx.check(ctx.has_input(1), "input 1 (grid) is missing");
  check_type(ctx, 0, kFloats);
  const ValueDesc& x = ctx.input(0);
  const ValueDesc& g = ctx.input(1);
  ctx.check(g.type == x.type, "the grid has type ", data_type_name(g.type),
            " but the data has type ", data_type_name(x.type), "; they must match");
  ctx.check(a.interpolation_mode == InterpolationMode::kNEAREST ||
                a.interpolation_mode == InterpolationMode::kLINEAR ||
                a.interpolation_mode == InterpolationMode::kCUBIC,
            "interpolation_mode ", static_cast<int>(a.interpolation_mode), " is not valid");
  ctx.check(a.sample_mode == SampleMode::kFILL || a.sample_mode == SampleMode::kCLAMP ||
                a.sample_mode == SampleMode::kREFLECT,
            "sample_mode ", enum_name(a.sample_mode),
            " is not supported; expected kFILL, kCLAMP or kREFLECT");
  ctx.check(x.dims.rank() == 4, "the data must be 4-D [N, C, H, W], got ", x.dims.to_string());
  ctx.check(g.dims.rank() == 4, "the grid must be 4-D [N, H_out, W_out, 2], got ",
            g.dims.to_string());
  ctx.check(g.dims[3] == 2 || g.dims[3] == -1, "the grid's last dim is ", g.dims[3], " (grid ",
            g.dims.to_string(), "); expected 2 (x, y)");
  int64_t n = x.dims[0], gn = g.dims[0];
  ctx.check(n < 0 || gn < 0 || n == gn, "the grid's batch ", gn, " differs from the data's ", n,
            " (data ", x.dims.to_string(), ", grid ", g.dims.to_string(), ")");
  ctx.add_output(x.type, Dims{n >= 0 ? n : gn, x.dims[1], g.dims[1], g.dims[2]});
}

void print_attrs(const GridSampleAttrs& a, AttrPrinter& p) {
  p.add("interpolation_mode", a.interpolation_mode);
  p.add("align_corners", a.align_corners);
  p.add("sample_mode", a.sample_mode);
}

}  // namespace layerkit::detail
