// The cat building block: promotion to one type, torch's shape checks, one Concatenation.
#include "layerkit/impl/cat.h"

#include "layerkit/impl/utils.h"

namespace layerkit::impl::cat {

namespace {

// torch skips 1-D empty tensors in cat (a legacy of "empty" meaning shape [0]).
bool skipped(const Operand& op) {
  Dims d = op.dims();
  return d.rank() == 1 && d[0] == 0;
}

}  // namespace

Tensor* cat(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, const std::vector<Operand>& tensors, int64_t dim) {
  return guarded_list(ctx, "cat::cat", target, name, tensors, [&]() -> Tensor* {
    LK_CHECK(!tensors.empty(), "cat needs at least one tensor");
    std::vector<const Operand*> ptrs;
    for (size_t i = 0; i < tensors.size(); ++i) {
      const Operand& op = tensors[i];
      LK_CHECK(!op.is_scalar(), "cat operand ", i, " is the scalar ", op.describe(),
               "; cat takes tensors");
      LK_CHECK(!op.is_tensor() || op.tensor() != nullptr, "cat operand ", i, " is a null tensor");
      ptrs.push_back(&op);
    }
    DataType type = result_type(std::span<const Operand* const>(ptrs));
    std::vector<size_t> used;
    for (size_t i = 0; i < tensors.size(); ++i)
      if (!skipped(tensors[i])) used.push_back(i);
    if (used.empty()) used.push_back(0);  // all [0]: the result is [0]
    Dims ref = tensors[used[0]].dims();
    LK_CHECK(ref.rank() > 0, "cat operand ", used[0], " (", tensors[used[0]].describe(),
             ") is zero-dimensional and cannot be concatenated");
    int axis = get_positive_dim(dim, ref.rank());
    for (size_t k = 1; k < used.size(); ++k) {
      Dims d = tensors[used[k]].dims();
      LK_CHECK(d.rank() == ref.rank(), "cat operands must have the same rank: operand ", used[0],
               " is ", ref.to_string(), " but operand ", used[k], " is ", d.to_string());
      for (int a = 0; a < d.rank(); ++a)
        LK_CHECK(a == axis || d[a] == ref[a] || d[a] < 0 || ref[a] < 0,
                 "cat sizes must match except in dim ", axis, ": operand ", used[0], " is ",
                 ref.to_string(), " but operand ", used[k], " is ", d.to_string(), " (dim ", a,
                 ")");
    }
    std::vector<Tensor*> inputs;
    for (size_t i : used)
      inputs.push_back(to_tensor(ctx, tensors[i], type, ref.rank(), target, source_ir,
                                 sub_name(name, detail::cat("in", i))));
    return named_output(ctx, ctx.net().add_concatenation(inputs, axis), target, source_ir, name);
  });
}

}  // namespace layerkit::impl::cat
