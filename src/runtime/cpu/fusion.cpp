// Plans the CPU executor's fusion groups (Note [Fusion groups]) and broadcast views.
#include "runtime/cpu/fusion.h"

#include <map>

namespace layerkit::cpu {
namespace {

bool is_f32(const Tensor* t) {
  return t != nullptr && t->type() == DataType::kFLOAT;
}

// The ElementWise operations a step (or a pointwise anchor) may apply.
bool arithmetic(ElementWiseOperation op) {
  return op == ElementWiseOperation::kSUM || op == ElementWiseOperation::kSUB ||
         op == ElementWiseOperation::kPROD || op == ElementWiseOperation::kDIV;
}

bool pointwise(const Layer& l) {
  if (l.num_outputs() != 1 || !is_f32(l.output(0))) return false;
  if (l.kind() == LayerKind::kACTIVATION) return is_f32(l.input(0));
  if (l.kind() == LayerKind::kELEMENTWISE)
    return arithmetic(l.attrs<ElementWiseAttrs>().op) && is_f32(l.input(0)) && is_f32(l.input(1));
  return false;
}

bool anchor(const Layer& l) {
  if (l.kind() == LayerKind::kCONVOLUTION || l.kind() == LayerKind::kMATRIX_MULTIPLY)
    return l.num_outputs() == 1 && is_f32(l.output(0));
  return pointwise(l);
}

}  // namespace

std::vector<FusionGroup> plan_fusion(const Network& net) {
  std::map<const Layer*, int> index;
  std::map<const Tensor*, std::vector<int>> readers;  // one entry per reading input slot
  for (int i = 0; i < net.num_layers(); ++i) {
    const Layer* l = net.layer(i);
    index[l] = i;
    for (const Tensor* t : l->inputs())
      if (t) readers[t].push_back(i);
  }
  std::vector<bool> grouped(static_cast<size_t>(net.num_layers()), false);
  std::vector<FusionGroup> groups;
  for (int i = 0; i < net.num_layers(); ++i) {
    const Layer* a = net.layer(i);
    if (grouped[static_cast<size_t>(i)] || !anchor(*a)) continue;
    FusionGroup g;
    g.anchor = i;
    const Tensor* chain = a->output(0);
    for (;;) {
      auto it = readers.find(chain);
      if (chain->is_network_output() || it == readers.end() || it->second.size() != 1) break;
      const int r = it->second.front();
      const Layer* s = net.layer(r);
      if (grouped[static_cast<size_t>(r)] || !pointwise(*s)) break;
      int chain_input = 0;
      if (s->kind() == LayerKind::kELEMENTWISE) chain_input = s->input(0) == chain ? 0 : 1;
      g.steps.push_back({r, chain_input});
      chain = s->output(0);
    }
    if (g.steps.empty()) continue;
    grouped[static_cast<size_t>(i)] = true;
    for (const FusedStep& s : g.steps) grouped[static_cast<size_t>(s.layer)] = true;
    groups.push_back(std::move(g));
  }
  return groups;
}

std::optional<BroadcastView> one_sided(const Dims& b, const Dims& out) {
  const int r = out.rank(), lead = out.rank() - b.rank();
  if (lead < 0) return std::nullopt;
  auto at = [&](int d) { return d < lead ? int64_t{1} : b[d - lead]; };
  int lo = 0, hi = r;
  while (lo < r && at(lo) == 1) ++lo;
  while (hi > lo && at(hi - 1) == 1) --hi;
  BroadcastView v;
  for (int d = 0; d < r; ++d) {
    if (d >= lo && d < hi && at(d) != out[d]) return std::nullopt;
    (d < lo ? v.outer : d < hi ? v.mid : v.inner) *= out[d];
  }
  return v;
}

}  // namespace layerkit::cpu
