// Fast CPU implementations (oneDNN, vectorized) against the reference kernels, which define
// correctness: the same layer runs with the full implementation lists and with reference only.
#include <cmath>
#include <optional>

#include "kernel_names.h"
#include "test_util.h"

namespace lktest {
namespace {

Dims dims(const std::vector<int64_t>& v) {
  return Dims(std::span<const int64_t>(v));
}

struct Compared {
  at::Tensor fast, ref;
  std::string impl;  // the implementation the fast run chose for the network's last layer
};

// Runs `net`'s last layer output (its only output) with the fast lists and with reference only.
Compared compare(const Network& net, const std::vector<at::Tensor>& inputs,
                 BuilderConfig cfg = {}) {
  const std::string layer = net.layer(net.num_layers() - 1)->name();
  Runner fast(net, cfg, 0);
  at::Tensor f = fast.run(inputs).at(0);
  cfg.reference_kernels_only = true;
  Runner ref(net, cfg, 0);
  at::Tensor r = ref.run(inputs).at(0);
  EXPECT_EQ(ref.context().layer_implementation(layer), "reference");
  return {f, r, fast.context().layer_implementation(layer)};
}

// ---- Convolution ------------------------------------------------------------------------------

enum class KernelFrom { kWEIGHTS, kCONSTANT, kINPUT };

struct ConvCase {
  std::vector<int64_t> x;  // [N, C, spatial...]
  int64_t k = 1;
  std::vector<int64_t> ksize;
  std::vector<int64_t> stride{}, dil{}, pre{}, post{};
  int64_t groups = 1;
  PaddingMode mode = PaddingMode::kEXPLICIT_ROUND_DOWN;
  bool bias = true;
  KernelFrom from = KernelFrom::kWEIGHTS;
  DataType type = DataType::kFLOAT;
  std::string expect_impl = onednn_or("reference");
};

std::string describe(const ConvCase& c) {
  std::string s = "x=" + dims(c.x).to_string() + " k=" + std::to_string(c.k) +
                  " ksize=" + dims(c.ksize).to_string() + " stride=" + dims(c.stride).to_string() +
                  " dil=" + dims(c.dil).to_string() + " pre=" + dims(c.pre).to_string() +
                  " post=" + dims(c.post).to_string() + " groups=" + std::to_string(c.groups) +
                  " mode=" + std::to_string(static_cast<int>(c.mode)) +
                  " from=" + std::to_string(static_cast<int>(c.from));
  return s;
}

Weights weights_of(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return Weights::copy(from_aten(c.scalar_type()), c.data_ptr(), c.numel());
}

TEST(FastConvolution, MatchesReference) {
  using P = PaddingMode;
  using F = KernelFrom;
  const std::vector<ConvCase> cases = {
      {.x = {1, 3, 8, 8}, .k = 4, .ksize = {3, 3}},
      {.x = {2, 8, 9, 7}, .k = 16, .ksize = {3, 3}, .pre = {1, 1}, .post = {1, 1}},
      {.x = {1, 4, 10, 11},
       .k = 6,
       .ksize = {3, 2},
       .stride = {2, 3},
       .pre = {0, 1},
       .post = {2, 0}},
      {.x = {1, 4, 12, 12}, .k = 4, .ksize = {3, 3}, .dil = {2, 3}, .pre = {2, 1}, .post = {1, 3}},
      {.x = {2, 8, 6, 6}, .k = 8, .ksize = {3, 3}, .pre = {1, 1}, .post = {1, 1}, .groups = 8},
      {.x = {1, 6, 7, 7}, .k = 9, .ksize = {1, 1}, .groups = 3, .bias = false},
      {.x = {1, 3, 9, 9}, .k = 5, .ksize = {3, 3}, .stride = {2, 2}, .mode = P::kEXPLICIT_ROUND_UP},
      {.x = {1, 3, 10, 10}, .k = 5, .ksize = {4, 4}, .stride = {3, 3}},  // trailing input unread
      {.x = {1, 3, 9, 10}, .k = 2, .ksize = {3, 3}, .stride = {2, 2}, .mode = P::kSAME_UPPER},
      {.x = {1, 3, 9, 10}, .k = 2, .ksize = {4, 2}, .stride = {2, 1}, .mode = P::kSAME_LOWER},
      {.x = {2, 4, 17}, .k = 3, .ksize = {5}, .stride = {2}, .pre = {2}, .post = {1}},  // 1-D
      {.x = {1, 2, 5, 6, 7},
       .k = 4,
       .ksize = {3, 2, 3},
       .dil = {1, 2, 1},
       .pre = {1, 0, 1}},  // 3-D
      {.x = {1, 4, 8, 8},
       .k = 4,
       .ksize = {3, 3},
       .pre = {1, 1},
       .post = {1, 1},
       .from = F::kCONSTANT},
      {.x = {1, 4, 8, 8}, .k = 6, .ksize = {3, 3}, .groups = 2, .from = F::kINPUT},
      {.x = {1, 4, 8, 8}, .k = 6, .ksize = {3, 3}, .bias = false, .from = F::kINPUT},
      // fp16 has no oneDNN entry here: the reference runs it.
      {.x = {1, 3, 6, 6},
       .k = 2,
       .ksize = {3, 3},
       .type = DataType::kHALF,
       .expect_impl = "reference"},
  };
  uint64_t seed = 100;
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(describe(c));
    std::vector<int64_t> wshape{c.k, c.x[1] / c.groups};
    wshape.insert(wshape.end(), c.ksize.begin(), c.ksize.end());
    at::Tensor x = random(c.type, c.x, seed++);
    at::Tensor w = random(c.type, wshape, seed++);
    at::Tensor b = random(c.type, {c.k}, seed++);
    Network net;
    Tensor* in = net.add_input("x", c.type, dims(c.x));
    ConvolutionAttrs a;
    a.num_output_maps = c.k;
    a.kernel_size = dims(c.ksize);
    a.stride = dims(c.stride);
    a.dilation = dims(c.dil);
    a.pre_padding = dims(c.pre);
    a.post_padding = dims(c.post);
    a.padding_mode = c.mode;
    a.num_groups = c.groups;
    Tensor *wt = nullptr, *bt = nullptr;
    std::vector<at::Tensor> inputs{x};
    if (c.from == F::kWEIGHTS) {
      a.kernel = weights_of(w);
      if (c.bias) a.bias = weights_of(b);
    } else if (c.from == F::kCONSTANT) {
      wt = constant(net, w);
      if (c.bias) bt = constant(net, b);
    } else {
      wt = net.add_input("w", c.type, dims(wshape));
      inputs.push_back(w);
      if (c.bias) {
        bt = net.add_input("b", c.type, dims({c.k}));
        inputs.push_back(b);
      }
    }
    net.mark_output(net.add_convolution_nd(in, a, wt, bt)->output(0));
    Compared r = compare(net, inputs);
    EXPECT_EQ(r.impl, c.expect_impl);
    // Accumulates C/groups * prod(ksize) products: tolerance scaled by sqrt(K).
    int64_t k = c.x[1] / c.groups;
    for (int64_t v : c.ksize) k *= v;
    expect_close(r.fast, r.ref, std::sqrt(static_cast<double>(k)));
  }
}

// A dynamic input re-selects (and re-creates the primitive) per shape; a shape seen again reuses
// its choice. Checked at the profile's min, opt and max and back at min.
TEST(FastConvolution, DynamicShapesReselect) {
  Network net;
  Tensor* in = net.add_input("x", DataType::kFLOAT, dims({-1, 4, -1, -1}));
  ConvolutionAttrs a;
  a.num_output_maps = 8;
  a.kernel_size = dims({3, 3});
  a.pre_padding = dims({1, 1});
  a.post_padding = dims({1, 1});
  a.kernel = weights_of(random(DataType::kFLOAT, {8, 4, 3, 3}, 7));
  a.bias = weights_of(random(DataType::kFLOAT, {8}, 8));
  Layer* conv = net.add_convolution_nd(in, a);
  net.mark_output(conv->output(0));
  BuilderConfig cfg;
  OptimizationProfile prof;
  prof.set_dimensions("x", dims({1, 4, 4, 4}), dims({2, 4, 9, 7}), dims({3, 4, 16, 16}));
  cfg.profiles.push_back(prof);
  BuilderConfig ref_cfg = cfg;
  ref_cfg.reference_kernels_only = true;
  Runner fast(net, cfg, 0), ref(net, ref_cfg, 0);
  uint64_t seed = 20;
  for (const auto& shape : std::vector<std::vector<int64_t>>{
           {1, 4, 4, 4}, {2, 4, 9, 7}, {3, 4, 16, 16}, {1, 4, 4, 4}}) {
    SCOPED_TRACE(dims(shape).to_string());
    at::Tensor x = random(DataType::kFLOAT, shape, seed++);
    at::Tensor f = fast.run({x}).at(0), r = ref.run({x}).at(0);
    EXPECT_EQ(fast.context().layer_implementation(conv->name()), onednn_or("reference"));
    expect_close(f, r, std::sqrt(4.0 * 9.0));  // K = C * 3 * 3
  }
}

TEST(FastConvolution, ThreadCountDoesNotChangeResults) {
  Network net;
  Tensor* in = net.add_input("x", DataType::kFLOAT, dims({2, 16, 20, 20}));
  ConvolutionAttrs a;
  a.num_output_maps = 32;
  a.kernel_size = dims({3, 3});
  a.kernel = weights_of(random(DataType::kFLOAT, {32, 16, 3, 3}, 3));
  net.mark_output(net.add_convolution_nd(in, a)->output(0));
  at::Tensor x = random(DataType::kFLOAT, {2, 16, 20, 20}, 4);
  BuilderConfig cfg;
  cfg.num_threads = 3;
  Compared r = compare(net, {x}, cfg);
  EXPECT_EQ(r.impl, onednn_or("reference"));
  expect_close(r.fast, r.ref, std::sqrt(16.0 * 9.0));
}

TEST(FastKernels, ProfileNamesTheImplementation) {
  Network net;
  Tensor* in = net.add_input("x", DataType::kFLOAT, dims({1, 2, 4, 4}));
  PoolingAttrs blend;
  blend.type = PoolingType::kMAX_AVERAGE_BLEND;
  blend.window = dims({2, 2});
  blend.blend_factor = 0.25f;
  Layer* p0 = net.add_pooling_nd(in, blend);
  PoolingAttrs max = blend;
  max.type = PoolingType::kMAX;
  Layer* p1 = net.add_pooling_nd(p0->output(0), max);
  net.mark_output(p1->output(0));
  Runner r(net, {}, 0);
  r.context().set_profiling(true);
  EXPECT_EQ(r.context().layer_implementation(p1->name()), "");  // not run yet
  r.run({random(DataType::kFLOAT, {1, 2, 4, 4}, 1)});
  std::vector<LayerProfile> prof = r.context().profile();
  ASSERT_EQ(prof.size(), 2u);
  EXPECT_EQ(prof[0].implementation, "reference");  // oneDNN has no max-average blend
  EXPECT_EQ(prof[1].implementation, "direct");
  expect_error([&] { r.context().layer_implementation("nope"); }, {"no layer 'nope'"});
}

// ---- MatrixMultiply ---------------------------------------------------------------------------

struct MatmulCase {
  std::vector<int64_t> a, b;
  MatrixOperation op0 = MatrixOperation::kNONE, op1 = MatrixOperation::kNONE;
  bool constant_b = false;
  std::string expect_impl = onednn_or("reference");
};

TEST(FastMatmul, MatchesReference) {
  using M = MatrixOperation;
  const std::vector<MatmulCase> cases = {
      {{5, 7}, {7, 3}},
      {{64, 96}, {96, 48}},
      {{7, 5}, {7, 3}, M::kTRANSPOSE},
      {{5, 7}, {3, 7}, M::kNONE, M::kTRANSPOSE},
      {{7, 5}, {3, 7}, M::kTRANSPOSE, M::kTRANSPOSE},
      {{2, 3, 5, 7}, {2, 3, 7, 4}},
      {{2, 1, 5, 7}, {1, 3, 7, 4}},  // both operands broadcast a batch dim
      {{4, 5, 7}, {1, 7, 6}, M::kNONE, M::kNONE, true},
      {{4, 7, 5}, {1, 6, 7}, M::kTRANSPOSE, M::kTRANSPOSE, true},
      {{3, 7}, {7}, M::kNONE, M::kVECTOR},
      {{7}, {7, 4}, M::kVECTOR, M::kNONE},
      {{2, 7}, {2, 7}, M::kVECTOR, M::kVECTOR},
      {{33, 65}, {65, 17}, M::kNONE, M::kNONE, true},
      // 2 to 16 rows against a constant B: the packed-panel kernel; one row: oneDNN.
      {{1, 300}, {300, 70}, M::kNONE, M::kNONE, true},
      {{2, 300}, {300, 70}, M::kNONE, M::kNONE, true, "skinny"},
      {{2, 3, 40}, {1, 40, 9}, M::kNONE, M::kNONE, true, "skinny"},
      {{8, 33}, {17, 33}, M::kNONE, M::kTRANSPOSE, true, "skinny"},
      {{16, 64}, {64, 24}, M::kNONE, M::kNONE, true, "skinny"},  // two blocks of rows
      {{13, 5}, {5, 3}, M::kNONE, M::kNONE, true, "skinny"},     // partial row block and panel
      {{17, 64}, {64, 24}, M::kNONE, M::kNONE, true},            // past 16 rows: oneDNN
      {{5, 13}, {5, 3}, M::kTRANSPOSE, M::kNONE, true},          // A transposed: oneDNN
  };
  uint64_t seed = 300;
  for (const MatmulCase& c : cases) {
    SCOPED_TRACE("a=" + dims(c.a).to_string() + " b=" + dims(c.b).to_string() +
                 " ops=" + std::to_string(static_cast<int>(c.op0)) + "," +
                 std::to_string(static_cast<int>(c.op1)) + (c.constant_b ? " constant b" : ""));
    at::Tensor a = random(DataType::kFLOAT, c.a, seed++);
    at::Tensor b = random(DataType::kFLOAT, c.b, seed++);
    Network net;
    Tensor* ta = net.add_input("a", DataType::kFLOAT, dims(c.a));
    Tensor* tb = c.constant_b ? constant(net, b) : net.add_input("b", DataType::kFLOAT, dims(c.b));
    net.mark_output(net.add_matrix_multiply(ta, c.op0, tb, c.op1)->output(0));
    std::vector<at::Tensor> inputs{a};
    if (!c.constant_b) inputs.push_back(b);
    Compared r = compare(net, inputs);
    EXPECT_EQ(r.impl, c.expect_impl);
    const int64_t k = c.op0 == M::kTRANSPOSE ? c.a[c.a.size() - 2] : c.a.back();
    expect_close(r.fast, r.ref, std::sqrt(static_cast<double>(k)));  // K products per output
  }
}

TEST(FastMatmul, DynamicShapesReselect) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kFLOAT, dims({-1, -1, 16}));
  at::Tensor b = random(DataType::kFLOAT, {1, 16, 8}, 9);
  Layer* mm =
      net.add_matrix_multiply(a, MatrixOperation::kNONE, constant(net, b), MatrixOperation::kNONE);
  net.mark_output(mm->output(0));
  BuilderConfig cfg;
  OptimizationProfile prof;
  prof.set_dimensions("a", dims({1, 1, 16}), dims({2, 5, 16}), dims({4, 32, 16}));
  cfg.profiles.push_back(prof);
  BuilderConfig ref_cfg = cfg;
  ref_cfg.reference_kernels_only = true;
  Runner fast(net, cfg, 0), ref(net, ref_cfg, 0);
  uint64_t seed = 40;
  for (const auto& shape :
       std::vector<std::vector<int64_t>>{{1, 1, 16}, {2, 5, 16}, {4, 32, 16}, {2, 5, 16}}) {
    SCOPED_TRACE(dims(shape).to_string());
    at::Tensor x = random(DataType::kFLOAT, shape, seed++);
    at::Tensor f = fast.run({x}).at(0), r = ref.run({x}).at(0);
    // 2 to 16 rows of A (over its batch dims): the packed-panel kernel.
    const int64_t rows = shape[0] * shape[1];
    EXPECT_EQ(fast.context().layer_implementation(mm->name()),
              rows >= 2 && rows <= 16 ? "skinny" : onednn_or("reference"));
    expect_close(f, r, std::sqrt(16.0));
  }
}

