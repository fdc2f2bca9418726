// Convolution fusion: a constant per-channel bias added after a Convolution or Deconvolution moves
// into its bias weights; a per-channel Scale after a Convolution (batch norm as frontends fold
// it) moves into its kernel and bias. MatrixMultiply has no bias to fold into, so it is left.
#include "builder/passes/pass.h"
#include "builder/passes/rewrite.h"
#include "core/element.h"

namespace layerkit::passes {
namespace {

// Float32 copies of weights.
std::vector<float> floats(const Weights& w) {
  std::vector<float> v(static_cast<size_t>(w.count()));
  for (int64_t i = 0; i < w.count(); ++i) v[static_cast<size_t>(i)] = load_f(w.type(), w.data(), i);
  return v;
}

// The per-output-channel values of `t` for a [N, K, ...] output: a float32 constant whose dims
// are all 1 but axis 1 (K values, or 1 broadcast to every channel). Empty when `t` is not one.
std::vector<float> per_channel(const Tensor* t, const Dims& out_dims, int64_t k_out) {
  const ConstantAttrs* c = constant_of(t);
  if (!c || c->weights.type() != DataType::kFLOAT || t->dims().rank() != out_dims.rank()) return {};
  for (int d = 0; d < t->dims().rank(); ++d)
    if (t->dims()[d] != 1 && !(d == 1 && t->dims()[d] == k_out)) return {};
  std::vector<float> v = floats(c->weights);
  if (v.size() == 1) v.assign(static_cast<size_t>(k_out), v[0]);
  return v;
}

// The conv layer producing `t` when it can take more bias: float32 data and weights, kernel and
// bias given as weights (not tensors).
Layer* foldable_conv(const Tensor* t, bool allow_deconv) {
  Layer* l = t ? t->producer() : nullptr;
  if (!l || l->num_inputs() != 1 || t->type() != DataType::kFLOAT) return nullptr;
  auto ok = [](const auto& a) {
    return a.kernel.type() == DataType::kFLOAT &&
           (a.bias.empty() || a.bias.type() == DataType::kFLOAT);
  };
  if (l->kind() == LayerKind::kCONVOLUTION) return ok(l->attrs<ConvolutionAttrs>()) ? l : nullptr;
  if (allow_deconv && l->kind() == LayerKind::kDECONVOLUTION)
    return ok(l->attrs<DeconvolutionAttrs>()) ? l : nullptr;
  return nullptr;
}

int64_t num_output_maps(const Layer* conv) {
  return conv->kind() == LayerKind::kCONVOLUTION
             ? conv->attrs<ConvolutionAttrs>().num_output_maps
             : conv->attrs<DeconvolutionAttrs>().num_output_maps;
}

class FuseConvBias final : public Pass {
 public:
  std::string_view name() const override { return "fuse_conv_bias"; }

 protected:
  bool rewrite(Network& net) override {
    bool changed = false;
    for (int i = 0; i < net.num_layers(); ++i) {
      Layer* l = net.layer(i);
      bool done = false;
      if (l->kind() == LayerKind::kELEMENTWISE &&
          l->attrs<ElementWiseAttrs>().op == ElementWiseOperation::kSUM)
        done = fold_bias(net, l);
      else if (l->kind() == LayerKind::kSCALE)
        done = fold_scale(net, l);
      if (done) {
        changed = true;
        i = -1;
      }
    }
    return changed;
  }

 private:
  bool fold_bias(Network& net, Layer* add) {
    for (int side = 0; side < 2; ++side) {
      Layer* conv = foldable_conv(add->input(side), /*allow_deconv=*/true);
      if (!conv || !single_use(net, conv->output(0))) continue;
      const Dims& out = conv->output(0)->dims();
      if (add->output(0)->dims() != out) continue;  // the bias must not broadcast the output
      int64_t k = num_output_maps(conv);
      std::vector<float> extra = per_channel(add->input(1 - side), out, k);
      if (extra.empty()) continue;
      auto fused = [&](auto attrs) {
        std::vector<float> b = attrs.bias.empty() ? std::vector<float>(static_cast<size_t>(k), 0.f)
                                                  : floats(attrs.bias);
        for (size_t c = 0; c < b.size(); ++c) b[c] += extra[c];
        attrs.bias = Weights::from_vector(DataType::kFLOAT, b);
        return net.add_layer(attrs, {conv->input(0)});
      };
      Layer* fresh = conv->kind() == LayerKind::kCONVOLUTION
                         ? fused(conv->attrs<ConvolutionAttrs>())
                         : fused(conv->attrs<DeconvolutionAttrs>());
      std::string conv_name = conv->name(), add_name = add->name();
      substitute(net, add, fresh, conv_name);
      record(add_name, detail::cat("bias addition folded into ", layer_kind_name(fresh->kind()),
                                   " '", conv_name, "'"));
      return true;
    }
    return false;
  }

  bool fold_scale(Network& net, Layer* scale) {
    const auto& s = scale->attrs<ScaleAttrs>();
    Layer* conv = foldable_conv(scale->input(0), /*allow_deconv=*/false);
    if (!conv || !single_use(net, conv->output(0))) return false;
    if (s.mode == ScaleMode::kELEMENTWISE) return false;
    if (s.mode == ScaleMode::kCHANNEL && s.channel_axis != 1) return false;
    for (const Weights* w : {&s.scale, &s.shift, &s.power})
      if (!w->empty() && w->type() != DataType::kFLOAT) return false;
    // (x * scale + shift) ^ power is affine only when power is 1.
    for (float p : floats(s.power))
      if (p != 1.0f) return false;
    ConvolutionAttrs a = conv->attrs<ConvolutionAttrs>();
    const int64_t k = a.num_output_maps;
    auto expand = [&](const Weights& w, float dflt) {
      std::vector<float> v = floats(w);
      if (v.empty()) return std::vector<float>(static_cast<size_t>(k), dflt);
      if (v.size() == 1) v.assign(static_cast<size_t>(k), v[0]);
      return v;
    };
    std::vector<float> mul = expand(s.scale, 1.0f), add = expand(s.shift, 0.0f);
    // Kernel layout [K, C/groups, spatial...]: each output channel owns a contiguous block.
    std::vector<float> kernel = floats(a.kernel);
    const size_t block = kernel.size() / static_cast<size_t>(k);
    for (size_t c = 0; c < static_cast<size_t>(k); ++c)
      for (size_t j = 0; j < block; ++j) kernel[c * block + j] *= mul[c];
    std::vector<float> bias =
        a.bias.empty() ? std::vector<float>(static_cast<size_t>(k), 0.f) : floats(a.bias);
    for (size_t c = 0; c < bias.size(); ++c) bias[c] = bias[c] * mul[c] + add[c];
    a.kernel = Weights::from_vector(DataType::kFLOAT, kernel);
    a.bias = Weights::from_vector(DataType::kFLOAT, bias);
    std::string conv_name = conv->name(), scale_name = scale->name();
    substitute(net, scale, net.add_layer(a, {conv->input(0)}), conv_name);
    record(scale_name, detail::cat("Scale folded into Convolution '", conv_name, "' weights"));
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_conv_bias() {
  return std::make_unique<FuseConvBias>();
}

}  // namespace layerkit::passes
