// Inference and printing for the Activation, ParametricReLU, Scale kinds.
#include <cmath>

#include "network/infer.h"

namespace layerkit::detail {

namespace {
constexpr DataType kF32 = DataType::kFLOAT, kF16 = DataType::kHALF, kBF16 = DataType::kBF16;
}  // namespace

void infer(const ActivationAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 1, "Activation takes 1 input, got ", ctx.num_inputs());
  ctx.check(a.type >= ActivationType::kRELU && a.type <= ActivationType::kGELU_TANH,
            "activation type ", static_cast<int>(a.type), " is not an ActivationType (expected 0..",
            static_cast<int>(ActivationType::kGELU_TANH), ")");
  ctx.check(!std::isnan(a.alpha) && !std::isnan(a.beta), "alpha ", a.alpha, " and beta ", a.beta,
            " must not be NaN");
  check_type(ctx, 0, {kF32, kF16, kBF16});
  const ValueDesc& x = ctx.input(0);
  ctx.add_output(x.type, x.dims);
}
void print_attrs(const ActivationAttrs& a, AttrPrinter& p) {
  p.add("type", a.type);
  p.add("alpha", a.alpha);
  p.add("beta", a.beta);
}

void infer(const ParametricReLUAttrs&, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 2, "ParametricReLU takes 2 inputs (data, slope), got ",
            ctx.num_inputs());
  const ValueDesc& x = ctx.input(0);
  const ValueDesc& s = ctx.input(1);
  check_type(ctx, 0, {kF32, kF16, kBF16});
  ctx.check(s.type == x.type, "slope (input 1) has type ", data_type_name(s.type),
            "; expected the data type ", data_type_name(x.type));
  // The slope broadcasts to the data (unidirectionally, as ONNX PRelu and TensorRT define it):
  // the output has the data's shape.
  ctx.check(s.dims.rank() == x.dims.rank(), "slope ", s.dims.to_string(), " has rank ",
            s.dims.rank(), " but data ", x.dims.to_string(), " has rank ", x.dims.rank(),
            "; reshape the slope to the data's rank first");
  for (int i = 0; i < x.dims.rank(); ++i) {
    int64_t xd = x.dims[i], sd = s.dims[i];
    ctx.check(sd == 1 || sd == xd || sd == -1 || xd == -1, "slope ", s.dims.to_string(),
              " does not broadcast to data ", x.dims.to_string(), ": axis ", i, " has size ", sd,
              " (expected 1 or ", xd, ")");
  }
  ctx.add_output(x.type, x.dims);
}
void print_attrs(const ParametricReLUAttrs&, AttrPrinter&) {}

void infer(const ScaleAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 1, "Scale takes 1 input, got ", ctx.num_inputs());
  ctx.check(a.mode >= ScaleMode::kUNIFORM && a.mode <= ScaleMode::kELEMENTWISE, "scale mode ",
            static_cast<int>(a.mode), " is not a ScaleMode (expected 0..",
            static_cast<int>(ScaleMode::kELEMENTWISE), ")");
  check_type(ctx, 0, {kF32, kF16, kBF16});
  const ValueDesc& x = ctx.input(0);
  int rank = x.dims.rank();
  ctx.check(a.channel_axis >= 0 && a.channel_axis < rank, "channel_axis ", a.channel_axis,
            " is out of range for rank ", rank, " (expected 0..", rank - 1, ")");
  int64_t expected = 1;
  std::string what = "1 (kUNIFORM)";
  if (a.mode == ScaleMode::kCHANNEL) {
    int64_t c = x.dims[a.channel_axis];
    ctx.check(c >= 0, "kCHANNEL needs a known channel dim; axis ", a.channel_axis, " of ",
              x.dims.to_string(), " is dynamic");
    expected = c;
    what = cat(c, " (kCHANNEL: dim ", a.channel_axis, " of ", x.dims.to_string(), ")");
  } else if (a.mode == ScaleMode::kELEMENTWISE) {
    for (int i = a.channel_axis; i < rank; ++i) {
      ctx.check(x.dims[i] >= 0, "kELEMENTWISE needs known dims from channel_axis ", a.channel_axis,
                " on; axis ", i, " of ", x.dims.to_string(), " is dynamic");
      expected *= x.dims[i];
    }
    what =
        cat(expected, " (kELEMENTWISE: dims ", a.channel_axis, ".. of ", x.dims.to_string(), ")");
  }
  auto check_weights = [&](const Weights& w, const char* name) {
    if (w.empty()) return;
    ctx.check(w.type() == x.type || w.type() == kF32, name, " weights have type ",
              data_type_name(w.type()), "; expected ", data_type_name(x.type),
              x.type == kF32 ? "" : " or float32", " (the input type or float32)");
    ctx.check(w.count() == expected, name, " weights hold ", w.count(), " values; expected ", what);
  };
  check_weights(a.scale, "scale");
  check_weights(a.shift, "shift");
  check_weights(a.power, "power");
  ctx.add_output(x.type, x.dims);
}
void print_attrs(const ScaleAttrs& a, AttrPrinter& p) {
  p.add("mode", a.mode);
  p.add("channel_axis", a.channel_axis);
  p.add("scale", a.scale);
  p.add("shift", a.shift);
  p.add("power", a.power);
}

}  // namespace layerkit::detail
