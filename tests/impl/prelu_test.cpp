// prelu building block against at::prelu: weight sizes, ranks, dtypes, dynamic shapes, names,
// errors.
#include "layerkit/impl/prelu.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace pr = layerkit::impl::prelu;

const Target kTarget("test.op");

// ATen 1.13 has no Half prelu on CPU: compute in fp32 and round.
at::Tensor reference(const at::Tensor& x, const at::Tensor& w) {
  if (x.scalar_type() != at::kHalf) return at::prelu(x, w);
  return at::prelu(x.to(at::kFloat), w.to(at::kFloat)).to(at::kHalf);
}

BlockFn two_inputs() {
  return [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return pr::prelu(ctx, kTarget, SourceIR::kATEN, "p", in[0], in[1]);
  };
}

TEST(ImplPrelu, WeightOfOneOrChannelElementsOverRanksAndTypes) {
  uint64_t seed = 1;
  struct Shape {
    std::vector<int64_t> input, weight;
  };
  const std::vector<Shape> shapes = {
      {{2, 3, 4, 5}, {3}}, {{2, 3, 4, 5}, {1}}, {{2, 3, 4, 5}, {}}, {{2, 3}, {3}},
      {{2, 6, 5}, {6}},    {{5}, {1}},          {{}, {1}},          {{4, 1, 3}, {1}},
  };
  for (DataType t : kFloatTypes) {
    for (const Shape& s : shapes) {
      at::Tensor x = random(t, s.input, seed++, -3, 3);
      at::Tensor w = random(t, s.weight, seed++, -1, 1);
      std::string what = std::string(data_type_name(t)) + " input rank " +
                         std::to_string(s.input.size()) + " weight " + std::to_string(w.numel());
      expect_close(run_block({x, w}, two_inputs()), reference(x, w), 1.0, what);
    }
  }
}

TEST(ImplPrelu, HostConstantAndScalarWeights) {
  at::Tensor x = random(DataType::kFLOAT, {2, 3, 4}, 7, -3, 3);
  std::vector<float> wv = {0.1f, -0.2f, 0.3f};
  at::Tensor w = at::tensor(wv);
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return pr::prelu(ctx, kTarget, SourceIR::kATEN, "p", in[0],
                     HostConstant::of({3}, Weights::from_vector(DataType::kFLOAT, wv)));
  });
  expect_close(got, at::prelu(x, w), 1.0, "host constant weight");
  got = run_block({x}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return pr::prelu(ctx, kTarget, SourceIR::kATEN, "p", in[0], 0.25);
  });
  expect_close(got, at::prelu(x, at::tensor({0.25f})), 1.0, "scalar weight");
  // A bf16 input with an fp32 weight (torch accepts it): the weight is converted to bf16.
  at::Tensor xb = x.to(at::kBFloat16);
  got = run_block({xb, w}, two_inputs());
  expect_close(got, at::prelu(xb, w), 1.0, "bf16 input, fp32 weight");
}

TEST(ImplPrelu, DynamicShapesAtMinOptMax) {
  // Input and weight both fully dynamic: the weight reshape uses -1 for the channel dim.
  auto set = [](int64_t n, int64_t c, int64_t h, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, c, h}, seed, -3, 3),
                                   random(DataType::kFLOAT, {c}, seed + 1, -1, 1)};
  };
  run_block_dynamic({set(1, 1, 1, 10), set(2, 3, 4, 20), set(4, 5, 7, 30)}, two_inputs(),
                    [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
                      expect_close(out, at::prelu(in[0], in[1]), 1.0, "prelu dynamic");
                    });
}

TEST(ImplPrelu, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3, 4, 4});
  Tensor* w = net.add_input("w", DataType::kFLOAT, {3});
  int before = net.num_layers();
  Tensor* y = pr::prelu(ctx, "prelu.default", SourceIR::kATEN, "prelu_1", x, w);
  EXPECT_EQ(y->producer()->name(), "[PARAMETRIC_RELU]-[aten_ops.prelu.default]-[prelu_1]");
  Layer* r = net.find_layer("[SHUFFLE]-[aten_ops.prelu.default]-[prelu_1_weight_reshape]");
  ASSERT_NE(r, nullptr) << net.to_string();
  EXPECT_EQ(r->output(0)->dims(), Dims({1, 3, 1, 1}));
  EXPECT_EQ(net.num_layers(), before + 2);  // the reshape and the layer
}

TEST(ImplPrelu, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {2, 3, 4}, 1);
  expect_block_error({x, random(DataType::kFLOAT, {4}, 2)}, two_inputs(),
                     {"prelu::prelu", "'p'", "4 elements", "channel size 3"});
  expect_block_error({x, random(DataType::kFLOAT, {3, 1}, 3)}, two_inputs(),
                     {"prelu::prelu", "scalar or 1-D", "rank 2"});
  expect_block_error({random(DataType::kFLOAT, {5}, 4), random(DataType::kFLOAT, {5}, 5)},
                     two_inputs(), {"5 elements", "channel size 1"});
  expect_block_error({random(DataType::kINT32, {2, 3}, 6, -3, 3), random(DataType::kINT32, {3}, 7)},
                     two_inputs(), {"prelu::prelu", "int32"});
  // ATen agrees on each of these.
  EXPECT_THROW(at::prelu(x, at::ones({4})), c10::Error);
  EXPECT_THROW(at::prelu(x, at::ones({3, 1})), c10::Error);
  EXPECT_THROW(at::prelu(at::ones({5}), at::ones({5})), c10::Error);
  EXPECT_THROW(at::prelu(at::ones({2, 3}, at::kInt), at::ones({3}, at::kInt)), c10::Error);
}

}  // namespace
}  // namespace lktest
