// Converters for If, Loop and Scan (opset 9+) onto the control_flow building blocks; bodies are
// converted as subgraphs (Note [Subgraphs]).
#include <algorithm>

#include "layerkit/impl/control_flow.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {

namespace {

namespace cf = impl::control_flow;

// Loops whose trip count is known and whose trips x body layers stay within this are unrolled;
// the measurement behind it is in docs/onnx.md ("Control flow").
constexpr int64_t kMaxUnrolledLayers = 64;

const pb::GraphProto& graph_attr(const NodeView& n, std::string_view name) {
  const pb::AttributeProto* a = n.attr(name);
  if (!a || !a->has_g())
    n.fail(ErrorCode::kINVALID_ARGUMENT,
           "attribute '" + std::string(name) + "' (a graph) is missing");
  return a->g();
}

// A tensor the body may mark as an output: a body input or a value already marked gets an
// Identity first (a network output is produced by a layer and listed once).
void mark(Network& body, Tensor* t) {
  if (t->is_network_input() || t->is_network_output()) t = body.add_identity(t)->output(0);
  body.mark_output(t);
}

// Every node of `g` (and of the graphs inside it) that has no converter, as one reason.
std::optional<std::string> check_graph(const pb::GraphProto& g, std::string_view label) {
  for (int i = 0; i < g.node_size(); ++i) {
    const pb::NodeProto& node = g.node(i);
    if (!registry().count(node.op_type()) || (!node.domain().empty() && node.domain() != "ai.onnx"))
      return std::string(label) + ": node " + std::to_string(i) + " '" + node.name() + "' (" +
             node.op_type() + "): no converter for " + node.op_type();
    for (const auto& a : node.attribute())
      if (a.has_g())
        if (auto r = check_graph(a.g(), std::string(label) + "/" + node.op_type() + "." + a.name()))
          return r;
  }
  return std::nullopt;
}

bool agrees(const Dims& a, const Dims& b) {
  return a == b;
}

Dims agreement(const Dims& a, const Dims& b) {
  if (a.rank() != b.rank()) return a;
  Dims r = a;
  for (int d = 0; d < r.rank(); ++d)
    if (a[d] != b[d]) r[d] = kDynamic;
  return r;
}

void convert_if(NodeContext& n) {
  const pb::GraphProto& then_g = graph_attr(n, "then_branch");
  const pb::GraphProto& else_g = graph_attr(n, "else_branch");
  Tensor* cond = n.input(0);
  // Both branches capture the same outer values in the same order.
  std::vector<std::string> names = free_names(then_g);
  for (const std::string& s : free_names(else_g))
    if (std::find(names.begin(), names.end(), s) == names.end()) names.push_back(s);
  Subgraph t = n.subgraph(then_g, {}, names);
  Subgraph e = n.subgraph(else_g, {}, names);
  if (t.captured != e.captured)
    n.fail(ErrorCode::kINTERNAL, "the branches captured different outer values");
  if (t.outputs.size() != e.outputs.size())
    n.fail(ErrorCode::kINVALID_ARGUMENT, "then_branch has " + std::to_string(t.outputs.size()) +
                                             " outputs but else_branch has " +
                                             std::to_string(e.outputs.size()));
  for (Tensor* o : t.outputs) mark(*t.body, o);
  for (Tensor* o : e.outputs) mark(*e.body, o);
  std::vector<Tensor*> outs =
      cf::if_conditional(n.ctx(), n.op_type(), kONNX, n.name(), cond, t.body, e.body, t.captured);
  for (size_t k = 0; k < outs.size(); ++k) n.set_output(static_cast<int>(k), outs[k]);
}

void convert_loop(NodeContext& n) {
  const pb::GraphProto& g = graph_attr(n, "body");
  Tensor* m = n.optional_input(0);
  Tensor* cond = n.optional_input(1);
  std::vector<Tensor*> init;
  for (int i = 2; i < n.num_inputs(); ++i) init.push_back(n.input(i));
  const int c = static_cast<int>(init.size());
  if (g.input_size() != 2 + c)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "the body has " + std::to_string(g.input_size()) +
                                             " inputs; a Loop with " + std::to_string(c) +
                                             " carried values needs " + std::to_string(2 + c));
  if (g.output_size() < 1 + c)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "the body has " + std::to_string(g.output_size()) +
                                             " outputs; it needs at least " +
                                             std::to_string(1 + c));
  // The carried values' body dims: the initial ones, made dynamic where an iteration changes
  // them (at most one retry per dim).
  std::vector<Dims> dims;
  for (Tensor* v : init) dims.push_back(v->dims());
  for (int attempt = 0;; ++attempt) {
    std::vector<BodyInput> leading{{g.input(0).name(), DataType::kINT64, Dims{}},
                                   {g.input(1).name(), DataType::kBOOL, Dims{}}};
    for (int i = 0; i < c; ++i)
      leading.push_back({g.input(2 + i).name(), init[static_cast<size_t>(i)]->type(),
                         dims[static_cast<size_t>(i)]});
    Subgraph s = n.subgraph(g, leading);
    bool stable = true;
    for (int i = 0; i < c; ++i) {
      const Tensor* out = s.outputs[static_cast<size_t>(1 + i)];
      if (out->type() != init[static_cast<size_t>(i)]->type())
        n.fail(ErrorCode::kINVALID_ARGUMENT,
               "carried value " + std::to_string(i) + " ('" + g.input(2 + i).name() + "') is " +
                   std::string(data_type_name(init[static_cast<size_t>(i)]->type())) +
                   " but the body gives back " + std::string(data_type_name(out->type())));
      Dims agreed = agreement(dims[static_cast<size_t>(i)], out->dims());
      if (!agrees(agreed, dims[static_cast<size_t>(i)])) {
        stable = false;
        dims[static_cast<size_t>(i)] = agreed;
      }
    }
    if (!stable && attempt < 2) continue;
    // The body runs only while the condition holds, so a condition it passes through unchanged
    // is true: a constant says so, and a constant trip count then makes the count known.
    const Tensor* next = s.outputs[0];
    while (next->producer() && next->producer()->kind() == LayerKind::kIDENTITY)
      next = next->producer()->input(0);
    if (next == s.body->input(1))
      s.outputs[0] =
          s.body->add_constant(Dims{}, Weights::from_vector(std::vector<bool>{true}))->output(0);
    for (Tensor* o : s.outputs) mark(*s.body, o);
    cf::LoopInputs in;
    in.trip_limit = m;
    in.condition = cond;
    in.carried = init;
    in.invariants = s.captured;
    cf::LoopOptions opt;
    opt.max_unrolled_layers = kMaxUnrolledLayers;
    cf::LoopResult r = cf::loop(n.ctx(), n.op_type(), kONNX, n.name(), s.body, in, opt);
    int k = 0;
    for (Tensor* t : r.carried) n.set_output(k++, t);
    for (Tensor* t : r.scan_outputs) n.set_output(k++, t);
    return;
  }
}

