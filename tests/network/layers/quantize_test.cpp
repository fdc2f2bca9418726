// Inference errors and text form of Quantize, Dequantize and DynamicQuantize layers.
#include "test_util.h"

namespace lktest {
namespace {

Tensor* fscalar(Network& net, float v) {
  return constant(net, at::full({}, v));
}

TEST(QuantizeLayer, InvalidCallsFailNamingTheValues) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4, 8});
  Tensor* xi = net.add_input("xi", DataType::kINT32, {4, 8});
  Tensor* s = fscalar(net, 0.5f);
  Tensor* s8 = constant(net, at::full({8}, 0.5f));
  QuantizeAttrs qa;
  expect_error_unchanged(net, [&] { net.add_quantize(xi, s); },
                         {"Quantize layer", "input 0 has type int32", "float32, float16"});
  expect_error_unchanged(net, [&] { net.add_quantize(x, nullptr); },
                         {"Quantize layer", "input 1 is missing"});
  qa.output_type = DataType::kHALF;
  expect_error_unchanged(net, [&] { net.add_quantize(x, s, qa); },
                         {"output_type float16", "int8, fp8e4m3, int4, fp4e2m1"});
  qa = {};
  qa.axis = 2;
  expect_error_unchanged(net, [&] { net.add_quantize(x, s8, qa); },
                         {"axis 2 is out of range for rank 2"});
  qa.axis = 0;  // dims[0] is 4, the scale has 8
  expect_error_unchanged(net, [&] { net.add_quantize(x, s8, qa); },
                         {"per-channel scale [8]", "dims[axis] = 4", "axis 0"});
  Tensor* arg1 = constant(net, at::full({3, 3}, 0.5f));
  expect_error_unchanged(net, [&] { net.add_quantize(x, arg1); },
                         {"block scale [3,3]", "data dim 0 (4)", "scale dim 3"});
  Tensor* arg2 = constant(net, at::full({1, 2, 2}, 0.5f));
  expect_error_unchanged(net, [&] { net.add_quantize(x, arg2); },
                         {"scale [1,2,2] must be 0-D or 1-element", "data's rank 2"});
  Tensor* arg13 = fscalar(net, -1.0f);
  expect_error_unchanged(net, [&] { net.add_quantize(x, arg13); },
                         {"scale element 0 is -1", "strictly positive"});
  Tensor* arg14 = fscalar(net, 0.0f);
  expect_error_unchanged(net, [&] { net.add_quantize(x, arg14); }, {"scale element 0 is 0"});
  Tensor* arg3 = constant(net, at::full({}, 0.5, at::kInt));
  expect_error_unchanged(net, [&] { net.add_quantize(x, arg3); },
                         {"scale (input 1) has type int32", "expected float32"});
  Tensor* xh = net.add_input("xh", DataType::kHALF, {4, 8});
  Tensor* arg4 = constant(net, at::full({}, 0.5, at::kBFloat16));
  expect_error_unchanged(net, [&] { net.add_quantize(xh, arg4); },
                         {"scale (input 1) has type bfloat16", "expected float16 or float32"});
  // Zero points: all zero, the scale's shape, the quantized type (or float32).
  Tensor* arg5 = constant(net, at::tensor({0, 0, 3, 0, 0, 0, 0, 0}, at::kChar));
  expect_error_unchanged(net, [&] { net.add_quantize(x, s8, {}, arg5); },
                         {"zero point element 2 is 3", "symmetric"});
  Tensor* arg6 = constant(net, at::zeros({4}, at::kChar));
  expect_error_unchanged(net, [&] { net.add_quantize(x, s8, {}, arg6); },
                         {"zero point dims [4] must equal the scale dims [8]"});
  Tensor* arg7 = constant(net, at::zeros({8}, at::kInt));
  expect_error_unchanged(net, [&] { net.add_quantize(x, s8, {}, arg7); },
                         {"zero point (input 2) has type int32", "expected int8 or float32"});
}

TEST(DequantizeLayer, InvalidCallsFailNamingTheValues) {
  Network net;
  Tensor* q = net.add_input("q", DataType::kINT8, {4, 8});
  Tensor* f = net.add_input("f", DataType::kFLOAT, {4, 8});
  Tensor* s = fscalar(net, 0.5f);
  expect_error_unchanged(net, [&] { net.add_dequantize(f, s); },
                         {"Dequantize layer", "input 0 has type float32", "int8, fp8e4m3"});
  DequantizeAttrs da;
  da.to_type = DataType::kINT32;
  expect_error_unchanged(net, [&] { net.add_dequantize(q, s, da); },
                         {"to_type int32 is not supported"});
  da = {};
  da.to_type = DataType::kHALF;
  Tensor* arg8 = constant(net, at::full({}, 0.5, at::kBFloat16));
  expect_error_unchanged(net, [&] { net.add_dequantize(q, arg8, da); },
                         {"scale (input 1) has type bfloat16", "expected float16 or float32"});
  da = {};
  da.axis = -3;
  expect_error_unchanged(net, [&] { net.add_dequantize(q, s, da); },
                         {"axis -3 is out of range for rank 2"});
  da.axis = 1;
  Tensor* arg9 = constant(net, at::full({4}, 0.5f));
  expect_error_unchanged(net, [&] { net.add_dequantize(q, arg9, da); },
                         {"per-channel scale [4]", "dims[axis] = 8"});
  Tensor* arg10 = constant(net, at::full({}, 1.0f));
  expect_error_unchanged(net, [&] { net.add_dequantize(q, s, {}, arg10); },
                         {"zero point element 0 is 1"});
}

