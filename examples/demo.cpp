// Demo: builds a small CNN through the Network API, runs it on the CPU engine, prints the result.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "layerkit/builder/builder.h"
#include "layerkit/network/network.h"
#include "layerkit/runtime/engine.h"

namespace {

using namespace layerkit;

Weights random_weights(int64_t count, float scale, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v) x = dist(rng);
  return Weights::from_vector(DataType::kFLOAT, v);
}

// conv(3->16, 3x3) -> per-channel scale -> relu -> max pool 2x2 -> flatten -> matmul -> +bias
// -> softmax, with a dynamic batch dimension.
std::unique_ptr<Network> make_network(std::mt19937& rng) {
  auto net = std::make_unique<Network>();
  Tensor* x = net->add_input("image", DataType::kFLOAT, {-1, 3, 32, 32});

  ConvolutionAttrs conv;
  conv.num_output_maps = 16;
  conv.kernel_size = {3, 3};
  conv.kernel = random_weights(16 * 3 * 3 * 3, 0.2f, rng);
  conv.bias = random_weights(16, 0.1f, rng);
  conv.pre_padding = {1, 1};
  conv.post_padding = {1, 1};
  Layer* c = net->add_convolution_nd(x, conv);
  c->set_name("conv1");

  ScaleAttrs scale;
  scale.mode = ScaleMode::kCHANNEL;
  scale.scale = random_weights(16, 1.0f, rng);
  scale.shift = random_weights(16, 0.1f, rng);
  Layer* s = net->add_scale_nd(c->output(0), scale);
  s->set_name("bn1");

  Layer* r = net->add_activation(s->output(0), ActivationType::kRELU);
  r->set_name("relu1");

  PoolingAttrs pool;
  pool.type = PoolingType::kMAX;
  pool.window = {2, 2};
  Layer* p = net->add_pooling_nd(r->output(0), pool);
  p->set_name("pool1");

  ShuffleAttrs flatten;
  flatten.reshape_dims = Dims{0, -1};
  Layer* f = net->add_shuffle(p->output(0), flatten);
  f->set_name("flatten");

  Layer* w = net->add_constant({16 * 16 * 16, 10}, random_weights(16 * 16 * 16 * 10, 0.02f, rng));
  w->set_name("fc_weight");
  Layer* mm = net->add_matrix_multiply(f->output(0), MatrixOperation::kNONE, w->output(0),
                                       MatrixOperation::kNONE);
  mm->set_name("fc");
  Layer* b = net->add_constant({1, 10}, random_weights(10, 0.1f, rng));
  b->set_name("fc_bias");
  Layer* add = net->add_elementwise(mm->output(0), b->output(0), ElementWiseOperation::kSUM);
  add->set_name("fc_add");

  Layer* sm = net->add_softmax(add->output(0), /*axes=*/1u << 1);
  sm->set_name("softmax");
  sm->output(0)->set_name("probabilities");
  net->mark_output(sm->output(0));
  return net;
}

}  // namespace

int main(int argc, char** argv) {
  int batch = argc > 1 ? std::atoi(argv[1]) : 4;
  int iterations = argc > 2 ? std::atoi(argv[2]) : 10;
  try {
    std::mt19937 rng(42);
    auto net = make_network(rng);
    std::printf("== network (%d layers)\n%s\n", net->num_layers(), net->to_string().c_str());

    BuilderConfig config;
    OptimizationProfile profile;
    profile.set_dimensions("image", {1, 3, 32, 32}, {4, 3, 32, 32}, {8, 3, 32, 32});
    config.profiles.push_back(profile);
    auto t0 = std::chrono::steady_clock::now();
    auto engine = Builder::build(*net, config);
    auto t1 = std::chrono::steady_clock::now();
    auto ctx = engine->create_execution_context();

    std::vector<float> image(static_cast<size_t>(batch) * 3 * 32 * 32);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& v : image) v = u(rng);
    ctx->set_input_shape("image", {batch, 3, 32, 32});
    ctx->set_input("image", image.data());

    ctx->execute();  // warm-up
    std::vector<double> ms;
    for (int i = 0; i < iterations; ++i) {
      auto a = std::chrono::steady_clock::now();
      ctx->execute();
      auto z = std::chrono::steady_clock::now();
      ms.push_back(std::chrono::duration<double, std::milli>(z - a).count());
    }
    std::sort(ms.begin(), ms.end());

    const OwnedTensor& out = ctx->output("probabilities");
    const auto* probs = reinterpret_cast<const float*>(out.data.data());
    std::printf("== output 'probabilities' %s %s\n", data_type_name(out.type).data(),
                out.dims.to_string().c_str());
    for (int n = 0; n < out.dims[0]; ++n) {
      const float* row = probs + n * out.dims[1];
      int arg = static_cast<int>(std::max_element(row, row + out.dims[1]) - row);
      float sum = 0;
      for (int k = 0; k < out.dims[1]; ++k) sum += row[k];
      std::printf("  sample %d: argmax %d (p=%.4f), sum of probabilities %.6f\n", n, arg, row[arg],
                  sum);
    }
    std::printf("== timing (reference CPU kernels, batch %d)\n", batch);
    std::printf("  build: %.2f ms\n", std::chrono::duration<double, std::milli>(t1 - t0).count());
    std::printf("  execute: median %.2f ms, min %.2f ms, max %.2f ms over %d runs\n",
                ms[ms.size() / 2], ms.front(), ms.back(), iterations);
  } catch (const Error& e) {
    std::fprintf(stderr, "layerkit error (%s): %s\n", error_code_name(e.code()).data(), e.what());
    return 1;
  }
  return 0;
}
