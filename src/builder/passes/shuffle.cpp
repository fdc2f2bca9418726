// Shuffle merging: Shuffle(Shuffle(x)) becomes one Shuffle when one can express both (each is
// transpose -> reshape -> transpose); a permutation followed by its inverse disappears.
#include "builder/passes/pass.h"
#include "builder/passes/rewrite.h"

namespace layerkit::passes {
namespace {

using Perm = std::vector<int32_t>;

Perm identity(int rank) {
  Perm p(static_cast<size_t>(rank));
  for (int i = 0; i < rank; ++i) p[static_cast<size_t>(i)] = i;
  return p;
}
bool is_identity(const Perm& p) {
  return p == identity(static_cast<int>(p.size()));
}
// TensorRT's transpose: out[i] = in[p[i]]. Applying p, then q: out[i] = in[p[q[i]]].
Perm then(const Perm& p, const Perm& q) {
  Perm c(q.size());
  for (size_t i = 0; i < q.size(); ++i) c[i] = p[static_cast<size_t>(q[i])];
  return c;
}
Dims permute(const Dims& d, const Perm& p) {
  Dims r = d;
  for (int i = 0; i < d.rank(); ++i) r[i] = d[p[static_cast<size_t>(i)]];
  return r;
}

// A Shuffle as first transpose, the dims after its reshape (nullopt: no reshape, or one that
// keeps the dims) and second transpose, each permutation spelled out in full.
struct Form {
  Perm first;
  std::optional<Dims> reshaped;
  Perm second;
};

std::optional<Form> form_of(const Layer& l) {
  if (l.kind() != LayerKind::kSHUFFLE || l.num_inputs() != 1) return std::nullopt;
  const auto& a = l.attrs<ShuffleAttrs>();
  const Dims& in = l.input(0)->dims();
  const Dims& out = l.output(0)->dims();
  Form f;
  f.first = a.first_transpose.empty() ? identity(in.rank()) : a.first_transpose;
  f.second = a.second_transpose.empty() ? identity(out.rank()) : a.second_transpose;
  if (!a.reshape_dims) return f;
  // The reshape's result, recovered from the output: out[i] = reshaped[second[i]].
  Dims reshaped = out;
  for (int i = 0; i < out.rank(); ++i) reshaped[f.second[static_cast<size_t>(i)]] = out[i];
  Dims before = permute(in, f.first);
  if (!(before.is_static() && before == reshaped)) {
    // A real reshape: merging writes it as concrete dims, so they must be known.
    if (!reshaped.is_static()) return std::nullopt;
    f.reshaped = reshaped;
  }
  return f;
}

class MergeShuffles final : public Pass {
 public:
  std::string_view name() const override { return "merge_shuffles"; }

 protected:
  bool rewrite(Network& net) override {
    bool changed = false;
    for (int i = 0; i < net.num_layers(); ++i) {
      Layer* second = net.layer(i);
      if (second->kind() != LayerKind::kSHUFFLE || second->num_inputs() != 1) continue;
      Layer* first = producer_of(second->input(0), LayerKind::kSHUFFLE);
      if (!first || !single_use(net, first->output(0))) continue;
      std::optional<Form> f1 = form_of(*first), f2 = form_of(*second);
      if (!f1 || !f2) continue;
      std::optional<Form> m = merge(*f1, *f2);
      if (!m) continue;
      Tensor* x = first->input(0);
      std::string first_name = first->name(), second_name = second->name();
      if (!m->reshaped && is_identity(m->first) && is_identity(m->second)) {
        if (!net.can_replace_uses(second->output(0), x)) continue;
        bypass(net, second, x);
        record(first_name, detail::cat("Shuffle removed with '", second_name,
                                       "': together they leave every element in place"));
        record(second_name, detail::cat("Shuffle removed with '", first_name, "'"));
      } else {
        ShuffleAttrs a;
        if (!is_identity(m->first)) a.first_transpose = m->first;
        if (m->reshaped) {
          a.reshape_dims = *m->reshaped;
          // Concrete dims: a 0 means an empty axis, not "copy the input's".
          for (int64_t d : *m->reshaped) a.zero_is_placeholder = a.zero_is_placeholder && d != 0;
        }
        if (!is_identity(m->second)) a.second_transpose = m->second;
        substitute(net, second, net.add_shuffle(x, a));
        record(first_name, detail::cat("Shuffle merged into Shuffle '", second_name, "'"));
      }
      changed = true;
      i = -1;
    }
    return changed;
  }

 private:
  static std::optional<Form> merge(const Form& a, const Form& b) {
    if (!a.reshaped && !b.reshaped)  // two permutations
      return Form{then(then(a.first, a.second), then(b.first, b.second)), std::nullopt,
                  identity(static_cast<int>(b.second.size()))};
    if (!a.reshaped)  // a permutation, then a reshaping Shuffle
      return Form{then(then(a.first, a.second), b.first), b.reshaped, b.second};
    if (!b.reshaped)  // a reshaping Shuffle, then a permutation
      return Form{a.first, a.reshaped, then(a.second, then(b.first, b.second))};
    // Two reshapes compose only when no transpose sits between them.
    if (!is_identity(then(a.second, b.first))) return std::nullopt;
    return Form{a.first, b.reshaped, b.second};
  }
};

}  // namespace

std::unique_ptr<Pass> make_merge_shuffles() {
  return std::make_unique<MergeShuffles>();
}

}  // namespace layerkit::passes
