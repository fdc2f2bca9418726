// Building blocks for classification losses: nll_loss and cross_entropy (class indices).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::loss {

// at::nll_loss_nd: input [N, C, d1, ...] holds log-probabilities, target [N, d1, ...] class
// indices (any integer type), weight [C] per-class weights (absent: 1). Each element's loss is
// -input[n, target, d...] * weight[target]; elements whose target is ignore_index count 0 and
// weigh 0. reduction "none" keeps target's shape, "sum" adds everything, "mean" divides the sum
// by the summed weights of the counted elements (NaN when all are ignored, as torch). Targets
// outside [0, C) other than ignore_index are an error torch raises and this block cannot see at
// build time: they read a clamped class here. 16-bit inputs compute in fp32 (Note [Precision
// policy]).
Tensor* nll_loss(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, Tensor* target_index,
                 std::optional<Operand> weight = std::nullopt, std::string_view reduction = "mean",
                 int64_t ignore_index = -100);

// at::cross_entropy_loss with class indices (no label smoothing): nll_loss of log_softmax over
// dim 1.
Tensor* cross_entropy(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                      Tensor* target_index, std::optional<Operand> weight = std::nullopt,
                      std::string_view reduction = "mean", int64_t ignore_index = -100);

}  // namespace layerkit::impl::loss
