// Building blocks for PyTorch's pointwise activations (torch.nn.functional), with INT8
// dynamic-range propagation.
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::activation {

// Every block takes fp32/fp16/bf16 inputs and returns the input's type. Integer and bool inputs
// are handled as torch does: relu keeps integer types (bool is rejected); sigmoid and tanh
// promote integers and bool to fp32; softsign and tanhshrink promote integers to fp32 (bool is
// rejected); the others reject integers and bool. When the input tensor has a dynamic range,
// the output gets the image of that range (Note [Dynamic range] in src/impl/activation.cpp).

// max(x, 0)
Tensor* relu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input);
// 1 / (1 + exp(-x))
Tensor* sigmoid(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Operand input);
// tanh(x)
Tensor* tanh(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input);
// x > 0 ? x : negative_slope * x
Tensor* leaky_relu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, double negative_slope = 0.01);
// x > 0 ? scale * x : scale * alpha * (exp(input_scale * x) - 1)   (at::elu)
Tensor* elu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Operand input, double alpha = 1.0, double scale = 1.0,
            double input_scale = 1.0);
// elu with alpha 1.6732632423543772, scale 1.0507009873554805
Tensor* selu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input);
// x / (1 + |x|)   (torch.nn.functional.softsign)
Tensor* softsign(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Operand input);
// beta * x > threshold ? x : log(1 + exp(beta * x)) / beta; beta must be nonzero
Tensor* softplus(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Operand input, double beta = 1.0, double threshold = 20.0);
// approximate "none": x * Phi(x) (erf form); "tanh": the tanh approximation
Tensor* gelu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input, std::string_view approximate = "none");
// clamp(x / 6 + 1/2, 0, 1)   (at::hardsigmoid)
Tensor* hard_sigmoid(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, Operand input);
// x * hardsigmoid(x)   (at::hardswish)
Tensor* hard_swish(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input);
// -lambd <= x <= lambd ? 0 : x
Tensor* hardshrink(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, double lambd = 0.5);
// x > l ? x - l : (x < -l ? x + l : 0); lambd must be >= 0
Tensor* softshrink(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, double lambd = 0.5);
// x - tanh(x)   (torch.nn.functional.tanhshrink)
Tensor* tanhshrink(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input);
// x * sigmoid(x)   (at::silu; integer and bool inputs rejected)
Tensor* silu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input);
// clamp(x, min_val, max_val)   (at::hardtanh): one Activation layer (kCLIP) for floats; integer
// tensors keep their type (bounds truncated toward zero, as storing ATen's clamp in an integer
// result does; a bound outside the type's range is rejected, as torch does); bool rejected.
Tensor* hardtanh(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Operand input, double min_val = -1.0, double max_val = 1.0);
// hardtanh(x, 0, 6)   (at::relu6)
Tensor* relu6(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input);
// x * tanh(softplus(x))   (at::mish)
Tensor* mish(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input);
// log(z / (1 - z)) with z = clamp(x, eps, 1 - eps) when eps is given   (at::logit); integer and
// bool inputs promote to fp32.
Tensor* logit(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input, std::optional<double> eps = std::nullopt);

}  // namespace layerkit::impl::activation
