// Per-kind ordered kernel lists of the CPU executor: fastest first, the reference last.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "runtime/cpu/fusion.h"
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

// One layer's kernel, made for one set of resolved input and output dims and types.
class Kernel {
 public:
  virtual ~Kernel() = default;
  // Runs the layer on tensors with the dims and types the kernel was made for. Throws
  // only through ctx.fail (data-dependent errors), as the reference kernels do.
  // Const: one kernel serves every context of an engine, possibly at once on several
  // threads (Note [Engine state]); what a run needs of its own lives on the stack or in
  // thread-local scratch.
  virtual void run(KernelCtx& ctx) const = 0;
  // Host memory the kernel prepared and holds (packed weights), for the engine's figures.
  virtual uint64_t prepared_bytes() const { return 0; }
  // How many of the problem's post-ops run() applies (a prefix); the executor applies the rest.
  virtual int post_ops_handled() const { return 0; }
};

// What a kernel may look at when deciding whether it accepts a layer. Inputs and outputs
// carry their resolved dims and types; only inputs marked constant may have their data read here
// (e.g. to pre-pack weights), since every other input changes from run to run.
struct KernelProblem {
  std::string_view layer_name;
  const LayerAttrs* attrs = nullptr;
  std::span<const KernelTensor* const> inputs;  // null entries: absent optional inputs
  std::span<const bool> constant_inputs;        // same size as inputs
  std::span<KernelTensor* const> outputs;
  int num_threads = 1;
  // Pointwise steps fused after the layer (Note [Fusion groups]); a binary op's side operand is
  // the KernelCtx input `PostOp::input` at run time. An kernel may take them over.
  std::span<const PostOp> post_ops;

  bool has_input(int i) const {
    return i < static_cast<int>(inputs.size()) && inputs[static_cast<size_t>(i)] != nullptr;
  }
  const KernelTensor& input(int i) const { return *inputs[static_cast<size_t>(i)]; }
  bool is_constant(int i) const { return has_input(i) && constant_inputs[static_cast<size_t>(i)]; }
  const KernelTensor& output(int i) const { return *outputs[static_cast<size_t>(i)]; }
  template <typename A>
  const A& as() const {
    return std::get<A>(*attrs);
  }
};

// One entry of a kind's list. `create` returns null when the kernel does not handle the
// problem ("unimplemented here": the next entry is tried); invalid layers never reach it, since
// inference has validated them.
struct KernelEntry {
  std::string_view name;
  std::unique_ptr<Kernel> (*create)(const KernelProblem& problem);
};

// The list for `kind`: its fast kernels, fastest first, then "reference", which accepts
// everything. With `reference_only`, just the reference.
std::span<const KernelEntry> kernels(LayerKind kind, bool reference_only);

// The fast entries each family contributes (defined beside their kernels).
std::vector<KernelEntry> onednn_kernels(LayerKind kind);
std::vector<KernelEntry> vectorized_kernels(LayerKind kind);
std::vector<KernelEntry> layout_kernels(LayerKind kind);

}  // namespace layerkit::cpu
