// Convolution building block against at::convolution / at::conv{1,2,3}d: dims, groups, padding
// forms, weights as constants and tensors, dtypes, dynamic shapes, errors, names.
#include "layerkit/impl/conv.h"

#include <cmath>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace cv = layerkit::impl::conv;

const Target kTarget("convolution");

HostConstant host(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return HostConstant::of(dims_of(c),
                          Weights::copy(from_aten(c.scalar_type()), c.data_ptr(), c.numel()));
}

// ATen 1.13 lacks some fp16 CPU convolutions: compute those in fp32 and round, as its kernels do
// for bf16.
at::Tensor reference(
    const std::function<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&)>& f,
    const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  if (x.scalar_type() == at::kFloat) return f(x, w, b);
  auto up = [](const at::Tensor& t) { return t.defined() ? t.to(at::kFloat) : t; };
  return f(up(x), up(w), up(b)).to(x.scalar_type());
}

struct Case {
  std::string what;
  std::vector<int64_t> x, w;
  std::vector<int64_t> stride, padding, dilation;
  int64_t groups;
  bool bias;
};

std::vector<Case> cases() {
  return {
      {"1d", {2, 3, 11}, {4, 3, 3}, {2}, {1}, {1}, 1, true},
      {"1d dilated no bias", {1, 2, 9}, {2, 2, 2}, {1}, {0}, {3}, 1, false},
      {"2d non-square grouped", {1, 4, 7, 9}, {6, 2, 3, 2}, {2, 3}, {1, 0}, {1, 2}, 2, true},
      {"2d depthwise stride > kernel", {2, 3, 5, 5}, {3, 1, 3, 3}, {4, 4}, {1, 1}, {1, 1}, 3, true},
      {"2d size-1 dims", {1, 1, 1, 6}, {2, 1, 1, 3}, {1, 1}, {0, 0}, {1, 1}, 1, true},
      {"3d", {1, 2, 4, 5, 6}, {3, 2, 2, 3, 1}, {1, 2, 1}, {1, 1, 0}, {1, 1, 1}, 1, true},
      {"2d unbatched", {3, 6, 6}, {2, 3, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, true},
  };
}

int64_t accumulated(const std::vector<int64_t>& w) {
  int64_t k = 1;
  for (size_t i = 1; i < w.size(); ++i) k *= w[i];
  return k;
}

TEST(ImplConv, MatchesAtenForConstantAndTensorWeights) {
  uint64_t seed = 1;
  for (const Case& c : cases()) {
    for (DataType t : kFloatTypes) {
      at::Tensor x = random(t, c.x, seed++);
      at::Tensor w = random(t, c.w, seed++);
      at::Tensor b = c.bias ? random(t, {c.w[0]}, seed++) : at::Tensor();
      bool unbatched = c.x.size() + 1 == c.w.size();
      at::Tensor expected = reference(
          [&](const at::Tensor& xx, const at::Tensor& ww, const at::Tensor& bb) {
            at::Tensor xb = unbatched ? xx.unsqueeze(0) : xx;
            at::Tensor y = at::convolution(xb, ww, bb, c.stride, c.padding, c.dilation, false,
                                           std::vector<int64_t>(c.stride.size(), 0), c.groups);
            return unbatched ? y.squeeze(0) : y;
          },
          x, w, b);
      // Products are accumulated over C/groups * kernel volume elements.
      double scale = std::sqrt(static_cast<double>(accumulated(c.w)));
      std::string what = c.what + " " + std::string(data_type_name(t));
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        std::optional<Operand> bias;
        if (c.bias) bias = Operand(host(b));
        return cv::convolution(ctx, kTarget, SourceIR::kATEN, "conv", in[0], host(w), bias,
                               c.stride, c.padding, c.dilation, false, {}, c.groups);
      });
      expect_close(got, expected, scale, what + " constant weights");
      std::vector<at::Tensor> ins{x, w};
      if (c.bias) ins.push_back(b);
      got = run_block(ins, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        std::optional<Operand> bias;
        if (c.bias) bias = Operand(in[2]);
        return cv::convolution(ctx, kTarget, SourceIR::kATEN, "conv", in[0], in[1], bias, c.stride,
                               c.padding, c.dilation, false, {0}, c.groups);
      });
      expect_close(got, expected, scale, what + " tensor weights");
    }
  }
}

