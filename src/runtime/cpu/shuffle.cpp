// Reference kernels for the Shuffle, Identity, Cast, Shape, Concatenation, Padding kinds
// (placeholder: not yet implemented).
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const ShuffleAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const IdentityAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const CastAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const ShapeAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const ConcatenationAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}
void run_reference(const PaddingAttrs&, KernelCtx& ctx) {
  ctx.fail("not implemented");
}

}  // namespace layerkit::cpu
