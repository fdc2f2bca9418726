// Inference and printing for the ElementWise, Unary, Select kinds (placeholder: not yet
// implemented).
#include "network/infer.h"

namespace layerkit::detail {

void infer(const ElementWiseAttrs&, InferCtx& ctx) {
  ctx.fail("ElementWise is not implemented yet");
}
void print_attrs(const ElementWiseAttrs&, AttrPrinter&) {}

void infer(const UnaryAttrs&, InferCtx& ctx) {
  ctx.fail("Unary is not implemented yet");
}
void print_attrs(const UnaryAttrs&, AttrPrinter&) {}

void infer(const SelectAttrs&, InferCtx& ctx) {
  ctx.fail("Select is not implemented yet");
}
void print_attrs(const SelectAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
