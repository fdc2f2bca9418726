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
  expect_error([&] { Builder::build(*net, c); }, {"num_threads"});
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

}  // namespace
}  // namespace lktest