TEST(ImplConv, ScalarParametersApplyToEveryAxis) {
  at::Tensor x = random(DataType::kFLOAT, {1, 2, 8, 7}, 40);
  at::Tensor w = random(DataType::kFLOAT, {3, 2, 3, 3}, 41);
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return cv::convolution(ctx, kTarget, SourceIR::kATEN, "conv", in[0], host(w), std::nullopt, {2},
                           {1}, {}, false, {}, 1);
  });
  expect_close(got, at::conv2d(x, w, {}, 2, 1), std::sqrt(18.0), "stride 2 padding 1");
}

TEST(ImplConv, PaddingStringsAndAsymmetricPadding) {
  uint64_t seed = 60;
  for (DataType t : kFloatTypes) {
    at::Tensor x = random(t, {2, 2, 8, 7}, seed++);
    at::Tensor w = random(t, {3, 2, 4, 3}, seed++);  // even kernel: 'same' pads unevenly
    at::Tensor b = random(t, {3}, seed++);
    double scale = std::sqrt(24.0);  // 2 * 4 * 3 products per output
    for (std::string mode : {"same", "valid"}) {
      for (std::vector<int64_t> dil : {std::vector<int64_t>{1, 1}, std::vector<int64_t>{2, 1}}) {
        at::Tensor expected =
            reference([&](const at::Tensor& xx, const at::Tensor& ww,
                          const at::Tensor& bb) { return at::conv2d(xx, ww, bb, 1, mode, dil); },
                      x, w, b);
        at::Tensor got =
            run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return cv::convolution(ctx, kTarget, SourceIR::kATEN, "conv", in[0], host(w), host(b),
                                     {1}, mode, dil, 1);
            });
        expect_close(
            got, expected, scale,
            mode + " dilation " + std::to_string(dil[0]) + " " + std::string(data_type_name(t)));
      }
    }
    // pre (1, 0), post (2, 3): ATen pads explicitly first.
    at::Tensor expected = reference(
        [&](const at::Tensor& xx, const at::Tensor& ww, const at::Tensor& bb) {
          return at::conv2d(at::constant_pad_nd(xx, {0, 3, 1, 2}), ww, bb, {2, 1});
        },
        x, w, b);
    at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return cv::convolution(ctx, kTarget, SourceIR::kATEN, "conv", in[0], host(w), host(b), {2, 1},
                             {1, 0}, {2, 3}, {}, 1);
    });
    expect_close(got, expected, scale, "asymmetric " + std::string(data_type_name(t)));
  }
}

TEST(ImplConv, TransposedDelegatesToDeconvolution) {
  at::Tensor x = random(DataType::kFLOAT, {1, 4, 5, 4}, 70);
  at::Tensor w = random(DataType::kFLOAT, {4, 3, 3, 2}, 71);
  at::Tensor b = random(DataType::kFLOAT, {6}, 72);
  at::Tensor expected = at::convolution(x, w, b, {2, 3}, {1, 0}, {1, 1}, true, {1, 2}, 2);
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return cv::convolution(ctx, kTarget, SourceIR::kATEN, "conv", in[0], host(w), host(b), {2, 3},
                           {1, 0}, {1, 1}, true, {1, 2}, 2);
  });
  expect_close(got, expected, std::sqrt(12.0), "transposed");  // 2 * 3 * 2 products at most
}

