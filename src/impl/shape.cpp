// Shape-query building blocks: size, numel and shape, constant where the dims are static.
#include "layerkit/impl/shape.h"

#include <algorithm>

#include "layerkit/impl/utils.h"

namespace layerkit::impl::shape {

namespace {

Tensor* int64_constant(ConversionContext& ctx, const Dims& dims, std::vector<int64_t> values,
                       const Target& target, std::optional<SourceIR> source_ir,
                       std::string_view name) {
  return named_output(ctx,
                      ctx.net().add_constant(dims, Weights::from_vector(DataType::kINT64, values)),
                      target, source_ir, name);
}

void check_input(const Tensor* input) {
  LK_CHECK(input != nullptr, "input is a null tensor");
}

// A Shape layer rather than a Constant whenever a dim is dynamic; `name` names it.
Tensor* shape_tensor(ConversionContext& ctx, Tensor* input, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name) {
  const Dims& d = input->dims();
  if (d.is_static()) return int64_constant(ctx, {d.rank()}, d.to_vector(), target, source_ir, name);
  return named_output(ctx, ctx.net().add_shape(input), target, source_ir, name);
}

}  // namespace

Tensor* size(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, std::optional<int64_t> dim) {
  Operand in(input);
  return guarded(ctx, "shape::size", target, name, {&in}, [&]() -> Tensor* {
    check_input(input);
    if (!dim) return shape_tensor(ctx, input, target, source_ir, name);
    int rank = input->dims().rank();
    // aten's size(dim) of a 0-D tensor fails: there is no dim to read.
    LK_CHECK(rank > 0, "size(dim ", *dim, ") of a rank-0 tensor: it has no dims");
    int d = get_positive_dim(*dim, rank);
    int64_t v = input->dims()[d];
    if (v >= 0) return int64_constant(ctx, {}, {v}, target, source_ir, name);
    Tensor* s = shape_tensor(ctx, input, target, source_ir, sub_name(name, "shape"));
    Tensor* index = int64_constant(ctx, {}, {d}, target, source_ir, sub_name(name, "index"));
    return named_output(ctx, ctx.net().add_gather(s, index, 0), target, source_ir, name);
  });
}

Tensor* numel(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Tensor* input) {
  Operand in(input);
  return guarded(ctx, "shape::numel", target, name, {&in}, [&]() -> Tensor* {
    check_input(input);
    const Dims& d = input->dims();
    bool has_zero = std::count(d.begin(), d.end(), int64_t{0}) > 0;
    if (d.is_static() || has_zero)
      return int64_constant(ctx, {}, {has_zero ? 0 : d.volume()}, target, source_ir, name);
    Tensor* s = shape_tensor(ctx, input, target, source_ir, sub_name(name, "shape"));
    return named_output(ctx, ctx.net().add_reduce(s, ReduceOperation::kPROD, 1u, false), target,
                        source_ir, name);
  });
}

Tensor* shape(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Tensor* input) {
  Operand in(input);
  return guarded(ctx, "shape::shape", target, name, {&in}, [&]() -> Tensor* {
    check_input(input);
    return shape_tensor(ctx, input, target, source_ir, name);
  });
}

}  // namespace layerkit::impl::shape
