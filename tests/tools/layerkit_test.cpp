// Tests of the `layerkit` command line: subcommands, flags and exit codes.
// GCC 12 reports a false -Wrestrict inside protobuf's inlined string setters here.
#pragma GCC diagnostic ignored "-Wrestrict"
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kernel_names.h"

namespace {

namespace fs = std::filesystem;

// Every file this program writes lives in a folder of its own: the test runs twice in parallel
// (once per engine), and the two runs must not rewrite each other's models and cases.
fs::path scratch() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("layerkit_cli_" + std::to_string(getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

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
  const fs::path p = scratch() / file;
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

// One Reciprocal node on x: float[dims] (opset 13), written to the scratch folder.
fs::path write_sized_model(const std::string& file, const std::vector<int64_t>& dims) {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  auto* in = g->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(::onnx::TensorProto::FLOAT);
  for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  auto* n = g->add_node();
  n->set_op_type("Reciprocal");
  n->add_input("x");
  n->add_output("y");
  g->add_output()->set_name("y");
  const fs::path p = scratch() / file;
  std::ofstream(p, std::ios::binary) << m.SerializeAsString();
  return p;
}

// MemAvailable of /proc/meminfo in bytes (0 when unknown).
int64_t mem_available() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  int64_t kib = 0;
  while (f >> key) {
    if (key == "MemAvailable:") {
      f >> kib;
      return kib * 1024;
    }
    std::getline(f, key);
  }
  return 0;
}

// Note [Size arithmetic]: 2^62 floats are 2^64 bytes; the run used to die of SIGSEGV writing a
// buffer sized by the wrapped byte count.
TEST(LayerkitCli, InputWhoseBytesOverflowIsAnErrorNotACrash) {
  const fs::path m = write_sized_model("huge.onnx", {int64_t{1} << 62});
  const Result r = sh("run " + m.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("layerkit: error: add_input: input 'x': float32[4611686018427387904]"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("more bytes than int64 counts"), std::string::npos) << r.out;
}

// 3 x 2^31 x 5 floats (120 GiB) fit int64 but not the machine: out of memory, naming the input
// and the bytes (it used to be a bare std::bad_alloc).
TEST(LayerkitCli, InputBeyondMemoryIsOutOfMemory) {
  const int64_t bytes = int64_t{3} * (int64_t{1} << 31) * 5 * 4;
  if (mem_available() > bytes) GTEST_SKIP() << "this host has more than 120 GiB available";
  const fs::path m = write_sized_model("big.onnx", {3, int64_t{1} << 31, 5});
  const Result r = sh("run " + m.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("layerkit: error: input 'x' float32[3,2147483648,5]: out of memory: "
                       "allocating " +
                       std::to_string(bytes) + " bytes"),
            std::string::npos)
      << r.out;
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
         "--iterations=1 --warmUp=0 --exportOutput=" + (scratch() / "out.json").string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(scratch() / "out.json"));
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

TEST(LayerkitCli, InspectEngineShowsTheOptimizedNetworkAndThePasses) {
  Result r = sh("inspect --engine");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string net = after(r.out, "=== Engine network");
  const std::string passes = after(r.out, "=== Builder passes");
  EXPECT_NE(net.find("Convolution["), std::string::npos) << r.out;
  EXPECT_NE(passes.find("optimization level 1"), std::string::npos) << r.out;
  EXPECT_NE(passes.find("pass fold_constants: "), std::string::npos) << r.out;
  EXPECT_NE(passes.find("pass fuse_conv_bias: "), std::string::npos) << r.out;
  EXPECT_NE(after(r.out, "=== Memory plan").find("bytes planned"), std::string::npos) << r.out;
  // The kernel table: every convolution of the default CNN is followed by a ReLU, which fuses
  // into it; the ReLU's own line names the convolution it went into.
  const std::string kernels = after(r.out, "=== Kernels");
  ASSERT_FALSE(kernels.empty()) << r.out;
  EXPECT_NE(kernels.find("(Convolution): " + lktest::onednn_or("reference")), std::string::npos)
      << kernels;
  EXPECT_NE(kernels.find(" fused with '"), std::string::npos) << kernels;
  EXPECT_NE(kernels.find("(Activation): fused into '"), std::string::npos) << kernels;
  EXPECT_NE(kernels.find("(Pooling): direct"), std::string::npos) << kernels;
  // Without --engine the imported network is printed as before, without the pass report.
  EXPECT_EQ(sh("inspect").out.find("=== Builder passes"), std::string::npos);
}

TEST(LayerkitCli, EngineFlagsSelectTheReferenceEngine) {
  const fs::path m = write_model("Relu");
  Result fast = sh("run " + m.string() + " --shapes=x:3x4 --iterations=2 --warmUp=0 --dumpProfile");
  ASSERT_EQ(fast.code, 0) << fast.out;
  EXPECT_NE(after(fast.out, "=== Profile").find("vectorized"), std::string::npos) << fast.out;
  EXPECT_NE(fast.out.find("activation memory: "), std::string::npos) << fast.out;
  Result ref = sh("run " + m.string() +
                  " --shapes=x:3x4 --iterations=2 --warmUp=0 --dumpProfile --referenceKernels "
                  "--builderOptimizationLevel=0");
  ASSERT_EQ(ref.code, 0) << ref.out;
  const std::string table = after(ref.out, "=== Profile");
  EXPECT_NE(table.find("reference"), std::string::npos) << ref.out;
  EXPECT_EQ(table.find("vectorized"), std::string::npos) << ref.out;
}

TEST(LayerkitCli, RunWithoutModelRunsTheBuiltInCnn) {
  // Batch 1 unless --shapes says otherwise; the output is [batch, 10] class probabilities.
  const std::string json = (scratch() / "layerkit_cli_default.json").string();
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

TEST(LayerkitCli, ExportTimesWritesOneRecordPerTimedRun) {
  // The benchmark harness reads these instead of parsing the latency line.
  const std::string json = (scratch() / "layerkit_cli_times.json").string();
  Result r = sh("run --iterations=3 --warmUp=0 --exportTimes=" + json);
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream f(json);
  const std::string times((std::istreambuf_iterator<char>(f)), {});
  size_t records = 0;
  for (size_t p = times.find("\"latencyMs\" : "); p != std::string::npos;
       p = times.find("\"latencyMs\" : ", p + 1)) {
    ++records;
    EXPECT_GE(std::stod(times.substr(p + 14)), 0.0) << times;
  }
  EXPECT_EQ(records, 3u) << times;
  EXPECT_EQ(times.find("\"startMs\" : 0.000000"), times.find("\"startMs\"")) << times;
  EXPECT_EQ(times.front(), '[') << times;
  // The runs follow one another: each starts no earlier than the one before it ended.
  std::vector<double> starts, ends;
  for (size_t p = times.find("\"startMs\" : "); p != std::string::npos;
       p = times.find("\"startMs\" : ", p + 1))
    starts.push_back(std::stod(times.substr(p + 12)));
  for (size_t p = times.find("\"endMs\" : "); p != std::string::npos;
       p = times.find("\"endMs\" : ", p + 1))
    ends.push_back(std::stod(times.substr(p + 10)));
  ASSERT_EQ(starts.size(), 3u);
  ASSERT_EQ(ends.size(), 3u);
  for (size_t i = 1; i < 3; ++i) EXPECT_GE(starts[i], ends[i - 1]) << times;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

TEST(LayerkitCli, SaveEngineThenLoadEngineRunsTheSameEngine) {
  // The reference kernels make the outputs deterministic (the fast convolution's layout is timed
  // per context), so the loaded engine's JSON must equal the built engine's.
  const fs::path plan = scratch() / "default.plan";
  const fs::path built = scratch() / "built.json", loaded = scratch() / "loaded.json";
  fs::remove(plan);
  Result save =
      sh("run --referenceKernels --minShapes=input:1x3x32x32 --optShapes=input:2x3x32x32 "
         "--maxShapes=input:4x3x32x32 --iterations=1 --warmUp=0 --saveEngine=" +
         plan.string() + " --exportOutput=" + built.string());
  ASSERT_EQ(save.code, 0) << save.out;
  ASSERT_TRUE(fs::exists(plan));
  const std::string size = std::to_string(fs::file_size(plan));
  EXPECT_NE(save.out.find("saved engine: " + plan.string() + " (" + size + " bytes"),
            std::string::npos)
      << save.out;
  EXPECT_NE(save.out.find("build time: "), std::string::npos) << save.out;
  EXPECT_EQ(read_file(plan).substr(0, 8), "LKENGINE");

  Result load = sh("run --iterations=2 --warmUp=0 --dumpProfile --loadEngine=" + plan.string() +
                   " --exportOutput=" + loaded.string());
  ASSERT_EQ(load.code, 0) << load.out;
  EXPECT_NE(load.out.find("engine: " + plan.string() + " (" + size + " bytes)\nload time: "),
            std::string::npos)
      << load.out;
  EXPECT_EQ(load.out.find("build time"), std::string::npos) << load.out;
  EXPECT_EQ(load.out.find("import time"), std::string::npos) << load.out;
  EXPECT_NE(after(load.out, "=== Profile").find("reference"), std::string::npos) << load.out;
  const std::string want = read_file(built);
  EXPECT_NE(want.find("\"dimensions\" : \"2x10\""), std::string::npos) << want;
  EXPECT_EQ(read_file(loaded), want);

  // --shapes picks a run shape within the plan's profile; outside it is the usual error.
  Result batch4 =
      sh("run --iterations=1 --warmUp=0 --shapes=input:4x3x32x32 --checkAgainst=cpu "
         "--loadEngine=" +
         plan.string() + " --exportOutput=" + loaded.string());
  ASSERT_EQ(batch4.code, 0) << batch4.out;
  EXPECT_NE(read_file(loaded).find("\"dimensions\" : \"4x10\""), std::string::npos);
  EXPECT_NE(batch4.out.find("check against cpu: output 'probabilities' [4,10]: cosine 1.0"),
            std::string::npos)
      << batch4.out;
  Result outside = sh("run --warmUp=0 --shapes=input:5x3x32x32 --loadEngine=" + plan.string());
  EXPECT_EQ(outside.code, 1) << outside.out;
  EXPECT_NE(outside.out.find("outside optimization profile 0"), std::string::npos) << outside.out;

  // A loaded engine saved again gives the same bytes.
  const fs::path again = scratch() / "again.plan";
  Result resave = sh("run --iterations=1 --warmUp=0 --loadEngine=" + plan.string() +
                     " --saveEngine=" + again.string());
  ASSERT_EQ(resave.code, 0) << resave.out;
  EXPECT_TRUE(read_file(again) == read_file(plan));
}

TEST(LayerkitCli, BadEngineFilesGiveOneLineAndExitOne) {
  const fs::path plan = scratch() / "small.plan";
  const fs::path m = write_model("Relu");
  ASSERT_EQ(sh("run " + m.string() +
               " --shapes=x:3x4 --iterations=1 --warmUp=0 --saveEngine=" + plan.string())
                .code,
            0);
  const std::string bytes = read_file(plan);
  ASSERT_GT(bytes.size(), 64u);
  auto write = [&](const std::string& name, const std::string& content) {
    const fs::path p = scratch() / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  };
  std::string flipped = bytes;
  flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 0x10);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {(scratch() / "missing.plan").string(), "cannot open"},
      {write("truncated.plan", bytes.substr(0, bytes.size() - 3)), "truncated"},
      {write("flipped.plan", flipped), "checksum mismatch"},
      {m.string(), "bad magic"},
      {scratch().string(), "is no file"}};
  for (const auto& [file, message] : cases) {
    Result r = sh("run --iterations=1 --warmUp=0 --loadEngine=" + file);
    EXPECT_EQ(r.code, 1) << file << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << file << ": " << r.out;
    EXPECT_NE(r.out.find(message), std::string::npos) << file << ": " << r.out;
  }
  // What shaped the build is fixed in the plan: usage errors, exit 2.
  for (const std::string& extra :
       {" " + m.string(), std::string(" --device=cpu"), std::string(" --threads=2"),
        std::string(" --referenceKernels"), std::string(" --minShapes=x:1x4")}) {
    Result r = sh("run --loadEngine=" + plan.string() + extra);
    EXPECT_EQ(r.code, 2) << extra << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << extra << ": " << r.out;
  }
  Result unwritable = sh("run " + m.string() + " --shapes=x:3x4 --iterations=1 --warmUp=0 " +
                         "--saveEngine=/nonexistent/dir/x.plan");
  EXPECT_EQ(unwritable.code, 1) << unwritable.out;
  EXPECT_NE(unwritable.out.find("--saveEngine: cannot write"), std::string::npos) << unwritable.out;
}

TEST(LayerkitCli, BadFlagsAndShapesExitTwoWithOneLine) {
  const fs::path m = write_model("Relu");
  const std::string model = m.string();
  std::vector<std::string> cases = {"frobnicate", "check " + model + " " + model,
                                    "run " + model + " " + model};
  for (const char* flags :
       {" --shapes=x:3xq", " --nope", " --iterations=zero", " --builderOptimizationLevel=2",
        " --referenceKernels=1", " --threads=1025", " --threads=4294967297"})
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
  const std::string run_help = sh("run --help").out;
  EXPECT_NE(run_help.find("--saveEngine=FILE"), std::string::npos) << run_help;
  EXPECT_NE(run_help.find("--loadEngine=FILE"), std::string::npos) << run_help;
  EXPECT_NE(sh("conformance --help").out.find("--roundTrip"), std::string::npos);
  Result r =
      sh("inspect " + write_model("Abs").string() + " --dot " + (scratch() / "cli.dot").string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("onnx_ops.Abs"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(scratch() / "cli.dot"));
}

// A backend-test case folder: model.onnx plus test_data_set_0 with input_0.pb / output_0.pb.
void write_case(const fs::path& dir, const std::string& op, const std::vector<float>& x,
                const std::vector<float>& y) {
  fs::create_directories(dir / "test_data_set_0");
  fs::copy_file(write_model(op), dir / "model.onnx", fs::copy_options::overwrite_existing);
  auto tensor = [](const std::vector<float>& v, const fs::path& p) {
    ::onnx::TensorProto t;
    t.set_data_type(::onnx::TensorProto::FLOAT);
    t.add_dims(1);
    t.add_dims(static_cast<int64_t>(v.size()));
    for (float f : v) t.add_float_data(f);
    std::ofstream(p, std::ios::binary) << t.SerializeAsString();
  };
  tensor(x, dir / "test_data_set_0" / "input_0.pb");
  tensor(y, dir / "test_data_set_0" / "output_0.pb");
}

TEST(LayerkitCli, ConformanceCountsSkipsAndExitCodes) {
  const fs::path root = scratch() / "layerkit_conformance_cases";
  fs::remove_all(root);
  write_case(root / "test_abs", "Abs", {-1, 2, -3, 4}, {1, 2, 3, 4});
  write_case(root / "test_neg_wrong", "Neg", {1, 2, 3, 4}, {1, 2, 3, 4});
  write_case(root / "test_unknown", "Frobnicate", {1, 2, 3, 4}, {1, 2, 3, 4});
  const fs::path skips = root.parent_path() / "layerkit_conformance_skip.txt";
  std::ofstream(skips) << "# comment\ntest_unknown: an op nobody has\n";

  Result r = sh("conformance " + root.string() + " --skipList=" + skips.string());
  EXPECT_EQ(r.code, 1) << r.out;  // test_neg_wrong fails with a converter for Neg
  EXPECT_NE(r.out.find("FAIL test_neg_wrong: test_data_set_0: output 'y' element 0 is -1, "
                       "expected 1"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("1 failures are in cases whose ops all have converters"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("1 passed, 1 failed, 1 skipped\n"), std::string::npos) << r.out;
  // Round-tripped engines pass and fail the same cases, with the same messages.
  Result trip =
      sh("conformance " + root.string() + " --skipList=" + skips.string() + " --roundTrip");
  EXPECT_EQ(trip.code, r.code) << trip.out;
  EXPECT_EQ(trip.out, r.out);

  // Without the wrong case, the unconverted op fails but does not fail the run ...
  fs::remove_all(root / "test_neg_wrong");
  Result ok = sh("conformance " + root.string());
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("FAIL test_unknown: unsupported:"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("1 passed, 1 failed, 0 skipped"), std::string::npos) << ok.out;
  // ... unless too few cases pass.
  Result few = sh("conformance " + root.string() + " --minPassPercent=60");
  EXPECT_EQ(few.code, 1) << few.out;
  EXPECT_NE(few.out.find("fewer than 60% of 2 cases passed"), std::string::npos) << few.out;

  std::ofstream(skips) << "test_unknown\n";
  Result bad_list = sh("conformance " + root.string() + " --skipList=" + skips.string());
  EXPECT_NE(bad_list.code, 0);
  EXPECT_NE(bad_list.out.find("has no reason"), std::string::npos) << bad_list.out;
  EXPECT_EQ(sh("conformance " + root.string() + " --minPassPercent=101").code, 2);
}

TEST(LayerkitCli, ConformanceCosineMetricJudgesOutputsAsAWhole) {
  const fs::path root = scratch() / "layerkit_conformance_cosine";
  fs::remove_all(root);
  // Element 3 is off by half its size but tiny next to the rest: the element-wise check fails,
  // the cosine metric passes (max|error|/max|reference| = 1e-6 / 3000).
  write_case(root / "test_abs_near_zero", "Abs", {1000, -2000, 3000, 1e-6f},
             {1000, 2000, 3000, 2e-6f});
  const fs::path no_skips = root.parent_path() / "layerkit_conformance_cosine_skip.txt";
  std::ofstream(no_skips) << "# none\n";
  const std::string base = "conformance " + root.string() + " --skipList=" + no_skips.string();
  Result elementwise = sh(base);
  EXPECT_EQ(elementwise.code, 1) << elementwise.out;
  EXPECT_NE(elementwise.out.find("FAIL test_abs_near_zero"), std::string::npos);
  Result cosine = sh(base + " --metric=cosine");
  EXPECT_EQ(cosine.code, 0) << cosine.out;
  EXPECT_NE(cosine.out.find("test_abs_near_zero test_data_set_0 output 'y': cosine 1, "
                            "max|error|/max|reference| 3.33e-10"),
            std::string::npos)
      << cosine.out;
  EXPECT_NE(cosine.out.find("1 passed, 0 failed, 0 skipped"), std::string::npos) << cosine.out;

  // A 0.25% error in the largest element keeps the cosine near 1 but exceeds 1e-4 relative.
  write_case(root / "test_abs_off", "Abs", {1, -2, 3, -4}, {1, 2, 3, 4.01f});
  Result off = sh(base + " --metric=cosine");
  EXPECT_EQ(off.code, 1) << off.out;
  EXPECT_NE(off.out.find("FAIL test_abs_off: test_data_set_0: output 'y': cosine 0.9999"),
            std::string::npos)
      << off.out;
  EXPECT_NE(off.out.find("(needs cosine >= 0.9999 and <= 1e-4)"), std::string::npos) << off.out;
  EXPECT_EQ(sh(base + " --metric=l2").code, 2);

  // The committed exporter-pattern models (tests/onnx/data) pass by the cosine metric, one line
  // per output and data set (min, opt and max shapes).
  const fs::path exported = fs::path(LAYERKIT_ONNX_TEST_DATA) / "exported";
  Result models = sh("conformance " + exported.string() + " --metric=cosine");
  EXPECT_EQ(models.code, 0) << models.out;
  EXPECT_NE(models.out.find("interpolate_size test_data_set_2 output 'y': cosine "),
            std::string::npos)
      << models.out;
  EXPECT_NE(models.out.find("10 passed, 0 failed, 0 skipped"), std::string::npos) << models.out;
}

TEST(LayerkitCli, InputValuesBindBuildTimeInputs) {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  auto add_input = [&](const std::string& name, int type, std::vector<int64_t> dims) {
    auto* in = g->add_input();
    in->set_name(name);
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  };
  add_input("x", ::onnx::TensorProto::FLOAT, {2, 3});
  add_input("axes", ::onnx::TensorProto::INT64, {1});
  auto* n = g->add_node();
  n->set_op_type("ReduceSum");
  n->add_input("x");
  n->add_input("axes");
  n->add_output("y");
  g->add_output()->set_name("y");
  const fs::path p = scratch() / "layerkit_cli_reduce_axes.onnx";
  std::ofstream(p, std::ios::binary) << m.SerializeAsString();

  Result check = sh("check " + p.string());
  EXPECT_EQ(check.code, 1);
  EXPECT_NE(check.out.find("'axes') is a graph input"), std::string::npos) << check.out;
  Result missing = sh("run " + p.string() + " --iterations=1 --warmUp=0");
  EXPECT_EQ(missing.code, 2) << missing.out;
  EXPECT_NE(missing.out.find("--inputValues=axes:"), std::string::npos) << missing.out;
  Result bad = sh("run " + p.string() + " --inputValues=axes:one");
  EXPECT_EQ(bad.code, 2) << bad.out;
  Result ok = sh("run " + p.string() + " --inputValues=axes:-1 --iterations=1 --warmUp=0");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("latency:"), std::string::npos) << ok.out;
}

}  // namespace
