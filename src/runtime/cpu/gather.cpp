// Reference kernels for the Gather, Scatter, NonZero kinds (placeholder: not yet implemented).
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const GatherAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const ScatterAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const NonZeroAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}

}  // namespace layerkit::cpu
