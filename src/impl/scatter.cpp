// scatter / scatter_reduce / scatter_nd on the Scatter layer (kELEMENT, kND) and its reduction
// extension; src is cut (Slice) or broadcast (scalar) to the index's dims first.
#include "layerkit/impl/scatter.h"

#include "impl/expand_util.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::scatter {

namespace {

ScatterReduction torch_reduction(std::string_view reduce) {
  if (reduce.empty()) return ScatterReduction::kNONE;
  if (reduce == "sum" || reduce == "add") return ScatterReduction::kSUM;
  if (reduce == "prod" || reduce == "multiply") return ScatterReduction::kPROD;
  if (reduce == "amax") return ScatterReduction::kMAX;
  if (reduce == "amin") return ScatterReduction::kMIN;
  LK_FAIL(kINVALID_ARGUMENT, "reduce \"", reduce,
          "\" is not supported; expected \"\", \"sum\", \"prod\", \"amax\", \"amin\", \"add\" or "
          "\"multiply\"");
}

ScatterReduction onnx_reduction(std::string_view reduction) {
  if (reduction == "none") return ScatterReduction::kNONE;
  if (reduction == "add") return ScatterReduction::kSUM;
  if (reduction == "mul") return ScatterReduction::kPROD;
  if (reduction == "max") return ScatterReduction::kMAX;
  if (reduction == "min") return ScatterReduction::kMIN;
  LK_FAIL(kINVALID_ARGUMENT, "reduction \"", reduction,
          "\" is not supported; expected \"none\", \"add\", \"mul\", \"max\" or \"min\"");
}

void check_indices(Tensor* t, std::string_view what) {
  LK_CHECK(t != nullptr, what, " is a null tensor");
  LK_CHECK(t->type() == DataType::kINT64 || t->type() == DataType::kINT32, what, " has type ",
           data_type_name(t->type()), "; expected int64 or int32");
}

}  // namespace

Tensor* scatter(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, int64_t dim, Tensor* index, Operand src,
                std::string_view reduce) {
  Operand in(input), ix(index);
  return guarded(ctx, "scatter::scatter", target, name, {&in, &ix, &src}, [&]() -> Tensor* {
    LK_CHECK(input != nullptr, "input is a null tensor");
    check_indices(index, "index");
    ScatterReduction red = torch_reduction(reduce);
    const int rank = input->dims().rank();
    LK_CHECK(rank >= 1, "input must have rank >= 1, got ", input->dims().to_string());
    int axis = get_positive_dim(dim, rank);
    LK_CHECK(index->dims().rank() == rank, "index ", index->dims().to_string(),
             " must have the input's rank ", rank, " (input ", input->dims().to_string(), ")");
    LK_CHECK(!src.is_host_constant(), "src must be a tensor or a scalar");
    std::vector<expand_util::DimTarget> idims =
        expand_util::dims_of(ctx, index, target, source_ir, sub_name(name, "index"));
    Tensor* updates = nullptr;
    if (src.is_scalar()) {
      Tensor* s =
          to_tensor(ctx, src, input->type(), rank, target, source_ir, sub_name(name, "src"));
      updates =
          expand_util::broadcast_to(ctx, s, idims, target, source_ir, sub_name(name, "src_expand"));
    } else {
      Tensor* s = src.tensor();
      LK_CHECK(s != nullptr, "src is a null tensor");
      LK_CHECK(s->type() == input->type(), "src has type ", data_type_name(s->type()),
               " but input has type ", data_type_name(input->type()),
               "; they must match (as torch)");
      LK_CHECK(s->dims().rank() == rank, "src ", s->dims().to_string(),
               " must have the input's rank ", rank);
      bool same = true;
      for (int d = 0; d < rank; ++d) {
        int64_t have = s->dims()[d], want = index->dims()[d];
        LK_CHECK(have < 0 || want < 0 || want <= have, "index ", index->dims().to_string(),
                 " is larger than src ", s->dims().to_string(), " at dim ", d);
        same = same && have >= 0 && have == want;
      }
      // Only src[:index.size(0), :index.size(1), ...] is read (as torch).
      updates = same ? s
                     : expand_util::slice_to(ctx, s, idims, SampleMode::kSTRICT_BOUNDS, target,
                                             source_ir, sub_name(name, "src_slice"));
    }
    return named_output(
        ctx, ctx.net().add_scatter(input, index, updates, ScatterMode::kELEMENT, axis, red), target,
        source_ir, name);
  });
}

Tensor* scatter_nd(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Tensor* data, Tensor* indices, Tensor* updates,
                   std::string_view reduction) {
  Operand d(data), ix(indices), up(updates);
  return guarded(ctx, "scatter::scatter_nd", target, name, {&d, &ix, &up}, [&]() -> Tensor* {
    LK_CHECK(data != nullptr, "data is a null tensor");
    LK_CHECK(updates != nullptr, "updates is a null tensor");
    check_indices(indices, "indices");
    ScatterReduction red = onnx_reduction(reduction);
    return named_output(ctx,
                        ctx.net().add_scatter(data, indices, updates, ScatterMode::kND, 0, red),
                        target, source_ir, name);
  });
}

}  // namespace layerkit::impl::scatter