// ---- Pooling ----------------------------------------------------------------------------------

struct PoolCase {
  std::vector<int64_t> x;
  PoolingType type = PoolingType::kMAX;
  std::vector<int64_t> window, stride{}, pre{}, post{}, dil{};
  PaddingMode mode = PaddingMode::kEXPLICIT_ROUND_DOWN;
  bool exclude_padding = true;
  std::string expect_impl = onednn_or("reference");
};

TEST(FastPooling, MatchesReferenceOrDeclines) {
  using T = PoolingType;
  using P = PaddingMode;
  const std::vector<PoolCase> cases = {
      // 2-D max pooling runs the direct loop, the rest oneDNN.
      {{2, 3, 8, 8}, T::kMAX, {2, 2}, {}, {}, {}, {}, P::kEXPLICIT_ROUND_DOWN, true, "direct"},
      {{1, 4, 9, 9},
       T::kMAX,
       {3, 3},
       {2, 2},
       {1, 1},
       {1, 1},
       {},
       P::kEXPLICIT_ROUND_DOWN,
       true,
       "direct"},
      {{2, 3, 40, 37},
       T::kMAX,
       {3, 3},
       {2, 2},
       {1, 1},
       {1, 1},
       {},
       P::kEXPLICIT_ROUND_DOWN,
       true,
       "direct"},  // ResNet's stem pooling, several planes per thread
      {{1, 4, 9, 9}, T::kAVERAGE, {3, 3}, {2, 2}, {1, 1}, {1, 1}},
      {{1, 4, 9, 9},
       T::kAVERAGE,
       {3, 3},
       {2, 2},
       {1, 1},
       {1, 1},
       {},
       P::kEXPLICIT_ROUND_DOWN,
       false},
      {{1, 2, 10, 7},
       T::kAVERAGE,
       {3, 2},
       {2, 1},
       {1, 0},
       {0, 1},
       {},
       P::kEXPLICIT_ROUND_DOWN,
       false},
      {{1, 2, 11, 11},
       T::kMAX,
       {3, 3},
       {1, 1},
       {},
       {},
       {2, 2},
       P::kEXPLICIT_ROUND_DOWN,
       true,
       "direct"},                                                              // dilated
      {{1, 3, 17}, T::kAVERAGE, {4}, {3}, {1}, {2}},                           // 1-D
      {{1, 2, 5, 6, 7}, T::kMAX, {2, 3, 2}, {1, 2, 2}, {0, 1, 1}, {1, 1, 0}},  // 3-D
      {{1, 3, 10, 10}, T::kMAX, {3, 3}, {2, 2}, {}, {}, {}, P::kSAME_UPPER, true, "direct"},
      {{1, 3, 10, 10}, T::kAVERAGE, {3, 3}, {2, 2}, {}, {}, {}, P::kSAME_LOWER, true},
      // Ceil mode: the last window reads past the layer's padding. Excluding padding, or max,
      // oneDNN agrees; counting padding, its divisor (the whole window) differs: declined.
      {{1, 2, 8, 8}, T::kMAX, {3, 3}, {2, 2}, {}, {}, {}, P::kEXPLICIT_ROUND_UP, true, "direct"},
      {{1, 2, 8, 8}, T::kAVERAGE, {3, 3}, {2, 2}, {}, {}, {}, P::kEXPLICIT_ROUND_UP, true},
      {{1, 2, 8, 8},
       T::kAVERAGE,
       {3, 3},
       {2, 2},
       {},
       {},
       {},
       P::kEXPLICIT_ROUND_UP,
       false,
       "reference"},
      // A window of padding only (stride beyond the window): -inf from the direct loop as from
      // the reference; oneDNN (3-D) declines.
      {{1, 2, 7, 7}, T::kMAX, {2, 2}, {4, 4}, {}, {}, {}, P::kEXPLICIT_ROUND_UP, true, "direct"},
      {{1, 2, 3, 7, 7},
       T::kMAX,
       {1, 2, 2},
       {1, 4, 4},
       {},
       {},
       {},
       P::kEXPLICIT_ROUND_UP,
       true,
       "reference"},
      {{1, 2, 6, 6},
       T::kMAX_AVERAGE_BLEND,
       {2, 2},
       {},
       {},
       {},
       {},
       P::kEXPLICIT_ROUND_DOWN,
       true,
       "reference"},
  };
  uint64_t seed = 500;
  for (const PoolCase& c : cases) {
    SCOPED_TRACE(
        "x=" + dims(c.x).to_string() + " type=" + std::to_string(static_cast<int>(c.type)) +
        " window=" + dims(c.window).to_string() + " stride=" + dims(c.stride).to_string() +
        " pre=" + dims(c.pre).to_string() + " post=" + dims(c.post).to_string() +
        " dil=" + dims(c.dil).to_string() + " mode=" + std::to_string(static_cast<int>(c.mode)) +
        " exclude=" + std::to_string(c.exclude_padding));
    Network net;
    Tensor* in = net.add_input("x", DataType::kFLOAT, dims(c.x));
    PoolingAttrs a;
    a.type = c.type;
    a.window = dims(c.window);
    a.stride = dims(c.stride);
    a.pre_padding = dims(c.pre);
    a.post_padding = dims(c.post);
    a.dilation = dims(c.dil);
    a.padding_mode = c.mode;
    a.average_count_excludes_padding = c.exclude_padding;
    a.blend_factor = 0.3f;
    net.mark_output(net.add_pooling_nd(in, a)->output(0));
    Compared r = compare(net, {random(DataType::kFLOAT, c.x, seed++)});
    EXPECT_EQ(r.impl, c.expect_impl);
    int64_t k = 1;  // an average sums the window
    for (int64_t v : c.window) k *= v;
    expect_close(r.fast, r.ref, std::sqrt(static_cast<double>(k)));
  }
}

