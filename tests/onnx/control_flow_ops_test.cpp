// Tests of the If, Loop and Scan converters: small models built with the onnx protobuf API,
// checked against the same control flow written out with ATen.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "layerkit/onnx/importer.h"
#include "test_util.h"

namespace layerkit::onnx {
namespace {

namespace pb = ::onnx;
using lktest::expect_close;

pb::NodeProto* node(pb::GraphProto* g, const std::string& op, std::vector<std::string> in,
                    std::vector<std::string> out, const std::string& name = "") {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (auto& s : in) n->add_input(s);
  for (auto& s : out) n->add_output(s);
  return n;
}
void value(pb::ValueInfoProto* vi, const std::string& name, int32_t type,
           const std::vector<int64_t>& dims) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(type);
  auto* shape = tt->mutable_shape();
  for (int64_t d : dims) {
    auto* dim = shape->add_dim();
    if (d >= 0) dim->set_dim_value(d);
  }
}
// A subgraph with `inputs` (names only: the converters take types from the outer values) and
// `outputs`.
pb::GraphProto graph(const std::vector<std::string>& inputs,
                     const std::vector<std::string>& outputs) {
  pb::GraphProto g;
  g.set_name("body");
  for (const auto& i : inputs) g.add_input()->set_name(i);
  for (const auto& o : outputs) g.add_output()->set_name(o);
  return g;
}
void set_graph(pb::NodeProto* n, const std::string& name, const pb::GraphProto& g) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(pb::AttributeProto::GRAPH);
  *a->mutable_g() = g;
}
void set_int(pb::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(pb::AttributeProto::INT);
  a->set_i(v);
}
void set_ints(pb::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(pb::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}
pb::TensorProto* init_int64(pb::GraphProto* g, const std::string& name, int64_t v) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(pb::TensorProto::INT64);
  t->add_int64_data(v);
  return t;
}

pb::ModelProto model(int64_t opset) {
  pb::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  return m;
}

int count_kind(const Network& net, LayerKind k) {
  int n = 0;
  for (int i = 0; i < net.num_layers(); ++i) n += net.layer(i)->kind() == k;
  return n;
}

// If on a graph input; the branches read the outer x (lexical scope) and give different shapes.
pb::ModelProto if_model(bool constant_condition) {
  pb::ModelProto m = model(13);
  auto* g = m.mutable_graph();
  value(g->add_input(), "x", pb::TensorProto::FLOAT, {2, 3});
  if (constant_condition) {
    auto* t = g->add_initializer();
    t->set_name("c");
    t->set_data_type(pb::TensorProto::BOOL);
    t->add_int32_data(0);
  } else {
    value(g->add_input(), "c", pb::TensorProto::BOOL, {});
  }
  pb::GraphProto then_g = graph({}, {"t"});
  node(&then_g, "Add", {"x", "x"}, {"t"});
  pb::GraphProto else_g = graph({}, {"e"});
  auto* cat = node(&else_g, "Concat", {"x", "x"}, {"e"});
  set_int(cat, "axis", 1);
  auto* n = node(g, "If", {"c"}, {"y"}, "branch");
  set_graph(n, "then_branch", then_g);
  set_graph(n, "else_branch", else_g);
  g->add_output()->set_name("y");
  return m;
}

TEST(OnnxControlFlow, IfOnARunTimeConditionReadsOuterValues) {
  ImportResult r = import_model_from_bytes(if_model(false).SerializeAsString());
  EXPECT_EQ(count_kind(*r.network, LayerKind::kCONDITIONAL), 1) << r.network->to_string();
  EXPECT_EQ(r.network->output(0)->dims(), (Dims{2, -1}));
  lktest::Runner runner(*r.network, r.builder_config());
  at::Tensor x = lktest::random(DataType::kFLOAT, {2, 3}, 1);
  expect_close(runner.run({x, at::full({}, true, at::kBool)})[0], x + x, 1.0, "then");
  expect_close(runner.run({x, at::full({}, false, at::kBool)})[0], at::cat({x, x}, 1), 1.0, "else");
}

TEST(OnnxControlFlow, IfOnAConstantConditionInlinesTheTakenBranch) {
  ImportResult r = import_model_from_bytes(if_model(true).SerializeAsString());
  EXPECT_EQ(count_kind(*r.network, LayerKind::kCONDITIONAL), 0) << r.network->to_string();
  EXPECT_EQ(r.network->output(0)->dims(), (Dims{2, 6}));
  at::Tensor x = lktest::random(DataType::kFLOAT, {2, 3}, 2);
  expect_close(lktest::run(*r.network, {x}, r.builder_config())[0], at::cat({x, x}, 1));
}

