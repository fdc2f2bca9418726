// Pooling inference: validation errors, output dims, text form.
#include "test_util.h"

namespace lktest {
namespace {

PoolingAttrs pool2d(PoolingType t = PoolingType::kMAX) {
  PoolingAttrs a;
  a.type = t;
  a.window = {3, 3};
  return a;
}

TEST(PoolingInfer, OutputDims) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3, 8, -1});
  PoolingAttrs a = pool2d();
  // Rank-0 stride means stride = window: floor((8 - 3) / 3) + 1 = 2.
  EXPECT_EQ(net.add_pooling_nd(x, a)->output(0)->dims(), (Dims{-1, 3, 2, -1}));
  a.padding_mode = PaddingMode::kEXPLICIT_ROUND_UP;  // ceil(5 / 3) + 1 = 3
  EXPECT_EQ(net.add_pooling_nd(x, a)->output(0)->dims(), (Dims{-1, 3, 3, -1}));
  a.padding_mode = PaddingMode::kSAME_UPPER;  // ceil(8 / 3) = 3
  a.stride = {3, 1};
  EXPECT_EQ(net.add_pooling_nd(x, a)->output(0)->dims(), (Dims{-1, 3, 3, -1}));
}

TEST(PoolingInfer, WrongRankAndType) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 3, 8});
  expect_error_unchanged(net, [&] { net.add_pooling_nd(x, pool2d()); },
                         {"input 0 has rank 3", "needs rank 4"});
  Tensor* i = net.add_input("i", DataType::kINT8, {1, 3, 8, 8});
  expect_error_unchanged(net, [&] { net.add_pooling_nd(i, pool2d()); },
                         {"input 0 has type int8", "float32, float16, bfloat16"});
  PoolingAttrs a = pool2d();
  a.window = {};
  expect_error_unchanged(net, [&] { net.add_pooling_nd(x, a); },
                         {"window [] has rank 0", "expected 1, 2 or 3"});
}

TEST(PoolingInfer, BadAttributes) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 3, 8, 8});
  PoolingAttrs a = pool2d();
  a.stride = {1, 0};
  expect_error_unchanged(net, [&] { net.add_pooling_nd(x, a); }, {"stride [1,0] has 0", ">= 1"});
  a = pool2d();
  a.window = {3, 0};
  expect_error_unchanged(net, [&] { net.add_pooling_nd(x, a); }, {"window [3,0]", "< 1"});
  a = pool2d(PoolingType::kAVERAGE);
  a.dilation = {2, 1};
  expect_error_unchanged(net, [&] { net.add_pooling_nd(x, a); },
                         {"dilation [2,1]", "kMAX pooling only", "kAVERAGE"});
  a = pool2d(PoolingType::kMAX_AVERAGE_BLEND);
  a.blend_factor = 1.5f;
  expect_error_unchanged(net, [&] { net.add_pooling_nd(x, a); },
                         {"blend_factor 1.5", "outside [0, 1]"});
  a = pool2d();
  a.pre_padding = {3, 0};
  expect_error_unchanged(net, [&] { net.add_pooling_nd(x, a); },
                         {"spatial axis 0", "padding 3 + 0", "smaller than the window extent 3"});
  a.pre_padding = {0, -1};
  expect_error_unchanged(net, [&] { net.add_pooling_nd(x, a); },
                         {"pre_padding [0,-1] has -1", ">= 0"});
}

TEST(PoolingInfer, WindowLargerThanPaddedInput) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 3, 8, 2});
  PoolingAttrs a = pool2d();
  a.post_padding = {0, 0};
  expect_error_unchanged(net, [&] { net.add_pooling_nd(x, a); },
                         {"spatial axis 1", "window extent 3", "larger than the padded input 2"});
  a.dilation = {4, 1};  // extent 9 > 8
  a.window = {3, 1};
  expect_error_unchanged(net, [&] { net.add_pooling_nd(x, a); },
                         {"spatial axis 0", "window extent 9", "padded input 8"});
}

// Note [Size arithmetic]: a dilated window beyond int64 fails naming the layer.
TEST(PoolingInfer, GeometryBeyondInt64Fails) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 3, 8, 8});
  PoolingAttrs a = pool2d();
  a.dilation = {int64_t{1} << 62, 1};
  expect_error_unchanged(net, [&] { net.add_pooling_nd(x, a); },
                         {"Pooling layer", "dilation x (kernel size - 1): 4611686018427387904 x 2",
                          "overflows int64"});
}

TEST(PoolingInfer, MissingInput) {
  Network net;
  expect_error_unchanged(net, [&] { net.add_pooling_nd(nullptr, pool2d()); },
                         {"input 0", "missing"});
}

TEST(PoolingInfer, TextForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kBF16, {2, 3, 9, 9});
  PoolingAttrs a = pool2d(PoolingType::kMAX_AVERAGE_BLEND);
  a.stride = {2, 2};
  a.pre_padding = {1, 1};
  a.post_padding = {1, 1};
  a.padding_mode = PaddingMode::kEXPLICIT_ROUND_UP;
  a.average_count_excludes_padding = false;
  a.blend_factor = 0.25f;
  Layer* l = net.add_pooling_nd(x, a);
  l->set_name("pool");
  l->output(0)->set_name("y");
  std::string s = net.to_string();
  // ceil((11 - 3) / 2) + 1 = 5
  EXPECT_NE(s.find("pool: Pooling[type=kMAX_AVERAGE_BLEND window=[3,3] stride=[2,2] "
                   "pre_padding=[1,1] post_padding=[1,1] dilation=[] "
                   "padding_mode=kEXPLICIT_ROUND_UP average_count_excludes_padding=false "
                   "blend_factor=0.25] (x:bfloat16[2,3,9,9]) -> (y:bfloat16[2,3,5,5])\n"),
            std::string::npos)
      << s;
}

}  // namespace
}  // namespace lktest
