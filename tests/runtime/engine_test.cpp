// ExecutionContext tests: input shapes against the profile, bindings, outputs, run-time errors.
#include "test_util.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <thread>

#include "layerkit/runtime/backend.h"

namespace lktest {
namespace {

struct Fixture {
  Network net;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ExecutionContext> ctx;
  Fixture() {
    Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3});
    Tensor* y = net.add_input("y", DataType::kFLOAT, {-1, 3});
    Layer* sum = net.add_elementwise(x, y, ElementWiseOperation::kSUM);
    sum->output(0)->set_name("sum");
    net.mark_output(sum->output(0));
    BuilderConfig c;
    OptimizationProfile p;
    p.set_dimensions("x", {1, 3}, {2, 3}, {4, 3});
    p.set_dimensions("y", {1, 3}, {2, 3}, {4, 3});
    c.profiles.push_back(p);
    engine = Builder::build(net, c);
    ctx = engine->create_execution_context();
  }
};

TEST(ExecutionContext, ShapeOutsideProfileIsRejected) {
  Fixture f;
  expect_error(
      [&] {
        f.ctx->set_input_shape("x", {5, 3});
      },
      {"'x'", "[5,3]", "outside optimization profile 0", "max [4,3]"});
  expect_error([&] { f.ctx->set_input_shape("x", {2, 4}); }, {"static dims", "axis 1"});
  expect_error([&] { f.ctx->set_input_shape("x", {2}); }, {"rank 1", "rank 2"});
  expect_error([&] { f.ctx->set_input_shape("x", {-1, 3}); }, {"dynamic entries"});
  expect_error([&] { f.ctx->set_input_shape("nope", {1, 3}); }, {"no engine input named 'nope'"});
}

TEST(ExecutionContext, ExecuteWithoutShapesOrBuffersFails) {
  Fixture f;
  expect_error([&] { f.ctx->execute(); }, {"input 'x'", "set_input_shape"});
  f.ctx->set_input_shape("x", {2, 3});
  f.ctx->set_input_shape("y", {2, 3});
  expect_error([&] { f.ctx->execute(); }, {"input 'x'", "no buffer"});
  expect_error([&] { f.ctx->output("sum"); }, {"execute has not run"});
}

TEST(ExecutionContext, RunTimeBroadcastMismatchIsAnError) {
  Fixture f;
  std::vector<float> a(6, 1.0f), b(9, 2.0f);
  f.ctx->set_input_shape("x", {2, 3});
  f.ctx->set_input_shape("y", {3, 3});
  f.ctx->set_input("x", a.data());
  f.ctx->set_input("y", b.data());
  // A failure while running is kRUNTIME (the network itself was valid when built).
  expect_error([&] { f.ctx->execute(); }, {"ElementWise layer", "[2,3]", "[3,3]"},
               ErrorCode::kRUNTIME);
  // The context stays usable after a failed run.
  f.ctx->set_input_shape("y", {2, 3});
  f.ctx->execute();
  const OwnedTensor& out = f.ctx->output("sum");
  EXPECT_EQ(out.dims, (Dims{2, 3}));
  EXPECT_EQ(reinterpret_cast<const float*>(out.data.data())[5], 3.0f);
}

TEST(ExecutionContext, DeviceTagMustMatchTheEngine) {
  Fixture f;
  float v = 0;
  expect_error([&] { f.ctx->set_input("x", &v, DeviceType::kCUDA); },
               {"'x'", "cuda", "engine runs on cpu"});
}

// A CUDA engine: without the backend the build says how to get it; with the backend but no usable
// GPU the build names the reason; with a GPU the engine runs and agrees with the CPU.
TEST(ExecutionContext, CudaEngineBuildsOnlyWhereItCanRun) {
  Fixture f;
  BuilderConfig c = f.engine->config();
  c.device = DeviceType::kCUDA;
  const std::vector<const Backend*> all = backends();
  const bool compiled_in = std::any_of(
      all.begin(), all.end(), [](const Backend* b) { return b->device() == DeviceType::kCUDA; });
  if (!compiled_in) {
    expect_error([&] { Builder::build(f.net, c); }, {"no cuda backend", "LAYERKIT_WITH_CUDA"},
                 ErrorCode::kUNSUPPORTED);
    return;
  }
  const std::string why = backend(DeviceType::kCUDA).unavailable_reason(0);
  if (!why.empty()) {
    expect_error([&] { Builder::build(f.net, c); }, {"cannot build for cuda:0", why},
                 ErrorCode::kUNSUPPORTED);
    c.device_index = 99;
    expect_error([&] { Builder::build(f.net, c); }, {"cannot build for cuda:99"},
                 ErrorCode::kUNSUPPORTED);
    return;
  }
  auto engine = Builder::build(f.net, c);
  auto ctx = engine->create_execution_context();
  std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {10, 20, 30, 40, 50, 60};
  ctx->set_input_shape("x", {2, 3});
  ctx->set_input_shape("y", {2, 3});
  ctx->set_input("x", a.data());
  ctx->set_input("y", b.data());
  ctx->execute();
  const float* got = reinterpret_cast<const float*>(ctx->output("sum").data.data());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(got[i], a[i] + b[i]) << i;
}

