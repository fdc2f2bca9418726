// scaled_dot_product_attention: two matmuls around a scaled, masked softmax, computed in fp32 for
// 16-bit inputs; the causal mask is a constant for static lengths and built from two aranges
// when they are dynamic.
#include "layerkit/impl/attention.h"

#include <cmath>
#include <limits>
#include <vector>

#include "impl/shape_math.h"
#include "layerkit/impl/arange.h"
#include "layerkit/impl/condition.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/matmul.h"
#include "layerkit/impl/normalization.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::attention {

namespace {

bool is_float16_32(DataType t) {
  return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
}

Tensor* reshape(ConversionContext& ctx, Tensor* x, const Dims& dims, const Target& target,
                std::optional<SourceIR> source_ir, std::string_view name) {
  ShuffleAttrs s;
  s.reshape_dims = dims;
  s.zero_is_placeholder = false;
  return named_output(ctx, ctx.net().add_shuffle(x, s), target, source_ir, name);
}

// The [L, S] bool mask j <= i: a Constant when both lengths are static, otherwise
// arange(S)[None, :] <= arange(L)[:, None] over the run-time lengths.
Tensor* causal_mask(ConversionContext& ctx, Tensor* q, Tensor* k, const Target& target,
                    std::optional<SourceIR> source_ir, std::string_view name) {
  int64_t l = q->dims()[q->dims().rank() - 2], s = k->dims()[k->dims().rank() - 2];
  auto sub = [&](std::string_view x) { return sub_name(name, x); };
  if (l >= 0 && s >= 0) {
    std::vector<bool> m(static_cast<size_t>(l * s));
    for (int64_t i = 0; i < l; ++i)
      for (int64_t j = 0; j < s; ++j) m[static_cast<size_t>(i * s + j)] = j <= i;
    return named_output(ctx, ctx.net().add_constant({l, s}, Weights::from_vector(m)), target,
                        source_ir, sub("causal_mask"));
  }
  Tensor* ln = shape_math::dim_size(ctx, q, q->dims().rank() - 2, target, source_ir, sub("len_q"));
  Tensor* sn = shape_math::dim_size(ctx, k, k->dims().rank() - 2, target, source_ir, sub("len_k"));
  Tensor* rows = arange::arange(ctx, target, source_ir, sub("rows"), ln);
  Tensor* cols = arange::arange(ctx, target, source_ir, sub("cols"), sn);
  Tensor* r = reshape(ctx, rows, Dims{-1, 1}, target, source_ir, sub("rows_column"));
  Tensor* c = reshape(ctx, cols, Dims{1, -1}, target, source_ir, sub("cols_row"));
  return elementwise::le(ctx, target, source_ir, sub("causal_mask"), c, r);
}

}  // namespace

Tensor* scaled_dot_product_attention(ConversionContext& ctx, const Target& target,
                                     std::optional<SourceIR> source_ir, std::string_view name,
                                     Tensor* query, Tensor* key, Tensor* value,
                                     std::optional<Operand> attn_mask, double dropout_p,
                                     bool is_causal, std::optional<double> scale) {
  Operand q_op(query), k_op(key), v_op(value);
  const Operand* mask_op = attn_mask ? &*attn_mask : nullptr;
  auto body = [&]() -> Tensor* {
    for (Tensor* t : {query, key, value}) {
      LK_CHECK(t != nullptr, "query, key and value must be tensors");
      LK_CHECK(t->dims().rank() >= 2, "query, key and value need rank >= 2 ([..., L, E]), got ",
               describe(*t));
    }
    DataType t = query->type();
    LK_CHECK(is_float16_32(t), "query must be float32, float16 or bfloat16, got ",
             data_type_name(t));
    LK_CHECK(key->type() == t && value->type() == t,
             "query, key and value must have one type, got ", describe(*query), ", ",
             describe(*key), ", ", describe(*value));
    LK_CHECK(dropout_p == 0.0, "dropout_p is ", dropout_p,
             "; dropout is a training op (pass 0 for inference)");
    LK_CHECK(!(is_causal && attn_mask),
             "attn_mask and is_causal cannot both be set (as torch requires)");
    const Dims &dq = query->dims(), &dk = key->dims(), &dv = value->dims();
    int64_t e = dq[dq.rank() - 1], ek = dk[dk.rank() - 1];
    LK_CHECK(e == -1 || ek == -1 || e == ek, "query has E = ", e, " but key has E = ", ek);
    int64_t sk = dk[dk.rank() - 2], sv = dv[dv.rank() - 2];
    LK_CHECK(sk == -1 || sv == -1 || sk == sv, "key has S = ", sk, " positions but value has ", sv);
    LK_CHECK(scale || e > 0, "the head dim E of ", describe(*query),
             " is dynamic; pass scale explicitly");
    double sc = scale.value_or(1.0 / std::sqrt(static_cast<double>(e)));
    if (mask_op) {
      DataType mt = operand_type(*mask_op);
      LK_CHECK(mt == DataType::kBOOL || mt == t, "attn_mask must be bool or ", data_type_name(t),
               " (the query's type), got ", mask_op->describe());
    }

    DataType ct = compute_type(t);
    auto sub = [&](std::string_view x) { return sub_name(name, x); };
    Tensor* q = cast_to(ctx, query, ct, target, source_ir, sub("query"));
    Tensor* k = cast_to(ctx, key, ct, target, source_ir, sub("key"));
    Tensor* v = cast_to(ctx, value, ct, target, source_ir, sub("value"));
    Tensor* scores = matmul::detail::matmul_tensors(ctx, target, source_ir, sub("scores"), q, k,
                                                    /*transpose_b=*/true);
    scores = elementwise::mul(ctx, target, source_ir, sub("scaled"), scores, sc);
    const double neg_inf = -std::numeric_limits<double>::infinity();
    if (is_causal) {
      Tensor* m = causal_mask(ctx, q, k, target, source_ir, name);
      scores = condition::where(ctx, target, source_ir, sub("masked"), m, scores, neg_inf);
    } else if (mask_op && operand_type(*mask_op) == DataType::kBOOL) {
      Tensor* m = to_tensor(ctx, *mask_op, DataType::kBOOL, mask_op->rank(), target, source_ir,
                            sub("mask"));
      scores = condition::where(ctx, target, source_ir, sub("masked"), m, scores, neg_inf);
    } else if (mask_op) {
      Tensor* m = to_tensor(ctx, *mask_op, ct, mask_op->rank(), target, source_ir, sub("mask"));
      scores = elementwise::add(ctx, target, source_ir, sub("masked"), scores, m);
    }
    Tensor* p = normalization::softmax(ctx, target, source_ir, sub("softmax"), scores, -1);
    Tensor* out = matmul::detail::matmul_tensors(
        ctx, target, source_ir, ct == t ? std::string(name) : sub("output"), p, v, false);
    return cast_to(ctx, out, t, target, source_ir, name);
  };
  if (mask_op)
    return guarded(ctx, "attention::scaled_dot_product_attention", target, name,
                   {&q_op, &k_op, &v_op, mask_op}, body);
  return guarded(ctx, "attention::scaled_dot_product_attention", target, name,
                 {&q_op, &k_op, &v_op}, body);
}

}  // namespace layerkit::impl::attention
