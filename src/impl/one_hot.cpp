// one_hot / one_hot_values: the indices, unsqueezed at the new axis, compared with a ramp
// 0..depth-1 along that axis (and with ramp - depth for negative indices); the comparison selects
// on/off values.
#include "layerkit/impl/one_hot.h"

#include "impl/expand_util.h"
#include "impl/shape_math.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::one_hot {

namespace {

using expand_util::DimTarget;
using E = ElementWiseOperation;

// True where index == class along `axis` of the rank r+1 result (also index == class - depth
// when `wrap_negative`).
Tensor* class_mask(ConversionContext& ctx, Tensor* indices, const DimTarget& depth, int axis,
                   bool wrap_negative, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name) {
  const int r = indices->dims().rank();
  const int out_rank = r + 1;
  LK_CHECK(out_rank <= kMaxDims, "the output would have rank ", out_rank, ", above the maximum ",
           kMaxDims);
  Tensor* idx =
      cast_to(ctx, indices, DataType::kINT64, target, source_ir, sub_name(name, "indices_cast"));
  // Note [Reshape by input dims]: the new axis is an empty group.
  std::vector<std::vector<int>> groups;
  for (int d = 0, i = 0; d < out_rank; ++d) {
    if (d == axis)
      groups.push_back({});
    else
      groups.push_back({i++});
  }
  Tensor* u = reshape_groups(ctx, idx, groups, target, source_ir, sub_name(name, "unsqueeze"));
  Tensor* ramp =
      expand_util::iota(ctx, depth, out_rank, axis, target, source_ir, sub_name(name, "classes"));
  Tensor* eq = shape_math::binary(ctx, u, ramp, E::kEQUAL, target, source_ir,
                                  wrap_negative ? sub_name(name, "equal") : std::string(name));
  if (!wrap_negative) return eq;
  Tensor* d = depth.size ? scalar_constant(ctx, static_cast<double>(*depth.size), DataType::kINT64,
                                           Dims::of_rank(out_rank, 1), target, source_ir,
                                           sub_name(name, "depth"))
                         : shape_math::reshape(ctx, depth.tensor, Dims::of_rank(out_rank, 1),
                                               target, source_ir, sub_name(name, "depth"));
  Tensor* neg = shape_math::binary(ctx, ramp, d, E::kSUB, target, source_ir,
                                   sub_name(name, "negative_classes"));
  Tensor* eq_neg = shape_math::binary(ctx, u, neg, E::kEQUAL, target, source_ir,
                                      sub_name(name, "equal_negative"));
  return shape_math::binary(ctx, eq, eq_neg, E::kOR, target, source_ir, name);
}

// A scalar or one-element tensor as a tensor of `type` with `rank` dims of 1.
Tensor* value_tensor(ConversionContext& ctx, const Operand& v, DataType type, int rank,
                     std::string_view what, const Target& target, std::optional<SourceIR> source_ir,
                     std::string_view name) {
  if (v.is_tensor()) {
    Tensor* t = v.tensor();
    LK_CHECK(t != nullptr, what, " is a null tensor");
    LK_CHECK(t->dims().rank() <= 1 && t->dims().volume() == 1, what,
             " must hold one element (0-D or [1]); it has dims ", t->dims().to_string());
    Tensor* c = cast_to(ctx, t, type, target, source_ir, sub_name(name, "cast"));
    return shape_math::reshape(ctx, c, Dims::of_rank(rank, 1), target, source_ir,
                               sub_name(name, "reshape"));
  }
  LK_CHECK(v.is_scalar(), what, " must be a scalar or a one-element tensor");
  return to_tensor(ctx, v, type, rank, target, source_ir, name);
}

}  // namespace

Tensor* one_hot(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* indices, int64_t num_classes) {
  Operand in(indices);
  return guarded(ctx, "one_hot::one_hot", target, name, {&in}, [&]() -> Tensor* {
    LK_CHECK(indices != nullptr, "indices is a null tensor");
    LK_CHECK(indices->type() == DataType::kINT64 || indices->type() == DataType::kINT32,
             "indices have type ", data_type_name(indices->type()), "; expected int64 or int32");
    LK_CHECK(num_classes >= 1, "num_classes is ", num_classes,
             "; pass the class count (>= 1): -1 (the largest index + 1) depends on the values");
    Tensor* mask = class_mask(ctx, indices, {num_classes, nullptr}, indices->dims().rank(), false,
                              target, source_ir, sub_name(name, "mask"));
    return cast_to(ctx, mask, DataType::kINT64, target, source_ir, name);
  });
}

Tensor* one_hot_values(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, Tensor* indices,
                       Operand depth, Operand off_value, Operand on_value, int64_t axis) {
  Operand in(indices);
  return guarded(
      ctx, "one_hot::one_hot_values", target, name, {&in, &depth, &off_value, &on_value},
      [&]() -> Tensor* {
        LK_CHECK(indices != nullptr, "indices is a null tensor");
        LK_CHECK(!is_sub_byte(indices->type()) && indices->type() != DataType::kBOOL,
                 "indices have type ", data_type_name(indices->type()),
                 "; expected an integer or float type");
        const int out_rank = indices->dims().rank() + 1;
        int ax = get_positive_dim(axis, out_rank);
        DimTarget d;
        if (depth.is_int()) {
          d.size = depth.int_value();
        } else {
          LK_CHECK(depth.is_tensor() && depth.tensor() != nullptr,
                   "depth must be an int or a one-element tensor");
          Tensor* t = depth.tensor();
          LK_CHECK(t->dims().rank() <= 1 && t->dims().volume() == 1,
                   "depth must hold one element (0-D or [1]); it has dims ", t->dims().to_string());
          LK_CHECK(t->type() != DataType::kBOOL && !is_sub_byte(t->type()), "depth has type ",
                   data_type_name(t->type()), "; expected an integer or float type");
          Tensor* v = shape_math::i64_vec1(ctx, t, target, source_ir, sub_name(name, "depth"));
          d.size = shape_math::known_scalar(v);
          d.tensor = v;
        }
        LK_CHECK(!d.size || *d.size >= 1, "depth is ", d.size.value_or(0), "; it must be >= 1");
        DataType type = result_type({&off_value, &on_value});
        LK_CHECK(!is_sub_byte(type), "values of type ", data_type_name(type), " are not supported");
        Tensor* mask =
            class_mask(ctx, indices, d, ax, true, target, source_ir, sub_name(name, "mask"));
        Tensor* on = value_tensor(ctx, on_value, type, out_rank, "on_value", target, source_ir,
                                  sub_name(name, "on"));
        Tensor* off = value_tensor(ctx, off_value, type, out_rank, "off_value", target, source_ir,
                                   sub_name(name, "off"));
        return named_output(ctx, ctx.net().add_select(mask, on, off), target, source_ir, name);
      });
}

}  // namespace layerkit::impl::one_hot
