// Pattern recognition: expanded layer norm, GELU and softmax replaced by one layer; text in ->
// text out, and optimized engines computing what the unoptimized ones compute.
#include "pass_test_util.h"

namespace lktest {
namespace {

using passes::make_recognize_patterns;

Tensor* ew(Network& net, Tensor* a, Tensor* b, ElementWiseOperation op, const std::string& n) {
  return named(net.add_elementwise(a, b, op), n);
}
Tensor* un(Network& net, Tensor* a, UnaryOperation op, const std::string& n) {
  return named(net.add_unary(a, op), n);
}
Tensor* mean(Network& net, Tensor* a, AxesMask axes, const std::string& n) {
  return named(net.add_reduce(a, ReduceOperation::kAVG, axes, /*keep_dims=*/true), n);
}

// Layer norm over the last axis of x[2, 3, 8] as PyTorch's exporter writes it: Pow(d, 2) and
// Div, then the scale and bias. `var_axes` lets a negative case reduce the variance elsewhere.
void expanded_layer_norm(Network& net, AxesMask var_axes = 4u) {
  using E = ElementWiseOperation;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3, 8});
  Tensor* m = mean(net, x, 4u, "mean");
  Tensor* d = ew(net, x, m, E::kSUB, "d");
  Tensor* sq = ew(net, d, splat(net, "two", {1, 1, 1}, 2.0f), E::kPOW, "sq");
  Tensor* var = mean(net, sq, var_axes, "var");
  Tensor* ve = ew(net, var, splat(net, "eps", {1, 1, 1}, 1e-5f), E::kSUM, "var_eps");
  Tensor* s = un(net, ve, UnaryOperation::kSQRT, "std");
  Tensor* n = ew(net, d, s, E::kDIV, "norm");
  Tensor* g = named_constant(net, "gamma", random(DataType::kFLOAT, {1, 1, 8}, 5));
  Tensor* b = named_constant(net, "beta", random(DataType::kFLOAT, {1, 1, 8}, 6));
  Tensor* y = ew(net, ew(net, n, g, E::kPROD, "scaled"), b, E::kSUM, "y");
  net.mark_output(y);
}

TEST(RecognizePatterns, ExpandedLayerNormBecomesNormalization) {
  Network net;
  expanded_layer_norm(net);
  EXPECT_EQ(
      after_pass(make_recognize_patterns(), net),
      "x: Input[type=float32 dims=[2,3,8]] () -> (x:float32[2,3,8])\n"
      "gamma: Constant[dims=[1,1,8] weights=float32[8]] () -> (gamma:float32[1,1,8])\n"
      "beta: Constant[dims=[1,1,8] weights=float32[8]] () -> (beta:float32[1,1,8])\n"
      "y: Normalization[epsilon=9.99999975e-06 axes=4 num_groups=1 compute_precision=float32] "
      "(x:float32[2,3,8], gamma:float32[1,1,8], beta:float32[1,1,8]) -> "
      "(y:float32[2,3,8])\n"
      "outputs: y\n");
  expect_optimized_matches(net, {random(DataType::kFLOAT, {2, 3, 8}, 1)});
}

TEST(RecognizePatterns, OnnxLayerNormFunctionBodyWithoutAffineBecomesNormalization) {
  // ONNX's LayerNormalization function body: Mul(d, d), Reciprocal(sqrt) and Mul.
  using E = ElementWiseOperation;
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4, 6});
  Tensor* m = mean(net, x, 2u, "mean");
  Tensor* d = ew(net, x, m, E::kSUB, "d");
  Tensor* var = mean(net, ew(net, d, d, E::kPROD, "dd"), 2u, "var");
  Tensor* ve = ew(net, splat(net, "eps", {1, 1}, 1e-3f), var, E::kSUM, "var_eps");
  Tensor* inv = un(net, un(net, ve, UnaryOperation::kSQRT, "std"), UnaryOperation::kRECIP, "inv");
  net.mark_output(ew(net, inv, d, E::kPROD, "y"));
  EXPECT_EQ(after_pass(make_recognize_patterns(), net),
            "x: Input[type=float32 dims=[4,6]] () -> (x:float32[4,6])\n"
            "y_scale: Constant[dims=[1,1] weights=float32[1]] () -> (y_scale:float32[1,1])\n"
            "y_bias: Constant[dims=[1,1] weights=float32[1]] () -> (y_bias:float32[1,1])\n"
            "y: Normalization[epsilon=0.00100000005 axes=2 num_groups=1 "
            "compute_precision=float32] (x:float32[4,6], y_scale:float32[1,1], "
            "y_bias:float32[1,1]) -> (y:float32[4,6])\n"
            "outputs: y\n");
  expect_optimized_matches(net, {random(DataType::kFLOAT, {4, 6}, 1)});
}

TEST(RecognizePatterns, LayerNormWithMismatchedAxesIsKept) {
  Network net;
  expanded_layer_norm(net, /*var_axes=*/2u);  // variance over axis 1, mean over axis 2
  bool changed = true;
  EXPECT_EQ(after_pass(make_recognize_patterns(), net, &changed), net.to_string());
  EXPECT_FALSE(changed);
}

