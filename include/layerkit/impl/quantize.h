// Building blocks for INT8/FP8 quantization (per tensor or per channel) and fake quantization.
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::quantize {

// q = saturate(round_half_to_even(x / scale)) in `output_type` (kINT8 or kFP8; kINT4/kFP4 for
// block-scaled weights). `scale`: a positive float scalar (per tensor), a 1-D host constant or
// tensor of size dims[axis] (per channel on `axis`), or a tensor of the input's rank (blocks).
// Zero points are not taken: TensorRT quantization is symmetric.
Tensor* quantize(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Operand input, Operand scale,
                 DataType output_type = DataType::kINT8,
                 std::optional<int64_t> axis = std::nullopt);
// x = q * scale in `to_type` (kFLOAT, kHALF, kBF16).
Tensor* dequantize(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, Operand scale,
                   DataType to_type = DataType::kFLOAT, std::optional<int64_t> axis = std::nullopt);
// dequantize(quantize(x)) back to the input's type: what converters emit for calibrated models.
Tensor* fake_quantize(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Operand input,
                      Operand scale, DataType quant_type = DataType::kINT8,
                      std::optional<int64_t> axis = std::nullopt);

}  // namespace layerkit::impl::quantize
