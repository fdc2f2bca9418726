// CPU kernels of Shuffle, Identity, Cast, Shape, Concatenation and Padding against ATen.
#include "test_util.h"

namespace lktest {
namespace {

const std::vector<DataType> kTypes = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                      DataType::kINT32, DataType::kINT64, DataType::kINT8,
                                      DataType::kBOOL};

std::string name_of(DataType t) {
  return std::string(data_type_name(t));
}

BuilderConfig profile(const std::string& input, const Dims& mn, const Dims& opt, const Dims& mx) {
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions(input, mn, opt, mx);
  config.profiles.push_back(p);
  return config;
}

// ---- Shuffle ----

TEST(ShuffleKernel, TransposeReshapeTransposeMatchesATen) {
  for (DataType t : kTypes) {
    Network net;
    Tensor* x = net.add_input("x", t, {2, 3, 4});
    ShuffleAttrs a;
    a.first_transpose = {2, 0, 1};
    a.reshape_dims = Dims{0, -1};  // 0 copies the 4 of the transposed input
    a.second_transpose = {1, 0};
    net.mark_output(net.add_shuffle(x, a)->output(0));
    at::Tensor xv = random(t, {2, 3, 4}, 11);
    at::Tensor expected = xv.permute({2, 0, 1}).reshape({4, 6}).permute({1, 0});
    expect_close(run1(net, {xv}), expected.contiguous(), 1.0, name_of(t));
  }
}

TEST(ShuffleKernel, ZeroIsLiteralWhenNotPlaceholder) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {0, 3});
  ShuffleAttrs a;
  a.reshape_dims = Dims{3, 0, 5};
  a.zero_is_placeholder = false;
  Layer* l = net.add_shuffle(x, a);
  EXPECT_EQ(l->output(0)->dims(), (Dims{3, 0, 5}));
  net.mark_output(l->output(0));
  at::Tensor xv = at::zeros({0, 3});
  expect_close(run1(net, {xv}), at::reshape(xv, {3, 0, 5}));
}

TEST(ShuffleKernel, ReshapeFromShapeTensorInput) {
  for (DataType t : {DataType::kFLOAT, DataType::kINT64, DataType::kBOOL}) {
    Network net;
    Tensor* x = net.add_input("x", t, {4, 6});
    Tensor* shape = constant(net, at::tensor(std::vector<int64_t>{2, -1, 3}, at::kLong));
    Layer* l = net.add_shuffle(x, {}, shape);
    EXPECT_EQ(l->output(0)->dims(), (Dims{2, 4, 3}));
    net.mark_output(l->output(0));
    at::Tensor xv = random(t, {4, 6}, 12);
    expect_close(run1(net, {xv}), xv.reshape({2, 4, 3}), 1.0, name_of(t));
  }
}

TEST(ShuffleKernel, RankZeroAndRankOne) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kINT32, {1, 1});
  ShuffleAttrs a;
  a.reshape_dims = Dims{};
  Layer* l = net.add_shuffle(x, a);
  EXPECT_EQ(l->output(0)->dims().rank(), 0);
  net.mark_output(l->output(0));
  at::Tensor xv = random(DataType::kINT32, {1, 1}, 13, -100, 100);
  expect_close(run1(net, {xv}), xv.reshape({}));
}

TEST(ShuffleKernel, KnownValuesFollowTransposeOfSmallIntTensor) {
  Network net;
  at::Tensor c = at::arange(6, at::kInt).reshape({2, 3});
  ShuffleAttrs a;
  a.first_transpose = {1, 0};
  a.reshape_dims = Dims{-1};
  Layer* l = net.add_shuffle(constant(net, c), a);
  at::Tensor expected = c.permute({1, 0}).reshape({-1}).contiguous();
  const KnownValues& k = l->output(0)->known_values();
  ASSERT_EQ(k.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(*k[static_cast<size_t>(i)], expected[i].item<int64_t>());
}

// Shape -> Slice -> Concatenation -> Shuffle: the reshape target follows the input's batch.
TEST(ShuffleKernel, DynamicReshapeDrivenByShapeTensor) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 6});
  Tensor* shape = net.add_shape(x)->output(0);
  Tensor* batch = net.add_slice(shape, {0}, {1}, {1})->output(0);
  Tensor* tail = constant(net, at::tensor(std::vector<int64_t>{3, 2}, at::kLong));
  std::vector<Tensor*> parts{batch, tail};
  Tensor* target = net.add_concatenation(parts, 0)->output(0);
  Layer* l = net.add_shuffle(x, {}, target);
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 3, 2}));
  net.mark_output(l->output(0));
  Runner r(net, profile("x", {1, 6}, {3, 6}, {5, 6}));
  for (int64_t n : {1, 3, 5}) {
    at::Tensor xv = random(DataType::kFLOAT, {n, 6}, 20 + static_cast<uint64_t>(n));
    expect_close(r.run({xv})[0], xv.reshape({n, 3, 2}), 1.0, "n=" + std::to_string(n));
  }
}

