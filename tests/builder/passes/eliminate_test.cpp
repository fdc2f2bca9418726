// Dead-layer and no-op elimination: text in -> text out, and optimized engines computing what the
// unoptimized ones compute.
#include "pass_test_util.h"

namespace lktest {
namespace {

using passes::make_eliminate_dead_layers;
using passes::make_eliminate_no_ops;

TEST(EliminateDeadLayers, LayersNoOutputNeedsAreRemoved) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* u = net.add_input("unused", DataType::kFLOAT, {2});
  Tensor* dead = named(net.add_unary(x, UnaryOperation::kEXP), "dead");
  named(net.add_unary(dead, UnaryOperation::kLOG), "dead2");
  (void)u;
  net.mark_output(named(net.add_unary(x, UnaryOperation::kABS), "y"));
  EXPECT_EQ(after_pass(make_eliminate_dead_layers(), net),
            "x: Input[type=float32 dims=[2,3]] () -> (x:float32[2,3])\n"
            "unused: Input[type=float32 dims=[2]] () -> (unused:float32[2])\n"
            "y: Unary[op=kABS] (x:float32[2,3]) -> (y:float32[2,3])\n"
            "outputs: y\n");
}

TEST(EliminateDeadLayers, EveryLayerFeedingAnOutputStays) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* a = named(net.add_unary(x, UnaryOperation::kEXP), "a");
  net.mark_output(a);
  net.mark_output(named(net.add_unary(a, UnaryOperation::kABS), "y"));
  bool changed = true;
  EXPECT_EQ(after_pass(make_eliminate_dead_layers(), net, &changed), net.to_string());
  EXPECT_FALSE(changed);
}

TEST(EliminateNoOps, IdentitySameTypeCastAndSameShapeReshapeAreRemoved) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3});
  Tensor* i = named(net.add_identity(x), "id");
  Tensor* c = named(net.add_cast(i, DataType::kFLOAT), "cast");
  ShuffleAttrs r;
  r.reshape_dims = Dims{0, 3};  // 0 copies the dynamic batch
  Tensor* s = named(net.add_shuffle(c, r), "reshape");
  net.mark_output(named(net.add_unary(s, UnaryOperation::kABS), "y"));
  EXPECT_EQ(after_pass(make_eliminate_no_ops(), net),
            "x: Input[type=float32 dims=[-1,3]] () -> (x:float32[-1,3])\n"
            "y: Unary[op=kABS] (x:float32[-1,3]) -> (y:float32[-1,3])\n"
            "outputs: y\n");
  BuilderConfig cfg;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 3}, {2, 3}, {4, 3});
  cfg.profiles.push_back(p);
  expect_optimized_matches(net, {random(DataType::kFLOAT, {4, 3}, 1)}, 1.0, cfg);
}

TEST(EliminateNoOps, ConvertingCastAndRealReshapeStay) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* c = named(net.add_cast(x, DataType::kHALF), "cast");
  ShuffleAttrs r;
  r.reshape_dims = Dims{3, 2};
  net.mark_output(named(net.add_shuffle(c, r), "y"));
  bool changed = true;
  EXPECT_EQ(after_pass(make_eliminate_no_ops(), net, &changed), net.to_string());
  EXPECT_FALSE(changed);
}

TEST(EliminateNoOps, IdentityOnAnOutputKeepsTheOutputName) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2});
  Tensor* a = named(net.add_unary(x, UnaryOperation::kABS), "a");
  net.mark_output(named(net.add_identity(a), "y"));
  EXPECT_EQ(after_pass(make_eliminate_no_ops(), net),
            "x: Input[type=float32 dims=[2]] () -> (x:float32[2])\n"
            "a: Unary[op=kABS] (x:float32[2]) -> (y:float32[2])\n"
            "outputs: y\n");
}

TEST(EliminateNoOps, IdentityOfAnInputMarkedAsOutputStays) {
  // An input cannot be an output itself (TensorRT's rule), so this Identity is needed.
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2});
  net.mark_output(named(net.add_identity(x), "y"));
  EXPECT_EQ(after_pass(make_eliminate_no_ops(), net), net.to_string());
}

TEST(EliminateNoOps, WholeSliceIsRemovedPartialSliceStays) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* whole = named(net.add_slice(x, Dims{0, 0}, Dims{2, 3}, Dims{1, 1}), "whole");
  net.mark_output(named(net.add_slice(whole, Dims{0, 1}, Dims{2, 2}, Dims{1, 1}), "part"));
  EXPECT_EQ(after_pass(make_eliminate_no_ops(), net),
            "x: Input[type=float32 dims=[2,3]] () -> (x:float32[2,3])\n"
            "part: Slice[start=[0,1] size=[2,2] stride=[1,1] mode=kSTRICT_BOUNDS] "
            "(x:float32[2,3]) -> (part:float32[2,2])\n"
            "outputs: part\n");
}

TEST(EliminateNoOps, AddZeroAndMulOneAreRemoved) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* z = splat(net, "zero", {1, 1}, 0.0f);
  Tensor* o = splat(net, "one", {1, 3}, 1.0f);
  Tensor* a = named(net.add_elementwise(z, x, ElementWiseOperation::kSUM), "add0");
  Tensor* m = named(net.add_elementwise(a, o, ElementWiseOperation::kPROD), "mul1");
  net.mark_output(named(net.add_unary(m, UnaryOperation::kABS), "y"));
  EXPECT_EQ(after_pass(make_eliminate_no_ops(), net),
            "x: Input[type=float32 dims=[2,3]] () -> (x:float32[2,3])\n"
            "y: Unary[op=kABS] (x:float32[2,3]) -> (y:float32[2,3])\n"
            "outputs: y\n");
  expect_optimized_matches(net, {random(DataType::kFLOAT, {2, 3}, 1)});
}

TEST(EliminateNoOps, BroadcastingZeroNonUnitAndLeftSubtractionStay) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 3});
  // x + 0 where the zero has more rows: the sum broadcasts x to [2, 3].
  Tensor* a =
      named(net.add_elementwise(x, splat(net, "zeros", {2, 3}, 0.0f), ElementWiseOperation::kSUM),
            "broadcast");
  // x * 2 and 0 - x change values.
  Tensor* m =
      named(net.add_elementwise(a, splat(net, "two", {1, 1}, 2.0f), ElementWiseOperation::kPROD),
            "times2");
  net.mark_output(named(
      net.add_elementwise(splat(net, "z", {1, 1}, 0.0f), m, ElementWiseOperation::kSUB), "negate"));
  bool changed = true;
  EXPECT_EQ(after_pass(make_eliminate_no_ops(), net, &changed), net.to_string());
  EXPECT_FALSE(changed);
}

}  // namespace
}  // namespace lktest
