// Building block for transposed convolution (at::conv_transpose1d/2d/3d).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::deconv {

// at::conv_transpose{1,2,3}d. `input` is [N, C, spatial...] (or unbatched [C, spatial...]);
// `weight` is [C, K/groups, kernel...] as a HostConstant or a tensor, `bias` [K] or absent.
// Parameters take 1 entry or one per spatial axis (empty: stride 1, padding 0, dilation 1,
// output_padding 0). output_padding adds rows at the end of each axis (bias included), as ATen.
Tensor* deconvolution(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                      Operand weight, std::optional<Operand> bias, std::vector<int64_t> stride,
                      std::vector<int64_t> padding, std::vector<int64_t> dilation,
                      std::vector<int64_t> output_padding, int64_t groups);

// Note [Option structs] (conv.h).
struct DeconvolutionOptions {
  Operand weight;
  std::optional<Operand> bias = std::nullopt;
  std::vector<int64_t> stride = {};
  std::vector<int64_t> padding = {};
  std::vector<int64_t> dilation = {};
  std::vector<int64_t> output_padding = {};
  int64_t groups = 1;
};
Tensor* deconvolution(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                      const DeconvolutionOptions& options);

}  // namespace layerkit::impl::deconv
