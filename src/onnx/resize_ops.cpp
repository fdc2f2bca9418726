// ONNX converters for Resize, Upsample and GridSample. Resize maps onto the Resize layer, whose
// attributes are TensorRT's (and so ONNX's); torch's upsample block covers only part of them.
#include "layerkit/impl/cast.h"
#include "layerkit/impl/grid.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

ResizeAttrs resize_attrs(const NodeView& n, bool legacy) {
  ResizeAttrs a;
  const std::string mode = n.attr_string("mode", "nearest");
  if (mode == "nearest") {
    a.resize_mode = InterpolationMode::kNEAREST;
  } else if (mode == "linear" || mode == "bilinear") {
    a.resize_mode = InterpolationMode::kLINEAR;
  } else if (mode == "cubic") {
    a.resize_mode = InterpolationMode::kCUBIC;
  } else {
    n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'mode' is '" + mode + "'");
  }
  // Opset < 11 (Upsample, Resize-10): asymmetric coordinates, nearest rounds down.
  if (legacy) {
    a.coordinate_transformation = ResizeCoordinateTransformation::kASYMMETRIC;
    a.nearest_rounding = ResizeRoundMode::kFLOOR;
    return a;
  }
  const std::string ct = n.attr_string("coordinate_transformation_mode", "half_pixel");
  if (ct == "half_pixel") {
    a.coordinate_transformation = ResizeCoordinateTransformation::kHALF_PIXEL;
  } else if (ct == "pytorch_half_pixel") {
    a.coordinate_transformation = ResizeCoordinateTransformation::kHALF_PIXEL;
    a.selector_for_single_pixel = ResizeSelector::kUPPER;
  } else if (ct == "align_corners") {
    a.coordinate_transformation = ResizeCoordinateTransformation::kALIGN_CORNERS;
  } else if (ct == "asymmetric") {
    a.coordinate_transformation = ResizeCoordinateTransformation::kASYMMETRIC;
  } else {
    n.fail(ErrorCode::kUNSUPPORTED, "coordinate_transformation_mode '" + ct + "' is not supported");
  }
  const std::string nm = n.attr_string("nearest_mode", "round_prefer_floor");
  if (nm == "round_prefer_floor") {
    a.nearest_rounding = ResizeRoundMode::kHALF_DOWN;
  } else if (nm == "round_prefer_ceil") {
    a.nearest_rounding = ResizeRoundMode::kHALF_UP;
  } else if (nm == "floor") {
    a.nearest_rounding = ResizeRoundMode::kFLOOR;
  } else if (nm == "ceil") {
    a.nearest_rounding = ResizeRoundMode::kCEIL;
  } else {
    n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'nearest_mode' is '" + nm + "'");
  }
  a.cubic_coeff = n.attr_float("cubic_coeff_a", -0.75f);
  a.exclude_outside = n.attr_int("exclude_outside", 0) != 0;
  if (n.attr_int("antialias", 0) != 0)
    n.fail(ErrorCode::kUNSUPPORTED, "antialias=1 (opset 18) is not supported");
  if (n.attr_string("keep_aspect_ratio_policy", "stretch") != "stretch")
    n.fail(ErrorCode::kUNSUPPORTED, "keep_aspect_ratio_policy other than 'stretch'");
  if (n.attr("axes")) n.fail(ErrorCode::kUNSUPPORTED, "the 'axes' attribute (opset 18)");
  return a;
}

void resize_op(NodeContext& n) {
  Tensor* x = n.input(0);
  const int rank = x->dims().rank();
  const bool legacy = n.op_type() == "Upsample" || n.opset() < 11;
  ResizeAttrs a = resize_attrs(n, legacy);
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  if (n.op_type() == "Upsample" && n.opset() < 9) {
    auto s = n.attr("scales");
    if (!s) n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'scales' is missing");
    scales.assign(s->floats().begin(), s->floats().end());
  } else if (legacy) {
    scales = n.doubles_input(1, "scales", "Upsample takes scales at build time");
  } else {
    // Sizes or scales known only at run time (computed from a dynamic dim, Note [Import-time
    // folding]) are the Resize layer's shape-or-scales input.
    for (int i : {2, 3}) {
      if (!n.has_input(i) || n.constant_input(i)) continue;
      Tensor* v = n.input(i);
      if (v->dims().rank() != 1 || v->dims()[0] != rank)
        n.fail(ErrorCode::kINVALID_ARGUMENT, std::string(i == 2 ? "scales " : "sizes ") +
                                                 describe(*v) + " for input " + describe(*x) +
                                                 ": expected one entry per axis");
      if (n.has_input(5 - i) && (!n.constant_input(5 - i) || n.constant_input(5 - i)->count() > 0))
        n.fail(ErrorCode::kINVALID_ARGUMENT, "both scales and sizes are given");
      if (i == 3 && !is_integer(v->type()))
        n.fail(ErrorCode::kINVALID_ARGUMENT, "sizes must be integers, got " + describe(*v));
      if (i == 2 && !is_floating(v->type()))
        n.fail(ErrorCode::kINVALID_ARGUMENT, "scales must be floating, got " + describe(*v));
      const DataType to = i == 3 ? DataType::kINT64 : DataType::kFLOAT;
      Tensor* cv =
          impl::cast::cast(n.ctx(), n.op_type(), kONNX, sub(n, i == 3 ? "sizes" : "scales"), v, to);
      n.set_output(0, named(n, n.net().add_resize(x, a, cv)));
      return;
    }
    if (n.has_input(2)) scales = n.doubles_input(2, "scales");
    if (n.has_input(3)) sizes = n.ints_input(3, "sizes");
    if (!scales.empty() && !sizes.empty())
      n.fail(ErrorCode::kINVALID_ARGUMENT, "both scales and sizes are given");
    if (scales.empty() && sizes.empty())
      n.fail(ErrorCode::kINVALID_ARGUMENT, "neither scales nor sizes is given");
  }
  if (!scales.empty()) {
    if (static_cast<int>(scales.size()) != rank)
      n.fail(ErrorCode::kINVALID_ARGUMENT,
             std::to_string(scales.size()) + " scales for input " + describe(*x));
    for (double s : scales)
      if (!(s > 0)) n.fail(ErrorCode::kINVALID_ARGUMENT, "a scale is " + std::to_string(s));
    a.scales = scales;
  } else {
    if (static_cast<int>(sizes.size()) != rank)
      n.fail(ErrorCode::kINVALID_ARGUMENT,
             std::to_string(sizes.size()) + " sizes for input " + describe(*x));
    a.output_dims = Dims(std::span<const int64_t>(sizes));
  }
  n.set_output(0, named(n, n.net().add_resize(x, a)));
}

void grid_sample_op(NodeContext& n) {
  std::string mode = n.attr_string("mode", "bilinear");
  if (mode == "linear") mode = "bilinear";
  if (mode == "cubic") mode = "bicubic";
  n.set_output(0, impl::grid::grid_sample(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0),
                                          n.input(1), mode, n.attr_string("padding_mode", "zeros"),
                                          n.attr_int("align_corners", 0) != 0));
}

}  // namespace

void register_resize_ops(Registry& r) {
  r["Resize"] = {resize_op, nullptr, {1, 2, 3}};
  r["Upsample"] = {resize_op, nullptr, {1}};
  r["GridSample"] = {grid_sample_op, nullptr};
}

}  // namespace layerkit::onnx::detail
