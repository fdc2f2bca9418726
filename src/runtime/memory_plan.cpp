// Memory planning: each activation tensor lives from the layer that writes it to the last layer
// that reads it (to the end for outputs); tensors whose lifetimes do not overlap share a slot.
#include <algorithm>
#include <map>

#include "core/element.h"
#include "layerkit/core/error.h"
#include "layerkit/core/size.h"
#include "layerkit/network/network.h"
#include "runtime/plan.h"

namespace layerkit::plan {

MemoryPlan plan_memory(const Network& net, const std::map<const Tensor*, Dims>& dims,
                       std::span<const int> position) {
  MemoryPlan plan;
  const int n = net.num_layers();
  LK_ASSERT(position.empty() || static_cast<int>(position.size()) == n);
  auto pos = [&](int i) { return position.empty() ? i : position[static_cast<size_t>(i)]; };
  std::map<const Tensor*, int> last_use;
  for (int i = 0; i < n; ++i)
    for (const Tensor* in : net.layer(i)->inputs())
      if (in) last_use[in] = std::max(last_use[in], pos(i));
  for (int k = 0; k < net.num_outputs(); ++k) last_use[net.output(k)] = n;

  struct Slot {
    int64_t bytes = 0;
    bool free = true;
  };
  std::vector<Slot> slots;
  std::map<const Tensor*, size_t> slot_of;
  std::map<int, std::vector<const Tensor*>> dies_after;  // layer index -> tensors freed after it
  std::vector<std::pair<const Tensor*, int64_t>> order;
  // Layers in the order they run (stable: a position's layers keep their network order).
  std::vector<int> order_of(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) order_of[static_cast<size_t>(i)] = i;
  std::stable_sort(order_of.begin(), order_of.end(), [&](int a, int b) { return pos(a) < pos(b); });
  for (size_t oi = 0; oi < order_of.size(); ++oi) {
    const int i = order_of[oi];
    const Layer* l = net.layer(i);
    // Tensors die after the last layer at their last-use position has placed its outputs.
    const bool last_at_position = oi + 1 == order_of.size() || pos(order_of[oi + 1]) != pos(i);
    if (l->kind() == LayerKind::kINPUT || l->kind() == LayerKind::kCONSTANT) {
      if (!last_at_position) continue;
      auto it = dies_after.find(pos(i));
      if (it != dies_after.end())
        for (const Tensor* t : it->second) slots[slot_of.at(t)].free = true;
      continue;
    }
    for (const Tensor* t : l->outputs()) {
      auto it = dims.find(t);
      const Dims& d = it == dims.end() ? t->dims() : it->second;
      // Data-dependent sizes (-1 at plan time) are left to the executor.
      // (Note [Size arithmetic]: inference checked each tensor's bytes; sums are checked here.)
      const int64_t bytes = d.is_static() ? checked_mul(d.volume(), element_size(t->type()),
                                                        "bytes of tensor '" + t->name() + "'")
                                          : 0;
      plan.peak_bytes_unplanned =
          checked_add(plan.peak_bytes_unplanned, bytes, "activation bytes of the network");
      // Best fit among free slots; a slot too small grows (the arena only ever grows).
      size_t best = slots.size();
      for (size_t s = 0; s < slots.size(); ++s) {
        if (!slots[s].free) continue;
        if (best == slots.size()) {
          best = s;
          continue;
        }
        const bool fits = slots[s].bytes >= bytes, best_fits = slots[best].bytes >= bytes;
        if ((fits && !best_fits) || (fits && slots[s].bytes < slots[best].bytes) ||
            (!fits && !best_fits && slots[s].bytes > slots[best].bytes))
          best = s;
      }
      if (best == slots.size()) slots.push_back({});
      slots[best].free = false;
      slots[best].bytes = std::max(slots[best].bytes, bytes);
      slot_of[t] = best;
      order.emplace_back(t, bytes);
      auto lu = last_use.find(t);
      dies_after[lu == last_use.end() ? pos(i) : lu->second].push_back(t);
    }
    // Inputs read here die after the outputs are placed: a kernel may not write over its inputs.
    if (!last_at_position) continue;
    auto it = dies_after.find(pos(i));
    if (it != dies_after.end())
      for (const Tensor* t : it->second) slots[slot_of.at(t)].free = true;
  }
  std::vector<int64_t> offset(slots.size(), 0);
  for (size_t s = 0; s < slots.size(); ++s) {
    offset[s] = plan.peak_bytes_planned;
    plan.peak_bytes_planned =
        checked_add(plan.peak_bytes_planned, slots[s].bytes, "activation arena size");
  }
  for (const auto& [t, bytes] : order) {
    size_t s = slot_of.at(t);
    plan.assignments.push_back({t->name(), static_cast<int>(s), offset[s], bytes});
  }
  return plan;
}

}  // namespace layerkit::plan