// oneDNN's max pooling skips NaN; that implementation falls back to the reference on inputs
// holding one, so NaN propagates as in the reference (and ATen). The direct loop propagates it.
TEST(FastPooling, MaxPropagatesNan) {
  for (bool three_d : {false, true}) {
    SCOPED_TRACE(three_d);
    Network net;
    const std::vector<int64_t> shape =
        three_d ? std::vector<int64_t>{1, 2, 2, 6, 6} : std::vector<int64_t>{1, 2, 6, 6};
    Tensor* in = net.add_input("x", DataType::kFLOAT, dims(shape));
    PoolingAttrs a;
    a.window = three_d ? dims({1, 2, 2}) : dims({2, 2});
    net.mark_output(net.add_pooling_nd(in, a)->output(0));
    at::Tensor x = random(DataType::kFLOAT, shape, 12);
    at::Tensor plane = three_d ? x[0][1][0] : x[0][1];
    plane[2][3] = NAN;
    Compared r = compare(net, {x});
    EXPECT_EQ(r.impl, three_d ? onednn_or("reference") : "direct");
    at::Tensor out = three_d ? r.fast[0][1][0] : r.fast[0][1];
    EXPECT_TRUE(std::isnan(out[1][1].item<float>()));
    expect_close(r.fast, r.ref);
  }
}

