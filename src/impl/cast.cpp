// cast / to_copy building blocks: one Cast layer through cast_to, or a constant for scalars and
// host constants (with the fp64 policy of to_tensor).
#include "layerkit/impl/cast.h"

#include "layerkit/impl/utils.h"

namespace layerkit::impl::cast {

namespace {
Tensor* convert(ConversionContext& ctx, std::string_view block, const Target& target,
                std::optional<SourceIR> source_ir, std::string_view name, const Operand& input,
                DataType to) {
  return guarded(ctx, block, target, name, {&input}, [&]() -> Tensor* {
    if (input.is_tensor()) {
      LK_CHECK(input.tensor() != nullptr, "operand is a null tensor");
      return cast_to(ctx, input.tensor(), to, target, source_ir, name);
    }
    return to_tensor(ctx, input, to, input.rank(), target, source_ir, name);
  });
}
}  // namespace

Tensor* cast(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input, DataType to) {
  return convert(ctx, "cast::cast", target, source_ir, name, input, to);
}

Tensor* to_copy(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Operand input, DataType to) {
  return convert(ctx, "cast::to_copy", target, source_ir, name, input, to);
}

}  // namespace layerkit::impl::cast
