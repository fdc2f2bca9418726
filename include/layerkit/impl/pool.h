// Building blocks for pooling: average, max and adaptive pooling over 1 to 3 spatial axes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::pool {

// The number of `kernel` (or `output_size`) entries sets the spatial axes (1 to 3); `input` is
// [N, C, spatial...] or unbatched [C, spatial...]. stride, padding and dilation take 1 entry or
// one per axis; an empty stride is the kernel (as torch). Output sizes follow ATen, ceil_mode
// included (the last window must start inside the input or the left padding).

// at::avg_pool{1,2,3}d; divisor_override divides each window's sum by that value instead.
Tensor* avg_pool(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, std::vector<int64_t> kernel,
                 std::vector<int64_t> stride, std::vector<int64_t> padding, bool ceil_mode = false,
                 bool count_include_pad = true,
                 std::optional<int64_t> divisor_override = std::nullopt);

// at::max_pool{1,2,3}d (values; padded positions never win).
Tensor* max_pool(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, std::vector<int64_t> kernel,
                 std::vector<int64_t> stride, std::vector<int64_t> padding,
                 std::vector<int64_t> dilation = {}, bool ceil_mode = false);

// at::adaptive_avg_pool{1,2,3}d: output cell i of an axis averages input [floor(i*I/O),
// ceil((i+1)*I/O)).
Tensor* adaptive_avg_pool(ConversionContext& ctx, const Target& target,
                          std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                          std::vector<int64_t> output_size);

// at::adaptive_max_pool{1,2,3}d, values only (no indices).
Tensor* adaptive_max_pool(ConversionContext& ctx, const Target& target,
                          std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                          std::vector<int64_t> output_size);

// Note [Option structs] (conv.h), in torch's parameter names.
struct AvgPoolOptions {
  std::vector<int64_t> kernel_size;
  std::vector<int64_t> stride = {};
  std::vector<int64_t> padding = {};
  bool ceil_mode = false;
  bool count_include_pad = true;
  std::optional<int64_t> divisor_override = std::nullopt;
};
Tensor* avg_pool(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, const AvgPoolOptions& options);

struct MaxPoolOptions {
  std::vector<int64_t> kernel_size;
  std::vector<int64_t> stride = {};
  std::vector<int64_t> padding = {};
  std::vector<int64_t> dilation = {};
  bool ceil_mode = false;
};
Tensor* max_pool(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, const MaxPoolOptions& options);

// One Pooling layer with explicit padding before and after each spatial axis (ONNX's pads:
// asymmetric, not limited to half the kernel), for an [N, C, spatial...] input. Unlike avg_pool
// and max_pool, ceil_mode is the layer's rounding alone: the output size rounds up and a last
// window that starts in the post padding is kept. Lists take 1 entry or one per axis; an empty
// stride or dilation is 1, an empty padding 0. Dilation other than 1 needs kMAX.
struct PoolNdOptions {
  PoolingType type = PoolingType::kMAX;
  std::vector<int64_t> kernel_size;
  std::vector<int64_t> stride = {};
  std::vector<int64_t> pre_padding = {};
  std::vector<int64_t> post_padding = {};
  std::vector<int64_t> dilation = {};
  bool ceil_mode = false;
  bool count_include_pad = false;  // kAVERAGE: padded positions count in the divisor
};
Tensor* pool_nd(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, const PoolNdOptions& options);

}  // namespace layerkit::impl::pool
