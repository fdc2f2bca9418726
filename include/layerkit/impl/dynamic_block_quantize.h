// Building blocks for run-time block quantization: NVFP4, MXFP8 and FP8 with per-block scales.
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::dynamic_block_quantize {

// The block formats (docs/layers/quantize.md gives the scale and rounding rules):
// kNVFP4: FP4 E2M1 data, blocks of 16, FP8 E4M3 block scales times an fp32 global scale.
// kMXFP8: FP8 E4M3 data, blocks of 32, E8M0 (power-of-two) block scales, no global scale.
// kFP8: FP8 E4M3 data, blocks of any size, fp32 block scales times an fp32 global scale.
enum class BlockFormat : int32_t { kNVFP4, kMXFP8, kFP8 };

struct Quantized {
  Tensor* data = nullptr;    // the input's dims; FP4/FP8
  Tensor* scales = nullptr;  // the input's dims with dims[axis] / block_size on the axis
};

// Quantizes `input` (fp32/fp16/bf16, rank 2 or 3) block-wise along `axis` (the last or second
// to last). `block_size` must match the format's (16 for NVFP4, 32 for MXFP8) and divide the
// axis. `global_scale` is required for kNVFP4 and kFP8 (a positive scalar or 0-D tensor).
Quantized quantize(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, BlockFormat format, int block_size,
                   std::optional<Operand> global_scale = std::nullopt, int64_t axis = -1);
// data * block scale (* global scale) in `to_type`.
Tensor* dequantize(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, const Quantized& q, BlockFormat format,
                   std::optional<Operand> global_scale = std::nullopt,
                   DataType to_type = DataType::kFLOAT);

}  // namespace layerkit::impl::dynamic_block_quantize
