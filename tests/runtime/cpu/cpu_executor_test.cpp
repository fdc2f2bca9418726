// CPU executor tests: per-layer profiling records, their counts and their on/off behaviour.
#include <chrono>
#include <cmath>
#include <cstring>

#include "layerkit/core/size.h"
#include "test_util.h"

namespace lktest {
namespace {

struct Profiled {
  Network net;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ExecutionContext> ctx;
  at::Tensor x = random(DataType::kFLOAT, {4, 16}, /*seed=*/7);
  Profiled() {
    Tensor* in = net.add_input("x", DataType::kFLOAT, {-1, 16});
    Tensor* relu = net.add_activation(in, ActivationType::kRELU)->output(0);
    Tensor* bias = constant(net, random(DataType::kFLOAT, {1, 16}, /*seed=*/8));
    Tensor* sum = net.add_elementwise(relu, bias, ElementWiseOperation::kSUM)->output(0);
    net.mark_output(net.add_activation(sum, ActivationType::kSIGMOID)->output(0));
    BuilderConfig c;
    // One kernel per layer: fusion would run the three as one group with one record
    // (tests/runtime/cpu/fusion_test.cpp covers that).
    c.reference_kernels_only = true;
    OptimizationProfile p;
    p.set_dimensions("x", {1, 16}, {4, 16}, {8, 16});
    c.profiles.push_back(p);
    engine = Builder::build(net, c);
    ctx = engine->create_execution_context();
    ctx->set_input_shape("x", {4, 16});
    ctx->set_input("x", x.data_ptr());
  }
  // The layers execute() runs: Input and Constant layers do no work per run.
  std::vector<const Layer*> run_layers() const {
    std::vector<const Layer*> out;
    const Network& n = engine->network();
    for (int i = 0; i < n.num_layers(); ++i)
      if (n.layer(i)->kind() != LayerKind::kINPUT && n.layer(i)->kind() != LayerKind::kCONSTANT)
        out.push_back(n.layer(i));
    return out;
  }
};

TEST(CpuExecutorProfile, EmptyWhenNeverSwitchedOn) {
  Profiled f;
  f.ctx->execute();
  f.ctx->execute();
  EXPECT_TRUE(f.ctx->profile().empty());
}

TEST(CpuExecutorProfile, OneRecordPerLayerCountingEveryRun) {
  Profiled f;
  f.ctx->execute();  // before profiling: not counted
  f.ctx->set_profiling(true);
  constexpr int kRuns = 3;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRuns; ++i) f.ctx->execute();
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  const std::vector<LayerProfile> prof = f.ctx->profile();
  const std::vector<const Layer*> layers = f.run_layers();
  ASSERT_EQ(prof.size(), layers.size());
  ASSERT_GE(layers.size(), 3u);
  double sum_ms = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    EXPECT_EQ(prof[i].name, layers[i]->name());
    EXPECT_EQ(prof[i].kind, layers[i]->kind()) << prof[i].name;
    EXPECT_EQ(prof[i].calls, kRuns) << prof[i].name;
    EXPECT_GE(prof[i].total_ms, 0.0) << prof[i].name;
    sum_ms += prof[i].total_ms;
  }
  // The layers' times are measured inside the runs, so together they cannot exceed the runs.
  EXPECT_LE(sum_ms, wall_ms);
}

TEST(CpuExecutorProfile, OffKeepsRecordsAndOnAgainStartsOver) {
  Profiled f;
  f.ctx->set_profiling(true);
  f.ctx->execute();
  f.ctx->execute();
  f.ctx->set_profiling(false);
  f.ctx->execute();
  for (const LayerProfile& r : f.ctx->profile()) EXPECT_EQ(r.calls, 2) << r.name;
  f.ctx->set_profiling(true);
  EXPECT_TRUE(f.ctx->profile().empty());
  f.ctx->execute();
  const std::vector<LayerProfile> prof = f.ctx->profile();
  EXPECT_EQ(prof.size(), f.run_layers().size());
  for (const LayerProfile& r : prof) EXPECT_EQ(r.calls, 1) << r.name;
}

TEST(CpuExecutorProfile, OutputsAreTheSameWithProfilingOn) {
  Profiled f;
  f.ctx->execute();
  const std::vector<uint8_t> plain = f.ctx->output(f.engine->network().output(0)->name()).data;
  f.ctx->set_profiling(true);
  f.ctx->execute();
  EXPECT_EQ(f.ctx->output(f.engine->network().output(0)->name()).data, plain);
}

