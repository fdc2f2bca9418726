// tril / triu: column - row from two index ramps over the last two dims, compared with the
// diagonal, selects the input or zero.
#include "layerkit/impl/triangular.h"

#include <array>

#include "impl/expand_util.h"
#include "impl/shape_math.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::triangular {

namespace {

using E = ElementWiseOperation;

Tensor* triangle(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* x, int64_t diagonal, bool lower) {
  LK_CHECK(x != nullptr, "input is a null tensor");
  const int r = x->dims().rank();
  LK_CHECK(r >= 2, "input must have rank >= 2 (a matrix or a batch of them), got ",
           x->dims().to_string());
  LK_CHECK(!is_sub_byte(x->type()), "input type ", data_type_name(x->type()), " is not supported");
  std::vector<expand_util::DimTarget> dims =
      expand_util::dims_of(ctx, x, target, source_ir, sub_name(name, "input"));
  Tensor* row = expand_util::iota(ctx, dims[static_cast<size_t>(r - 2)], 2, 0, target, source_ir,
                                  sub_name(name, "rows"));
  Tensor* col = expand_util::iota(ctx, dims[static_cast<size_t>(r - 1)], 2, 1, target, source_ir,
                                  sub_name(name, "cols"));
  Tensor* diff =
      shape_math::binary(ctx, col, row, E::kSUB, target, source_ir, sub_name(name, "offset"));
  // tril: col - row < diagonal + 1; triu: col - row > diagonal - 1 (integers, so exact).
  Tensor* bound =
      scalar_constant(ctx, static_cast<double>(lower ? diagonal + 1 : diagonal - 1),
                      DataType::kINT64, Dims{1, 1}, target, source_ir, sub_name(name, "diagonal"));
  Tensor* keep = shape_math::binary(ctx, diff, bound, lower ? E::kLESS : E::kGREATER, target,
                                    source_ir, sub_name(name, "mask"));
  Tensor* zero = scalar_constant(ctx, 0.0, x->type(), Dims::of_rank(r, 1), target, source_ir,
                                 sub_name(name, "zero"));
  std::array<Tensor*, 3> all{keep, x, zero};
  std::vector<Tensor*> bc = broadcast(ctx, all, target, source_ir, name);
  return named_output(ctx, ctx.net().add_select(bc[0], bc[1], bc[2]), target, source_ir, name);
}

}  // namespace

Tensor* tril(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, int64_t diagonal) {
  Operand in(input);
  return guarded(ctx, "triangular::tril", target, name, {&in},
                 [&] { return triangle(ctx, target, source_ir, name, input, diagonal, true); });
}

Tensor* triu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, int64_t diagonal) {
  Operand in(input);
  return guarded(ctx, "triangular::triu", target, name, {&in},
                 [&] { return triangle(ctx, target, source_ir, name, input, diagonal, false); });
}

}  // namespace layerkit::impl::triangular
