// Building block for torch.where / ONNX Where (Select layer) with PyTorch's promotion and
// broadcasting.
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::condition {

// at::where(condition, x, y): `condition` is a bool tensor; x and y are tensors or scalars,
// promoted together per Note [Type promotion] (the condition takes no part); all three broadcast
// per Note [Broadcasting], dynamic dims included.
Tensor* where(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Tensor* condition, Operand x, Operand y);

}  // namespace layerkit::impl::condition
