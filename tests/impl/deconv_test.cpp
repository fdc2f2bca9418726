// Transposed convolution building block against at::conv_transpose{1,2,3}d: output_padding
// (with bias on the extra rows), groups, dilation, dtypes, dynamic shapes, errors, names.
#include "layerkit/impl/deconv.h"

#include <cmath>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace dc = layerkit::impl::deconv;

const Target kTarget("conv_transpose");

HostConstant host(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return HostConstant::of(dims_of(c),
                          Weights::copy(from_aten(c.scalar_type()), c.data_ptr(), c.numel()));
}

// ATen's conv_transpose for the given spatial rank; fp16/bf16 computed in fp32 and rounded
// (1.13 lacks some 16-bit CPU kernels; ATen rounds once at the end).
at::Tensor reference(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                     const std::vector<int64_t>& s, const std::vector<int64_t>& p,
                     const std::vector<int64_t>& op, int64_t g, const std::vector<int64_t>& d) {
  auto up = [](const at::Tensor& t) { return t.defined() ? t.to(at::kFloat) : t; };
  bool unbatched = x.dim() + 1 == w.dim();
  at::Tensor xb = up(unbatched ? x.unsqueeze(0) : x);
  at::Tensor y;
  switch (w.dim()) {
    case 3:
      y = at::conv_transpose1d(xb, up(w), up(b), s, p, op, g, d);
      break;
    case 4:
      y = at::conv_transpose2d(xb, up(w), up(b), s, p, op, g, d);
      break;
    default:
      y = at::conv_transpose3d(xb, up(w), up(b), s, p, op, g, d);
  }
  return (unbatched ? y.squeeze(0) : y).to(x.scalar_type());
}

struct Case {
  std::string what;
  std::vector<int64_t> x, w;
  std::vector<int64_t> stride, padding, output_padding, dilation;
  int64_t groups;
  bool bias;
};

std::vector<Case> cases() {
  return {
      {"1d", {2, 3, 7}, {3, 4, 3}, {2}, {1}, {1}, {1}, 1, true},
      {"1d output_padding > padding", {1, 2, 5}, {2, 3, 2}, {3}, {0}, {2}, {1}, 1, true},
      {"2d non-square grouped",
       {1, 4, 5, 6},
       {4, 3, 3, 2},
       {2, 3},
       {1, 0},
       {1, 2},
       {1, 1},
       2,
       true},
      {"2d dilation-bounded output_padding",
       {2, 2, 4, 3},
       {2, 2, 2, 3},
       {1, 2},
       {0, 1},
       {2, 1},
       {3, 1},
       1,
       true},
      {"2d depthwise no bias",
       {1, 3, 4, 4},
       {3, 1, 3, 3},
       {2, 2},
       {1, 1},
       {0, 0},
       {1, 1},
       3,
       false},
      {"2d size-1 dims", {1, 1, 1, 5}, {1, 2, 1, 3}, {1, 4}, {0, 1}, {0, 3}, {1, 1}, 1, true},
      {"3d", {1, 2, 3, 4, 2}, {2, 3, 2, 2, 3}, {2, 1, 2}, {0, 1, 1}, {1, 0, 1}, {1, 1, 1}, 1, true},
      {"2d unbatched", {2, 3, 3}, {2, 2, 3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, 1, true},
  };
}

TEST(ImplDeconv, MatchesAtenForConstantAndTensorWeights) {
  uint64_t seed = 1;
  for (const Case& c : cases()) {
    for (DataType t : kFloatTypes) {
      at::Tensor x = random(t, c.x, seed++);
      at::Tensor w = random(t, c.w, seed++);
      at::Tensor b = c.bias ? random(t, {c.w[1] * c.groups}, seed++) : at::Tensor();
      at::Tensor expected =
          reference(x, w, b, c.stride, c.padding, c.output_padding, c.groups, c.dilation);
      // Each output accumulates at most C/groups * kernel volume products.
      int64_t k = c.w[0] / c.groups;
      for (size_t i = 2; i < c.w.size(); ++i) k *= c.w[i];
      double scale = std::sqrt(static_cast<double>(k));
      std::string what = c.what + " " + std::string(data_type_name(t));
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        std::optional<Operand> bias;
        if (c.bias) bias = Operand(host(b));
        return dc::deconvolution(ctx, kTarget, SourceIR::kATEN, "deconv", in[0], host(w), bias,
                                 c.stride, c.padding, c.dilation, c.output_padding, c.groups);
      });
      expect_close(got, expected, scale, what + " constant weights");
      std::vector<at::Tensor> ins{x, w};
      if (c.bias) ins.push_back(b);
      got = run_block(ins, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        std::optional<Operand> bias;
        if (c.bias) bias = Operand(in[2]);
        return dc::deconvolution(ctx, kTarget, SourceIR::kATEN, "deconv", in[0], in[1], bias,
                                 c.stride, c.padding, c.dilation, c.output_padding, c.groups);
      });
      expect_close(got, expected, scale, what + " tensor weights");
    }
  }
}

