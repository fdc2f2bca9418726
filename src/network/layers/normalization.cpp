// Inference and printing for the Normalization and SoftMax kinds.
#include <bit>
#include <cmath>

#include "network/infer.h"

namespace layerkit::detail {

namespace {

constexpr std::initializer_list<DataType> kFloats = {DataType::kFLOAT, DataType::kHALF,
                                                     DataType::kBF16};

// Scale and bias broadcast onto the data without enlarging it: each dim is 1 or the data's dim.
// With groups, axis 1 may instead hold one value per group (TensorRT 8.6's [1, G, 1, ...] form).
void check_affine_dims(const InferCtx& ctx, int input, std::string_view what, const Dims& data,
                       const Dims& p, int64_t groups) {
  ctx.check(p.rank() == data.rank(), what, " (input ", input, ") has rank ", p.rank(), " (",
            p.to_string(), ") but the data has rank ", data.rank(), " (", data.to_string(),
            "); they must be equal");
  for (int d = 0; d < p.rank(); ++d) {
    int64_t s = p[d], x = data[d];
    if (s == 1 || s == x || s == -1 || x == -1) continue;
    if (groups > 1 && d == 1 && s == groups) continue;
    ctx.fail(what, " dims ", p.to_string(), " do not broadcast to the data dims ", data.to_string(),
             ": axis ", d, " has size ", s, ", expected 1 or ", x,
             groups > 1 && d == 1 ? cat(" or num_groups ", groups) : std::string());
  }
}

}  // namespace

void infer(const NormalizationAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 3, "expected 3 inputs (data, scale, bias), got ", ctx.num_inputs());
  for (int i = 0; i < 3; ++i)
    ctx.check(ctx.has_input(i), "input ", i, " (",
              i == 0   ? "data"
              : i == 1 ? "scale"
                       : "bias",
              ") is missing");
  check_type(ctx, 0, kFloats);
  const ValueDesc& x = ctx.input(0);
  for (int i = 1; i < 3; ++i)
    ctx.check(ctx.input(i).type == x.type, "input ", i, " has type ",
              data_type_name(ctx.input(i).type), " but the data has type ", data_type_name(x.type),
              "; scale and bias must match the data type");
  int rank = x.dims.rank();
  ctx.check(rank >= 1, "the data must have rank >= 1, got ", x.dims.to_string());
  ctx.check(std::isfinite(a.epsilon) && a.epsilon >= 0.0f, "epsilon ", a.epsilon,
            " must be finite and >= 0");
  ctx.check(a.compute_precision == DataType::kFLOAT || a.compute_precision == DataType::kHALF ||
                a.compute_precision == DataType::kBF16,
            "compute_precision ", data_type_name(a.compute_precision), " must be one of ",
            type_list(kFloats));
  std::vector<int> axes = axes_from_mask(ctx, a.axes, rank);
  ctx.check(a.num_groups >= 1, "num_groups ", a.num_groups, " must be >= 1");
  if (a.num_groups > 1) {
    ctx.check(rank >= 2, "group normalization (num_groups ", a.num_groups,
              ") needs data of rank >= 2 ([N, C, ...]), got ", x.dims.to_string());
    ctx.check((a.axes & 2u) == 0, "axes mask 0x", std::hex, a.axes, std::dec,
              " includes axis 1; with num_groups ", a.num_groups,
              " the channels of each group are always normalized together, so leave axis 1 out");
    int64_t c = x.dims[1];
    ctx.check(c < 0 || c % a.num_groups == 0, "num_groups ", a.num_groups,
              " does not divide the channel count ", c, " (axis 1 of ", x.dims.to_string(), ")");
  } else {
    ctx.check(!axes.empty(),
              "axes mask 0 selects no axis; set at least one axis to normalize over");
  }
  check_affine_dims(ctx, 1, "scale", x.dims, ctx.input(1).dims, a.num_groups);
  check_affine_dims(ctx, 2, "bias", x.dims, ctx.input(2).dims, a.num_groups);
  ctx.add_output(x.type, x.dims);
}

void print_attrs(const NormalizationAttrs& a, AttrPrinter& p) {
  p.add("epsilon", a.epsilon);
  p.add("axes", a.axes);
  p.add("num_groups", a.num_groups);
  p.add("compute_precision", a.compute_precision);
}

void infer(const SoftMaxAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 1, "expected 1 input, got ", ctx.num_inputs());
  check_type(ctx, 0, kFloats);
  const ValueDesc& x = ctx.input(0);
  int rank = x.dims.rank();
  ctx.check(rank >= 1, "the input must have rank >= 1, got ", x.dims.to_string());
  axes_from_mask(ctx, a.axes, rank);
  // TensorRT: mask 0 means the last axis; otherwise exactly one axis.
  ctx.check(a.axes == 0 || std::popcount(a.axes) == 1, "axes mask 0x", std::hex, a.axes, std::dec,
            " selects ", std::popcount(a.axes),
            " axes; SoftMax takes exactly one axis (or 0 for the last)");
  ctx.add_output(x.type, x.dims);
}

void print_attrs(const SoftMaxAttrs& a, AttrPrinter& p) {
  p.add("axes", a.axes);
}

}  // namespace layerkit::detail
