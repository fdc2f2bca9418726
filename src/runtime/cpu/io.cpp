// Reference kernels for the Input and Constant kinds.
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const InputAttrs&, KernelCtx& ctx) {
  ctx.fail("Input layers are bound by the executor, not run");
}

void run_reference(const ConstantAttrs& a, KernelCtx& ctx) {
  const KernelTensor& out = ctx.output(0);
  unpack(a.weights.type(), a.weights.data(), out.data, a.weights.count());
}

}  // namespace layerkit::cpu
