// scaled_dot_product_attention against ATen: the formula of torch's math path (checked against
// ATen 1.13's _scaled_dot_product_attention where that takes the same arguments), every float
// type, scale, causal, boolean and additive masks, broadcasting, dynamic lengths and errors.
#include "layerkit/impl/attention.h"

#include <cmath>
#include <limits>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace at_ = layerkit::impl::attention;

const Target kTarget("scaled_dot_product_attention.default");

// torch's math path: softmax(q k^T * scale + mask) v, in fp32 for 16-bit inputs.
at::Tensor reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const c10::optional<at::Tensor>& mask, bool causal,
                     std::optional<double> scale) {
  at::ScalarType st = q.scalar_type();
  at::Tensor qf = q.to(at::kFloat), kf = k.to(at::kFloat), vf = v.to(at::kFloat);
  double sc = scale.value_or(1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  at::Tensor s = at::matmul(qf, kf.transpose(-2, -1)) * sc;
  const double ninf = -std::numeric_limits<double>::infinity();
  if (causal) {
    at::Tensor keep = at::ones({q.size(-2), k.size(-2)}, at::kBool).tril();
    s = s.masked_fill(keep.logical_not(), ninf);
  } else if (mask && mask->scalar_type() == at::kBool) {
    s = s.masked_fill(mask->logical_not(), ninf);
  } else if (mask) {
    s = s + mask->to(at::kFloat);
  }
  return at::matmul(at::softmax(s, -1), vf).to(st);
}

using SdpaFn = std::function<Tensor*(ConversionContext&, const std::vector<Tensor*>&)>;

// Two matmuls accumulate over E and S products: tolerance scaled by sqrt(E + S).
double scale_for(const at::Tensor& q, const at::Tensor& k) {
  return std::sqrt(static_cast<double>(q.size(-1) + k.size(-2)));
}

TEST(ImplAttention, FormulaMatchesAten113WhereItApplies) {
  at::Tensor q = random(DataType::kFLOAT, {2, 3, 5, 8}, 1),
             k = random(DataType::kFLOAT, {2, 3, 7, 8}, 2);
  at::Tensor v = random(DataType::kFLOAT, {2, 3, 7, 4}, 3);
  at::Tensor bm = random(DataType::kBOOL, {5, 7}, 4);
  bm.select(1, 0).fill_(true);  // no fully masked row
  at::Tensor fm = random(DataType::kFLOAT, {5, 7}, 5);
  auto sdpa = [&](const c10::optional<at::Tensor>& m, bool causal) {
    return std::get<0>(at::_scaled_dot_product_attention(q, k, v, m, 0.0, false, causal));
  };
  expect_close(reference(q, k, v, {}, false, {}), sdpa({}, false), 1.0, "plain");
  at::Tensor q2 = random(DataType::kFLOAT, {2, 3, 7, 8}, 6);
  expect_close(reference(q2, k, v, {}, true, {}),
               std::get<0>(at::_scaled_dot_product_attention(q2, k, v, {}, 0.0, false, true)), 1.0,
               "causal");
  expect_close(reference(q, k, v, bm, false, {}), sdpa(bm, false), 1.0, "bool mask");
  expect_close(reference(q, k, v, fm, false, {}), sdpa(fm, false), 1.0, "float mask");
}

TEST(ImplAttention, EveryTypeScaleCausalAndMasks) {
  uint64_t seed = 100;
  for (DataType t : kFloatTypes) {
    at::Tensor q = random(t, {2, 2, 6, 8}, seed++), k = random(t, {2, 2, 9, 8}, seed++);
    at::Tensor v = random(t, {2, 2, 9, 5}, seed++);
    at::Tensor bm = random(DataType::kBOOL, {2, 1, 6, 9}, seed++);  // broadcast over heads
    bm.select(3, 0).fill_(true);
    at::Tensor fm = random(t, {6, 9}, seed++);  // broadcast over batch and heads
    struct Case {
      std::string name;
      int mask;  // 0 none, 1 bool, 2 additive
      bool causal;
      std::optional<double> scale;
    };
    for (const Case& c : std::vector<Case>{{"plain", 0, false, {}},
                                           {"scale 0.3", 0, false, 0.3},
                                           {"causal", 0, true, {}},
                                           {"causal scale 1", 0, true, 1.0},
                                           {"bool mask", 1, false, {}},
                                           {"additive mask", 2, false, 0.5}}) {
      std::vector<at::Tensor> in = {q, k, v};
      if (c.mask == 1) in.push_back(bm);
      if (c.mask == 2) in.push_back(fm);
      at::Tensor got = run_block(in, [&](ConversionContext& ctx, const std::vector<Tensor*>& x) {
        std::optional<Operand> m;
        if (c.mask) m = x[3];
        return at_::scaled_dot_product_attention(ctx, kTarget, SourceIR::kATEN, "attn", x[0], x[1],
                                                 x[2], m, 0.0, c.causal, c.scale);
      });
      c10::optional<at::Tensor> m;
      if (c.mask == 1) m = bm;
      if (c.mask == 2) m = fm;
      expect_close(got, reference(q, k, v, m, c.causal, c.scale), scale_for(q, k),
                   c.name + " " + std::string(data_type_name(t)));
    }
  }
}

TEST(ImplAttention, BroadcastBatchAndHostConstantMask) {
  at::Tensor q = random(DataType::kFLOAT, {3, 4, 6}, 1), k = random(DataType::kFLOAT, {1, 5, 6}, 2);
  at::Tensor v = random(DataType::kFLOAT, {5, 2}, 3);
  at::Tensor m = random(DataType::kFLOAT, {4, 5}, 4);
  HostConstant hm = HostConstant::of(
      {4, 5}, std::vector<float>(m.data_ptr<float>(), m.data_ptr<float>() + m.numel()));
  at::Tensor got = run_block({q, k, v}, [&](ConversionContext& ctx, const std::vector<Tensor*>& x) {
    return at_::scaled_dot_product_attention(ctx, kTarget, SourceIR::kATEN, "attn", x[0], x[1],
                                             x[2], hm);
  });
  expect_close(got, reference(q, k, v, m, false, {}), scale_for(q, k), "broadcast");
}

// A causal converter with a dynamic sequence length: the mask is built at run time.
TEST(ImplAttention, CausalWithDynamicLengthsAtMinOptMax) {
  auto set = [](int64_t b, int64_t l, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {b, 2, l, 8}, seed),
                                   random(DataType::kFLOAT, {b, 2, l, 8}, seed + 1),
                                   random(DataType::kFLOAT, {b, 2, l, 8}, seed + 2)};
  };
  for (bool causal : {true, false}) {
    run_block_dynamic(
        {set(1, 1, 10), set(2, 5, 20), set(3, 12, 30)},
        [&](ConversionContext& ctx, const std::vector<Tensor*>& x) {
          // The head dim is dynamic here, so the scale is given.
          return at_::scaled_dot_product_attention(ctx, kTarget, SourceIR::kATEN, "attn", x[0],
                                                   x[1], x[2], std::nullopt, 0.0, causal,
                                                   1.0 / std::sqrt(8.0));
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, reference(in[0], in[1], in[2], {}, causal, {}), scale_for(in[0], in[1]),
                       "dynamic L=" + std::to_string(in[0].size(2)) + (causal ? " causal" : ""));
        });
  }
}

