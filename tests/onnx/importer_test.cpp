// Tests of the ONNX importer: models built with the onnx protobuf API, checked against ATen.
#include "layerkit/onnx/importer.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

#include "test_util.h"

namespace layerkit::onnx {
namespace {

namespace pb = ::onnx;
using lktest::expect_close;

// A single-graph model builder for the tests.
struct ModelBuilder {
  pb::ModelProto m;
  ModelBuilder(int64_t opset = 13) {
    m.set_ir_version(8);
    auto* op = m.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
  }
  pb::GraphProto* g() { return m.mutable_graph(); }
  void input(const std::string& name, int32_t type, const std::vector<std::string>& dims) {
    auto* vi = g()->add_input();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    auto* shape = tt->mutable_shape();
    for (const auto& d : dims) {
      auto* dim = shape->add_dim();
      if (d == "?") continue;
      if (std::isdigit(d[0]))
        dim->set_dim_value(std::stoll(d));
      else
        dim->set_dim_param(d);
    }
  }
  void output(const std::string& name) { g()->add_output()->set_name(name); }
  pb::NodeProto* node(const std::string& op, std::vector<std::string> in,
                      std::vector<std::string> out, const std::string& name = "") {
    auto* n = g()->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto& s : in) n->add_input(s);
    for (auto& s : out) n->add_output(s);
    return n;
  }
  pb::TensorProto* init(const std::string& name, const std::vector<int64_t>& dims,
                        const std::vector<float>& v) {
    auto* t = g()->add_initializer();
    t->set_name(name);
    t->set_data_type(pb::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (float f : v) t->add_float_data(f);
    return t;
  }
  std::string bytes() const { return m.SerializeAsString(); }
};

void set_int(pb::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(pb::AttributeProto::INT);
  a->set_i(v);
}

std::vector<at::Tensor> run_model(const ImportResult& r, const std::vector<at::Tensor>& in) {
  return lktest::run(*r.network, in, r.builder_config());
}

TEST(OnnxImporter, AddBroadcastsLikeAten) {
  ModelBuilder b;
  b.input("x", pb::TensorProto::FLOAT, {"2", "3"});
  b.init("w", {3}, {1.f, -2.f, 0.5f});
  b.node("Add", {"x", "w"}, {"y"}, "add0");
  b.output("y");
  ImportResult r = import_model_from_bytes(b.bytes());
  at::Tensor x = lktest::random(DataType::kFLOAT, {2, 3}, 1);
  at::Tensor w = at::tensor({1.f, -2.f, 0.5f});
  expect_close(run_model(r, {x})[0], x + w);
  // Layer names follow Note [Layer naming] with source IR onnx and the ONNX op as target.
  EXPECT_NE(r.network->to_string().find("[ELEMENTWISE]-[onnx_ops.Add]-[add0]"), std::string::npos)
      << r.network->to_string();
  EXPECT_TRUE(r.weights.count("w"));
}

TEST(OnnxImporter, UnnamedNodesAreNamedAfterOpAndIndex) {
  ModelBuilder b;
  b.input("x", pb::TensorProto::FLOAT, {"4"});
  b.node("Abs", {"x"}, {"a"});
  b.node("Neg", {"a"}, {"y"});
  b.output("y");
  ImportResult r = import_model_from_bytes(b.bytes());
  const std::string s = r.network->to_string();
  EXPECT_NE(s.find("onnx_ops.Abs]-[Abs_0]"), std::string::npos) << s;
  EXPECT_NE(s.find("onnx_ops.Neg]-[Neg_1]"), std::string::npos) << s;
  at::Tensor x = lktest::random(DataType::kFLOAT, {4}, 2);
  expect_close(run_model(r, {x})[0], -x.abs());
}

TEST(OnnxImporter, VariadicMaxAndIntegerDiv) {
  ModelBuilder b;
  b.input("a", pb::TensorProto::INT32, {"5"});
  b.input("b", pb::TensorProto::INT32, {"5"});
  b.input("c", pb::TensorProto::INT32, {"5"});
  b.node("Max", {"a", "b", "c"}, {"m"});
  b.node("Div", {"a", "c"}, {"d"});
  b.output("m");
  b.output("d");
  ImportResult r = import_model_from_bytes(b.bytes());
  at::Tensor a = lktest::random(DataType::kINT32, {5}, 3, -9, 9);
  at::Tensor bb = lktest::random(DataType::kINT32, {5}, 4, -9, 9);
  at::Tensor c = lktest::random(DataType::kINT32, {5}, 5, 1, 4);
  auto out = run_model(r, {a, bb, c});
  expect_close(out[0], at::maximum(at::maximum(a, bb), c));
  expect_close(out[1], at::div(a, c, "trunc"));
}

TEST(OnnxImporter, GatherAndGatherElementsMatchAten) {
  ModelBuilder b;
  b.input("x", pb::TensorProto::FLOAT, {"4", "3"});
  b.input("i", pb::TensorProto::INT64, {"2"});
  b.input("j", pb::TensorProto::INT64, {"4", "2"});
  set_int(b.node("Gather", {"x", "i"}, {"g"}), "axis", 1);
  set_int(b.node("GatherElements", {"x", "j"}, {"e"}), "axis", 1);
  b.output("g");
  b.output("e");
  ImportResult r = import_model_from_bytes(b.bytes());
  at::Tensor x = lktest::random(DataType::kFLOAT, {4, 3}, 6);
  at::Tensor i = at::tensor({2, 0}, at::kLong);
  at::Tensor j = lktest::random(DataType::kINT64, {4, 2}, 7, 0, 2);
  auto out = run_model(r, {x, i, j});
  expect_close(out[0], at::index_select(x, 1, i));
  expect_close(out[1], at::gather(x, 1, j));
}

TEST(OnnxImporter, SymbolicDimsGetDefaultProfile) {
  ModelBuilder b;
  b.input("x", pb::TensorProto::FLOAT, {"batch", "?", "3"});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  ImportOptions opt;
  opt.default_dynamic_dim = 4;
  opt.dim_params["batch"] = 8;
  ImportResult r = import_model_from_bytes(b.bytes(), opt);
  EXPECT_EQ(r.network->input(0)->dims(), (Dims{-1, -1, 3}));
  const ProfileDims* p = r.profiles.at(0).dimensions("x");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->min, (Dims{1, 1, 3}));
  EXPECT_EQ(p->opt, (Dims{8, 4, 3}));
  EXPECT_EQ(p->max, (Dims{8, 4, 3}));
  r.set_input_profile("x", {1, 1, 3}, {2, 5, 3}, {16, 5, 3});
  at::Tensor x = lktest::random(DataType::kFLOAT, {16, 5, 3}, 8);
  expect_close(run_model(r, {x})[0], at::relu(x));
}

TEST(OnnxImporter, CheckListsEveryUnsupportedNode) {
  ModelBuilder b;
  b.input("x", pb::TensorProto::FLOAT, {"4"});
  b.node("Frobnicate", {"x"}, {"a"}, "f1");
  b.node("Abs", {"a"}, {"b"});
  // Squeeze with the axes as a graph input: listed too (it needs --inputValues).
  b.input("axes", pb::TensorProto::INT64, {"1"});
  b.node("Squeeze", {"b", "axes"}, {"c"}, "squeeze");
  b.node("Wibble", {"c"}, {"y"});
  b.output("y");
  CheckReport rep = check_model_from_bytes(b.bytes());
  ASSERT_EQ(rep.unsupported.size(), 3u) << rep.to_string();
  EXPECT_EQ(rep.unsupported[0].index, 0);
  EXPECT_EQ(rep.unsupported[0].name, "f1");
  EXPECT_EQ(rep.unsupported[0].op_type, "Frobnicate");
  EXPECT_EQ(rep.unsupported[1].index, 2);
  EXPECT_EQ(rep.unsupported[2].name, "Wibble_3");
  try {
    import_model_from_bytes(b.bytes());
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUNSUPPORTED);
    EXPECT_NE(std::string(e.what()).find("node 3 'Wibble_3' (Wibble)"), std::string::npos);
  }
}

