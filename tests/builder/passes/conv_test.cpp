// Convolution fusion: constant bias additions and per-channel Scales folded into convolutions;
// text in -> text out, and optimized engines computing what the unoptimized ones compute.
#include "pass_test_util.h"

namespace lktest {
namespace {

using passes::make_fuse_conv_bias;

// x[1, 2, 5, 5] -> 3x3 convolution with 4 output maps and a bias.
Tensor* conv(Network& net, Tensor* x, const std::string& n, bool with_bias = true) {
  ConvolutionAttrs a;
  a.num_output_maps = 4;
  a.kernel_size = Dims{3, 3};
  at::Tensor w = random(DataType::kFLOAT, {4, 2, 3, 3}, 11).contiguous();
  a.kernel = Weights::copy(DataType::kFLOAT, w.data_ptr(), w.numel());
  if (with_bias) {
    at::Tensor b = random(DataType::kFLOAT, {4}, 12).contiguous();
    a.bias = Weights::copy(DataType::kFLOAT, b.data_ptr(), b.numel());
  }
  return named(net.add_convolution_nd(x, a), n);
}

constexpr const char* kConvAttrs =
    "num_output_maps=4 kernel_size=[3,3] kernel=float32[72] bias=float32[4] stride=[] "
    "pre_padding=[] post_padding=[] dilation=[] padding_mode=kEXPLICIT_ROUND_DOWN num_groups=1";

// Accumulation over 2 * 3 * 3 = 18 products: tolerance scaled by sqrt(18).
const double kConvScale = std::sqrt(18.0);

TEST(FuseConvBias, ConstantChannelBiasMovesIntoTheConvolution) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 2, 5, 5});
  Tensor* c = conv(net, x, "conv");
  Tensor* b = named_constant(net, "b", random(DataType::kFLOAT, {1, 4, 1, 1}, 3));
  net.mark_output(named(net.add_elementwise(c, b, ElementWiseOperation::kSUM), "y"));
  EXPECT_EQ(after_pass(make_fuse_conv_bias(), net),
            "x: Input[type=float32 dims=[1,2,5,5]] () -> (x:float32[1,2,5,5])\n"
            "conv: Convolution[" +
                std::string(kConvAttrs) +
                "] (x:float32[1,2,5,5]) -> (y:float32[1,4,3,3])\n"
                "outputs: y\n");
  expect_optimized_matches(net, {random(DataType::kFLOAT, {1, 2, 5, 5}, 1)}, kConvScale);
}

TEST(FuseConvBias, DynamicBiasOrSharedConvOutputIsKept) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 2, 5, 5});
  Tensor* bias = net.add_input("bias", DataType::kFLOAT, {1, 4, 1, 1});
  Tensor* c = conv(net, x, "conv");
  net.mark_output(named(net.add_elementwise(c, bias, ElementWiseOperation::kSUM), "dynamic"));
  Tensor* c2 = conv(net, x, "conv2");
  Tensor* b = named_constant(net, "b", random(DataType::kFLOAT, {1, 4, 1, 1}, 3));
  net.mark_output(named(net.add_elementwise(c2, b, ElementWiseOperation::kSUM), "shared"));
  net.mark_output(named(net.add_unary(c2, UnaryOperation::kABS), "also_reads_conv2"));
  bool changed = true;
  EXPECT_EQ(after_pass(make_fuse_conv_bias(), net, &changed), net.to_string());
  EXPECT_FALSE(changed);
}

TEST(FuseConvBias, PerElementBiasIsKept) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 2, 5, 5});
  Tensor* c = conv(net, x, "conv");
  // One value per output element, not per channel: not a bias the convolution can hold.
  Tensor* b = named_constant(net, "b", random(DataType::kFLOAT, {1, 4, 3, 3}, 3));
  net.mark_output(named(net.add_elementwise(c, b, ElementWiseOperation::kSUM), "y"));
  EXPECT_EQ(after_pass(make_fuse_conv_bias(), net), net.to_string());
}

TEST(FuseConvBias, ChannelScaleFoldsIntoKernelAndBias) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 2, 5, 5});
  Tensor* c = conv(net, x, "conv", /*with_bias=*/false);
  ScaleAttrs s;
  s.mode = ScaleMode::kCHANNEL;
  s.scale = Weights::from_vector(DataType::kFLOAT, std::vector<float>{0.5f, 2.f, -1.f, 3.f});
  s.shift = Weights::from_vector(DataType::kFLOAT, std::vector<float>{1.f, 0.f, -2.f, 0.25f});
  net.mark_output(named(net.add_scale_nd(c, s), "bn"));
  EXPECT_EQ(after_pass(make_fuse_conv_bias(), net),
            "x: Input[type=float32 dims=[1,2,5,5]] () -> (x:float32[1,2,5,5])\n"
            "conv: Convolution[" +
                std::string(kConvAttrs) +
                "] (x:float32[1,2,5,5]) -> (bn:float32[1,4,3,3])\n"
                "outputs: bn\n");
  expect_optimized_matches(net, {random(DataType::kFLOAT, {1, 2, 5, 5}, 1)}, kConvScale);
}

TEST(FuseConvBias, ScaleWithPowerIsKept) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 2, 5, 5});
  Tensor* c = conv(net, x, "conv");
  ScaleAttrs s;
  s.mode = ScaleMode::kUNIFORM;
  s.scale = Weights::from_vector(DataType::kFLOAT, std::vector<float>{2.f});
  s.power = Weights::from_vector(DataType::kFLOAT, std::vector<float>{2.f});
  net.mark_output(named(net.add_scale_nd(c, s), "sq"));
  EXPECT_EQ(after_pass(make_fuse_conv_bias(), net), net.to_string());
}

}  // namespace
}  // namespace lktest
