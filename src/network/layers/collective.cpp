// Inference and printing for the Collective kind (all-gather, reduce-scatter, all-reduce).
#include "layerkit/core/size.h"
#include "network/infer.h"

namespace layerkit::detail {

void infer(const CollectiveAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 1, "takes 1 input, got ", ctx.num_inputs());
  check_type(
      ctx, 0,
      {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32, DataType::kINT64});
  auto op = static_cast<int32_t>(a.op);
  ctx.check(op >= 0 && op <= static_cast<int32_t>(CollectiveOperation::kALL_REDUCE), "op ", op,
            " is not a CollectiveOperation");
  auto rop = static_cast<int32_t>(a.reduce_op);
  ctx.check(rop >= 0 && rop <= static_cast<int32_t>(ReduceOperation::kAVG), "reduce_op ", rop,
            " is not a ReduceOperation");
  ctx.check(a.world_size >= 1, "world_size ", a.world_size, " must be at least 1");
  ctx.check(a.rank >= 0 && a.rank < a.world_size, "rank ", a.rank, " is outside [0, ", a.world_size,
            ")");
  const ValueDesc& x = ctx.input(0);
  Dims out = x.dims;
  if (a.op != CollectiveOperation::kALL_REDUCE) {
    ctx.check(x.dims.rank() >= 1, enum_name(a.op), " needs an input of rank >= 1");
    int axis = normalize_axis(ctx, a.axis, x.dims.rank());
    int64_t n = x.dims[axis];
    if (a.op == CollectiveOperation::kALL_GATHER) {
      out[axis] = n < 0 ? -1 : checked_mul(n, a.world_size, "all-gathered extent");
    } else {
      ctx.check(n < 0 || n % a.world_size == 0, "kREDUCE_SCATTER: dim ", axis, " (size ", n,
                ") is not divisible by world_size ", a.world_size);
      out[axis] = n < 0 ? -1 : n / a.world_size;
    }
  }
  ctx.add_output(x.type, out);
}

void print_attrs(const CollectiveAttrs& a, AttrPrinter& p) {
  p.add("op", a.op);
  p.add("reduce_op", a.reduce_op);
  p.add("rank", a.rank);
  p.add("world_size", a.world_size);
  p.add("axis", a.axis);
}

}  // namespace layerkit::detail