TEST(OnnxImporter, BadAttributeNamesNodeAndAttribute) {
  ModelBuilder b;
  b.input("x", pb::TensorProto::FLOAT, {"4", "3"});
  b.input("i", pb::TensorProto::INT64, {"2", "2"});
  set_int(b.node("Gather", {"x", "i"}, {"y"}, "g"), "axis", 5);
  b.output("y");
  try {
    import_model_from_bytes(b.bytes());
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("node 0 'g' (Gather)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'axis' is 5"), std::string::npos) << msg;
  }
}

TEST(OnnxImporter, MalformedAndTruncatedBytesGiveErrors) {
  EXPECT_THROW(import_model_from_bytes("not a model at all \x01\x02\xff"), Error);
  EXPECT_THROW(import_model_from_bytes(""), Error);
  ModelBuilder b;
  b.input("x", pb::TensorProto::FLOAT, {"4"});
  b.init("w", {4}, {1, 2, 3, 4});
  b.node("Add", {"x", "w"}, {"y"});
  b.output("y");
  const std::string full = b.bytes();
  // Every prefix either fails with an Error or (at a field boundary) imports; none crashes.
  for (size_t n = 0; n < full.size(); ++n) {
    try {
      import_model_from_bytes(std::string_view(full).substr(0, n));
    } catch (const Error&) {
    }
  }
}

TEST(OnnxImporter, UnknownDomainAndOpsetGiveErrors) {
  ModelBuilder b;
  auto* op = b.m.add_opset_import();
  op->set_domain("com.example");
  op->set_version(1);
  b.input("x", pb::TensorProto::FLOAT, {"4"});
  b.node("Abs", {"x"}, {"y"});
  b.output("y");
  try {
    import_model_from_bytes(b.bytes());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("com.example"), std::string::npos);
  }
  ModelBuilder old(kMaxOpset + 1);
  old.input("x", pb::TensorProto::FLOAT, {"4"});
  old.node("Abs", {"x"}, {"y"});
  old.output("y");
  EXPECT_THROW(import_model_from_bytes(old.bytes()), Error);
}

