// Pattern recognition: subgraphs frontends write out op by op, replaced by the one layer that
// computes them (and that a fast kernel can take whole).
//   layer norm   (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) [* gamma] [+ beta]
//                -> Normalization; the ONNX LayerNormalization function body's form,
//                d * reciprocal(sqrt(...)), too; d^2 written as Pow(d, 2) or Mul(d, d)
//   GELU (erf)   x * 0.5 * (1 + erf(x / sqrt(2))), in any grouping of the three factors
//                -> Activation kGELU_ERF
//   softmax      exp(x - max(x)) / sum(exp(x - max(x))) over one axis (or without the max)
//                -> SoftMax
#include <cmath>

#include "builder/passes/pass.h"
#include "builder/passes/rewrite.h"
#include "core/element.h"

namespace layerkit::passes {
namespace {

bool near(std::optional<double> v, double want) {
  return v && std::abs(*v - want) <= 1e-4 * std::abs(want);
}

Layer* unary_of(const Tensor* t, UnaryOperation op) {
  Layer* l = producer_of(t, LayerKind::kUNARY);
  return l && l->attrs<UnaryAttrs>().op == op ? l : nullptr;
}

Layer* reduce_of(const Tensor* t, ReduceOperation op) {
  Layer* l = producer_of(t, LayerKind::kREDUCE);
  return l && l->attrs<ReduceAttrs>().op == op && l->attrs<ReduceAttrs>().keep_dims ? l : nullptr;
}

class RecognizePatterns final : public Pass {
 public:
  std::string_view name() const override { return "recognize_patterns"; }

 protected:
  bool rewrite(Network& net) override {
    bool changed = false;
    // Last layer first, so the largest match wins (a layer norm's Div is a smaller match).
    for (int i = net.num_layers() - 1; i >= 0; --i) {
      Layer* l = net.layer(i);
      if (layer_norm(net, l) || gelu(net, l) || softmax(net, l)) {
        changed = true;
        i = net.num_layers();
      }
    }
    return changed;
  }

 private:
  void replaced(const std::string& root, std::string_view what, const std::string& by) {
    record(root, detail::cat(what, " subgraph ending here replaced by ", by));
  }

  struct Norm {
    Tensor* x;
    AxesMask axes;
    double eps;
  };
  // `n` as (x - mean) / sqrt(mean((x - mean)^2) + eps) with every intermediate private.
  static std::optional<Norm> normalized(const Network& net, const Tensor* n) {
    Layer* op = n->producer();
    if (!op || op->kind() != LayerKind::kELEMENTWISE) return std::nullopt;
    Tensor* d = nullptr;
    Tensor* s = nullptr;
    if (op->attrs<ElementWiseAttrs>().op == ElementWiseOperation::kDIV) {
      d = op->input(0), s = op->input(1);
    } else if (op->attrs<ElementWiseAttrs>().op == ElementWiseOperation::kPROD) {
      for (int side = 0; side < 2 && !d; ++side)
        if (Layer* r = unary_of(op->input(side), UnaryOperation::kRECIP);
            r && single_use(net, op->input(side)))
          d = op->input(1 - side), s = r->input(0);
    }
    if (!d) return std::nullopt;
    Layer* sqrt = unary_of(s, UnaryOperation::kSQRT);
    if (!sqrt || !single_use(net, s)) return std::nullopt;
    Layer* add_eps = elementwise_of(sqrt->input(0), ElementWiseOperation::kSUM);
    if (!add_eps || !single_use(net, sqrt->input(0))) return std::nullopt;
    Tensor* var = nullptr;
    std::optional<double> eps;
    for (int side = 0; side < 2 && !eps; ++side)
      if ((eps = splat_value(add_eps->input(1 - side)))) var = add_eps->input(side);
    if (!eps || *eps < 0 || !single_use(net, var)) return std::nullopt;
    Layer* mean_sq = reduce_of(var, ReduceOperation::kAVG);
    if (!mean_sq) return std::nullopt;
    Layer* sq = mean_sq->input(0)->producer();
    bool squares_d =
        sq && sq->kind() == LayerKind::kELEMENTWISE && sq->input(0) == d &&
        ((sq->attrs<ElementWiseAttrs>().op == ElementWiseOperation::kPROD && sq->input(1) == d) ||
         (sq->attrs<ElementWiseAttrs>().op == ElementWiseOperation::kPOW &&
          near(splat_value(sq->input(1)), 2.0)));
    if (!squares_d || !single_use(net, sq->output(0))) return std::nullopt;
    Layer* sub = elementwise_of(d, ElementWiseOperation::kSUB);
    // d is read by the square and the normalization, nothing else.
    if (!sub || d->is_network_output() || net.consumers(d).size() != 2) return std::nullopt;
    Tensor* x = sub->input(0);
    Layer* mean = reduce_of(sub->input(1), ReduceOperation::kAVG);
    if (!mean || mean->input(0) != x || !single_use(net, sub->input(1))) return std::nullopt;
    AxesMask axes = mean->attrs<ReduceAttrs>().axes;
    if (mean_sq->attrs<ReduceAttrs>().axes != axes || axes == 0) return std::nullopt;
    if (!is_floating(x->type()) || n->dims() != x->dims()) return std::nullopt;
    return Norm{x, axes, *eps};
  }

