// TopK building blocks: topk, argmax/argmin and sort on the TopK layer, with PyTorch's dims,
// index type (int64) and tie order.
#include "layerkit/impl/topk.h"

#include <string>

#include "layerkit/impl/utils.h"

namespace layerkit::impl::topk {

namespace {

bool topk_layer_type(DataType t) {
  return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16 ||
         t == DataType::kINT32 || t == DataType::kINT64;
}

void check_input(Tensor* x, std::string_view op, bool accepts_bool) {
  LK_CHECK(x != nullptr, "input is a null tensor");
  DataType t = x->type();
  LK_CHECK(topk_layer_type(t) || t == DataType::kUINT8 || t == DataType::kINT8 ||
               (accepts_bool && t == DataType::kBOOL),
           op, " does not take ", data_type_name(t), " inputs",
           t == DataType::kBOOL ? " (as torch)" : "");
}

Tensor* reshape(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* x, const Dims& dims) {
  ShuffleAttrs s;
  s.reshape_dims = dims;
  s.zero_is_placeholder = false;
  return named_output(ctx, ctx.net().add_shuffle(x, s), target, source_ir, name);
}

// Removes the size-1 `axis`: a transpose moving it last, then a reshape whose 0 placeholders
// copy the remaining dims, so dynamic dims need no shape tensor.
Tensor* squeeze_axis(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, Tensor* x,
                     int axis) {
  int rank = x->dims().rank();
  ShuffleAttrs s;
  for (int i = 0; i < rank; ++i)
    if (i != axis) s.first_transpose.push_back(i);
  s.first_transpose.push_back(axis);
  s.reshape_dims = Dims::of_rank(rank - 1, 0);
  s.zero_is_placeholder = true;
  return named_output(ctx, ctx.net().add_shuffle(x, s), target, source_ir, name);
}

// One TopK layer on `axis` of a rank >= 1 tensor, int64 indices, values in the input's type
// (int8/uint8/bool go through int32, which orders them identically).
ValuesIndices topk_layer(ConversionContext& ctx, const Target& target,
                         std::optional<SourceIR> source_ir, std::string_view name, Tensor* x,
                         int axis, TopKOperation op, int64_t k, Tensor* k_tensor) {
  DataType t = x->type();
  DataType lt = topk_layer_type(t) ? t : DataType::kINT32;
  Tensor* xc = cast_to(ctx, x, lt, target, source_ir, sub_name(name, "cast"));
  Layer* l = ctx.net().add_topk(xc, op, k, AxesMask{1} << axis, DataType::kINT64, k_tensor);
  set_layer_name(ctx, l, target, source_ir, name);
  Tensor* values = cast_to(ctx, l->output(0), t, target, source_ir, sub_name(name, "values"));
  return {values, l->output(1)};
}

void check_k(int64_t k, int64_t size, int64_t dim) {
  LK_CHECK(k >= 1, "k ", k, " must be at least 1 (k = 0 gives no TopK layer)");
  LK_CHECK(size < 0 || k <= size, "k ", k, " is out of range: dim ", dim, " has size ", size);
  LK_CHECK(k <= kMaxK, "k ", k, " exceeds the TopK layer's limit of ", kMaxK);
}

ValuesIndices topk_impl(ConversionContext& ctx, const Target& target,
                        std::optional<SourceIR> source_ir, std::string_view name, Tensor* x,
                        int64_t k, int64_t dim, bool largest) {
  check_input(x, "topk", false);
  int rank = x->dims().rank();
  int axis = get_positive_dim(dim, rank);
  TopKOperation op = largest ? TopKOperation::kMAX : TopKOperation::kMIN;
  if (rank == 0) {
    check_k(k, 1, dim);
    Tensor* flat = reshape(ctx, target, source_ir, sub_name(name, "as_1d"), x, Dims{1});
    ValuesIndices r = topk_layer(ctx, target, source_ir, name, flat, 0, op, 1, nullptr);
    return {reshape(ctx, target, source_ir, sub_name(name, "values_scalar"), r.values, Dims{}),
            reshape(ctx, target, source_ir, sub_name(name, "indices_scalar"), r.indices, Dims{})};
  }
  check_k(k, x->dims()[axis], dim);
  return topk_layer(ctx, target, source_ir, name, x, axis, op, k, nullptr);
}

Tensor* arg_impl(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* x, std::optional<int64_t> dim, bool keepdim,
                 bool is_max) {
  check_input(x, is_max ? "argmax" : "argmin", false);
  int rank = x->dims().rank();
  TopKOperation op = is_max ? TopKOperation::kMAX : TopKOperation::kMIN;
  if (!dim || rank == 0) {
    if (dim) get_positive_dim(*dim, rank);
    // Over the flattened input; torch then shapes the index as all reduced dims (keepdim: 1s).
    Tensor* flat = reshape(ctx, target, source_ir, sub_name(name, "flatten"), x, Dims{-1});
    ValuesIndices r =
        topk_layer(ctx, target, source_ir, sub_name(name, "topk"), flat, 0, op, 1, nullptr);
    Dims out = keepdim ? Dims::of_rank(rank, 1) : Dims{};
    return reshape(ctx, target, source_ir, name, r.indices, out);
  }
  int axis = get_positive_dim(*dim, rank);
  ValuesIndices r = topk_layer(ctx, target, source_ir, keepdim ? name : sub_name(name, "topk"), x,
                               axis, op, 1, nullptr);
  if (keepdim) return r.indices;
  return squeeze_axis(ctx, target, source_ir, name, r.indices, axis);
}

}  // namespace

ValuesIndices topk(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Tensor* input, int64_t k, int64_t dim, bool largest,
                   bool /*sorted*/) {
  Operand in(input);
  std::vector<Tensor*> r = guarded_multi(ctx, "topk::topk", target, name, {&in}, [&] {
    ValuesIndices v = topk_impl(ctx, target, source_ir, name, input, k, dim, largest);
    return std::vector<Tensor*>{v.values, v.indices};
  });
  return {r[0], r[1]};
}

ValuesIndices topk_k_tensor(ConversionContext& ctx, const Target& target,
                            std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                            Tensor* k, int64_t dim, bool largest, bool /*sorted*/) {
  Operand in(input), kk(k);
  std::vector<Tensor*> r = guarded_multi(ctx, "topk::topk_k_tensor", target, name, {&in, &kk}, [&] {
    check_input(input, "topk", false);
    const int rank = input->dims().rank();
    LK_CHECK(rank >= 1, "topk with a run-time k needs an input of rank >= 1, got ",
             describe(*input));
    LK_CHECK(
        k->dims().volume() == 1 && (k->type() == DataType::kINT32 || k->type() == DataType::kINT64),
        "k must be one int32/int64 element, got ", describe(*k));
    const int axis = get_positive_dim(dim, rank);
    // The TopK layer reads k as a 0-D tensor and checks its range when it runs.
    Tensor* k0 = reshape(ctx, target, source_ir, sub_name(name, "k"), k, Dims{});
    ValuesIndices v = topk_layer(ctx, target, source_ir, name, input, axis,
                                 largest ? TopKOperation::kMAX : TopKOperation::kMIN, 1, k0);
    return std::vector<Tensor*>{v.values, v.indices};
  });
  return {r[0], r[1]};
}

Tensor* argmax(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Tensor* input, std::optional<int64_t> dim, bool keepdim) {
  Operand in(input);
  return guarded(ctx, "topk::argmax", target, name, {&in},
                 [&] { return arg_impl(ctx, target, source_ir, name, input, dim, keepdim, true); });
}

Tensor* argmin(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Tensor* input, std::optional<int64_t> dim, bool keepdim) {
  Operand in(input);
  return guarded(ctx, "topk::argmin", target, name, {&in}, [&] {
    return arg_impl(ctx, target, source_ir, name, input, dim, keepdim, false);
  });
}

ValuesIndices sort(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Tensor* input, int64_t dim, bool descending) {
  Operand in(input);
  std::vector<Tensor*> r = guarded_multi(ctx, "topk::sort", target, name, {&in}, [&] {
    check_input(input, "sort", true);
    int rank = input->dims().rank();
    int axis = get_positive_dim(dim, rank);
    TopKOperation op = descending ? TopKOperation::kMAX : TopKOperation::kMIN;
    if (rank == 0) {
      Tensor* flat = reshape(ctx, target, source_ir, sub_name(name, "as_1d"), input, Dims{1});
      ValuesIndices v = topk_layer(ctx, target, source_ir, name, flat, 0, op, 1, nullptr);
      return std::vector<Tensor*>{
          reshape(ctx, target, source_ir, sub_name(name, "values_scalar"), v.values, Dims{}),
          reshape(ctx, target, source_ir, sub_name(name, "indices_scalar"), v.indices, Dims{})};
    }
    int64_t size = input->dims()[axis];
    Tensor* k_tensor = nullptr;
    if (size >= 0) {
      LK_CHECK(size >= 1, "sort of an empty dim ", dim, " is not supported (TopK needs k >= 1)");
      LK_CHECK(size <= kMaxK, "sort over dim ", dim, " of size ", size,
               " exceeds the TopK layer's limit of ", kMaxK, " elements");
    } else {
      // The whole dim, read at run time (the TopK layer checks the limit there).
      Tensor* shape =
          named_output(ctx, ctx.net().add_shape(input), target, source_ir, sub_name(name, "shape"));
      Tensor* idx = named_output(
          ctx,
          ctx.net().add_constant(
              Dims{}, Weights::from_vector(DataType::kINT64, std::vector<int64_t>{axis})),
          target, source_ir, sub_name(name, "axis"));
      k_tensor = named_output(ctx, ctx.net().add_gather(shape, idx, 0), target, source_ir,
                              sub_name(name, "k"));
    }
    ValuesIndices v =
        topk_layer(ctx, target, source_ir, name, input, axis, op, size >= 0 ? size : 1, k_tensor);
    return std::vector<Tensor*>{v.values, v.indices};
  });
  return {r[0], r[1]};
}

}  // namespace layerkit::impl::topk
