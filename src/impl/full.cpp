// full/zeros/ones as one Fill (kLINSPACE with zero deltas), which needs no weights and takes a
// shape tensor for dynamic shapes; types Fill lacks (bool, int8, uint8) are filled in int32 and
// cast.
#include "layerkit/impl/full.h"

#include <cmath>

#include "impl/shape_math.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::full {

namespace {

namespace sm = shape_math;

bool fill_accepts(DataType t) {
  return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16 ||
         t == DataType::kINT32 || t == DataType::kINT64;
}

DataType infer_type(const Operand& v, std::optional<DataType> dtype) {
  if (dtype) return *dtype;
  LK_CHECK(v.is_scalar() || v.is_tensor(), "fill_value must be a scalar or a 0-D tensor; got ",
           v.describe());
  return operand_type(v);
}

// Shared body: `shape_t` (int64 1-D) or the static `dims`.
Tensor* fill(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, const Dims& dims, Tensor* shape_t, const Operand& value,
             std::optional<DataType> dtype) {
  DataType out = infer_type(value, dtype);
  LK_CHECK(out == DataType::kBOOL || out == DataType::kUINT8 || out == DataType::kINT8 ||
               fill_accepts(out),
           "full does not support dtype ", data_type_name(out));
  DataType ft = fill_accepts(out) ? out : DataType::kINT32;
  int rank = shape_t ? static_cast<int>(shape_t->dims()[0]) : dims.rank();
  FillAttrs a;
  a.op = FillOperation::kLINSPACE;
  a.dims = dims;
  a.beta.assign(static_cast<size_t>(rank), 0.0);
  a.output_type = ft;
  FillInputs in;
  in.shape = shape_t;
  std::string fill_name = ft == out ? std::string(name) : sub_name(name, "fill");
  if (value.is_tensor()) {
    Tensor* v = value.tensor();
    LK_CHECK(v != nullptr, "fill_value is a null tensor");
    LK_CHECK(v->dims().rank() == 0, "fill_value tensor must be 0-D; got ", describe(*v));
    // bool(x) is x != 0, which a cast to int32 first would lose for fractions.
    if (out == DataType::kBOOL)
      v = cast_to(ctx, v, DataType::kBOOL, target, source_ir, sub_name(name, "value_bool"));
    in.alpha = cast_to(ctx, v, ft, target, source_ir, sub_name(name, "value_cast"));
  } else if (value.is_scalar()) {
    double v = value.as_double();
    if (out == DataType::kBOOL) v = v != 0.0 ? 1.0 : 0.0;
    if (!is_floating(ft)) {
      LK_CHECK(std::isfinite(v), "fill_value ", value.describe(), " cannot be converted to ",
               data_type_name(out));
      // Integer Fill attributes are doubles: int64 values beyond 2^53 go in a Constant instead.
      if (value.is_int() && std::fabs(v) > 9007199254740992.0 && out == DataType::kINT64)
        in.alpha =
            to_tensor(ctx, value, DataType::kINT64, 0, target, source_ir, sub_name(name, "value"));
      v = std::trunc(v);
    }
    a.alpha = v;
  } else {
    LK_FAIL(kINVALID_ARGUMENT, "fill_value must be a scalar or a 0-D tensor; got ",
            value.describe());
  }
  Tensor* filled = named_output(ctx, ctx.net().add_fill(a, in), target, source_ir, fill_name);
  return cast_to(ctx, filled, out, target, source_ir, name);
}

Tensor* full_static(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, const std::vector<int64_t>& shape, const Operand& value,
                    std::optional<DataType> dtype) {
  LK_CHECK(static_cast<int>(shape.size()) <= kMaxDims, "shape has ", shape.size(),
           " dims; at most ", kMaxDims, " are supported");
  Dims dims = Dims::of_rank(static_cast<int>(shape.size()));
  for (size_t i = 0; i < shape.size(); ++i) {
    LK_CHECK(
        shape[i] >= 0, "Trying to create tensor with negative dimension ", shape[i], ": [",
        [&] {
          std::string s;
          for (size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
          return s;
        }(),
        "]");
    dims[static_cast<int>(i)] = shape[i];
  }
  return fill(ctx, target, source_ir, name, dims, nullptr, value, dtype);
}

Tensor* full_dynamic(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, Tensor* shape,
                     const Operand& value, std::optional<DataType> dtype) {
  LK_CHECK(shape != nullptr, "shape is a null tensor");
  LK_CHECK(shape->type() == DataType::kINT32 || shape->type() == DataType::kINT64,
           "shape tensor must be int32 or int64; got ", describe(*shape));
  LK_CHECK(shape->dims().rank() == 1 && shape->dims()[0] >= 0,
           "shape tensor must be 1-D with a length known when the network is built; got ",
           describe(*shape));
  Tensor* s = cast_to(ctx, shape, DataType::kINT64, target, source_ir, sub_name(name, "shape"));
  return fill(ctx, target, source_ir, name, {}, s, value, dtype);
}

}  // namespace

Tensor* full(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, const std::vector<int64_t>& shape, Operand fill_value,
             std::optional<DataType> dtype) {
  return guarded(ctx, "full::full", target, name, {&fill_value}, [&] {
    return full_static(ctx, target, source_ir, name, shape, fill_value, dtype);
  });
}

Tensor* full(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* shape, Operand fill_value,
             std::optional<DataType> dtype) {
  Operand s(shape);
  return guarded(ctx, "full::full", target, name, {&s, &fill_value}, [&] {
    return full_dynamic(ctx, target, source_ir, name, shape, fill_value, dtype);
  });
}

#define LK_FILLED(fn, v)                                                                      \
  Tensor* fn(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir, \
             std::string_view name, const std::vector<int64_t>& shape,                        \
             std::optional<DataType> dtype) {                                                 \
    Operand value(v);                                                                         \
    return guarded(ctx, "full::" #fn, target, name, {&value}, [&] {                           \
      return full_static(ctx, target, source_ir, name, shape, value,                          \
                         dtype.value_or(DataType::kFLOAT));                                   \
    });                                                                                       \
  }                                                                                           \
  Tensor* fn(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir, \
             std::string_view name, Tensor* shape, std::optional<DataType> dtype) {           \
    Operand s(shape), value(v);                                                               \
    return guarded(ctx, "full::" #fn, target, name, {&s, &value}, [&] {                       \
      return full_dynamic(ctx, target, source_ir, name, shape, value,                         \
                          dtype.value_or(DataType::kFLOAT));                                  \
    });                                                                                       \
  }
LK_FILLED(zeros, int64_t{0})
LK_FILLED(ones, int64_t{1})
#undef LK_FILLED

}  // namespace layerkit::impl::full