TEST(OnnxImporter, ExternalDataAndMissingFile) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("layerkit_onnx_ext_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::vector<float> w = {0.f, 0.f, 1.5f, -2.f, 3.f, 4.f};  // first 2 floats are padding
  std::ofstream(dir / "w.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(w.data()), w.size() * 4);
  ModelBuilder b;
  b.input("x", pb::TensorProto::FLOAT, {"4"});
  auto* t = b.g()->add_initializer();
  t->set_name("w");
  t->set_data_type(pb::TensorProto::FLOAT);
  t->add_dims(4);
  t->set_data_location(pb::TensorProto::EXTERNAL);
  auto kv = [&](const char* k, const std::string& v) {
    auto* e = t->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  kv("location", "w.bin");
  kv("offset", "8");
  kv("length", "16");
  b.node("Mul", {"x", "w"}, {"y"});
  b.output("y");
  std::ofstream(dir / "model.onnx", std::ios::binary) << b.bytes();
  ImportResult r = import_model((dir / "model.onnx").string());
  at::Tensor x = lktest::random(DataType::kFLOAT, {4}, 9);
  expect_close(run_model(r, {x})[0], x * at::tensor({1.5f, -2.f, 3.f, 4.f}));

  std::filesystem::remove(dir / "w.bin");
  try {
    import_model((dir / "model.onnx").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIO);
    EXPECT_NE(std::string(e.what()).find("w.bin"), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

// External data entries are text of the model file: a malformed count, or an offset and length
// whose sum overflows int64, is a kINVALID_ARGUMENT / kIO error naming the initializer (found by
// fuzz_onnx_import: the first escaped as std::invalid_argument, the second as std::bad_alloc).
TEST(OnnxImporter, ExternalDataMalformedEntries) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("layerkit_onnx_ext_bad_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "w.bin", std::ios::binary) << std::string(16, '\0');
  struct Case {
    std::vector<std::pair<const char*, std::string>> entries;
    ErrorCode code;
    const char* says;
  };
  const std::vector<Case> cases = {
      {{{"offset", "abc"}}, ErrorCode::kINVALID_ARGUMENT, "'offset' is 'abc'"},
      {{{"offset", "-8"}}, ErrorCode::kINVALID_ARGUMENT, "'offset' is '-8'"},
      {{{"length", "99999999999999999999"}}, ErrorCode::kINVALID_ARGUMENT, "not a byte count"},
      {{{"length", "16x"}}, ErrorCode::kINVALID_ARGUMENT, "'length' is '16x'"},
      {{{"offset", "9223372036854775000"}, {"length", "9223372036854775000"}},
       ErrorCode::kIO,
       "reaches beyond it"},
      {{{"offset", "8"}, {"length", "16"}}, ErrorCode::kIO, "reaches beyond it"},
  };
  for (const Case& c : cases) {
    ModelBuilder b;
    b.input("x", pb::TensorProto::FLOAT, {"4"});
    auto* t = b.g()->add_initializer();
    t->set_name("w");
    t->set_data_type(pb::TensorProto::FLOAT);
    t->add_dims(4);
    t->set_data_location(pb::TensorProto::EXTERNAL);
    auto* loc = t->add_external_data();
    loc->set_key("location");
    loc->set_value("w.bin");
    for (const auto& [k, v] : c.entries) {
      auto* e = t->add_external_data();
      e->set_key(k);
      e->set_value(v);
    }
    b.node("Mul", {"x", "w"}, {"y"});
    b.output("y");
    std::ofstream(dir / "model.onnx", std::ios::binary) << b.bytes();
    try {
      import_model((dir / "model.onnx").string());
      ADD_FAILURE() << c.says;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), c.code) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("'w'"), std::string::npos) << e.what();
    }
  }
  std::filesystem::remove_all(dir);
}

// Empty initializers (no values, typed or raw) decode to empty tensors; they once copied from
// the null data of an empty field, which UBSan flags (fuzz_onnx_import, on a node test model).
TEST(OnnxImporter, EmptyInitializers) {
  for (const bool raw : {false, true}) {
    ModelBuilder b;
    b.input("x", pb::TensorProto::FLOAT, {"2", "3"});
    pb::TensorProto* e = b.init("empty", {0, 3}, {});
    if (raw) e->set_raw_data("");
    b.node("Concat", {"x", "empty"}, {"y"});
    set_int(b.g()->mutable_node(0), "axis", 0);
    b.output("y");
    ImportResult r = import_model_from_bytes(b.bytes());
    ASSERT_EQ(r.weights.at("empty").count(), 0);
    at::Tensor x = lktest::random(DataType::kFLOAT, {2, 3}, 4);
    expect_close(run_model(r, {x})[0], x);
  }
}

// A node that lists fewer outputs than its op makes keeps the ones it lists (fuzz_onnx_import:
// DynamicQuantizeLinear with only y once failed an internal assertion).
TEST(OnnxImporter, OmittedTrailingOutputs) {
  auto model = [](std::vector<std::string> outputs) {
    ModelBuilder b;
    b.input("x", pb::TensorProto::FLOAT, {"2", "3"});
    b.node("DynamicQuantizeLinear", {"x"}, outputs);
    b.output("y");
    return import_model_from_bytes(b.bytes());
  };
  ImportResult all = model({"y", "y_scale", "y_zero_point"});
  ImportResult only_y = model({"y"});
  ASSERT_EQ(only_y.network->num_outputs(), 1);
  at::Tensor x = lktest::random(DataType::kFLOAT, {2, 3}, 5);
  EXPECT_TRUE(at::equal(run_model(only_y, {x})[0], run_model(all, {x})[0]));
}

// Importing fails with kINVALID_ARGUMENT naming the node and what is wrong with the operand.
void expect_invalid_quantized_rank(const ModelBuilder& b, const std::string& node,
                                   const std::string& problem) {
  try {
    import_model_from_bytes(b.bytes());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kINVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find(node), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(problem), std::string::npos) << e.what();
  }
}

// A per-channel scale whose axis the operand's rank does not have is an error naming the node
// (fuzz_onnx_import: QLinearConv / QLinearMatMul on a rank-1 operand wrote past a shape vector).
TEST(OnnxImporter, QLinearPerChannelScaleNeedsTheAxis) {
  ModelBuilder b;
  b.input("a", pb::TensorProto::UINT8, {"3"});
  b.input("bq", pb::TensorProto::UINT8, {"3", "2"});
  b.init("a_scale", {3}, {0.5f, 0.25f, 1.f});
  b.init("s", {}, {0.5f});
  auto* zp = b.g()->add_initializer();
  zp->set_name("zp");
  zp->set_data_type(pb::TensorProto::UINT8);
  zp->add_int32_data(0);
  b.node("QLinearMatMul", {"a", "a_scale", "zp", "bq", "s", "zp", "s", "zp"}, {"y"}, "qmm");
  b.output("y");
  expect_invalid_quantized_rank(b, "'qmm'", "a has rank 1, too low for a per-channel scale");
}

// The same for MatMulInteger's per-row zero point (fuzz_onnx_import: a rank-1 `a` indexed a
// shape vector at -1).
TEST(OnnxImporter, MatMulIntegerPerRowZeroPointNeedsTheAxis) {
  ModelBuilder b;
  b.input("a", pb::TensorProto::UINT8, {"3"});
  b.input("bq", pb::TensorProto::UINT8, {"3", "2"});
  auto* zp = b.g()->add_initializer();
  zp->set_name("azp");
  zp->set_data_type(pb::TensorProto::UINT8);
  zp->add_dims(3);
  for (int i = 0; i < 3; ++i) zp->add_int32_data(i);
  b.node("MatMulInteger", {"a", "bq", "azp"}, {"y"}, "mmi");
  b.output("y");
  expect_invalid_quantized_rank(b, "'mmi'", "a has rank 1, too low for a per-row zero point");
}

// Inputs that must hold one value (a window's size, TopK's K, Trilu's k, CumSum's axis) are an
// error naming the node and the count when they hold none or several (fuzz_onnx_import: an
// empty HannWindow size escaped as std::out_of_range and ended in std::terminate).
TEST(OnnxImporter, OneValueInputsHoldOneValue) {
  struct Case {
    std::string op;
    int64_t opset;
    std::vector<int64_t> values;
  };
  for (const Case& c : {Case{"HannWindow", 17, {}}, Case{"TopK", 13, {1, 2}}, Case{"Trilu", 14, {}},
                        Case{"CumSum", 14, {0, 1}}}) {
    ModelBuilder b(c.opset);
    auto* v = b.g()->add_initializer();
    v->set_name("v");
    v->set_data_type(pb::TensorProto::INT64);
    v->add_dims(static_cast<int64_t>(c.values.size()));
    for (int64_t x : c.values) v->add_int64_data(x);
    if (c.op == "HannWindow") {
      b.node(c.op, {"v"}, {"y"}, "n");
    } else {
      b.input("x", pb::TensorProto::FLOAT, {"3", "4"});
      b.node(c.op, {"x", "v"},
             c.op == "TopK" ? std::vector<std::string>{"y", "i"} : std::vector<std::string>{"y"},
             "n");
    }
    b.output("y");
    try {
      import_model_from_bytes(b.bytes());
      ADD_FAILURE() << c.op;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kINVALID_ARGUMENT) << c.op;
      const std::string want = "must hold one value, it holds " + std::to_string(c.values.size());
      EXPECT_NE(std::string(e.what()).find("'n'"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  }
}

TEST(OnnxImporter, ConstantShapeCastAndQuantize) {
  ModelBuilder b;
  b.input("x", pb::TensorProto::FLOAT, {"n", "3"});
  auto* c = b.node("Constant", {}, {"s"});
  auto* a = c->add_attribute();
  a->set_name("value_float");
  a->set_type(pb::AttributeProto::FLOAT);
  a->set_f(0.25f);
  auto* zp = b.g()->add_initializer();
  zp->set_name("zp");
  zp->set_data_type(pb::TensorProto::INT8);
  zp->add_int32_data(0);
  b.node("QuantizeLinear", {"x", "s", "zp"}, {"q"});
  b.node("DequantizeLinear", {"q", "s", "zp"}, {"dq"});
  b.node("Shape", {"x"}, {"shape"});
  auto* cast = b.node("Cast", {"x"}, {"xi"});
  set_int(cast, "to", pb::TensorProto::INT32);
  b.output("dq");
  b.output("shape");
  b.output("xi");
  ImportResult r = import_model_from_bytes(b.bytes());
  r.set_input_profile("x", {1, 3}, {2, 3}, {4, 3});
  at::Tensor x = lktest::random(DataType::kFLOAT, {2, 3}, 10, -20, 20);
  auto out = run_model(r, {x});
  expect_close(out[0], at::clamp(at::round(x / 0.25), -128, 127) * 0.25);
  expect_close(out[1], at::tensor({2, 3}, at::kLong));
  expect_close(out[2], x.to(at::kInt));
}

TEST(OnnxImporter, SupportedOpsListsConverters) {
  EXPECT_TRUE(std::find(supported_ops().begin(), supported_ops().end(), "Add") !=
              supported_ops().end());
}

void set_string(pb::NodeProto* n, const std::string& name, const std::string& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(pb::AttributeProto::STRING);
  a->set_s(v);
}

OwnedTensor int64_values(const std::vector<int64_t>& v) {
  OwnedTensor t;
  t.type = DataType::kINT64;
  t.dims = Dims{static_cast<int64_t>(v.size())};
  t.data.resize(v.size() * sizeof(int64_t));
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return t;
}

TEST(OnnxImporter, BuildTimeGraphInputsAreListedAndCanBeBound) {
  ModelBuilder b;
  b.input("x", pb::TensorProto::FLOAT, {"2", "3", "4"});
  b.input("axes", pb::TensorProto::INT64, {"1"});
  set_int(b.node("ReduceSum", {"x", "axes"}, {"y"}, "sum"), "keepdims", 0);
  b.output("y");
  CheckReport rep = check_model_from_bytes(b.bytes());
  ASSERT_EQ(rep.unsupported.size(), 1u) << rep.to_string();
  EXPECT_NE(rep.unsupported[0].reason.find("'axes') is a graph input"), std::string::npos);
  EXPECT_EQ(rep.build_time_inputs, std::vector<std::string>{"axes"});
  EXPECT_EQ(rep.graph_inputs, (std::vector<std::string>{"x", "axes"}));
  EXPECT_THROW(import_model_from_bytes(b.bytes()), Error);

  ImportOptions options;
  options.input_values["axes"] = int64_values({-2});
  EXPECT_TRUE(check_model_from_bytes(b.bytes(), options).ok());
  ImportResult r = import_model_from_bytes(b.bytes(), options);
  ASSERT_EQ(r.network->num_inputs(), 1);
  at::Tensor x = lktest::random(DataType::kFLOAT, {2, 3, 4}, 7);
  expect_close(run_model(r, {x}).at(0), x.sum(1), std::sqrt(3.0), "sum over bound axes");

  ImportOptions wrong;
  wrong.input_values["nope"] = int64_values({1});
  EXPECT_THROW(import_model_from_bytes(b.bytes(), wrong), Error);
}

TEST(OnnxImporter, GraphInputsOfUnsupportedKindsAreReported) {
  ModelBuilder b;
  b.input("x", pb::TensorProto::UINT32, {"4"});
  auto* seq = b.g()->add_input();
  seq->set_name("s");
  seq->mutable_type()->mutable_sequence_type();
  b.node("Identity", {"x"}, {"y"});
  b.output("y");
  CheckReport rep = check_model_from_bytes(b.bytes());
  ASSERT_EQ(rep.unsupported.size(), 2u) << rep.to_string();
  EXPECT_EQ(rep.unsupported[0].index, -1);
  EXPECT_NE(rep.unsupported[0].reason.find("UINT32"), std::string::npos);
  EXPECT_NE(rep.unsupported[1].reason.find("not a tensor"), std::string::npos);
  EXPECT_NE(rep.to_string().find("graph input 's'"), std::string::npos) << rep.to_string();
}

TEST(OnnxImporter, LegacyOpsetsAndBroadcastAttribute) {
  ModelBuilder ok(6);
  ok.input("x", pb::TensorProto::FLOAT, {"3"});
  ok.node("Neg", {"x"}, {"y"});
  ok.output("y");
  ImportResult r = import_model_from_bytes(ok.bytes());
  at::Tensor x = lktest::random(DataType::kFLOAT, {3}, 1);
  expect_close(run_model(r, {x}).at(0), -x, 1.0, "opset 6 Neg");

  ModelBuilder legacy(6);
  legacy.input("a", pb::TensorProto::FLOAT, {"2", "3"});
  legacy.input("b", pb::TensorProto::FLOAT, {"3"});
  set_int(legacy.node("Add", {"a", "b"}, {"y"}), "broadcast", 1);
  legacy.output("y");
  CheckReport rep = check_model_from_bytes(legacy.bytes());
  ASSERT_EQ(rep.unsupported.size(), 1u);
  EXPECT_NE(rep.unsupported[0].reason.find("legacy 'broadcast'"), std::string::npos);
}

TEST(OnnxImporter, Float64InputsBecomeFloat32WithWarning) {
  ModelBuilder b;
  b.input("x", pb::TensorProto::DOUBLE, {"3"});
  auto* c = b.node("Cast", {"x"}, {"y"});
  set_int(c, "to", pb::TensorProto::DOUBLE);
  b.output("y");
  ImportResult r = import_model_from_bytes(b.bytes());
  EXPECT_EQ(r.network->input(0)->type(), DataType::kFLOAT);
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings[0].find("float64"), std::string::npos);
  ImportOptions reject;
  reject.conversion.doubles = impl::DoublePolicy::kREJECT;
  EXPECT_THROW(import_model_from_bytes(b.bytes(), reject), Error);
}

TEST(OnnxImporter, ConverterErrorsNameNodeAndValue) {
  struct Case {
    std::string op;
    std::function<void(pb::NodeProto*)> attrs;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {"Conv", [](pb::NodeProto* n) { set_string(n, "auto_pad", "SIDEWAYS"); },
       "attribute 'auto_pad' is 'SIDEWAYS'"},
      {"Flatten", [](pb::NodeProto* n) { set_int(n, "axis", 9); }, "attribute 'axis' is 9"},
      {"Softmax", [](pb::NodeProto* n) { set_int(n, "axis", -7); }, "attribute 'axis' is -7"},
      {"DepthToSpace", [](pb::NodeProto* n) { set_int(n, "blocksize", 0); },
       "attribute 'blocksize' is 0"},
      {"Resize", [](pb::NodeProto* n) { set_int(n, "antialias", 1); }, "antialias=1"},
  };
  for (const auto& c : cases) {
    ModelBuilder b;
    b.input("x", pb::TensorProto::FLOAT, {"1", "4", "4", "4"});
    b.init("w", {2, 4, 3, 3}, std::vector<float>(72, 0.5f));
    b.init("scales", {4}, {1, 1, 2, 2});
    std::vector<std::string> in{"x"};
    if (c.op == "Conv") in.push_back("w");
    if (c.op == "Resize") in = {"x", "", "scales"};
    auto* n = b.node(c.op, in, {"y"}, "bad");
    c.attrs(n);
    b.output("y");
    try {
      import_model_from_bytes(b.bytes());
      ADD_FAILURE() << c.op << ": expected an Error";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("node 0 'bad' (" + c.op + ")"), std::string::npos) << msg;
      EXPECT_NE(msg.find(c.fragment), std::string::npos) << msg;
    }
  }
}

TEST(OnnxImporter, SliceReshapeAndSoftmaxFollowOnnxRules) {
  ModelBuilder b(11);
  b.input("x", pb::TensorProto::FLOAT, {"3", "4", "5"});
  auto ints = [&](const std::string& name, const std::vector<int64_t>& v) {
    auto* t = b.g()->add_initializer();
    t->set_name(name);
    t->set_data_type(pb::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(v.size()));
    for (int64_t x : v) t->add_int64_data(x);
  };
  // x[:, ::-2, 1:] with an end far past the dim, clamped as ONNX does.
  ints("starts", {-1, 1});
  ints("ends", {-1000, 1000});
  ints("axes", {1, 2});
  ints("steps", {-2, 1});
  b.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"s"});
  ints("shape", {0, -1});
  b.node("Reshape", {"s", "shape"}, {"r"});
  // Opset 11 Softmax coerces to 2-D at axis 1.
  b.node("Softmax", {"x"}, {"p"});
  b.output("r");
  b.output("p");
  ImportResult r = import_model_from_bytes(b.bytes());
  at::Tensor x = lktest::random(DataType::kFLOAT, {3, 4, 5}, 3);
  auto out = run_model(r, {x});
  at::Tensor want_s = x.index_select(1, at::tensor({3, 1}, at::kLong)).slice(2, 1);
  expect_close(out.at(0), want_s.reshape({3, -1}), 1.0, "slice + reshape");
  expect_close(out.at(1), at::softmax(x.reshape({3, 20}), 1).reshape({3, 4, 5}), 1.0,
               "softmax opset 11");
}

