// MatrixMultiply inference: validation errors, output dims, text form.
#include "test_util.h"

namespace lktest {
namespace {

using Op = MatrixOperation;

TEST(MatrixMultiplyInfer, OutputDims) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kFLOAT, {2, 1, 3, 5});
  Tensor* b = net.add_input("b", DataType::kFLOAT, {1, 4, 5, 6});
  EXPECT_EQ(net.add_matrix_multiply(a, Op::kNONE, b, Op::kNONE)->output(0)->dims(),
            (Dims{2, 4, 3, 6}));
  Tensor* v = net.add_input("v", DataType::kFLOAT, {1, 4, 3});
  EXPECT_EQ(net.add_matrix_multiply(v, Op::kVECTOR, a, Op::kNONE)->output(0)->dims(),
            (Dims{2, 4, 5}));
  Tensor* d = net.add_input("d", DataType::kFLOAT, {-1, 5, 3});
  EXPECT_EQ(net.add_matrix_multiply(d, Op::kTRANSPOSE, d, Op::kNONE)->output(0)->dims(),
            (Dims{-1, 3, 3}));
  Tensor* u = net.add_input("u", DataType::kFLOAT, {7});
  EXPECT_EQ(net.add_matrix_multiply(u, Op::kVECTOR, u, Op::kVECTOR)->output(0)->dims(), Dims{});
}

TEST(MatrixMultiplyInfer, ContractionMismatchNamesBothShapes) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kFLOAT, {3, 5});
  Tensor* b = net.add_input("b", DataType::kFLOAT, {4, 6});
  expect_error_unchanged(net, [&] { net.add_matrix_multiply(a, Op::kNONE, b, Op::kNONE); },
                         {"contraction dims differ", "[3,5]", "gives 5", "[4,6]", "gives 4"});
  expect_error_unchanged(net, [&] { net.add_matrix_multiply(a, Op::kNONE, b, Op::kTRANSPOSE); },
                         {"contraction dims differ", "gives 5", "kTRANSPOSE", "gives 6"});
  Tensor* v = net.add_input("v", DataType::kFLOAT, {4});
  expect_error_unchanged(net, [&] { net.add_matrix_multiply(a, Op::kNONE, v, Op::kVECTOR); },
                         {"contraction dims differ", "[3,5]", "[4]"});
}

TEST(MatrixMultiplyInfer, RankAndBatchErrors) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kFLOAT, {2, 3, 5});
  Tensor* b = net.add_input("b", DataType::kFLOAT, {5, 6});
  expect_error_unchanged(net, [&] { net.add_matrix_multiply(a, Op::kNONE, b, Op::kNONE); },
                         {"[2,3,5]", "[5,6]", "have 1 and 0 batch dims"});
  Tensor* c = net.add_input("c", DataType::kFLOAT, {3, 5, 6});
  expect_error_unchanged(net, [&] { net.add_matrix_multiply(a, Op::kNONE, c, Op::kNONE); },
                         {"do not broadcast", "sizes 2 and 3"});
  Tensor* v = net.add_input("v", DataType::kFLOAT, {5});
  expect_error_unchanged(net, [&] { net.add_matrix_multiply(v, Op::kNONE, b, Op::kNONE); },
                         {"input 0 has dims [5]", "kNONE needs rank >= 2"});
  Tensor* s = net.add_input("s", DataType::kFLOAT, {});
  expect_error_unchanged(net, [&] { net.add_matrix_multiply(s, Op::kVECTOR, v, Op::kVECTOR); },
                         {"input 0 has dims []", "kVECTOR needs rank >= 1"});
}

TEST(MatrixMultiplyInfer, TypeErrors) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kFLOAT, {3, 5});
  Tensor* h = net.add_input("h", DataType::kHALF, {5, 2});
  expect_error_unchanged(net, [&] { net.add_matrix_multiply(a, Op::kNONE, h, Op::kNONE); },
                         {"types float32 and float16", "same type"});
  Tensor* i = net.add_input("i", DataType::kINT32, {3, 5});
  expect_error_unchanged(net, [&] { net.add_matrix_multiply(i, Op::kNONE, i, Op::kTRANSPOSE); },
                         {"input 0 has type int32", "float32, float16, bfloat16"});
}

TEST(MatrixMultiplyInfer, MissingInput) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kFLOAT, {3, 5});
  expect_error_unchanged(net, [&] { net.add_matrix_multiply(a, Op::kNONE, nullptr, Op::kNONE); },
                         {"input 1", "missing"});
}

TEST(MatrixMultiplyInfer, TextForm) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kFLOAT, {2, 5, 3});
  Tensor* v = net.add_input("v", DataType::kFLOAT, {1, 5});
  Layer* l = net.add_matrix_multiply(a, Op::kTRANSPOSE, v, Op::kVECTOR);
  l->set_name("mm");
  l->output(0)->set_name("y");
  EXPECT_NE(net.to_string().find("mm: MatrixMultiply[op0=kTRANSPOSE op1=kVECTOR] "
                                 "(a:float32[2,5,3], v:float32[1,5]) -> (y:float32[2,3])\n"),
            std::string::npos)
      << net.to_string();
}

}  // namespace
}  // namespace lktest