TEST(ExecutionContext, OutputShapeFollowsInputShape) {
  Fixture f;
  EXPECT_EQ(f.ctx->get_tensor_shape("sum"), (Dims{-1, 3}));
  std::vector<float> a(12, 1.0f);
  for (int n : {1, 2, 4}) {  // min, opt, max
    f.ctx->set_input_shape("x", {n, 3});
    f.ctx->set_input_shape("y", {n, 3});
    f.ctx->set_input("x", a.data());
    f.ctx->set_input("y", a.data());
    f.ctx->execute();
    EXPECT_EQ(f.ctx->get_tensor_shape("sum"), (Dims{n, 3}));
  }
}

// ---- TensorRT's I/O model ----------------------------------------------------------------------

// y = relu(x) and z = y * 2 (both outputs), x [-1, 8] with profile 1..4..16: y feeds z, so z's
// allocator runs after y's layer and can look at y's memory mid-run.
struct IoFixture {
  Network net;
  std::unique_ptr<Engine> engine;
  IoFixture() {
    Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 8});
    Layer* relu = net.add_activation(x, ActivationType::kRELU);
    relu->output(0)->set_name("y");
    Tensor* two =
        net.add_constant({1, 1}, Weights::from_vector(std::vector<float>{2.0f}))->output(0);
    Layer* z = net.add_elementwise(relu->output(0), two, ElementWiseOperation::kPROD);
    z->output(0)->set_name("z");
    net.mark_output(relu->output(0));
    net.mark_output(z->output(0));
    BuilderConfig c;
    OptimizationProfile p;
    p.set_dimensions("x", {1, 8}, {4, 8}, {16, 8});
    c.profiles.push_back(p);
    engine = Builder::build(net, c);
  }
};

std::vector<float> ramp(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i % 7) - 3.0f;
  return v;
}

// Records what the run asked for; hands out one vector per output.
class RecordingAllocator final : public OutputAllocator {
 public:
  std::vector<uint8_t> memory;
  uint64_t size = 0;
  int calls = 0;
  void* current_seen = nullptr;
  Dims dims;
  std::function<void()> on_allocate;
  void* reallocate_output(std::string_view, void* current, uint64_t bytes, uint64_t) override {
    ++calls;
    current_seen = current;
    size = bytes;
    if (on_allocate) on_allocate();
    if (memory.size() < bytes) memory.resize(bytes);
    return memory.data();
  }
  void notify_shape(std::string_view, const Dims& d) override { dims = d; }
};

TEST(TensorAddress, OutputsAreWrittenInPlace) {
  IoFixture f;
  auto ctx = f.engine->create_execution_context();
  std::vector<float> x = ramp(4 * 8), y(4 * 8, -100.0f);
  ctx->set_input_shape("x", {4, 8});
  ctx->set_tensor_address("x", x.data());
  ctx->set_tensor_address("y", y.data());
  EXPECT_EQ(ctx->get_tensor_address("y"), y.data());
  EXPECT_EQ(ctx->get_tensor_address("x"), x.data());
  // z's memory is asked for after y's layer ran and before the run ends: y's buffer already holds
  // the result then, so the kernel wrote it there (a copy at the end would leave -100s).
  RecordingAllocator za;
  bool y_done_when_z_allocated = false;
  za.on_allocate = [&] {
    y_done_when_z_allocated = true;
    for (size_t i = 0; i < x.size(); ++i)
      y_done_when_z_allocated = y_done_when_z_allocated && y[i] == std::max(x[i], 0.0f);
  };
  ctx->set_output_allocator("z", &za);
  EXPECT_EQ(ctx->get_output_allocator("z"), &za);
  ctx->enqueue(nullptr);
  ctx->synchronize();
  EXPECT_TRUE(y_done_when_z_allocated);
  EXPECT_EQ(za.calls, 1);
  EXPECT_EQ(za.size, 4u * 8u * 4u);
  EXPECT_EQ(za.dims, (Dims{4, 8}));
  const auto* z = reinterpret_cast<const float*>(za.memory.data());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(y[i], std::max(x[i], 0.0f)) << i;
    EXPECT_EQ(z[i], 2.0f * std::max(x[i], 0.0f)) << i;
  }
  // The second run passes the allocator its earlier memory.
  ctx->enqueue();
  EXPECT_EQ(za.current_seen, za.memory.data());
  // A bound output is read where it is bound, not through output().
  expect_error([&] { ctx->output("y"); }, {"'y'", "set_tensor_address"});
}

