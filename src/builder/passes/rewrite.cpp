// Helpers the builder passes share: reading constants, counting uses, replacing layers.
#include "builder/passes/rewrite.h"

#include <algorithm>
#include <set>

#include "core/element.h"

namespace layerkit::passes {

const ConstantAttrs* constant_of(const Tensor* t) {
  if (!t || !t->producer() || t->producer()->kind() != LayerKind::kCONSTANT) return nullptr;
  return &t->producer()->attrs<ConstantAttrs>();
}

std::optional<double> splat_value(const Tensor* t) {
  const ConstantAttrs* c = constant_of(t);
  if (!c || is_sub_byte(c->weights.type()) || c->weights.count() < 1) return std::nullopt;
  const Weights& w = c->weights;
  auto at = [&](int64_t i) -> double {
    if (is_floating(w.type())) return static_cast<double>(load_f(w.type(), w.data(), i));
    return static_cast<double>(load_i(w.type(), w.data(), i));
  };
  double v = at(0);
  for (int64_t i = 1; i < w.count(); ++i)
    if (!(at(i) == v)) return std::nullopt;
  return v;
}

Layer* producer_of(const Tensor* t, LayerKind k) {
  return t && t->producer() && t->producer()->kind() == k ? t->producer() : nullptr;
}

Layer* elementwise_of(const Tensor* t, ElementWiseOperation op) {
  Layer* l = producer_of(t, LayerKind::kELEMENTWISE);
  return l && l->attrs<ElementWiseAttrs>().op == op ? l : nullptr;
}

bool single_use(const Network& net, const Tensor* t) {
  return !t->is_network_output() && net.consumers(t).size() == 1;
}

Tensor* other_input(const Layer* layer, const Tensor* t) {
  if (layer->num_inputs() != 2) return nullptr;
  if (layer->input(0) == t && layer->input(1) != t) return layer->input(1);
  if (layer->input(1) == t && layer->input(0) != t) return layer->input(0);
  return nullptr;
}

std::vector<std::string> remove_dead_from(Network& net, std::vector<Layer*> roots) {
  std::vector<std::string> removed;
  std::set<Layer*> pending(roots.begin(), roots.end());
  // Each removal may free producers; stop when a sweep removes nothing.
  while (!pending.empty()) {
    std::vector<Layer*> dead;
    std::set<Layer*> next;
    for (Layer* l : pending) {
      if (l->kind() == LayerKind::kINPUT) continue;
      bool used = false;
      for (const Tensor* t : l->outputs())
        used = used || t->is_network_output() || !net.consumers(t).empty();
      if (used) continue;
      dead.push_back(l);
      for (Tensor* in : l->inputs())
        if (in) next.insert(in->producer());
    }
    for (Layer* l : dead) {
      removed.push_back(l->name());
      next.erase(l);
    }
    net.remove_layers(dead);
    pending = std::move(next);
  }
  return removed;
}

void bypass(Network& net, Layer* old, Tensor* to) {
  net.replace_uses(old->output(0), to);
  remove_dead_from(net, {old});
}

void substitute(Network& net, Layer* old, Layer* fresh, std::string layer_name) {
  LK_ASSERT(old->num_outputs() == fresh->num_outputs());
  if (layer_name.empty()) layer_name = old->name();
  std::vector<std::string> names;
  for (int k = 0; k < old->num_outputs(); ++k) {
    names.push_back(old->output(k)->name());
    net.replace_uses(old->output(k), fresh->output(k));
  }
  remove_dead_from(net, {old});
  // Outputs already carry their names (replace_uses moved them); the rest take theirs now.
  for (int k = 0; k < fresh->num_outputs(); ++k)
    if (!net.find_tensor(names[static_cast<size_t>(k)]))
      fresh->output(k)->set_name(names[static_cast<size_t>(k)]);
  if (!net.find_layer(layer_name)) fresh->set_name(layer_name);
}

}  // namespace layerkit::passes
