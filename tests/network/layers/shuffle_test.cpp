// Add-time validation and text form of Shuffle, Identity, Cast, Shape, Concatenation, Padding.
#include "test_util.h"

namespace lktest {
namespace {

Dims raw_dims(std::vector<int64_t> v) {
  Dims d = Dims::of_rank(static_cast<int>(v.size()));
  for (size_t i = 0; i < v.size(); ++i) d[static_cast<int>(i)] = v[i];
  return d;
}

TEST(ShuffleLayer, RejectsBadPermutations) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3, 4});
  ShuffleAttrs a;
  a.first_transpose = {0, 1};
  expect_error_unchanged(net, [&] { net.add_shuffle(x, a); },
                         {"Shuffle layer", "first_transpose=[0,1]", "has 2 entries", "expected 3"});
  a.first_transpose = {0, 1, 1};
  expect_error_unchanged(net, [&] { net.add_shuffle(x, a); },
                         {"first_transpose=[0,1,1]", "not a permutation of 0..2"});
  a.first_transpose = {};
  a.reshape_dims = Dims{6, 4};
  a.second_transpose = {2, 0};
  expect_error_unchanged(net, [&] { net.add_shuffle(x, a); },
                         {"second_transpose=[2,0]", "not a permutation of 0..1"});
}

TEST(ShuffleLayer, RejectsVolumeMismatchNamingBothShapes) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3, 4});
  ShuffleAttrs a;
  a.reshape_dims = Dims{5, 5};
  expect_error_unchanged(
      net, [&] { net.add_shuffle(x, a); },
      {"cannot reshape [2,3,4] (volume 24) to [5,5] (volume 25)", "float32[2,3,4]"});
  a.reshape_dims = Dims{-1, 5};
  expect_error_unchanged(net, [&] { net.add_shuffle(x, a); }, {"[2,3,4]", "not divisible by 5"});
  a.reshape_dims = Dims{-1, -1};
  expect_error_unchanged(net, [&] { net.add_shuffle(x, a); }, {"more than one -1"});
  a.reshape_dims = Dims{0, 0, 0, 0};
  expect_error_unchanged(net, [&] { net.add_shuffle(x, a); }, {"0 placeholder at 3", "rank 3"});
  a.reshape_dims = Dims{0, -1};
  a.zero_is_placeholder = false;
  expect_error_unchanged(net, [&] { net.add_shuffle(x, a); },
                         {"cannot infer the -1", "multiply to 0"});
}

TEST(ShuffleLayer, RejectsBadShapeTensor) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* f = net.add_input("f", DataType::kFLOAT, {2});
  expect_error_unchanged(net, [&] { net.add_shuffle(x, {}, f); },
                         {"input 1 has type float32", "int32, int64"});
  Tensor* s2 = net.add_input("s2", DataType::kINT64, {1, 2});
  expect_error_unchanged(net, [&] { net.add_shuffle(x, {}, s2); }, {"must be 1-D", "[1,2]"});
  Tensor* sd = net.add_input("sd", DataType::kINT64, {-1});
  expect_error_unchanged(net, [&] { net.add_shuffle(x, {}, sd); }, {"build-time length"});
  Tensor* c = constant(net, at::tensor(std::vector<int64_t>{4, 2}, at::kLong));
  expect_error_unchanged(net, [&] { net.add_shuffle(x, {}, c); },
                         {"cannot reshape [2,3] (volume 6) to [4,2] (volume 8)"});
}

TEST(ShuffleLayer, UnknownShapeTensorGivesDynamicDimsOfItsLength) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* s = net.add_input("s", DataType::kINT64, {3});
  EXPECT_EQ(net.add_shuffle(x, {}, s)->output(0)->dims(), (Dims{-1, -1, -1}));
}

TEST(ShuffleLayer, TextForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3, 4});
  ShuffleAttrs a;
  a.first_transpose = {1, 0, 2};
  a.reshape_dims = Dims{3, -1};
  a.second_transpose = {1, 0};
  Layer* l = net.add_shuffle(x, a);
  l->set_name("sh");
  EXPECT_NE(
      net.to_string().find("sh: Shuffle[first_transpose=[1,0,2] reshape_dims=[3,-1] "
                           "second_transpose=[1,0] zero_is_placeholder=true] (x:float32[2,3,4]) -> "
                           "(Shuffle_1_out0:float32[8,3])"),
      std::string::npos)
      << net.to_string();
  Layer* plain = net.add_shuffle(x);
  plain->set_name("plain");
  EXPECT_NE(net.to_string().find("plain: Shuffle[first_transpose=[] reshape_dims=none "
                                 "second_transpose=[] zero_is_placeholder=true]"),
            std::string::npos)
      << net.to_string();
}

TEST(IdentityLayer, KeepsTypeDimsAndKnownValuesAndPrints) {
  Network net;
  Tensor* c = constant(net, at::tensor(std::vector<int32_t>{3, 4}, at::kInt));
  Layer* l = net.add_identity(c);
  EXPECT_EQ(l->output(0)->type(), DataType::kINT32);
  ASSERT_EQ(l->output(0)->known_values().size(), 2u);
  EXPECT_EQ(*l->output(0)->known_values()[1], 4);
  l->set_name("id");
  EXPECT_NE(net.to_string().find(
                "id: Identity[] (Constant_0_out0:int32[2]) -> (Identity_1_out0:int32[2])"),
            std::string::npos)
      << net.to_string();
  Tensor* q = net.add_input("q", DataType::kINT4, {4});
  EXPECT_EQ(net.add_identity(q)->output(0)->type(), DataType::kINT4);
}

