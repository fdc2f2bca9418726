// CPU executor tests: per-layer profiling records, their counts and their on/off behaviour.
#include <chrono>

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

}  // namespace
}  // namespace lktest
