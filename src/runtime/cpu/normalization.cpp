// Reference kernels for the Normalization, SoftMax kinds (placeholder: not yet implemented).
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const NormalizationAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const SoftMaxAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}

}  // namespace layerkit::cpu
