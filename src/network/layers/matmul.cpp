// Inference and printing for the MatrixMultiply kinds (placeholder: not yet implemented).
#include "network/infer.h"

namespace layerkit::detail {

void infer(const MatrixMultiplyAttrs&, InferCtx& ctx) {
  ctx.fail("MatrixMultiply is not implemented yet");
}
void print_attrs(const MatrixMultiplyAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