TEST(TensorAddress, OutputShapesAreKnownBeforeTheRun) {
  IoFixture f;
  auto ctx = f.engine->create_execution_context();
  EXPECT_EQ(ctx->get_tensor_shape("z"), (Dims{-1, 8}));  // no input shape yet
  for (int64_t n : {1, 4, 16}) {                         // min, opt, max
    ctx->set_input_shape("x", {n, 8});
    EXPECT_EQ(ctx->get_tensor_shape("y"), (Dims{n, 8}));
    EXPECT_EQ(ctx->get_tensor_shape("z"), (Dims{n, 8}));
  }
  // Only data-dependent dims stay -1: NonZero's count.
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3});
  Layer* nz = net.add_non_zero(x);
  nz->output(0)->set_name("idx");
  net.mark_output(nz->output(0));
  BuilderConfig c;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 3}, {2, 3}, {5, 3});
  c.profiles.push_back(p);
  auto engine = Builder::build(net, c);
  auto nctx = engine->create_execution_context();
  for (int64_t n : {1, 2, 5}) {
    nctx->set_input_shape("x", {n, 3});
    EXPECT_EQ(nctx->get_tensor_shape("idx"), (Dims{2, -1}));
  }
}

TEST(TensorAddress, NonZeroThroughTheOutputAllocator) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3});
  Layer* nz = net.add_non_zero(x);
  nz->output(0)->set_name("idx");
  net.mark_output(nz->output(0));
  BuilderConfig c;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 3}, {2, 3}, {5, 3});
  c.profiles.push_back(p);
  auto engine = Builder::build(net, c);
  auto ctx = engine->create_execution_context();
  const std::vector<float> v = {0, 1, 0, 2, 0, 3, 0, 0, 4, 5, 0, 0};  // 4 x 3: 5 non-zeros
  ctx->set_input_shape("x", {4, 3});
  ctx->set_tensor_address("x", const_cast<float*>(v.data()));
  RecordingAllocator a;
  ctx->set_output_allocator("idx", &a);
  ctx->enqueue();
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(a.dims, (Dims{2, 5}));
  EXPECT_EQ(a.size, 2u * 5u * sizeof(int64_t));
  EXPECT_EQ(ctx->get_tensor_shape("idx"), (Dims{2, 5}));
  std::vector<int64_t> rows, cols;
  for (int64_t i = 0; i < 12; ++i)
    if (v[static_cast<size_t>(i)] != 0) rows.push_back(i / 3), cols.push_back(i % 3);
  const auto* got = reinterpret_cast<const int64_t*>(a.memory.data());
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(got[k], rows[k]) << k;
    EXPECT_EQ(got[5 + k], cols[k]) << k;
  }
  // A plain address for a data-dependent output needs its size.
  std::vector<int64_t> out(4);
  ctx->set_tensor_address("idx", out.data());
  expect_error([&] { ctx->enqueue(); }, {"'idx'", "data-dependent", "set_output_allocator"});
  ctx->set_tensor_address("idx", out.data(), out.size() * sizeof(int64_t));
  expect_error([&] { ctx->enqueue(); }, {"'idx'", "[2,5]", "80 bytes", "holds 32"});
}

