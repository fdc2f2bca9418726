// Shuffle merging: text in -> text out for the merge_shuffles pass, and optimized engines
// computing what the unoptimized ones compute.
#include "pass_test_util.h"

namespace lktest {
namespace {

using passes::make_merge_shuffles;

Tensor* transpose(Network& net, Tensor* x, std::vector<int32_t> perm, const std::string& n) {
  ShuffleAttrs a;
  a.first_transpose = std::move(perm);
  return named(net.add_shuffle(x, a), n);
}
Tensor* reshape(Network& net, Tensor* x, Dims dims, const std::string& n) {
  ShuffleAttrs a;
  a.reshape_dims = dims;
  return named(net.add_shuffle(x, a), n);
}

TEST(MergeShuffles, TransposeThenItsInverseDisappear) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3, 4});
  Tensor* t = transpose(net, x, {1, 2, 0}, "t");
  Tensor* u = transpose(net, t, {2, 0, 1}, "u");
  net.mark_output(named(net.add_unary(u, UnaryOperation::kABS), "y"));
  EXPECT_EQ(after_pass(make_merge_shuffles(), net),
            "x: Input[type=float32 dims=[-1,3,4]] () -> (x:float32[-1,3,4])\n"
            "y: Unary[op=kABS] (x:float32[-1,3,4]) -> (y:float32[-1,3,4])\n"
            "outputs: y\n");
}

TEST(MergeShuffles, TwoTransposesBecomeOne) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3, 4});
  Tensor* t = transpose(net, x, {1, 2, 0}, "t");       // [3, 4, 2]
  net.mark_output(transpose(net, t, {1, 0, 2}, "u"));  // [4, 3, 2]
  EXPECT_EQ(after_pass(make_merge_shuffles(), net),
            "x: Input[type=float32 dims=[2,3,4]] () -> (x:float32[2,3,4])\n"
            "u: Shuffle[first_transpose=[2,1,0] reshape_dims=none second_transpose=[] "
            "zero_is_placeholder=true] (x:float32[2,3,4]) -> (u:float32[4,3,2])\n"
            "outputs: u\n");
  expect_optimized_matches(net, {random(DataType::kFLOAT, {2, 3, 4}, 1)});
}

TEST(MergeShuffles, ReshapeTransposeReshapeMergesAroundTheTranspose) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 12});
  Tensor* r = reshape(net, x, Dims{2, 3, 4}, "r");
  Tensor* t = transpose(net, r, {0, 2, 1}, "t");  // [2, 4, 3]
  net.mark_output(reshape(net, t, Dims{8, 3}, "y"));
  // reshape then transpose merge into one Shuffle; that one and the last reshape do not (a
  // transpose sits between the two reshapes).
  EXPECT_EQ(after_pass(make_merge_shuffles(), net),
            "x: Input[type=float32 dims=[2,12]] () -> (x:float32[2,12])\n"
            "t: Shuffle[first_transpose=[] reshape_dims=[2,3,4] second_transpose=[0,2,1] "
            "zero_is_placeholder=true] (x:float32[2,12]) -> (t:float32[2,4,3])\n"
            "y: Shuffle[first_transpose=[] reshape_dims=[8,3] second_transpose=[] "
            "zero_is_placeholder=true] (t:float32[2,4,3]) -> (y:float32[8,3])\n"
            "outputs: y\n");
  expect_optimized_matches(net, {random(DataType::kFLOAT, {2, 12}, 1)});
}

TEST(MergeShuffles, TwoReshapesBecomeOne) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 12});
  Tensor* r = reshape(net, x, Dims{2, 3, 4}, "r");
  net.mark_output(reshape(net, r, Dims{6, 4}, "y"));
  EXPECT_EQ(after_pass(make_merge_shuffles(), net),
            "x: Input[type=float32 dims=[2,12]] () -> (x:float32[2,12])\n"
            "y: Shuffle[first_transpose=[] reshape_dims=[6,4] second_transpose=[] "
            "zero_is_placeholder=true] (x:float32[2,12]) -> (y:float32[6,4])\n"
            "outputs: y\n");
}

TEST(MergeShuffles, SharedIntermediateOrDynamicReshapeIsKept) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* t = transpose(net, x, {1, 0}, "t");
  net.mark_output(transpose(net, t, {1, 0}, "u"));
  net.mark_output(named(net.add_unary(t, UnaryOperation::kABS), "also_reads_t"));
  // Dynamic batch: merging the reshapes would need concrete dims.
  Tensor* z = net.add_input("z", DataType::kFLOAT, {-1, 12});
  Tensor* r = reshape(net, z, Dims{0, 3, 4}, "r");
  net.mark_output(reshape(net, r, Dims{0, 4, 3}, "w"));
  bool changed = true;
  EXPECT_EQ(after_pass(make_merge_shuffles(), net, &changed), net.to_string());
  EXPECT_FALSE(changed);
}

}  // namespace
}  // namespace lktest
