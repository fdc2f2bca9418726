// Building block for attention: at::scaled_dot_product_attention as one block.
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::attention {

// softmax(query @ key^T * scale + mask) @ value, as torch's math path of
// F.scaled_dot_product_attention. query [..., L, E], key [..., S, E], value [..., S, Ev], all
// float32, float16 or bfloat16 of one type; batch dims broadcast (Note [Broadcasting]). 16-bit
// inputs compute in fp32 and round once (Note [Precision policy]). L and S may be dynamic.
// - attn_mask: a bool tensor (true = attend; false positions get -inf) or a float tensor of the
//   query's type added to the scores, broadcastable to [..., L, S].
// - is_causal: query position i attends to key positions j <= i (torch's top-left aligned
//   tril(ones(L, S))); not together with attn_mask (as torch).
// - scale: defaults to 1 / sqrt(E) (E must then be static).
// - dropout_p must be 0: dropout is a training op.
// A row whose every position is masked gives NaN, as softmax over -inf does in torch.
Tensor* scaled_dot_product_attention(ConversionContext& ctx, const Target& target,
                                     std::optional<SourceIR> source_ir, std::string_view name,
                                     Tensor* query, Tensor* key, Tensor* value,
                                     std::optional<Operand> attn_mask = std::nullopt,
                                     double dropout_p = 0.0, bool is_causal = false,
                                     std::optional<double> scale = std::nullopt);

}  // namespace layerkit::impl::attention
