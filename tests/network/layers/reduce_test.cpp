// Add-time validation and text form of the Reduce, TopK and Cumulative kinds.
#include "test_util.h"

namespace lktest {
namespace {

TEST(ReduceValidation, RejectsBadMasks) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4});
  expect_error_unchanged(net, [&] { net.add_reduce(x, ReduceOperation::kSUM, 0, false); },
                         {"Reduce layer", "axes mask is 0", "rank-2"});
  expect_error_unchanged(net, [&] { net.add_reduce(x, ReduceOperation::kSUM, 0b100, false); },
                         {"axes mask 0x4", "beyond rank 2"});
}

TEST(ReduceValidation, RejectsUnsupportedTypes) {
  Network net;
  Tensor* i = net.add_input("i", DataType::kINT32, {3, 4});
  Tensor* b = net.add_input("b", DataType::kBOOL, {3, 4});
  Tensor* c = net.add_input("c", DataType::kINT8, {3, 4});
  expect_error_unchanged(net, [&] { net.add_reduce(i, ReduceOperation::kAVG, 1, false); },
                         {"input 0 has type int32", "float32, float16, bfloat16"});
  expect_error_unchanged(net, [&] { net.add_reduce(b, ReduceOperation::kMAX, 1, false); },
                         {"input 0 has type bool", "int64"});
  expect_error_unchanged(net, [&] { net.add_reduce(c, ReduceOperation::kSUM, 1, false); },
                         {"input 0 has type int8"});
  expect_error_unchanged(net, [&] { net.add_reduce(nullptr, ReduceOperation::kSUM, 1, false); },
                         {"input 0 is missing"});
}

TEST(ReduceValidation, OutputDims) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kHALF, {2, -1, 5});
  EXPECT_EQ(net.add_reduce(x, ReduceOperation::kSUM, 0b101, false)->output(0)->dims(), (Dims{-1}));
  EXPECT_EQ(net.add_reduce(x, ReduceOperation::kSUM, 0b101, true)->output(0)->dims(),
            (Dims{1, -1, 1}));
  EXPECT_EQ(net.add_reduce(x, ReduceOperation::kMIN, 0b111, false)->output(0)->dims(), Dims{});
}

TEST(TopKValidation, RejectsBadK) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 5000});
  expect_error_unchanged(net, [&] { net.add_topk(x, TopKOperation::kMAX, 0, 0b10); },
                         {"TopK layer", "k is 0", "1..3840"});
  expect_error_unchanged(net, [&] { net.add_topk(x, TopKOperation::kMAX, 3841, 0b10); },
                         {"k is 3841", "1..3840"});
  expect_error_unchanged(net, [&] { net.add_topk(x, TopKOperation::kMAX, 4, 0b1); },
                         {"k is 4", "axis 0", "only 3 elements"});
}

TEST(TopKValidation, RejectsBadAxes) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 5});
  expect_error_unchanged(net, [&] { net.add_topk(x, TopKOperation::kMAX, 1, 0b11); },
                         {"axes mask 0x3", "exactly one axis", "selects 2"});
  expect_error_unchanged(net, [&] { net.add_topk(x, TopKOperation::kMAX, 1, 0); },
                         {"exactly one axis", "selects 0"});
  expect_error_unchanged(net, [&] { net.add_topk(x, TopKOperation::kMAX, 1, 0b100); },
                         {"axes mask 0x4", "beyond rank 2"});
}

TEST(TopKValidation, RejectsBadTypes) {
  Network net;
  Tensor* b = net.add_input("b", DataType::kBOOL, {3, 5});
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 5});
  Tensor* s = net.add_input("s", DataType::kFLOAT, Dims{});
  expect_error_unchanged(net, [&] { net.add_topk(b, TopKOperation::kMAX, 1, 0b1); },
                         {"input 0 has type bool"});
  expect_error_unchanged(net,
                         [&] { net.add_topk(x, TopKOperation::kMAX, 1, 0b1, DataType::kFLOAT); },
                         {"indices_type is float32", "int32 or int64"});
  expect_error_unchanged(net, [&] { net.add_topk(s, TopKOperation::kMAX, 1, 0b1); },
                         {"rank >= 1", "got []"});
}

