// Times one loop with a static trip count two ways: unrolled by control_flow::loop and as a Loop
// layer (the body run per iteration on a CPU executor of its own); docs/onnx.md quotes the result.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "layerkit/builder/builder.h"
#include "layerkit/impl/control_flow.h"
#include "layerkit/runtime/engine.h"

namespace {

using namespace layerkit;

// x <- tanh(x @ W + b) for `trips` iterations, x [rows, 64]; outputs the final x and every
// iteration's x, stacked.
std::unique_ptr<Engine> build(int64_t trips, int64_t rows, bool unroll) {
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> dist(-0.2f, 0.2f);
  std::vector<float> w(64 * 64), b(64);
  for (float& v : w) v = dist(gen);
  for (float& v : b) v = dist(gen);
  auto body = std::make_shared<Network>();
  body->add_input("i", DataType::kINT64, Dims{});
  body->add_input("cond", DataType::kBOOL, Dims{});
  Tensor* x = body->add_input("x", DataType::kFLOAT, {rows, 64});
  Tensor* wt = body->add_constant({64, 64}, Weights::from_vector(w))->output(0);
  Tensor* bt = body->add_constant({1, 64}, Weights::from_vector(b))->output(0);
  Tensor* y =
      body->add_matrix_multiply(x, MatrixOperation::kNONE, wt, MatrixOperation::kNONE)->output(0);
  y = body->add_elementwise(y, bt, ElementWiseOperation::kSUM)->output(0);
  y = body->add_activation(y, ActivationType::kTANH)->output(0);
  body->mark_output(
      body->add_constant(Dims{}, Weights::from_vector(std::vector<bool>{true}))->output(0));
  body->mark_output(y);
  body->mark_output(body->add_identity(y)->output(0));
  Network net;
  impl::ConversionContext ctx(net);
  Tensor* x0 = net.add_input("x0", DataType::kFLOAT, {rows, 64});
  impl::control_flow::LoopInputs in;
  in.trip_limit =
      net.add_constant(Dims{}, Weights::from_vector(std::vector<int64_t>{trips}))->output(0);
  in.carried = {x0};
  impl::control_flow::LoopOptions opt;
  opt.max_unrolled_layers = unroll ? 1 << 20 : 0;
  auto r = impl::control_flow::loop(ctx, "Loop", impl::SourceIR::kONNX, "loop", body, in, opt);
  net.mark_output(r.carried[0]);
  net.mark_output(r.scan_outputs[0]);
  return Builder::build(net, BuilderConfig{});
}

void BM_Loop(benchmark::State& state) {
  const int64_t trips = state.range(0), rows = state.range(1);
  std::unique_ptr<Engine> engine = build(trips, rows, state.range(2) != 0);
  auto exec = engine->create_execution_context();
  std::vector<float> x(static_cast<size_t>(rows * 64), 0.5f);
  exec->set_input("x0", x.data());
  for (auto _ : state) exec->execute();
}

}  // namespace

// trips, rows, unrolled (1) or Loop layer (0).
BENCHMARK(BM_Loop)
    ->Args({8, 4, 1})
    ->Args({8, 4, 0})
    ->Args({8, 256, 1})
    ->Args({8, 256, 0})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
