// Constant folding: text in -> text out for the fold_constants pass, and optimized engines
// computing what the unoptimized ones compute.
#include "pass_test_util.h"

namespace lktest {
namespace {

using passes::make_fold_constants;

TEST(FoldConstants, ConstantOperandsBecomeOneConstant) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* a = named_constant(net, "a", random(DataType::kFLOAT, {1, 3}, 1));
  Tensor* b = named_constant(net, "b", random(DataType::kFLOAT, {1, 3}, 2));
  Tensor* s = named(net.add_elementwise(a, b, ElementWiseOperation::kSUM), "s");
  Tensor* e = named(net.add_unary(s, UnaryOperation::kEXP), "e");
  net.mark_output(named(net.add_elementwise(x, e, ElementWiseOperation::kPROD), "y"));
  EXPECT_EQ(net.to_string(),
            "x: Input[type=float32 dims=[2,3]] () -> (x:float32[2,3])\n"
            "a: Constant[dims=[1,3] weights=float32[3]] () -> (a:float32[1,3])\n"
            "b: Constant[dims=[1,3] weights=float32[3]] () -> (b:float32[1,3])\n"
            "s: ElementWise[op=kSUM] (a:float32[1,3], b:float32[1,3]) -> (s:float32[1,3])\n"
            "e: Unary[op=kEXP] (s:float32[1,3]) -> (e:float32[1,3])\n"
            "y: ElementWise[op=kPROD] (x:float32[2,3], e:float32[1,3]) -> (y:float32[2,3])\n"
            "outputs: y\n");
  bool changed = false;
  EXPECT_EQ(after_pass(make_fold_constants(), net, &changed),
            "x: Input[type=float32 dims=[2,3]] () -> (x:float32[2,3])\n"
            "e: Constant[dims=[1,3] weights=float32[3]] () -> (e:float32[1,3])\n"
            "y: ElementWise[op=kPROD] (x:float32[2,3], e:float32[1,3]) -> (y:float32[2,3])\n"
            "outputs: y\n");
  EXPECT_TRUE(changed);
  expect_optimized_matches(net, {random(DataType::kFLOAT, {2, 3}, 3)});
}

TEST(FoldConstants, LayerReadingAnInputIsKept) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* a = named_constant(net, "a", random(DataType::kFLOAT, {1, 3}, 1));
  net.mark_output(named(net.add_elementwise(x, a, ElementWiseOperation::kSUM), "y"));
  bool changed = true;
  EXPECT_EQ(after_pass(make_fold_constants(), net, &changed), net.to_string());
  EXPECT_FALSE(changed);
}

TEST(FoldConstants, OutputOverTheSizeLimitIsKept) {
  Network net;
  Tensor* a = named_constant(net, "a", random(DataType::kFLOAT, {2, 3}, 1));
  net.mark_output(named(net.add_unary(a, UnaryOperation::kABS), "y"));
  // Six elements: within a limit of 6, over a limit of 5.
  EXPECT_EQ(after_pass(make_fold_constants(5), net), net.to_string());
  EXPECT_EQ(after_pass(make_fold_constants(6), net),
            "y: Constant[dims=[2,3] weights=float32[6]] () -> (y:float32[2,3])\n"
            "outputs: y\n");
}

TEST(FoldConstants, ShapeOfAStaticTensorFoldsButNotOfADynamicOne) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* z = net.add_input("z", DataType::kFLOAT, {-1, 3});
  Tensor* sx = named(net.add_shape(x), "sx");
  Tensor* sz = named(net.add_shape(z), "sz");
  net.mark_output(named(net.add_elementwise(sx, sz, ElementWiseOperation::kSUM), "y"));
  EXPECT_EQ(after_pass(make_fold_constants(), net),
            "x: Input[type=float32 dims=[2,3]] () -> (x:float32[2,3])\n"
            "z: Input[type=float32 dims=[-1,3]] () -> (z:float32[-1,3])\n"
            "sz: Shape[] (z:float32[-1,3]) -> (sz:int64[2])\n"
            "sx: Constant[dims=[2] weights=int64[2]] () -> (sx:int64[2])\n"
            "y: ElementWise[op=kSUM] (sx:int64[2], sz:int64[2]) -> (y:int64[2])\n"
            "outputs: y\n");
  BuilderConfig c;
  OptimizationProfile p;
  p.set_dimensions("z", {1, 3}, {2, 3}, {4, 3});
  c.profiles.push_back(p);
  expect_optimized_matches(
      net, {random(DataType::kFLOAT, {2, 3}, 1), random(DataType::kFLOAT, {4, 3}, 2)}, 1.0, c);
}

TEST(FoldConstants, RandomFillIsNotFolded) {
  Network net;
  FillAttrs f;
  f.op = FillOperation::kRANDOM_UNIFORM;
  f.dims = Dims{4};
  f.alpha = 0.0;
  f.beta = {1.0};
  net.mark_output(named(net.add_fill(f), "r"));
  EXPECT_EQ(after_pass(make_fold_constants(), net), net.to_string());
}

}  // namespace
}  // namespace lktest
