// Inference and printing for the Resize, GridSample kinds (placeholder: not yet implemented).
#include "network/infer.h"

namespace layerkit::detail {

void infer(const ResizeAttrs&, InferCtx& ctx) {
  ctx.fail("Resize is not implemented yet");
}
void print_attrs(const ResizeAttrs&, AttrPrinter&) {}

void infer(const GridSampleAttrs&, InferCtx& ctx) {
  ctx.fail("GridSample is not implemented yet");
}
void print_attrs(const GridSampleAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