void convert_scan(NodeContext& n) {
  const pb::GraphProto& g = graph_attr(n, "body");
  const int64_t num_scan = n.attr_int("num_scan_inputs", -1);
  const int total = n.num_inputs();
  if (num_scan < 1 || num_scan > total)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "num_scan_inputs is " + std::to_string(num_scan) +
                                             " for " + std::to_string(total) + " inputs");
  const int s = static_cast<int>(num_scan);
  const int c = total - s;
  if (g.input_size() != total)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "the body has " + std::to_string(g.input_size()) +
                                             " inputs for " + std::to_string(total) +
                                             " state and scan values");
  const int r = g.output_size() - c;
  if (r < 0)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "the body has " + std::to_string(g.output_size()) +
                                             " outputs for " + std::to_string(c) + " states");
  auto per = [&](std::string_view attr, int count) {
    std::vector<int64_t> v = n.attr_ints(attr).value_or(std::vector<int64_t>{});
    if (v.empty()) v.assign(static_cast<size_t>(count), 0);
    if (static_cast<int>(v.size()) != count)
      n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute '" + std::string(attr) + "' has " +
                                               std::to_string(v.size()) + " entries for " +
                                               std::to_string(count) + " values");
    return v;
  };
  const std::vector<int64_t> in_axes = per("scan_input_axes", s);
  const std::vector<int64_t> in_dirs = per("scan_input_directions", s);
  const std::vector<int64_t> out_axes = per("scan_output_axes", r);
  const std::vector<int64_t> out_dirs = per("scan_output_directions", r);
  std::vector<Tensor*> states, scans;
  for (int i = 0; i < c; ++i) states.push_back(n.input(i));
  for (int i = 0; i < s; ++i) scans.push_back(n.input(c + i));
  std::vector<BodyInput> leading{{"", DataType::kINT64, Dims{}}, {"", DataType::kBOOL, Dims{}}};
  for (int i = 0; i < c; ++i)
    leading.push_back({g.input(i).name(), states[static_cast<size_t>(i)]->type(),
                       states[static_cast<size_t>(i)]->dims()});
  cf::LoopOptions opt;
  for (int i = 0; i < s; ++i) {
    Tensor* x = scans[static_cast<size_t>(i)];
    const int64_t axis = n.normalize_axis(in_axes[static_cast<size_t>(i)], x->dims().rank(),
                                          "scan_input_axes entry " + std::to_string(i));
    Dims d = Dims::of_rank(x->dims().rank() - 1);
    for (int k = 0, o = 0; k < x->dims().rank(); ++k)
      if (k != axis) d[o++] = x->dims()[k];
    leading.push_back({g.input(c + i).name(), x->type(), d});
    opt.scan_input_axes.push_back(static_cast<int32_t>(axis));
    opt.scan_input_reverse.push_back(in_dirs[static_cast<size_t>(i)] != 0);
  }
  Subgraph sub = n.subgraph(g, leading);
  Network& body = *sub.body;
  body.mark_output(
      body.add_constant(Dims{}, Weights::from_vector(std::vector<bool>{true}))->output(0));
  for (Tensor* o : sub.outputs) mark(body, o);
  for (int i = 0; i < r; ++i) {
    const int rank = sub.outputs[static_cast<size_t>(c + i)]->dims().rank() + 1;
    opt.scan_output_axes.push_back(static_cast<int32_t>(n.normalize_axis(
        out_axes[static_cast<size_t>(i)], rank, "scan_output_axes entry " + std::to_string(i))));
    opt.scan_output_reverse.push_back(out_dirs[static_cast<size_t>(i)] != 0);
  }
  cf::LoopInputs in;
  in.carried = states;
  in.scan_inputs = scans;
  in.invariants = sub.captured;
  cf::LoopResult res = cf::loop(n.ctx(), n.op_type(), kONNX, n.name(), sub.body, in, opt);
  int k = 0;
  for (Tensor* t : res.carried) n.set_output(k++, t);
  for (Tensor* t : res.scan_outputs) n.set_output(k++, t);
}

std::optional<std::string> check_bodies(const NodeView& n) {
  for (const auto& a : n.node().attribute())
    if (a.has_g())
      if (auto r = check_graph(a.g(), a.name())) return r;
  return std::nullopt;
}

}  // namespace

void register_control_flow_ops(Registry& r) {
  r["If"] = {convert_if, check_bodies};
  r["Loop"] = {convert_loop, check_bodies};
  r["Scan"] = {
      convert_scan, [](const NodeView& n) -> std::optional<std::string> {
        // Opset 8's Scan has a batch axis and sequence_lens: another op.
        if (n.opset() < 9)
          return std::string("Scan before opset 9 (batch axis, sequence_lens) is not supported");
        return check_bodies(n);
      }};
}

}  // namespace layerkit::onnx::detail