// Negative steps over dynamic dims (torch.flip exported with dynamic axes is Slice -1 to
// INT64_MIN step -1): the bounds are clamped on the run-time dim, as ONNX clamps them.
TEST(OnnxImporter, NegativeStepSliceOfDynamicDims) {
  ModelBuilder b(13);
  b.input("x", pb::TensorProto::FLOAT, {"n", "h", "w"});
  auto ints = [&](const std::string& name, const std::vector<int64_t>& v) {
    auto* t = b.g()->add_initializer();
    t->set_name(name);
    t->set_data_type(pb::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(v.size()));
    for (int64_t x : v) t->add_int64_data(x);
  };
  // x[:, ::-1, 5::-2]: a start past a short dim is clamped to its last index.
  ints("starts", {-1, 5});
  ints("ends", {std::numeric_limits<int64_t>::min(), -100});
  ints("axes", {1, 2});
  ints("steps", {-1, -2});
  b.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"});
  b.output("y");
  ImportResult r = import_model_from_bytes(b.bytes());
  r.set_input_profile("x", {1, 1, 1}, {2, 3, 4}, {4, 8, 9});
  for (const std::vector<int64_t>& dims : {std::vector<int64_t>{2, 3, 4}, {1, 8, 9}, {3, 1, 1}}) {
    at::Tensor x = lktest::random(DataType::kFLOAT, dims, 7);
    const int64_t start = std::min<int64_t>(5, dims[2] - 1);
    at::Tensor want = x.flip(1).index_select(2, at::arange(start, -1, -2, at::kLong));
    expect_close(run_model(r, {x}).at(0), want, 1.0, "negative-step slice");
  }
}

