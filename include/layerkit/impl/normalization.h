// Building blocks for PyTorch's normalization ops (batch/layer/group/instance/RMS norm) and
// softmax / log_softmax, for inference.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::normalization {

// Inputs are float tensors (float32, float16, bfloat16); parameters (weight, bias, statistics)
// may be tensors or host constants and are converted to the input's compute type. Composites
// follow Note [Precision policy] (16-bit inputs compute in fp32 and round once).

// at::batch_norm with training=false: y = (x - mean) / sqrt(var + eps) * weight + bias over
// axis 1 of an [N, C, ...] input. Constant statistics (host constants or Constant-layer outputs)
// with a static C fold into one per-channel Scale layer; otherwise an element-wise composite.
// training=true fails (batch statistics are not an inference op); momentum is unused.
Tensor* batch_norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, std::optional<Operand> weight,
                   std::optional<Operand> bias, Operand running_mean, Operand running_var,
                   bool training = false, double momentum = 0.1, double eps = 1e-5);

// at::layer_norm: normalizes over the trailing normalized_shape dims (one Normalization layer);
// weight and bias, when given, have shape normalized_shape.
Tensor* layer_norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input,
                   const std::vector<int64_t>& normalized_shape,
                   std::optional<Operand> weight = std::nullopt,
                   std::optional<Operand> bias = std::nullopt, double eps = 1e-5);

// at::group_norm: [N, C, ...] with C split into num_groups groups, each normalized over its
// channels and the spatial dims; weight and bias are per channel ([C]).
Tensor* group_norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, int64_t num_groups,
                   std::optional<Operand> weight = std::nullopt,
                   std::optional<Operand> bias = std::nullopt, double eps = 1e-5);

// at::instance_norm: [N, C, spatial...] normalized per sample and channel over the spatial dims.
// With use_input_stats=false it is batch_norm with the running statistics; with true they are
// unused (updating them is a training side effect); momentum is unused.
Tensor* instance_norm(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Operand input,
                      std::optional<Operand> weight = std::nullopt,
                      std::optional<Operand> bias = std::nullopt,
                      std::optional<Operand> running_mean = std::nullopt,
                      std::optional<Operand> running_var = std::nullopt,
                      bool use_input_stats = true, double momentum = 0.1, double eps = 1e-5);

// torch.nn.functional.rms_norm: x / sqrt(mean(x^2 over normalized_shape) + eps) * weight. eps
// defaults to the machine epsilon of the input type (as torch's eps=None).
Tensor* rms_norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Operand input, const std::vector<int64_t>& normalized_shape,
                 std::optional<Operand> weight = std::nullopt,
                 std::optional<double> eps = std::nullopt);

// The three outputs of at::native_layer_norm / at::native_group_norm: the normalized output and
// the statistics it used, mean and rstd = 1 / sqrt(var + eps) (biased variance), computed in
// fp32 for 16-bit inputs (Note [Precision policy]) and returned in the input's type.
struct NormOutputs {
  Tensor* output = nullptr;
  Tensor* mean = nullptr;
  Tensor* rstd = nullptr;
};

// at::native_layer_norm: output as layer_norm; mean and rstd have the input's dims with the
// normalized (trailing) dims set to 1.
NormOutputs native_layer_norm(ConversionContext& ctx, const Target& target,
                              std::optional<SourceIR> source_ir, std::string_view name,
                              Operand input, const std::vector<int64_t>& normalized_shape,
                              std::optional<Operand> weight, std::optional<Operand> bias,
                              double eps);

// at::native_group_norm(input, weight, bias, N, C, HxW, group, eps): output as group_norm; mean
// and rstd are [N, group]. N, C and HxW (the product of the spatial dims) must agree with the
// input's static dims (a dynamic dim is taken on trust, as its value is known only at run time).
NormOutputs native_group_norm(ConversionContext& ctx, const Target& target,
                              std::optional<SourceIR> source_ir, std::string_view name,
                              Operand input, std::optional<Operand> weight,
                              std::optional<Operand> bias, int64_t N, int64_t C, int64_t HxW,
                              int64_t group, double eps);

// at::softmax / at::log_softmax along `dim` (negative dims count from the end). `dtype`, when
// given, casts the input first (as torch's dtype argument). Integer inputs need a float dtype.
Tensor* softmax(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Operand input, int64_t dim,
                std::optional<DataType> dtype = std::nullopt);
Tensor* log_softmax(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Operand input, int64_t dim,
                    std::optional<DataType> dtype = std::nullopt);

// Note [Option structs] (conv.h), in torch's parameter names.
struct BatchNormOptions {
  std::optional<Operand> weight = std::nullopt;
  std::optional<Operand> bias = std::nullopt;
  Operand running_mean;
  Operand running_var;
  bool training = false;
  double momentum = 0.1;
  double eps = 1e-5;
};
Tensor* batch_norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, const BatchNormOptions& options);

struct LayerNormOptions {
  std::vector<int64_t> normalized_shape;
  std::optional<Operand> weight = std::nullopt;
  std::optional<Operand> bias = std::nullopt;
  double eps = 1e-5;
};
Tensor* layer_norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, const LayerNormOptions& options);

struct GroupNormOptions {
  int64_t num_groups;
  std::optional<Operand> weight = std::nullopt;
  std::optional<Operand> bias = std::nullopt;
  double eps = 1e-5;
};
Tensor* group_norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, const GroupNormOptions& options);

}  // namespace layerkit::impl::normalization
