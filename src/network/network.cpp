// Network, Tensor and Layer: adding layers atomically, naming, cloning, text and DOT forms.
#include "layerkit/network/network.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "layerkit/core/size.h"
#include "network/infer.h"

namespace layerkit {

using detail::ValueDesc;

std::string_view layer_kind_name(LayerKind k) {
  switch (k) {
#define LK_LAYER_KIND(e, name, attrs) \
  case LayerKind::e:                  \
    return #name;
#include "layerkit/network/layer_kinds.def"
#undef LK_LAYER_KIND
  }
  return "?";
}

std::string_view layer_kind_upper_name(LayerKind k) {
  switch (k) {
#define LK_LAYER_KIND(e, name, attrs) \
  case LayerKind::e:                  \
    return std::string_view(#e).substr(1);
#include "layerkit/network/layer_kinds.def"
#undef LK_LAYER_KIND
  }
  return "?";
}

std::string describe(const Tensor& t) {
  return detail::cat(t.name(), ":", data_type_name(t.type()), t.dims().to_string());
}

// ---- Tensor ----

void Tensor::set_name(std::string_view name) {
  if (name == name_) return;
  LK_CHECK(!name.empty(), "tensor '", name_, "': a tensor name cannot be empty");
  LK_CHECK(!network_->tensor_names_.contains(name), "tensor '", name_, "': cannot rename to '",
           name, "', another tensor has that name");
  network_->tensor_names_.erase(name_);
  name_ = std::string(name);
  network_->tensor_names_.emplace(name_, this);
}

bool Tensor::is_network_input() const {
  return producer_ && producer_->kind() == LayerKind::kINPUT;
}

bool Tensor::is_network_output() const {
  const auto& outs = network_->outputs_;
  return std::find(outs.begin(), outs.end(), this) != outs.end();
}

bool Tensor::is_shape_tensor() const {
  return (type_ == DataType::kINT32 || type_ == DataType::kINT64) && dims_.rank() <= 1;
}

void Tensor::set_dynamic_range(float min, float max) {
  LK_CHECK(min <= max, "tensor '", name_, "': dynamic range min ", min, " exceeds max ", max);
  dynamic_range_ = std::make_pair(min, max);
}

// ---- Layer ----

void Layer::set_precision(DataType type) {
  LK_CHECK(type == DataType::kFLOAT || type == DataType::kHALF || type == DataType::kBF16,
           "layer '", name_, "': set_precision(", data_type_name(type),
           "): a layer computes in float32, float16 or bfloat16");
  precision_ = type;
}

void Layer::set_name(std::string_view name) {
  if (name == name_) return;
  LK_CHECK(!name.empty(), "layer '", name_, "': a layer name cannot be empty");
  LK_CHECK(!network_->layer_names_.contains(name), "layer '", name_, "': cannot rename to '", name,
           "', another layer has that name");
  network_->layer_names_.erase(name_);
  name_ = std::string(name);
  network_->layer_names_.emplace(name_, this);
}

// ---- Network ----

Network::Network() = default;
Network::~Network() = default;

bool Network::owns(const Tensor* t) const {
  return t && t->network_ == this;
}

std::string Network::fresh_name(std::string_view base, bool for_tensor) const {
  std::string name(base);
  for (int k = 1;; ++k) {
    bool taken = for_tensor ? tensor_names_.contains(name) : layer_names_.contains(name);
    if (!taken) return name;
    name = detail::cat(base, "_", k);
  }
}

Tensor* Network::add_input(std::string_view name, DataType type, const Dims& dims) {
  LK_CHECK(!name.empty(), "add_input: the input needs a name");
  LK_CHECK(!tensor_names_.contains(name), "add_input: a tensor named '", name, "' already exists");
  // Note [Size arithmetic]: an input int64 cannot size is refused by its name (inference would
  // name only the Input layer's default name).
  if (dims.is_static()) tensor_bytes(type, dims, detail::cat("add_input: input '", name, "'"));
  Layer* layer = add_layer(InputAttrs{type, dims}, {});
  Tensor* t = layer->output(0);
  t->set_name(name);
  if (!layer_names_.contains(name)) layer->set_name(name);
  inputs_.push_back(t);
  return t;
}

void Network::mark_output(Tensor* tensor) {
  LK_CHECK(owns(tensor), "mark_output: the tensor is null or belongs to another network");
  LK_CHECK(!tensor->is_network_input(), "mark_output: tensor '", tensor->name(),
           "' is a network input; add an Identity layer to output it");
  if (!tensor->is_network_output()) outputs_.push_back(tensor);
}

void Network::unmark_output(Tensor* tensor) {
  LK_CHECK(owns(tensor) && tensor->is_network_output(), "unmark_output: tensor '",
           tensor ? tensor->name() : std::string("null"), "' is not an output of this network");
  outputs_.erase(std::find(outputs_.begin(), outputs_.end(), tensor));
}

Layer* Network::add_layer(LayerAttrs attrs, std::vector<Tensor*> inputs) {
  LK_ASSERT(!std::holds_alternative<std::monostate>(attrs));
  auto kind = static_cast<LayerKind>(attrs.index());
  // Checked before a name is made: the layer is not added, so no layer name would mean anything.
  for (size_t i = 0; i < inputs.size(); ++i) {
    LK_CHECK(inputs[i] == nullptr || owns(inputs[i]), "add ", layer_kind_name(kind),
             " layer: input ", i, " ('", inputs[i]->name(),
             "') is a tensor of another network; a layer's inputs must come from the network it "
             "is added to");
  }
  std::string name = fresh_name(detail::cat(layer_kind_name(kind), "_", next_id_), false);
  // Describe the inputs; constants expose their data so inference can read small values.
  std::vector<ValueDesc> descs(inputs.size());
  std::vector<const ValueDesc*> ptrs(inputs.size(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]) continue;
    const Tensor* t = inputs[i];
    descs[i].type = t->type();
    descs[i].dims = t->dims();
    descs[i].known = t->known_values();
    if (t->producer() && t->producer()->kind() == LayerKind::kCONSTANT && !is_sub_byte(t->type()))
      descs[i].host_data = t->producer()->attrs<ConstantAttrs>().weights.data();
    ptrs[i] = &descs[i];
  }
  std::vector<ValueDesc> outs = detail::infer_layer(attrs, name, ptrs, /*runtime=*/false);

  // Nothing has changed so far; from here on nothing throws but allocation.
  auto layer = std::unique_ptr<Layer>(new Layer(this, name, std::move(attrs), std::move(inputs)));
  std::vector<std::unique_ptr<Tensor>> new_tensors;
  for (size_t i = 0; i < outs.size(); ++i) {
    auto t = std::unique_ptr<Tensor>(new Tensor());
    t->network_ = this;
    t->name_ = fresh_name(detail::cat(name, "_out", i), true);
    t->type_ = outs[i].type;
    t->dims_ = outs[i].dims;
    t->known_ = std::move(outs[i].known);
    t->producer_ = layer.get();
    t->producer_output_ = static_cast<int>(i);
    layer->outputs_.push_back(t.get());
    new_tensors.push_back(std::move(t));
  }
  layers_.reserve(layers_.size() + 1);
  tensors_.reserve(tensors_.size() + new_tensors.size());
  for (auto& t : new_tensors) {
    tensor_names_.emplace(t->name_, t.get());
    tensors_.push_back(std::move(t));
  }
  layer_names_.emplace(layer->name_, layer.get());
  layers_.push_back(std::move(layer));
  ++next_id_;
  return layers_.back().get();
}

NetworkMark Network::mark() const {
  return NetworkMark{layers_.size(), tensors_.size(), inputs_.size(), outputs_, next_id_};
}

void Network::rollback(const NetworkMark& mark) {
  LK_ASSERT(mark.num_layers <= layers_.size() && mark.num_tensors <= tensors_.size(),
            "rollback to a mark from the future");
  for (size_t i = mark.num_tensors; i < tensors_.size(); ++i)
    tensor_names_.erase(tensors_[i]->name_);
  for (size_t i = mark.num_layers; i < layers_.size(); ++i) layer_names_.erase(layers_[i]->name_);
  tensors_.resize(mark.num_tensors);
  layers_.resize(mark.num_layers);
  inputs_.resize(mark.num_inputs);
  outputs_ = mark.outputs;
  next_id_ = mark.next_id;
}

bool Network::can_replace_uses(const Tensor* from, const Tensor* to) const {
  if (!owns(from) || !owns(to) || from == to) return false;
  if (from->type() != to->type() || from->dims().rank() != to->dims().rank()) return false;
  for (int d = 0; d < from->dims().rank(); ++d)
    if (from->dims()[d] >= 0 && from->dims()[d] != to->dims()[d]) return false;
  if (from->is_network_output() && (to->is_network_input() || to->is_network_output()))
    return false;
  // `to` must not be computed from `from`, or the rewiring would make a cycle.
  std::vector<const Layer*> stack{to->producer()};
  std::set<const Layer*> seen;
  while (!stack.empty()) {
    const Layer* l = stack.back();
    stack.pop_back();
    if (!l || !seen.insert(l).second) continue;
    for (const Tensor* in : l->inputs_) {
      if (!in) continue;
      if (in == from) return false;
      stack.push_back(in->producer());
    }
  }
  return true;
}

void Network::replace_uses(Tensor* from, Tensor* to) {
  LK_ASSERT(can_replace_uses(from, to), "replace_uses: cannot replace '",
            from ? from->name() : "null", "' by '", to ? to->name() : "null", "'");
  for (auto& l : layers_)
    for (Tensor*& in : l->inputs_)
      if (in == from) in = to;
  auto it = std::find(outputs_.begin(), outputs_.end(), from);
  if (it == outputs_.end()) return;
  *it = to;
  // The output keeps its name: `to` takes it, `from` (about to become dead) gets a fresh one.
  std::string name = from->name_;
  tensor_names_.erase(name);
  from->name_ = fresh_name(detail::cat(name, "_replaced"), true);
  tensor_names_.emplace(from->name_, from);
  tensor_names_.erase(to->name_);
  to->name_ = name;
  tensor_names_.emplace(to->name_, to);
}

void Network::remove_layers(std::span<Layer* const> layers) {
  std::set<const Layer*> doomed(layers.begin(), layers.end());
  std::set<const Tensor*> dead;
  for (const Layer* l : doomed) {
    LK_ASSERT(l && l->network_ == this, "remove_layers: the layer belongs to another network");
    LK_ASSERT(l->kind() != LayerKind::kINPUT, "remove_layers: layer '", l->name_,
              "' is a network input");
    for (const Tensor* t : l->outputs_) {
      LK_ASSERT(!t->is_network_output(), "remove_layers: '", t->name_, "' is a network output");
      dead.insert(t);
    }
  }
  for (const auto& l : layers_) {
    if (doomed.contains(l.get())) continue;
    for (const Tensor* in : l->inputs_)
      LK_ASSERT(!in || !dead.contains(in), "remove_layers: layer '", l->name_, "' still reads '",
                in->name_, "'");
  }
  for (const Tensor* t : dead) tensor_names_.erase(t->name_);
  for (const Layer* l : doomed) layer_names_.erase(l->name_);
  std::erase_if(tensors_, [&](const std::unique_ptr<Tensor>& t) { return dead.contains(t.get()); });
  std::erase_if(layers_, [&](const std::unique_ptr<Layer>& l) { return doomed.contains(l.get()); });
}

void Network::sort_layers() {
  // Depth-first from each layer in the current order, emitting producers before consumers.
  std::vector<std::unique_ptr<Layer>> sorted;
  sorted.reserve(layers_.size());
  std::map<const Layer*, size_t> index;
  for (size_t i = 0; i < layers_.size(); ++i) index[layers_[i].get()] = i;
  std::vector<int> state(layers_.size(), 0);  // 0 new, 1 on the stack, 2 emitted
  for (size_t root = 0; root < layers_.size(); ++root) {
    if (state[root] == 2) continue;
    std::vector<std::pair<size_t, size_t>> stack{{root, 0}};  // layer, next input to visit
    state[root] = 1;
    while (!stack.empty()) {
      auto& [li, next] = stack.back();
      Layer* l = layers_[li].get();
      if (next < l->inputs_.size()) {
        Tensor* in = l->inputs_[next++];
        if (!in) continue;
        size_t p = index.at(in->producer_);
        LK_ASSERT(state[p] != 1, "sort_layers: the network has a cycle through '", l->name_, "'");
        if (state[p] == 0) {
          state[p] = 1;
          stack.emplace_back(p, 0);
        }
        continue;
      }
      state[li] = 2;
      sorted.push_back(std::move(layers_[li]));
      stack.pop_back();
    }
  }
  layers_ = std::move(sorted);
}

void Network::relax_tensor(Tensor* t, const Dims& dims, const KnownValues& known) {
  LK_CHECK(owns(t), "relax_tensor: the tensor is null or belongs to another network");
  const Dims& have = t->dims_;
  bool ok = dims.rank() == have.rank();
  for (int d = 0; ok && d < dims.rank(); ++d) ok = dims[d] == have[d] || dims[d] == kDynamic;
  LK_CHECK(ok, "tensor '", t->name_, "': dims ", dims.to_string(), " are not ", have.to_string(),
           " with some entries made dynamic");
  if (!known.empty()) {
    LK_CHECK(known.size() == t->known_.size(), "tensor '", t->name_, "': ", known.size(),
             " known values for the ", t->known_.size(), " tracked");
    for (size_t i = 0; i < known.size(); ++i)
      LK_CHECK(!known[i] || known[i] == t->known_[i], "tensor '", t->name_, "': value ", i,
               " is given as ", *known[i], " but inference ",
               t->known_[i] ? detail::cat("knows it as ", *t->known_[i]) : "does not know it");
  }
  t->dims_ = dims;
  t->known_ = known;
}

std::vector<Layer*> Network::consumers(const Tensor* t) const {
  std::vector<Layer*> r;
  for (const auto& l : layers_)
    if (std::find(l->inputs_.begin(), l->inputs_.end(), t) != l->inputs_.end())
      r.push_back(l.get());
  return r;
}

Tensor* Network::find_tensor(std::string_view name) const {
  auto it = tensor_names_.find(name);
  return it == tensor_names_.end() ? nullptr : it->second;
}

Layer* Network::find_layer(std::string_view name) const {
  auto it = layer_names_.find(name);
  return it == layer_names_.end() ? nullptr : it->second;
}

std::unique_ptr<Network> Network::clone() const {
  auto copy = std::make_unique<Network>();
  std::map<const Tensor*, Tensor*> map;
  for (const auto& l : layers_) {
    auto layer = std::unique_ptr<Layer>(new Layer(copy.get(), l->name_, l->attrs_, {}));
    layer->precision_ = l->precision_;
    for (Tensor* in : l->inputs_) layer->inputs_.push_back(in ? map.at(in) : nullptr);
    for (Tensor* out : l->outputs_) {
      auto t = std::unique_ptr<Tensor>(new Tensor(*out));
      t->network_ = copy.get();
      t->producer_ = layer.get();
      map[out] = t.get();
      layer->outputs_.push_back(t.get());
      copy->tensor_names_.emplace(t->name_, t.get());
      copy->tensors_.push_back(std::move(t));
    }
    copy->layer_names_.emplace(layer->name_, layer.get());
    copy->layers_.push_back(std::move(layer));
  }
  for (Tensor* t : inputs_) copy->inputs_.push_back(map.at(t));
  for (Tensor* t : outputs_) copy->outputs_.push_back(map.at(t));
  copy->next_id_ = next_id_;
  return copy;
}

std::string Network::to_string() const {
  std::ostringstream os;
  for (const auto& l : layers_) {
    detail::AttrPrinter p;
    std::visit(
        [&](const auto& a) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(a)>, std::monostate>)
            detail::print_attrs(a, p);
        },
        l->attrs_);
    os << l->name_ << ": " << layer_kind_name(l->kind()) << "[" << p.str() << "] (";
    for (size_t i = 0; i < l->inputs_.size(); ++i) {
      if (i) os << ", ";
      os << (l->inputs_[i] ? describe(*l->inputs_[i]) : std::string("-"));
    }
    os << ") -> (";
    for (size_t i = 0; i < l->outputs_.size(); ++i) {
      if (i) os << ", ";
      os << describe(*l->outputs_[i]);
    }
    os << ")\n";
    // Bodies follow their layer, indented (Note [Control-flow bodies]).
    for (const auto& [label, body] : detail::bodies_of(l->attrs_)) {
      os << "  " << label << ":\n";
      std::istringstream lines(body->to_string());
      for (std::string line; std::getline(lines, line);) os << "    " << line << "\n";
    }
  }
  os << "outputs:";
  for (const Tensor* t : outputs_) os << " " << t->name();
  os << "\n";
  return os.str();
}

