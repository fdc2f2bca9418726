// The linear building block: at::linear on a MatrixMultiply with a transposed weight.
#include "layerkit/impl/linear.h"

#include <array>

#include "layerkit/impl/matmul.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::linear {

Tensor* linear(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Operand input, Operand weight, std::optional<Operand> bias) {
  return guarded(ctx, "linear::linear", target, name, {&input, &weight}, [&]() -> Tensor* {
    LK_CHECK(!input.is_scalar() && !weight.is_scalar(), "input and weight must be tensors");
    Dims wd = weight.dims(), xd = input.dims();
    LK_CHECK(wd.rank() == 2, "weight must be 2-D [out_features, in_features], got ",
             weight.describe());
    LK_CHECK(xd.rank() >= 1, "input needs at least one dim, got ", input.describe());
    int64_t in = xd[xd.rank() - 1];
    LK_CHECK(in == -1 || wd[1] == -1 || in == wd[1], "input ", input.describe(), " has ", in,
             " features but weight ", weight.describe(), " expects ", wd[1]);
    if (bias) {
      Dims bd = bias->dims();
      LK_CHECK(
          !bias->is_scalar() && bd.rank() == 1 && (bd[0] == -1 || wd[0] == -1 || bd[0] == wd[0]),
          "bias must be 1-D [out_features = ", wd[0], "], got ", bias->describe());
    }
    DataType t = bias ? result_type({&input, &weight, &*bias}) : result_type({&input, &weight});
    // With a bias the result is a two-layer composite: Note [Precision policy].
    DataType ct = bias ? compute_type(t) : t;
    Tensor* x = to_tensor(ctx, input, ct, input.rank(), target, source_ir, sub_name(name, "input"));
    Tensor* w = to_tensor(ctx, weight, ct, 2, target, source_ir, sub_name(name, "weight"));
    Tensor* y = matmul::detail::matmul_tensors(ctx, target, source_ir,
                                               bias ? sub_name(name, "matmul") : name, x, w, true);
    if (!bias) return y;
    Tensor* b = to_tensor(ctx, *bias, ct, 1, target, source_ir, sub_name(name, "bias"));
    std::array<Tensor*, 2> pair{y, b};
    std::vector<Tensor*> bc = broadcast(ctx, pair, target, source_ir, name);
    Tensor* sum =
        named_output(ctx, ctx.net().add_elementwise(bc[0], bc[1], ElementWiseOperation::kSUM),
                     target, source_ir, ct == t ? name : sub_name(name, "add_bias"));
    return cast_to(ctx, sum, t, target, source_ir, name);
  });
}

}  // namespace layerkit::impl::linear