TEST(ImplConv, FloatWeightsOfAnotherTypeAreWidened) {
  // fp16 input with fp32 constant weights (what a mixed-precision converter may pass).
  at::Tensor x = random(DataType::kHALF, {1, 2, 5}, 80);
  at::Tensor w = random(DataType::kFLOAT, {2, 2, 3}, 81);
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return cv::convolution(ctx, kTarget, SourceIR::kATEN, "conv", in[0], host(w), std::nullopt, {},
                           {}, {}, false, {}, 1);
  });
  at::Tensor expected = at::conv1d(x.to(at::kFloat), w).to(at::kHalf);
  expect_close(got, expected, std::sqrt(6.0), "fp16 input, fp32 weights");
}

TEST(ImplConv, DynamicBatchAndSpatialSizesAtMinOptMax) {
  at::Tensor w = random(DataType::kFLOAT, {4, 3, 3, 2}, 90);
  at::Tensor b = random(DataType::kFLOAT, {4}, 91);
  auto set = [](int64_t n, int64_t h, int64_t wd, uint64_t s) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, 3, h, wd}, s)};
  };
  run_block_dynamic(
      {set(1, 3, 2, 92), set(2, 7, 6, 93), set(4, 12, 9, 94)},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return cv::convolution(ctx, kTarget, SourceIR::kATEN, "conv", in[0], host(w), host(b),
                               {2, 1}, {1, 0}, {1, 1}, false, {}, 1);
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::conv2d(in[0], w, b, {2, 1}, {1, 0}), std::sqrt(18.0),
                     "dynamic conv2d");  // 3 * 3 * 2 products per output
      });
}

TEST(ImplConv, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {1, 4, 5, 5}, 100);
  at::Tensor w = random(DataType::kFLOAT, {6, 2, 3, 3}, 101);
  auto conv = [&](std::vector<int64_t> pad, int64_t groups, at::Tensor weight,
                  std::optional<at::Tensor> bias = std::nullopt) {
    return [=](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      std::optional<Operand> b;
      if (bias) b = Operand(host(*bias));
      return cv::convolution(ctx, kTarget, SourceIR::kATEN, "bad", in[0], host(weight), b, {}, pad,
                             {}, false, {}, groups);
    };
  };
  expect_block_error({random(DataType::kFLOAT, {4, 5}, 1)}, conv({0}, 2, w),
                     {"conv::convolution", "'bad'", "rank 2", "[6,2,3,3]"});
  expect_block_error({x}, conv({0}, 1, w),
                     {"channel mismatch", "[1,4,5,5]", "4 channels", "expects 2"});
  expect_block_error({x}, conv({0}, 4, w), {"6 output channels", "not divisible by groups 4"});
  expect_block_error({x}, conv({0}, 0, w), {"groups 0"});
  expect_block_error({x}, conv({0}, 2, random(DataType::kFLOAT, {6, 2, 7, 3}, 2)),
                     {"larger than the padded input", "[6,2,7,3]", "extent 7"});
  expect_block_error({x}, conv({-1}, 2, w), {"negative padding", "[-1,-1]"});
  expect_block_error({x}, conv({0, 0, 0}, 2, w), {"padding must have 1 or 2 entries", "[0,0,0]"});
  expect_block_error({x}, conv({0}, 2, w, random(DataType::kFLOAT, {5}, 3)),
                     {"bias [5] must be [6]"});
  expect_block_error({random(DataType::kINT32, {1, 4, 5, 5}, 4, -3, 3)}, conv({0}, 2, w),
                     {"int32", "float32, float16 or bfloat16"});
  expect_block_error({x},
                     [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return cv::convolution(ctx, kTarget, SourceIR::kATEN, "bad", in[0], host(w),
                                              std::nullopt, {2}, "same", {}, 2);
                     },
                     {"padding='same' needs stride 1", "[2,2]"});
  expect_block_error({x},
                     [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return cv::convolution(ctx, kTarget, SourceIR::kATEN, "bad", in[0], host(w),
                                              std::nullopt, {}, "full", {}, 2);
                     },
                     {"padding 'full'"});
  expect_block_error({x},
                     [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return cv::convolution(ctx, kTarget, SourceIR::kATEN, "bad", in[0], 2.0,
                                              std::nullopt, {}, {0}, {}, false, {}, 2);
                     },
                     {"weight must be a tensor or a host constant", "2"});
}

