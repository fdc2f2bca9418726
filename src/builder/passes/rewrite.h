// Helpers the builder passes share: reading constants, counting uses, replacing layers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "layerkit/network/network.h"

namespace layerkit::passes {

// The attributes of the Constant layer producing `t`, or null.
const ConstantAttrs* constant_of(const Tensor* t);
// The one value every element of a constant `t` holds (byte-sized types, at least one element).
std::optional<double> splat_value(const Tensor* t);
// The layer producing `t` when it has kind `k`, else null.
Layer* producer_of(const Tensor* t, LayerKind k);
// The ElementWise layer producing `t` when its operation is `op`, else null.
Layer* elementwise_of(const Tensor* t, ElementWiseOperation op);
// True when `t` is read by exactly one layer (once or several times) and is not an output.
bool single_use(const Network& net, const Tensor* t);
// The input of the two-input `layer` other than `t` (null when neither or both are `t`).
Tensor* other_input(const Layer* layer, const Tensor* t);

// Removes the non-Input layers among `roots` whose outputs nothing reads, then, transitively,
// the producers that become unread that way. Returns the names of the removed layers.
std::vector<std::string> remove_dead_from(Network& net, std::vector<Layer*> roots);
// Makes readers of `old`'s output 0 read `to`, then removes `old` and what it leaves unread.
void bypass(Network& net, Layer* old, Tensor* to);
// Makes readers of `old`'s outputs read `fresh`'s (same count), removes `old` and what it leaves
// unread, and gives `fresh` the name `layer_name` (default: `old`'s) and `old`'s output names.
void substitute(Network& net, Layer* old, Layer* fresh, std::string layer_name = {});

}  // namespace layerkit::passes
