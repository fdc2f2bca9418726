// Evaluation of tensors that depend on constants only: the machinery of constant folding, shared
// by the builder's fold pass and by frontends that need values while they build a network.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "layerkit/network/network.h"
#include "layerkit/runtime/executor.h"

namespace layerkit {

// Whether a layer of this kind and these attributes computes the same values on every run from
// the same inputs: false for Input, Collective (it talks to other ranks) and random Fills.
bool is_deterministic(const Layer& layer);

// Note [Constant cones]
// A tensor is constant when everything it depends on is: Constant layers, the Shape of a tensor
// whose dims are static (its value does not depend on the tensor's elements), and deterministic
// layers over those. constant_cone returns the layers such tensors are computed by, each after
// the producers of its inputs (the Shape layers of static tensors included, their inputs not), or
// nullopt when some tensor depends on anything else. `max_layers` bounds the search (nullopt beyond
// it).
std::optional<std::vector<const Layer*>> constant_cone(std::span<const Tensor* const> tensors,
                                                       int64_t max_layers = int64_t{1} << 12);

struct ConstantEvaluation {
  // The CPU executor's options; the reference kernels by default, the definition of correctness.
  ExecutorOptions executor = [] {
    ExecutorOptions o;
    o.reference_kernels_only = true;
    return o;
  }();
  int64_t max_layers = int64_t{1} << 12;
};

// The values of `tensors` (of `net`), computed once on the CPU by a copy of their constant cone;
// nullopt when a tensor is not constant (see Note [Constant cones]). A kernel that fails on these
// values throws as it would at run time.
std::optional<std::vector<OwnedTensor>> evaluate_constants(std::span<const Tensor* const> tensors,
                                                           const ConstantEvaluation& options = {});

}  // namespace layerkit
