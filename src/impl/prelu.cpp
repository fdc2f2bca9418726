// prelu building block: torch's weight rule (1 or C elements) onto the ParametricReLU layer,
// whose slope must have the input's rank.
#include "layerkit/impl/prelu.h"

#include "layerkit/impl/utils.h"

namespace layerkit::impl::prelu {

Tensor* prelu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input, Operand weight) {
  return guarded(ctx, "prelu::prelu", target, name, {&input, &weight}, [&]() -> Tensor* {
    DataType t = operand_type(input);
    LK_CHECK(t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16,
             "prelu takes float32, float16 or bfloat16 inputs (as in torch); got ",
             data_type_name(t));
    DataType wt = operand_type(weight);
    LK_CHECK(is_floating(wt) || wt == DataType::kBOOL || is_integer(wt), "weight type ",
             data_type_name(wt), " is not supported");
    int rank = input.rank();
    int wrank = weight.rank();
    LK_CHECK(wrank <= 1, "prelu: expected the weight to be a scalar or 1-D tensor, got rank ",
             wrank);
    Tensor* x = to_tensor(ctx, input, t, rank, target, source_ir, name);
    // The weight's element count (-1: dynamic) against the channel count torch uses.
    int64_t wn = 1;
    if (wrank == 1) wn = weight.dims()[0];
    int64_t channels = rank >= 2 ? x->dims()[1] : 1;
    LK_CHECK(wn == -1 || wn == 1 || channels == -1 || wn == channels, "the weight has ", wn,
             " elements but the input ", x->dims().to_string(), " has channel size ", channels,
             " (dim 1, or 1 for rank < 2); expected 1 or ", channels);
    Tensor* w = to_tensor(ctx, weight, t, wrank, target, source_ir, sub_name(name, "weight"));
    // ParametricReLU broadcasts a slope of the input's rank: [1, C, 1, ...] (or all 1s).
    Dims shape = Dims::of_rank(rank, 1);
    if (rank >= 2)
      shape[1] = wn;
    else if (rank == 1)
      shape[0] = wn;  // 1 (or dynamic, checked at run time by the layer)
    if (!(w->dims() == shape)) {
      ShuffleAttrs s;
      s.reshape_dims = shape;
      s.zero_is_placeholder = false;
      w = named_output(ctx, ctx.net().add_shuffle(w, s), target, source_ir,
                       sub_name(name, "weight_reshape"));
    }
    return named_output(ctx, ctx.net().add_parametric_relu(x, w), target, source_ir, name);
  });
}

}  // namespace layerkit::impl::prelu