TEST(ImplConv, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4, 5, 5});  // unbatched
  Tensor* wt = net.add_input("w", DataType::kHALF, {2, 4, 3, 3});
  at::Tensor b = random(DataType::kFLOAT, {2}, 1);
  Tensor* y = cv::convolution(ctx, "convolution.default", SourceIR::kATEN, "conv_1", x, wt, host(b),
                              {}, {1}, {}, false, {}, 1);
  EXPECT_EQ(net.num_layers(), 6) << net.to_string();  // 2 inputs + 4 layers
  EXPECT_NE(net.find_layer("[SHUFFLE]-[aten_ops.convolution.default]-[conv_1_batch_broadcast]"),
            nullptr)
      << net.to_string();
  EXPECT_NE(net.find_layer("[CAST]-[aten_ops.convolution.default]-[conv_1_kernel_cast]"), nullptr)
      << net.to_string();
  EXPECT_NE(net.find_layer("[CONVOLUTION]-[aten_ops.convolution.default]-[conv_1]"), nullptr)
      << net.to_string();
  EXPECT_EQ(y->producer()->name(), "[SHUFFLE]-[aten_ops.convolution.default]-[conv_1_unbatch]");
  EXPECT_EQ(y->dims(), Dims({2, 5, 5}));
  EXPECT_EQ(ctx.weight_map().count("[CONVOLUTION]-[aten_ops.convolution.default]-[conv_1]_bias"),
            1u);
}

TEST(ImplConv, OptionStructWithDesignatedInitializers) {
  at::Tensor x = random(DataType::kFLOAT, {2, 3, 9, 9}, 1),
             w = random(DataType::kFLOAT, {4, 3, 3, 3}, 2);
  at::Tensor b = random(DataType::kFLOAT, {4}, 3);
  // The call: keywords in the seed's names, the rest defaulted.
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return cv::convolution(
        ctx, kTarget, SourceIR::kATEN, "c1", in[0],
        {.weight = host(w), .bias = host(b), .stride = {2, 2}, .padding = {1, 1}});
  });
  expect_close(got, at::convolution(x, w, b, {2, 2}, {1, 1}, {1, 1}, false, {0, 0}, 1),
               std::sqrt(27.0), "options form");
  const Dims dx{2, 4, 9, 9}, dw{4, 2, 3, 3};
  expect_same_network(
      {{DataType::kFLOAT, dx}, {DataType::kFLOAT, dw}},
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return cv::convolution(ctx, kTarget, SourceIR::kATEN, "c", in[0], in[1], std::nullopt,
                               {1, 2}, {0, 1}, {2, 1}, false, {}, 2);
      },
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return cv::convolution(ctx, kTarget, SourceIR::kATEN, "c", in[0],
                               {.weight = in[1],
                                .stride = {1, 2},
                                .padding = {0, 1},
                                .dilation = {2, 1},
                                .groups = 2});
      });
  expect_same_network(
      {{DataType::kFLOAT, dx}, {DataType::kFLOAT, dw}},
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return cv::convolution(ctx, kTarget, SourceIR::kATEN, "c", in[0], in[1], std::nullopt, {1},
                               "same", {1}, 2);
      },
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return cv::convolution(ctx, kTarget, SourceIR::kATEN, "c", in[0],
                               {.weight = in[1], .groups = 2, .padding_mode = "same"});
      });
  // padding_mode with explicit padding is contradictory.
  expect_block_error({x},
                     [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return cv::convolution(
                           ctx, kTarget, SourceIR::kATEN, "c", in[0],
                           {.weight = host(w), .padding = {1}, .padding_mode = "same"});
                     },
                     {"conv::convolution", "padding_mode 'same'"});
}

}  // namespace
}  // namespace lktest
