// Reference kernels for the Convolution, Deconvolution kinds (placeholder: not yet implemented).
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const ConvolutionAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const DeconvolutionAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}

}  // namespace layerkit::cpu
