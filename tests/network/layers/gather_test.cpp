// Add-time validation and text form of the Gather, Scatter and NonZero kinds.
#include "test_util.h"

namespace lktest {
namespace {

TEST(GatherValidation, RejectsNonIntegerIndices) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4});
  Tensor* i = net.add_input("i", DataType::kFLOAT, {2});
  expect_error_unchanged(net, [&] { net.add_gather(x, i, 0); },
                         {"Gather layer", "input 1 has type float32", "int32, int64"});
  Tensor* b = net.add_input("b", DataType::kINT8, {2});
  expect_error_unchanged(net, [&] { net.add_gather(x, b, 0); }, {"input 1 has type int8"});
}

TEST(GatherValidation, RejectsBadAxis) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4, 5});
  Tensor* i = net.add_input("i", DataType::kINT32, {2});
  expect_error_unchanged(net, [&] { net.add_gather(x, i, 3); },
                         {"axis 3 is out of range for rank 3", "-3..2"});
  expect_error_unchanged(net, [&] { net.add_gather(x, i, -4, GatherMode::kELEMENT); },
                         {"axis -4", "rank 3"});
}

TEST(GatherValidation, RejectsRankZeroDataAndMissingIndices) {
  Network net;
  Tensor* s = net.add_input("s", DataType::kFLOAT, Dims{});
  Tensor* i = net.add_input("i", DataType::kINT32, {1});
  expect_error_unchanged(net, [&] { net.add_gather(s, i, 0); }, {"rank >= 1", "[]"});
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3});
  expect_error_unchanged(net, [&] { net.add_gather(x, nullptr, 0); }, {"input 1 is missing"});
}

TEST(GatherValidation, RejectsBadElementwiseDims) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4, 5, 6});
  Tensor* i = net.add_input("i", DataType::kINT32, {4, 2});
  Tensor* j = net.add_input("j", DataType::kINT32, {3, 2});
  expect_error_unchanged(net, [&] { net.add_gather(x, i, 1, GatherMode::kDEFAULT, 2); },
                         {"num_elementwise_dims is 2", "0 or 1"});
  expect_error_unchanged(net, [&] { net.add_gather(x, i, 0, GatherMode::kDEFAULT, 1); },
                         {"gather axis must be >= 1", "got 0"});
  expect_error_unchanged(net, [&] { net.add_gather(x, j, 1, GatherMode::kDEFAULT, 1); },
                         {"batch axis 0 has size 4 in data but 3 in indices"});
}

TEST(GatherValidation, RejectsOutputRankAboveEight) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 1, 1, 1, 1, 1, 1, 2});
  Tensor* i = net.add_input("i", DataType::kINT32, {1, 1});
  expect_error_unchanged(net, [&] { net.add_gather(x, i, 0); },
                         {"output would have rank 9", "maximum rank 8"});
}

TEST(GatherValidation, ElementModeNeedsMatchingRanks) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4});
  Tensor* i = net.add_input("i", DataType::kINT32, {3});
  Tensor* big = net.add_input("big", DataType::kINT32, {2, 5});
  expect_error_unchanged(net, [&] { net.add_gather(x, i, 0, GatherMode::kELEMENT); },
                         {"data's rank 2", "indices [3]", "data [3,4]"});
  expect_error_unchanged(net, [&] { net.add_gather(x, big, 0, GatherMode::kELEMENT); },
                         {"indices [2,5] exceed data [3,4] at axis 1"});
  Tensor* ok = net.add_input("ok", DataType::kINT32, {3, 4});
  expect_error_unchanged(net, [&] { net.add_gather(x, ok, 0, GatherMode::kELEMENT, 1); },
                         {"num_elementwise_dims is 1", "kELEMENT mode takes 0"});
}

TEST(GatherValidation, NDModeChecksTupleLengthAndBatchDims) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4, 5});
  Tensor* i4 = net.add_input("i4", DataType::kINT32, {2, 4});
  Tensor* dyn = net.add_input("dyn", DataType::kINT32, {2, -1});
  Tensor* b = net.add_input("b", DataType::kINT32, {2, 1});
  Tensor* s = net.add_input("s", DataType::kINT32, Dims{});
  expect_error_unchanged(net, [&] { net.add_gather(x, i4, 0, GatherMode::kND); },
                         {"last indices dim (4)", "1..3"});
  expect_error_unchanged(net, [&] { net.add_gather(x, dyn, 0, GatherMode::kND); },
                         {"last indices dim (-1)", "build-time constant"});
  expect_error_unchanged(net, [&] { net.add_gather(x, b, 0, GatherMode::kND, 1); },
                         {"batch axis 0 has size 3 in data but 2 in indices"});
  expect_error_unchanged(net, [&] { net.add_gather(x, b, 0, GatherMode::kND, 2); },
                         {"num_elementwise_dims 2", "0..1"});
  expect_error_unchanged(net, [&] { net.add_gather(x, s, 0, GatherMode::kND); },
                         {"rank >= 1", "[]"});
}