TEST(RecognizePatterns, ExpandedGeluBecomesActivation) {
  using E = ElementWiseOperation;
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 5});
  Tensor* q = ew(net, x, splat(net, "sqrt2", {1, 1}, std::sqrt(2.0f)), E::kDIV, "q");
  Tensor* f = ew(net, un(net, q, UnaryOperation::kERF, "erf"), splat(net, "one", {1, 1}, 1.0f),
                 E::kSUM, "f");
  Tensor* h = ew(net, x, splat(net, "half", {1, 1}, 0.5f), E::kPROD, "h");
  net.mark_output(ew(net, h, f, E::kPROD, "y"));
  EXPECT_EQ(after_pass(make_recognize_patterns(), net),
            "x: Input[type=float32 dims=[2,5]] () -> (x:float32[2,5])\n"
            "y: Activation[type=kGELU_ERF alpha=0 beta=0] (x:float32[2,5]) -> (y:float32[2,5])\n"
            "outputs: y\n");
  expect_optimized_matches(net, {random(DataType::kFLOAT, {2, 5}, 1, -4.0, 4.0)});
}

TEST(RecognizePatterns, GeluGroupedAsXTimesHalfOfOnePlusErf) {
  using E = ElementWiseOperation;
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 5});
  Tensor* q = ew(net, splat(net, "rsqrt2", {1, 1}, 0.70710678f), x, E::kPROD, "q");
  Tensor* f = ew(net, splat(net, "one", {1, 1}, 1.0f), un(net, q, UnaryOperation::kERF, "erf"),
                 E::kSUM, "f");
  Tensor* g = ew(net, f, splat(net, "half", {1, 1}, 0.5f), E::kPROD, "g");
  net.mark_output(ew(net, x, g, E::kPROD, "y"));
  EXPECT_EQ(after_pass(make_recognize_patterns(), net),
            "x: Input[type=float32 dims=[2,5]] () -> (x:float32[2,5])\n"
            "y: Activation[type=kGELU_ERF alpha=0 beta=0] (x:float32[2,5]) -> (y:float32[2,5])\n"
            "outputs: y\n");
}

TEST(RecognizePatterns, GeluWithAnotherConstantIsKept) {
  using E = ElementWiseOperation;
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 5});
  Tensor* q = ew(net, x, splat(net, "two", {1, 1}, 2.0f), E::kDIV, "q");  // not sqrt(2)
  Tensor* f = ew(net, un(net, q, UnaryOperation::kERF, "erf"), splat(net, "one", {1, 1}, 1.0f),
                 E::kSUM, "f");
  Tensor* h = ew(net, x, splat(net, "half", {1, 1}, 0.5f), E::kPROD, "h");
  net.mark_output(ew(net, h, f, E::kPROD, "y"));
  bool changed = true;
  EXPECT_EQ(after_pass(make_recognize_patterns(), net, &changed), net.to_string());
  EXPECT_FALSE(changed);
}

TEST(RecognizePatterns, StableSoftmaxBecomesSoftMax) {
  using E = ElementWiseOperation;
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 7});
  Tensor* m = named(net.add_reduce(x, ReduceOperation::kMAX, 2u, true), "max");
  Tensor* e = un(net, ew(net, x, m, E::kSUB, "shifted"), UnaryOperation::kEXP, "e");
  Tensor* s = named(net.add_reduce(e, ReduceOperation::kSUM, 2u, true), "sum");
  net.mark_output(ew(net, e, s, E::kDIV, "y"));
  EXPECT_EQ(after_pass(make_recognize_patterns(), net),
            "x: Input[type=float32 dims=[3,7]] () -> (x:float32[3,7])\n"
            "y: SoftMax[axes=2] (x:float32[3,7]) -> (y:float32[3,7])\n"
            "outputs: y\n");
  expect_optimized_matches(net, {random(DataType::kFLOAT, {3, 7}, 1, -5.0, 5.0)});
}

TEST(RecognizePatterns, SoftmaxOverTwoAxesOrWithSharedExpIsKept) {
  using E = ElementWiseOperation;
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 7});
  Tensor* e = un(net, x, UnaryOperation::kEXP, "e");
  Tensor* s = named(net.add_reduce(e, ReduceOperation::kSUM, 3u, true), "sum_all");
  net.mark_output(ew(net, e, s, E::kDIV, "y"));
  Tensor* e2 = un(net, x, UnaryOperation::kEXP, "e2");
  Tensor* s2 = named(net.add_reduce(e2, ReduceOperation::kSUM, 2u, true), "sum2");
  net.mark_output(ew(net, e2, s2, E::kDIV, "y2"));
  net.mark_output(un(net, e2, UnaryOperation::kLOG, "also_reads_e2"));
  bool changed = true;
  EXPECT_EQ(after_pass(make_recognize_patterns(), net, &changed), net.to_string());
  EXPECT_FALSE(changed);
}

}  // namespace
}  // namespace lktest
