// Reference kernels for the Resize, GridSample kinds (placeholder: not yet implemented).
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const ResizeAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const GridSampleAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}

}  // namespace layerkit::cpu