  // `l` ends a layer norm: the normalization itself, Mul(n, gamma), or Add(Mul(n, gamma), beta).
  bool layer_norm(Network& net, Layer* l) {
    if (l->kind() != LayerKind::kELEMENTWISE) return false;
    std::optional<Norm> nm = normalized(net, l->output(0));
    Tensor* gamma = nullptr;
    Tensor* beta = nullptr;
    auto scaled = [&](Layer* mul) {  // mul = Mul(n, gamma), either order
      if (!mul || mul->attrs<ElementWiseAttrs>().op != ElementWiseOperation::kPROD) return false;
      for (int side = 0; side < 2 && !nm; ++side)
        if (single_use(net, mul->input(side)) && (nm = normalized(net, mul->input(side))))
          gamma = mul->input(1 - side);
      return nm.has_value();
    };
    if (!nm && !scaled(l)) {
      if (l->attrs<ElementWiseAttrs>().op != ElementWiseOperation::kSUM) return false;
      for (int side = 0; side < 2 && !nm; ++side) {
        Layer* mul = elementwise_of(l->input(side), ElementWiseOperation::kPROD);
        if (mul && single_use(net, l->input(side)) && scaled(mul)) beta = l->input(1 - side);
      }
      if (!nm) return false;
    }
    Tensor* x = nm->x;
    // Scale and bias must broadcast onto x without enlarging it (Normalization's rule).
    auto fits = [&](const Tensor* p) {
      if (p->type() != x->type() || p->dims().rank() != x->dims().rank()) return false;
      for (int k = 0; k < p->dims().rank(); ++k)
        if (p->dims()[k] != 1 && p->dims()[k] != x->dims()[k]) return false;
      return true;
    };
    if ((gamma && !fits(gamma)) || (beta && !fits(beta))) return false;
    if (l->output(0)->dims() != x->dims()) return false;
    // Absent scale or bias: a constant 1 or 0 of x's type.
    // Named after the root, so the text form says where they came from.
    auto filler = [&](float v, std::string_view what) {
      Dims ones = x->dims();
      for (int k = 0; k < ones.rank(); ++k) ones[k] = 1;
      std::vector<uint8_t> bytes(static_cast<size_t>(element_size(x->type())));
      store_f(x->type(), bytes.data(), 0, v);
      Layer* c = net.add_constant(ones, Weights::copy(x->type(), bytes.data(), 1));
      const std::string name = detail::cat(l->name(), "_", what);
      if (!net.find_layer(name)) c->set_name(name);
      if (!net.find_tensor(name)) c->output(0)->set_name(name);
      return c->output(0);
    };
    if (!gamma) gamma = filler(1.0f, "scale");
    if (!beta) beta = filler(0.0f, "bias");
    NormalizationAttrs a;
    a.epsilon = static_cast<float>(nm->eps);
    a.axes = nm->axes;
    std::string root = l->name();
    substitute(net, l, net.add_normalization(x, gamma, beta, a));
    replaced(root, "layer norm", "Normalization");
    return true;
  }