// ---- Vectorized pointwise kernels -----------------------------------------------------------

// Values over a wide range plus the special ones (zeros, infinities, NaN, large magnitudes).
at::Tensor activation_input(const std::vector<int64_t>& shape, uint64_t seed) {
  at::Tensor x = random(DataType::kFLOAT, shape, seed, -12.0, 12.0);
  const std::vector<float> special = {0.0f,   -0.0f,   1e-4f,    -1e-4f,    0.5f,
                                      -0.5f,  30.0f,   -30.0f,   90.0f,     -90.0f,
                                      200.0f, -200.0f, INFINITY, -INFINITY, NAN};
  at::Tensor flat = x.view({-1});
  for (size_t i = 0; i < special.size() && static_cast<int64_t>(i) < flat.numel(); ++i)
    flat[static_cast<int64_t>(i)] = special[i];
  return x;
}

TEST(FastActivation, MatchesReference) {
  const std::vector<ActivationType> types = {ActivationType::kRELU, ActivationType::kSIGMOID,
                                             ActivationType::kTANH, ActivationType::kGELU_ERF,
                                             ActivationType::kGELU_TANH};
  // Odd sizes leave vector tails; the largest spans several threads' chunks.
  const std::vector<std::vector<int64_t>> shapes = {{1}, {17}, {3, 5, 7}, {2, 64, 33}, {300001}};
  uint64_t seed = 700;
  for (ActivationType t : types)
    for (const auto& shape : shapes) {
      SCOPED_TRACE(std::string(enum_name(t)) + " " + dims(shape).to_string());
      Network net;
      Tensor* in = net.add_input("x", DataType::kFLOAT, dims(shape));
      net.mark_output(net.add_activation(in, t)->output(0));
      BuilderConfig cfg;
      cfg.num_threads = 2;
      Compared r = compare(net, {activation_input(shape, seed++)}, cfg);
      EXPECT_EQ(r.impl, "vectorized");
      expect_close(r.fast, r.ref);
    }
}

