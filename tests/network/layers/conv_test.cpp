// Convolution and Deconvolution inference: validation errors, output dims, text form.
#include "test_util.h"

namespace lktest {
namespace {

ConvolutionAttrs conv2d(int64_t k, int64_t c, int64_t groups = 1) {
  ConvolutionAttrs a;
  a.num_output_maps = k;
  a.kernel_size = {3, 3};
  a.kernel = Weights::zeros(DataType::kFLOAT, k * (c / groups) * 9);
  a.num_groups = groups;
  return a;
}
DeconvolutionAttrs deconv2d(int64_t k, int64_t c, int64_t groups = 1) {
  DeconvolutionAttrs a;
  a.num_output_maps = k;
  a.kernel_size = {3, 3};
  a.kernel = Weights::zeros(DataType::kFLOAT, c * (k / groups) * 9);
  a.num_groups = groups;
  return a;
}

std::string layer_line(const Network& net, const std::string& name) {
  std::string s = net.to_string();
  size_t at = s.find(name + ": ");
  if (at == std::string::npos) return "";
  return s.substr(at, s.find('\n', at) - at);
}

TEST(ConvolutionInfer, OutputDimsPerPaddingMode) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 4, 7, -1});
  ConvolutionAttrs a = conv2d(6, 4);
  a.stride = {2, 2};
  a.pre_padding = {1, 1};
  a.post_padding = {0, 0};
  EXPECT_EQ(net.add_convolution_nd(x, a)->output(0)->dims(), (Dims{2, 6, 3, -1}));  // floor(5/2)+1
  a.padding_mode = PaddingMode::kEXPLICIT_ROUND_UP;
  EXPECT_EQ(net.add_convolution_nd(x, a)->output(0)->dims(), (Dims{2, 6, 4, -1}));  // ceil(5/2)+1
  a.padding_mode = PaddingMode::kSAME_LOWER;
  EXPECT_EQ(net.add_convolution_nd(x, a)->output(0)->dims(), (Dims{2, 6, 4, -1}));  // ceil(7/2)
}

TEST(ConvolutionInfer, WrongRank) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 4, 8});
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, conv2d(2, 4)); },
                         {"input 0 has rank 3", "[1,4,8]", "needs rank 4"});
  ConvolutionAttrs a = conv2d(2, 4);
  a.kernel_size = {1, 1, 1, 1};
  Tensor* x6 = net.add_input("x6", DataType::kFLOAT, {1, 4, 2, 2, 2, 2});
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x6, a); },
                         {"kernel_size [1,1,1,1] has rank 4", "expected 1, 2 or 3"});
}

TEST(ConvolutionInfer, WrongType) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kINT32, {1, 4, 8, 8});
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, conv2d(2, 4)); },
                         {"input 0 has type int32", "float32, float16, bfloat16"});
  Tensor* h = net.add_input("h", DataType::kHALF, {1, 4, 8, 8});
  ConvolutionAttrs a = conv2d(2, 4);
  a.kernel = Weights::zeros(DataType::kBF16, 72);
  expect_error_unchanged(net, [&] { net.add_convolution_nd(h, a); },
                         {"kernel weights have type bfloat16", "float32 or the data type float16"});
}

TEST(ConvolutionInfer, ChannelAndWeightCountMismatch) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 4, 8, 8});
  ConvolutionAttrs a = conv2d(2, 3);  // kernel sized for 3 channels
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a); },
                         {"kernel weights hold 54", "expected 72", "[2,4,3,3]"});
  Tensor* w = constant(net, at::zeros({2, 3, 3, 3}));
  a.kernel = Weights();
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a, w); },
                         {"kernel tensor (input 1) has dims [2,3,3,3]", "expected [2,4,3,3]"});
  a = conv2d(2, 4);
  a.bias = Weights::zeros(DataType::kFLOAT, 3);
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a); },
                         {"bias weights hold 3", "expected 2"});
  a.bias = Weights();
  a.kernel = Weights();
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a); }, {"no kernel"});
  Tensor* xd = net.add_input("xd", DataType::kFLOAT, {1, -1, 8, 8});
  expect_error_unchanged(net, [&] { net.add_convolution_nd(xd, conv2d(2, 4)); },
                         {"channel dimension", "must be known", "[1,-1,8,8]"});
}

