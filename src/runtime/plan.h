// What the runtime and the builder compute from a network and its profiles: every tensor's dims
// at given input shapes, a profile's min/opt/max input shapes, and the activation memory plan.
#pragma once

#include <map>
#include <span>

#include "layerkit/runtime/engine_config.h"

namespace layerkit {
class Network;
class Tensor;
}  // namespace layerkit

namespace layerkit::plan {

// memory_plan.cpp: activation buffers assigned to reusable slots by lifetime over the layer
// order. `dims` gives each tensor's dims at the shapes planned for (missing: the network's dims).
// `position` (optional, one entry per layer) is where an executor runs each layer, when it runs
// some later than their order (Note [Fusion groups]): lifetimes then run from position to position.
MemoryPlan plan_memory(const Network& net, const std::map<const Tensor*, Dims>& dims,
                       std::span<const int> position = {});

// plan.cpp: inference over the whole network with concrete input dims (throws the first
// failure), giving every tensor's dims; and a profile's min (0), opt (1) or max (2) input dims.
std::map<const Tensor*, Dims> infer_network(const Network& net,
                                            const std::map<const Tensor*, Dims>& input_dims);
std::map<const Tensor*, Dims> profile_dims(const Network& net, const OptimizationProfile& p,
                                           int which);

}  // namespace layerkit::plan