namespace {
std::string dot_escape(std::string_view s) {
  std::string r;
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    r += c;
  }
  return r;
}
}  // namespace

std::string Network::to_dot() const {
  std::ostringstream os;
  os << "digraph network {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n";
  std::map<const Layer*, size_t> index;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer* l = layers_[i].get();
    index[l] = i;
    detail::AttrPrinter p;
    std::visit(
        [&](const auto& a) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(a)>, std::monostate>)
            detail::print_attrs(a, p);
        },
        l->attrs_);
    os << "  L" << i << " [label=\"" << dot_escape(l->name_) << "\\n" << layer_kind_name(l->kind());
    if (!p.str().empty()) os << "\\n" << dot_escape(p.str());
    os << "\"];\n";
  }
  for (size_t i = 0; i < layers_.size(); ++i) {
    for (const Tensor* in : layers_[i]->inputs_) {
      if (!in) continue;
      os << "  L" << index.at(in->producer()) << " -> L" << i << " [label=\""
         << dot_escape(data_type_name(in->type())) << dot_escape(in->dims().to_string())
         << "\"];\n";
    }
  }
  for (size_t k = 0; k < outputs_.size(); ++k) {
    const Tensor* t = outputs_[k];
    os << "  O" << k << " [shape=ellipse, label=\"" << dot_escape(t->name()) << "\"];\n";
    os << "  L" << index.at(t->producer()) << " -> O" << k << ";\n";
  }
  os << "}\n";
  return os.str();
}