TEST(ConvolutionInfer, BadGroupsAndOutputMaps) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 3, 8, 8});
  ConvolutionAttrs a = conv2d(4, 3);
  a.num_groups = 2;
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a); },
                         {"input channels 3", "not divisible by num_groups 2"});
  a = conv2d(4, 3, 3);
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a); },
                         {"num_output_maps 4", "not divisible by num_groups 3"});
  a.num_groups = 0;
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a); }, {"num_groups 0", ">= 1"});
  a = conv2d(0, 3);
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a); }, {"num_output_maps 0", ">= 1"});
}

TEST(ConvolutionInfer, BadStrideDilationPadding) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 3, 8, 8});
  ConvolutionAttrs a = conv2d(2, 3);
  a.stride = {0, 1};
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a); },
                         {"stride [0,1] has 0", "must be >= 1"});
  a.stride = {1, 1, 1};
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a); },
                         {"stride [1,1,1] has rank 3", "expected rank 0 (default) or 2"});
  a.stride = {};
  a.dilation = {1, 0};
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a); }, {"dilation [1,0] has 0"});
  a.dilation = {};
  a.pre_padding = {-1, 0};
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a); },
                         {"pre_padding [-1,0] has -1", ">= 0"});
}

TEST(ConvolutionInfer, KernelLargerThanPaddedInput) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 3, 8, 2});
  ConvolutionAttrs a = conv2d(2, 3);
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a); },
                         {"spatial axis 1", "padded input 2", "dilated kernel extent 3"});
  a.dilation = {3, 1};
  a.pre_padding = {0, 1};
  Tensor* y = net.add_input("y", DataType::kFLOAT, {1, 3, 6, 2});
  expect_error_unchanged(net, [&] { net.add_convolution_nd(y, a); },
                         {"spatial axis 0", "padded input 6", "dilated kernel extent 7"});
}

// Note [Size arithmetic]: attribute values near 2^63 (a plan found by fuzz_engine_load had a
// dilation of 4853473023421841409) fail naming the layer and the operands, instead of wrapping
// into an extent or an output size.
TEST(ConvolutionInfer, GeometryBeyondInt64Fails) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 3, 8, 8});
  ConvolutionAttrs a = conv2d(2, 3);
  a.dilation = {int64_t{1} << 62, 1};
  expect_error_unchanged(
      net, [&] { net.add_convolution_nd(x, a); },
      {"Convolution layer", "dilation x (kernel size - 1): 4611686018427387904 x 2",
       "overflows int64"});
  a.dilation = {};
  a.pre_padding = {INT64_MAX, 0};
  a.post_padding = {1, 0};
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a); },
                         {"padded input: 8 + 9223372036854775807 overflows int64"});
  // The SAME modes add the extent to the strided input: (2^63 - 2) / 2 * 2 + 1 = INT64_MAX.
  a = conv2d(2, 3);
  a.dilation = {INT64_MAX / 2, 1};
  a.padding_mode = PaddingMode::kSAME_UPPER;
  expect_error_unchanged(net, [&] { net.add_convolution_nd(x, a); },
                         {"SAME padding: 7 + 9223372036854775807 overflows int64"});
}

TEST(ConvolutionInfer, MissingData) {
  Network net;
  expect_error_unchanged(net, [&] { net.add_convolution_nd(nullptr, conv2d(2, 3)); },
                         {"input 0", "missing"});
}

TEST(ConvolutionInfer, TextForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 2, 8, 8});
  ConvolutionAttrs a = conv2d(4, 2);
  a.bias = Weights::zeros(DataType::kFLOAT, 4);
  a.stride = {2, 2};
  a.pre_padding = {1, 1};
  a.post_padding = {0, 1};
  Layer* l = net.add_convolution_nd(x, a);
  l->set_name("conv");
  l->output(0)->set_name("y");
  EXPECT_EQ(layer_line(net, "conv"),
            "conv: Convolution[num_output_maps=4 kernel_size=[3,3] kernel=float32[72] "
            "bias=float32[4] stride=[2,2] pre_padding=[1,1] post_padding=[0,1] dilation=[] "
            "padding_mode=kEXPLICIT_ROUND_DOWN num_groups=1] (x:float32[1,2,8,8]) -> "
            "(y:float32[1,4,4,4])");
}