TEST(ShuffleKernel, DynamicPlaceholderAndInferredDim) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kHALF, {-1, 4, 3});
  ShuffleAttrs a;
  a.first_transpose = {0, 2, 1};
  a.reshape_dims = Dims{0, -1};
  Layer* l = net.add_shuffle(x, a);
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 12}));
  net.mark_output(l->output(0));
  Runner r(net, profile("x", {1, 4, 3}, {2, 4, 3}, {7, 4, 3}));
  for (int64_t n : {1, 2, 7}) {
    at::Tensor xv = random(DataType::kHALF, {n, 4, 3}, 30 + static_cast<uint64_t>(n));
    expect_close(r.run({xv})[0], xv.permute({0, 2, 1}).reshape({n, 12}).contiguous());
  }
}

// Sub-byte types move as whole elements; engine I/O packs two per byte, element 2i low.
std::vector<uint8_t> run_packed(const Network& net, const std::vector<std::vector<uint8_t>>& in) {
  auto engine = Builder::build(net, {});
  auto ctx = engine->create_execution_context();
  for (int i = 0; i < net.num_inputs(); ++i)
    ctx->set_input(net.input(i)->name(), in[static_cast<size_t>(i)].data());
  ctx->execute();
  return ctx->output(net.output(0)->name()).data;
}

std::vector<uint8_t> pack_int4(const std::vector<int>& v) {
  std::vector<uint8_t> p((v.size() + 1) / 2, 0);
  for (size_t i = 0; i < v.size(); ++i)
    p[i / 2] |= static_cast<uint8_t>((v[i] & 0xf) << (4 * (i % 2)));
  return p;
}

TEST(ShuffleKernel, Int4TransposeThroughEngine) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kINT4, {2, 3});
  ShuffleAttrs a;
  a.first_transpose = {1, 0};
  net.mark_output(net.add_shuffle(x, a)->output(0));
  // x = [[1, -2, 3], [-4, 5, -8]] -> x^T = [[1, -4], [-2, 5], [3, -8]].
  std::vector<uint8_t> got = run_packed(net, {pack_int4({1, -2, 3, -4, 5, -8})});
  EXPECT_EQ(got, pack_int4({1, -4, -2, 5, 3, -8}));
  EXPECT_EQ(got, (std::vector<uint8_t>{0xC1, 0x5E, 0x83}));
}

TEST(ConcatenationKernel, Int4ThroughEngine) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kINT4, {2, 1});
  Tensor* y = net.add_input("y", DataType::kINT4, {2, 2});
  std::vector<Tensor*> parts{x, y};
  net.mark_output(net.add_concatenation(parts, 1)->output(0));
  // [[7], [-1]] ++ [[0, -8], [2, 3]] on axis 1 = [[7, 0, -8], [-1, 2, 3]].
  std::vector<uint8_t> got = run_packed(net, {pack_int4({7, -1}), pack_int4({0, -8, 2, 3})});
  EXPECT_EQ(got, (std::vector<uint8_t>{0x07, 0xF8, 0x32}));
}

TEST(PaddingKernel, Int4ThroughEngine) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kINT4, {3});
  net.mark_output(net.add_padding_nd(x, {1}, {2})->output(0));
  // [-3, 4, 7] padded to [0, -3, 4, 7, 0, 0].
  std::vector<uint8_t> got = run_packed(net, {pack_int4({-3, 4, 7})});
  EXPECT_EQ(got, (std::vector<uint8_t>{0xD0, 0x74, 0x00}));
}

// ---- Identity ----

TEST(IdentityKernel, CopiesEveryType) {
  for (DataType t : kTypes) {
    Network net;
    Tensor* x = net.add_input("x", t, {3, 5});
    net.mark_output(net.add_identity(x)->output(0));
    at::Tensor xv = random(t, {3, 5}, 40);
    expect_close(run1(net, {xv}), xv.clone(), 1.0, name_of(t));
  }
}

TEST(IdentityKernel, Dynamic) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kBF16, {-1, 2});
  net.mark_output(net.add_identity(x)->output(0));
  Runner r(net, profile("x", {0, 2}, {4, 2}, {9, 2}));
  for (int64_t n : {0, 4, 9}) {
    at::Tensor xv = random(DataType::kBF16, {n, 2}, 41);
    expect_close(r.run({xv})[0], xv.clone());
  }
}

