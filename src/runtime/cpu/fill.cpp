// Reference kernels for the Fill kinds (placeholder: not yet implemented).
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const FillAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}

}  // namespace layerkit::cpu
