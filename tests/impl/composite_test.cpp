// End-to-end composites built only from building blocks, compared with the same computation in
// ATen: a ResNet basic block and a transformer encoder layer (attention as matmul + softmax),
// both with dynamic dims run at min, opt and max.
#include <cmath>

#include "impl/impl_test_util.h"
#include "layerkit/impl/activation.h"
#include "layerkit/impl/cat.h"
#include "layerkit/impl/conv.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/linear.h"
#include "layerkit/impl/matmul.h"
#include "layerkit/impl/normalization.h"
#include "layerkit/impl/permutation.h"
#include "layerkit/impl/shape.h"
#include "layerkit/impl/shuffle.h"
#include "layerkit/impl/squeeze.h"

namespace lktest {
namespace {

namespace im = layerkit::impl;

HostConstant host(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return HostConstant::of(dims_of(c),
                          Weights::copy(from_aten(c.scalar_type()), c.data_ptr(), c.numel()));
}

const Target kT("composite");
const auto kIR = SourceIR::kATEN;

struct BasicBlockWeights {
  at::Tensor w1, w2, m1, v1, g1, b1, m2, v2, g2, b2;
  explicit BasicBlockWeights(int64_t c) {
    uint64_t s = 40;
    w1 = random(DataType::kFLOAT, {c, c, 3, 3}, s++, -0.3, 0.3);
    w2 = random(DataType::kFLOAT, {c, c, 3, 3}, s++, -0.3, 0.3);
    m1 = random(DataType::kFLOAT, {c}, s++, -0.2, 0.2);
    v1 = random(DataType::kFLOAT, {c}, s++, 0.5, 1.5);
    g1 = random(DataType::kFLOAT, {c}, s++, 0.5, 1.5);
    b1 = random(DataType::kFLOAT, {c}, s++, -0.2, 0.2);
    m2 = random(DataType::kFLOAT, {c}, s++, -0.2, 0.2);
    v2 = random(DataType::kFLOAT, {c}, s++, 0.5, 1.5);
    g2 = random(DataType::kFLOAT, {c}, s++, 0.5, 1.5);
    b2 = random(DataType::kFLOAT, {c}, s++, -0.2, 0.2);
  }
};

TEST(Composite, ResNetBasicBlockMatchesAten) {
  const int64_t c = 4;
  BasicBlockWeights w(c);
  auto block = [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    Tensor* x = in[0];
    Tensor* h = im::conv::convolution(ctx, kT, kIR, "conv1", x, host(w.w1), std::nullopt, {1}, {1},
                                      {1}, false, {0}, 1);
    h = im::normalization::batch_norm(ctx, kT, kIR, "bn1", h, host(w.g1), host(w.b1), host(w.m1),
                                      host(w.v1));
    h = im::activation::relu(ctx, kT, kIR, "relu1", h);
    h = im::conv::convolution(ctx, kT, kIR, "conv2", h, host(w.w2), std::nullopt, {1}, {1}, {1},
                              false, {0}, 1);
    h = im::normalization::batch_norm(ctx, kT, kIR, "bn2", h, host(w.g2), host(w.b2), host(w.m2),
                                      host(w.v2));
    h = im::elementwise::add(ctx, kT, kIR, "residual", h, x);
    return im::activation::relu(ctx, kT, kIR, "relu2", h);
  };
  auto reference = [&](const at::Tensor& x) {
    at::Tensor h = at::conv2d(x, w.w1, {}, 1, 1);
    h = at::batch_norm(h, w.g1, w.b1, w.m1, w.v1, false, 0.1, 1e-5, false);
    h = at::relu(h);
    h = at::conv2d(h, w.w2, {}, 1, 1);
    h = at::batch_norm(h, w.g2, w.b2, w.m2, w.v2, false, 0.1, 1e-5, false);
    return at::relu(h + x);
  };
  // Two 3x3 convolutions over 4 channels: K = 36 each; tolerance scaled by sqrt(2 * 36).
  const double scale = std::sqrt(72.0);
  at::Tensor x = random(DataType::kFLOAT, {2, c, 7, 6}, 1);
  expect_close(run_block({x}, block), reference(x), scale, "static");
  // Dynamic batch and spatial size at min, opt and max.
  auto set = [&](int64_t n, int64_t h, int64_t wd) {
    return std::vector<at::Tensor>{
        random(DataType::kFLOAT, {n, c, h, wd}, static_cast<uint64_t>(n * 100 + h))};
  };
  run_block_dynamic({set(1, 3, 3), set(2, 8, 6), set(3, 11, 9)}, block,
                    [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
                      expect_close(out, reference(in[0]), scale, "dynamic");
                    });
}

struct EncoderWeights {
  int64_t e, heads, ffn;
  at::Tensor wq, bq, wk, bk, wv, bv, wo, bo, g1, be1, w1, b1, w2, b2, g2, be2;
  EncoderWeights(int64_t e_, int64_t h_, int64_t f_) : e(e_), heads(h_), ffn(f_) {
    uint64_t s = 70;
    auto r = [&](std::vector<int64_t> shape, double lo, double hi) {
      return random(DataType::kFLOAT, shape, s++, lo, hi);
    };
    double a = 1.0 / std::sqrt(static_cast<double>(e));
    wq = r({e, e}, -a, a), bq = r({e}, -0.1, 0.1), wk = r({e, e}, -a, a), bk = r({e}, -0.1, 0.1);
    wv = r({e, e}, -a, a), bv = r({e}, -0.1, 0.1), wo = r({e, e}, -a, a), bo = r({e}, -0.1, 0.1);
    g1 = r({e}, 0.8, 1.2), be1 = r({e}, -0.1, 0.1), g2 = r({e}, 0.8, 1.2), be2 = r({e}, -0.1, 0.1);
    w1 = r({f_, e}, -a, a), b1 = r({f_}, -0.1, 0.1);
    w2 = r({e, f_}, -1.0 / std::sqrt(static_cast<double>(f_)),
           1.0 / std::sqrt(static_cast<double>(f_)));
    b2 = r({e}, -0.1, 0.1);
  }
};

// Post-norm encoder layer (as torch.nn.TransformerEncoderLayer with norm_first=false, GELU).
TEST(Composite, TransformerEncoderLayerMatchesAten) {
  EncoderWeights w(16, 2, 32);
  const int64_t d = w.e / w.heads;
  auto block = [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    Tensor* x = in[0];  // [B, S, E], B and S possibly dynamic
    // [B, S, heads, d] from shape arithmetic, so dynamic B and S work.
    Tensor* b =
        im::squeeze::unsqueeze(ctx, kT, kIR, "b", im::shape::size(ctx, kT, kIR, "b0", x, 0), 0);
    Tensor* s =
        im::squeeze::unsqueeze(ctx, kT, kIR, "s", im::shape::size(ctx, kT, kIR, "s0", x, 1), 0);
    std::vector<int64_t> hd = {w.heads, d};
    Tensor* split_shape =
        im::cat::cat(ctx, kT, kIR, "split_shape",
                     {b, s, HostConstant::of({2}, Weights::from_vector(DataType::kINT64, hd))}, 0);
    std::vector<int64_t> e1 = {w.e};
    Tensor* merge_shape =
        im::cat::cat(ctx, kT, kIR, "merge_shape",
                     {b, s, HostConstant::of({1}, Weights::from_vector(DataType::kINT64, e1))}, 0);
    auto heads = [&](std::string n, const at::Tensor& wt, const at::Tensor& bias) {
      Tensor* p = im::linear::linear(ctx, kT, kIR, n, x, host(wt), host(bias));
      p = im::shuffle::reshape(ctx, kT, kIR, n + "_split", p, split_shape);
      return im::permutation::permute(ctx, kT, kIR, n + "_heads", p, {0, 2, 1, 3});  // [B,h,S,d]
    };
    Tensor* q = heads("q", w.wq, w.bq);
    Tensor* k = heads("k", w.wk, w.bk);
    Tensor* v = heads("v", w.wv, w.bv);
    Tensor* kt = im::permutation::transpose(ctx, kT, kIR, "k_t", k, -1, -2);
    Tensor* scores = im::matmul::matrix_multiply(ctx, kT, kIR, "scores", q, kt);
    scores = im::elementwise::div(ctx, kT, kIR, "scale", scores, std::sqrt(static_cast<double>(d)));
    Tensor* probs = im::normalization::softmax(ctx, kT, kIR, "softmax", scores, -1);
    Tensor* ctxv = im::matmul::matrix_multiply(ctx, kT, kIR, "context", probs, v);
    ctxv = im::permutation::permute(ctx, kT, kIR, "merge_heads", ctxv, {0, 2, 1, 3});
    ctxv = im::shuffle::reshape(ctx, kT, kIR, "merge", ctxv, merge_shape);
    Tensor* attn = im::linear::linear(ctx, kT, kIR, "out_proj", ctxv, host(w.wo), host(w.bo));
    Tensor* x1 = im::elementwise::add(ctx, kT, kIR, "residual1", x, attn);
    x1 = im::normalization::layer_norm(ctx, kT, kIR, "norm1", x1, {w.e}, host(w.g1), host(w.be1));
    Tensor* f = im::linear::linear(ctx, kT, kIR, "ffn1", x1, host(w.w1), host(w.b1));
    f = im::activation::gelu(ctx, kT, kIR, "gelu", f);
    f = im::linear::linear(ctx, kT, kIR, "ffn2", f, host(w.w2), host(w.b2));
    Tensor* x2 = im::elementwise::add(ctx, kT, kIR, "residual2", x1, f);
    return im::normalization::layer_norm(ctx, kT, kIR, "norm2", x2, {w.e}, host(w.g2), host(w.be2));
  };
  auto reference = [&](const at::Tensor& x) {
    int64_t bsz = x.size(0), seq = x.size(1);
    auto split = [&](const at::Tensor& p) {
      return p.reshape({bsz, seq, w.heads, d}).permute({0, 2, 1, 3});
    };
    at::Tensor q = split(at::linear(x, w.wq, w.bq)), k = split(at::linear(x, w.wk, w.bk)),
               v = split(at::linear(x, w.wv, w.bv));
    at::Tensor p =
        at::softmax(at::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(d)), -1);
    at::Tensor c = at::matmul(p, v).permute({0, 2, 1, 3}).reshape({bsz, seq, w.e});
    at::Tensor x1 = at::layer_norm(x + at::linear(c, w.wo, w.bo), {w.e}, w.g1, w.be1);
    at::Tensor f = at::linear(at::gelu(at::linear(x1, w.w1, w.b1)), w.w2, w.b2);
    return at::layer_norm(x1 + f, {w.e}, w.g2, w.be2);
  };
  // The longest accumulation chain is the FFN (K = 32) after the projections (K = 16); the
  // tolerance is scaled by sqrt(32 * 16).
  const double scale = std::sqrt(32.0 * 16.0);
  at::Tensor x = random(DataType::kFLOAT, {2, 5, w.e}, 3, -1, 1);
  expect_close(run_block({x}, block), reference(x), scale, "static");
  auto set = [&](int64_t bsz, int64_t seq) {
    return std::vector<at::Tensor>{
        random(DataType::kFLOAT, {bsz, seq, w.e}, static_cast<uint64_t>(bsz * 10 + seq), -1, 1)};
  };
  run_block_dynamic({set(1, 1), set(2, 6), set(4, 9)}, block,
                    [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
                      expect_close(out, reference(in[0]), scale, "dynamic");
                    });
}

}  // namespace
}  // namespace lktest