// Note [Size arithmetic]: models declaring tensors int64 bytes cannot count fail on import with
// an Error naming the tensor (they used to write past a wrapped buffer size).
TEST(OnnxImporter, ImpossibleSizesFailNamingTheTensor) {
  const std::string p62 = std::to_string(int64_t{1} << 62), p60 = std::to_string(int64_t{1} << 60);
  const std::string p31 = std::to_string(int64_t{1} << 31);
  struct Case {
    std::string what;
    std::function<void(ModelBuilder&)> make;
    std::vector<std::string> fragments;
  };
  const std::vector<Case> cases = {
      {"Reciprocal on 2^62 floats",
       [&](ModelBuilder& b) {
         b.input("x", pb::TensorProto::FLOAT, {p62});
         b.node("Reciprocal", {"x"}, {"y"}, "r");
       },
       {"input 'x'", "float32[" + p62 + "]", "more bytes than int64 counts"}},
      {"Gather with 2^62 indices",
       [&](ModelBuilder& b) {
         b.input("x", pb::TensorProto::FLOAT, {"4"});
         b.input("i", pb::TensorProto::INT64, {p62});
         b.node("Gather", {"x", "i"}, {"y"}, "g");
       },
       {"input 'i'", "int64[" + p62 + "]"}},
      {"Concat of two 2^60-float inputs",
       [&](ModelBuilder& b) {
         b.input("a", pb::TensorProto::FLOAT, {p60});
         b.input("c", pb::TensorProto::FLOAT, {p60});
         b.node("Concat", {"a", "c"}, {"y"}, "cat");
         set_int(b.g()->mutable_node(0), "axis", 0);
       },
       {"Concatenation layer", "cat", "more bytes than int64 counts"}},
      {"Mean broadcasting to 2^62 floats",
       [&](ModelBuilder& b) {
         b.input("a", pb::TensorProto::FLOAT, {p31, "1"});
         b.input("c", pb::TensorProto::FLOAT, {"1", p31});
         b.node("Mean", {"a", "c"}, {"y"}, "mean");
       },
       {"mean", "float32[" + p31 + "," + p31 + "]", "more bytes than int64 counts"}},
      {"LRN on 2^62 floats",
       [&](ModelBuilder& b) {
         b.input("x", pb::TensorProto::FLOAT, {"1", p31, p31, "1"});
         b.node("LRN", {"x"}, {"y"}, "lrn");
         set_int(b.g()->mutable_node(0), "size", 3);
       },
       {"input 'x'", "more bytes than int64 counts"}},
  };
  for (const Case& c : cases) {
    ModelBuilder b;
    c.make(b);
    b.output("y");
    lktest::expect_error([&] { import_model_from_bytes(b.bytes()); }, c.fragments);
  }
}

}  // namespace
// ---- models with the subgraphs PyTorch's exporter writes ---------------------------------------
// tests/onnx/data/gen_exported_models.py writes them with onnxruntime's outputs for data sets 0, 1
// and 2: the min, opt and max shapes of one profile.

