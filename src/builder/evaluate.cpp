// Evaluation of constant tensors (Note [Constant cones]): a copy of the layers they depend on,
// run once by a CPU executor.
#include "layerkit/builder/evaluate.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "network/infer.h"

namespace layerkit {

bool is_deterministic(const Layer& layer) {
  switch (layer.kind()) {
    case LayerKind::kINPUT:
    case LayerKind::kCOLLECTIVE:
      return false;
    case LayerKind::kFILL:
      return layer.attrs<FillAttrs>().op == FillOperation::kLINSPACE;
    case LayerKind::kCONSTANT:
    case LayerKind::kIDENTITY:
    case LayerKind::kCAST:
    case LayerKind::kELEMENTWISE:
    case LayerKind::kUNARY:
    case LayerKind::kACTIVATION:
    case LayerKind::kSHUFFLE:
    case LayerKind::kSLICE:
    case LayerKind::kCONCATENATION:
    case LayerKind::kGATHER:
    case LayerKind::kSCATTER:
    case LayerKind::kSHAPE:
    case LayerKind::kMATRIX_MULTIPLY:
    case LayerKind::kCONVOLUTION:
    case LayerKind::kDECONVOLUTION:
    case LayerKind::kPOOLING:
    case LayerKind::kREDUCE:
    case LayerKind::kTOPK:
    case LayerKind::kCUMULATIVE:
    case LayerKind::kSOFTMAX:
    case LayerKind::kRESIZE:
    case LayerKind::kGRID_SAMPLE:
    case LayerKind::kPADDING:
    case LayerKind::kSCALE:
    case LayerKind::kNORMALIZATION:
    case LayerKind::kSELECT:
    case LayerKind::kPARAMETRIC_RELU:
    case LayerKind::kQUANTIZE:
    case LayerKind::kDEQUANTIZE:
    case LayerKind::kDYNAMIC_QUANTIZE:
    case LayerKind::kNON_ZERO:
      return true;
    case LayerKind::kCONDITIONAL:
    case LayerKind::kLOOP:
      for (const auto& [label, body] : detail::bodies_of(layer.attrs()))
        for (int i = 0; i < body->num_layers(); ++i)
          if (body->layer(i)->kind() != LayerKind::kINPUT && !is_deterministic(*body->layer(i)))
            return false;
      return true;
  }
  return false;
}

namespace {
// A Shape layer whose input has static dims: a leaf of the cone.
bool is_static_shape(const Layer& l) {
  return l.kind() == LayerKind::kSHAPE && l.input(0)->dims().is_static();
}
}  // namespace

std::optional<std::vector<const Layer*>> constant_cone(std::span<const Tensor* const> tensors,
                                                       int64_t max_layers) {
  // Post-order depth-first search: each layer after the producers of its inputs (a rewritten
  // network need not list its layers in that order).
  std::set<const Layer*> seen;
  std::vector<const Layer*> order;
  std::vector<std::pair<const Layer*, size_t>> stack;  // layer, next input to visit
  auto visit = [&](const Tensor* t) {
    const Layer* l = t->producer();
    if (!l) return false;
    if (!seen.insert(l).second) return true;
    if (static_cast<int64_t>(seen.size()) > max_layers || !is_deterministic(*l)) return false;
    stack.emplace_back(l, 0);
    return true;
  };
  for (const Tensor* t : tensors) {
    if (!visit(t)) return std::nullopt;
    while (!stack.empty()) {
      auto& [l, next] = stack.back();
      const size_t num_inputs = is_static_shape(*l) ? 0 : l->inputs().size();
      if (next == num_inputs) {
        order.push_back(l);
        stack.pop_back();
        continue;
      }
      const Tensor* in = l->inputs()[next++];
      if (in && !visit(in)) return std::nullopt;
    }
  }
  return order;
}

std::optional<std::vector<OwnedTensor>> evaluate_constants(std::span<const Tensor* const> tensors,
                                                           const ConstantEvaluation& options) {
  if (tensors.empty()) return std::vector<OwnedTensor>{};
  auto cone = constant_cone(tensors, options.max_layers);
  if (!cone) return std::nullopt;
  Network tmp;
  std::map<const Tensor*, Tensor*> copies;
  for (const Layer* l : *cone) {
    if (is_static_shape(*l)) {
      const Dims& d = l->input(0)->dims();
      std::vector<int64_t> v(d.begin(), d.end());
      copies[l->output(0)] =
          tmp.add_constant(Dims{d.rank()}, Weights::from_vector(DataType::kINT64, v))->output(0);
      continue;
    }
    std::vector<Tensor*> ins;
    for (const Tensor* in : l->inputs()) ins.push_back(in ? copies.at(in) : nullptr);
    Layer* copy = tmp.add_layer(l->attrs(), ins);
    for (int k = 0; k < l->num_outputs(); ++k) copies[l->output(k)] = copy->output(k);
  }
  // A tensor asked for twice is one output of the copy, read twice.
  std::vector<Tensor*> outs;
  for (const Tensor* t : tensors) {
    Tensor* c = copies.at(t);
    if (std::find(outs.begin(), outs.end(), c) == outs.end()) {
      if (c->is_network_output()) continue;
      tmp.mark_output(c);
      outs.push_back(c);
    }
  }
  std::unique_ptr<Executor> ex = make_executor(DeviceType::kCPU, tmp, options.executor);
  std::vector<OwnedTensor> results = ex->execute({});
  std::vector<OwnedTensor> values;
  for (const Tensor* t : tensors) {
    auto at = std::find(outs.begin(), outs.end(), copies.at(t)) - outs.begin();
    values.push_back(results.at(static_cast<size_t>(at)));
  }
  return values;
}

}  // namespace layerkit
