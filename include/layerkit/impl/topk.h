// Building blocks for topk, argmax/argmin and sort (TopK layer) with PyTorch's semantics.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::topk {

// Values (the input's type) and int64 indices.
struct ValuesIndices {
  Tensor* values = nullptr;
  Tensor* indices = nullptr;
};

// The TopK layer's limit on k (TensorRT's); topk and sort fail beyond it.
inline constexpr int64_t kMaxK = 3840;

// at::topk: 1 <= k <= min(size of dim, 3840); results are always sorted (`sorted` = false allows
// any order, so sorted is valid); equal values keep the lower index first; NaN is the largest.
// Bool inputs are rejected, as torch does.
ValuesIndices topk(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Tensor* input, int64_t k, int64_t dim = -1,
                   bool largest = true, bool sorted = true);
// topk with k a one-element int32/int64 tensor (a name of its own: a literal 0 would be
// ambiguous) whose value may be known only at run time
// (computed from a dynamic dim); the TopK layer checks 1 <= k <= min(size of dim, 3840) then.
ValuesIndices topk_k_tensor(ConversionContext& ctx, const Target& target,
                            std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                            Tensor* k, int64_t dim = -1, bool largest = true, bool sorted = true);
// at::argmax / at::argmin (int64): dim = nullopt flattens first; ties give the first index.
Tensor* argmax(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Tensor* input, std::optional<int64_t> dim = std::nullopt,
               bool keepdim = false);
Tensor* argmin(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Tensor* input, std::optional<int64_t> dim = std::nullopt,
               bool keepdim = false);
// at::sort: a TopK over the whole dim (size <= 3840; a dynamic size is read at run time and
// checked there); stable for equal values.
ValuesIndices sort(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Tensor* input, int64_t dim = -1, bool descending = false);

}  // namespace layerkit::impl::topk
