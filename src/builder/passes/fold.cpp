// Constant folding: a layer whose inputs are all constants is evaluated once at build time on the
// CPU (evaluate_constants with the executor's default kernels: the fast kernels where they accept
// the layer, else the reference kernel) and becomes a Constant layer.
#include <optional>

#include "builder/passes/pass.h"
#include "builder/passes/rewrite.h"
#include "layerkit/builder/evaluate.h"

namespace layerkit::passes {
namespace {

class FoldConstants final : public Pass {
 public:
  explicit FoldConstants(int64_t max_elements) : max_elements_(max_elements) {}
  std::string_view name() const override { return "fold_constants"; }

 protected:
  bool rewrite(Network& net) override {
    bool changed = false;
    // Layers are in topological order and a folded layer's constant is appended at the end, so
    // one sweep folds whole constant chains: each reader is visited after its producer folded.
    for (int i = 0; i < net.num_layers(); ++i) {
      Layer* l = net.layer(i);
      if (!foldable(*l)) continue;
      std::vector<Weights> values;
      try {
        values = evaluate(*l);
      } catch (const Error&) {
        // A kernel that fails on these values (an index out of range, say) fails the same way
        // at run time; leaving the layer keeps that error where the user expects it.
        continue;
      }
      std::vector<Layer*> made;
      for (int k = 0; k < l->num_outputs(); ++k)
        made.push_back(net.add_constant(l->output(k)->dims(), values[static_cast<size_t>(k)]));
      std::string name = l->name();
      std::string kind(layer_kind_name(l->kind()));
      if (made.size() == 1) {
        substitute(net, l, made[0]);
      } else {
        // Several outputs: each gets its own Constant; the first keeps the layer's name.
        for (int k = 0; k < l->num_outputs(); ++k) {
          std::string out_name = l->output(k)->name();
          net.replace_uses(l->output(k), made[static_cast<size_t>(k)]->output(0));
          if (!net.find_tensor(out_name))
            made[static_cast<size_t>(k)]->output(0)->set_name(out_name);
        }
        remove_dead_from(net, {l});
        made[0]->set_name(name);
      }
      record(name, detail::cat(kind, " folded into a Constant"));
      changed = true;
      i = -1;  // indices moved; start over (cheap: foldable() is a quick test)
    }
    return changed;
  }

 private:
  // Which kinds may fold is decided once, by is_deterministic's switch over every kind (no
  // default: a new kind fails to compile there).
  bool foldable(const Layer& l) const {
    if (l.kind() == LayerKind::kCONSTANT || !is_deterministic(l)) return false;
    // The shape of a tensor with static dims is known whatever its values.
    if (l.kind() == LayerKind::kSHAPE && l.input(0)->dims().is_static()) return outputs_fit(l);
    for (const Tensor* in : l.inputs())
      if (in && !constant_of(in)) return false;
    return outputs_fit(l);
  }

  bool outputs_fit(const Layer& l) const {
    for (const Tensor* out : l.outputs())
      if (!out->dims().is_static() || out->dims().volume() > max_elements_) return false;
    return true;
  }

  // The layer's outputs by the shared machinery (Note [Constant cones]); foldable() has made
  // sure its inputs are constants or it is the Shape of a static tensor.
  static std::vector<Weights> evaluate(const Layer& l) {
    if (std::optional<Weights> w = reshaped_constant(l)) return {*w};
    std::vector<const Tensor*> outs(l.outputs().begin(), l.outputs().end());
    ConstantEvaluation options;
    options.executor = ExecutorOptions{};
    auto results = evaluate_constants(outs, options);
    LK_ASSERT(results.has_value());
    std::vector<Weights> values;
    for (const OwnedTensor& o : *results)
      values.push_back(Weights::copy(o.type, o.data.data(), o.dims.volume()));
    return values;
  }

  // A Shuffle that only reshapes a Constant moves no bytes: the folded constant shares the
  // input's buffer. (Converters reshape weights for broadcasting, e.g. a MatMul's [K,N] weights to
  // [1,K,N]; a copy would hold the model's weights twice.)
  static std::optional<Weights> reshaped_constant(const Layer& l) {
    if (l.kind() != LayerKind::kSHUFFLE) return std::nullopt;
    const ShuffleAttrs& a = l.attrs<ShuffleAttrs>();
    auto identity = [](const std::vector<int32_t>& p) {
      for (size_t i = 0; i < p.size(); ++i)
        if (p[i] != static_cast<int32_t>(i)) return false;
      return true;
    };
    if (!identity(a.first_transpose) || !identity(a.second_transpose)) return std::nullopt;
    const Layer* p = l.input(0)->producer();
    if (!p || p->kind() != LayerKind::kCONSTANT) return std::nullopt;
    const Weights& w = p->attrs<ConstantAttrs>().weights;
    const Tensor* out = l.output(0);
    if (w.type() != out->type() || !out->dims().is_static() || w.count() != out->dims().volume())
      return std::nullopt;
    return w;
  }

  int64_t max_elements_;
};

}  // namespace

std::unique_ptr<Pass> make_fold_constants(int64_t max_elements) {
  return std::make_unique<FoldConstants>(max_elements);
}

}  // namespace layerkit::passes
