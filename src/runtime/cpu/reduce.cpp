// Reference kernels for the Reduce, TopK kinds (placeholder: not yet implemented).
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const ReduceAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const TopKAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}

}  // namespace layerkit::cpu
