// Inference and printing for the Collective kinds (placeholder: not yet implemented).
#include "network/infer.h"

namespace layerkit::detail {

void infer(const CollectiveAttrs&, InferCtx& ctx) {
  ctx.fail("Collective is not implemented yet");
}
void print_attrs(const CollectiveAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
