// Inference and printing for the Normalization, SoftMax kinds (placeholder: not yet implemented).
#include "network/infer.h"

namespace layerkit::detail {

void infer(const NormalizationAttrs&, InferCtx& ctx) {
  ctx.fail("Normalization is not implemented yet");
}
void print_attrs(const NormalizationAttrs&, AttrPrinter&) {}

void infer(const SoftMaxAttrs&, InferCtx& ctx) {
  ctx.fail("SoftMax is not implemented yet");
}
void print_attrs(const SoftMaxAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
