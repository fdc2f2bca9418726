// Building blocks for embedding lookups: embedding and embedding_bag.
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::embedding {

// at::embedding: rows of the 2-D weight picked by int32/int64 indices of any rank; output dims
// indices.dims + [embedding_dim].
Tensor* embedding(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Operand weight, Operand indices);

enum class BagMode { kSUM, kMEAN, kMAX };  // torch's mode 0, 1, 2

// at::embedding_bag output 0 ([bags, embedding_dim], weight's floating type). 1-D indices need
// offsets (bag b spans indices[offsets[b] : offsets[b+1]], the last bag runs to the end; with
// include_last_offset offsets has one more entry than there are bags and its last entry closes
// the last bag). 2-D indices [bags, L] form fixed-size bags and take no offsets. Empty bags give
// 0. per_sample_weights (indices' shape, weight's type) scale the rows, sum mode only.
Tensor* embedding_bag(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Operand weight,
                      Operand indices, std::optional<Operand> offsets, BagMode mode,
                      std::optional<Operand> per_sample_weights = std::nullopt,
                      bool include_last_offset = false);

// Note [Option structs] (conv.h), in at::embedding_bag's parameter names (mode defaults to sum,
// aten's mode 0).
struct EmbeddingBagOptions {
  std::optional<Operand> offsets = std::nullopt;
  BagMode mode = BagMode::kSUM;
  std::optional<Operand> per_sample_weights = std::nullopt;
  bool include_last_offset = false;
};
Tensor* embedding_bag(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Operand weight,
                      Operand indices, const EmbeddingBagOptions& options);

}  // namespace layerkit::impl::embedding