TEST(TensorAddress, Errors) {
  IoFixture f;
  auto ctx = f.engine->create_execution_context();
  std::vector<float> x(16 * 8), y(16 * 8), z(16 * 8);
  expect_error([&] { ctx->set_tensor_address("nope", x.data()); },
               {"no engine input or output named 'nope'", "x, y, z"});
  expect_error([&] { ctx->set_tensor_address("y", nullptr); }, {"'y'", "null"});
  expect_error([&] { ctx->set_output_allocator("x", nullptr); }, {"no engine output named 'x'"});
  expect_error([&] { ctx->set_output_allocator("z", nullptr); }, {"'z'", "null"});
  ctx->set_input_shape("x", {4, 8});
  expect_error([&] { ctx->enqueue(); }, {"'y'", "not bound"});
  ctx->set_tensor_address("y", y.data());
  ctx->set_tensor_address("z", z.data(), 3 * 8 * sizeof(float));
  expect_error([&] { ctx->enqueue(); }, {"input 'x'", "no buffer"});
  ctx->set_tensor_address("x", x.data());
  expect_error([&] { ctx->enqueue(); }, {"output 'z'", "[4,8]", "128 bytes", "holds 96 bytes"});
  ctx->set_tensor_address("z", z.data(), 4 * 8 * sizeof(float));
  int not_a_stream = 0;
  expect_error([&] { ctx->enqueue(&not_a_stream); }, {"CPU engine", "stream"});
  ctx->enqueue();  // the context stays usable
  EXPECT_EQ(z[1], 2.0f * std::max(x[1], 0.0f));
}

TEST(DeviceMemory, UserArena) {
  // The transpose's output is an activation (not an engine output), so it lives in the arena.
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 8});
  ShuffleAttrs t;
  t.first_transpose = {1, 0};
  Layer* sh = net.add_shuffle(x, t);
  Layer* relu = net.add_activation(sh->output(0), ActivationType::kRELU);
  relu->output(0)->set_name("y");
  net.mark_output(relu->output(0));
  BuilderConfig c;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 8}, {4, 8}, {16, 8});
  c.profiles.push_back(p);
  auto engine = Builder::build(net, c);
  const uint64_t need = engine->device_memory_size();
  EXPECT_EQ(need, 16u * 8u * sizeof(float));  // the transpose at the max shape
  auto ctx = engine->create_execution_context_without_device_memory();
  std::vector<float> in = ramp(16 * 8), y(16 * 8), y_ref(16 * 8);
  ctx->set_input_shape("x", {16, 8});
  ctx->set_tensor_address("x", in.data());
  ctx->set_tensor_address("y", y.data());
  expect_error([&] { ctx->enqueue(); }, {"without device memory", std::to_string(need)});
  std::vector<uint8_t> arena(need, 0xff);
  expect_error([&] { ctx->set_device_memory(arena.data(), need - 1); },
               {std::to_string(need - 1), std::to_string(need), "device_memory_size"});
  expect_error([&] { ctx->set_device_memory(nullptr, need); }, {"null"});
  ctx->set_device_memory(arena.data(), need);
  ctx->enqueue();
  auto ref = engine->create_execution_context();
  ref->set_input_shape("x", {16, 8});
  ref->set_tensor_address("x", in.data());
  ref->set_tensor_address("y", y_ref.data());
  ref->enqueue();
  EXPECT_EQ(y, y_ref);
  // The transposed activation went to the arena.
  const auto* a = reinterpret_cast<const float*>(arena.data());
  for (int64_t i = 0; i < 16 * 8; ++i)
    EXPECT_EQ(a[i], in[static_cast<size_t>((i % 16) * 8 + i / 16)]) << i;
}

// A matmul with a 512 x 512 constant weight (1 MiB), bias and relu.
std::unique_ptr<Engine> weight_engine(Network& net) {
  const int64_t k = 512;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, k});
  std::vector<float> w(static_cast<size_t>(k * k));
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = static_cast<float>(static_cast<int>(i % 13) - 6) / 64.0f;
  Tensor* wt = net.add_constant({k, k}, Weights::from_vector(w))->output(0);
  Layer* mm = net.add_matrix_multiply(x, MatrixOperation::kNONE, wt, MatrixOperation::kNONE);
  Layer* relu = net.add_activation(mm->output(0), ActivationType::kRELU);
  Layer* sm = net.add_softmax(relu->output(0), 1u << 1);
  sm->output(0)->set_name("y");
  net.mark_output(sm->output(0));
  BuilderConfig c;
  OptimizationProfile p;
  p.set_dimensions("x", {1, k}, {4, k}, {8, k});
  c.profiles.push_back(p);
  return Builder::build(net, c);
}

int64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
}

