// Inference and printing for the Activation, ParametricReLU, Scale kinds (placeholder: not yet
// implemented).
#include "network/infer.h"

namespace layerkit::detail {

void infer(const ActivationAttrs&, InferCtx& ctx) {
  ctx.fail("Activation is not implemented yet");
}
void print_attrs(const ActivationAttrs&, AttrPrinter&) {}

void infer(const ParametricReLUAttrs&, InferCtx& ctx) {
  ctx.fail("ParametricReLU is not implemented yet");
}
void print_attrs(const ParametricReLUAttrs&, AttrPrinter&) {}

void infer(const ScaleAttrs&, InferCtx& ctx) {
  ctx.fail("Scale is not implemented yet");
}
void print_attrs(const ScaleAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