namespace fs = std::filesystem;

fs::path exported(const std::string& name) {
  return fs::path(LAYERKIT_ONNX_TEST_DATA) / "exported" / name;
}

at::Tensor to_aten(const OwnedTensor& t) {
  std::vector<int64_t> shape(t.dims.begin(), t.dims.end());
  return at::from_blob(const_cast<uint8_t*>(t.data.data()), shape,
                       at::TensorOptions().dtype(lktest::to_aten(t.type)))
      .clone();
}

std::vector<OwnedTensor> read_set(const fs::path& set, const std::string& kind) {
  std::vector<OwnedTensor> r;
  for (int i = 0; fs::exists(set / (kind + "_" + std::to_string(i) + ".pb")); ++i)
    r.push_back(read_tensor_proto((set / (kind + "_" + std::to_string(i) + ".pb")).string()));
  return r;
}

class ExportedModel : public ::testing::TestWithParam<std::string> {};

TEST_P(ExportedModel, MatchesOnnxruntimeAtMinOptAndMaxOfOneProfile) {
  const fs::path dir = exported(GetParam());
  ImportResult r = import_model((dir / "model.onnx").string());
  std::vector<std::vector<OwnedTensor>> ins, outs;
  for (int k = 0; k < 3; ++k) {
    const fs::path set = dir / ("test_data_set_" + std::to_string(k));
    ins.push_back(read_set(set, "input"));
    outs.push_back(read_set(set, "output"));
  }
  const Network& net = *r.network;
  ASSERT_EQ(static_cast<size_t>(net.num_inputs()), ins[0].size());
  for (int i = 0; i < net.num_inputs(); ++i)
    if (!net.input(i)->dims().is_static())
      r.set_input_profile(net.input(i)->name(), ins[0][i].dims, ins[1][i].dims, ins[2][i].dims);
  lktest::Runner runner(net, r.builder_config());
  for (int k = 0; k < 3; ++k) {
    std::vector<at::Tensor> in;
    for (const auto& t : ins[k]) in.push_back(to_aten(t));
    std::vector<at::Tensor> got = runner.run(in);
    ASSERT_EQ(got.size(), outs[k].size());
    for (size_t o = 0; o < got.size(); ++o)
      expect_close(got[o], to_aten(outs[k][o]), 1.0,
                   GetParam() + " set " + std::to_string(k) + " output " + std::to_string(o));
  }
}

