// Collective building blocks: thin wrappers that add a Collective layer for a process group.
#include "layerkit/impl/nccl_ops.h"

#include "layerkit/impl/utils.h"

namespace layerkit::impl::nccl_ops {

namespace {

Tensor* collective(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, const Operand& input, const Group& group,
                   CollectiveOperation op, ReduceOperation reduce_op, std::optional<int64_t> dim) {
  LK_CHECK(group.world_size >= 1 && group.rank >= 0 && group.rank < group.world_size, "group rank ",
           group.rank, " of world size ", group.world_size, " is invalid");
  DataType t = operand_type(input);
  int rank = input.is_tensor() && input.tensor() ? input.tensor()->dims().rank() : 0;
  Tensor* x = to_tensor(ctx, input, t, rank, target, source_ir, name);
  CollectiveAttrs a;
  a.op = op;
  a.reduce_op = reduce_op;
  a.rank = group.rank;
  a.world_size = group.world_size;
  if (dim) a.axis = get_positive_dim(*dim, x->dims().rank());
  return named_output(ctx, ctx.net().add_collective(x, a), target, source_ir, name);
}

}  // namespace

Tensor* all_gather(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, Group group, int64_t dim) {
  return guarded(ctx, "nccl_ops::all_gather", target, name, {&input}, [&] {
    return collective(ctx, target, source_ir, name, input, group, CollectiveOperation::kALL_GATHER,
                      ReduceOperation::kSUM, dim);
  });
}

Tensor* reduce_scatter(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, Operand input,
                       Group group, int64_t dim, ReduceOperation op) {
  return guarded(ctx, "nccl_ops::reduce_scatter", target, name, {&input}, [&] {
    return collective(ctx, target, source_ir, name, input, group,
                      CollectiveOperation::kREDUCE_SCATTER, op, dim);
  });
}

Tensor* all_reduce(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, Group group, ReduceOperation op) {
  return guarded(ctx, "nccl_ops::all_reduce", target, name, {&input}, [&] {
    return collective(ctx, target, source_ir, name, input, group, CollectiveOperation::kALL_REDUCE,
                      op, std::nullopt);
  });
}

}  // namespace layerkit::impl::nccl_ops
