// CPU reference kernels of Reduce, TopK and Cumulative against ATen.
#include <cmath>

#include "test_util.h"

namespace lktest {
namespace {

using layerkit::detail::cat;

const std::vector<DataType> kReduceTypes = {DataType::kFLOAT, DataType::kHALF, DataType::kBF16,
                                            DataType::kINT32, DataType::kINT64};

std::vector<int64_t> dims_from_mask(AxesMask mask, int rank) {
  std::vector<int64_t> d;
  for (int i = 0; i < rank; ++i)
    if (mask & (1u << i)) d.push_back(i);
  return d;
}

at::Tensor reduce_ref(const at::Tensor& x, ReduceOperation op, AxesMask mask, bool keep) {
  std::vector<int64_t> dims = dims_from_mask(mask, static_cast<int>(x.dim()));
  bool integer = !at::isFloatingType(x.scalar_type());
  switch (op) {
    case ReduceOperation::kSUM:
      // ATen widens integer sums to int64; sum exactly and narrow back.
      return integer ? at::sum(x.to(at::kLong), dims, keep).to(x.scalar_type())
                     : at::sum(x, dims, keep);
    case ReduceOperation::kPROD: {
      // at::prod takes one dim at a time; reduce the highest dim first so indices stay valid.
      at::Tensor r = integer ? x.to(at::kLong) : x.to(at::kFloat);
      for (auto it = dims.rbegin(); it != dims.rend(); ++it) r = at::prod(r, *it, keep);
      return r.to(x.scalar_type());
    }
    case ReduceOperation::kMAX:
      return at::amax(x, dims, keep);
    case ReduceOperation::kMIN:
      return at::amin(x, dims, keep);
    case ReduceOperation::kAVG:
      return at::mean(x, dims, keep);
  }
  return {};
}

int64_t group_size(const at::Tensor& x, AxesMask mask) {
  int64_t k = 1;
  for (int64_t d : dims_from_mask(mask, static_cast<int>(x.dim()))) k *= x.size(d);
  return k;
}

TEST(Reduce, EveryOpDtypeAndMaskMatchesATen) {
  const std::vector<ReduceOperation> ops = {ReduceOperation::kSUM, ReduceOperation::kPROD,
                                            ReduceOperation::kMAX, ReduceOperation::kMIN,
                                            ReduceOperation::kAVG};
  for (ReduceOperation op : ops) {
    for (DataType t : kReduceTypes) {
      if (op == ReduceOperation::kAVG && !is_floating(t)) continue;
      for (AxesMask mask : {0b001u, 0b010u, 0b100u, 0b101u, 0b111u}) {
        for (bool keep : {false, true}) {
          Network net;
          // Products stay in range: floats in [0.5, 1.5), integers in [-2, 2].
          bool prod = op == ReduceOperation::kPROD;
          at::Tensor x = random(t, {3, 4, 5}, 7, prod ? (is_floating(t) ? 0.5 : -2) : -9,
                                prod ? (is_floating(t) ? 1.5 : 2) : 9);
          Tensor* xi = net.add_input("x", t, dims_of(x));
          net.mark_output(net.add_reduce(xi, op, mask, keep)->output(0));
          // Sums, means and products accumulate over K elements: scale sqrt(K).
          double scale = std::sqrt(static_cast<double>(group_size(x, mask)));
          expect_close(run1(net, {x}), reduce_ref(x, op, mask, keep), scale,
                       cat(enum_name(op), " ", data_type_name(t), " mask ", mask, " keep ", keep));
        }
      }
    }
  }
}

TEST(Reduce, IntegerSumIsExactInInt64) {
  Network net;
  // 2^40 + 1 each: float accumulation would lose the ones.
  at::Tensor x = at::full({3, 4}, (int64_t{1} << 40) + 1, at::kLong);
  Tensor* xi = net.add_input("x", DataType::kINT64, dims_of(x));
  net.mark_output(net.add_reduce(xi, ReduceOperation::kSUM, 0b11, false)->output(0));
  expect_close(run1(net, {x}), at::sum(x));
}

TEST(Reduce, MaxPropagatesNaN) {
  Network net;
  at::Tensor x = random(DataType::kFLOAT, {2, 4}, 3);
  x[1][2] = NAN;
  Tensor* xi = net.add_input("x", DataType::kFLOAT, dims_of(x));
  net.mark_output(net.add_reduce(xi, ReduceOperation::kMAX, 0b10, false)->output(0));
  expect_close(run1(net, {x}), at::amax(x, {1}));
}

TEST(Reduce, EmptyGroups) {
  Network net;
  Tensor* xi = net.add_input("x", DataType::kFLOAT, {-1, 3});
  net.mark_output(net.add_reduce(xi, ReduceOperation::kSUM, 0b1, false)->output(0));
  net.mark_output(net.add_reduce(xi, ReduceOperation::kPROD, 0b1, false)->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {0, 3}, {2, 3}, {4, 3});
  config.profiles.push_back(p);
  at::Tensor x = at::zeros({0, 3});
  auto outs = run(net, {x}, config);
  expect_close(outs.at(0), at::sum(x, {0}));
  expect_close(outs.at(1), at::prod(x, 0));

  Network net2;
  Tensor* yi = net2.add_input("x", DataType::kFLOAT, {-1, 3});
  net2.mark_output(net2.add_reduce(yi, ReduceOperation::kMAX, 0b1, false)->output(0));
  expect_error([&] { run(net2, {x}, config); }, {"kMAX over zero elements", "[0,3]"},
               ErrorCode::kRUNTIME);
}

TEST(Reduce, KnownValuesForShapeArithmetic) {
  Network net;
  Tensor* s = constant(net, at::tensor(std::vector<int64_t>{2, 3, 4}, at::kLong));
  Layer* r = net.add_reduce(s, ReduceOperation::kPROD, 0b1, false);
  EXPECT_EQ(r->output(0)->dims(), Dims{});
  ASSERT_EQ(r->output(0)->known_values().size(), 1u);
  EXPECT_EQ(r->output(0)->known_values()[0], std::optional<int64_t>(24));
  Layer* m = net.add_reduce(s, ReduceOperation::kMAX, 0b1, true);
  ASSERT_EQ(m->output(0)->known_values().size(), 1u);
  EXPECT_EQ(m->output(0)->known_values()[0], std::optional<int64_t>(4));
}

TEST(Reduce, DynamicShapesAtMinOptMax) {
  Network net;
  Tensor* xi = net.add_input("x", DataType::kFLOAT, {-1, 6, -1});
  Layer* r = net.add_reduce(xi, ReduceOperation::kAVG, 0b110, true);
  EXPECT_EQ(r->output(0)->dims(), (Dims{-1, 1, 1}));
  net.mark_output(r->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 6, 1}, {3, 6, 4}, {5, 6, 9});
  config.profiles.push_back(p);
  Runner runner(net, config);
  for (auto [n, m] : {std::pair<int64_t, int64_t>{1, 1}, {3, 4}, {5, 9}}) {
    at::Tensor x = random(DataType::kFLOAT, {n, 6, m}, static_cast<uint64_t>(n));
    // A mean over K = 6 * m elements: scale sqrt(K).
    expect_close(runner.run({x}).at(0), at::mean(x, {1, 2}, true),
                 std::sqrt(static_cast<double>(6 * m)), "n " + std::to_string(n));
  }
}

// ---- Cumulative ----

// at::cumsum of the line shifted by one (exclusive) and/or flipped (reverse): the same additions
// in the same order as the layer.
at::Tensor cumsum_ref(const at::Tensor& x, int64_t axis, bool exclusive, bool reverse) {
  at::Tensor v = reverse ? x.flip(axis) : x;
  if (exclusive)
    v = at::cat({at::zeros_like(v.narrow(axis, 0, 1)), v.narrow(axis, 0, v.size(axis) - 1)}, axis);
  // ATen 1.13 has no float16 cumsum on CPU: float16 comes from the float32 cumsum rounded (one
  // float16 rounding step at most from the layer's float accumulation, within tolerance).
  at::Tensor r = x.scalar_type() == at::kHalf ? at::cumsum(v.to(at::kFloat), axis).to(at::kHalf)
                                              : at::cumsum(v, axis, x.scalar_type());
  return reverse ? r.flip(axis) : r;
}

TEST(Cumulative, EveryDtypeAxisAndFlagMatchesATen) {
  uint64_t seed = 900;
  for (DataType t : kReduceTypes) {
    for (int32_t axis : {0, 1, 2, -1}) {
      for (bool exclusive : {false, true}) {
        for (bool reverse : {false, true}) {
          Network net;
          at::Tensor x = random(t, {3, 4, 5}, seed++);
          Tensor* xi = net.add_input("x", t, dims_of(x));
          net.mark_output(
              net.add_cumulative(xi, CumulativeOperation::kSUM, axis, exclusive, reverse)
                  ->output(0));
          int64_t a = axis < 0 ? axis + 3 : axis;
          expect_close(run1(net, {x}), cumsum_ref(x, a, exclusive, reverse), 1.0,
                       cat(data_type_name(t), " axis ", axis, exclusive ? " exclusive" : "",
                           reverse ? " reverse" : ""));
        }
      }
    }
  }
}

TEST(Cumulative, IntegersWrapInTheirType) {
  Network net;
  at::Tensor x = at::full({5}, 1500000000, at::kInt);
  Tensor* xi = net.add_input("x", DataType::kINT32, dims_of(x));
  net.mark_output(net.add_cumulative(xi, CumulativeOperation::kSUM, 0)->output(0));
  expect_close(run1(net, {x}), at::cumsum(x, 0, at::kInt), 1.0, "int32 wrap");
}

TEST(Cumulative, DynamicShapesAtMinOptMax) {
  Network net;
  Tensor* xi = net.add_input("x", DataType::kHALF, {2, -1});
  net.mark_output(net.add_cumulative(xi, CumulativeOperation::kSUM, 1, false, true)->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {2, 1}, {2, 40}, {2, 300});
  config.profiles.push_back(p);
  Runner runner(net, config);
  for (int64_t n : {1, 40, 300}) {
    at::Tensor x = random(DataType::kHALF, {2, n}, static_cast<uint64_t>(n));
    expect_close(runner.run({x}).at(0), cumsum_ref(x, 1, false, true), 1.0,
                 "n " + std::to_string(n));
  }
}

// ---- TopK ----

const std::vector<DataType> kTopKTypes = kReduceTypes;

// Values without ties along `axis`: a random permutation of 0..n-1 per line, shifted.
at::Tensor distinct_along(DataType t, std::vector<int64_t> shape, int64_t axis, uint64_t seed) {
  at::Tensor perm = random(DataType::kFLOAT, shape, seed, 0.0, 1.0).argsort(axis);
  return (perm - 3).to(to_aten(t));
}

void check_topk(const std::vector<at::Tensor>& outs, const at::Tensor& x, int64_t k, int64_t axis,
                bool largest, DataType indices_type, const std::string& what) {
  ASSERT_EQ(outs.size(), 2u);
  // ATen 1.13 has no CPU topk for float16; selection is exact, so a float copy gives the same
  // picks and its values convert back exactly.
  bool half = x.scalar_type() == at::kHalf;
  auto [values, indices] = at::topk(half ? x.to(at::kFloat) : x, k, axis, largest, true);
  if (half) values = values.to(at::kHalf);
  EXPECT_TRUE(at::equal(outs[0], values)) << what;
  expect_close(outs[0], values, 1.0, what + " values");
  ASSERT_EQ(outs[1].scalar_type(), to_aten(indices_type)) << what;
  expect_close(outs[1].to(at::kLong), indices, 1.0, what + " indices");
}

TEST(TopK, EveryDtypeMatchesAtTopkWithoutTies) {
  for (DataType t : kTopKTypes) {
    for (DataType it : {DataType::kINT32, DataType::kINT64}) {
      for (TopKOperation op : {TopKOperation::kMAX, TopKOperation::kMIN}) {
        for (int64_t axis : {0, 1, 2}) {
          Network net;
          at::Tensor x = distinct_along(t, {6, 7, 5}, axis, 3);
          Tensor* xi = net.add_input("x", t, dims_of(x));
          Layer* l = net.add_topk(xi, op, 3, 1u << axis, it);
          net.mark_output(l->output(0));
          net.mark_output(l->output(1));
          check_topk(
              run(net, {x}), x, 3, axis, op == TopKOperation::kMAX, it,
              cat(data_type_name(t), "/", data_type_name(it), " ", enum_name(op), " axis ", axis));
        }
      }
    }
  }
}

TEST(TopK, KEqualToDimSortsTheWholeAxis) {
  Network net;
  at::Tensor x = distinct_along(DataType::kFLOAT, {2, 9}, 1, 5);
  Tensor* xi = net.add_input("x", DataType::kFLOAT, dims_of(x));
  Layer* l = net.add_topk(xi, TopKOperation::kMIN, 9, 0b10, DataType::kINT64);
  net.mark_output(l->output(0));
  net.mark_output(l->output(1));
  check_topk(run(net, {x}), x, 9, 1, false, DataType::kINT64, "full sort");
}

TEST(TopK, TiesKeepValuesAndPreferLowerIndices) {
  for (TopKOperation op : {TopKOperation::kMAX, TopKOperation::kMIN}) {
    for (DataType t : {DataType::kFLOAT, DataType::kINT32}) {
      Network net;
      at::Tensor x = random(t, {4, 12}, 9, 0, 3);  // many ties
      Tensor* xi = net.add_input("x", t, dims_of(x));
      Layer* l = net.add_topk(xi, op, 5, 0b10, DataType::kINT32);
      net.mark_output(l->output(0));
      net.mark_output(l->output(1));
      auto outs = run(net, {x});
      bool largest = op == TopKOperation::kMAX;
      at::Tensor ref = std::get<0>(at::topk(x, 5, 1, largest, true));
      EXPECT_TRUE(at::equal(outs[0], ref)) << enum_name(op);
      at::Tensor idx = outs[1].to(at::kLong);
      EXPECT_TRUE(at::equal(at::take_along_dim(x, idx, 1), outs[0])) << enum_name(op);
      // Equal neighbours appear in increasing index order (our documented tie rule).
      at::Tensor same = at::eq(outs[0].narrow(1, 0, 4), outs[0].narrow(1, 1, 4));
      at::Tensor increasing = at::lt(idx.narrow(1, 0, 4), idx.narrow(1, 1, 4));
      EXPECT_TRUE(at::logical_or(at::logical_not(same), increasing).all().item<bool>())
          << enum_name(op);
    }
  }
}

TEST(TopK, KFromTensorInput) {
  Network net;
  Tensor* xi = net.add_input("x", DataType::kFLOAT, {3, 8});
  Tensor* ki = net.add_input("k", DataType::kINT32, Dims{});
  Layer* l = net.add_topk(xi, TopKOperation::kMAX, 1, 0b10, DataType::kINT32, ki);
  EXPECT_EQ(l->output(0)->dims(), (Dims{3, -1}));
  net.mark_output(l->output(0));
  net.mark_output(l->output(1));
  Runner runner(net);
  at::Tensor x = distinct_along(DataType::kFLOAT, {3, 8}, 1, 4);
  for (int32_t k : {1, 4, 8}) {
    check_topk(runner.run({x, at::scalar_tensor(k, at::kInt)}), x, k, 1, true, DataType::kINT32,
               "k " + std::to_string(k));
  }
  expect_error(
      [&] {
        runner.run({x, at::scalar_tensor(9, at::kInt)});
      },
      {"TopK layer", "k (input 1) is 9", "only 8"}, ErrorCode::kRUNTIME);
}

TEST(TopK, KFromConstantTensorIsKnown) {
  Network net;
  Tensor* xi = net.add_input("x", DataType::kFLOAT, {3, 8});
  Tensor* kc = constant(net, at::scalar_tensor(int64_t{2}, at::kLong));
  Layer* l = net.add_topk(xi, TopKOperation::kMIN, 1, 0b10, DataType::kINT64, kc);
  EXPECT_EQ(l->output(0)->dims(), (Dims{3, 2}));
  net.mark_output(l->output(0));
  net.mark_output(l->output(1));
  at::Tensor x = distinct_along(DataType::kFLOAT, {3, 8}, 1, 6);
  check_topk(run(net, {x}), x, 2, 1, false, DataType::kINT64, "constant k");
}

TEST(TopK, DynamicShapesAtMinOptMax) {
  Network net;
  Tensor* xi = net.add_input("x", DataType::kBF16, {-1, -1});
  Layer* l = net.add_topk(xi, TopKOperation::kMAX, 2, 0b10, DataType::kINT32);
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 2}));
  net.mark_output(l->output(0));
  net.mark_output(l->output(1));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 2}, {3, 5}, {4, 40});
  config.profiles.push_back(p);
  Runner runner(net, config);
  for (auto [n, m] : {std::pair<int64_t, int64_t>{1, 2}, {3, 5}, {4, 40}}) {
    at::Tensor x = distinct_along(DataType::kBF16, {n, m}, 1, static_cast<uint64_t>(m));
    check_topk(runner.run({x}), x, 2, 1, true, DataType::kINT32, "m " + std::to_string(m));
  }
}

}  // namespace
}  // namespace lktest
