// Inference and printing for the Convolution, Deconvolution kinds (placeholder: not yet
// implemented).
#include "network/infer.h"

namespace layerkit::detail {

void infer(const ConvolutionAttrs&, InferCtx& ctx) {
  ctx.fail("Convolution is not implemented yet");
}
void print_attrs(const ConvolutionAttrs&, AttrPrinter&) {}

void infer(const DeconvolutionAttrs&, InferCtx& ctx) {
  ctx.fail("Deconvolution is not implemented yet");
}
void print_attrs(const DeconvolutionAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
