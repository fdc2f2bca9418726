// Dead-layer elimination (layers no output depends on) and no-op elimination (layers that return
// their input unchanged).
#include <numeric>
#include <set>

#include "builder/passes/pass.h"
#include "builder/passes/rewrite.h"

namespace layerkit::passes {
namespace {

class EliminateDeadLayers final : public Pass {
 public:
  std::string_view name() const override { return "eliminate_dead_layers"; }

 protected:
  bool rewrite(Network& net) override {
    std::set<const Layer*> live;
    std::vector<const Layer*> stack;
    for (int i = 0; i < net.num_outputs(); ++i) stack.push_back(net.output(i)->producer());
    while (!stack.empty()) {
      const Layer* l = stack.back();
      stack.pop_back();
      if (!live.insert(l).second) continue;
      for (const Tensor* in : l->inputs())
        if (in) stack.push_back(in->producer());
    }
    std::vector<Layer*> dead;
    for (int i = 0; i < net.num_layers(); ++i) {
      Layer* l = net.layer(i);
      // Input layers stay: the engine's inputs are the network's, used or not.
      if (l->kind() == LayerKind::kINPUT || live.contains(l)) continue;
      dead.push_back(l);
      record(l->name(),
             detail::cat(layer_kind_name(l->kind()), " removed: no output depends on it"));
    }
    net.remove_layers(dead);
    return !dead.empty();
  }
};

bool is_identity_perm(const std::vector<int32_t>& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != static_cast<int32_t>(i)) return false;
  return true;
}

// Same rank and every dim equal and known.
bool same_static_dims(const Dims& a, const Dims& b) {
  return a.is_static() && a == b;
}

class EliminateNoOps final : public Pass {
 public:
  std::string_view name() const override { return "eliminate_no_ops"; }

 protected:
  bool rewrite(Network& net) override {
    bool changed = false;
    for (int i = 0; i < net.num_layers(); ++i) {
      Layer* l = net.layer(i);
      Tensor* to = passthrough(*l);
      if (!to || !net.can_replace_uses(l->output(0), to)) continue;
      record(l->name(), detail::cat(layer_kind_name(l->kind()), " removed: returns its input '",
                                    to->name(), "'"));
      bypass(net, l, to);
      changed = true;
      i = -1;
    }
    return changed;
  }

 private:
  // The input `l` returns unchanged, or null.
  static Tensor* passthrough(const Layer& l) {
    switch (l.kind()) {
      case LayerKind::kIDENTITY:
        return l.input(0);
      case LayerKind::kCAST:
        return l.attrs<CastAttrs>().to_type == l.input(0)->type() ? l.input(0) : nullptr;
      case LayerKind::kSHUFFLE: {
        const auto& a = l.attrs<ShuffleAttrs>();
        if (l.num_inputs() > 1) return nullptr;  // reshape shape given as a tensor
        if (!is_identity_perm(a.first_transpose) || !is_identity_perm(a.second_transpose))
          return nullptr;
        const Dims& in = l.input(0)->dims();
        if (!a.reshape_dims) return l.input(0);
        if (same_static_dims(in, l.output(0)->dims())) return l.input(0);
        // With dynamic dims: each reshape entry copies its input dim (0 as a placeholder) or
        // repeats a known one.
        const Dims& r = *a.reshape_dims;
        if (r.rank() != in.rank()) return nullptr;
        for (int d = 0; d < r.rank(); ++d) {
          bool copies = (r[d] == 0 && a.zero_is_placeholder) || (in[d] >= 0 && r[d] == in[d]);
          if (!copies) return nullptr;
        }
        return l.input(0);
      }
      case LayerKind::kSLICE: {
        const auto& a = l.attrs<SliceAttrs>();
        const Dims& in = l.input(0)->dims();
        if (l.num_inputs() > 1 || !in.is_static() || a.size != in) return nullptr;
        if (a.start.rank() != in.rank() || a.stride.rank() != in.rank()) return nullptr;
        for (int d = 0; d < in.rank(); ++d)
          if (a.start[d] != 0 || a.stride[d] != 1) return nullptr;
        return l.input(0);
      }
      case LayerKind::kELEMENTWISE: {
        ElementWiseOperation op = l.attrs<ElementWiseAttrs>().op;
        // x op c == x for c the identity of op; c may sit on the left only when op commutes.
        std::optional<double> unit;
        bool commutes = false;
        switch (op) {
          case ElementWiseOperation::kSUM:
            unit = 0.0, commutes = true;
            break;
          case ElementWiseOperation::kSUB:
            unit = 0.0;
            break;
          case ElementWiseOperation::kPROD:
            unit = 1.0, commutes = true;
            break;
          case ElementWiseOperation::kDIV:
            unit = 1.0;
            break;
          default:
            return nullptr;
        }
        if (!is_floating(l.output(0)->type())) return nullptr;  // integer division, bool sums
        for (int side = commutes ? 0 : 1; side < 2; ++side) {
          Tensor* c = l.input(side);
          Tensor* x = l.input(1 - side);
          // The constant must not broadcast x to a larger shape.
          if (splat_value(c) == unit && x->dims() == l.output(0)->dims()) return x;
        }
        return nullptr;
      }
      default:
        return nullptr;
    }
  }
};

}  // namespace

std::unique_ptr<Pass> make_eliminate_dead_layers() {
  return std::make_unique<EliminateDeadLayers>();
}
std::unique_ptr<Pass> make_eliminate_no_ops() {
  return std::make_unique<EliminateNoOps>();
}

}  // namespace layerkit::passes
