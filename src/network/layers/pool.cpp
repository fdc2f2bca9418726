// Inference and printing for the Pooling kinds (placeholder: not yet implemented).
#include "network/infer.h"

namespace layerkit::detail {

void infer(const PoolingAttrs&, InferCtx& ctx) {
  ctx.fail("Pooling is not implemented yet");
}
void print_attrs(const PoolingAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
