// torch.where on the Select layer: x and y promoted together, all three operands broadcast.
#include "layerkit/impl/condition.h"

#include <algorithm>
#include <array>

#include "layerkit/impl/utils.h"

namespace layerkit::impl::condition {

Tensor* where(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Tensor* condition, Operand x, Operand y) {
  Operand c(condition);
  return guarded(ctx, "condition::where", target, name, {&c, &x, &y}, [&]() -> Tensor* {
    LK_CHECK(condition != nullptr, "condition is a null tensor");
    LK_CHECK(condition->type() == DataType::kBOOL, "condition has type ",
             data_type_name(condition->type()), "; torch.where needs a bool condition");
    // Note [Type promotion]: the result type of x and y alone.
    DataType t = result_type({&x, &y});
    LK_CHECK(!is_sub_byte(t), "where does not take sub-byte type ", data_type_name(t));
    int rank = std::max({condition->dims().rank(), x.rank(), y.rank()});
    Tensor* a = to_tensor(ctx, x, t, rank, target, source_ir, sub_name(name, "x"));
    Tensor* b = to_tensor(ctx, y, t, rank, target, source_ir, sub_name(name, "y"));
    // Note [Broadcasting]: the Select layer broadcasts equal ranks; leading 1s are added here.
    std::array<Tensor*, 3> all{condition, a, b};
    std::vector<Tensor*> bc = broadcast(ctx, all, target, source_ir, name);
    return named_output(ctx, ctx.net().add_select(bc[0], bc[1], bc[2]), target, source_ir, name);
  });
}

}  // namespace layerkit::impl::condition