TEST(TopKValidation, RejectsBadKTensor) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 5});
  Tensor* kf = net.add_input("kf", DataType::kFLOAT, Dims{});
  Tensor* k1 = net.add_input("k1", DataType::kINT32, {1});
  expect_error_unchanged(
      net, [&] { net.add_topk(x, TopKOperation::kMAX, 1, 0b10, DataType::kINT32, kf); },
      {"input 1 has type float32", "int32, int64"});
  expect_error_unchanged(
      net, [&] { net.add_topk(x, TopKOperation::kMAX, 1, 0b10, DataType::kINT32, k1); },
      {"k must be a 0-D tensor", "[1]"});
  Tensor* big = constant(net, at::scalar_tensor(int64_t{6}, at::kLong));
  expect_error_unchanged(
      net, [&] { net.add_topk(x, TopKOperation::kMAX, 1, 0b10, DataType::kINT32, big); },
      {"k (input 1) is 6", "only 5 elements"});
}

TEST(CumulativeValidation, RejectsBadTypesRanksAndAxes) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4});
  Tensor* b = net.add_input("b", DataType::kBOOL, {3});
  Tensor* c = net.add_input("c", DataType::kINT8, {3});
  Tensor* s = net.add_input("s", DataType::kFLOAT, Dims{});
  using C = CumulativeOperation;
  expect_error_unchanged(net, [&] { net.add_cumulative(x, C::kSUM, 2); },
                         {"Cumulative layer", "axis 2 is out of range for rank 2"});
  expect_error_unchanged(net, [&] { net.add_cumulative(b, C::kSUM, 0); },
                         {"input 0 has type bool", "int64"});
  expect_error_unchanged(net, [&] { net.add_cumulative(c, C::kSUM, 0); },
                         {"input 0 has type int8"});
  expect_error_unchanged(net, [&] { net.add_cumulative(s, C::kSUM, 0); }, {"rank >= 1", "got []"});
  expect_error_unchanged(net, [&] { net.add_cumulative(nullptr, C::kSUM, 0); },
                         {"input 0 is missing"});
  Tensor* d = net.add_input("d", DataType::kINT64, {-1, 5});
  EXPECT_EQ(net.add_cumulative(d, C::kSUM, -2, true, true)->output(0)->dims(), (Dims{-1, 5}));
  EXPECT_EQ(net.add_cumulative(d, C::kSUM, -2)->output(0)->type(), DataType::kINT64);
}

TEST(CumulativeText, PrintsItsAttributes) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kHALF, {3, 4});
  net.mark_output(net.add_cumulative(x, CumulativeOperation::kSUM, 1, true, false)->output(0));
  EXPECT_EQ(net.to_string(),
            "x: Input[type=float16 dims=[3,4]] () -> (x:float16[3,4])\n"
            "Cumulative_1: Cumulative[op=kSUM axis=1 exclusive=true reverse=false] "
            "(x:float16[3,4]) -> (Cumulative_1_out0:float16[3,4])\n"
            "outputs: Cumulative_1_out0\n");
}

TEST(ReduceFamilyText, EveryKindPrintsItsAttributes) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4});
  net.mark_output(net.add_reduce(x, ReduceOperation::kAVG, 0b10, true)->output(0));
  Layer* t = net.add_topk(x, TopKOperation::kMIN, 2, 0b10, DataType::kINT64);
  net.mark_output(t->output(0));
  net.mark_output(t->output(1));
  EXPECT_EQ(net.to_string(),
            "x: Input[type=float32 dims=[3,4]] () -> (x:float32[3,4])\n"
            "Reduce_1: Reduce[op=kAVG axes=2 keep_dims=true] (x:float32[3,4]) -> "
            "(Reduce_1_out0:float32[3,1])\n"
            "TopK_2: TopK[op=kMIN k=2 axes=2 indices_type=int64] (x:float32[3,4]) -> "
            "(TopK_2_out0:float32[3,2], TopK_2_out1:int64[3,2])\n"
            "outputs: Reduce_1_out0 TopK_2_out0 TopK_2_out1\n");
}

}  // namespace
}  // namespace lktest