TEST(DynamicQuantizeLayer, InvalidCallsFailNamingTheValues) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4, 64});
  Tensor* x4 = net.add_input("x4", DataType::kFLOAT, {2, 2, 2, 16});
  Tensor* xd = net.add_input("xd", DataType::kFLOAT, {4, -1});
  Tensor* xb = net.add_input("xb", DataType::kFLOAT, {4, 40});
  Tensor* xi = net.add_input("xi", DataType::kINT8, {4, 64});
  Tensor* g = fscalar(net, 1.0f);
  DynamicQuantizeAttrs a;  // NVFP4: axis -1, block 16, fp4 data, fp8 scales
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(xi, g, a); },
                         {"DynamicQuantize layer", "input 0 has type int8"});
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(x4, g, a); },
                         {"input rank is 4; expected 2 or 3"});
  a.axis = 0;
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(x4, g, a); }, {"input rank is 4"});
  Tensor* x3 = net.add_input("x3", DataType::kFLOAT, {16, 2, 16});
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(x3, g, a); },
                         {"axis 0 must be the last or second to last axis (2 or 1)"});
  a.axis = -1;
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(xb, g, a); },
                         {"dim 1 (size 40) is not divisible by block_size 16"});
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(xd, g, a); },
                         {"blocked axis 1 of [4,-1] must have a static size"});
  a.block_size = 32;
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(x, g, a); },
                         {"NVFP4", "needs block_size 16, got 32"});
  a = {};
  a.output_type = DataType::kINT8;
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(x, g, a); },
                         {"output_type int8 with scale_type fp8e4m3 is not supported"});
  a = {};
  a.scale_type = DataType::kE8M0;
  a.output_type = DataType::kFP8;
  a.block_size = 16;
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(x, nullptr, a); },
                         {"MXFP8", "needs block_size 32, got 16"});
  a.block_size = 32;
  Tensor* arg15 = fscalar(net, 2.0f);
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(x, arg15, a); },
                         {"global scale is 2", "must be 1 or absent"});
  a = {};
  a.output_type = DataType::kFP8;
  a.scale_type = DataType::kFLOAT;
  a.block_size = 0;
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(x, g, a); },
                         {"block_size 0 must be positive"});
  a = {};
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(x, nullptr, a); },
                         {"input 1 (global scale, 0-D float32) is missing"});
  Tensor* arg11 = constant(net, at::full({1}, 1.0f));
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(x, arg11, a); },
                         {"global scale (input 1) must be 0-D, got [1]"});
  Tensor* arg16 = fscalar(net, -2.0f);
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(x, arg16, a); },
                         {"global scale is -2", "strictly positive"});
  Tensor* arg12 = constant(net, at::full({}, 1, at::kInt));
  expect_error_unchanged(net, [&] { net.add_dynamic_quantize(x, arg12, a); },
                         {"global scale (input 1) has type int32"});
}

TEST(QuantizeLayers, OutputsAndTextForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kHALF, {4, 32});
  Tensor* s = constant(net, at::full({4, 2}, 0.5f));
  s->producer()->set_name("s");
  QuantizeAttrs qa;
  qa.output_type = DataType::kINT4;
  Layer* q = net.add_quantize(x, s, qa);
  q->set_name("q");
  EXPECT_EQ(q->output(0)->type(), DataType::kINT4);
  EXPECT_EQ(q->output(0)->dims(), Dims({4, 32}));
  DequantizeAttrs da;
  da.axis = 1;
  da.to_type = DataType::kBF16;
  Layer* dq = net.add_dequantize(q->output(0), s, da);
  dq->set_name("dq");
  EXPECT_EQ(dq->output(0)->type(), DataType::kBF16);
  DynamicQuantizeAttrs dyn;
  dyn.axis = 0;
  dyn.block_size = 32;
  dyn.output_type = DataType::kFP8;
  dyn.scale_type = DataType::kE8M0;
  Layer* d = net.add_dynamic_quantize(net.add_input("y", DataType::kFLOAT, {64, 3}), nullptr, dyn);
  d->set_name("dyn");
  EXPECT_EQ(d->output(1)->dims(), Dims({2, 3}));
  EXPECT_EQ(d->output(1)->type(), DataType::kE8M0);
  std::string text = net.to_string();
  EXPECT_NE(text.find("\nq: Quantize[axis=-1 output_type=int4] (x:float16[4,32], "
                      "Constant_1_out0:float32[4,2]) -> (Quantize_2_out0:int4[4,32])\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\ndq: Dequantize[axis=1 to_type=bfloat16] (Quantize_2_out0:int4[4,32], "
                      "Constant_1_out0:float32[4,2]) -> (Dequantize_3_out0:bfloat16[4,32])\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\ndyn: DynamicQuantize[axis=0 block_size=32 output_type=fp8e4m3 "
                      "scale_type=e8m0] (y:float32[64,3], -) -> "
                      "(DynamicQuantize_5_out0:fp8e4m3[64,3], DynamicQuantize_5_out1:e8m0[2,3])\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace lktest