TEST(GatherValidation, OutputDimsPerMode) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4, 5});
  Tensor* i = net.add_input("i", DataType::kINT64, {2, 6});
  EXPECT_EQ(net.add_gather(x, i, 1)->output(0)->dims(), (Dims{3, 2, 6, 5}));
  Tensor* j = net.add_input("j", DataType::kINT64, {3, 7});
  EXPECT_EQ(net.add_gather(x, j, 2, GatherMode::kDEFAULT, 1)->output(0)->dims(), (Dims{3, 4, 7}));
  Tensor* k = net.add_input("k", DataType::kINT32, {6, 2});
  EXPECT_EQ(net.add_gather(x, k, 0, GatherMode::kND)->output(0)->dims(), (Dims{6, 5}));
}

TEST(ScatterValidation, RejectsBadTypes) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4});
  Tensor* fi = net.add_input("fi", DataType::kFLOAT, {3, 4});
  Tensor* i = net.add_input("i", DataType::kINT32, {3, 4});
  Tensor* u = net.add_input("u", DataType::kFLOAT, {3, 4});
  Tensor* uh = net.add_input("uh", DataType::kHALF, {3, 4});
  expect_error_unchanged(net, [&] { net.add_scatter(x, fi, u, ScatterMode::kELEMENT); },
                         {"Scatter layer", "input 1 has type float32", "int32, int64"});
  expect_error_unchanged(net, [&] { net.add_scatter(x, i, uh, ScatterMode::kELEMENT); },
                         {"updates have type float16", "data has type float32"});
  expect_error_unchanged(net, [&] { net.add_scatter(x, i, nullptr, ScatterMode::kELEMENT); },
                         {"input 2 is missing"});
}

TEST(ScatterValidation, ElementModeShapes) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4});
  Tensor* i1 = net.add_input("i1", DataType::kINT32, {3});
  Tensor* i = net.add_input("i", DataType::kINT32, {2, 2});
  Tensor* u = net.add_input("u", DataType::kFLOAT, {2, 3});
  Tensor* ubig = net.add_input("ubig", DataType::kFLOAT, {2, 5});
  Tensor* ibig = net.add_input("ibig", DataType::kINT32, {2, 5});
  expect_error_unchanged(net, [&] { net.add_scatter(x, i1, u, ScatterMode::kELEMENT); },
                         {"data's rank 2", "indices [3]"});
  expect_error_unchanged(net, [&] { net.add_scatter(x, i, u, ScatterMode::kELEMENT); },
                         {"updates [2,3]", "indices [2,2]"});
  expect_error_unchanged(net, [&] { net.add_scatter(x, ibig, ubig, ScatterMode::kELEMENT, 0); },
                         {"indices [2,5] exceed data [3,4] at axis 1"});
  expect_error_unchanged(net, [&] { net.add_scatter(x, i, u, ScatterMode::kELEMENT, 2); },
                         {"axis 2 is out of range for rank 2"});
}

TEST(ScatterValidation, NDModeShapes) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4});
  Tensor* i3 = net.add_input("i3", DataType::kINT32, {5, 3});
  Tensor* i1 = net.add_input("i1", DataType::kINT32, {5, 1});
  Tensor* u = net.add_input("u", DataType::kFLOAT, {5, 3});
  expect_error_unchanged(net, [&] { net.add_scatter(x, i3, u, ScatterMode::kND); },
                         {"last indices dim (3)", "1..2"});
  expect_error_unchanged(net, [&] { net.add_scatter(x, i1, u, ScatterMode::kND); },
                         {"updates of dims [5,4]", "got [5,3]"});
}