TEST(FastActivation, OtherTypesAndDtypesDecline) {
  Network net;
  Tensor* in = net.add_input("x", DataType::kFLOAT, dims({4, 5}));
  net.mark_output(net.add_activation(in, ActivationType::kLEAKY_RELU, 0.1f)->output(0));
  EXPECT_EQ(compare(net, {random(DataType::kFLOAT, {4, 5}, 1)}).impl, "reference");
  Network half;
  Tensor* hin = half.add_input("x", DataType::kHALF, dims({4, 5}));
  half.mark_output(half.add_activation(hin, ActivationType::kRELU)->output(0));
  EXPECT_EQ(compare(half, {random(DataType::kHALF, {4, 5}, 2)}).impl, "reference");
}

struct BinaryCase {
  std::vector<int64_t> a, b;
  ElementWiseOperation op;
  std::string expect_impl = "vectorized";
};

TEST(FastElementWise, MatchesReferenceOrDeclines) {
  using E = ElementWiseOperation;
  const std::vector<BinaryCase> cases = {
      {{2, 3, 4, 5}, {2, 3, 4, 5}, E::kSUM},
      {{2, 3, 4, 5}, {2, 3, 4, 5}, E::kDIV},
      {{2, 8, 9, 9}, {1, 8, 1, 1}, E::kSUM},   // per-channel bias
      {{2, 8, 9, 9}, {1, 8, 1, 1}, E::kPROD},  // per-channel scale
      {{1, 8, 1, 1}, {2, 8, 9, 9}, E::kSUB},   // the broadcast operand first
      {{1, 8, 1, 1}, {2, 8, 9, 9}, E::kDIV},
      {{2, 8, 9, 9}, {1, 8, 1, 1}, E::kDIV},
      {{4, 7, 33}, {1, 1, 33}, E::kSUM},  // trailing (bias over the last axis)
      {{4, 7, 33}, {1, 1, 33}, E::kSUB},
      {{1, 1, 33}, {4, 7, 33}, E::kSUB},
      {{4, 7, 33}, {4, 1, 1}, E::kPROD},  // leading
      {{4, 7, 33}, {1, 1, 1}, E::kSUB},   // scalar
      {{1, 1, 1}, {4, 7, 33}, E::kDIV},
      {{3, 200, 400}, {1, 200, 1}, E::kSUM},  // several threads' chunks
      {{3, 200, 400}, {3, 200, 400}, E::kPROD},
      {{4, 1}, {1, 5}, E::kSUM, "reference"},              // both operands broadcast
      {{2, 3, 4, 5}, {1, 3, 1, 5}, E::kSUM, "reference"},  // two separate broadcast runs
      {{2, 3}, {2, 3}, E::kMAX, "reference"},
  };
  uint64_t seed = 900;
  for (const BinaryCase& c : cases) {
    SCOPED_TRACE(std::string(enum_name(c.op)) + " " + dims(c.a).to_string() + " " +
                 dims(c.b).to_string());
    Network net;
    Tensor* a = net.add_input("a", DataType::kFLOAT, dims(c.a));
    Tensor* b = net.add_input("b", DataType::kFLOAT, dims(c.b));
    net.mark_output(net.add_elementwise(a, b, c.op)->output(0));
    BuilderConfig cfg;
    cfg.num_threads = 2;
    Compared r = compare(
        net, {random(DataType::kFLOAT, c.a, seed++), random(DataType::kFLOAT, c.b, seed++)}, cfg);
    EXPECT_EQ(r.impl, c.expect_impl);
    expect_close(r.fast, r.ref);
  }
}