// Note [Size arithmetic]: a run whose tensors are representable but beyond the host's memory
// fails with kOUT_OF_MEMORY naming the tensor and the bytes, before anything is written.
TEST(CpuExecutorMemory, TensorBeyondAvailableMemoryIsOutOfMemory) {
  const int64_t n = int64_t{1} << 19;  // the sum is n x n floats: 1 TiB
  const std::optional<int64_t> avail = host_memory_available();
  ASSERT_TRUE(avail.has_value());
  if (*avail > n * n * 4) GTEST_SKIP() << "this host has more than 1 TiB available";
  Network net;
  Tensor* col = net.add_input("col", DataType::kFLOAT, {n, 1});
  Tensor* row = net.add_input("row", DataType::kFLOAT, {1, n});
  Tensor* sum = net.add_elementwise(col, row, ElementWiseOperation::kSUM)->output(0);
  sum->set_name("outer_sum");
  net.mark_output(sum);
  auto engine = Builder::build(net, {});
  auto ctx = engine->create_execution_context();
  std::vector<float> a(static_cast<size_t>(n), 1.0f);
  ctx->set_input("col", a.data());
  ctx->set_input("row", a.data());
  expect_error([&] { ctx->execute(); },
               {"tensor 'outer_sum'", "float32[524288,524288]", "out of memory",
                std::to_string(n * n * 4) + " bytes"},
               ErrorCode::kOUT_OF_MEMORY);
  // The context stays usable: a second attempt fails the same way, nothing was half-written.
  expect_error([&] { ctx->execute(); }, {"tensor 'outer_sum'"}, ErrorCode::kOUT_OF_MEMORY);
}

// Tensors that each fit in the available memory but together do not fail the run before its
// first layer (check_run_memory), naming the input shapes and the largest tensor, instead of
// allocating the first ones and leaving the rest to the OS (fuzz_onnx_import: three Trilu
// nodes over a claimed shape filled the machine's memory). Sizes follow the memory available:
// two [m, m] floats of 0.6 x MemAvailable each live at once.
TEST(CpuExecutorMemory, RunWhoseTensorsTogetherExceedMemoryFailsBeforeItStarts) {
  const std::optional<int64_t> avail = host_memory_available();
  ASSERT_TRUE(avail.has_value());
  const auto m = static_cast<int64_t>(std::sqrt(0.6 * static_cast<double>(*avail) / 4.0));
  ASSERT_GT(m * m * 4, kCheckedAllocationBytes);
  Network net;
  Tensor* col = net.add_input("col", DataType::kFLOAT, {-1, 1});
  Tensor* row = net.add_input("row", DataType::kFLOAT, {1, -1});
  Tensor* sum = net.add_elementwise(col, row, ElementWiseOperation::kSUM)->output(0);
  sum->set_name("sum");
  Tensor* prod = net.add_elementwise(col, row, ElementWiseOperation::kPROD)->output(0);
  prod->set_name("product");
  Tensor* diff = net.add_elementwise(sum, prod, ElementWiseOperation::kSUB)->output(0);
  Tensor* total = net.add_reduce(diff, ReduceOperation::kSUM, 3, false)->output(0);
  total->set_name("total");
  net.mark_output(total);
  BuilderConfig cfg;
  OptimizationProfile prof;
  prof.set_dimensions("col", {1, 1}, {4, 1}, {m, 1});
  prof.set_dimensions("row", {1, 1}, {1, 4}, {1, m});
  cfg.profiles.push_back(prof);
  auto engine = Builder::build(net, cfg);
  auto ctx = engine->create_execution_context();
  std::vector<float> a(static_cast<size_t>(m), 1.0f);
  ctx->set_input_shape("col", {m, 1});
  ctx->set_input_shape("row", {1, m});
  ctx->set_input("col", a.data());
  ctx->set_input("row", a.data());
  const std::string ms = std::to_string(m);
  expect_error(
      [&] { ctx->execute(); },
      {layerkit::detail::cat("the activations at input shapes col [", ms, ",1], row [1,", ms, "]"),
       "largest: tensor '", layerkit::detail::cat("float32[", ms, ",", ms, "]"), "out of memory",
       "exceeds"},
      ErrorCode::kOUT_OF_MEMORY);
  // Nothing ran: the context computes at small shapes afterwards (sum - product of 1 and 2
  // over 3 x 2 elements: 6 x (3 - 2) = 6).
  const std::vector<float> c{1, 1, 1}, r{2, 2};
  ctx->set_input_shape("col", {3, 1});
  ctx->set_input_shape("row", {1, 2});
  ctx->set_input("col", c.data());
  ctx->set_input("row", r.data());
  ctx->execute();
  const std::vector<uint8_t> out = ctx->output("total").data;
  ASSERT_EQ(out.size(), sizeof(float));
  float v = 0;
  std::memcpy(&v, out.data(), sizeof v);
  EXPECT_EQ(v, 6.0f);
}

}  // namespace
}  // namespace lktest
