// Indexing building blocks (gather, index_select, gather_nd, select, advanced indexing) composed
// from Gather, NonZero, Shuffle, Concatenation and ElementWise layers.
#include "layerkit/impl/select.h"

#include <algorithm>
#include <numeric>

#include "layerkit/impl/utils.h"

namespace layerkit::impl::select {

namespace {

// Tensors pass through unchanged; scalars and host constants become Constant layers of their
// own type (int scalars as 0-D int64, which is what an int index means).
Tensor* as_tensor(ConversionContext& ctx, const Operand& op, const Target& target,
                  std::optional<SourceIR> source_ir, std::string_view name) {
  return to_tensor(ctx, op, operand_type(op), op.rank(), target, source_ir, name);
}

bool is_index_type(DataType t) {
  return t == DataType::kINT32 || t == DataType::kINT64;
}

void check_index(const Tensor* index, std::string_view what) {
  LK_CHECK(is_index_type(index->type()), what, " must be int32 or int64, got ",
           data_type_name(index->type()), " ", index->dims().to_string());
}

Tensor* gather_layer(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, Tensor* data,
                     Tensor* index, int axis, GatherMode mode, int num_elementwise_dims = 0) {
  return named_output(ctx, ctx.net().add_gather(data, index, axis, mode, num_elementwise_dims),
                      target, source_ir, name);
}

Tensor* transpose(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Tensor* x, const std::vector<int32_t>& perm) {
  ShuffleAttrs s;
  s.first_transpose = perm;
  return named_output(ctx, ctx.net().add_shuffle(x, s), target, source_ir, name);
}

// Appends a trailing 1 to the dims (0 placeholders copy the dims, dynamic ones included).
Tensor* unsqueeze_last(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, Tensor* x) {
  ShuffleAttrs s;
  Dims d = Dims::of_rank(x->dims().rank(), 0);
  d.push_back(1);
  s.reshape_dims = d;
  s.zero_is_placeholder = true;
  return named_output(ctx, ctx.net().add_shuffle(x, s), target, source_ir, name);
}

Tensor* int64_constant(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, int64_t v) {
  return named_output(
      ctx,
      ctx.net().add_constant({}, Weights::from_vector(DataType::kINT64, std::vector<int64_t>{v})),
      target, source_ir, name);
}

}  // namespace

Tensor* gather(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Operand input, int64_t dim, Operand index) {
  return guarded(ctx, "select::gather", target, name, {&input, &index}, [&]() -> Tensor* {
    Tensor* x = as_tensor(ctx, input, target, source_ir, sub_name(name, "input"));
    Tensor* i = as_tensor(ctx, index, target, source_ir, sub_name(name, "index"));
    check_index(i, "gather index");
    int r = x->dims().rank();
    LK_CHECK(i->dims().rank() == r, "gather index must have the input's rank: input ",
             x->dims().to_string(), " (rank ", r, "), index ", i->dims().to_string(), " (rank ",
             i->dims().rank(), ")");
    int axis = get_positive_dim(dim, r);
    if (r == 0) {
      // A 0-D gather reads the only element; the Gather layer needs an axis, so go through [1].
      ShuffleAttrs s;
      s.reshape_dims = Dims{1};
      Tensor* xl = named_output(ctx, ctx.net().add_shuffle(x, s), target, source_ir,
                                sub_name(name, "input_1d"));
      Tensor* il = named_output(ctx, ctx.net().add_shuffle(i, s), target, source_ir,
                                sub_name(name, "index_1d"));
      Tensor* g = gather_layer(ctx, target, source_ir, sub_name(name, "gather"), xl, il, 0,
                               GatherMode::kELEMENT);
      ShuffleAttrs back;
      back.reshape_dims = Dims{};
      return named_output(ctx, ctx.net().add_shuffle(g, back), target, source_ir, name);
    }
    return gather_layer(ctx, target, source_ir, name, x, i, axis, GatherMode::kELEMENT);
  });
}

Tensor* index_select(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, Operand input,
                     int64_t dim, Operand index) {
  return guarded(ctx, "select::index_select", target, name, {&input, &index}, [&]() -> Tensor* {
    Tensor* x = as_tensor(ctx, input, target, source_ir, sub_name(name, "input"));
    Tensor* i = as_tensor(ctx, index, target, source_ir, sub_name(name, "index"));
    check_index(i, "index_select index");
    LK_CHECK(i->dims().rank() <= 1, "index_select index must be 0-D or 1-D, got ",
             i->dims().to_string());
    LK_CHECK(x->dims().rank() >= 1, "index_select of a 0-D input is not supported");
    int axis = get_positive_dim(dim, x->dims().rank());
    if (i->dims().rank() == 0) {
      // torch keeps the dim (size 1) for a 0-D index, unlike select.
      ShuffleAttrs s;
      s.reshape_dims = Dims{1};
      i = named_output(ctx, ctx.net().add_shuffle(i, s), target, source_ir,
                       sub_name(name, "index_1d"));
    }
    return gather_layer(ctx, target, source_ir, name, x, i, axis, GatherMode::kDEFAULT);
  });
}

Tensor* gather_nd(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Operand input, Operand index, int64_t batch_dims) {
  return guarded(ctx, "select::gather_nd", target, name, {&input, &index}, [&]() -> Tensor* {
    Tensor* x = as_tensor(ctx, input, target, source_ir, sub_name(name, "input"));
    Tensor* i = as_tensor(ctx, index, target, source_ir, sub_name(name, "index"));
    check_index(i, "gather_nd index");
    int r = x->dims().rank(), q = i->dims().rank();
    LK_CHECK(batch_dims >= 0 && batch_dims < std::min(q, r), "gather_nd batch_dims ", batch_dims,
             " must be in 0..", std::min(q, r) - 1, " for input ", x->dims().to_string(),
             " and index ", i->dims().to_string());
    return gather_layer(ctx, target, source_ir, name, x, i, 0, GatherMode::kND,
                        static_cast<int32_t>(batch_dims));
  });
}

Tensor* select(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Operand input, int64_t dim, int64_t index) {
  return guarded(ctx, "select::select", target, name, {&input}, [&]() -> Tensor* {
    Tensor* x = as_tensor(ctx, input, target, source_ir, sub_name(name, "input"));
    int r = x->dims().rank();
    LK_CHECK(r >= 1, "select() cannot be applied to a 0-D tensor");
    int axis = get_positive_dim(dim, r);
    int64_t size = x->dims()[axis];
    // A dynamic size is checked (and a negative index wrapped) by the Gather layer at run time.
    LK_CHECK(size < 0 || (index >= -size && index < size), "select index ", index,
             " is out of range for dim ", dim, " of size ", size, " (input ", x->dims().to_string(),
             ")");
    Tensor* i = int64_constant(ctx, target, source_ir, sub_name(name, "index"), index);
    return gather_layer(ctx, target, source_ir, name, x, i, axis, GatherMode::kDEFAULT);
  });
}

Tensor* index(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input,
              const std::vector<std::optional<Operand>>& indices) {
  return guarded(ctx, "select::index", target, name, {&input}, [&]() -> Tensor* {
    Tensor* x = as_tensor(ctx, input, target, source_ir, sub_name(name, "input"));
    const Dims& xd = x->dims();
    int r = xd.rank();
    // One entry per input dim: the int64 index tensor for that dim, or null (kept whole). A
    // mask of rank k expands into k index tensors, the rows of NonZero's output.
    std::vector<Tensor*> per_dim;
    for (size_t k = 0; k < indices.size(); ++k) {
      int d = static_cast<int>(per_dim.size());
      if (!indices[k]) {
        LK_CHECK(d < r, "too many indices for a tensor of rank ", r, " (", indices.size(),
                 " entries)");
        per_dim.push_back(nullptr);
        continue;
      }
      std::string part = sub_name(name, detail::cat("index", k));
      Tensor* t = as_tensor(ctx, *indices[k], target, source_ir, part);
      DataType ty = t->type();
      if (ty == DataType::kBOOL || ty == DataType::kUINT8) {
        int kr = t->dims().rank();
        LK_CHECK(kr >= 1, "index ", k, ": 0-D bool masks are not supported");
        LK_CHECK(d + kr <= r, "too many indices for a tensor of rank ", r, ": mask ", k, " ",
                 t->dims().to_string(), " starts at dim ", d);
        for (int j = 0; j < kr; ++j) {
          int64_t md = t->dims()[j], xs = xd[d + j];
          LK_CHECK(md < 0 || xs < 0 || md == xs, "the shape of mask ", k, " ",
                   t->dims().to_string(), " does not match the indexed dims of input ",
                   xd.to_string(), " at dim ", d + j, " (", md, " vs ", xs, ")");
        }
        Tensor* nz = named_output(ctx, ctx.net().add_non_zero(t), target, source_ir,
                                  sub_name(part, "nonzero"));
        for (int j = 0; j < kr; ++j) {
          Tensor* row =
              int64_constant(ctx, target, source_ir, sub_name(part, detail::cat("row", j)), j);
          per_dim.push_back(gather_layer(ctx, target, source_ir,
                                         sub_name(part, detail::cat("dim", j)), nz, row, 0,
                                         GatherMode::kDEFAULT));
        }
        continue;
      }
      LK_CHECK(is_index_type(ty), "index ", k, " must be an int32, int64 or bool tensor, got ",
               data_type_name(ty), " ", t->dims().to_string());
      LK_CHECK(d < r, "too many indices for a tensor of rank ", r, " (", indices.size(),
               " entries)");
      per_dim.push_back(
          cast_to(ctx, t, DataType::kINT64, target, source_ir, sub_name(part, "int64")));
    }
    per_dim.resize(static_cast<size_t>(r), nullptr);

    std::vector<int> pos;
    std::vector<Tensor*> idx;
    for (int d = 0; d < r; ++d)
      if (per_dim[d]) {
        pos.push_back(d);
        idx.push_back(per_dim[d]);
      }
    if (pos.empty()) {
      return named_output(ctx, ctx.net().add_identity(x), target, source_ir, name);
    }
    if (pos.size() == 1)  // Gather puts the index dims in place of the indexed dim, as torch.
      return gather_layer(ctx, target, source_ir, name, x, idx[0], pos[0], GatherMode::kDEFAULT);

    // Several index tensors: broadcast them to one shape B, stack them into [B..., m] tuples and
    // GatherND from the input with the indexed dims moved to the front.
    std::vector<Tensor*> bc = broadcast(ctx, idx, target, source_ir, sub_name(name, "broadcast"));
    int nb = bc[0]->dims().rank();
    bool same = std::all_of(bc.begin(), bc.end(), [&](Tensor* t) {
      return t->dims() == bc[0]->dims() && t->dims().is_static();
    });
    if (!same) {
      // Expand each to the full broadcast shape by adding zeros of that shape (sum of idx * 0).
      Tensor* zero = scalar_constant(ctx, 0, DataType::kINT64, Dims::of_rank(nb, 1), target,
                                     source_ir, sub_name(name, "zero"));
      Tensor* zeros = nullptr;
      for (size_t j = 0; j < bc.size(); ++j) {
        Tensor* p =
            named_output(ctx, ctx.net().add_elementwise(bc[j], zero, ElementWiseOperation::kPROD),
                         target, source_ir, sub_name(name, detail::cat("zero", j)));
        if (!zeros) {
          zeros = p;
          continue;
        }
        zeros = named_output(ctx, ctx.net().add_elementwise(zeros, p, ElementWiseOperation::kSUM),
                             target, source_ir, sub_name(name, detail::cat("zeros", j)));
      }
      for (size_t j = 0; j < bc.size(); ++j) {
        Tensor* e =
            named_output(ctx, ctx.net().add_elementwise(bc[j], zeros, ElementWiseOperation::kSUM),
                         target, source_ir, sub_name(name, detail::cat("expand", j)));
        bc[j] = e;
      }
    }
    std::vector<Tensor*> cols;
    for (size_t j = 0; j < bc.size(); ++j)
      cols.push_back(
          unsqueeze_last(ctx, target, source_ir, sub_name(name, detail::cat("column", j)), bc[j]));
    Tensor* cat = named_output(ctx, ctx.net().add_concatenation(cols, nb), target, source_ir,
                               sub_name(name, "tuples"));

    std::vector<int32_t> perm(pos.begin(), pos.end());
    for (int d = 0; d < r; ++d)
      if (!per_dim[d]) perm.push_back(d);
    Tensor* xt = x;
    std::vector<int32_t> id(static_cast<size_t>(r));
    std::iota(id.begin(), id.end(), 0);
    if (perm != id) xt = transpose(ctx, target, source_ir, sub_name(name, "front"), x, perm);

    // torch keeps the broadcast dims in the indexed dims' place only when those are adjacent.
    bool adjacent = pos.back() - pos.front() + 1 == static_cast<int>(pos.size());
    bool move_back = adjacent && pos.front() > 0;
    Tensor* g = gather_layer(ctx, target, source_ir, move_back ? sub_name(name, "gather") : name,
                             xt, cat, 0, GatherMode::kND);
    if (!move_back) return g;
    int out_rank = g->dims().rank(), p0 = pos.front();
    std::vector<int32_t> back;
    for (int d = 0; d < p0; ++d) back.push_back(nb + d);
    for (int d = 0; d < nb; ++d) back.push_back(d);
    for (int d = nb + p0; d < out_rank; ++d) back.push_back(d);
    return transpose(ctx, target, source_ir, name, g, back);
  });
}

}  // namespace layerkit::impl::select
