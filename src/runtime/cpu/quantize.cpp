// Reference kernels for the Quantize, Dequantize, DynamicQuantize kinds (placeholder: not yet
// implemented).
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const QuantizeAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const DequantizeAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const DynamicQuantizeAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}

}  // namespace layerkit::cpu
