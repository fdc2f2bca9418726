// Inference and printing for the Quantize, Dequantize, DynamicQuantize kinds (placeholder: not yet
// implemented).
#include "network/infer.h"

namespace layerkit::detail {

void infer(const QuantizeAttrs&, InferCtx& ctx) {
  ctx.fail("Quantize is not implemented yet");
}
void print_attrs(const QuantizeAttrs&, AttrPrinter&) {}

void infer(const DequantizeAttrs&, InferCtx& ctx) {
  ctx.fail("Dequantize is not implemented yet");
}
void print_attrs(const DequantizeAttrs&, AttrPrinter&) {}

void infer(const DynamicQuantizeAttrs&, InferCtx& ctx) {
  ctx.fail("DynamicQuantize is not implemented yet");
}
void print_attrs(const DynamicQuantizeAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
