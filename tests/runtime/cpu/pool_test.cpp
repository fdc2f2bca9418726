// Pooling reference kernel against ATen (max_pool*d, avg_pool*d, constant_pad_nd).
#include <cmath>
#include <limits>

#include "test_util.h"

namespace lktest {
namespace {

Dims dims(const std::vector<int64_t>& v) {
  return Dims(std::span<const int64_t>(v));
}

at::Tensor run_pool(const PoolingAttrs& a, const at::Tensor& x) {
  Network net;
  Tensor* in = net.add_input("x", from_aten(x.scalar_type()), dims_of(x));
  net.mark_output(net.add_pooling_nd(in, a)->output(0));
  return run1(net, {x});
}

// ATen oracles, computed in fp32 on the same-typed values and rounded to the data type.
at::Tensor aten_max(const at::Tensor& x, std::vector<int64_t> k, std::vector<int64_t> s,
                    std::vector<int64_t> p, std::vector<int64_t> d, bool ceil) {
  at::Tensor f = x.to(at::kFloat), r;
  if (k.size() == 1) r = at::max_pool1d(f, k, s, p, d, ceil);
  if (k.size() == 2) r = at::max_pool2d(f, k, s, p, d, ceil);
  if (k.size() == 3) r = at::max_pool3d(f, k, s, p, d, ceil);
  return r.to(x.scalar_type());
}
at::Tensor aten_avg_f32(const at::Tensor& f, std::vector<int64_t> k, std::vector<int64_t> s,
                        std::vector<int64_t> p, bool ceil, bool include_pad) {
  if (k.size() == 1) return at::avg_pool1d(f, k, s, p, ceil, include_pad);
  if (k.size() == 2) return at::avg_pool2d(f, k, s, p, ceil, include_pad);
  return at::avg_pool3d(f, k, s, p, ceil, include_pad);
}
at::Tensor aten_avg(const at::Tensor& x, std::vector<int64_t> k, std::vector<int64_t> s,
                    std::vector<int64_t> p, bool ceil, bool include_pad) {
  return aten_avg_f32(x.to(at::kFloat), k, s, p, ceil, include_pad).to(x.scalar_type());
}

PoolingAttrs attrs(PoolingType type, std::vector<int64_t> window, std::vector<int64_t> stride,
                   std::vector<int64_t> pre, std::vector<int64_t> post) {
  PoolingAttrs a;
  a.type = type;
  a.window = dims(window);
  a.stride = dims(stride);
  a.pre_padding = dims(pre);
  a.post_padding = dims(post);
  return a;
}

struct SymCase {
  std::string name;
  std::vector<int64_t> x, window, stride, pad;
  bool ceil = false;
};

// Symmetric padding: ATen's padding argument; ceil cases chosen so the last window starts
// inside the input (there ATen's ceil_mode and kEXPLICIT_ROUND_UP agree).
std::vector<SymCase> sym_cases() {
  return {
      {"1d", {2, 3, 9}, {3}, {2}, {1}},
      {"1d_ceil", {1, 2, 6}, {3}, {2}, {1}, true},
      {"2d_nonsquare", {2, 2, 7, 6}, {3, 2}, {2, 1}, {1, 0}},
      {"2d_stride_gt_window", {1, 3, 9, 8}, {2, 2}, {3, 4}, {0, 1}},
      {"2d_ceil", {1, 2, 6, 7}, {3, 2}, {2, 2}, {1, 0}, true},
      {"2d_size_one", {1, 1, 1, 5}, {1, 3}, {1, 1}, {0, 1}},
      {"3d", {1, 2, 4, 5, 6}, {2, 3, 2}, {2, 1, 2}, {1, 1, 0}},
      {"3d_ceil", {1, 1, 5, 4, 6}, {2, 2, 3}, {2, 2, 2}, {0, 1, 1}, true},
  };
}

TEST(PoolingCpu, MaxMatchesAten) {
  uint64_t seed = 1;
  for (const SymCase& c : sym_cases())
    for (DataType t : kFloatTypes) {
      at::Tensor x = random(t, c.x, ++seed);
      PoolingAttrs a = attrs(PoolingType::kMAX, c.window, c.stride, c.pad, c.pad);
      if (c.ceil) a.padding_mode = PaddingMode::kEXPLICIT_ROUND_UP;
      std::vector<int64_t> ones(c.window.size(), 1);
      expect_close(run_pool(a, x), aten_max(x, c.window, c.stride, c.pad, ones, c.ceil), 1.0,
                   c.name + " " + std::string(data_type_name(t)));
    }
}

TEST(PoolingCpu, AverageMatchesAtenBothCountRules) {
  uint64_t seed = 50;
  for (const SymCase& c : sym_cases())
    for (DataType t : kFloatTypes)
      for (bool exclude : {true, false}) {
        at::Tensor x = random(t, c.x, ++seed);
        PoolingAttrs a = attrs(PoolingType::kAVERAGE, c.window, c.stride, c.pad, c.pad);
        if (c.ceil) a.padding_mode = PaddingMode::kEXPLICIT_ROUND_UP;
        a.average_count_excludes_padding = exclude;
        // count_include_pad = !average_count_excludes_padding; ATen also clips the divisor to
        // the padded extent in ceil mode, as we do.
        expect_close(
            run_pool(a, x), aten_avg(x, c.window, c.stride, c.pad, c.ceil, !exclude), 1.0,
            c.name + " " + std::string(data_type_name(t)) + (exclude ? " exclude" : " include"));
      }
}

TEST(PoolingCpu, BlendIsMixOfMaxAndAverage) {
  for (DataType t : kFloatTypes) {
    at::Tensor x = random(t, {2, 3, 7, 6}, 77);
    PoolingAttrs a = attrs(PoolingType::kMAX_AVERAGE_BLEND, {3, 2}, {2, 2}, {1, 1}, {1, 1});
    a.blend_factor = 0.3f;
    at::Tensor f = x.to(at::kFloat);
    at::Tensor mx = at::max_pool2d(f, {3, 2}, {2, 2}, {1, 1});
    at::Tensor avg = at::avg_pool2d(f, {3, 2}, {2, 2}, {1, 1}, false, false);
    at::Tensor expected =
        (mx.to(at::kDouble) * 0.3 + avg.to(at::kDouble) * 0.7).to(x.scalar_type());
    expect_close(run_pool(a, x), expected, 1.0, std::string(data_type_name(t)));
  }
}

TEST(PoolingCpu, DilatedMaxMatchesAten) {
  uint64_t seed = 200;
  for (DataType t : kFloatTypes) {
    at::Tensor x1 = random(t, {1, 2, 11}, ++seed);
    PoolingAttrs a1 = attrs(PoolingType::kMAX, {3}, {2}, {1}, {1});
    a1.dilation = {2};
    expect_close(run_pool(a1, x1), aten_max(x1, {3}, {2}, {1}, {2}, false), 1.0, "1d");
    at::Tensor x2 = random(t, {1, 2, 9, 8}, ++seed);
    PoolingAttrs a2 = attrs(PoolingType::kMAX, {2, 3}, {1, 2}, {1, 1}, {1, 1});
    a2.dilation = {3, 2};
    a2.padding_mode = PaddingMode::kEXPLICIT_ROUND_UP;
    expect_close(run_pool(a2, x2), aten_max(x2, {2, 3}, {1, 2}, {1, 1}, {3, 2}, true), 1.0,
                 "2d ceil");
    at::Tensor x3 = random(t, {1, 1, 5, 6, 7}, ++seed);
    PoolingAttrs a3 = attrs(PoolingType::kMAX, {2, 2, 2}, {1, 2, 2}, {0, 0, 1}, {0, 0, 1});
    a3.dilation = {2, 1, 3};
    expect_close(run_pool(a3, x3), aten_max(x3, {2, 2, 2}, {1, 2, 2}, {0, 0, 1}, {2, 1, 3}, false),
                 1.0, "3d");
  }
}

// Asymmetric padding: pad explicitly (-inf for max, so padding never wins; zeros for the
// average), then pool without padding.
TEST(PoolingCpu, AsymmetricPaddingMatchesPaddedAten) {
  uint64_t seed = 300;
  for (DataType t : kFloatTypes) {
    at::Tensor x = random(t, {2, 2, 6, 7}, ++seed);
    std::vector<int64_t> w{3, 2}, s{2, 3}, pre{2, 0}, post{0, 1};
    std::vector<int64_t> pads{0, 1, 2, 0};  // (pre, post) from the last axis back
    at::Tensor f = x.to(at::kFloat);
    at::Tensor mx = at::max_pool2d(
        at::constant_pad_nd(f, pads, -std::numeric_limits<double>::infinity()), w, s);
    expect_close(run_pool(attrs(PoolingType::kMAX, w, s, pre, post), x), mx.to(x.scalar_type()),
                 1.0, "max");
    // Windows lie inside the padded extent (round down), so counting padding divides by the
    // window size; excluding it divides by the count of in-bounds elements.
    at::Tensor sum = at::avg_pool2d(at::constant_pad_nd(f, pads), w, s) * 6;
    at::Tensor count = at::avg_pool2d(at::constant_pad_nd(at::ones_like(f), pads), w, s) * 6;
    PoolingAttrs a = attrs(PoolingType::kAVERAGE, w, s, pre, post);
    a.average_count_excludes_padding = true;
    expect_close(run_pool(a, x), (sum / count).to(x.scalar_type()), 1.0, "avg exclude");
    a.average_count_excludes_padding = false;
    expect_close(run_pool(a, x), (sum / 6).to(x.scalar_type()), 1.0, "avg include");
  }
}

// SAME modes: output ceil(I / S); padding P = floor((I - 1) / S) * S + W - I, the odd one after
// (UPPER) or before (LOWER); explicit padding is ignored.
TEST(PoolingCpu, SameModesMatchPaddedAten) {
  at::Tensor x = random(DataType::kFLOAT, {1, 2, 7, 6}, 400);
  std::vector<int64_t> w{4, 3}, s{2, 2};
  // Axis H: ceil(7/2) = 4, P = 3*2 + 4 - 7 = 3; axis W: ceil(6/2) = 3, P = 2*2 + 3 - 6 = 1.
  for (PaddingMode m : {PaddingMode::kSAME_UPPER, PaddingMode::kSAME_LOWER}) {
    bool upper = m == PaddingMode::kSAME_UPPER;
    std::vector<int64_t> pads =
        upper ? std::vector<int64_t>{0, 1, 1, 2} : std::vector<int64_t>{1, 0, 2, 1};
    PoolingAttrs a = attrs(PoolingType::kMAX, w, s, {3, 3}, {3, 3});
    a.padding_mode = m;
    at::Tensor got = run_pool(a, x);
    EXPECT_EQ(got.sizes(), (std::vector<int64_t>{1, 2, 4, 3}));
    at::Tensor mx = at::max_pool2d(
        at::constant_pad_nd(x, pads, -std::numeric_limits<double>::infinity()), w, s);
    expect_close(got, mx, 1.0, upper ? "max upper" : "max lower");
    a.type = PoolingType::kAVERAGE;
    a.average_count_excludes_padding = false;
    expect_close(run_pool(a, x), at::avg_pool2d(at::constant_pad_nd(x, pads), w, s), 1.0,
                 upper ? "avg upper" : "avg lower");
  }
}

// Where ATen's ceil_mode and kEXPLICIT_ROUND_UP differ: ATen drops a last window that starts in
// the right padding; TensorRT's ceil((M - W) / S) + 1 keeps it. Such a window has no in-bounds
// element: max gives -inf (padding never wins), the average 0.
TEST(PoolingCpu, RoundUpKeepsWindowAtenDrops) {
  at::Tensor x = random(DataType::kFLOAT, {1, 1, 5}, 500);
  PoolingAttrs a = attrs(PoolingType::kMAX, {2}, {2}, {1}, {1});
  a.padding_mode = PaddingMode::kEXPLICIT_ROUND_UP;
  at::Tensor got = run_pool(a, x);
  at::Tensor aten = at::max_pool1d(x, {2}, {2}, {1}, {1}, true);
  ASSERT_EQ(aten.size(2), 3);
  ASSERT_EQ(got.size(2), 4);  // ceil((7 - 2) / 2) + 1
  expect_close(got.narrow(2, 0, 3), aten);
  EXPECT_EQ(got[0][0][3].item<float>(), -std::numeric_limits<float>::infinity());
  a.type = PoolingType::kAVERAGE;
  got = run_pool(a, x);
  expect_close(got.narrow(2, 0, 3), at::avg_pool1d(x, {2}, {2}, {1}, true, false));
  EXPECT_EQ(got[0][0][3].item<float>(), 0.0f);
}

// A window of 2^31 over three inputs (its extent almost all padding; fuzz_onnx_import made one
// from an LRN of that size and the reference kernel walked every position, a hang): the kernel
// visits the in-bounds elements only, and counts the padded ones per axis.
TEST(PoolingCpu, HugeWindowOverFewInputsCostsWhatItReads) {
  const int64_t w = int64_t{1} << 31, half = w / 2;
  const at::Tensor x = at::tensor({1.0f, 4.0f, 2.0f, -3.0f, 0.5f, 8.0f}).reshape({1, 2, 1, 3});
  BuilderConfig reference;
  reference.reference_kernels_only = true;
  PoolingAttrs a = attrs(PoolingType::kMAX, {1, w}, {1, 1}, {0, half}, {0, half});
  // Output width 3 + 2^31 - 2^31 + 1 = 4; every window covers the whole row.
  Network net;
  Tensor* in = net.add_input("x", DataType::kFLOAT, {1, 2, 1, 3});
  net.mark_output(net.add_pooling_nd(in, a)->output(0));
  at::Tensor y = run1(net, {x}, reference);
  EXPECT_TRUE(at::equal(
      y, at::tensor({4.0f, 4.0f, 4.0f, 4.0f, 8.0f, 8.0f, 8.0f, 8.0f}).reshape({1, 2, 1, 4})))
      << y;
  for (bool exclude : {true, false}) {
    Network avg;
    a.type = PoolingType::kAVERAGE;
    a.average_count_excludes_padding = exclude;
    Tensor* ain = avg.add_input("x", DataType::kFLOAT, {1, 2, 1, 3});
    avg.mark_output(avg.add_pooling_nd(ain, a)->output(0));
    at::Tensor r = run1(avg, {x}, reference);
    // Counting padding, each window lies inside [-2^30, 3 + 2^30): all 2^31 positions count.
    const double div = exclude ? 3.0 : static_cast<double>(w);
    const at::Tensor expect =
        at::tensor({static_cast<float>(7.0 / div), static_cast<float>(5.5 / div)})
            .reshape({1, 2, 1, 1})
            .expand({1, 2, 1, 4});
    EXPECT_TRUE(at::equal(r, expect)) << exclude << r;
  }
}

TEST(PoolingCpu, NanPropagatesThroughMax) {
  at::Tensor x = at::zeros({1, 1, 4}, at::kFloat);
  x[0][0][1] = std::nanf("");
  at::Tensor got = run_pool(attrs(PoolingType::kMAX, {2}, {}, {}, {}), x);
  expect_close(got, at::max_pool1d(x, {2}, {2}));
}

TEST(PoolingCpu, DynamicBatchAndSpatialSize) {
  PoolingAttrs a = attrs(PoolingType::kAVERAGE, {3, 2}, {2, 1}, {1, 0}, {1, 0});
  a.average_count_excludes_padding = false;
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3, -1, -1});
  Layer* l = net.add_pooling_nd(x, a);
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 3, -1, -1}));
  net.mark_output(l->output(0));
  BuilderConfig cfg;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 3, 3, 2}, {2, 3, 8, 6}, {4, 3, 11, 9});
  cfg.profiles.push_back(p);
  Runner r(net, cfg);
  uint64_t seed = 600;
  for (std::vector<int64_t> shape :
       {std::vector<int64_t>{1, 3, 3, 2}, {2, 3, 8, 6}, {4, 3, 11, 9}}) {
    at::Tensor xv = random(DataType::kFLOAT, shape, ++seed);
    expect_close(r.run({xv}).at(0), at::avg_pool2d(xv, {3, 2}, {2, 1}, {1, 0}, false, true), 1.0,
                 dims(shape).to_string());
  }
}

}  // namespace
}  // namespace lktest
