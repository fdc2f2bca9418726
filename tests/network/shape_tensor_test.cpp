// Shape tensors across kinds: values known at build time, resolved at run time at min/opt/max.
#include "test_util.h"

namespace lktest {
namespace {

Tensor* int64_constant(Network& net, std::vector<int64_t> v) {
  return net
      .add_constant({static_cast<int64_t>(v.size())}, Weights::from_vector(DataType::kINT64, v))
      ->output(0);
}

// y = reshape(x, [shape(x)[0], shape(x)[1] * shape(x)[2]]) built from shape arithmetic.
struct FlattenNet {
  Network net;
  Tensor* out = nullptr;
  FlattenNet() {
    Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3, 4});
    Tensor* shape = net.add_shape(x)->output(0);
    Tensor* batch = net.add_slice(shape, {0}, {1}, {1})->output(0);
    Tensor* rest = net.add_slice(shape, {1}, {2}, {1})->output(0);
    Tensor* prod = net.add_reduce(rest, ReduceOperation::kPROD, 1u, /*keep_dims=*/true)->output(0);
    std::vector<Tensor*> parts{batch, prod};
    Tensor* new_shape = net.add_concatenation(parts, 0)->output(0);
    out = net.add_shuffle(x, {}, new_shape)->output(0);
    net.mark_output(out);
  }
};

TEST(ShapeTensors, KnownValuesGiveStaticDimsWhereInputsAreStatic) {
  FlattenNet f;
  // The batch stays dynamic; 3 * 4 is known when the network is built.
  EXPECT_EQ(f.out->dims(), (Dims{-1, 12}));
}

TEST(ShapeTensors, ResolvedAtRunTimeAtMinOptMax) {
  FlattenNet f;
  BuilderConfig c;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 3, 4}, {2, 3, 4}, {5, 3, 4});
  c.profiles.push_back(p);
  Runner r(f.net, c);
  for (int64_t n : {1, 2, 5}) {
    at::Tensor x = random(DataType::kFLOAT, {n, 3, 4}, static_cast<uint64_t>(n));
    expect_close(r.run({x}).at(0), x.reshape({n, 12}), 1.0, "batch " + std::to_string(n));
  }
}

TEST(ShapeTensors, ArithmeticOnShapesIsFoldedAtBuildTime) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, -1, 6});
  Tensor* shape = net.add_shape(x)->output(0);
  ASSERT_EQ(shape->known_values().size(), 3u);
  EXPECT_EQ(*shape->known_values()[0], 2);
  EXPECT_FALSE(shape->known_values()[1].has_value());
  Tensor* half =
      net.add_elementwise(shape, int64_constant(net, {1, 1, 2}), ElementWiseOperation::kDIV)
          ->output(0);
  EXPECT_EQ(*half->known_values()[2], 3);
  EXPECT_FALSE(half->known_values()[1].has_value());
  Tensor* idx =
      net.add_constant({}, Weights::from_vector(DataType::kINT32, std::vector<int32_t>{2}))
          ->output(0);
  Tensor* last = net.add_gather(half, idx, 0)->output(0);
  EXPECT_EQ(last->dims(), (Dims{}));
  ASSERT_EQ(last->known_values().size(), 1u);
  EXPECT_EQ(*last->known_values()[0], 3);
}

TEST(ShapeTensors, FillFromAShapeTensor) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 5});
  Tensor* shape = net.add_shape(x)->output(0);
  FillAttrs fill;
  fill.op = FillOperation::kLINSPACE;
  fill.alpha = 1.0;
  fill.beta = {10.0, 1.0};
  fill.output_type = DataType::kFLOAT;
  Tensor* ramp = net.add_fill(fill, FillInputs{shape})->output(0);
  EXPECT_EQ(ramp->dims(), (Dims{-1, 5}));
  net.mark_output(net.add_elementwise(x, ramp, ElementWiseOperation::kSUM)->output(0));
  BuilderConfig c;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 5}, {3, 5}, {4, 5});
  c.profiles.push_back(p);
  Runner r(net, c);
  for (int64_t n : {1, 3, 4}) {
    at::Tensor xin = random(DataType::kFLOAT, {n, 5}, 7);
    at::Tensor expected = xin + (at::arange(n, at::kFloat).reshape({n, 1}) * 10 +
                                 at::arange(5, at::kFloat).reshape({1, 5}) + 1);
    expect_close(r.run({xin}).at(0), expected, 1.0, "batch " + std::to_string(n));
  }
}

}  // namespace
}  // namespace lktest
