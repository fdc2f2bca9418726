// Reference kernels for the MatrixMultiply kinds (placeholder: not yet implemented).
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const MatrixMultiplyAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}

}  // namespace layerkit::cpu
