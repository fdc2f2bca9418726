// Builder tests: optimization-profile validation and whole-network checks at min/opt/max.
#include "test_util.h"

namespace lktest {
namespace {

// x[-1, 4] + y[-1, 4]: batch dims must agree at run time.
std::unique_ptr<Network> two_input_sum() {
  auto net = std::make_unique<Network>();
  Tensor* x = net->add_input("x", DataType::kFLOAT, {-1, 4});
  Tensor* y = net->add_input("y", DataType::kFLOAT, {-1, 4});
  net->mark_output(net->add_elementwise(x, y, ElementWiseOperation::kSUM)->output(0));
  return net;
}

BuilderConfig profile_config(Dims xmin, Dims xopt, Dims xmax, Dims ymin, Dims yopt, Dims ymax) {
  BuilderConfig c;
  OptimizationProfile p;
  p.set_dimensions("x", xmin, xopt, xmax);
  p.set_dimensions("y", ymin, yopt, ymax);
  c.profiles.push_back(p);
  return c;
}

TEST(Builder, DynamicInputWithoutProfileFails) {
  auto net = two_input_sum();
  expect_error([&] { Builder::build(*net, {}); },
               {"input 'x'", "[-1,4]", "no optimization profile"});
}

TEST(Builder, ProfileMissingOneInputFails) {
  auto net = two_input_sum();
  BuilderConfig c;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 4}, {2, 4}, {4, 4});
  c.profiles.push_back(p);
  expect_error([&] { Builder::build(*net, c); }, {"input 'y'", "profile 0", "no min/opt/max"});
}

TEST(Builder, MinAboveOptIsRejected) {
  OptimizationProfile p;
  expect_error(
      [&] {
        p.set_dimensions("x", {4, 4}, {2, 4}, {8, 4});
      },
      {"min <= opt <= max", "axis 0", "[4,4]", "[2,4]"});
  expect_error([&] { p.set_dimensions("x", {1, 4}, {2, 4}, {8}); }, {"different ranks"});
  expect_error([&] { p.set_dimensions("x", {-1, 4}, {2, 4}, {8, 4}); }, {"concrete"});
}

TEST(Builder, ProfileNamingAnUnknownInputFails) {
  auto net = two_input_sum();
  BuilderConfig c = profile_config({1, 4}, {2, 4}, {4, 4}, {1, 4}, {2, 4}, {4, 4});
  c.profiles[0].set_dimensions("z", {1}, {1}, {1});
  expect_error([&] { Builder::build(*net, c); }, {"'z'", "not a network input"});
}

TEST(Builder, ProfileContradictingStaticDimFails) {
  auto net = two_input_sum();
  BuilderConfig c = profile_config({1, 3}, {2, 4}, {4, 4}, {1, 4}, {2, 4}, {4, 4});
  expect_error([&] { Builder::build(*net, c); }, {"'x'", "static dim 4", "axis 1"});
}

TEST(Builder, NetworkInvalidAtMaxShapesFails) {
  auto net = two_input_sum();
  // At max, x has batch 8 and y batch 4: they cannot broadcast.
  BuilderConfig c = profile_config({1, 4}, {4, 4}, {8, 4}, {1, 4}, {4, 4}, {4, 4});
  expect_error([&] { Builder::build(*net, c); },
               {"max shapes of profile 0", "ElementWise layer", "do not broadcast"});
}

TEST(Builder, NoOutputsFails) {
  Network net;
  net.add_input("x", DataType::kFLOAT, {2});
  expect_error([&] { Builder::build(net, {}); }, {"no outputs"});
}

TEST(Builder, BadThreadCountFails) {
  auto net = two_input_sum();
  BuilderConfig c = profile_config({1, 4}, {2, 4}, {4, 4}, {1, 4}, {2, 4}, {4, 4});
  c.num_threads = 0;
  expect_error([&] { Builder::build(*net, c); }, {"num_threads is 0", "between 1 and 1024"});
  // OpenMP would set up a team of this many threads at the first parallel region.
  c.num_threads = kMaxNumThreads + 1;
  expect_error([&] { Builder::build(*net, c); }, {"num_threads is 1025", "between 1 and 1024"});
  c.num_threads = kMaxNumThreads;
  EXPECT_NO_THROW(Builder::build(*net, c));
}

TEST(Builder, EngineCopiesTheNetwork) {
  auto net = two_input_sum();
  auto engine =
      Builder::build(*net, profile_config({1, 4}, {2, 4}, {4, 4}, {1, 4}, {2, 4}, {4, 4}));
  std::string text = engine->network().to_string();
  net->layer(2)->set_name("renamed");
  EXPECT_EQ(engine->network().to_string(), text);
  EXPECT_EQ(engine->num_io_tensors(), 3);
  EXPECT_EQ(engine->io_tensor_name(0), "x");
  EXPECT_TRUE(engine->is_input("y"));
}

TEST(Builder, ProfileShapesWhoseBytesOverflowFailByInputName) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, int64_t{1} << 40});
  net.mark_output(net.add_activation(x, ActivationType::kRELU)->output(0));
  BuilderConfig c;
  OptimizationProfile p;
  p.set_dimensions("x", {1, int64_t{1} << 40}, {1, int64_t{1} << 40},
                   {int64_t{1} << 22, int64_t{1} << 40});
  c.profiles.push_back(p);
  expect_error([&] { Builder::build(net, c); },
               {"max shapes of profile 0", "input 'x'", "float32[4194304,1099511627776]"});
}

// A chain of two float [n, 256] activations and a 256x256 float weight (256 KiB).
std::unique_ptr<Network> budget_network() {
  auto net = std::make_unique<Network>();
  Tensor* x = net->add_input("x", DataType::kFLOAT, {-1, 256});
  Tensor* w = constant(*net, random(DataType::kFLOAT, {256, 256}, 7));
  Tensor* h =
      net->add_matrix_multiply(x, MatrixOperation::kNONE, w, MatrixOperation::kNONE)->output(0);
  net->mark_output(net->add_activation(h, ActivationType::kRELU)->output(0));
  return net;
}

TEST(Builder, MemoryBudgetCountsTheArenaAtMaxShapesAndTheWeights) {
  auto net = budget_network();
  BuilderConfig c;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 256}, {2, 256}, {1024, 256});
  c.profiles.push_back(p);
  // At max: matmul output and relu output live together, 2 x 1024 x 256 x 4 = 2 MiB, plus
  // 256 KiB of weights.
  const int64_t arena = 2 * 1024 * 256 * 4, weights = 256 * 256 * 4;
  c.memory_budget_bytes = arena + weights;
  EXPECT_NO_THROW(Builder::build(*net, c));
  c.memory_budget_bytes = arena + weights - 1;
  expect_error([&] { Builder::build(*net, c); },
               {"needs " + std::to_string(arena + weights) + " bytes",
                "activation arena " + std::to_string(arena) + " bytes at the max shapes",
                "weights " + std::to_string(weights) + " bytes",
                "memory_budget_bytes " + std::to_string(arena + weights - 1)},
               ErrorCode::kOUT_OF_MEMORY);
  // The opt shapes alone would fit: the budget is about the largest run the engine accepts.
  c.profiles[0] = OptimizationProfile{};
  c.profiles[0].set_dimensions("x", {1, 256}, {2, 256}, {2, 256});
  c.memory_budget_bytes = weights + 2 * 2 * 256 * 4;
  EXPECT_NO_THROW(Builder::build(*net, c));
  c.memory_budget_bytes = -1;
  expect_error([&] { Builder::build(*net, c); }, {"memory_budget_bytes is -1"});
}

}  // namespace
}  // namespace lktest