TEST(ScatterValidation, ReductionTypes) {
  Network net;
  Tensor* b = net.add_input("b", DataType::kBOOL, {3});
  Tensor* f8 = net.add_input("f8", DataType::kFP8, {3});
  Tensor* i = net.add_input("i", DataType::kINT64, {2});
  Tensor* ub = net.add_input("ub", DataType::kBOOL, {2});
  Tensor* u8 = net.add_input("u8", DataType::kFP8, {2});
  expect_error_unchanged(
      net, [&] { net.add_scatter(b, i, ub, ScatterMode::kELEMENT, 0, ScatterReduction::kSUM); },
      {"Scatter layer", "reduction kSUM", "type bool"});
  expect_error_unchanged(
      net, [&] { net.add_scatter(f8, i, u8, ScatterMode::kELEMENT, 0, ScatterReduction::kMAX); },
      {"reduction kMAX", "type fp8"});
  // Bool takes max/min (logical or/and); kNONE takes any type.
  EXPECT_EQ(net.add_scatter(b, i, ub, ScatterMode::kELEMENT, 0, ScatterReduction::kMIN)
                ->output(0)
                ->dims(),
            (Dims{3}));
  EXPECT_EQ(net.add_scatter(f8, i, u8, ScatterMode::kELEMENT)->output(0)->dims(), (Dims{3}));
}

TEST(ScatterText, ReductionIsPrintedWhenUsed) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4});
  Tensor* i = net.add_input("i", DataType::kINT32, {2, 1});
  Tensor* u = net.add_input("u", DataType::kFLOAT, {2, 4});
  net.mark_output(
      net.add_scatter(x, i, u, ScatterMode::kND, 0, ScatterReduction::kPROD)->output(0));
  EXPECT_EQ(net.to_string(),
            "x: Input[type=float32 dims=[3,4]] () -> (x:float32[3,4])\n"
            "i: Input[type=int32 dims=[2,1]] () -> (i:int32[2,1])\n"
            "u: Input[type=float32 dims=[2,4]] () -> (u:float32[2,4])\n"
            "Scatter_3: Scatter[mode=kND axis=0 reduction=kPROD] (x:float32[3,4], i:int32[2,1], "
            "u:float32[2,4]) -> (Scatter_3_out0:float32[3,4])\n"
            "outputs: Scatter_3_out0\n");
}

TEST(NonZeroValidation, RejectsRankZeroAndUnsupportedTypes) {
  Network net;
  Tensor* s = net.add_input("s", DataType::kFLOAT, Dims{});
  expect_error_unchanged(net, [&] { net.add_non_zero(s); },
                         {"NonZero layer", "rank >= 1", "got []"});
  Tensor* f8 = net.add_input("f8", DataType::kFP8, {4});
  expect_error_unchanged(net, [&] { net.add_non_zero(f8); }, {"input 0 has type", "bool"});
  expect_error_unchanged(net, [&] { net.add_non_zero(nullptr); }, {"input 0 is missing"});
}

TEST(GatherFamilyText, EveryKindPrintsItsAttributes) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4});
  Tensor* i = net.add_input("i", DataType::kINT32, {2, 4});
  Tensor* u = net.add_input("u", DataType::kFLOAT, {2, 4});
  net.mark_output(net.add_gather(x, i, 0, GatherMode::kELEMENT)->output(0));
  net.mark_output(net.add_scatter(x, i, u, ScatterMode::kELEMENT, 0)->output(0));
  net.mark_output(net.add_non_zero(x)->output(0));
  EXPECT_EQ(net.to_string(),
            "x: Input[type=float32 dims=[3,4]] () -> (x:float32[3,4])\n"
            "i: Input[type=int32 dims=[2,4]] () -> (i:int32[2,4])\n"
            "u: Input[type=float32 dims=[2,4]] () -> (u:float32[2,4])\n"
            "Gather_3: Gather[mode=kELEMENT axis=0 num_elementwise_dims=0] (x:float32[3,4], "
            "i:int32[2,4]) -> (Gather_3_out0:float32[2,4])\n"
            "Scatter_4: Scatter[mode=kELEMENT axis=0] (x:float32[3,4], i:int32[2,4], "
            "u:float32[2,4]) -> (Scatter_4_out0:float32[3,4])\n"
            "NonZero_5: NonZero[] (x:float32[3,4]) -> (NonZero_5_out0:int64[2,-1])\n"
            "outputs: Gather_3_out0 Scatter_4_out0 NonZero_5_out0\n");
}

}  // namespace
}  // namespace lktest
