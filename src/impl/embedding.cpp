// Embedding building blocks: embedding (one Gather) and embedding_bag (Gather, then a bag
// membership mask reduced by MatrixMultiply or a masked Reduce).
#include "layerkit/impl/embedding.h"

#include <limits>

#include "layerkit/impl/utils.h"

namespace layerkit::impl::embedding {

namespace {

using E = ElementWiseOperation;

Tensor* as_tensor(ConversionContext& ctx, const Operand& op, const Target& target,
                  std::optional<SourceIR> source_ir, std::string_view name) {
  return to_tensor(ctx, op, operand_type(op), op.rank(), target, source_ir, name);
}

void check_index(const Tensor* index, std::string_view what) {
  LK_CHECK(index->type() == DataType::kINT32 || index->type() == DataType::kINT64, what,
           " must be int32 or int64, got ", data_type_name(index->type()), " ",
           index->dims().to_string());
}

Tensor* reshape(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* x, const Dims& dims,
                std::vector<int32_t> second_transpose = {}) {
  ShuffleAttrs s;
  s.reshape_dims = dims;
  s.zero_is_placeholder = true;
  s.second_transpose = std::move(second_transpose);
  return named_output(ctx, ctx.net().add_shuffle(x, s), target, source_ir, name);
}

Tensor* binary(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Tensor* a, Tensor* b, E op) {
  return named_output(ctx, ctx.net().add_elementwise(a, b, op), target, source_ir, name);
}

Tensor* weight_matrix(ConversionContext& ctx, const Operand& weight, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name) {
  Tensor* w = as_tensor(ctx, weight, target, source_ir, sub_name(name, "weight"));
  LK_CHECK(w->dims().rank() == 2, "embedding weight must be 2-D [num_embeddings, dim], got ",
           w->dims().to_string());
  return w;
}

}  // namespace

Tensor* embedding(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Operand weight, Operand indices) {
  return guarded(ctx, "embedding::embedding", target, name, {&weight, &indices}, [&]() -> Tensor* {
    Tensor* w = weight_matrix(ctx, weight, target, source_ir, name);
    Tensor* i = as_tensor(ctx, indices, target, source_ir, sub_name(name, "indices"));
    check_index(i, "embedding indices");
    return named_output(ctx, ctx.net().add_gather(w, i, 0), target, source_ir, name);
  });
}

Tensor* embedding_bag(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Operand weight,
                      Operand indices, std::optional<Operand> offsets, BagMode mode,
                      std::optional<Operand> per_sample_weights, bool include_last_offset) {
  return guarded(
      ctx, "embedding::embedding_bag", target, name, {&weight, &indices}, [&]() -> Tensor* {
        Tensor* w = weight_matrix(ctx, weight, target, source_ir, name);
        DataType wt = w->type();
        LK_CHECK(is_floating(wt) && wt != DataType::kFP8,
                 "embedding_bag weight must be float32, float16 or bfloat16, got ",
                 data_type_name(wt));
        Tensor* i = as_tensor(ctx, indices, target, source_ir, sub_name(name, "indices"));
        check_index(i, "embedding_bag indices");
        int ir = i->dims().rank();
        LK_CHECK(ir == 1 || ir == 2,
                 "embedding_bag indices must be 1-D (with offsets) or 2-D, got ",
                 i->dims().to_string());
        // Note [Precision policy]: sums and means compute in fp32 and round once.
        DataType ct = compute_type(wt);
        Tensor* psw = nullptr;
        if (per_sample_weights) {
          LK_CHECK(mode == BagMode::kSUM,
                   "per_sample_weights are only supported in sum mode (as in torch)");
          psw = as_tensor(ctx, *per_sample_weights, target, source_ir, sub_name(name, "psw"));
          LK_CHECK(psw->type() == wt, "per_sample_weights type ", data_type_name(psw->type()),
                   " differs from the weight type ", data_type_name(wt));
          LK_CHECK(psw->dims().rank() == ir, "per_sample_weights ", psw->dims().to_string(),
                   " must have the shape of indices ", i->dims().to_string());
          psw = cast_to(ctx, psw, ct, target, source_ir, sub_name(name, "psw_cast"));
        }
        Tensor* emb = named_output(ctx, ctx.net().add_gather(w, i, 0), target, source_ir,
                                   sub_name(name, "lookup"));

        if (ir == 2) {  // fixed-size bags [bags, L]: reduce the looked-up rows over L
          LK_CHECK(!offsets, "offsets must be absent when indices are 2-D ", i->dims().to_string());
          LK_CHECK(!include_last_offset, "include_last_offset needs 1-D indices with offsets");
          Tensor* e = cast_to(ctx, emb, ct, target, source_ir, sub_name(name, "lookup_cast"));
          if (psw) {
            Tensor* p3 = reshape(ctx, target, source_ir, sub_name(name, "psw_3d"), psw, {0, 0, 1});
            e = binary(ctx, target, source_ir, sub_name(name, "weighted"), e, p3, E::kPROD);
          }
          ReduceOperation op = mode == BagMode::kSUM    ? ReduceOperation::kSUM
                               : mode == BagMode::kMEAN ? ReduceOperation::kAVG
                                                        : ReduceOperation::kMAX;
          Tensor* r = named_output(ctx, ctx.net().add_reduce(e, op, 1u << 1, false), target,
                                   source_ir, ct == wt ? name : sub_name(name, "reduce"));
          return cast_to(ctx, r, wt, target, source_ir, name);
        }

        LK_CHECK(offsets.has_value(), "1-D indices need offsets");
        Tensor* o = as_tensor(ctx, *offsets, target, source_ir, sub_name(name, "offsets"));
        check_index(o, "embedding_bag offsets");
        LK_CHECK(o->dims().rank() == 1, "embedding_bag offsets must be 1-D, got ",
                 o->dims().to_string());
        LK_CHECK(!include_last_offset || o->dims()[0] != 0,
                 "include_last_offset needs at least one offset");
        // Bag b spans positions [start_b, end_b): starts = ext[0:bags], ends = ext[1:bags+1] with
        // ext = offsets ++ [num_indices].
        Tensor* n = named_output(ctx, ctx.net().add_shape(i), target, source_ir,
                                 sub_name(name, "num_indices"));
        Tensor* o64 =
            cast_to(ctx, o, DataType::kINT64, target, source_ir, sub_name(name, "offsets_int64"));
        std::vector<Tensor*> parts{o64, n};
        Tensor* ext = named_output(ctx, ctx.net().add_concatenation(parts, 0), target, source_ir,
                                   sub_name(name, "bounds"));
        Tensor* bags = named_output(ctx, ctx.net().add_shape(o), target, source_ir,
                                    sub_name(name, "num_offsets"));
        if (include_last_offset) {
          Tensor* one = scalar_constant(ctx, 1, DataType::kINT64, {1}, target, source_ir,
                                        sub_name(name, "one"));
          bags = binary(ctx, target, source_ir, sub_name(name, "num_bags"), bags, one, E::kSUB);
        }
        SliceInputs by_size;
        by_size.size = bags;
        Tensor* starts = named_output(
            ctx, ctx.net().add_slice(ext, {0}, {0}, {1}, SampleMode::kSTRICT_BOUNDS, by_size),
            target, source_ir, sub_name(name, "starts"));
        Tensor* ends = named_output(
            ctx, ctx.net().add_slice(ext, {1}, {0}, {1}, SampleMode::kSTRICT_BOUNDS, by_size),
            target, source_ir, sub_name(name, "ends"));
        FillAttrs ramp;
        ramp.op = FillOperation::kLINSPACE;
        ramp.alpha = 0;
        ramp.beta = {1};
        ramp.output_type = DataType::kINT64;
        FillInputs ramp_in;
        ramp_in.shape = n;
        Tensor* pos = named_output(ctx, ctx.net().add_fill(ramp, ramp_in), target, source_ir,
                                   sub_name(name, "positions"));
        Tensor* pos_row =
            reshape(ctx, target, source_ir, sub_name(name, "positions_row"), pos, {1, -1});
        Tensor* start_col =
            reshape(ctx, target, source_ir, sub_name(name, "starts_col"), starts, {0, 1});
        Tensor* end_col = reshape(ctx, target, source_ir, sub_name(name, "ends_col"), ends, {0, 1});
        Tensor* before = binary(ctx, target, source_ir, sub_name(name, "before_start"), pos_row,
                                start_col, E::kLESS);
        Tensor* in_range = binary(ctx, target, source_ir, sub_name(name, "before_end"), pos_row,
                                  end_col, E::kLESS);
        Tensor* after = named_output(ctx, ctx.net().add_unary(before, UnaryOperation::kNOT), target,
                                     source_ir, sub_name(name, "from_start"));
        Tensor* member =
            binary(ctx, target, source_ir, sub_name(name, "member"), after, in_range, E::kAND);

        if (mode == BagMode::kMAX) {
          // max over the bag's rows: rows outside the bag read -inf; empty bags then give 0.
          Tensor* m3 =
              reshape(ctx, target, source_ir, sub_name(name, "member_3d"), member, {0, 0, 1});
          Tensor* e3 = reshape(ctx, target, source_ir, sub_name(name, "lookup_3d"), emb, {0, 0, 1},
                               {2, 0, 1});
          Tensor* lowest = scalar_constant(ctx, -std::numeric_limits<double>::infinity(), wt,
                                           {1, 1, 1}, target, source_ir, sub_name(name, "lowest"));
          Tensor* masked = named_output(ctx, ctx.net().add_select(m3, e3, lowest), target,
                                        source_ir, sub_name(name, "masked"));
          Tensor* mx =
              named_output(ctx, ctx.net().add_reduce(masked, ReduceOperation::kMAX, 1u << 1, false),
                           target, source_ir, sub_name(name, "max"));
          Tensor* mi = cast_to(ctx, member, DataType::kINT32, target, source_ir,
                               sub_name(name, "member_int"));
          Tensor* any =
              named_output(ctx, ctx.net().add_reduce(mi, ReduceOperation::kMAX, 1u << 1, true),
                           target, source_ir, sub_name(name, "count"));
          Tensor* zero_i = scalar_constant(ctx, 0, DataType::kINT32, {1, 1}, target, source_ir,
                                           sub_name(name, "zero_count"));
          Tensor* nonempty =
              binary(ctx, target, source_ir, sub_name(name, "nonempty"), any, zero_i, E::kGREATER);
          Tensor* zero =
              scalar_constant(ctx, 0, wt, {1, 1}, target, source_ir, sub_name(name, "zero"));
          return named_output(ctx, ctx.net().add_select(nonempty, mx, zero), target, source_ir,
                              name);
        }

        Tensor* mf = cast_to(ctx, member, ct, target, source_ir, sub_name(name, "member_float"));
        Tensor* coef = mf;
        if (psw) {
          Tensor* prow = reshape(ctx, target, source_ir, sub_name(name, "psw_row"), psw, {1, -1});
          coef = binary(ctx, target, source_ir, sub_name(name, "weighted"), mf, prow, E::kPROD);
        }
        Tensor* e = cast_to(ctx, emb, ct, target, source_ir, sub_name(name, "lookup_cast"));
        bool last_is_sum = mode == BagMode::kSUM && ct == wt;
        Tensor* s = named_output(
            ctx,
            ctx.net().add_matrix_multiply(coef, MatrixOperation::kNONE, e, MatrixOperation::kNONE),
            target, source_ir, last_is_sum ? name : sub_name(name, "sum"));
        if (mode == BagMode::kMEAN) {
          Tensor* cnt =
              named_output(ctx, ctx.net().add_reduce(mf, ReduceOperation::kSUM, 1u << 1, true),
                           target, source_ir, sub_name(name, "count"));
          Tensor* one =
              scalar_constant(ctx, 1, ct, {1, 1}, target, source_ir, sub_name(name, "one_f"));
          Tensor* denom =
              binary(ctx, target, source_ir, sub_name(name, "denominator"), cnt, one, E::kMAX);
          s = binary(ctx, target, source_ir, ct == wt ? name : sub_name(name, "mean"), s, denom,
                     E::kDIV);
        }
        return cast_to(ctx, s, wt, target, source_ir, name);
      });
}

Tensor* embedding_bag(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Operand weight,
                      Operand indices, const EmbeddingBagOptions& o) {
  return embedding_bag(ctx, target, source_ir, name, std::move(weight), std::move(indices),
                       o.offsets, o.mode, o.per_sample_weights, o.include_last_offset);
}

}  // namespace layerkit::impl::embedding