TEST(FastSoftMax, MatchesReferenceOrDeclines) {
  struct Case {
    std::vector<int64_t> x;
    int axis;  // -1: no axis bit (the default, last axis)
    std::string expect_impl = "vectorized";
  };
  const std::vector<Case> cases = {
      {{4, 10}, 1},     {{3, 5, 1000}, 2}, {{7}, -1},
      {{2, 3, 17}, -1}, {{40, 3000}, 1},   {{4, 10, 6}, 1, "reference"},  // not the last axis
  };
  uint64_t seed = 1100;
  for (const Case& c : cases) {
    SCOPED_TRACE(dims(c.x).to_string() + " axis " + std::to_string(c.axis));
    Network net;
    Tensor* in = net.add_input("x", DataType::kFLOAT, dims(c.x));
    const AxesMask axes = c.axis < 0 ? 0 : AxesMask{1} << c.axis;
    net.mark_output(net.add_softmax(in, axes)->output(0));
    BuilderConfig cfg;
    cfg.num_threads = 2;
    Compared r = compare(net, {random(DataType::kFLOAT, c.x, seed++, -8.0, 8.0)}, cfg);
    EXPECT_EQ(r.impl, c.expect_impl);
    // Each output divides by a sum over the axis: tolerance scaled by sqrt(axis length).
    const int64_t len = c.x[static_cast<size_t>(c.axis < 0 ? c.x.size() - 1 : c.axis)];
    expect_close(r.fast, r.ref, std::sqrt(static_cast<double>(len)));
  }
}

