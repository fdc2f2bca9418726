// Tests of the `layerkit` command line: subcommands, flags and exit codes.
// GCC 12 reports a false -Wrestrict inside protobuf's inlined string setters here.
#pragma GCC diagnostic ignored "-Wrestrict"
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

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

TEST(LayerkitCli, RunPrintsTimings) {
  const fs::path m = write_model("Relu");
  Result r = sh("run " + m.string() + " --shapes=x:3x4 --iterations=3 --warmUp=0 --dumpProfile");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("build time"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("median"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("throughput"), std::string::npos) << r.out;
  r = sh("run " + m.string() + " --minShapes=x:1x4 --optShapes=x:2x4 --maxShapes=x:8x4 " +
         "--iterations=1 --warmUp=0 --exportOutput=/tmp/layerkit_cli_out.json");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists("/tmp/layerkit_cli_out.json"));
}

TEST(LayerkitCli, BadFlagsAndShapesExitTwoWithOneLine) {
  const fs::path m = write_model("Relu");
  const std::string model = m.string();
  std::vector<std::string> cases = {"frobnicate", "check"};
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
