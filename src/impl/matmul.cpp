// Matmul building blocks: at::matmul over every rank combination on the MatrixMultiply layer
// (floats) or an exact product-and-sum (int32/int64), and at::outer.
#include "layerkit/impl/matmul.h"

#include <algorithm>
#include <array>

#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::matmul {

namespace {

Tensor* shuffle(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* x, const ShuffleAttrs& s) {
  return named_output(ctx, ctx.net().add_shuffle(x, s), target, source_ir, name);
}

// Inserts a size-1 axis at `pos`: a reshape appending it (0 keeps each existing dim, dynamic
// ones included) and a transpose moving it into place.
Tensor* unsqueeze(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Tensor* x, int pos) {
  int r = x->dims().rank();
  ShuffleAttrs s;
  Dims d = Dims::of_rank(r + 1, 0);
  d[r] = 1;
  s.reshape_dims = d;
  s.zero_is_placeholder = true;
  for (int i = 0; i < pos; ++i) s.second_transpose.push_back(i);
  s.second_transpose.push_back(r);
  for (int i = pos; i < r; ++i) s.second_transpose.push_back(i);
  return shuffle(ctx, target, source_ir, name, x, s);
}

Tensor* swap_last_two(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Tensor* x) {
  int r = x->dims().rank();
  ShuffleAttrs s;
  for (int i = 0; i < r; ++i) s.first_transpose.push_back(i);
  std::swap(s.first_transpose[r - 2], s.first_transpose[r - 1]);
  return shuffle(ctx, target, source_ir, name, x, s);
}

Dims batch_dims(const Dims& d) {
  Dims b;
  for (int i = 0; i + 2 < d.rank(); ++i) b.push_back(d[i]);
  return b;
}

// int32/int64: sum over k of a[..., m, k] * b[..., k, n], exact in the integer type.
Tensor* integer_matmul(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, Tensor* a,
                       Tensor* b) {
  int ra = a->dims().rank(), rb = b->dims().rank();
  int axis_from_end = 2;  // the contraction axis of the product, counted from the end
  if (ra == 1 && rb == 1) {
    axis_from_end = 1;
  } else if (rb == 1) {  // [..., M, K] * [..., 1, K]
    b = unsqueeze(ctx, target, source_ir, sub_name(name, "rhs_row"), b, 0);
    axis_from_end = 1;
  } else if (ra == 1) {  // [..., K, 1] * [..., K, N]
    a = unsqueeze(ctx, target, source_ir, sub_name(name, "lhs_column"), a, 1);
  } else {  // [..., M, K, 1] * [..., 1, K, N]
    a = unsqueeze(ctx, target, source_ir, sub_name(name, "lhs_expand"), a, ra);
    b = unsqueeze(ctx, target, source_ir, sub_name(name, "rhs_expand"), b, rb - 2);
  }
  std::array<Tensor*, 2> pair{a, b};
  std::vector<Tensor*> bc = broadcast(ctx, pair, target, source_ir, name);
  Tensor* p =
      named_output(ctx, ctx.net().add_elementwise(bc[0], bc[1], ElementWiseOperation::kPROD),
                   target, source_ir, sub_name(name, "products"));
  int r = p->dims().rank();
  return named_output(
      ctx,
      ctx.net().add_reduce(p, ReduceOperation::kSUM, AxesMask{1} << (r - axis_from_end), false),
      target, source_ir, name);
}

}  // namespace

