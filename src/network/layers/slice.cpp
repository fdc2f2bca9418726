// Inference and printing for the Slice kinds (placeholder: not yet implemented).
#include "network/infer.h"

namespace layerkit::detail {

void infer(const SliceAttrs&, InferCtx& ctx) {
  ctx.fail("Slice is not implemented yet");
}
void print_attrs(const SliceAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
