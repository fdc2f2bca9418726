// The ONNX importer: parsing, opset resolution, the check pass, conversion and default profiles.
#include "layerkit/onnx/importer.h"

#include <fcntl.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "layerkit/builder/evaluate.h"
#include "layerkit/core/error.h"
#include "layerkit/core/size.h"
#include "layerkit/impl/utils.h"
#include "onnx/converter.h"

namespace layerkit::onnx {
namespace detail {

// ---- NodeView ---------------------------------------------------------------------------------

NodeView::NodeView(const pb::NodeProto& node, int index, int64_t opset,
                   const std::map<std::string, std::shared_ptr<HostTensor>>* constants)
    : node_(node), index_(index), opset_(opset), constants_(constants) {
  name_ = node.name().empty() ? node.op_type() + "_" + std::to_string(index) : node.name();
}

std::string NodeView::where() const {
  return "node " + std::to_string(index_) + " '" + name_ + "' (" + node_.op_type() + ")";
}

void NodeView::fail(ErrorCode code, const std::string& message) const {
  ::layerkit::detail::throw_error(code, where() + ": " + message);
}

const HostTensor* NodeView::constant_input(int i) const {
  if (!has_input(i) || !constants_) return nullptr;
  auto it = constants_->find(node_.input(i));
  return it == constants_->end() ? nullptr : it->second.get();
}

namespace {
std::string not_constant(int i, std::string_view what, std::string_view why) {
  std::string m = "input " + std::to_string(i) + " (" + std::string(what) +
                  ") must be known when the network is built (an initializer, a Constant output, "
                  "or computed from them and static dims), but it depends on a graph input or a "
                  "dynamic dim";
  if (!why.empty()) m += ": " + std::string(why);
  return m;
}
}  // namespace

std::vector<int64_t> NodeView::ints_input(int i, std::string_view what,
                                          std::string_view why) const {
  const HostTensor* h = constant_input(i);
  if (!h) fail(ErrorCode::kUNSUPPORTED, not_constant(i, what, why));
  if (!is_integer(h->type))
    fail(ErrorCode::kINVALID_ARGUMENT, "input " + std::to_string(i) + " (" + std::string(what) +
                                           ") must be integer, got " +
                                           std::string(data_type_name(h->type)));
  return h->ints();
}

std::vector<double> NodeView::doubles_input(int i, std::string_view what,
                                            std::string_view why) const {
  const HostTensor* h = constant_input(i);
  if (!h) fail(ErrorCode::kUNSUPPORTED, not_constant(i, what, why));
  return h->doubles();
}

namespace {
template <typename T>
T only_value(const NodeView& n, const std::vector<T>& v, int i, std::string_view what) {
  if (v.size() != 1)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "input " + std::to_string(i) + " (" + std::string(what) +
                                             ") must hold one value, it holds " +
                                             std::to_string(v.size()));
  return v[0];
}
}  // namespace

int64_t NodeView::int_input(int i, std::string_view what, std::string_view why) const {
  return only_value(*this, ints_input(i, what, why), i, what);
}

double NodeView::double_input(int i, std::string_view what, std::string_view why) const {
  return only_value(*this, doubles_input(i, what, why), i, what);
}

int64_t NodeView::normalize_axis(int64_t axis, int64_t rank, std::string_view what) const {
  const int64_t lo = rank == 0 ? -1 : -rank, hi = rank == 0 ? 0 : rank - 1;
  if (axis < lo || axis > hi)
    fail(ErrorCode::kINVALID_ARGUMENT,
         std::string(what) + " is " + std::to_string(axis) + ", outside [" + std::to_string(lo) +
             ", " + std::to_string(hi) + "] for rank " + std::to_string(rank));
  return axis < 0 ? axis + std::max<int64_t>(rank, 1) : axis;
}

int64_t NodeView::axis_attr(std::string_view name, int64_t fallback, int64_t rank) const {
  return normalize_axis(attr_int(name, fallback), rank, "attribute '" + std::string(name) + "'");
}

const pb::AttributeProto* NodeView::attr(std::string_view name) const {
  for (const auto& a : node_.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

namespace {
void expect_attr_type(const NodeView& v, const pb::AttributeProto& a,
                      pb::AttributeProto::AttributeType t) {
  if (a.type() != t && a.type() != pb::AttributeProto::UNDEFINED)
    v.fail(ErrorCode::kINVALID_ARGUMENT, "attribute '" + a.name() + "' has type " +
                                             pb::AttributeProto::AttributeType_Name(a.type()) +
                                             ", expected " +
                                             pb::AttributeProto::AttributeType_Name(t));
}
}  // namespace

int64_t NodeView::attr_int(std::string_view name, int64_t fallback) const {
  const auto* a = attr(name);
  if (!a) return fallback;
  expect_attr_type(*this, *a, pb::AttributeProto::INT);
  return a->i();
}

float NodeView::attr_float(std::string_view name, float fallback) const {
  const auto* a = attr(name);
  if (!a) return fallback;
  expect_attr_type(*this, *a, pb::AttributeProto::FLOAT);
  return a->f();
}

std::string NodeView::attr_string(std::string_view name, std::string fallback) const {
  const auto* a = attr(name);
  if (!a) return fallback;
  expect_attr_type(*this, *a, pb::AttributeProto::STRING);
  return a->s();
}

std::optional<std::vector<int64_t>> NodeView::attr_ints(std::string_view name) const {
  const auto* a = attr(name);
  if (!a) return std::nullopt;
  expect_attr_type(*this, *a, pb::AttributeProto::INTS);
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::optional<std::vector<int64_t>> NodeView::attr_or_input_ints(std::string_view name,
                                                                 int input_index,
                                                                 int64_t input_since,
                                                                 std::string_view why) const {
  if (opset_ < input_since) return attr_ints(name);
  if (attr(name))
    fail(ErrorCode::kINVALID_ARGUMENT,
         "attribute '" + std::string(name) + "' was replaced by input " +
             std::to_string(input_index) + " in opset " + std::to_string(input_since) +
             "; this model uses opset " + std::to_string(opset_));
  if (!has_input(input_index)) return std::nullopt;
  return ints_input(input_index, name, why);
}

// ---- Importer ---------------------------------------------------------------------------------

class Importer {
 public:
  Importer(const pb::ModelProto& model, const ImportOptions& options, std::string base_dir)
      : model_(model), options_(options), base_dir_(std::move(base_dir)) {}

  int64_t resolve_opset();
  void collect_constants(std::vector<std::string>* warnings);
  CheckReport check();
  // Converts every node. With `notes`, records how each build-time input was resolved (see
  // CheckReport::build_time_values).
  ImportResult import(std::vector<BuildTimeValue>* notes = nullptr);
  // The node being converted (-1 before the first and after the last).
  int current_node() const { return current_node_; }

  Tensor* tensor(const NodeView& where, const std::string& name);
  void bind(const std::string& name, Tensor* t);
  Subgraph convert_subgraph(const NodeView& where, const pb::GraphProto& g,
                            const std::vector<BodyInput>& leading,
                            const std::vector<std::string>& capture_first);
  void bind_constant(const std::string& name, std::shared_ptr<HostTensor> v) {
    constants_[name] = std::move(v);
  }
  impl::ConversionContext* ctx = nullptr;

 private:
  const pb::ModelProto& model_;
  const ImportOptions& options_;
  std::string base_dir_;
  int64_t opset_ = 0;
  std::map<std::string, std::shared_ptr<HostTensor>> constants_;
  std::map<std::string, Tensor*> values_;
  std::set<const Tensor*> bound_;
  // ONNX names bound while one node converts, so a fold can undo them (see fold_outputs).
  std::vector<std::string> journal_;
  // Outputs computed at import time (Note [Import-time folding]).
  std::set<std::string> folded_;
  int current_node_ = -1;

  bool fold_outputs(const NodeContext& nc, const NetworkMark& mark);
  void convert_nodes(const pb::GraphProto& graph, impl::ConversionContext& conversion,
                     std::vector<BuildTimeValue>* notes);
  void add_graph_constants(const pb::GraphProto& graph, std::vector<std::string>* warnings);
  void note_build_time_inputs(const NodeView& view, const OpConverter& conv,
                              std::vector<BuildTimeValue>* notes) const;
};

// Note [Import-time folding]
// Exporters compute the values that ops need when the network is built (Reshape shapes, Slice
// bounds, Pad pads, Resize sizes) with small subgraphs: Shape -> Gather -> Unsqueeze -> Concat,
// ConstantOfShape -> ... -> Cast, Shape -> Slice -> Concat. After a node converts, its outputs
// become host constants when they depend only on initializers, Constant outputs, folded values
// and the Shape of tensors with static dims: either every element is a known value of the
// network (KnownValues), or the constant cone of the outputs is evaluated by the CPU reference
// kernels (layerkit/builder/evaluate.h, the machinery of the builder's fold pass). The layers the
// node added are then removed again, so a later consumer sees a constant (and a Constant layer
// only where it reads the value as a tensor). Values that depend on a dynamic dim stay tensors:
// converters that can, feed them to the layers that take run-time shape tensors.
namespace {
// Outputs larger than this stay layers: build-time values are small, and folding large tensors
// (weights) is the builder's job.
constexpr int64_t kMaxFoldElements = int64_t{1} << 16;

std::optional<HostTensor> known_host_value(const Tensor& t) {
  const KnownValues& known = t.known_values();
  if (!t.dims().is_static() || known.empty() ||
      static_cast<int64_t>(known.size()) != t.dims().volume())
    return std::nullopt;
  std::vector<int64_t> v;
  for (const auto& k : known) {
    if (!k) return std::nullopt;
    v.push_back(*k);
  }
  if (t.type() != DataType::kINT64 && t.type() != DataType::kINT32) return std::nullopt;
  HostTensor h;
  h.type = t.type();
  h.dims = t.dims();
  if (t.type() == DataType::kINT64) {
    h.weights = Weights::from_vector(DataType::kINT64, v);
  } else {
    h.weights = Weights::from_vector(DataType::kINT32, std::vector<int32_t>(v.begin(), v.end()));
  }
  return h;
}
}  // namespace

bool Importer::fold_outputs(const NodeContext& nc, const NetworkMark& mark) {
  const auto& node = nc.node();
  std::vector<std::string> names;
  std::vector<const Tensor*> outs;
  for (const auto& o : node.output()) {
    if (o.empty()) continue;
    auto it = values_.find(o);
    if (it == values_.end()) return false;  // already constant, or not produced
    names.push_back(o);
    outs.push_back(it->second);
  }
  if (outs.empty()) return false;
  for (const Tensor* t : outs)
    if (!t->dims().is_static() || t->dims().volume() > kMaxFoldElements) return false;
  std::vector<HostTensor> values;
  for (const Tensor* t : outs) {
    auto h = known_host_value(*t);
    if (!h) break;
    values.push_back(std::move(*h));
  }
  if (values.size() != outs.size()) {
    values.clear();
    // Only nodes whose inputs are all constants, or Shape-like nodes, can have a constant cone
    // that stops at this node's inputs; anything else would search the graph above it.
    bool inputs_constant = true;
    for (int i = 0; i < nc.num_inputs(); ++i)
      inputs_constant = inputs_constant && (!nc.has_input(i) || nc.constant_input(i));
    if (!inputs_constant && node.op_type() != "Shape" && node.op_type() != "Size") return false;
    std::optional<std::vector<OwnedTensor>> results;
    try {
      results = evaluate_constants(outs);
    } catch (const Error&) {
      // A kernel that fails on these values fails the same way at run time, where the user
      // expects the error; the layers stay.
      return false;
    }
    if (!results) return false;
    for (const OwnedTensor& o : *results) {
      HostTensor h;
      h.type = o.type;
      h.dims = o.dims;
      h.weights = Weights::copy(o.type, o.data.data(), o.dims.volume());
      values.push_back(std::move(h));
    }
  }
  ctx->net().rollback(mark);
  for (const std::string& name : journal_) {
    auto it = values_.find(name);
    if (it == values_.end()) continue;
    bound_.erase(it->second);
    values_.erase(it);
  }
  for (size_t k = 0; k < names.size(); ++k) {
    constants_[names[k]] = std::make_shared<HostTensor>(std::move(values[k]));
    folded_.insert(names[k]);
  }
  return true;
}

void Importer::note_build_time_inputs(const NodeView& view, const OpConverter& conv,
                                      std::vector<BuildTimeValue>* notes) const {
  if (!notes) return;
  for (int k : conv.build_time_inputs) {
    if (!view.has_input(k)) continue;
    const std::string& in = view.node().input(k);
    BuildTimeValue b;
    b.node = view.index();
    b.node_name = view.name();
    b.op_type = view.op_type();
    b.input = k;
    b.tensor = in;
    if (options_.input_values.count(in)) {
      b.source = BuildTimeSource::kBOUND;
    } else if (folded_.count(in)) {
      b.source = BuildTimeSource::kFOLDED;
    } else if (constants_.count(in)) {
      b.source = BuildTimeSource::kCONSTANT;
    } else {
      b.source = BuildTimeSource::kSHAPE_TENSOR;
    }
    notes->push_back(std::move(b));
  }
}

int64_t Importer::resolve_opset() {
  std::optional<int64_t> version;
  for (const auto& op : model_.opset_import()) {
    if (op.domain().empty() || op.domain() == "ai.onnx") {
      version = op.version();
    } else if (op.domain() != "ai.onnx.ml" && op.domain() != "ai.onnx.preview.training") {
      LK_FAIL(kUNSUPPORTED, "the model imports unknown opset domain '", op.domain(), "' (version ",
              op.version(), "); layerkit knows the default domain ('' / 'ai.onnx') only");
    }
  }
  // IR version 3 models without opset_import mean opset 1, which is below what we accept.
  if (!version)
    LK_FAIL(kUNSUPPORTED, "the model imports no opset of the default domain ('' / 'ai.onnx')");
  if (*version < kMinOpset || *version > kMaxOpset)
    LK_FAIL(kUNSUPPORTED, "the model uses default-domain opset ", *version,
            "; layerkit supports opsets ", kMinOpset, " through ", kMaxOpset,
            " (convert it with onnx.version_converter)");
  opset_ = *version;
  return opset_;
}

void Importer::collect_constants(std::vector<std::string>* warnings) {
  const auto doubles = options_.conversion.doubles;
  // Graph inputs bound at build time (see ImportOptions::input_values) are constants from here on.
  for (const auto& [name, value] : options_.input_values) {
    bool found = false;
    for (const auto& in : model_.graph().input()) found = found || in.name() == name;
    LK_CHECK(found, "ImportOptions::input_values names '", name, "', which is no graph input");
    auto h = std::make_shared<HostTensor>();
    h->type = value.type;
    h->dims = value.dims;
    const std::string what = "ImportOptions::input_values['" + name + "']";
    const int64_t count = value.dims.volume();
    LK_CHECK(static_cast<int64_t>(value.data.size()) == tensor_bytes(value.type, value.dims, what),
             "ImportOptions::input_values['", name, "'] holds ", value.data.size(),
             " bytes for dims ", value.dims.to_string());
    h->weights = Weights::copy(value.type, value.data.data(), count);
    // The value takes the input's declared type (int64 values for an int32 input, ...) and rank
    // (one value for a 0-D input).
    for (const auto& in : model_.graph().input()) {
      if (in.name() != name || !in.type().has_tensor_type()) continue;
      const auto& tt = in.type().tensor_type();
      std::optional<DataType> declared = tt.elem_type() == pb::TensorProto::DOUBLE
                                             ? std::optional<DataType>(DataType::kFLOAT)
                                             : to_data_type(tt.elem_type());
      if (declared && *declared != h->type) {
        if (*declared == DataType::kINT64 || *declared == DataType::kINT32) {
          const std::vector<int64_t> v = h->ints();
          h->weights = *declared == DataType::kINT64
                           ? Weights::from_vector(DataType::kINT64, v)
                           : Weights::from_vector(DataType::kINT32,
                                                  std::vector<int32_t>(v.begin(), v.end()));
        } else if (*declared == DataType::kFLOAT) {
          const std::vector<double> v = h->doubles();
          h->weights =
              Weights::from_vector(DataType::kFLOAT, std::vector<float>(v.begin(), v.end()));
        } else {
          LK_FAIL(kUNSUPPORTED, "ImportOptions::input_values['", name, "'] is ",
                  data_type_name(h->type), " but the input is ", data_type_name(*declared));
        }
        h->type = *declared;
      }
      if (tt.has_shape() && tt.shape().dim_size() == 0 && count == 1) h->dims = Dims{};
    }
    constants_[name] = std::move(h);
  }
  for (const auto& init : model_.graph().initializer()) {
    LK_CHECK(!init.name().empty(), "the graph has an initializer without a name");
    constants_[init.name()] =
        std::make_shared<HostTensor>(decode_tensor(init, base_dir_, doubles, warnings));
  }
  // Constant nodes with a tensor value are known to the check pass as well (zero points, axes).
  for (const auto& node : model_.graph().node()) {
    if (node.op_type() != "Constant" || node.output_size() != 1 || !node.domain().empty()) continue;
    for (const auto& a : node.attribute())
      if (a.name() == "value" && a.has_t())
        constants_[node.output(0)] =
            std::make_shared<HostTensor>(decode_tensor(a.t(), base_dir_, doubles, warnings));
  }
}

CheckReport Importer::check() {
  CheckReport report;
  report.opset = opset_;
  report.num_nodes = model_.graph().node_size();
  for (const auto& in : model_.graph().input()) {
    if (constants_.count(in.name()) && !options_.input_values.count(in.name())) continue;
    report.graph_inputs.push_back(in.name());
    auto add_input = [&](std::string reason) {
      report.unsupported.push_back({-1, in.name(), "graph input", std::move(reason)});
    };
    if (!in.type().has_tensor_type()) {
      add_input("not a tensor (sequences, maps and optionals are not supported)");
      continue;
    }
    const int32_t elem = in.type().tensor_type().elem_type();
    if (!to_data_type(elem) && elem != pb::TensorProto::DOUBLE)
      add_input("type " + onnx_type_name(elem) + " is not supported");
  }
  const Registry& reg = registry();
  for (int i = 0; i < model_.graph().node_size(); ++i) {
    const auto& node = model_.graph().node(i);
    NodeView view(node, i, opset_, &constants_);
    auto add = [&](std::string reason) {
      report.unsupported.push_back({i, view.name(), node.op_type(), std::move(reason)});
    };
    if (!node.domain().empty() && node.domain() != "ai.onnx") {
      add("op domain '" + node.domain() + "' has no converters");
      continue;
    }
    auto it = reg.find(node.op_type());
    if (it == reg.end()) {
      add("no converter for " + node.op_type());
      continue;
    }
    if (const auto* b = view.attr("broadcast"); b && b->i() != 0 && opset_ < 7) {
      add("the legacy 'broadcast' attribute (opset < 7) is not supported");
      continue;
    }
    // One entry per node, naming every build-time input that is a graph input without a bound
    // value. Values computed inside the graph are resolved while converting (Note [Import-time
    // folding]): folded to constants, fed as run-time shape tensors, or refused by the converter
    // with the reason (check_model reports that too).
    std::string missing;
    for (int k : it->second.build_time_inputs) {
      if (!view.has_input(k) || view.constant_input(k)) continue;
      const std::string& in = node.input(k);
      bool is_graph_input = false;
      for (const auto& g : model_.graph().input())
        is_graph_input = is_graph_input || g.name() == in;
      if (!is_graph_input) continue;
      if (!missing.empty()) missing += "; ";
      if (std::find(report.build_time_inputs.begin(), report.build_time_inputs.end(), in) ==
          report.build_time_inputs.end())
        report.build_time_inputs.push_back(in);
      missing += "input " + std::to_string(k) + " ('" + in +
                 "') is a graph input whose value is needed when the network is built; bind it "
                 "with ImportOptions::input_values (--inputValues)";
    }
    if (!missing.empty()) add(missing);
    if (!missing.empty() || !it->second.check) continue;
    try {
      if (auto reason = it->second.check(view)) add(*reason);
    } catch (const Error& e) {
      // Checks fail through NodeView::fail, whose message already names the node.
      std::string msg = e.what();
      const std::string prefix = view.where() + ": ";
      if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
      add(msg);
    }
  }
  return report;
}

Tensor* Importer::tensor(const NodeView& where, const std::string& name) {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  auto c = constants_.find(name);
  if (c == constants_.end())
    where.fail(
        ErrorCode::kINVALID_ARGUMENT,
        "input '" + name + "' is produced by no earlier node and is no initializer or graph input");
  Network& net = ctx->net();
  Layer* layer = net.add_constant(c->second->dims, c->second->weights);
  impl::set_layer_name(*ctx, layer, "initializer", impl::SourceIR::kONNX, name);
  // A constant read by a folded node was registered already (folding removes its layer, not its
  // registration).
  if (!ctx->weight_map().count(name)) ctx->register_weights(name, c->second->weights);
  Tensor* t = layer->output(0);
  bind(name, t);
  return t;
}

void Importer::bind(const std::string& name, Tensor* t) {
  if (!bound_.count(t) && !t->is_network_input()) {
    // The ONNX name is the best name for a fresh tensor; when another tensor holds it already
    // the building block's name stays.
    if (!ctx->net().find_tensor(name)) t->set_name(name);
  }
  bound_.insert(t);
  values_[name] = t;
  journal_.push_back(name);
}

void Importer::convert_nodes(const pb::GraphProto& graph, impl::ConversionContext& conversion,
                             std::vector<BuildTimeValue>* notes) {
  const Registry& reg = registry();
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto& node = graph.node(i);
    NodeContext nc(NodeView(node, i, opset_, &constants_), conversion, *this);
    auto found = reg.find(node.op_type());
    // The check pass ran first on the main graph; a subgraph's nodes are checked here.
    if (found == reg.end() || (!node.domain().empty() && node.domain() != "ai.onnx"))
      nc.fail(ErrorCode::kUNSUPPORTED,
              "no converter for " + node.op_type() +
                  (node.domain().empty() ? "" : " in domain " + node.domain()));
    const OpConverter& conv = found->second;
    current_node_ = i;
    const NetworkMark mark = conversion.net().mark();
    journal_.clear();
    try {
      conv.convert(nc);
    } catch (const Error& e) {
      const std::string msg = e.what();
      if (msg.rfind(nc.where(), 0) == 0) throw;
      ::layerkit::detail::throw_error(e.code(), nc.where() + ": " + msg);
    } catch (const std::bad_alloc&) {
      ::layerkit::detail::throw_error(ErrorCode::kOUT_OF_MEMORY,
                                      nc.where() + ": out of host memory while converting");
    } catch (const std::exception& e) {
      // A converter bug (an unchecked index, say) still names the node rather than escaping
      // as a foreign exception; kINTERNAL marks it as ours to fix.
      ::layerkit::detail::throw_error(ErrorCode::kINTERNAL, nc.where() + ": " + e.what());
    }
    note_build_time_inputs(nc, conv, notes);
    fold_outputs(nc, mark);
    for (int o = 0; o < node.output_size(); ++o)
      if (!node.output(o).empty() && !values_.count(node.output(o)) &&
          !constants_.count(node.output(o)))
        nc.fail(ErrorCode::kUNSUPPORTED,
                "output " + std::to_string(o) + " ('" + node.output(o) + "') is not produced");
  }
}

void Importer::add_graph_constants(const pb::GraphProto& graph,
                                   std::vector<std::string>* warnings) {
  const auto doubles = options_.conversion.doubles;
  for (const auto& init : graph.initializer()) {
    LK_CHECK(!init.name().empty(), "a graph has an initializer without a name");
    constants_[init.name()] =
        std::make_shared<HostTensor>(decode_tensor(init, base_dir_, doubles, warnings));
  }
  for (const auto& node : graph.node()) {
    if (node.op_type() != "Constant" || node.output_size() != 1 || !node.domain().empty()) continue;
    for (const auto& a : node.attribute())
      if (a.name() == "value" && a.has_t())
        constants_[node.output(0)] =
            std::make_shared<HostTensor>(decode_tensor(a.t(), base_dir_, doubles, warnings));
  }
}

namespace {
void collect_free_names(const pb::GraphProto& g, std::set<std::string>& defined_outer,
                        std::vector<std::string>& out) {
  std::set<std::string> defined;
  for (const auto& in : g.input()) defined.insert(in.name());
  for (const auto& init : g.initializer()) defined.insert(init.name());
  auto use = [&](const std::string& name) {
    if (name.empty() || defined.count(name)) return;
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  };
  for (const auto& node : g.node()) {
    for (const auto& in : node.input()) use(in);
    for (const auto& a : node.attribute()) {
      std::vector<const pb::GraphProto*> subs;
      if (a.has_g()) subs.push_back(&a.g());
      for (const auto& sg : a.graphs()) subs.push_back(&sg);
      for (const pb::GraphProto* sg : subs) {
        std::vector<std::string> inner;
        collect_free_names(*sg, defined_outer, inner);
        for (const std::string& n : inner) use(n);
      }
    }
    for (const auto& o : node.output()) defined.insert(o);
  }
  for (const auto& o : g.output()) use(o.name());
}
}  // namespace

std::vector<std::string> free_names(const pb::GraphProto& g) {
  std::set<std::string> none;
  std::vector<std::string> out;
  collect_free_names(g, none, out);
  return out;
}

Subgraph Importer::convert_subgraph(const NodeView& where, const pb::GraphProto& g,
                                    const std::vector<BodyInput>& leading,
                                    const std::vector<std::string>& capture_first) {
  Importer child(model_, options_, base_dir_);
  child.opset_ = opset_;
  child.constants_ = constants_;  // outer constants are constants inside (Note [Subgraphs])
  std::vector<std::string> warnings;
  child.add_graph_constants(g, &warnings);
  Subgraph sub;
  sub.body = std::make_shared<Network>();
  Network& body = *sub.body;
  impl::ConversionContext conversion(body, options_.conversion);
  child.ctx = &conversion;
  for (size_t i = 0; i < leading.size(); ++i) {
    const BodyInput& b = leading[i];
    const std::string name =
        b.name.empty() || body.find_tensor(b.name) ? "input_" + std::to_string(i) : b.name;
    Tensor* t = body.add_input(name, b.type, b.dims);
    if (!b.name.empty()) {
      child.values_[b.name] = t;
      child.bound_.insert(t);
    }
  }
  std::vector<std::string> names = capture_first;
  for (const std::string& n : free_names(g))
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  for (const std::string& n : names) {
    if (child.values_.count(n) || child.constants_.count(n)) continue;
    Tensor* outer = tensor(where, n);
    Tensor* in =
        body.add_input(body.find_tensor(n) ? n + "_outer" : n, outer->type(), outer->dims());
    child.values_[n] = in;
    child.bound_.insert(in);
    sub.captured.push_back(outer);
  }
  child.convert_nodes(g, conversion, nullptr);
  const pb::NodeProto no_node;
  NodeView graph_view(no_node, -1, opset_, &child.constants_);
  for (const auto& out : g.output()) sub.outputs.push_back(child.tensor(graph_view, out.name()));
  return sub;
}

ImportResult Importer::import(std::vector<BuildTimeValue>* notes) {
  ImportResult result;
  result.opset = opset_;
  result.network = std::make_unique<Network>();
  Network& net = *result.network;
  impl::ConversionContext conversion(net, options_.conversion);
  ctx = &conversion;
  const auto& graph = model_.graph();

  OptimizationProfile profile;
  for (const auto& in : graph.input()) {
    if (constants_.count(in.name())) continue;  // IR < 4 lists initializers as inputs too
    LK_CHECK(in.type().has_tensor_type(), "graph input '", in.name(),
             "' is not a tensor (sequences, maps and optionals are not supported)");
    const auto& tt = in.type().tensor_type();
    auto type = to_data_type(tt.elem_type());
    if (tt.elem_type() == pb::TensorProto::DOUBLE &&
        options_.conversion.doubles == impl::DoublePolicy::kTRUNCATE_WITH_WARNING) {
      type = DataType::kFLOAT;
      result.warnings.push_back("graph input '" + in.name() +
                                "' is float64; it becomes float32 (ConversionSettings::doubles)");
    }
    if (!type)
      LK_FAIL(kUNSUPPORTED, "graph input '", in.name(), "' has type ",
              onnx_type_name(tt.elem_type()), ", which layerkit does not support");
    LK_CHECK(tt.has_shape(), "graph input '", in.name(), "' has no shape (not even a rank)");
    LK_CHECK(tt.shape().dim_size() <= kMaxDims, "graph input '", in.name(), "' has rank ",
             tt.shape().dim_size(), "; at most ", kMaxDims, " is supported");
    Dims dims = Dims::of_rank(tt.shape().dim_size());
    Dims min = dims, opt = dims, max = dims;
    bool dynamic = false;
    for (int d = 0; d < tt.shape().dim_size(); ++d) {
      const auto& dim = tt.shape().dim(d);
      if (dim.has_dim_value() && dim.dim_value() >= 0) {
        dims[d] = min[d] = opt[d] = max[d] = dim.dim_value();
        continue;
      }
      dynamic = true;
      dims[d] = -1;
      int64_t value = options_.default_dynamic_dim;
      if (dim.has_dim_param())
        if (auto it = options_.dim_params.find(dim.dim_param()); it != options_.dim_params.end())
          value = it->second;
      min[d] = 1;
      opt[d] = max[d] = std::max<int64_t>(value, 1);
    }
    Tensor* t = net.add_input(in.name(), *type, dims);
    values_[in.name()] = t;
    bound_.insert(t);
    if (dynamic) profile.set_dimensions(in.name(), min, opt, max);
  }
  result.profiles.push_back(profile);

  convert_nodes(graph, conversion, notes);

  current_node_ = -1;
  const pb::NodeProto no_node;
  NodeView graph_view(no_node, -1, opset_, &constants_);
  for (const auto& out : graph.output()) {
    auto it = values_.find(out.name());
    Tensor* t = nullptr;
    if (it != values_.end()) {
      t = it->second;
    } else if (constants_.count(out.name())) {
      t = tensor(graph_view, out.name());
    } else {
      LK_FAIL(kINVALID_ARGUMENT, "graph output '", out.name(),
              "' is produced by no node, initializer or input (truncated or malformed model?)");
    }
    if (t->is_network_input() || t->is_network_output() || t->name() != out.name()) {
      Layer* id = net.add_identity(t);
      impl::set_layer_name(conversion, id, "output", impl::SourceIR::kONNX, out.name());
      t = id->output(0);
      if (!net.find_tensor(out.name())) t->set_name(out.name());
    }
    net.mark_output(t);
  }
  result.weights = conversion.weight_map();
  result.warnings.insert(result.warnings.end(), conversion.warnings().begin(),
                         conversion.warnings().end());
  ctx = nullptr;
  return result;
}

// ---- NodeContext ------------------------------------------------------------------------------

Tensor* NodeContext::input(int i) const {
  if (!has_input(i))
    fail(ErrorCode::kINVALID_ARGUMENT, "input " + std::to_string(i) + " is missing");
  return importer_.tensor(*this, node().input(i));
}

// Outputs the node does not list (ONNX lets a node omit trailing outputs) or lists with an empty
// name are not wanted: the converter's tensor for them is dropped, as for constant outputs.
void NodeContext::set_output(int i, Tensor* t) const {
  if (i < node().output_size() && !node().output(i).empty()) importer_.bind(node().output(i), t);
}

Subgraph NodeContext::subgraph(const pb::GraphProto& g, const std::vector<BodyInput>& leading,
                               const std::vector<std::string>& capture_first) const {
  return importer_.convert_subgraph(*this, g, leading, capture_first);
}

void NodeContext::set_constant_output(int i, std::shared_ptr<HostTensor> value) const {
  if (i < node().output_size() && !node().output(i).empty())
    importer_.bind_constant(node().output(i), std::move(value));
}

const Registry& registry() {
  static const Registry r = [] {
    Registry reg;
    register_elementwise_ops(reg);
    register_activation_ops(reg);
    register_quantize_ops(reg);
    register_select_ops(reg);
    register_cast_ops(reg);
    register_shape_ops(reg);
    register_tensor_ops(reg);
    register_conv_ops(reg);
    register_pool_ops(reg);
    register_normalization_ops(reg);
    register_matmul_ops(reg);
    register_reduce_ops(reg);
    register_resize_ops(reg);
    register_loss_ops(reg);
    register_index_ops(reg);
    register_rnn_ops(reg);
    register_control_flow_ops(reg);
    return reg;
  }();
  return r;
}

// ---- Parsing ----------------------------------------------------------------------------------

namespace {

pb::ModelProto parse(std::string_view bytes) {
  pb::ModelProto m;
  if (bytes.empty()) LK_FAIL(kINVALID_ARGUMENT, "the ONNX model is empty (0 bytes)");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    LK_FAIL(kINVALID_ARGUMENT, "not a valid ONNX model: the ModelProto cannot be parsed (",
            bytes.size(), " bytes; malformed or truncated file?)");
  LK_CHECK(m.has_graph(), "not a valid ONNX model: it has no graph (truncated file?)");
  return m;
}

// The model parsed straight from the file: no buffer of the file's bytes beside the parsed
// model (a model's weights are most of both).
pb::ModelProto parse_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    LK_FAIL(kIO, "'", path, "' is a directory, not an ONNX model file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) LK_FAIL(kIO, "cannot open ONNX model '", path, "'");
  google::protobuf::io::FileInputStream in(fd);
  in.SetCloseOnDelete(true);
  struct stat st {};
  if (::fstat(fd, &st) != 0) LK_FAIL(kIO, "cannot read ONNX model '", path, "'");
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size == 0) LK_FAIL(kINVALID_ARGUMENT, "the ONNX model is empty (0 bytes)");
  pb::ModelProto m;
  if (size > static_cast<uint64_t>(std::numeric_limits<int>::max()) ||
      !m.ParseFromZeroCopyStream(&in) || in.GetErrno() != 0)
    LK_FAIL(kINVALID_ARGUMENT, "not a valid ONNX model: the ModelProto cannot be parsed (", size,
            " bytes; malformed or truncated file?)");
  LK_CHECK(m.has_graph(), "not a valid ONNX model: it has no graph (truncated file?)");
  return m;
}

std::string dir_of(const std::string& path) {
  std::string d = std::filesystem::path(path).parent_path().string();
  return d.empty() ? "." : d;
}

}  // namespace
}  // namespace detail

std::string_view build_time_source_name(BuildTimeSource s) {
  switch (s) {
    case BuildTimeSource::kCONSTANT:
      return "constant";
    case BuildTimeSource::kFOLDED:
      return "folded";
    case BuildTimeSource::kBOUND:
      return "bound";
    case BuildTimeSource::kSHAPE_TENSOR:
      return "shape tensor";
  }
  return "?";
}

namespace {
std::string_view source_reason(BuildTimeSource s) {
  switch (s) {
    case BuildTimeSource::kCONSTANT:
      return "an initializer or Constant output";
    case BuildTimeSource::kFOLDED:
      return "computed while importing from constants and static dims";
    case BuildTimeSource::kBOUND:
      return "bound with --inputValues";
    case BuildTimeSource::kSHAPE_TENSOR:
      return "depends on a dynamic dim; evaluated on the host at run time";
  }
  return "?";
}
}  // namespace

std::string CheckReport::to_string() const {
  std::ostringstream os;
  if (ok()) {
    os << "opset " << opset << ": all " << num_nodes << " nodes supported\n";
    int64_t plain = 0;
    for (const auto& b : build_time_values) {
      if (b.source == BuildTimeSource::kCONSTANT) {
        ++plain;
        continue;
      }
      os << "  node " << b.node << " '" << b.node_name << "' (" << b.op_type << ") input "
         << b.input << " ('" << b.tensor << "'): " << build_time_source_name(b.source) << " ("
         << source_reason(b.source) << ")\n";
    }
    if (plain > 0) os << "  " << plain << " more build-time inputs are constants in the model\n";
    return os.str();
  }
  int64_t nodes = 0;
  for (const auto& u : unsupported) nodes += u.index >= 0 ? 1 : 0;
  os << "opset " << opset << ": " << nodes << " of " << num_nodes << " nodes unsupported";
  if (nodes != static_cast<int64_t>(unsupported.size()))
    os << ", " << unsupported.size() - nodes << " graph inputs unsupported";
  os << ":\n";
  for (const auto& u : unsupported) {
    if (u.index < 0)
      os << "  " << u.op_type << " '" << u.name << "': " << u.reason << "\n";
    else
      os << "  node " << u.index << " '" << u.name << "' (" << u.op_type << "): " << u.reason
         << "\n";
  }
  return os.str();
}

void ImportResult::set_input_profile(std::string_view input, const Dims& min, const Dims& opt,
                                     const Dims& max) {
  if (profiles.empty()) profiles.emplace_back();
  profiles[0].set_dimensions(input, min, opt, max);
}

BuilderConfig ImportResult::builder_config() const {
  BuilderConfig c;
  c.profiles = profiles;
  return c;
}

namespace {
ImportResult import_parsed(const detail::pb::ModelProto& model, const ImportOptions& options,
                           const std::string& base_dir) {
  detail::Importer importer(model, options, base_dir);
  importer.resolve_opset();
  std::vector<std::string> warnings;
  importer.collect_constants(&warnings);
  CheckReport report = importer.check();
  if (!report.ok()) LK_FAIL(kUNSUPPORTED, "the model has unsupported nodes; ", report.to_string());
  ImportResult r = importer.import();
  warnings.insert(warnings.end(), r.warnings.begin(), r.warnings.end());
  r.warnings = std::move(warnings);
  return r;
}

// The parsed model and the file's bytes are freed by now; their pages lie between the weights'
// buffers, in the heap rather than in mappings of their own (tensors below glibc's mmap
// threshold), so without a trim they would stay resident: a model's size again, for as long as
// the process lives.
void return_freed_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}
}  // namespace