TEST(ImplAttention, ErrorsLeaveTheNetworkUnchanged) {
  Network net;
  ConversionContext ctx(net);
  Tensor* q = net.add_input("q", DataType::kFLOAT, {2, 4, 8});
  Tensor* k = net.add_input("k", DataType::kFLOAT, {2, 5, 8});
  Tensor* v = net.add_input("v", DataType::kFLOAT, {2, 5, 3});
  Tensor* kh = net.add_input("kh", DataType::kHALF, {2, 5, 8});
  Tensor* kd = net.add_input("kd", DataType::kFLOAT, {2, 5, 6});
  Tensor* vs = net.add_input("vs", DataType::kFLOAT, {2, 6, 3});
  Tensor* qi = net.add_input("qi", DataType::kINT32, {2, 4, 8});
  Tensor* mi = net.add_input("mi", DataType::kINT32, {4, 5});
  Tensor* mb = net.add_input("mb", DataType::kBOOL, {4, 6});
  Tensor* qd = net.add_input("qd", DataType::kFLOAT, {2, 4, -1});
  Tensor* kdd = net.add_input("kdd", DataType::kFLOAT, {2, 5, -1});
  auto sdpa = [&](Tensor* a, Tensor* b, Tensor* c, std::optional<Operand> m = std::nullopt,
                  double p = 0.0, bool causal = false) {
    return [=, &ctx] {
      at_::scaled_dot_product_attention(ctx, kTarget, SourceIR::kATEN, "attn", a, b, c, m, p,
                                        causal);
    };
  };
  const std::string blk = "attention::scaled_dot_product_attention";
  expect_error_unchanged(net, sdpa(q, kh, v), {blk, "one type"});
  expect_error_unchanged(net, sdpa(q, kd, v), {blk, "E = 8", "E = 6"});
  expect_error_unchanged(net, sdpa(q, k, vs), {blk, "S = 5", "6"});
  expect_error_unchanged(net, sdpa(qi, k, v), {blk, "int32"});
  expect_error_unchanged(net, sdpa(q, k, v, mi), {blk, "attn_mask must be bool"});
  expect_error_unchanged(net, sdpa(q, k, v, mb), {blk, "broadcast"});
  expect_error_unchanged(net, sdpa(q, k, v, std::nullopt, 0.1), {blk, "dropout_p"});
  expect_error_unchanged(net, sdpa(q, k, v, mb, 0.0, true), {blk, "is_causal"});
  expect_error_unchanged(net, sdpa(qd, kdd, v), {blk, "dynamic", "scale"});
}

TEST(ImplAttention, LayerNames) {
  Network net;
  ConversionContext ctx(net);
  Tensor* q = net.add_input("q", DataType::kHALF, {4, 8});
  Tensor* y = at_::scaled_dot_product_attention(ctx, "sdpa", SourceIR::kATEN, "blk1/attn", q, q, q,
                                                std::nullopt, 0.0, true);
  EXPECT_EQ(y->producer()->name(), "[CAST]-[aten_ops.sdpa]-[blk1/attn]");
  for (const char* n : {"[MATRIX_MULTIPLY]-[aten_ops.sdpa]-[blk1/attn_scores]",
                        "[CONSTANT]-[aten_ops.sdpa]-[blk1/attn_causal_mask]",
                        "[MATRIX_MULTIPLY]-[aten_ops.sdpa]-[blk1/attn_output]"})
    EXPECT_NE(net.find_layer(n), nullptr) << n << "\n" << net.to_string();
}

}  // namespace
}  // namespace lktest
