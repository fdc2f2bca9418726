// Whole-network shape inference at concrete input dims, and a profile's input dims.
#include "runtime/plan.h"

#include "layerkit/core/size.h"
#include "layerkit/network/network.h"
#include "network/infer.h"

namespace layerkit::plan {

std::map<const Tensor*, Dims> infer_network(const Network& net,
                                            const std::map<const Tensor*, Dims>& input_dims) {
  std::map<const Tensor*, detail::ValueDesc> descs;
  for (int i = 0; i < net.num_layers(); ++i) {
    const Layer* l = net.layer(i);
    if (l->kind() == LayerKind::kINPUT) {
      const Tensor* t = l->output(0);
      auto it = input_dims.find(t);
      descs[t] = detail::ValueDesc{
          t->type(), it == input_dims.end() ? t->dims() : it->second, {}, nullptr};
      // Note [Size arithmetic]: a profile shape int64 cannot size fails by the input's name.
      if (descs[t].dims.is_static())
        tensor_bytes(t->type(), descs[t].dims, "input '" + t->name() + "'");
      continue;
    }
    std::vector<const detail::ValueDesc*> ins;
    for (Tensor* t : l->inputs()) ins.push_back(t ? &descs.at(t) : nullptr);
    auto outs = detail::infer_layer(l->attrs(), l->name(), ins, /*runtime=*/false);
    for (int k = 0; k < l->num_outputs(); ++k) {
      auto& d = outs[static_cast<size_t>(k)];
      if (l->kind() == LayerKind::kCONSTANT && !is_sub_byte(d.type))
        d.host_data = l->attrs<ConstantAttrs>().weights.data();
      descs[l->output(k)] = std::move(d);
    }
  }
  std::map<const Tensor*, Dims> dims;
  for (const auto& [t, d] : descs) dims[t] = d.dims;
  return dims;
}

// Input dims of `net` at profile `p`'s min (0), opt (1) or max (2).
std::map<const Tensor*, Dims> profile_dims(const Network& net, const OptimizationProfile& p,
                                           int which) {
  std::map<const Tensor*, Dims> dims;
  for (int i = 0; i < net.num_inputs(); ++i) {
    const Tensor* t = net.input(i);
    if (t->dims().is_static()) continue;
    const ProfileDims* pd = p.dimensions(t->name());
    dims[t] = which == 0 ? pd->min : (which == 1 ? pd->opt : pd->max);
  }
  return dims;
}

}  // namespace layerkit::plan