// ---- Cast ----

TEST(CastKernel, EveryPairMatchesTensorTo) {
  std::vector<DataType> types = kTypes;
  types.push_back(DataType::kUINT8);
  for (DataType from : types) {
    for (DataType to : types) {
      // In-range values only: float -> narrow integer overflow is UB in ATen. uint8 takes no
      // negatives; int8 and uint8 sources wrap on the way in otherwise.
      bool unsigned_side = from == DataType::kUINT8 || to == DataType::kUINT8;
      at::Tensor xv = random(from, {4, 7}, 50, unsigned_side ? 0.0 : -60.0, 100.0);
      Network net;
      Tensor* x = net.add_input("x", from, {4, 7});
      net.mark_output(net.add_cast(x, to)->output(0));
      expect_close(run1(net, {xv}), xv.to(to_aten(to)), 1.0, name_of(from) + " -> " + name_of(to));
    }
  }
}

TEST(CastKernel, WideIntToNarrowWrapsLikeATen) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kINT64, {4});
  net.mark_output(net.add_cast(x, DataType::kINT8)->output(0));
  at::Tensor xv =
      at::tensor(std::vector<int64_t>{300, -129, 127, (int64_t{1} << 40) + 5}, at::kLong);
  expect_close(run1(net, {xv}), xv.to(at::kChar));
}

TEST(CastKernel, ToFp8SaturatesAndRounds) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4});
  Tensor* f8 = net.add_cast(x, DataType::kFP8)->output(0);
  net.mark_output(net.add_cast(f8, DataType::kFLOAT)->output(0));
  // E4M3 has 3 mantissa bits: 0.3 -> 0.3125, -3.7 -> -3.75; 500 saturates to 448.
  at::Tensor xv = at::tensor(std::vector<float>{1.0f, 0.3f, -3.7f, 500.0f});
  expect_close(run1(net, {xv}), at::tensor(std::vector<float>{1.0f, 0.3125f, -3.75f, 448.0f}));
}

TEST(CastKernel, KnownValuesForIntCasts) {
  Network net;
  Tensor* c = constant(net, at::tensor(std::vector<int64_t>{1, 256, -1}, at::kLong));
  const KnownValues& k = net.add_cast(c, DataType::kUINT8)->output(0)->known_values();
  ASSERT_EQ(k.size(), 3u);
  EXPECT_EQ(*k[0], 1);
  EXPECT_EQ(*k[1], 0);
  EXPECT_EQ(*k[2], 255);
}

TEST(CastKernel, Dynamic) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, -1});
  net.mark_output(net.add_cast(x, DataType::kHALF)->output(0));
  Runner r(net, profile("x", {3, 1}, {3, 8}, {3, 20}));
  for (int64_t n : {1, 8, 20}) {
    at::Tensor xv = random(DataType::kFLOAT, {3, n}, 51);
    expect_close(r.run({xv})[0], xv.to(at::kHalf));
  }
}

// ---- Shape ----

TEST(ShapeKernel, MatchesSizesForEveryType) {
  for (DataType t : kTypes) {
    Network net;
    Tensor* x = net.add_input("x", t, {2, 3, 5});
    Layer* l = net.add_shape(x);
    net.mark_output(l->output(0));
    at::Tensor xv = random(t, {2, 3, 5}, 60);
    at::Tensor expected = at::tensor(xv.sizes().vec(), at::kLong);
    expect_close(run1(net, {xv}), expected, 1.0, name_of(t));
    ASSERT_EQ(l->output(0)->known_values().size(), 3u);
    EXPECT_EQ(*l->output(0)->known_values()[2], 5);
  }
}

TEST(ShapeKernel, DynamicDimsAreUnknownAtBuildAndActualAtRun) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kINT8, {-1, 4, -1});
  Layer* l = net.add_shape(x);
  const KnownValues& k = l->output(0)->known_values();
  ASSERT_EQ(k.size(), 3u);
  EXPECT_FALSE(k[0].has_value());
  EXPECT_EQ(*k[1], 4);
  EXPECT_FALSE(k[2].has_value());
  net.mark_output(l->output(0));
  Runner r(net, profile("x", {1, 4, 1}, {2, 4, 5}, {3, 4, 9}));
  for (auto s : std::vector<std::vector<int64_t>>{{1, 4, 1}, {2, 4, 5}, {3, 4, 9}}) {
    at::Tensor xv = random(DataType::kINT8, s, 61);
    expect_close(r.run({xv})[0], at::tensor(xv.sizes().vec(), at::kLong));
  }
}