// ---- the add_* methods: thin wrappers over add_layer ----

Layer* Network::add_constant(const Dims& dims, const Weights& weights) {
  return add_layer(ConstantAttrs{dims, weights}, {});
}
Layer* Network::add_identity(Tensor* input) {
  return add_layer(IdentityAttrs{}, {input});
}
Layer* Network::add_cast(Tensor* input, DataType to_type) {
  return add_layer(CastAttrs{to_type}, {input});
}
Layer* Network::add_elementwise(Tensor* input1, Tensor* input2, ElementWiseOperation op) {
  return add_layer(ElementWiseAttrs{op}, {input1, input2});
}
Layer* Network::add_unary(Tensor* input, UnaryOperation op) {
  return add_layer(UnaryAttrs{op}, {input});
}
Layer* Network::add_activation(Tensor* input, ActivationType type, float alpha, float beta) {
  return add_layer(ActivationAttrs{type, alpha, beta}, {input});
}
Layer* Network::add_shuffle(Tensor* input, const ShuffleAttrs& attrs, Tensor* reshape_shape) {
  std::vector<Tensor*> in{input};
  if (reshape_shape) in.push_back(reshape_shape);
  return add_layer(attrs, std::move(in));
}
Layer* Network::add_slice(Tensor* input, const Dims& start, const Dims& size, const Dims& stride,
                          SampleMode mode, const SliceInputs& t) {
  std::vector<Tensor*> in{input, t.start, t.size, t.stride, t.fill_value, t.axes};
  while (in.size() > 1 && in.back() == nullptr) in.pop_back();
  return add_layer(SliceAttrs{start, size, stride, mode}, std::move(in));
}
Layer* Network::add_concatenation(std::span<Tensor* const> inputs, int32_t axis) {
  return add_layer(ConcatenationAttrs{axis}, std::vector<Tensor*>(inputs.begin(), inputs.end()));
}
Layer* Network::add_gather(Tensor* data, Tensor* indices, int32_t axis, GatherMode mode,
                           int32_t num_elementwise_dims) {
  return add_layer(GatherAttrs{axis, mode, num_elementwise_dims}, {data, indices});
}
Layer* Network::add_scatter(Tensor* data, Tensor* indices, Tensor* updates, ScatterMode mode,
                            int32_t axis, ScatterReduction reduction) {
  return add_layer(ScatterAttrs{mode, axis, reduction}, {data, indices, updates});
}
Layer* Network::add_fill(const FillAttrs& attrs, const FillInputs& t) {
  std::vector<Tensor*> in{t.shape, t.alpha, t.beta};
  while (!in.empty() && in.back() == nullptr) in.pop_back();
  return add_layer(attrs, std::move(in));
}
Layer* Network::add_shape(Tensor* input) {
  return add_layer(ShapeAttrs{}, {input});
}
Layer* Network::add_matrix_multiply(Tensor* input0, MatrixOperation op0, Tensor* input1,
                                    MatrixOperation op1) {
  return add_layer(MatrixMultiplyAttrs{op0, op1}, {input0, input1});
}
Layer* Network::add_convolution_nd(Tensor* input, const ConvolutionAttrs& attrs, Tensor* kernel,
                                   Tensor* bias) {
  std::vector<Tensor*> in{input, kernel, bias};
  while (in.size() > 1 && in.back() == nullptr) in.pop_back();
  return add_layer(attrs, std::move(in));
}
Layer* Network::add_deconvolution_nd(Tensor* input, const DeconvolutionAttrs& attrs, Tensor* kernel,
                                     Tensor* bias) {
  std::vector<Tensor*> in{input, kernel, bias};
  while (in.size() > 1 && in.back() == nullptr) in.pop_back();
  return add_layer(attrs, std::move(in));
}
Layer* Network::add_pooling_nd(Tensor* input, const PoolingAttrs& attrs) {
  return add_layer(attrs, {input});
}
Layer* Network::add_reduce(Tensor* input, ReduceOperation op, AxesMask axes, bool keep_dims) {
  return add_layer(ReduceAttrs{op, axes, keep_dims}, {input});
}
Layer* Network::add_topk(Tensor* input, TopKOperation op, int64_t k, AxesMask axes,
                         DataType indices_type, Tensor* k_tensor) {
  std::vector<Tensor*> in{input};
  if (k_tensor) in.push_back(k_tensor);
  return add_layer(TopKAttrs{op, k, axes, indices_type}, std::move(in));
}
Layer* Network::add_cumulative(Tensor* input, CumulativeOperation op, int32_t axis, bool exclusive,
                               bool reverse) {
  return add_layer(CumulativeAttrs{op, axis, exclusive, reverse}, {input});
}
Layer* Network::add_softmax(Tensor* input, AxesMask axes) {
  return add_layer(SoftMaxAttrs{axes}, {input});
}
Layer* Network::add_resize(Tensor* input, const ResizeAttrs& attrs, Tensor* shape_or_scales) {
  std::vector<Tensor*> in{input};
  if (shape_or_scales) in.push_back(shape_or_scales);
  return add_layer(attrs, std::move(in));
}
Layer* Network::add_grid_sample(Tensor* input, Tensor* grid, const GridSampleAttrs& attrs) {
  return add_layer(attrs, {input, grid});
}
Layer* Network::add_padding_nd(Tensor* input, const Dims& pre_padding, const Dims& post_padding) {
  return add_layer(PaddingAttrs{pre_padding, post_padding}, {input});
}
Layer* Network::add_scale_nd(Tensor* input, const ScaleAttrs& attrs) {
  return add_layer(attrs, {input});
}
Layer* Network::add_normalization(Tensor* input, Tensor* scale, Tensor* bias,
                                  const NormalizationAttrs& attrs) {
  return add_layer(attrs, {input, scale, bias});
}
Layer* Network::add_select(Tensor* condition, Tensor* then_input, Tensor* else_input) {
  return add_layer(SelectAttrs{}, {condition, then_input, else_input});
}
Layer* Network::add_parametric_relu(Tensor* input, Tensor* slope) {
  return add_layer(ParametricReLUAttrs{}, {input, slope});
}
Layer* Network::add_quantize(Tensor* input, Tensor* scale, const QuantizeAttrs& attrs,
                             Tensor* zero_point) {
  std::vector<Tensor*> in{input, scale};
  if (zero_point) in.push_back(zero_point);
  return add_layer(attrs, std::move(in));
}
Layer* Network::add_dequantize(Tensor* input, Tensor* scale, const DequantizeAttrs& attrs,
                               Tensor* zero_point) {
  std::vector<Tensor*> in{input, scale};
  if (zero_point) in.push_back(zero_point);
  return add_layer(attrs, std::move(in));
}
Layer* Network::add_dynamic_quantize(Tensor* input, Tensor* global_scale,
                                     const DynamicQuantizeAttrs& attrs) {
  return add_layer(attrs, {input, global_scale});
}
Layer* Network::add_collective(Tensor* input, const CollectiveAttrs& attrs) {
  return add_layer(attrs, {input});
}
Layer* Network::add_non_zero(Tensor* input) {
  return add_layer(NonZeroAttrs{}, {input});
}
Layer* Network::add_conditional(Tensor* condition, std::shared_ptr<const Network> then_body,
                                std::shared_ptr<const Network> else_body,
                                std::span<Tensor* const> inputs) {
  std::vector<Tensor*> in{condition};
  in.insert(in.end(), inputs.begin(), inputs.end());
  return add_layer(ConditionalAttrs{std::move(then_body), std::move(else_body)}, std::move(in));
}
Layer* Network::add_loop(const LoopAttrs& attrs, Tensor* trip_limit, Tensor* condition,
                         std::span<Tensor* const> carried, std::span<Tensor* const> scan_inputs,
                         std::span<Tensor* const> invariants) {
  LK_CHECK(attrs.scan_input_axes.size() == scan_inputs.size(), "add_loop: ", scan_inputs.size(),
           " scan inputs but ", attrs.scan_input_axes.size(), " scan_input_axes");
  LoopAttrs a = attrs;
  a.num_carried = static_cast<int32_t>(carried.size());
  std::vector<Tensor*> in{trip_limit, condition};
  in.insert(in.end(), carried.begin(), carried.end());
  in.insert(in.end(), scan_inputs.begin(), scan_inputs.end());
  in.insert(in.end(), invariants.begin(), invariants.end());
  return add_layer(std::move(a), std::move(in));
}

}  // namespace layerkit