// Loop: v = v + w (w an outer value), scan output v * i; trip count `trips` (an initializer) or
// the graph input m, and the condition iteration < stop (a graph input) when `with_condition`.
pb::ModelProto loop_model(std::optional<int64_t> trips, bool with_condition) {
  pb::ModelProto m = model(13);
  auto* g = m.mutable_graph();
  value(g->add_input(), "v0", pb::TensorProto::FLOAT, {3});
  value(g->add_input(), "w", pb::TensorProto::FLOAT, {3});
  if (trips)
    init_int64(g, "m", *trips);
  else
    value(g->add_input(), "m", pb::TensorProto::INT64, {});
  if (with_condition) value(g->add_input(), "stop", pb::TensorProto::INT64, {});
  auto* t = g->add_initializer();
  t->set_name("c0");
  t->set_data_type(pb::TensorProto::BOOL);
  t->add_int32_data(1);
  pb::GraphProto body = graph({"i", "cond_in", "v"}, {"cond_out", "v_next", "scan"});
  node(&body, "Add", {"v", "w"}, {"v_next"});
  auto* cast = node(&body, "Cast", {"i"}, {"fi"});
  set_int(cast, "to", pb::TensorProto::FLOAT);
  node(&body, "Mul", {"v_next", "fi"}, {"scan"});
  if (with_condition) {
    init_int64(&body, "one", 1);
    node(&body, "Add", {"i", "one"}, {"i1"});
    node(&body, "Less", {"i1", "stop"}, {"cond_out"});
  } else {
    node(&body, "Identity", {"cond_in"}, {"cond_out"});
  }
  auto* n = node(g, "Loop", {"m", "c0", "v0"}, {"v_final", "scans"}, "loop");
  set_graph(n, "body", body);
  g->add_output()->set_name("v_final");
  g->add_output()->set_name("scans");
  return m;
}

// The loop in ATen.
std::pair<at::Tensor, at::Tensor> loop_oracle(const at::Tensor& v0, const at::Tensor& w,
                                              int64_t trips, int64_t stop) {
  at::Tensor v = v0.clone();
  std::vector<at::Tensor> scans;
  for (int64_t i = 0; i < trips; ++i) {
    v = v + w;
    scans.push_back(v * static_cast<float>(i));
    if (!(i + 1 < stop)) break;
  }
  return {v, scans.empty() ? at::zeros({0, 3}) : at::stack(scans)};
}

TEST(OnnxControlFlow, LoopWithRunTimeTripCountAndCondition) {
  ImportResult r = import_model_from_bytes(loop_model(std::nullopt, true).SerializeAsString());
  EXPECT_EQ(count_kind(*r.network, LayerKind::kLOOP), 1) << r.network->to_string();
  lktest::Runner runner(*r.network, r.builder_config());
  at::Tensor v0 = lktest::random(DataType::kFLOAT, {3}, 3);
  at::Tensor w = lktest::random(DataType::kFLOAT, {3}, 4);
  for (int64_t trips : {0, 1, 4})
    for (int64_t stop : {1, 3, 10}) {
      SCOPED_TRACE(trips);
      SCOPED_TRACE(stop);
      auto [v, scans] = loop_oracle(v0, w, trips, stop);
      std::vector<at::Tensor> got =
          runner.run({v0, w, at::full({}, trips, at::kLong), at::full({}, stop, at::kLong)});
      expect_close(got[0], v, 1.0, "v_final");
      expect_close(got[1], scans, 1.0, "scans");
    }
}

TEST(OnnxControlFlow, SmallStaticLoopsUnrollAndLargeOnesStayLoops) {
  at::Tensor v0 = lktest::random(DataType::kFLOAT, {3}, 5);
  at::Tensor w = lktest::random(DataType::kFLOAT, {3}, 6);
  for (int64_t trips : {3, 40}) {
    SCOPED_TRACE(trips);
    ImportResult r = import_model_from_bytes(loop_model(trips, false).SerializeAsString());
    EXPECT_EQ(count_kind(*r.network, LayerKind::kLOOP), trips == 3 ? 0 : 1)
        << r.network->to_string();
    EXPECT_EQ(r.network->output(1)->dims(), (Dims{trips, 3}));
    auto [v, scans] = loop_oracle(v0, w, trips, INT64_MAX);
    std::vector<at::Tensor> got = lktest::run(*r.network, {v0, w}, r.builder_config());
    expect_close(got[0], v, 1.0, "v_final");
    expect_close(got[1], scans, 1.0, "scans");
  }
}

