// ExecutionContext tests: input shapes against the profile, bindings, outputs, run-time errors.
#include "test_util.h"

#include <algorithm>
#include <atomic>
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
  std::vector<float> in(256 * 1024, 0.5f);
  ctx->set_input("x", in.data());
  std::atomic<int> refused{0}, other{0}, ran{0};
  std::atomic<bool> stop{false};
  auto hammer = [&] {
    while (!stop.load()) {
      try {
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
  std::thread a(hammer), b(hammer);
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
  ctx->execute();
  float want = 0.5f;
  for (int i = 0; i < 8; ++i) want = std::tanh(want);
  EXPECT_NEAR(ctx->output("y").as<float>()[12345], want, 1e-6f);
}

}  // namespace
}  // namespace lktest
