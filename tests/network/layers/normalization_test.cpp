// Add-time validation and text form of the Normalization and SoftMax layers.
#include "test_util.h"

namespace lktest {
namespace {

struct NormFixture {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 6, 4, 5});
  Tensor* s = net.add_input("s", DataType::kFLOAT, {1, 6, 1, 1});
  Tensor* b = net.add_input("b", DataType::kFLOAT, {1, 6, 1, 1});
};

NormalizationAttrs instance() {
  NormalizationAttrs a;
  a.axes = 0b1100;
  return a;
}

TEST(NormalizationLayer, InfersDataShapeAndType) {
  NormFixture f;
  Tensor* x = f.net.add_input("xd", DataType::kBF16, {-1, 6, -1});
  Tensor* s = f.net.add_input("sd", DataType::kBF16, {1, 6, 1});
  NormalizationAttrs a;
  a.axes = 0b100;
  a.num_groups = 3;
  Layer* l = f.net.add_normalization(x, s, s, a);
  EXPECT_EQ(l->output(0)->type(), DataType::kBF16);
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 6, -1}));
}

TEST(NormalizationLayer, RejectsMissingInputsAndTypes) {
  NormFixture f;
  expect_error_unchanged(f.net, [&] { f.net.add_normalization(f.x, nullptr, f.b, instance()); },
                         {"Normalization layer", "input 1 (scale) is missing"});
  Tensor* xi = f.net.add_input("xi", DataType::kINT32, {2, 6, 4, 5});
  expect_error_unchanged(f.net, [&] { f.net.add_normalization(xi, f.s, f.b, instance()); },
                         {"input 0 has type int32", "float32, float16, bfloat16"});
  Tensor* sh = f.net.add_input("sh", DataType::kHALF, {1, 6, 1, 1});
  expect_error_unchanged(f.net, [&] { f.net.add_normalization(f.x, sh, f.b, instance()); },
                         {"input 1 has type float16", "data has type float32"});
}

TEST(NormalizationLayer, RejectsBadAxesAndAttributes) {
  NormFixture f;
  NormalizationAttrs a = instance();
  a.axes = 0b10000;
  expect_error_unchanged(f.net, [&] { f.net.add_normalization(f.x, f.s, f.b, a); },
                         {"axes mask 0x10", "beyond rank 4"});
  a.axes = 0;
  expect_error_unchanged(f.net, [&] { f.net.add_normalization(f.x, f.s, f.b, a); },
                         {"axes mask 0 selects no axis"});
  a = instance();
  a.epsilon = -1.0f;
  expect_error_unchanged(f.net, [&] { f.net.add_normalization(f.x, f.s, f.b, a); },
                         {"epsilon -1", ">= 0"});
  a = instance();
  a.compute_precision = DataType::kINT8;
  expect_error_unchanged(f.net, [&] { f.net.add_normalization(f.x, f.s, f.b, a); },
                         {"compute_precision int8"});
  a = instance();
  a.num_groups = 0;
  expect_error_unchanged(f.net, [&] { f.net.add_normalization(f.x, f.s, f.b, a); },
                         {"num_groups 0", ">= 1"});
}

TEST(NormalizationLayer, RejectsGroupsThatDoNotDivideChannels) {
  NormFixture f;
  NormalizationAttrs a = instance();
  a.num_groups = 4;
  expect_error_unchanged(f.net, [&] { f.net.add_normalization(f.x, f.s, f.b, a); },
                         {"num_groups 4 does not divide the channel count 6"});
  a.num_groups = 3;
  a.axes = 0b1110;
  expect_error_unchanged(f.net, [&] { f.net.add_normalization(f.x, f.s, f.b, a); },
                         {"axes mask 0xe includes axis 1", "num_groups 3"});
}

TEST(NormalizationLayer, RejectsScaleAndBiasShapes) {
  NormFixture f;
  Tensor* r3 = f.net.add_input("r3", DataType::kFLOAT, {6, 1, 1});
  expect_error_unchanged(f.net, [&] { f.net.add_normalization(f.x, r3, f.b, instance()); },
                         {"scale (input 1) has rank 3", "data has rank 4"});
  Tensor* wide = f.net.add_input("wide", DataType::kFLOAT, {1, 6, 1, 3});
  expect_error_unchanged(f.net, [&] { f.net.add_normalization(f.x, f.s, wide, instance()); },
                         {"bias dims [1,6,1,3]", "axis 3 has size 3, expected 1 or 5"});
  // Per-group scale [1, G, 1, 1] is accepted only with groups.
  Tensor* per_group = f.net.add_input("pg", DataType::kFLOAT, {1, 2, 1, 1});
  expect_error_unchanged(f.net, [&] { f.net.add_normalization(f.x, per_group, f.b, instance()); },
                         {"scale dims [1,2,1,1]", "axis 1 has size 2, expected 1 or 6"});
  NormalizationAttrs g = instance();
  g.num_groups = 2;
  EXPECT_NE(f.net.add_normalization(f.x, per_group, per_group, g), nullptr);
}

TEST(NormalizationLayer, TextForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 4, 3});
  Tensor* s = net.add_input("s", DataType::kFLOAT, {1, 4, 1});
  NormalizationAttrs a;
  a.axes = 4;
  a.num_groups = 2;
  a.epsilon = 0.001f;
  net.add_normalization(x, s, s, a)->set_name("gn");
  EXPECT_NE(net.to_string().find("gn: Normalization[epsilon=0.00100000005 axes=4 num_groups=2 "
                                 "compute_precision=float32] (x:float32[2,4,3], "
                                 "s:float32[1,4,1], s:float32[1,4,1]) -> "),
            std::string::npos)
      << net.to_string();
}

TEST(SoftMaxLayer, RejectsBadAxesTypesAndRanks) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kHALF, {2, 3, 4});
  expect_error_unchanged(net, [&] { net.add_softmax(x, 0b011); },
                         {"SoftMax layer", "axes mask 0x3 selects 2 axes", "exactly one"});
  expect_error_unchanged(net, [&] { net.add_softmax(x, 0b1000); },
                         {"axes mask 0x8", "beyond rank 3"});
  Tensor* i = net.add_input("i", DataType::kINT32, {2, 3});
  expect_error_unchanged(net, [&] { net.add_softmax(i, 1); }, {"input 0 has type int32"});
  Tensor* s = net.add_input("s", DataType::kFLOAT, {});
  expect_error_unchanged(net, [&] { net.add_softmax(s, 0); }, {"rank >= 1", "[]"});
  EXPECT_EQ(net.add_softmax(x, 0)->output(0)->dims(), (Dims{2, 3, 4}));
}

TEST(SoftMaxLayer, TextForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kBF16, {-1, 5});
  net.add_softmax(x, 2)->set_name("sm");
  EXPECT_NE(net.to_string().find("sm: SoftMax[axes=2] (x:bfloat16[-1,5]) -> "), std::string::npos)
      << net.to_string();
}

}  // namespace
}  // namespace lktest