// ---- Data movement and normalization ----------------------------------------------------------

TEST(FastShuffle, MatchesReferenceForEveryElementSize) {
  struct Case {
    std::vector<int64_t> x;
    std::vector<int32_t> first;
    std::optional<std::vector<int64_t>> reshape;
    std::vector<int32_t> second;
  };
  const std::vector<Case> cases = {
      {{2, 5, 3, 4}, {0, 2, 1, 3}, std::nullopt, {}},  // heads split: rows stay contiguous
      {{2, 3, 5, 4}, {0, 1, 3, 2}, std::nullopt, {}},  // last two swapped: strided
      {{4, 6}, {1, 0}, std::nullopt, {}},              // plain transpose
      {{2, 1, 3, 4}, {2, 0, 3, 1}, std::nullopt, {}},  // size-1 axes
      {{2, 6, 4}, {}, std::vector<int64_t>{2, 3, 2, 4}, {0, 2, 1, 3}},  // reshape then transpose
      {{2, 3, 8}, {0, 2, 1}, std::vector<int64_t>{2, 4, 2, 3}, {3, 1, 0, 2}},  // both transposes
      {{3, 4, 5}, {}, std::vector<int64_t>{12, 5}, {}},  // reshape only: one copy
      {{64, 96, 40}, {2, 0, 1}, std::nullopt, {}},       // several threads' rows
  };
  uint64_t seed = 1300;
  for (DataType t :
       {DataType::kFLOAT, DataType::kHALF, DataType::kINT64, DataType::kINT8, DataType::kBOOL}) {
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(data_type_name(t)) + " " + dims(c.x).to_string());
      Network net;
      Tensor* in = net.add_input("x", t, dims(c.x));
      ShuffleAttrs a;
      a.first_transpose = c.first;
      if (c.reshape) a.reshape_dims = dims(*c.reshape);
      a.second_transpose = c.second;
      net.mark_output(net.add_shuffle(in, a)->output(0));
      BuilderConfig cfg;
      cfg.num_threads = 2;
      Compared r = compare(net, {random(t, c.x, seed++)}, cfg);
      EXPECT_EQ(r.impl, "strided copy");
      EXPECT_TRUE(at::equal(r.fast, r.ref));
    }
  }
}

TEST(FastConcatenation, MatchesReference) {
  for (int axis : {0, 1, 2}) {
    SCOPED_TRACE(axis);
    Network net;
    std::vector<Tensor*> ins;
    std::vector<at::Tensor> values;
    for (int i = 0; i < 3; ++i) {
      std::vector<int64_t> shape = {2, 3, 4};
      shape[static_cast<size_t>(axis)] = i + 1;
      std::string name = "x";  // (operator+ on a literal trips GCC 12's -Wrestrict)
      name += std::to_string(i);
      ins.push_back(net.add_input(name, DataType::kINT32, dims(shape)));
      values.push_back(random(DataType::kINT32, shape, 1400 + static_cast<uint64_t>(i), -50, 50));
    }
    net.mark_output(net.add_concatenation(ins, axis)->output(0));
    Compared r = compare(net, values);
    EXPECT_EQ(r.impl, "strided copy");
    EXPECT_TRUE(at::equal(r.fast, r.ref));
  }
}

