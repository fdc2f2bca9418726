// Times Convolution, MatrixMultiply and Pooling layers with the fast CPU implementations against
// the reference kernels, then prints the reference/fast ratio of each case.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "layerkit/builder/builder.h"
#include "layerkit/network/network.h"
#include "layerkit/runtime/engine.h"

namespace {

using namespace layerkit;

Dims dims(const std::vector<int64_t>& v) {
  return Dims(std::span<const int64_t>(v));
}

std::vector<float> random_values(int64_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(gen);
  return v;
}

// A one-layer network whose single input is "x".
struct Case {
  std::unique_ptr<Network> net;
  std::vector<int64_t> x;
  std::vector<float> keep;  // weights the network borrows
};

Case conv_case(int64_t n, int64_t c, int64_t hw, int64_t k, int64_t ks) {
  Case cs{std::make_unique<Network>(), {n, c, hw, hw}, random_values(k * c * ks * ks, 1)};
  Tensor* in = cs.net->add_input("x", DataType::kFLOAT, dims(cs.x));
  ConvolutionAttrs a;
  a.num_output_maps = k;
  a.kernel_size = dims({ks, ks});
  a.pre_padding = dims({ks / 2, ks / 2});
  a.post_padding = dims({ks / 2, ks / 2});
  a.kernel = Weights::borrow(DataType::kFLOAT, cs.keep.data(), k * c * ks * ks);
  cs.net->mark_output(cs.net->add_convolution_nd(in, a)->output(0));
  return cs;
}

Case matmul_case(int64_t m, int64_t k, int64_t n) {
  Case cs{std::make_unique<Network>(), {m, k}, random_values(k * n, 2)};
  Tensor* in = cs.net->add_input("x", DataType::kFLOAT, dims(cs.x));
  Tensor* b =
      cs.net->add_constant(dims({k, n}), Weights::borrow(DataType::kFLOAT, cs.keep.data(), k * n))
          ->output(0);
  cs.net->mark_output(
      cs.net->add_matrix_multiply(in, MatrixOperation::kNONE, b, MatrixOperation::kNONE)
          ->output(0));
  return cs;
}

Case pool_case(int64_t c, int64_t hw, PoolingType type) {
  Case cs{std::make_unique<Network>(), {1, c, hw, hw}, {}};
  Tensor* in = cs.net->add_input("x", DataType::kFLOAT, dims(cs.x));
  PoolingAttrs a;
  a.type = type;
  a.window = dims({3, 3});
  a.stride = dims({2, 2});
  a.pre_padding = dims({1, 1});
  a.post_padding = dims({1, 1});
  cs.net->mark_output(cs.net->add_pooling_nd(in, a)->output(0));
  return cs;
}

void run_case(benchmark::State& state, const Case& cs, bool reference, int threads) {
  BuilderConfig cfg;
  cfg.reference_kernels_only = reference;
  cfg.num_threads = threads;
  std::unique_ptr<Engine> engine = Builder::build(*cs.net, cfg);
  std::unique_ptr<ExecutionContext> ctx = engine->create_execution_context();
  int64_t numel = 1;
  for (int64_t d : cs.x) numel *= d;
  std::vector<float> x = random_values(numel, 3);
  ctx->set_input("x", x.data());
  ctx->execute();  // chooses the implementations and pre-packs weights outside the timing
  for (auto _ : state) ctx->execute();
  const Network& net = engine->network();
  state.SetLabel(ctx->layer_implementation(net.layer(net.num_layers() - 1)->name()));
}

// name -> real time per iteration of the "reference" and "fast" runs.
std::map<std::string, std::map<std::string, double>> g_times;

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      const std::string name = r.benchmark_name();
      const size_t slash = name.rfind('/');
      g_times[name.substr(0, slash)][name.substr(slash + 1)] = r.GetAdjustedRealTime();
    }
  }
};

void register_case(const std::string& name, std::shared_ptr<Case> cs) {
  benchmark::RegisterBenchmark((name + "/reference").c_str(), [cs](benchmark::State& s) {
    run_case(s, *cs, true, 1);
  })->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark((name + "/fast").c_str(), [cs](benchmark::State& s) {
    run_case(s, *cs, false, 1);
  })->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark((name + "/fast_2threads").c_str(), [cs](benchmark::State& s) {
    run_case(s, *cs, false, 2);
  })->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  register_case("conv_1x16x32x32_k16_3x3", std::make_shared<Case>(conv_case(1, 16, 32, 16, 3)));
  register_case("conv_1x64x28x28_k64_3x3", std::make_shared<Case>(conv_case(1, 64, 28, 64, 3)));
  register_case("conv_2x32x28x28_k64_1x1", std::make_shared<Case>(conv_case(2, 32, 28, 64, 1)));
  register_case("matmul_128x128x128", std::make_shared<Case>(matmul_case(128, 128, 128)));
  register_case("matmul_64x512x256", std::make_shared<Case>(matmul_case(64, 512, 256)));
  register_case("maxpool_1x64x112x112_3x3s2",
                std::make_shared<Case>(pool_case(64, 112, PoolingType::kMAX)));
  register_case("avgpool_1x64x112x112_3x3s2",
                std::make_shared<Case>(pool_case(64, 112, PoolingType::kAVERAGE)));
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\n%-32s %14s %14s\n", "case", "ref/fast", "ref/fast(2t)");
  for (const auto& [name, t] : g_times) {
    auto at = [&](const char* k) {
      auto it = t.find(k);
      return it == t.end() ? 0.0 : it->second;
    };
    if (at("fast") <= 0 || at("reference") <= 0) continue;
    std::printf("%-32s %14.1f %14.1f\n", name.c_str(), at("reference") / at("fast"),
                at("fast_2threads") > 0 ? at("reference") / at("fast_2threads") : 0.0);
  }
  benchmark::Shutdown();
  return 0;
}
