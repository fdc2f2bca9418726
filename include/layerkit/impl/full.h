// Building blocks for constant-filled tensors: aten::full, aten::zeros, aten::ones.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::full {

// A tensor of `shape` filled with `fill_value` (at::full). Without a dtype the type follows the
// value as torch infers it: bool -> bool, int -> int64, float -> float32; a 0-D tensor value
// (known only at run time) keeps its own type. Static shapes take a list of sizes; dynamic ones
// an int32/int64 1-D shape tensor of build-time length.
Tensor* full(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, const std::vector<int64_t>& shape, Operand fill_value,
             std::optional<DataType> dtype = std::nullopt);
Tensor* full(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* shape, Operand fill_value,
             std::optional<DataType> dtype = std::nullopt);

// at::zeros / at::ones; the dtype defaults to float32 as in torch.
Tensor* zeros(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, const std::vector<int64_t>& shape,
              std::optional<DataType> dtype = std::nullopt);
Tensor* zeros(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Tensor* shape, std::optional<DataType> dtype = std::nullopt);
Tensor* ones(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, const std::vector<int64_t>& shape,
             std::optional<DataType> dtype = std::nullopt);
Tensor* ones(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* shape, std::optional<DataType> dtype = std::nullopt);

}  // namespace layerkit::impl::full
