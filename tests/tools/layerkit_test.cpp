// Tests of the `layerkit` command line: subcommands, flags and exit codes.
// GCC 12 reports a false -Wrestrict inside protobuf's inlined string setters here.
#pragma GCC diagnostic ignored "-Wrestrict"
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Result {
  int code;
  std::string out;
};

Result sh(const std::string& args) {
  const std::string cmd = std::string(LAYERKIT_CLI_PATH) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  return {WEXITSTATUS(status), out};
}

fs::path write_model(const std::string& op) {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  auto* in = g->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(::onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("batch");
  tt->mutable_shape()->add_dim()->set_dim_value(4);
  auto* n = g->add_node();
  n->set_op_type(op);
  n->add_input("x");
  n->add_output("y");
  g->add_output()->set_name("y");
  std::string file = "layerkit_cli_";
  file.append(op).append(".onnx");
  const fs::path p = fs::temp_directory_path() / file;
  std::ofstream(p, std::ios::binary) << m.SerializeAsString();
  return p;
}

// The text after `marker` (empty when absent).
std::string after(const std::string& out, const std::string& marker) {
  const size_t p = out.find(marker);
  return p == std::string::npos ? "" : out.substr(p + marker.size());
}

// The node count of a serialized model, read with onnx's own parser.
int num_nodes(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  ::onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromIstream(&f)) << path;
  return m.graph().node_size();
}

TEST(LayerkitCli, RunPrintsTimings) {
  const fs::path m = write_model("Relu");
  Result r = sh("run " + m.string() + " --shapes=x:3x4 --iterations=3 --warmUp=0");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("build time"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("median"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("throughput"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("=== Profile"), std::string::npos) << "profile without --dumpProfile";
  r = sh("run " + m.string() + " --minShapes=x:1x4 --optShapes=x:2x4 --maxShapes=x:8x4 " +
         "--iterations=1 --warmUp=0 --exportOutput=/tmp/layerkit_cli_out.json");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists("/tmp/layerkit_cli_out.json"));
}

TEST(LayerkitCli, DumpProfilePrintsOneRowPerLayerAndTheTotal) {
  const fs::path m = write_model("Relu");
  Result r = sh("run " + m.string() + " --shapes=x:3x4 --iterations=4 --warmUp=0 --dumpProfile");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string table = after(r.out, "=== Profile");
  ASSERT_FALSE(table.empty()) << r.out;
  EXPECT_NE(table.find("avg ms/run"), std::string::npos) << table;
  EXPECT_NE(table.find("% of total"), std::string::npos) << table;
  // The importer names the Relu node's layer after its op; its row is the only layer's row, so
  // it holds the whole total.
  const size_t at = table.find("onnx_ops.Relu");
  ASSERT_NE(at, std::string::npos) << table;
  const std::string row = table.substr(at, table.find('\n', at) - at);
  EXPECT_NE(row.find("Activation"), std::string::npos) << row;
  EXPECT_NE(row.find("100.0"), std::string::npos) << row;
  EXPECT_NE(after(table, "\ntotal").find("100.0"), std::string::npos) << table;
}

TEST(LayerkitCli, BuiltInModelMatchesTheCheckedInFile) {
  // `check` without MODEL reads the bytes built into the binary; with the file's path it reads
  // models/default_cnn.onnx. Both must describe the same model.
  const int n = num_nodes(LAYERKIT_DEFAULT_MODEL_PATH);
  ASSERT_GT(n, 20);
  Result built_in = sh("check");
  Result file = sh(std::string("check ") + LAYERKIT_DEFAULT_MODEL_PATH);
  EXPECT_EQ(built_in.out, file.out);
  EXPECT_EQ(built_in.code, file.code);
  EXPECT_EQ(built_in.code, 0) << built_in.out;  // every node of the default model converts
  EXPECT_NE(built_in.out.find("opset 13"), std::string::npos) << built_in.out;
  EXPECT_NE(built_in.out.find(" " + std::to_string(n) + " nodes"), std::string::npos)
      << built_in.out;
  Result inspected = sh("inspect");
  EXPECT_EQ(inspected.code, 0) << inspected.out;
  EXPECT_EQ(inspected.out, sh(std::string("inspect ") + LAYERKIT_DEFAULT_MODEL_PATH).out);
  EXPECT_NE(inspected.out.find("onnx_ops.Conv"), std::string::npos) << inspected.out;
}

TEST(LayerkitCli, RunWithoutModelRunsTheBuiltInCnn) {
  // Batch 1 unless --shapes says otherwise; the output is [batch, 10] class probabilities.
  const std::string json = (fs::temp_directory_path() / "layerkit_cli_default.json").string();
  Result r = sh("run --iterations=2 --warmUp=0 --dumpProfile --exportOutput=" + json);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("model: models/default_cnn.onnx (built in)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("latency: min = "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("throughput"), std::string::npos) << r.out;
  EXPECT_NE(after(r.out, "=== Profile").find("Convolution"), std::string::npos) << r.out;
  std::ifstream f(json);
  const std::string exported((std::istreambuf_iterator<char>(f)), {});
  EXPECT_NE(exported.find("\"name\" : \"probabilities\", \"dimensions\" : \"1x10\""),
            std::string::npos)
      << exported;
  r = sh("run --shapes=input:3x3x32x32 --iterations=1 --warmUp=0 --exportOutput=" + json);
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream g(json);
  const std::string batch3((std::istreambuf_iterator<char>(g)), {});
  EXPECT_NE(batch3.find("\"dimensions\" : \"3x10\""), std::string::npos) << batch3;
}

TEST(LayerkitCli, BadFlagsAndShapesExitTwoWithOneLine) {
  const fs::path m = write_model("Relu");
  const std::string model = m.string();
  std::vector<std::string> cases = {"frobnicate", "check " + model + " " + model,
                                    "run " + model + " " + model};
  for (const char* flags : {" --shapes=x:3xq", " --nope", " --iterations=zero"})
    cases.push_back("run " + model + flags);
  for (const std::string& args : cases) {
    Result r = sh(args);
    EXPECT_EQ(r.code, 2) << args << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << ": " << r.out;
  }
}

TEST(LayerkitCli, CheckExitCodes) {
  Result ok = sh("check " + write_model("Relu").string());
  EXPECT_EQ(ok.code, 0) << ok.out;
  Result bad = sh("check " + write_model("Frobnicate").string());
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("node 0 'Frobnicate_0' (Frobnicate)"), std::string::npos) << bad.out;
  Result missing = sh("check /nonexistent/model.onnx");
  EXPECT_EQ(missing.code, 1) << missing.out;
}

TEST(LayerkitCli, HelpPerSubcommandAndInspect) {
  for (const char* c : {"run", "check", "inspect", "conformance"}) {
    Result r = sh(std::string(c) + " --help");
    EXPECT_EQ(r.code, 0) << c;
    EXPECT_NE(r.out.find("usage: layerkit"), std::string::npos) << c;
  }
  Result r = sh("inspect " + write_model("Abs").string() + " --dot /tmp/layerkit_cli.dot");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("onnx_ops.Abs"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists("/tmp/layerkit_cli.dot"));
}

}  // namespace