TEST(ImplDeconv, DynamicBatchAndSpatialSizesAtMinOptMax) {
  at::Tensor w = random(DataType::kFLOAT, {3, 2, 3, 2}, 50);
  at::Tensor b = random(DataType::kFLOAT, {2}, 51);
  auto set = [](int64_t n, int64_t h, int64_t wd, uint64_t s) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, 3, h, wd}, s)};
  };
  run_block_dynamic(
      {set(1, 1, 1, 52), set(2, 4, 3, 53), set(3, 7, 8, 54)},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return dc::deconvolution(ctx, kTarget, SourceIR::kATEN, "deconv", in[0], host(w), host(b),
                                 {2, 3}, {1, 0}, {}, {1, 2}, 1);
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        // 3 * 3 * 2 products at most per output.
        expect_close(out, at::conv_transpose2d(in[0], w, b, {2, 3}, {1, 0}, {1, 2}),
                     std::sqrt(18.0), "dynamic conv_transpose2d");
      });
}

TEST(ImplDeconv, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {1, 4, 3, 3}, 60);
  at::Tensor w = random(DataType::kFLOAT, {4, 3, 3, 3}, 61);
  auto deconv = [&](std::vector<int64_t> stride, std::vector<int64_t> pad,
                    std::vector<int64_t> outpad, int64_t groups, at::Tensor weight) {
    return [=](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return dc::deconvolution(ctx, kTarget, SourceIR::kATEN, "bad", in[0], host(weight),
                               std::nullopt, stride, pad, {}, outpad, groups);
    };
  };
  expect_block_error({random(DataType::kFLOAT, {1, 4, 3, 3, 3}, 1)}, deconv({}, {}, {}, 1, w),
                     {"deconv::deconvolution", "'bad'", "rank 5", "[4,3,3,3]"});
  expect_block_error({random(DataType::kFLOAT, {1, 5, 3, 3}, 2)}, deconv({}, {}, {}, 1, w),
                     {"channel mismatch", "5 channels", "expects 4"});
  expect_block_error({x}, deconv({}, {}, {}, 3, w), {"4 input channels", "groups 3"});
  expect_block_error({x}, deconv({}, {-1}, {}, 1, w), {"negative padding", "[-1,-1]"});
  expect_block_error({x}, deconv({2}, {}, {2}, 1, w),
                     {"output_padding [2,2]", "stride [2,2]", "dilation [1,1]"});
  expect_block_error({x}, deconv({1}, {3}, {}, 1, w), {"output size -1", "too small"});
}

TEST(ImplDeconv, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 2, 4});
  at::Tensor w = random(DataType::kFLOAT, {2, 3, 2}, 1);
  Tensor* y = dc::deconvolution(ctx, "conv_transpose1d", SourceIR::kATEN, "up", x, host(w),
                                std::nullopt, {2}, {0}, {}, {1}, 1);
  EXPECT_EQ(net.num_layers(), 3) << net.to_string();  // the input + 2 layers
  EXPECT_NE(net.find_layer("[PADDING]-[aten_ops.conv_transpose1d]-[up_output_padding]"), nullptr)
      << net.to_string();
  EXPECT_EQ(y->producer()->name(), "[DECONVOLUTION]-[aten_ops.conv_transpose1d]-[up]");
  EXPECT_EQ(y->dims(), Dims({1, 3, 9}));
}

TEST(ImplDeconv, OptionStructWithDesignatedInitializers) {
  expect_same_network(
      {{DataType::kFLOAT, {1, 4, 5, 5}}, {DataType::kFLOAT, {4, 3, 3, 3}}, {DataType::kFLOAT, {3}}},
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return dc::deconvolution(ctx, kTarget, SourceIR::kATEN, "d", in[0], in[1], in[2], {2}, {1},
                                 {1}, {1}, 1);
      },
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return dc::deconvolution(
            ctx, kTarget, SourceIR::kATEN, "d", in[0],
            {.weight = in[1], .bias = in[2], .stride = {2}, .padding = {1}, .output_padding = {1}});
      });
}

}  // namespace
}  // namespace lktest
