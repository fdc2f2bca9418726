// Building blocks for torch expand, ONNX Expand and torch.tile / ONNX Tile (Slice layers in
// kCLAMP and kWRAP modes).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::expand {

// Tensor.expand(*sizes): len(sizes) >= rank; new leading dims take the given size (no -1 there);
// -1 keeps a dim; otherwise the dim must be 1 or already that size. A dynamic input dim expanded
// to a given size must be 1 or that size at run time (not checked there).
Tensor* expand(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Tensor* input, const std::vector<int64_t>& sizes);
// ONNX Expand: bidirectional (numpy) broadcast of `input` with `shape`, a 1-D int32/int64 tensor
// of static length whose values may be known at build time or only at run time. The output rank
// is max(rank, len(shape)); per dim a 1 on either side takes the other side's size.
Tensor* expand_to(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Tensor* input, Tensor* shape);
// torch.tile: reps shorter than the rank get leading 1s, longer reps give the input leading 1s;
// every rep must be >= 0.
Tensor* tile(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, const std::vector<int64_t>& reps);
// ONNX Tile: `repeats` is a 1-D int32/int64 tensor with one entry per input dim (values known at
// build time or only at run time; negative values fail in the Slice at run time).
Tensor* tile(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, Tensor* repeats);

}  // namespace layerkit::impl::expand
