// Reference kernels for the ElementWise, Unary, Select kinds (placeholder: not yet implemented).
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const ElementWiseAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const UnaryAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const SelectAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}

}  // namespace layerkit::cpu