  // `l` is the last multiplication of x * 0.5 * (1 + erf(x / sqrt(2))).
  bool gelu(Network& net, Layer* l) {
    if (l->kind() != LayerKind::kELEMENTWISE ||
        l->attrs<ElementWiseAttrs>().op != ElementWiseOperation::kPROD)
      return false;
    // Find the (1 + erf(x / sqrt 2)) factor anywhere among the two levels of products.
    auto one_plus_erf = [&](const Tensor* t) -> Tensor* {  // returns x
      Layer* add = elementwise_of(t, ElementWiseOperation::kSUM);
      if (!add || !single_use(net, t)) return nullptr;
      for (int side = 0; side < 2; ++side) {
        if (!near(splat_value(add->input(1 - side)), 1.0)) continue;
        Layer* erf = unary_of(add->input(side), UnaryOperation::kERF);
        if (!erf || !single_use(net, erf->output(0))) continue;
        Tensor* q = erf->input(0);
        if (!single_use(net, q)) continue;
        if (Layer* div = elementwise_of(q, ElementWiseOperation::kDIV);
            div && near(splat_value(div->input(1)), std::sqrt(2.0)))
          return div->input(0);
        if (Layer* mul = elementwise_of(q, ElementWiseOperation::kPROD))
          for (int s = 0; s < 2; ++s)
            if (near(splat_value(mul->input(1 - s)), 1.0 / std::sqrt(2.0))) return mul->input(s);
      }
      return nullptr;
    };
    auto half_of = [&](const Tensor* t, const Tensor* want) {  // t == want * 0.5
      Layer* mul = elementwise_of(t, ElementWiseOperation::kPROD);
      return mul && single_use(net, t) &&
             ((mul->input(0) == want && near(splat_value(mul->input(1)), 0.5)) ||
              (mul->input(1) == want && near(splat_value(mul->input(0)), 0.5)));
    };
    Tensor* x = nullptr;
    for (int side = 0; side < 2 && !x; ++side) {
      Tensor* a = l->input(side);
      Tensor* b = l->input(1 - side);
      if (Tensor* cand = one_plus_erf(a)) {
        // (x * 0.5) * f
        if (half_of(b, cand)) x = cand;
        continue;
      }
      Layer* inner = elementwise_of(a, ElementWiseOperation::kPROD);
      if (!inner || !single_use(net, a)) continue;
      for (int s = 0; s < 2 && !x; ++s) {
        Tensor* f = inner->input(s);
        Tensor* g = inner->input(1 - s);
        Tensor* cand = one_plus_erf(f);
        if (!cand) continue;
        // x * (f * 0.5)  or  (x * f) * 0.5
        if ((b == cand && near(splat_value(g), 0.5)) || (g == cand && near(splat_value(b), 0.5)))
          x = cand;
      }
    }
    if (!x || !is_floating(x->type()) || l->output(0)->dims() != x->dims()) return false;
    std::string root = l->name();
    substitute(net, l, net.add_activation(x, ActivationType::kGELU_ERF));
    replaced(root, "GELU", "Activation kGELU_ERF");
    return true;
  }

  // `l` is Div(e, Sum(e)) with e = Exp(x - Max(x)) or Exp(x), all over one axis.
  bool softmax(Network& net, Layer* l) {
    Layer* div = elementwise_of(l->output(0), ElementWiseOperation::kDIV);
    if (!div) return false;
    Tensor* e = div->input(0);
    Layer* exp = unary_of(e, UnaryOperation::kEXP);
    Layer* sum = reduce_of(div->input(1), ReduceOperation::kSUM);
    if (!exp || !sum || sum->input(0) != e) return false;
    AxesMask axes = sum->attrs<ReduceAttrs>().axes;
    if (axes == 0 || (axes & (axes - 1)) != 0) return false;  // SoftMax takes exactly one axis
    if (e->is_network_output() || net.consumers(e).size() != 2 || !single_use(net, div->input(1)))
      return false;
    Tensor* x = exp->input(0);
    if (Layer* sub = elementwise_of(x, ElementWiseOperation::kSUB)) {
      Layer* max = reduce_of(sub->input(1), ReduceOperation::kMAX);
      if (max && max->input(0) == sub->input(0) && max->attrs<ReduceAttrs>().axes == axes &&
          single_use(net, x) && single_use(net, sub->input(1)))
        x = sub->input(0);
    }
    if (!is_floating(x->type()) || l->output(0)->dims() != x->dims()) return false;
    std::string root = l->name();
    substitute(net, l, net.add_softmax(x, axes));
    replaced(root, "softmax", "SoftMax");
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> make_recognize_patterns() {
  return std::make_unique<RecognizePatterns>();
}

}  // namespace layerkit::passes
