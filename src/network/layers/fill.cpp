// Inference and printing for the Fill kinds (placeholder: not yet implemented).
#include "network/infer.h"

namespace layerkit::detail {

void infer(const FillAttrs&, InferCtx& ctx) {
  ctx.fail("Fill is not implemented yet");
}
void print_attrs(const FillAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
