// cumsum on the Cumulative layer: torch's output type rules, ONNX's exclusive/reverse flags.
#include "layerkit/impl/cumsum.h"

#include "layerkit/impl/utils.h"

namespace layerkit::impl::cumsum {

namespace {

// The type the Cumulative layer computes in for output type `t` (it has no 8-bit integers; int32
// wraps to them exactly).
DataType layer_type(DataType t) {
  return t == DataType::kINT8 || t == DataType::kUINT8 ? DataType::kINT32 : t;
}

Tensor* reshape(ConversionContext& ctx, Tensor* x, const Dims& dims, const Target& target,
                std::optional<SourceIR> source_ir, std::string_view name) {
  ShuffleAttrs s;
  s.reshape_dims = dims;
  s.zero_is_placeholder = false;
  return named_output(ctx, ctx.net().add_shuffle(x, s), target, source_ir, name);
}

}  // namespace

Tensor* cumsum(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Tensor* input, int64_t dim, bool exclusive, bool reverse,
               std::optional<DataType> dtype) {
  Operand in(input);
  return guarded(ctx, "cumsum::cumsum", target, name, {&in}, [&]() -> Tensor* {
    LK_CHECK(input != nullptr, "input is a null tensor");
    DataType it = input->type();
    DataType out = dtype.value_or(is_floating(it) ? it : DataType::kINT64);
    bool ok = out == DataType::kFLOAT || out == DataType::kHALF || out == DataType::kBF16 ||
              out == DataType::kINT8 || out == DataType::kUINT8 || out == DataType::kINT32 ||
              out == DataType::kINT64;
    LK_CHECK(ok, "cumsum cannot compute in ", data_type_name(out),
             dtype ? " (the given dtype)" : " (the input's type)",
             "; expected float32, float16, bfloat16, int8, uint8, int32 or int64");
    const int rank = input->dims().rank();
    int axis = get_positive_dim(dim, rank);
    DataType lt = layer_type(out);
    Tensor* x = cast_to(ctx, input, lt, target, source_ir, sub_name(name, "cast"));
    // A 0-D input is a one-element line.
    if (rank == 0) x = reshape(ctx, x, Dims{1}, target, source_ir, sub_name(name, "as_1d"));
    Tensor* r = named_output(
        ctx, ctx.net().add_cumulative(x, CumulativeOperation::kSUM, axis, exclusive, reverse),
        target, source_ir, lt == out && rank > 0 ? name : sub_name(name, "sum"));
    if (rank == 0) {
      r = reshape(ctx, r, Dims{}, target, source_ir, lt == out ? name : sub_name(name, "scalar"));
    }
    return cast_to(ctx, r, out, target, source_ir, name);
  });
}

}  // namespace layerkit::impl::cumsum