TEST(CastLayer, RejectsSubByteTypes) {
  Network net;
  Tensor* q = net.add_input("q", DataType::kINT4, {4});
  expect_error_unchanged(net, [&] { net.add_cast(q, DataType::kFLOAT); },
                         {"Cast layer", "sub-byte type int4", "int4[4]"});
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4});
  expect_error_unchanged(net, [&] { net.add_cast(x, DataType::kFP4); }, {"to_type", "sub-byte"});
}

TEST(CastLayer, TextForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4});
  net.add_cast(x, DataType::kE8M0)->set_name("c");
  EXPECT_NE(net.to_string().find("c: Cast[to_type=e8m0] (x:float32[4]) -> (Cast_1_out0:e8m0[4])"),
            std::string::npos)
      << net.to_string();
}

TEST(ShapeLayer, OutputAndTextForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFP4, {-1, 6});
  Layer* l = net.add_shape(x);
  l->set_name("s");
  EXPECT_EQ(l->output(0)->type(), DataType::kINT64);
  EXPECT_NE(net.to_string().find("s: Shape[] (x:fp4e2m1[-1,6]) -> (Shape_1_out0:int64[2])"),
            std::string::npos)
      << net.to_string();
  Tensor* scalar = net.add_input("y", DataType::kFLOAT, {});
  EXPECT_EQ(net.add_shape(scalar)->output(0)->dims(), (Dims{0}));
}

TEST(ConcatenationLayer, RejectsBadInputs) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kFLOAT, {2, 3});
  Tensor* b = net.add_input("b", DataType::kFLOAT, {4, 3});
  Tensor* h = net.add_input("h", DataType::kHALF, {4, 3});
  Tensor* r3 = net.add_input("r3", DataType::kFLOAT, {2, 3, 1});
  Tensor* s = net.add_input("s", DataType::kFLOAT, {});
  std::vector<Tensor*> none;
  expect_error_unchanged(net, [&] { net.add_concatenation(none, 0); }, {"at least one input"});
  std::vector<Tensor*> ab{a, b};
  expect_error_unchanged(net, [&] { net.add_concatenation(ab, 1); },
                         {"input 1 dims [4,3] differ", "at axis 0 (4 vs 2)", "axis 1 may differ"});
  // TensorRT takes 0..rank-1 only.
  expect_error_unchanged(net, [&] { net.add_concatenation(ab, -2); },
                         {"axis -2 is out of range for rank 2 (expected 0..1)"});
  expect_error_unchanged(net, [&] { net.add_concatenation(ab, 2); }, {"axis 2", "0..1"});
  std::vector<Tensor*> ah{a, h};
  expect_error_unchanged(net, [&] { net.add_concatenation(ah, 0); },
                         {"input 1 has type float16 but input 0 has float32"});
  std::vector<Tensor*> ar{a, r3};
  expect_error_unchanged(net, [&] { net.add_concatenation(ar, 0); },
                         {"input 1 has rank 3", "input 0 has rank 2"});
  std::vector<Tensor*> ss{s, s};
  expect_error_unchanged(net, [&] { net.add_concatenation(ss, 0); }, {"rank >= 1"});
  std::vector<Tensor*> an{a, nullptr};
  expect_error_unchanged(net, [&] { net.add_concatenation(an, 0); }, {"input 1 is missing"});
}

TEST(ConcatenationLayer, DynamicDimsAndTextForm) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kINT4, {-1, 3});
  Tensor* b = net.add_input("b", DataType::kINT4, {2, -1});
  std::vector<Tensor*> ab{a, b};
  Layer* l = net.add_concatenation(ab, 0);
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 3}));
  l->set_name("cat");
  EXPECT_NE(net.to_string().find("cat: Concatenation[axis=0] (a:int4[-1,3], b:int4[2,-1]) -> "
                                 "(Concatenation_2_out0:int4[-1,3])"),
            std::string::npos)
      << net.to_string();
}

TEST(PaddingLayer, RejectsBadPadding) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  expect_error_unchanged(
      net,
      [&] {
        net.add_padding_nd(x, {1, 1}, {1});
      },
      {"Padding layer", "pre_padding [1,1] and post_padding [1]", "different ranks"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_padding_nd(x, {1, 1, 1}, {1, 1, 1});
                         },
                         {"covers 3 dims", "rank 2"});
  expect_error_unchanged(net, [&] { net.add_padding_nd(x, raw_dims({-2}), raw_dims({-2})); },
                         {"crops axis 1 of size 3 to -1", "must stay >= 0"});
}

TEST(PaddingLayer, TextForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kBF16, {1, 2, 3, 4});
  net.add_padding_nd(x, raw_dims({1, -1}), {0, 2})->set_name("pad");
  EXPECT_NE(net.to_string().find(
                "pad: Padding[pre_padding=[1,-1] post_padding=[0,2]] (x:bfloat16[1,2,3,4]) -> "
                "(Padding_1_out0:bfloat16[1,2,4,5])"),
            std::string::npos)
      << net.to_string();
}

}  // namespace
}  // namespace lktest