TEST(EngineState, ContextsShareWeights) {
  Network net;
  auto engine = weight_engine(net);
  std::vector<float> x = ramp(4 * 512), y1(4 * 512), y2(4 * 512);
  auto run = [&](ExecutionContext& ctx, std::vector<float>& y) {
    ctx.set_input_shape("x", {4, 512});
    ctx.set_tensor_address("x", x.data());
    ctx.set_tensor_address("y", y.data());
    ctx.enqueue();
  };
  const int64_t rss0 = rss_bytes();
  auto c1 = engine->create_execution_context();
  run(*c1, y1);
  const uint64_t weights = engine->weights_bytes();
  const int64_t rss1 = rss_bytes();
  auto c2 = engine->create_execution_context();
  run(*c2, y2);
  const int64_t rss2 = rss_bytes();
  // The constant (1 MiB) is held once, and its packed copy (where a kernel packs) once too.
  EXPECT_GE(weights, 512u * 512u * 4u);
  EXPECT_EQ(engine->weights_bytes(), weights);
  // A context holds only activations: a few [4, 512] tensors.
  EXPECT_LT(c2->memory_bytes(), 4u * 4u * 512u * 4u);
  EXPECT_EQ(y1, y2);
  std::printf(
      "engine state %llu bytes; context 1 %llu bytes, context 2 %llu bytes; RSS +%lld "
      "bytes for the first context (engine state made), +%lld for the second\n",
      static_cast<unsigned long long>(weights), static_cast<unsigned long long>(c1->memory_bytes()),
      static_cast<unsigned long long>(c2->memory_bytes()), static_cast<long long>(rss1 - rss0),
      static_cast<long long>(rss2 - rss1));
}

TEST(EngineState, EightThreadsEachWithAContext) {
  Network net;
  auto engine = weight_engine(net);
  const std::vector<int64_t> batches = {1, 4, 8, 3};
  std::vector<std::vector<float>> xs, want;
  {
    auto ctx = engine->create_execution_context();
    for (int64_t b : batches) {
      xs.push_back(ramp(b * 512));
      for (size_t i = 0; i < xs.back().size(); ++i) xs.back()[i] *= 0.01f * static_cast<float>(b);
      want.emplace_back(static_cast<size_t>(b * 512));
      ctx->set_input_shape("x", {b, 512});
      ctx->set_tensor_address("x", xs.back().data());
      ctx->set_tensor_address("y", want.back().data());
      ctx->enqueue();
    }
  }
  constexpr int kThreads = 8, kRuns = 1000;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      try {
        auto ctx = engine->create_execution_context();
        std::vector<float> y(8 * 512);
        for (int r = 0; r < kRuns; ++r) {
          const size_t which = static_cast<size_t>((r + t) % static_cast<int>(batches.size()));
          const int64_t b = batches[which];
          ctx->set_input_shape("x", {b, 512});
          ctx->set_tensor_address("x", xs[which].data());
          ctx->set_tensor_address("y", y.data());
          ctx->enqueue();
          if (!std::equal(want[which].begin(), want[which].end(), y.begin()))
            ++mismatches[static_cast<size_t>(t)];
        }
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(t)] = e.what();
      }
    });
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[static_cast<size_t>(t)], "") << "thread " << t;
    EXPECT_EQ(mismatches[static_cast<size_t>(t)], 0) << "thread " << t;
  }
}

// A small MLP (matmul against a constant, bias, ReLU, softmax): cheap to run thousands of times,
// with fused and oneDNN kernels in it so shared state in any of them would show.
struct SmallMlp {
  Network net;
  std::unique_ptr<Engine> engine;
  SmallMlp() {
    Tensor* x = net.add_input("x", DataType::kFLOAT, {4, 16});
    Tensor* w = constant(net, random(DataType::kFLOAT, {16, 8}, 1));
    Tensor* b = constant(net, random(DataType::kFLOAT, {1, 8}, 2));
    Tensor* h =
        net.add_matrix_multiply(x, MatrixOperation::kNONE, w, MatrixOperation::kNONE)->output(0);
    h = net.add_elementwise(h, b, ElementWiseOperation::kSUM)->output(0);
    h = net.add_activation(h, ActivationType::kRELU)->output(0);
    Tensor* y = net.add_softmax(h, 1u << 1)->output(0);
    y->set_name("y");
    net.mark_output(y);
    engine = Builder::build(net, {});
  }
};

// The input of run `i` of thread `t`: every run sees different values.
std::vector<float> mlp_input(int t, int i) {
  at::Tensor a = random(DataType::kFLOAT, {4, 16}, static_cast<uint64_t>(t * 100003 + i));
  return {a.data_ptr<float>(), a.data_ptr<float>() + a.numel()};
}

std::vector<float> run_mlp(ExecutionContext& ctx, const std::vector<float>& in) {
  ctx.set_input("x", in.data());
  ctx.execute();
  std::span<const float> y = ctx.output("y").as<float>();
  return {y.begin(), y.end()};
}

