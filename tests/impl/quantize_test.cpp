// Quantization building blocks: INT8 against ATen's quantizers, FP8 against its definition.
#include "layerkit/impl/quantize.h"

#include <cmath>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace qz = layerkit::impl::quantize;

// FP8 E4M3 by its definition: all finite codes decoded as (-1)^s 2^(e-7) (1 + m/8), subnormals
// 2^-6 (m/8); a value rounds to the nearest (ties to the even code) and saturates at 448.
float fp8_round(float v) {
  static const std::vector<float> finite = [] {
    std::vector<float> t;
    for (int code = 0; code < 0x7f; ++code) {  // non-negative codes, 0x7f is NaN
      int e = code >> 3, m = code & 7;
      t.push_back(e == 0 ? std::ldexp(m / 8.0f, -6) : std::ldexp(1.0f + m / 8.0f, e - 7));
    }
    return t;
  }();
  float a = std::fabs(v);
  if (a >= 448.0f) return std::copysign(448.0f, v);
  size_t best = 0;
  for (size_t c = 1; c < finite.size(); ++c) {
    float d = std::fabs(finite[c] - a), db = std::fabs(finite[best] - a);
    if (d < db || (d == db && c % 2 == 0)) best = c;
  }
  return std::copysign(finite[best], v);
}

TEST(ImplQuantize, Int8PerTensorMatchesAten) {
  for (DataType t : kFloatTypes) {
    at::Tensor x = random(t, {3, 4, 5}, 1, -3, 3);
    double scale = 0.0213;
    at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return qz::quantize(ctx, "quantize_per_tensor", SourceIR::kATEN, "q", in[0], scale);
    });
    at::Tensor expected =
        at::quantize_per_tensor(x.to(at::kFloat), scale, 0, at::kQInt8).int_repr();
    expect_close(got, expected, 1.0, std::string(data_type_name(t)));
  }
}

TEST(ImplQuantize, Int8PerChannelMatchesAten) {
  at::Tensor x = random(DataType::kFLOAT, {4, 3, 5}, 2, -3, 3);
  for (int64_t axis : {0, 1, -1}) {
    int64_t c = x.size(axis);
    at::Tensor scales = at::rand({c}, at::kFloat) * 0.05 + 0.01;
    std::vector<float> sv(scales.data_ptr<float>(), scales.data_ptr<float>() + c);
    HostConstant sc = HostConstant::of({c}, Weights::from_vector(DataType::kFLOAT, sv));
    at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return qz::quantize(ctx, "quantize_per_channel", SourceIR::kATEN, "q", in[0], sc,
                          DataType::kINT8, axis);
    });
    int64_t pos_axis = axis < 0 ? axis + 3 : axis;
    at::Tensor expected = at::quantize_per_channel(x, scales.to(at::kDouble),
                                                   at::zeros({c}, at::kLong), pos_axis, at::kQInt8)
                              .int_repr();
    expect_close(got, expected, 1.0, "axis " + std::to_string(axis));
  }
}

TEST(ImplQuantize, Int8FakeQuantizeMatchesAtenDequantize) {
  at::Tensor x = random(DataType::kFLOAT, {2, 8}, 3, -2, 2);
  at::Tensor got = run_block({x}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return qz::fake_quantize(ctx, "fake_quantize", SourceIR::kATEN, "fq", in[0], 0.017);
  });
  expect_close(got, at::dequantize(at::quantize_per_tensor(x, 0.017, 0, at::kQInt8)));
}

TEST(ImplQuantize, Fp8FakeQuantizeFollowsTheFormat) {
  // Values spread over the FP8 range incl. saturation (|x| / scale beyond 448).
  at::Tensor x = random(DataType::kFLOAT, {4, 16}, 4, -30, 30);
  float scale = 0.05f;
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return qz::fake_quantize(ctx, "fake_quantize", SourceIR::kATEN, "fq", in[0], scale,
                             DataType::kFP8);
  });
  at::Tensor expected = at::empty_like(x);
  for (int64_t i = 0; i < x.numel(); ++i)
    expected.data_ptr<float>()[i] = fp8_round(x.data_ptr<float>()[i] / scale) * scale;
  expect_close(got, expected);
}

TEST(ImplQuantize, ScaleAsTensorAndDynamicShapes) {
  auto set = [](int64_t n) {
    return std::vector<at::Tensor>{
        random(DataType::kFLOAT, {n, 6}, 5 + static_cast<uint64_t>(n), -2, 2)};
  };
  run_block_dynamic(
      {set(1), set(3), set(7)},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        Tensor* s = scalar_constant(ctx, 0.02, DataType::kFLOAT, {}, "t", SourceIR::kATEN, "s");
        return qz::fake_quantize(ctx, "fake_quantize", SourceIR::kATEN, "fq", in[0], s);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::dequantize(at::quantize_per_tensor(in[0], 0.02, 0, at::kQInt8)));
      });
}

TEST(ImplQuantize, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {3, 4}, 6);
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return qz::quantize(ctx, "q", SourceIR::kATEN, "q", in[0], -0.5);
                     },
                     {"quantize::quantize", "scale -0.5 must be positive"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return qz::quantize(ctx, "q", SourceIR::kATEN, "q", in[0], 0.5,
                                           DataType::kINT8, 2);
                     },
                     {"quantize::quantize", "dim 2 is out of range"});
  // Per-channel scale of the wrong size: the scale constant is rolled back too.
  HostConstant sc =
      HostConstant::of({5}, Weights::from_vector(DataType::kFLOAT, std::vector<float>(5, 0.1f)));
  expect_block_error({x},
                     [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return qz::quantize(ctx, "q", SourceIR::kATEN, "q", in[0], sc,
                                           DataType::kINT8, 1);
                     },
                     {"quantize::quantize", "Quantize layer"});
  expect_block_error({random(DataType::kINT32, {3}, 7, 0, 5)},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return qz::quantize(ctx, "q", SourceIR::kATEN, "q", in[0], 0.5);
                     },
                     {"floating-point input", "int32"});
}

TEST(ImplQuantize, LayerNames) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 2});
  Tensor* y =
      qz::fake_quantize(ctx, "fake_quantize_per_tensor_affine", SourceIR::kATEN, "fq", x, 0.1);
  EXPECT_EQ(y->producer()->name(), "[DEQUANTIZE]-[aten_ops.fake_quantize_per_tensor_affine]-[fq]");
  EXPECT_NE(net.find_layer("[QUANTIZE]-[aten_ops.fake_quantize_per_tensor_affine]-[fq_quantize]"),
            nullptr)
      << net.to_string();
}

}  // namespace
}  // namespace lktest
