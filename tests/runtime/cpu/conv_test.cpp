// Convolution and Deconvolution reference kernels against ATen (at::convolution).
#include <cmath>

#include "test_util.h"

namespace lktest {
namespace {

struct ConvCase {
  std::string name;
  std::vector<int64_t> x;  // [N, C, spatial...]
  int64_t k = 1;           // num_output_maps
  std::vector<int64_t> ksize;
  std::vector<int64_t> stride{}, dil{}, pre{}, post{};  // empty: default
  int64_t groups = 1;
  PaddingMode mode = PaddingMode::kEXPLICIT_ROUND_DOWN;
  bool bias = true;
  bool tensors = false;  // kernel and bias as tensor inputs instead of weights
};

Dims dims(const std::vector<int64_t>& v) {
  return Dims(std::span<const int64_t>(v));
}
std::vector<int64_t> or_fill(const std::vector<int64_t>& v, size_t n, int64_t fill) {
  return v.empty() ? std::vector<int64_t>(n, fill) : v;
}

Weights weights_of(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return Weights::copy(from_aten(c.scalar_type()), c.data_ptr(), c.numel());
}

// The ATen oracle computes in fp32 on the same-typed values (half/bf16 upcast exactly) and
// rounds to the data type, as ATen's reduced-precision CPU kernels do.
at::Tensor f32(const at::Tensor& t) {
  return t.to(at::kFloat);
}

// Per-axis padding (pre, post) the oracle applies; derived here from TensorRT's documented
// formulas, independently of the library.
struct Pads {
  std::vector<int64_t> pre, post;
};
Pads conv_pads(const ConvCase& c) {
  size_t n = c.ksize.size();
  auto s = or_fill(c.stride, n, 1), d = or_fill(c.dil, n, 1);
  Pads p{or_fill(c.pre, n, 0), or_fill(c.post, n, 0)};
  for (size_t i = 0; i < n; ++i) {
    int64_t in = c.x[i + 2], dk = 1 + d[i] * (c.ksize[i] - 1);
    if (c.mode == PaddingMode::kSAME_UPPER || c.mode == PaddingMode::kSAME_LOWER) {
      int64_t total = std::max<int64_t>(0, (in - 1) / s[i] * s[i] + dk - in);
      int64_t small = total / 2;
      p.pre[i] = c.mode == PaddingMode::kSAME_UPPER ? small : total - small;
      p.post[i] = total - p.pre[i];
    } else if (c.mode == PaddingMode::kEXPLICIT_ROUND_UP) {
      // ceil((M - DK) / S) + 1 outputs read up to (O - 1) * S + DK; the extra reads are zeros.
      int64_t m = in + p.pre[i] + p.post[i];
      int64_t o = (m - dk + s[i] - 1) / s[i] + 1;
      p.post[i] += std::max<int64_t>(0, (o - 1) * s[i] + dk - m);
    }
  }
  return p;
}

// constant_pad_nd takes (pre, post) pairs from the last axis backwards.
std::vector<int64_t> pad_list(const Pads& p) {
  std::vector<int64_t> r;
  for (size_t i = p.pre.size(); i-- > 0;) {
    r.push_back(p.pre[i]);
    r.push_back(p.post[i]);
  }
  return r;
}

int64_t reduction_length(const ConvCase& c) {
  int64_t k = c.x[1] / c.groups;
  for (int64_t v : c.ksize) k *= v;
  return k;
}

// Builds and runs the layer; returns {actual, expected}.
std::pair<at::Tensor, at::Tensor> run_case(const ConvCase& c, DataType t, bool transposed,
                                           uint64_t seed) {
  const size_t n = c.ksize.size();
  std::vector<int64_t> wshape = transposed ? std::vector<int64_t>{c.x[1], c.k / c.groups}
                                           : std::vector<int64_t>{c.k, c.x[1] / c.groups};
  wshape.insert(wshape.end(), c.ksize.begin(), c.ksize.end());
  at::Tensor x = random(t, c.x, seed);
  at::Tensor w = random(t, wshape, seed + 1);
  at::Tensor b = random(t, {c.k}, seed + 2);

  Network net;
  Tensor* in = net.add_input("x", t, dims(c.x));
  Tensor *wt = nullptr, *bt = nullptr;
  ConvolutionAttrs a;
  a.num_output_maps = c.k;
  a.kernel_size = dims(c.ksize);
  a.stride = dims(c.stride);
  a.dilation = dims(c.dil);
  a.pre_padding = dims(c.pre);
  a.post_padding = dims(c.post);
  a.padding_mode = c.mode;
  a.num_groups = c.groups;
  if (c.tensors) {
    wt = constant(net, w);
    if (c.bias) bt = constant(net, b);
  } else {
    // Kernel weights in the data type, bias in float32: both accepted.
    a.kernel = weights_of(w);
    if (c.bias) a.bias = weights_of(b.to(at::kFloat));
  }
  Layer* l;
  if (transposed) {
    DeconvolutionAttrs d;
    d.num_output_maps = a.num_output_maps;
    d.kernel_size = a.kernel_size;
    d.kernel = a.kernel;
    d.bias = a.bias;
    d.stride = a.stride;
    d.pre_padding = a.pre_padding;
    d.post_padding = a.post_padding;
    d.dilation = a.dilation;
    d.padding_mode = a.padding_mode;
    d.num_groups = a.num_groups;
    l = net.add_deconvolution_nd(in, d, wt, bt);
  } else {
    l = net.add_convolution_nd(in, a, wt, bt);
  }
  net.mark_output(l->output(0));
  at::Tensor actual = run1(net, {x});

  auto stride = or_fill(c.stride, n, 1), dil = or_fill(c.dil, n, 1);
  std::vector<int64_t> zeros(n, 0);
  c10::optional<at::Tensor> bias;
  if (c.bias) bias = f32(b);
  at::Tensor expected;
  if (!transposed) {
    at::Tensor xp = at::constant_pad_nd(f32(x), pad_list(conv_pads(c)));
    expected = at::convolution(xp, f32(w), bias, stride, zeros, dil, false, zeros, c.groups);
  } else {
    // Full transposed convolution, then crop the pre/post padding (TensorRT's formulas).
    at::Tensor full =
        at::convolution(f32(x), f32(w), bias, stride, zeros, dil, true, zeros, c.groups);
    auto pre = or_fill(c.pre, n, 0), post = or_fill(c.post, n, 0);
    for (size_t i = 0; i < n; ++i) {
      if (c.mode == PaddingMode::kSAME_UPPER || c.mode == PaddingMode::kSAME_LOWER) {
        int64_t total = std::max<int64_t>(0, 1 + dil[i] * (c.ksize[i] - 1) - stride[i]);
        pre[i] = c.mode == PaddingMode::kSAME_UPPER ? total / 2 : total - total / 2;
        post[i] = total - pre[i];
      }
      int64_t len = full.size(static_cast<int64_t>(i) + 2);
      full = full.narrow(static_cast<int64_t>(i) + 2, pre[i], len - pre[i] - post[i]);
    }
    expected = full;
  }
  return {actual, expected.to(to_aten(t))};
}

std::vector<ConvCase> conv_cases() {
  using P = PaddingMode;
  return {
      {"1d_stride_asym_pad", {2, 3, 9}, 4, {3}, {2}, {}, {1}, {0}},
      {"1d_round_up_no_bias",
       {1, 2, 8},
       3,
       {3},
       {2},
       {},
       {0},
       {0},
       1,
       P::kEXPLICIT_ROUND_UP,
       false},
      {"2d_groups_dilation_nonsquare", {1, 4, 7, 6}, 6, {3, 2}, {1, 2}, {2, 1}, {1, 0}, {2, 1}, 2},
      {"2d_depthwise_round_up",
       {2, 4, 5, 5},
       8,
       {3, 3},
       {2, 2},
       {},
       {1, 1},
       {0, 0},
       4,
       P::kEXPLICIT_ROUND_UP},
      {"2d_stride_gt_kernel", {1, 2, 8, 7}, 3, {2, 1}, {3, 4}},
      {"2d_same_upper", {1, 3, 6, 5}, 2, {3, 4}, {2, 2}, {}, {5, 5}, {5, 5}, 1, P::kSAME_UPPER},
      {"2d_same_lower_dilated", {1, 3, 5, 6}, 2, {2, 3}, {1, 2}, {2, 1}, {}, {}, 1, P::kSAME_LOWER},
      {"2d_size_one_dims", {1, 1, 1, 5}, 1, {1, 3}},
      {"2d_kernel_bias_tensors",
       {2, 2, 5, 4},
       4,
       {2, 3},
       {1, 1},
       {},
       {0, 1},
       {1, 0},
       2,
       P::kEXPLICIT_ROUND_DOWN,
       true,
       true},
      {"3d_asym", {1, 2, 4, 5, 3}, 2, {2, 3, 1}, {1, 2, 1}, {}, {0, 1, 0}, {1, 0, 0}},
      {"3d_same_upper_groups",
       {1, 4, 3, 4, 3},
       2,
       {2, 2, 3},
       {2, 1, 2},
       {1, 2, 1},
       {},
       {},
       2,
       P::kSAME_UPPER},
  };
}

std::vector<ConvCase> deconv_cases() {
  using P = PaddingMode;
  return {
      {"1d_stride_asym_crop", {2, 4, 5}, 3, {3}, {2}, {}, {1}, {0}},
      {"1d_round_up_same_as_down",
       {1, 2, 4},
       2,
       {4},
       {3},
       {},
       {1},
       {2},
       1,
       P::kEXPLICIT_ROUND_UP,
       false},
      {"2d_groups_dilation_nonsquare", {1, 4, 3, 4}, 6, {3, 2}, {2, 3}, {1, 2}, {0, 1}, {1, 0}, 2},
      {"2d_depthwise", {1, 3, 4, 4}, 3, {3, 3}, {2, 2}, {}, {}, {}, 3},
      {"2d_stride_gt_kernel", {1, 2, 3, 2}, 2, {2, 1}, {3, 2}},
      {"2d_same_upper", {1, 2, 3, 4}, 3, {3, 4}, {2, 2}, {}, {9, 9}, {9, 9}, 1, P::kSAME_UPPER},
      {"2d_same_lower_small_kernel",
       {1, 2, 4, 3},
       2,
       {4, 2},
       {2, 3},
       {},
       {},
       {},
       1,
       P::kSAME_LOWER},
      {"2d_kernel_bias_tensors",
       {2, 2, 3, 3},
       4,
       {2, 3},
       {2, 1},
       {},
       {1, 0},
       {0, 1},
       2,
       P::kEXPLICIT_ROUND_DOWN,
       true,
       true},
      {"3d", {1, 2, 2, 3, 2}, 2, {2, 2, 3}, {2, 1, 2}, {1, 1, 2}, {0, 1, 1}, {1, 0, 1}},
  };
}

TEST(ConvolutionCpu, MatchesAtenAllTypes) {
  uint64_t seed = 10;
  for (const ConvCase& c : conv_cases())
    for (DataType t : kFloatTypes) {
      auto [actual, expected] = run_case(c, t, false, seed += 3);
      // Accumulates over K = C/groups * prod(kernel) products: tolerance scale sqrt(K).
      expect_close(actual, expected, std::sqrt(static_cast<double>(reduction_length(c))),
                   c.name + " " + std::string(data_type_name(t)));
    }
}

TEST(DeconvolutionCpu, MatchesAtenAllTypes) {
  uint64_t seed = 100;
  for (const ConvCase& c : deconv_cases())
    for (DataType t : kFloatTypes) {
      auto [actual, expected] = run_case(c, t, true, seed += 3);
      // Each output sums at most K = C/groups * prod(kernel) products: scale sqrt(K).
      expect_close(actual, expected, std::sqrt(static_cast<double>(reduction_length(c))),
                   c.name + " " + std::string(data_type_name(t)));
    }
}

TEST(ConvolutionCpu, SameModesGiveCeilOutputSize) {
  for (PaddingMode m : {PaddingMode::kSAME_UPPER, PaddingMode::kSAME_LOWER}) {
    ConvCase c{"same", {1, 1, 7, 8}, 1, {3, 2}, {2, 3}, {}, {}, {}, 1, m};
    auto [actual, expected] = run_case(c, DataType::kFLOAT, false, 7);
    EXPECT_EQ(actual.sizes(), (std::vector<int64_t>{1, 1, 4, 3}));  // ceil(7/2), ceil(8/3)
    expect_close(actual, expected, std::sqrt(6.0));                 // K = 1 * 3 * 2
  }
}

TEST(DeconvolutionCpu, SameModesGiveInputTimesStride) {
  ConvCase c{"same", {1, 1, 3, 4}, 1, {3, 2}, {2, 3}, {}, {}, {}, 1, PaddingMode::kSAME_UPPER};
  auto [actual, expected] = run_case(c, DataType::kFLOAT, true, 8);
  // min(I * S, (I - 1) * S + DK): 6 and min(12, 11) = 11.
  EXPECT_EQ(actual.sizes(), (std::vector<int64_t>{1, 1, 6, 11}));
  expect_close(actual, expected, std::sqrt(6.0));  // K = 1 * 3 * 2
}

// Dynamic batch and spatial sizes, one engine run at the profile's min, opt and max shapes.
template <typename A>
void run_dynamic(bool transposed) {
  const int64_t c = 4, k = 6, groups = 2;
  at::Tensor w = transposed ? random(DataType::kFLOAT, {c, k / groups, 3, 2}, 5)
                            : random(DataType::kFLOAT, {k, c / groups, 3, 2}, 5);
  at::Tensor b = random(DataType::kFLOAT, {k}, 6);
  A a;
  a.num_output_maps = k;
  a.kernel_size = {3, 2};
  a.kernel = weights_of(w);
  a.bias = weights_of(b);
  a.stride = {2, 1};
  a.pre_padding = {1, 0};
  a.post_padding = {0, 1};
  a.num_groups = groups;
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, c, -1, -1});
  Layer* l;
  if constexpr (std::is_same_v<A, ConvolutionAttrs>)
    l = net.add_convolution_nd(x, a);
  else
    l = net.add_deconvolution_nd(x, a);
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, k, -1, -1}));
  net.mark_output(l->output(0));
  BuilderConfig cfg;
  OptimizationProfile p;
  p.set_dimensions("x", {1, c, 4, 3}, {2, c, 6, 5}, {3, c, 9, 8});
  cfg.profiles.push_back(p);
  Runner r(net, cfg);
  uint64_t seed = 30;
  for (std::vector<int64_t> shape :
       {std::vector<int64_t>{1, c, 4, 3}, {2, c, 6, 5}, {3, c, 9, 8}}) {
    at::Tensor xv = random(DataType::kFLOAT, shape, ++seed);
    at::Tensor got = r.run({xv}).at(0);
    at::Tensor expected;
    if (!transposed) {
      at::Tensor xp = at::constant_pad_nd(xv, {0, 1, 1, 0});
      expected = at::convolution(xp, w, b, {2, 1}, {0, 0}, {1, 1}, false, {0, 0}, groups);
    } else {
      at::Tensor full = at::convolution(xv, w, b, {2, 1}, {0, 0}, {1, 1}, true, {0, 0}, groups);
      expected = full.narrow(2, 1, full.size(2) - 1).narrow(3, 0, full.size(3) - 1);
    }
    // K = C/groups * 3 * 2 = 12 products per output: scale sqrt(12).
    expect_close(got, expected, std::sqrt(12.0), "shape " + dims(shape).to_string());
  }
}

TEST(ConvolutionCpu, DynamicBatchAndSpatialSize) {
  run_dynamic<ConvolutionAttrs>(false);
}
TEST(DeconvolutionCpu, DynamicBatchAndSpatialSize) {
  run_dynamic<DeconvolutionAttrs>(true);
}

}  // namespace
}  // namespace lktest
