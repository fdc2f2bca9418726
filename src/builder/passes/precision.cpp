// The reduced-precision pass: in a weakly typed fp16/bf16 build, runs fp32 layers in that type.
#include <map>

#include "builder/passes/pass.h"
#include "builder/passes/rewrite.h"
#include "layerkit/core/error.h"

namespace layerkit::passes {
namespace {

// Kinds whose fp32 inputs are all data that may be narrowed together: parameters that must stay
// fp32 (Resize scales, Fill and quantization scales, grid coordinates) keep those kinds out.
// Reductions that sum or multiply along an axis stay fp32: their fp16 results overflow where the
// inputs do not.
bool may_reduce(const Layer& l) {
  switch (l.kind()) {
    case LayerKind::kCONVOLUTION:
    case LayerKind::kDECONVOLUTION:
    case LayerKind::kMATRIX_MULTIPLY:
    case LayerKind::kELEMENTWISE:
    case LayerKind::kUNARY:
    case LayerKind::kACTIVATION:
    case LayerKind::kSCALE:
    case LayerKind::kPOOLING:
    case LayerKind::kSHUFFLE:
    case LayerKind::kSLICE:
    case LayerKind::kCONCATENATION:
    case LayerKind::kPADDING:
    case LayerKind::kGATHER:
    case LayerKind::kSOFTMAX:
    case LayerKind::kNORMALIZATION:
    case LayerKind::kSELECT:
    case LayerKind::kPARAMETRIC_RELU:
    case LayerKind::kTOPK:
    case LayerKind::kIDENTITY:
      return true;
    case LayerKind::kREDUCE: {
      const ReduceOperation op = l.attrs<ReduceAttrs>().op;
      return op == ReduceOperation::kMAX || op == ReduceOperation::kMIN ||
             op == ReduceOperation::kAVG;
    }
    case LayerKind::kINPUT:
    case LayerKind::kCONSTANT:
    case LayerKind::kCAST:
    case LayerKind::kSCATTER:
    case LayerKind::kFILL:
    case LayerKind::kSHAPE:
    case LayerKind::kCUMULATIVE:
    case LayerKind::kRESIZE:
    case LayerKind::kGRID_SAMPLE:
    case LayerKind::kQUANTIZE:
    case LayerKind::kDEQUANTIZE:
    case LayerKind::kDYNAMIC_QUANTIZE:
    case LayerKind::kCOLLECTIVE:
    case LayerKind::kNON_ZERO:
    // Bodies are networks typed on their own (Note [Control-flow bodies]): narrowing their inputs
    // would not match the types the bodies declare.
    case LayerKind::kCONDITIONAL:
    case LayerKind::kLOOP:
      return false;
  }
  return false;
}

bool is_reduced(DataType t) {
  return t == DataType::kHALF || t == DataType::kBF16;
}

class ReducePrecision final : public Pass {
 public:
  explicit ReducePrecision(std::optional<DataType> target) : target_(target) {}
  std::string_view name() const override { return "reduce_precision"; }

 protected:
  bool rewrite(Network& net) override {
    narrowed_.clear();
    bool changed = false;
    std::vector<Layer*> order;
    for (int i = 0; i < net.num_layers(); ++i) order.push_back(net.layer(i));
    for (Layer* l : order) {
      std::optional<DataType> t = l->precision() ? l->precision() : target_;
      if (!t || *t == DataType::kFLOAT || !may_reduce(*l)) continue;
      if (!has_fp32_float_io(*l)) continue;
      changed |= narrow(net, *l, *t);
    }
    if (changed) net.sort_layers();
    return changed;
  }

 private:
  // Layers with an fp32 input and a float output (comparisons, whose bool results would flip
  // near the threshold, stay in fp32).
  static bool has_fp32_float_io(const Layer& l) {
    bool in_fp32 = false, out_float = false;
    for (const Tensor* in : l.inputs())
      if (in && in->type() == DataType::kFLOAT) in_fp32 = true;
    for (const Tensor* out : l.outputs())
      if (out->type() == DataType::kFLOAT) out_float = true;
    return in_fp32 && out_float;
  }

  // `t` in type `to`: a converted copy of a constant, the reduced tensor a Cast to fp32 came
  // from, or a new Cast (each made once per tensor and type).
  Tensor* narrowed(Network& net, Tensor* t, DataType to) {
    if (Layer* cast = producer_of(t, LayerKind::kCAST)) {
      Tensor* src = cast->input(0);
      if (src->type() == to) return src;
    }
    auto key = std::make_pair(t, to);
    if (auto it = narrowed_.find(key); it != narrowed_.end()) return it->second;
    Tensor* out = nullptr;
    if (const ConstantAttrs* c = constant_of(t); c && c->weights.type() == DataType::kFLOAT) {
      const Weights& w = c->weights;
      std::vector<uint16_t> bits(static_cast<size_t>(w.count()));
      const float* src = w.as<float>();
      for (size_t i = 0; i < bits.size(); ++i)
        bits[i] = to == DataType::kHALF ? float_to_half_bits(src[i]) : float_to_bf16_bits(src[i]);
      Layer* k = net.add_constant(t->dims(), Weights::copy(to, bits.data(), w.count()));
      out = k->output(0);
    } else {
      out = net.add_cast(t, to)->output(0);
    }
    narrowed_.emplace(key, out);
    return out;
  }

  // Replaces `l` by the same layer reading its fp32 inputs in `to`, followed by Casts of its
  // reduced outputs back to fp32 (which later narrowed layers read around). A layer whose
  // inference rejects the narrowed inputs stays as it was.
  bool narrow(Network& net, Layer& l, DataType to) {
    std::vector<Tensor*> ins;
    for (Tensor* in : l.inputs())
      ins.push_back(in && in->type() == DataType::kFLOAT ? narrowed(net, in, to) : in);
    Layer* fresh = nullptr;
    try {
      fresh = net.add_layer(l.attrs(), ins);
    } catch (const Error& e) {
      record(l.name(), detail::cat("stays float32: ", e.what()));
      return false;
    }
    if (l.precision()) fresh->set_precision(*l.precision());
    std::vector<Tensor*> back;
    for (int k = 0; k < fresh->num_outputs(); ++k) {
      Tensor* o = fresh->output(k);
      back.push_back(is_reduced(o->type()) && l.output(k)->type() == DataType::kFLOAT
                         ? net.add_cast(o, DataType::kFLOAT)->output(0)
                         : o);
    }
    for (int k = 0; k < fresh->num_outputs(); ++k)
      if (!net.can_replace_uses(l.output(k), back[static_cast<size_t>(k)])) {
        record(l.name(), "stays float32: its outputs change type");
        return false;  // (what was added is unread; dead-layer elimination removes it)
      }
    const std::string name = l.name();
    for (int k = 0; k < fresh->num_outputs(); ++k)
      net.replace_uses(l.output(k), back[static_cast<size_t>(k)]);
    // Only `l` goes now: the tensors the memo holds stay valid until the pass ends, and the
    // producers left unread are removed by dead-layer elimination afterwards.
    Layer* old = &l;
    net.remove_layers(std::span<Layer* const>(&old, 1));
    fresh->set_name(name);
    record(name, detail::cat("runs in ", data_type_name(to)));
    return true;
  }

  std::optional<DataType> target_;
  std::map<std::pair<Tensor*, DataType>, Tensor*> narrowed_;
};

}  // namespace

std::unique_ptr<Pass> make_reduce_precision(std::optional<DataType> target) {
  return std::make_unique<ReducePrecision>(target);
}

}  // namespace layerkit::passes
