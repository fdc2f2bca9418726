// Inference and printing for the Reduce, TopK kinds (placeholder: not yet implemented).
#include "network/infer.h"

namespace layerkit::detail {

void infer(const ReduceAttrs&, InferCtx& ctx) {
  ctx.fail("Reduce is not implemented yet");
}
void print_attrs(const ReduceAttrs&, AttrPrinter&) {}

void infer(const TopKAttrs&, InferCtx& ctx) {
  ctx.fail("TopK is not implemented yet");
}
void print_attrs(const TopKAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
