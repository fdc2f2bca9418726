// Building blocks for indexing ops: gather, index_select, gather_nd, select and advanced indexing.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::select {

// Index operands are int32 or int64 tensors (or int scalars / integer host constants). Negative
// indices address from the end of their dim (torch's gather and index_select reject them; here
// they wrap as in the Gather layer). Out-of-range indices fail when the engine runs.

// at::gather: index has input's rank; out[p] = input[p with p[dim] = index[p]].
Tensor* gather(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Operand input, int64_t dim, Operand index);
// at::index_select: a 1-D (or 0-D) index picks entries along dim; the dim keeps its place.
Tensor* index_select(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, Operand input,
                     int64_t dim, Operand index);
// ONNX GatherND with batch_dims: the last index dim holds tuples addressing input's axes after
// the batch_dims shared leading axes.
Tensor* gather_nd(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Operand input, Operand index, int64_t batch_dims = 0);
// at::select (select.int): input[..., index, ...] on dim, which is removed.
Tensor* select(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Operand input, int64_t dim, int64_t index);
// at::index (aten::index.Tensor, advanced indexing). One entry per leading dim of input; nullopt
// (None) keeps the dim whole. The index tensors broadcast together; their broadcast dims replace
// the indexed dims in place when those are adjacent, and go first otherwise (torch's rule). Bool
// masks index as many dims as their rank via NonZero, so the output size is data dependent.
Tensor* index(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input,
              const std::vector<std::optional<Operand>>& indices);

}  // namespace layerkit::impl::select
