// Shape-arithmetic helpers shared by the slice, split, full and arange building blocks: int64
// constants, dim sizes as shape tensors, and int64 element-wise steps, each a named layer.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/utils.h"

namespace layerkit::impl::shape_math {

// A 1-D int64 Constant holding `values`.
inline Tensor* i64_const(ConversionContext& ctx, const std::vector<int64_t>& values,
                         const Target& target, std::optional<SourceIR> source_ir,
                         std::string_view name) {
  return named_output(ctx,
                      ctx.net().add_constant({static_cast<int64_t>(values.size())},
                                             Weights::from_vector(DataType::kINT64, values)),
                      target, source_ir, name);
}

// Size of axis `dim` of `x` as an int64 [1] tensor: a Constant when static, Shape -> Slice when
// dynamic (its value is then only known at run time).
inline Tensor* dim_size(ConversionContext& ctx, Tensor* x, int dim, const Target& target,
                        std::optional<SourceIR> source_ir, std::string_view name) {
  int64_t n = x->dims()[dim];
  if (n >= 0) return i64_const(ctx, {n}, target, source_ir, name);
  Tensor* shape =
      named_output(ctx, ctx.net().add_shape(x), target, source_ir, sub_name(name, "shape"));
  return named_output(ctx, ctx.net().add_slice(shape, {dim}, {1}, {1}), target, source_ir, name);
}

inline Tensor* binary(ConversionContext& ctx, Tensor* a, Tensor* b, ElementWiseOperation op,
                      const Target& target, std::optional<SourceIR> source_ir,
                      std::string_view name) {
  return named_output(ctx, ctx.net().add_elementwise(a, b, op), target, source_ir, name);
}

// Reshapes a one-element tensor to `dims` (e.g. {1} or {} for 0-D); no layer when it already fits.
inline Tensor* reshape(ConversionContext& ctx, Tensor* t, const Dims& dims, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name) {
  if (t->dims() == dims) return t;
  ShuffleAttrs s;
  s.reshape_dims = dims;
  s.zero_is_placeholder = false;
  return named_output(ctx, ctx.net().add_shuffle(t, s), target, source_ir, name);
}

// A one-element int32/int64 tensor (0-D or [1]) as an int64 [1] tensor.
inline Tensor* i64_vec1(ConversionContext& ctx, Tensor* t, const Target& target,
                        std::optional<SourceIR> source_ir, std::string_view name) {
  Tensor* c = cast_to(ctx, t, DataType::kINT64, target, source_ir, sub_name(name, "cast"));
  return reshape(ctx, c, {1}, target, source_ir, sub_name(name, "reshape"));
}

// The build-time value of a one-element integer tensor, when inference knows it.
inline std::optional<int64_t> known_scalar(const Tensor* t) {
  if (t->known_values().size() == 1) return t->known_values()[0];
  return std::nullopt;
}

}  // namespace layerkit::impl::shape_math