TEST(FastNormalization, TrailingAxesMatchReferenceOthersDecline) {
  struct Case {
    std::vector<int64_t> x;
    AxesMask axes;
    std::vector<int64_t> scale;  // bias has the same dims
    int64_t groups = 1;
    std::string expect_impl = "vectorized";
  };
  const std::vector<Case> cases = {
      {{2, 7, 33}, 4, {1, 1, 33}},                       // layer norm over the last axis
      {{3, 5, 768}, 4, {1, 1, 768}},                     // BERT's
      {{2, 4, 5, 6}, 12, {1, 4, 1, 1}},                  // instance norm: one scale per (n, c) row
      {{2, 4, 5, 6}, 14, {1, 1, 1, 1}},                  // all but the batch axis, one scale
      {{2, 4, 5, 6}, 14, {1, 4, 5, 6}},                  // per-element over all normalized axes
      {{2, 6, 5, 6}, 12, {1, 6, 1, 1}, 3, "reference"},  // group norm
      {{2, 4, 5}, 2, {1, 4, 1}, 1, "reference"},         // not the trailing axes
  };
  uint64_t seed = 1500;
  for (const Case& c : cases) {
    SCOPED_TRACE(dims(c.x).to_string() + " axes " + std::to_string(c.axes));
    Network net;
    Tensor* in = net.add_input("x", DataType::kFLOAT, dims(c.x));
    Tensor* g = constant(net, random(DataType::kFLOAT, c.scale, seed++, 0.5, 1.5));
    Tensor* b = constant(net, random(DataType::kFLOAT, c.scale, seed++));
    NormalizationAttrs a;
    a.axes = c.axes;
    a.num_groups = c.groups;
    net.mark_output(net.add_normalization(in, g, b, a)->output(0));
    BuilderConfig cfg;
    cfg.num_threads = 2;
    Compared r = compare(net, {random(DataType::kFLOAT, c.x, seed++, -3.0, 5.0)}, cfg);
    EXPECT_EQ(r.impl, c.expect_impl);
    expect_close(r.fast, r.ref);
  }
}

TEST(FastReduce, ContiguousAxesMatchReferenceOthersDecline) {
  using R = ReduceOperation;
  struct Case {
    std::vector<int64_t> x;
    AxesMask axes;
    R op;
    bool keep = false;
    std::string expect_impl = "vectorized";
  };
  const std::vector<Case> cases = {
      {{4, 7, 33}, 4, R::kSUM},            // last axis: one row each
      {{4, 7, 33}, 4, R::kAVG, true},      // kept dims
      {{2, 64, 7, 7}, 12, R::kAVG, true},  // global average pooling
      {{5, 6, 7}, 1, R::kSUM},             // leading axis: accumulated columns
      {{3, 5, 6, 7}, 6, R::kMAX},          // middle axes
      {{3, 5, 6, 7}, 8, R::kMIN},
      {{2, 3000}, 2, R::kMAX},  // several threads' rows, vector tails
      {{2, 300, 40}, 6, R::kAVG},
      {{3, 5, 6}, 5, R::kSUM, false, "reference"},  // axes 0 and 2: not one run
      {{3, 5, 6}, 2, R::kPROD, false, "reference"},
  };
  uint64_t seed = 1700;
  for (const Case& c : cases) {
    SCOPED_TRACE(dims(c.x).to_string() + " axes " + std::to_string(c.axes) + " " +
                 std::string(enum_name(c.op)));
    Network net;
    Tensor* in = net.add_input("x", DataType::kFLOAT, dims(c.x));
    net.mark_output(net.add_reduce(in, c.op, c.axes, c.keep)->output(0));
    BuilderConfig cfg;
    cfg.num_threads = 2;
    at::Tensor x = random(DataType::kFLOAT, c.x, seed++, -3.0, 3.0);
    Compared r = compare(net, {x}, cfg);
    EXPECT_EQ(r.impl, c.expect_impl);
    int64_t len = 1;
    for (int d = 0; d < static_cast<int>(c.x.size()); ++d)
      if (c.axes & (AxesMask{1} << d)) len *= c.x[static_cast<size_t>(d)];
    expect_close(r.fast, r.ref, std::sqrt(static_cast<double>(len)));
    if (c.op == R::kMAX || c.op == R::kMIN) {  // NaN propagates through the extremum
      x.view({-1})[x.numel() / 2] = NAN;
      Compared n = compare(net, {x}, cfg);
      EXPECT_EQ(n.impl, c.expect_impl);
      expect_close(n.fast, n.ref);
      EXPECT_TRUE(at::isnan(n.fast).any().item<bool>());
    }
  }
}

}  // namespace
}  // namespace lktest