ImportResult import_model_from_bytes(std::string_view bytes, const ImportOptions& options,
                                     const std::string& base_dir) {
  ImportResult r = import_parsed(detail::parse(bytes), options, base_dir);
  return_freed_memory();
  return r;
}

ImportResult import_model(const std::string& path, const ImportOptions& options) {
  // The file's bytes are released once parsed, before the weights are copied out of the model.
  ImportResult r;
  {
    const detail::pb::ModelProto model = detail::parse_file(path);
    r = import_parsed(model, options, detail::dir_of(path));
  }
  return_freed_memory();
  return r;
}

namespace {
// The node checks, then (when they pass) a trial conversion: it records how each build-time
// input was resolved, and a converter's refusal becomes the report entry of its node.
CheckReport check_and_convert(const detail::pb::ModelProto& model, const ImportOptions& options,
                              const std::string& base_dir) {
  detail::Importer importer(model, options, base_dir);
  importer.resolve_opset();
  importer.collect_constants(nullptr);
  CheckReport report = importer.check();
  if (!report.ok()) return report;
  try {
    importer.import(&report.build_time_values);
  } catch (const Error& e) {
    const int i = importer.current_node();
    std::string msg = e.what();
    if (i < 0) {
      report.unsupported.push_back({-1, "", "graph", msg});
      return report;
    }
    const auto& node = model.graph().node(i);
    detail::NodeView view(node, i, 0, nullptr);
    const std::string prefix = view.where() + ": ";
    if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
    report.unsupported.push_back({i, view.name(), node.op_type(), msg});
  }
  return report;
}
}  // namespace

CheckReport check_model_from_bytes(std::string_view bytes, const ImportOptions& options) {
  return check_and_convert(detail::parse(bytes), options, ".");
}

CheckReport check_model(const std::string& path, const ImportOptions& options) {
  CheckReport report;
  {
    // The file's bytes are released once parsed, as import_model does.
    const detail::pb::ModelProto model = detail::parse_file(path);
    report = check_and_convert(model, options, detail::dir_of(path));
  }
  return_freed_memory();
  return report;
}

std::vector<std::string> supported_ops() {
  std::vector<std::string> ops;
  for (const auto& [op, conv] : detail::registry()) ops.push_back(op);
  return ops;
}

}  // namespace layerkit::onnx