INSTANTIATE_TEST_SUITE_P(OnnxImporter, ExportedModel,
                         ::testing::Values("flatten_reshape", "embeddings_static",
                                           "embeddings_dynamic", "pad_constant", "pad_to_multiple",
                                           "pad_to_multiple_reflect", "interpolate_size",
                                           "interpolate_double", "topk_half", "bitwise"));

const BuildTimeValue* find_value(const CheckReport& rep, const std::string& node, int input) {
  for (const auto& b : rep.build_time_values)
    if (b.node_name == node && b.input == input) return &b;
  return nullptr;
}

TEST(OnnxImporter, ExporterSubgraphsOfStaticDimsFoldAway) {
  const std::string path = (exported("embeddings_static") / "model.onnx").string();
  CheckReport rep = check_model(path);
  ASSERT_TRUE(rep.ok()) << rep.to_string();
  const BuildTimeValue* end = find_value(rep, "/m/embeddings/Slice", 2);
  ASSERT_NE(end, nullptr) << rep.to_string();
  EXPECT_EQ(end->source, BuildTimeSource::kFOLDED);
  EXPECT_EQ(end->tensor, "/m/embeddings/Unsqueeze_output_0");
  EXPECT_NE(rep.to_string().find("input 2 ('/m/embeddings/Unsqueeze_output_0'): folded"),
            std::string::npos)
      << rep.to_string();
  // Shape -> Gather -> Unsqueeze -> Slice of a constant left no layer behind: the sliced
  // position ids are one Constant.
  ImportResult r = import_model(path);
  for (int i = 0; i < r.network->num_layers(); ++i) {
    const LayerKind k = r.network->layer(i)->kind();
    EXPECT_TRUE(k != LayerKind::kSHAPE && k != LayerKind::kSLICE) << r.network->to_string();
  }
  // The pads of F.pad (ConstantOfShape -> ... -> Cast over constants) fold whatever the dims.
  rep = check_model((exported("pad_constant") / "model.onnx").string());
  ASSERT_NE(find_value(rep, "/Pad", 1), nullptr) << rep.to_string();
  EXPECT_EQ(find_value(rep, "/Pad", 1)->source, BuildTimeSource::kFOLDED);
}

