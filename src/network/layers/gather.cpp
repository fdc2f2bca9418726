// Inference and printing for the Gather, Scatter, NonZero kinds (placeholder: not yet implemented).
#include "network/infer.h"

namespace layerkit::detail {

void infer(const GatherAttrs&, InferCtx& ctx) {
  ctx.fail("Gather is not implemented yet");
}
void print_attrs(const GatherAttrs&, AttrPrinter&) {}

void infer(const ScatterAttrs&, InferCtx& ctx) {
  ctx.fail("Scatter is not implemented yet");
}
void print_attrs(const ScatterAttrs&, AttrPrinter&) {}

void infer(const NonZeroAttrs&, InferCtx& ctx) {
  ctx.fail("NonZero is not implemented yet");
}
void print_attrs(const NonZeroAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
