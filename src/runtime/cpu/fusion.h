// Kernel fusion in the CPU executor: which layers run as one kernel, and the post-ops they carry.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "layerkit/network/network.h"
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

// Note [Fusion groups]
// A group is an anchor layer (Convolution, MatrixMultiply, or a pointwise Activation/ElementWise)
// followed by a chain of pointwise steps (Activation, or ElementWise kSUM/kSUB/kPROD/kDIV with one
// side operand), each step reading the previous layer's output. The chain's intermediate tensors
// have that one reader and are not network outputs, so nothing else can observe them: the group
// writes only the last step's output and the intermediates are never stored. Every tensor of the
// chain is fp32. The group runs at the position of its last step, where every side operand has
// been computed. At run time a step whose side operand would broadcast the chain to a larger shape
// (or broadcasts in a pattern the kernels do not index) makes the executor run the group's layers
// one by one for that shape; results are the same either way, within the float tolerances.
struct FusedStep {
  int layer = 0;        // index in the network
  int chain_input = 0;  // which input of the layer is the previous layer's output
};
struct FusionGroup {
  int anchor = 0;
  std::vector<FusedStep> steps;  // in chain order; never empty
};

// The groups of `net` (layers in topological order), disjoint, each with at least one step.
std::vector<FusionGroup> plan_fusion(const Network& net);

// The output viewed as [outer, mid, inner] for an operand that equals the output on one contiguous
// run of axes (mid) and is 1 on every other: the operand's element for flat output index i is
// (i / inner) % mid. Equal shapes are mid = everything; a single value is mid = 1.
struct BroadcastView {
  int64_t outer = 1, mid = 1, inner = 1;
};
// The view for operand dims `b` against output dims `out` (b's rank may be lower: leading 1s).
std::optional<BroadcastView> one_sided(const Dims& b, const Dims& out);

// One pointwise step applied to a layer's output in place (the chain value c):
// kACTIVATION: c = act(c); kBINARY: c = c OP side, or side OP c when !chain_is_lhs.
struct PostOp {
  enum class Kind { kACTIVATION, kBINARY };
  Kind kind = Kind::kACTIVATION;
  ActivationAttrs activation;
  ElementWiseOperation op = ElementWiseOperation::kSUM;
  bool chain_is_lhs = true;
  const KernelTensor* side = nullptr;  // kBINARY: fp32, indexed per `view`
  int input = -1;                      // kBINARY: the side operand's index among the kernel inputs
  BroadcastView view;
};

// y = ops(src) over n fp32 values (src may be y: in place), block by block so each block stays in
// cache through the whole chain (vectorized.cpp). A binary op's side must match `view` against the
// n values.
void apply_post_ops(const float* src, float* y, int64_t n, std::span<const PostOp> ops,
                    int num_threads);

// The reference scalar activation (activation.cpp), for post-ops without a vectorized loop.
float activate(const ActivationAttrs& a, float x);

}  // namespace layerkit::cpu