TEST(EngineConcurrency, ContextsOnEightThreadsMatchOneThread) {
  SmallMlp m;
  constexpr int kThreads = 8, kRuns = 1000;
  // The expected outputs, from one context on this thread, bit for bit.
  std::vector<std::vector<std::vector<float>>> expected(kThreads);
  {
    auto ctx = m.engine->create_execution_context();
    for (int t = 0; t < kThreads; ++t)
      for (int i = 0; i < kRuns; ++i) expected[t].push_back(run_mlp(*ctx, mlp_input(t, i)));
  }
  std::vector<std::vector<float>> inputs;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kRuns; ++i) inputs.push_back(mlp_input(t, i));
  std::atomic<int> mismatches{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      try {
        auto ctx = m.engine->create_execution_context();
        for (int i = 0; i < kRuns; ++i)
          if (run_mlp(*ctx, inputs[static_cast<size_t>(t * kRuns + i)]) != expected[t][i])
            ++mismatches;
      } catch (const std::exception&) {
        ++errors;
      }
    });
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(mismatches.load(), 0) << "of " << kThreads * kRuns << " runs";
}

// One thread calls execute, the other enqueue: both enter the same guard.
TEST(EngineConcurrency, OneContextOnTwoThreadsIsRefused) {
  // Big enough that a run takes a while, so the two threads overlap often.
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {256, 1024});
  Tensor* h = x;
  for (int i = 0; i < 8; ++i) h = net.add_activation(h, ActivationType::kTANH)->output(0);
  h->set_name("y");
  net.mark_output(h);
  auto engine = Builder::build(net, {});
  auto ctx = engine->create_execution_context();
  std::vector<float> in(256 * 1024, 0.5f), y(256 * 1024, 0.0f);
  ctx->set_input("x", in.data());
  ctx->set_tensor_address("y", y.data());
  std::atomic<int> refused{0}, other{0}, ran{0};
  std::atomic<bool> stop{false};
  auto hammer = [&](bool enqueue) {
    while (!stop.load()) {
      try {
        if (enqueue)
          ctx->enqueue();
        else
          ctx->execute();
        ++ran;
      } catch (const Error& e) {
        if (e.code() == ErrorCode::kINVALID_ARGUMENT &&
            std::string(e.what()).find("already running on another thread") != std::string::npos)
          ++refused;
        else
          ++other;
      }
      if (refused.load() >= 20 && ran.load() >= 20) stop = true;
    }
  };
  std::thread a(hammer, false), b(hammer, true);
  // At most 20 s, far more than the overlaps need (the guard is checked on every call).
  for (int i = 0; i < 2000 && !stop.load(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop = true;
  a.join();
  b.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GE(refused.load(), 1);
  EXPECT_GE(ran.load(), 1);
  // The context is usable afterwards and computes the right thing.
  std::fill(y.begin(), y.end(), 0.0f);
  ctx->execute();
  float want = 0.5f;
  for (int i = 0; i < 8; ++i) want = std::tanh(want);
  EXPECT_NEAR(y[12345], want, 1e-6f);
}

// On a CUDA engine (skipped without a usable GPU): host memory is not the engine's device memory.
TEST(TensorAddress, CudaEngineRejectsHostMemory) {
  const std::vector<const Backend*> all = backends();
  if (std::none_of(all.begin(), all.end(),
                   [](const Backend* b) { return b->device() == DeviceType::kCUDA; }) ||
      !backend(DeviceType::kCUDA).unavailable_reason(0).empty())
    GTEST_SKIP() << "no usable CUDA device";
  IoFixture f;
  BuilderConfig c = f.engine->config();
  c.device = DeviceType::kCUDA;
  auto engine = Builder::build(f.net, c);
  auto ctx = engine->create_execution_context();
  std::vector<float> x(8);
  expect_error([&] { ctx->set_tensor_address("x", x.data()); },
               {"'x'", "not cuda memory", "GPU 0"});
  // The simple path still runs (host buffers staged), through enqueue underneath.
  std::vector<float> in = ramp(2 * 8);
  ctx->set_input_shape("x", {2, 8});
  ctx->set_input("x", in.data());
  ctx->execute();
  const auto z = ctx->output("z").as<float>();
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(z[i], 2.0f * std::max(in[i], 0.0f)) << i;
  EXPECT_EQ(engine->weights_bytes(), 0u);  // CUDA contexts do not share yet
}

}  // namespace
}  // namespace lktest