TEST(OnnxControlFlow, ScanRunsReversedInputsAndOutputsOnOtherAxes) {
  // Scan (opset 11): state s += x_t (a row of x [4, 2] read along axis 1, last first); the scan
  // output s * 2 stacked along axis 1, last iteration first.
  pb::ModelProto m = model(11);
  auto* g = m.mutable_graph();
  value(g->add_input(), "s0", pb::TensorProto::FLOAT, {4});
  value(g->add_input(), "x", pb::TensorProto::FLOAT, {4, 5});
  pb::GraphProto body = graph({"s", "xt"}, {"s_next", "out"});
  node(&body, "Add", {"s", "xt"}, {"s_next"});
  node(&body, "Add", {"s_next", "s_next"}, {"out"});
  auto* n = node(g, "Scan", {"s0", "x"}, {"s_final", "outs"}, "scan");
  set_graph(n, "body", body);
  set_int(n, "num_scan_inputs", 1);
  set_ints(n, "scan_input_axes", {-1});
  set_ints(n, "scan_input_directions", {1});
  set_ints(n, "scan_output_axes", {1});
  set_ints(n, "scan_output_directions", {1});
  g->add_output()->set_name("s_final");
  g->add_output()->set_name("outs");
  ImportResult r = import_model_from_bytes(m.SerializeAsString());
  at::Tensor s0 = lktest::random(DataType::kFLOAT, {4}, 7);
  at::Tensor x = lktest::random(DataType::kFLOAT, {4, 5}, 8);
  at::Tensor s = s0.clone();
  std::vector<at::Tensor> outs;
  for (int64_t t = 0; t < 5; ++t) {
    s = s + x.select(1, 4 - t);
    outs.push_back(s + s);
  }
  std::reverse(outs.begin(), outs.end());
  std::vector<at::Tensor> got = lktest::run(*r.network, {s0, x}, r.builder_config());
  expect_close(got[0], s, 1.0, "s_final");
  expect_close(got[1], at::stack(outs, 1), 1.0, "outs");
}

TEST(OnnxControlFlow, BadBodiesNameTheNode) {
  // A body that gives a carried float value back as int64.
  pb::ModelProto m = model(13);
  auto* g = m.mutable_graph();
  value(g->add_input(), "v0", pb::TensorProto::FLOAT, {3});
  init_int64(g, "m", 2);
  pb::GraphProto body = graph({"i", "cond_in", "v"}, {"cond_in_out", "v_next"});
  node(&body, "Identity", {"cond_in"}, {"cond_in_out"});
  auto* cast = node(&body, "Cast", {"v"}, {"v_next"});
  set_int(cast, "to", pb::TensorProto::INT64);
  set_graph(node(g, "Loop", {"m", "", "v0"}, {"v_final"}, "bad_loop"), "body", body);
  g->add_output()->set_name("v_final");
  lktest::expect_error(
      [&] { import_model_from_bytes(m.SerializeAsString()); },
      {"node 0 'bad_loop' (Loop)", "carried value 0 ('v') is float32", "gives back int64"});
  // An If whose condition is not a bool.
  pb::ModelProto f = if_model(false);
  value(f.mutable_graph()->mutable_input(1), "c", pb::TensorProto::FLOAT, {});
  lktest::expect_error([&] { import_model_from_bytes(f.SerializeAsString()); },
                       {"node 0 'branch' (If)", "Conditional layer",
                        "condition must be a bool tensor of one element", "float32[]"});
  // A body node without a converter is in the check report.
  pb::ModelProto u = if_model(false);
  auto* then_g = u.mutable_graph()->mutable_node(0)->mutable_attribute(0)->mutable_g();
  then_g->mutable_node(0)->set_op_type("Unique");
  CheckReport rep = check_model_from_bytes(u.SerializeAsString());
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.to_string().find("then_branch: node 0 '' (Unique): no converter for Unique"),
            std::string::npos)
      << rep.to_string();
}

}  // namespace
}  // namespace layerkit::onnx
