// Inference and printing for the Shuffle, Identity, Cast, Shape, Concatenation, Padding kinds
// (placeholder: not yet implemented).
#include "network/infer.h"

namespace layerkit::detail {

void infer(const ShuffleAttrs&, InferCtx& ctx) {
  ctx.fail("Shuffle is not implemented yet");
}
void print_attrs(const ShuffleAttrs&, AttrPrinter&) {}

void infer(const IdentityAttrs&, InferCtx& ctx) {
  ctx.fail("Identity is not implemented yet");
}
void print_attrs(const IdentityAttrs&, AttrPrinter&) {}

void infer(const CastAttrs&, InferCtx& ctx) {
  ctx.fail("Cast is not implemented yet");
}
void print_attrs(const CastAttrs&, AttrPrinter&) {}

void infer(const ShapeAttrs&, InferCtx& ctx) {
  ctx.fail("Shape is not implemented yet");
}
void print_attrs(const ShapeAttrs&, AttrPrinter&) {}

void infer(const ConcatenationAttrs&, InferCtx& ctx) {
  ctx.fail("Concatenation is not implemented yet");
}
void print_attrs(const ConcatenationAttrs&, AttrPrinter&) {}

void infer(const PaddingAttrs&, InferCtx& ctx) {
  ctx.fail("Padding is not implemented yet");
}
void print_attrs(const PaddingAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