TEST(DeconvolutionInfer, OutputDimsPerPaddingMode) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 4, 5, 6});
  DeconvolutionAttrs a = deconv2d(6, 4, 2);
  a.stride = {2, 3};
  a.pre_padding = {1, 0};
  a.post_padding = {0, 2};
  // (I - 1) * S + DK - (B + A): 4*2 + 3 - 1 = 10, 5*3 + 3 - 2 = 16.
  EXPECT_EQ(net.add_deconvolution_nd(x, a)->output(0)->dims(), (Dims{-1, 6, 10, 16}));
  a.padding_mode = PaddingMode::kSAME_UPPER;
  // min(I * S, (I - 1) * S + DK): min(10, 11) = 10, min(18, 18) = 18.
  EXPECT_EQ(net.add_deconvolution_nd(x, a)->output(0)->dims(), (Dims{-1, 6, 10, 18}));
}

TEST(DeconvolutionInfer, Errors) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 4, 1, 5});
  DeconvolutionAttrs a = deconv2d(6, 4);
  a.kernel = Weights::zeros(DataType::kFLOAT, 6 * 4 * 9 - 1);
  expect_error_unchanged(
      net, [&] { net.add_deconvolution_nd(x, a); },
      {"kernel weights hold 215", "expected 216", "[4,6,3,3]", "[C, K/groups, k...]"});
  a = deconv2d(6, 4, 4);
  expect_error_unchanged(net, [&] { net.add_deconvolution_nd(x, a); },
                         {"num_output_maps 6", "not divisible by num_groups 4"});
  a = deconv2d(6, 4);
  a.kernel_size = {1, 3};
  a.kernel = Weights::zeros(DataType::kFLOAT, 6 * 4 * 3);
  a.pre_padding = {1, 0};
  expect_error_unchanged(net, [&] { net.add_deconvolution_nd(x, a); },
                         {"spatial axis 0", "output size 0", "is not positive"});
  Tensor* x3 = net.add_input("x3", DataType::kFLOAT, {1, 4, 5});
  expect_error_unchanged(net, [&] { net.add_deconvolution_nd(x3, deconv2d(6, 4)); },
                         {"input 0 has rank 3", "needs rank 4"});
  a = deconv2d(6, 4);
  a.stride = {1, 0};
  expect_error_unchanged(net, [&] { net.add_deconvolution_nd(x, a); },
                         {"stride [1,0] has 0", ">= 1"});
}

TEST(DeconvolutionInfer, GeometryBeyondInt64Fails) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 4, 5, 5});
  DeconvolutionAttrs a = deconv2d(6, 4);
  a.stride = {int64_t{1} << 62, 1};
  expect_error_unchanged(
      net, [&] { net.add_deconvolution_nd(x, a); },
      {"Deconvolution layer", "(input - 1) x stride: 4 x 4611686018427387904", "overflows int64"});
  a.stride = {};
  a.pre_padding = {INT64_MAX, 0};
  a.post_padding = {INT64_MAX, 0};
  expect_error_unchanged(net, [&] { net.add_deconvolution_nd(x, a); },
                         {"padding: 9223372036854775807 + 9223372036854775807 overflows int64"});
}

TEST(DeconvolutionInfer, TextForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kHALF, {1, 4, 3, 3});
  DeconvolutionAttrs a = deconv2d(2, 4, 2);
  a.stride = {2, 2};
  a.padding_mode = PaddingMode::kSAME_UPPER;
  Layer* l = net.add_deconvolution_nd(x, a);
  l->set_name("up");
  l->output(0)->set_name("y");
  EXPECT_EQ(layer_line(net, "up"),
            "up: Deconvolution[num_output_maps=2 kernel_size=[3,3] kernel=float32[36] bias=none "
            "stride=[2,2] pre_padding=[] post_padding=[] dilation=[] padding_mode=kSAME_UPPER "
            "num_groups=2] (x:float16[1,4,3,3]) -> (y:float16[1,2,6,6])");
}

}  // namespace
}  // namespace lktest
