// Reference kernels for the Activation, ParametricReLU, Scale kinds (placeholder: not yet
// implemented).
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const ActivationAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const ParametricReLUAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const ScaleAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}

}  // namespace layerkit::cpu
