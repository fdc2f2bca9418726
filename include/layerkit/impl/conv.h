// Building blocks for convolution (at::convolution): 1D/2D/3D, groups, padding modes, weights as
// constants or tensors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::conv {

// at::convolution. `input` is [N, C, spatial...] (or unbatched [C, spatial...]); `weight` is
// [K, C/groups, kernel...] (its rank sets 1D/2D/3D) as a HostConstant (becomes the layer's
// weights) or a tensor (layer input 1); `bias` [K] likewise (layer input 2) or absent. stride,
// padding, dilation and output_padding take 1 entry (all axes) or one per spatial axis; empty
// means the default (1, 0, 1, 0). transposed=true is deconv::deconvolution.
Tensor* convolution(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* input, Operand weight,
                    std::optional<Operand> bias, std::vector<int64_t> stride,
                    std::vector<int64_t> padding, std::vector<int64_t> dilation, bool transposed,
                    std::vector<int64_t> output_padding, int64_t groups);

// Asymmetric zero padding: pre_padding before and post_padding after each spatial axis.
Tensor* convolution(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* input, Operand weight,
                    std::optional<Operand> bias, std::vector<int64_t> stride,
                    std::vector<int64_t> pre_padding, std::vector<int64_t> post_padding,
                    std::vector<int64_t> dilation, int64_t groups);

// torch's padding strings: "valid" (no padding) or "same" (output size = input size, stride 1;
// odd total padding puts the extra element after, as torch does).
Tensor* convolution(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* input, Operand weight,
                    std::optional<Operand> bias, std::vector<int64_t> stride,
                    std::string_view padding_mode, std::vector<int64_t> dilation, int64_t groups);

// Note [Option structs]
// Blocks with long argument lists also take their arguments as one struct, in the seed's
// parameter names, for designated initializers; omitted fields keep the defaults:
//   conv::convolution(ctx, t, ir, "c1", x, {.weight = w, .bias = b, .stride = {2, 2},
//                                          .padding = {1, 1}});
// The struct form forwards to the positional form, so both build the same layers.
struct ConvolutionOptions {
  Operand weight;
  std::optional<Operand> bias = std::nullopt;
  std::vector<int64_t> stride = {};
  std::vector<int64_t> padding = {};
  std::vector<int64_t> dilation = {};
  int64_t groups = 1;
  bool transposed = false;
  std::vector<int64_t> output_padding = {};
  // torch's padding strings "same" / "valid"; when set, `padding` must be empty.
  std::string padding_mode = {};
};
Tensor* convolution(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* input, const ConvolutionOptions& options);

}  // namespace layerkit::impl::conv
