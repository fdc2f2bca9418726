// Private helpers shared by the conv, deconv and pool building blocks: per-axis parameter lists,
// the optional batch dim and host weights (shape-tensor arithmetic is in shape_math.h).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::spatial {

// torch accepts one value for every spatial axis or one per axis; empty gives `dflt` (when set).
std::vector<int64_t> expand(const std::vector<int64_t>& v, int n, std::optional<int64_t> dflt,
                            std::string_view what);
std::string list(const std::vector<int64_t>& v);  // "[1,2]"

// Unbatched inputs (torch allows them for conv and pooling) gain a leading 1 and lose it after.
Tensor* add_batch(ConversionContext& ctx, Tensor* x, const Target& target,
                  std::optional<SourceIR> source_ir, std::string_view name);
Tensor* remove_batch(ConversionContext& ctx, Tensor* y, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name);

// A host constant as layer weights of the data type or fp32 (what Convolution accepts); fp64
// follows ConversionSettings::doubles, other float types are widened to fp32 on the host.
Weights host_weights(ConversionContext& ctx, const HostConstant& c, DataType data_type,
                     std::string_view name, std::string_view what);

// A weight or bias operand: a host constant (weights for the layer) or a tensor (cast to the data
// type, a layer input). Dims must be known at build time.
struct WeightOperand {
  Dims dims;
  Weights weights;
  Tensor* tensor = nullptr;
};
WeightOperand weight_operand(ConversionContext& ctx, const Operand& op, DataType data_type,
                             const Target& target, std::optional<SourceIR> source_ir,
                             std::string_view name, std::string_view what);

// Channel count C for [N, C, ...] from the weight when the input's is unknown: a reshape pins it
// (a mismatch then fails at run time, as the reshape's volume differs).
Tensor* pin_channels(ConversionContext& ctx, Tensor* x, int64_t channels, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name);

// The optional bias of a (de)convolution: a [k] weight operand; fills `weights` (constant) or
// returns the tensor (layer input 2), null when absent.
Tensor* bias_operand(ConversionContext& ctx, const std::optional<Operand>& bias, DataType t,
                     int64_t k, const Target& target, std::optional<SourceIR> source_ir,
                     std::string_view name, Weights& weights);
// Names a (de)convolution layer, registers its constant kernel and bias under
// "<layer>_kernel" / "<layer>_bias", and drops the batch dim again for unbatched inputs.
Tensor* finish_layer(ConversionContext& ctx, Layer* l, const Weights& kernel, const Weights& bias,
                     bool unbatched, const Target& target, std::optional<SourceIR> source_ir,
                     std::string_view name);

}  // namespace layerkit::impl::spatial
