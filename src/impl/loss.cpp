// Loss building blocks: nll_loss as gather, weights and reductions; cross_entropy on log_softmax.
#include "layerkit/impl/loss.h"

#include "layerkit/impl/cast.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/normalization.h"
#include "layerkit/impl/reduce.h"
#include "layerkit/impl/select.h"
#include "layerkit/impl/squeeze.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::loss {

namespace {

namespace ew = elementwise;

void check_reduction(std::string_view reduction) {
  LK_CHECK(reduction == "none" || reduction == "mean" || reduction == "sum", "reduction is '",
           reduction, "'; expected 'none', 'mean' or 'sum'");
}

// The body of nll_loss, unguarded so cross_entropy can share its guard.
Tensor* nll_body(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, Tensor* index,
                 const std::optional<Operand>& weight, std::string_view reduction,
                 int64_t ignore_index) {
  check_reduction(reduction);
  LK_CHECK(input && index, "input and target must be tensors");
  const Dims& xd = input->dims();
  const Dims& td = index->dims();
  LK_CHECK(is_floating(input->type()), "input must be floating, got ", describe(*input));
  LK_CHECK(is_integer(index->type()), "target must hold integer class indices, got ",
           describe(*index));
  LK_CHECK(xd.rank() >= 2, "input must be [N, C, ...], got ", describe(*input));
  LK_CHECK(td.rank() == xd.rank() - 1, "target ", describe(*index), " must have rank ",
           xd.rank() - 1, " for input ", describe(*input));
  for (int i = 0; i < td.rank(); ++i) {
    const int64_t a = xd[i == 0 ? 0 : i + 1], b = td[i];
    LK_CHECK(a < 0 || b < 0 || a == b, "target ", describe(*index), " does not match input ",
             describe(*input), " at target dim ", i);
  }
  const DataType out_type = input->type();
  const DataType ct = compute_type(out_type);
  auto sn = [&](std::string_view s) { return sub_name(name, s); };
  Tensor* x = cast_to(ctx, input, ct, target, source_ir, sn("input"));
  Tensor* t = cast_to(ctx, index, DataType::kINT64, target, source_ir, sn("target"));
  Tensor* valid = ew::ne(ctx, target, source_ir, sn("valid"), t, Operand(ignore_index));
  // Ignored elements read class 0 and weigh 0.
  Tensor* safe =
      ew::mul(ctx, target, source_ir, sn("safe"), t,
              cast::cast(ctx, target, source_ir, sn("valid_i"), valid, DataType::kINT64));
  Tensor* w = cast::cast(ctx, target, source_ir, sn("valid_f"), valid, ct);
  if (weight) {
    LK_CHECK(!weight->is_scalar(), "weight must be a 1-D tensor [C], got ", weight->describe());
    Tensor* wt = to_tensor(ctx, *weight, ct, 1, target, source_ir, sn("weight"));
    LK_CHECK(wt->dims().rank() == 1 && (wt->dims()[0] < 0 || xd[1] < 0 || wt->dims()[0] == xd[1]),
             "weight must be [C = ", xd[1], "], got ", weight->describe());
    Tensor* g =
        named_output(ctx, ctx.net().add_gather(wt, safe, 0), target, source_ir, sn("class_weight"));
    w = ew::mul(ctx, target, source_ir, sn("weight_valid"), g, w);
  }
  Tensor* picked = select::gather(ctx, target, source_ir, sn("pick"), x, 1,
                                  squeeze::unsqueeze(ctx, target, source_ir, sn("index"), safe, 1));
  picked = squeeze::squeeze(ctx, target, source_ir, sn("picked"), picked, 1);
  Tensor* loss = ew::neg(ctx, target, source_ir, sn("neg"),
                         ew::mul(ctx, target, source_ir, sn("weighted"), picked, w));
  if (reduction == "none") return cast_to(ctx, loss, out_type, target, source_ir, name);
  Tensor* total = reduce::sum(ctx, target, source_ir, sn("sum"), loss);
  if (reduction == "mean")
    total = ew::div(ctx, target, source_ir, sn("mean"), total,
                    reduce::sum(ctx, target, source_ir, sn("weight_sum"), w));
  return cast_to(ctx, total, out_type, target, source_ir, name);
}

}  // namespace

Tensor* nll_loss(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, Tensor* target_index,
                 std::optional<Operand> weight, std::string_view reduction, int64_t ignore_index) {
  Operand in(input), tg(target_index);
  return guarded(ctx, "loss::nll_loss", target, name, {&in, &tg}, [&]() -> Tensor* {
    return nll_body(ctx, target, source_ir, name, input, target_index, weight, reduction,
                    ignore_index);
  });
}

Tensor* cross_entropy(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                      Tensor* target_index, std::optional<Operand> weight,
                      std::string_view reduction, int64_t ignore_index) {
  Operand in(input), tg(target_index);
  return guarded(ctx, "loss::cross_entropy", target, name, {&in, &tg}, [&]() -> Tensor* {
    check_reduction(reduction);
    LK_CHECK(input && input->dims().rank() >= 2, "input must be [N, C, ...], got ", in.describe());
    Tensor* lp =
        normalization::log_softmax(ctx, target, source_ir, sub_name(name, "log_prob"), input, 1);
    return nll_body(ctx, target, source_ir, name, lp, target_index, weight, reduction,
                    ignore_index);
  });
}

}  // namespace layerkit::impl::loss
