// Quantization building blocks: scale operands to tensors, then Quantize/Dequantize layers.
#include "layerkit/impl/quantize.h"

#include "layerkit/impl/utils.h"

namespace layerkit::impl::quantize {

namespace {

// Scales are fp32 (the layers also take the data's type; fp32 keeps one rule).
Tensor* scale_tensor(ConversionContext& ctx, const Operand& scale, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name) {
  if (scale.is_scalar()) {
    LK_CHECK(scale.as_double() > 0, "scale ", scale.as_double(), " must be positive");
    return to_tensor(ctx, scale, DataType::kFLOAT, 0, target, source_ir, name);
  }
  return to_tensor(ctx, scale, DataType::kFLOAT, scale.rank(), target, source_ir, name);
}

int axis_for(Tensor* x, std::optional<int64_t> axis) {
  return axis ? get_positive_dim(*axis, x->dims().rank()) : -1;
}

Tensor* quantize_impl(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name,
                      const Operand& input, const Operand& scale, DataType output_type,
                      std::optional<int64_t> axis) {
  LK_CHECK(is_floating(operand_type(input)), "quantize takes a floating-point input, got ",
           data_type_name(operand_type(input)));
  Tensor* x = to_tensor(ctx, input, operand_type(input),
                        input.is_tensor() ? input.tensor()->dims().rank() : 0, target, source_ir,
                        sub_name(name, "input"));
  Tensor* s = scale_tensor(ctx, scale, target, source_ir, sub_name(name, "scale"));
  QuantizeAttrs a;
  a.axis = axis_for(x, axis);
  a.output_type = output_type;
  return named_output(ctx, ctx.net().add_quantize(x, s, a), target, source_ir, name);
}

Tensor* dequantize_impl(ConversionContext& ctx, const Target& target,
                        std::optional<SourceIR> source_ir, std::string_view name,
                        const Operand& input, const Operand& scale, DataType to_type,
                        std::optional<int64_t> axis) {
  LK_CHECK(input.is_tensor() && input.tensor(), "dequantize takes a quantized tensor");
  Tensor* x = input.tensor();
  Tensor* s = scale_tensor(ctx, scale, target, source_ir, sub_name(name, "scale"));
  DequantizeAttrs a;
  a.axis = axis_for(x, axis);
  a.to_type = to_type;
  return named_output(ctx, ctx.net().add_dequantize(x, s, a), target, source_ir, name);
}

}  // namespace

Tensor* quantize(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Operand input, Operand scale, DataType output_type,
                 std::optional<int64_t> axis) {
  return guarded(ctx, "quantize::quantize", target, name, {&input, &scale}, [&] {
    return quantize_impl(ctx, target, source_ir, name, input, scale, output_type, axis);
  });
}

Tensor* dequantize(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, Operand scale, DataType to_type,
                   std::optional<int64_t> axis) {
  return guarded(ctx, "quantize::dequantize", target, name, {&input, &scale}, [&] {
    return dequantize_impl(ctx, target, source_ir, name, input, scale, to_type, axis);
  });
}

Tensor* fake_quantize(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Operand input,
                      Operand scale, DataType quant_type, std::optional<int64_t> axis) {
  return guarded(ctx, "quantize::fake_quantize", target, name, {&input, &scale}, [&] {
    Tensor* q = quantize_impl(ctx, target, source_ir, sub_name(name, "quantize"), input, scale,
                              quant_type, axis);
    return dequantize_impl(ctx, target, source_ir, name, q, scale, operand_type(input), axis);
  });
}

}  // namespace layerkit::impl::quantize
