// Building blocks for window functions (at::hann_window, hamming_window, blackman_window).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::window {

// 1-D windows of `size` points (size >= 0, known at build time) as Constant layers: the values
// depend only on the size. periodic=true divides by size (a period of a longer window), false by
// size - 1, as torch. Values are computed in double and rounded to `dtype` (float types only).
Tensor* hann_window(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, int64_t size, bool periodic = true,
                    DataType dtype = DataType::kFLOAT);
// alpha - beta * cos(2 pi n / N); torch's defaults 0.54 / 0.46 (ONNX's HammingWindow uses
// 25/46 and 21/46).
Tensor* hamming_window(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, int64_t size,
                       bool periodic = true, double alpha = 0.54, double beta = 0.46,
                       DataType dtype = DataType::kFLOAT);
// 0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N).
Tensor* blackman_window(ConversionContext& ctx, const Target& target,
                        std::optional<SourceIR> source_ir, std::string_view name, int64_t size,
                        bool periodic = true, DataType dtype = DataType::kFLOAT);

}  // namespace layerkit::impl::window