namespace detail {

Tensor* matmul_tensors(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, Tensor* a,
                       Tensor* b, bool transpose_b) {
  const Dims &da = a->dims(), &db = b->dims();
  int ra = da.rank(), rb = db.rank();
  LK_CHECK(ra >= 1 && rb >= 1, "both operands of matmul need at least one dim, got ", describe(*a),
           " and ", describe(*b));
  LK_CHECK(!transpose_b || rb >= 2, "a transposed operand needs rank >= 2, got ", describe(*b));
  DataType t = a->type();
  LK_CHECK(t == b->type(), "matmul operands must have one type, got ", describe(*a), " and ",
           describe(*b));
  LK_CHECK(is_floating(t) || t == DataType::kINT32 || t == DataType::kINT64,
           "matmul takes float32, float16, bfloat16, int32 or int64 operands, got ",
           data_type_name(t));
  int64_t ka = da[ra - 1];
  int64_t kb = rb == 1 ? db[0] : db[transpose_b ? rb - 1 : rb - 2];
  LK_CHECK(ka == -1 || kb == -1 || ka == kb, "contraction dims differ: ", describe(*a), " has ", ka,
           " columns but ", describe(*b), transpose_b ? " (transposed)" : "", " has ", kb, " rows");
  broadcast_shape(batch_dims(da), batch_dims(db));  // fails before any layer is added

  if (!is_floating(t)) {
    if (transpose_b) b = swap_last_two(ctx, target, source_ir, sub_name(name, "rhs_transpose"), b);
    return integer_matmul(ctx, target, source_ir, name, a, b);
  }
  // The layer needs equal batch counts: a vector operand has one dim fewer than a matrix one.
  int batch = std::max(ra == 1 ? 0 : ra - 2, rb == 1 ? 0 : rb - 2);
  Tensor* pa =
      prepend_ones(ctx, a, batch + (ra == 1 ? 1 : 2), target, source_ir, sub_name(name, "lhs"));
  Tensor* pb =
      prepend_ones(ctx, b, batch + (rb == 1 ? 1 : 2), target, source_ir, sub_name(name, "rhs"));
  MatrixOperation op0 = ra == 1 ? MatrixOperation::kVECTOR : MatrixOperation::kNONE;
  MatrixOperation op1 = rb == 1       ? MatrixOperation::kVECTOR
                        : transpose_b ? MatrixOperation::kTRANSPOSE
                                      : MatrixOperation::kNONE;
  return named_output(ctx, ctx.net().add_matrix_multiply(pa, op0, pb, op1), target, source_ir,
                      name);
}

}  // namespace detail

Tensor* matrix_multiply(ConversionContext& ctx, const Target& target,
                        std::optional<SourceIR> source_ir, std::string_view name, Operand a,
                        Operand b) {
  return guarded(ctx, "matmul::matrix_multiply", target, name, {&a, &b}, [&]() -> Tensor* {
    LK_CHECK(!a.is_scalar() && !b.is_scalar(), "matmul takes tensors, not scalars");
    // Shapes are checked on the operands, before host constants become layers: an error then
    // names the operands as the caller gave them, not a Constant layer the rollback removes.
    const Dims da = a.dims(), db = b.dims();
    LK_CHECK(da.rank() >= 1 && db.rank() >= 1,
             "both operands of matmul need at least one dim, got ", a.describe(), " and ",
             b.describe());
    int64_t ka = da[da.rank() - 1], kb = db.rank() == 1 ? db[0] : db[db.rank() - 2];
    LK_CHECK(ka == -1 || kb == -1 || ka == kb, "contraction dims differ: ", a.describe(), " has ",
             ka, " columns but ", b.describe(), " has ", kb, " rows");
    broadcast_shape(batch_dims(da), batch_dims(db));
    DataType t = result_type({&a, &b});
    Tensor* ta = to_tensor(ctx, a, t, a.rank(), target, source_ir, sub_name(name, "lhs"));
    Tensor* tb = to_tensor(ctx, b, t, b.rank(), target, source_ir, sub_name(name, "rhs"));
    return detail::matmul_tensors(ctx, target, source_ir, name, ta, tb, false);
  });
}

Tensor* outer(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand a, Operand b) {
  return guarded(ctx, "matmul::outer", target, name, {&a, &b}, [&]() -> Tensor* {
    LK_CHECK(!a.is_scalar() && !b.is_scalar() && a.rank() == 1 && b.rank() == 1,
             "outer takes two 1-D tensors, got ", a.describe(), " and ", b.describe());
    auto column = [&](const Operand& op, std::string_view suffix, Dims shape) {
      Tensor* t =
          to_tensor(ctx, op, operand_type(op), 1, target, source_ir, sub_name(name, suffix));
      ShuffleAttrs s;
      s.reshape_dims = shape;
      s.zero_is_placeholder = false;
      return shuffle(ctx, target, source_ir, sub_name(name, suffix), t, s);
    };
    Tensor* ca = column(a, "lhs_column", Dims{-1, 1});
    Tensor* rb = column(b, "rhs_row", Dims{1, -1});
    return elementwise::mul(ctx, target, source_ir, name, ca, rb);
  });
}

}  // namespace layerkit::impl::matmul