// ---- Concatenation ----

TEST(ConcatenationKernel, EveryAxisAndTypeMatchesCat) {
  for (DataType t : kTypes) {
    for (int axis = 0; axis < 3; ++axis) {
      std::vector<int64_t> s0{2, 3, 4}, s1{2, 3, 4}, s2{2, 3, 4};
      s0[static_cast<size_t>(axis)] = 1;
      s2[static_cast<size_t>(axis)] = 2;
      Network net;
      at::Tensor a = random(t, s0, 70), b = random(t, s1, 71), c = random(t, s2, 72);
      std::vector<Tensor*> parts{net.add_input("a", t, dims_of(a)),
                                 net.add_input("b", t, dims_of(b)), constant(net, c)};
      net.mark_output(net.add_concatenation(parts, axis)->output(0));
      expect_close(run1(net, {a, b}), at::cat({a, b, c}, axis), 1.0,
                   name_of(t) + " axis " + std::to_string(axis));
    }
  }
}

TEST(ConcatenationKernel, SingleInputIsACopy) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kINT64, {3});
  std::vector<Tensor*> parts{x};
  net.mark_output(net.add_concatenation(parts, 0)->output(0));
  at::Tensor xv = random(DataType::kINT64, {3}, 73, -9, 9);
  expect_close(run1(net, {xv}), at::cat({xv}, 0));
}

TEST(ConcatenationKernel, KnownValuesConcatenate) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 7});
  Tensor* s = net.add_shape(x)->output(0);
  Tensor* c = constant(net, at::tensor(std::vector<int64_t>{9}, at::kLong));
  std::vector<Tensor*> parts{c, s};
  const KnownValues& k = net.add_concatenation(parts, 0)->output(0)->known_values();
  ASSERT_EQ(k.size(), 3u);
  EXPECT_EQ(*k[0], 9);
  EXPECT_FALSE(k[1].has_value());
  EXPECT_EQ(*k[2], 7);
}

TEST(ConcatenationKernel, Dynamic) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kINT32, {-1, 3});
  Tensor* c = constant(net, random(DataType::kINT32, {2, 3}, 74, -50, 50));
  std::vector<Tensor*> parts{x, c, x};
  Layer* l = net.add_concatenation(parts, 0);
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 3}));
  net.mark_output(l->output(0));
  at::Tensor cv = random(DataType::kINT32, {2, 3}, 74, -50, 50);
  Runner r(net, profile("x", {0, 3}, {2, 3}, {6, 3}));
  for (int64_t n : {0, 2, 6}) {
    at::Tensor xv = random(DataType::kINT32, {n, 3}, 75, -50, 50);
    expect_close(r.run({xv})[0], at::cat({xv, cv, xv}, 0));
  }
}

// ---- Padding ----

Dims raw_dims(std::vector<int64_t> v) {
  Dims d = Dims::of_rank(static_cast<int>(v.size()));
  for (size_t i = 0; i < v.size(); ++i) d[static_cast<int>(i)] = v[i];
  return d;
}

TEST(PaddingKernel, PadsAndCropsLikeConstantPadNd) {
  for (DataType t : kTypes) {
    Network net;
    Tensor* x = net.add_input("x", t, {2, 3, 4, 5});
    // Trailing two dims: H pre 1 post -1, W pre -2 post 3 (negative values crop).
    Layer* l = net.add_padding_nd(x, raw_dims({1, -2}), raw_dims({-1, 3}));
    EXPECT_EQ(l->output(0)->dims(), (Dims{2, 3, 4, 6}));
    net.mark_output(l->output(0));
    at::Tensor xv = random(t, {2, 3, 4, 5}, 80);
    // constant_pad_nd lists pads from the last dim backwards: (W pre, W post, H pre, H post).
    expect_close(run1(net, {xv}), at::constant_pad_nd(xv, {-2, 3, 1, -1}, 0), 1.0, name_of(t));
  }
}

TEST(PaddingKernel, Dynamic) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 2, -1});
  Layer* l = net.add_padding_nd(x, {2}, {1});
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 2, -1}));
  net.mark_output(l->output(0));
  Runner r(net, profile("x", {1, 2, 1}, {2, 2, 4}, {3, 2, 8}));
  for (auto s : std::vector<std::vector<int64_t>>{{1, 2, 1}, {2, 2, 4}, {3, 2, 8}}) {
    at::Tensor xv = random(DataType::kFLOAT, s, 81);
    expect_close(r.run({xv})[0], at::constant_pad_nd(xv, {2, 1}, 0));
  }
}

}  // namespace
}  // namespace lktest