TEST(OnnxImporter, ValuesOfDynamicDimsBecomeShapeTensors) {
  struct Case {
    const char* model;
    const char* node;
    int input;
  };
  for (const Case& c : {Case{"embeddings_dynamic", "/m/embeddings/Slice", 2},
                        Case{"pad_to_multiple", "/Pad", 1}, Case{"interpolate_size", "/Resize", 3},
                        Case{"interpolate_double", "/Resize", 3}, Case{"topk_half", "/TopK", 1}}) {
    CheckReport rep = check_model((exported(c.model) / "model.onnx").string());
    ASSERT_TRUE(rep.ok()) << c.model << ": " << rep.to_string();
    const BuildTimeValue* v = find_value(rep, c.node, c.input);
    ASSERT_NE(v, nullptr) << c.model << ": " << rep.to_string();
    EXPECT_EQ(v->source, BuildTimeSource::kSHAPE_TENSOR) << c.model;
    EXPECT_NE(rep.to_string().find("shape tensor (depends on a dynamic dim"), std::string::npos);
  }
}

TEST(OnnxImporter, ValuesNoLayerTakesAtRunTimeAreRefusedWithTheReason) {
  // Unsqueeze's axes from the Shape of a dynamic input: they decide the output's rank.
  ModelBuilder b;
  b.input("x", pb::TensorProto::FLOAT, {"n"});
  b.node("Shape", {"x"}, {"s"});
  b.node("Unsqueeze", {"x", "s"}, {"y"}, "unsq");
  b.output("y");
  CheckReport rep = check_model_from_bytes(b.bytes());
  ASSERT_EQ(rep.unsupported.size(), 1u) << rep.to_string();
  EXPECT_EQ(rep.unsupported[0].index, 1);
  EXPECT_EQ(rep.unsupported[0].name, "unsq");
  EXPECT_NE(rep.unsupported[0].reason.find("depends on a graph input or a dynamic dim: the axes "
                                           "decide the output's rank"),
            std::string::npos)
      << rep.unsupported[0].reason;
  lktest::expect_error([&] { import_model_from_bytes(b.bytes()); },
                       {"node 1 'unsq' (Unsqueeze)", "input 1 (axes)", "output's rank"},
                       ErrorCode::kUNSUPPORTED);
  // With a static dim the same graph folds and converts.
  ModelBuilder s;
  s.input("x", pb::TensorProto::FLOAT, {"3"});
  s.node("Shape", {"x"}, {"one"});
  s.node("Size", {"one"}, {"len"});
  s.node("Unsqueeze", {"x", "len"}, {"y"}, "unsq");
  s.output("y");
  ImportResult r = import_model_from_bytes(s.bytes());
  at::Tensor x = lktest::random(DataType::kFLOAT, {3}, 5);
  expect_close(run_model(r, {x})[0], x.unsqueeze(1));
}

TEST(OnnxImporter, FoldedValuesKeepKernelErrorsForRunTime) {
  // Gather of an out-of-range index over constants is not folded (its kernel fails): the layer
  // stays and fails when it runs, as it would without folding.
  ModelBuilder b;
  b.input("x", pb::TensorProto::FLOAT, {"2"});
  b.init("table", {3}, {1.f, 2.f, 3.f});
  auto* idx = b.g()->add_initializer();
  idx->set_name("i");
  idx->set_data_type(pb::TensorProto::INT64);
  idx->add_dims(2);
  idx->add_int64_data(0);
  idx->add_int64_data(7);
  b.node("Gather", {"table", "i"}, {"g"});
  b.node("Add", {"x", "g"}, {"y"});
  b.output("y");
  ImportResult r = import_model_from_bytes(b.bytes());
  bool has_gather = false;
  for (int i = 0; i < r.network->num_layers(); ++i)
    has_gather = has_gather || r.network->layer(i)->kind() == LayerKind::kGATHER;
  EXPECT_TRUE(has_gather) << r.network->to_string();
}

}  // namespace layerkit::onnx
