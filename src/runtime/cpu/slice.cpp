// Reference kernels for the Slice kinds (placeholder: not yet implemented).
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const SliceAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}

}  // namespace layerkit::cpu
