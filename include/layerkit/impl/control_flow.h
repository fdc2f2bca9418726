// Building blocks for control flow (ONNX If / Loop / Scan, torch.cond / while_loop): the
// Conditional and Loop layers (Note [Control-flow bodies] in layerkit/network/layers.h), with a
// condition known when the network is built inlining the taken body, and a loop whose trip count
// is known unrolled when it is small.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::control_flow {

// `then_body` or `else_body`, as `condition` (bool, one element) says; both take `inputs` (the
// outer values they read, in their input order) and give the same number of outputs. A condition
// known when the network is built (a constant) inlines the taken body's layers, named
// sub_name(name, "then_<layer>" / "else_<layer>"), so its outputs keep that body's dims; otherwise
// one Conditional layer named `name`.
std::vector<Tensor*> if_conditional(ConversionContext& ctx, const Target& target,
                                    std::optional<SourceIR> source_ir, std::string_view name,
                                    Tensor* condition, std::shared_ptr<const Network> then_body,
                                    std::shared_ptr<const Network> else_body,
                                    std::span<Tensor* const> inputs);

// What a loop reads, in LoopAttrs' order (layerkit/network/layers.h).
struct LoopInputs {
  Tensor* trip_limit = nullptr;  // int32/int64, one element; null: none
  Tensor* condition = nullptr;   // bool, one element; null: true
  std::vector<Tensor*> carried;
  std::vector<Tensor*> scan_inputs;
  std::vector<Tensor*> invariants;
};
struct LoopOptions {
  std::vector<int32_t> scan_input_axes;  // one per scan input (negative counts from the end)
  std::vector<int32_t> scan_input_reverse;
  std::vector<int32_t> scan_output_axes;  // one per scan output, or empty (all 0)
  std::vector<int32_t> scan_output_reverse;
  // A loop whose trip count is known when the network is built (a constant limit, no scan input,
  // a condition that is constant true before and after every iteration) is unrolled when
  // trips x (body layers) is at most this (0: never); docs/onnx.md has the measurement.
  int64_t max_unrolled_layers = 0;
};
struct LoopResult {
  std::vector<Tensor*> carried;       // the final carried values
  std::vector<Tensor*> scan_outputs;  // every iteration's values, stacked
};
// The Loop layer (named `name`), or the body inlined once per iteration.
LoopResult loop(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, std::shared_ptr<const Network> body,
                const LoopInputs& inputs, const LoopOptions& options = {});

}  // namespace layerkit::impl::control_flow
