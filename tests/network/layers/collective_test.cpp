// Inference errors, output shapes and text form of Collective layers.
#include "test_util.h"

namespace lktest {
namespace {

TEST(CollectiveLayer, InvalidCallsFailNamingTheValues) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {6, 4});
  Tensor* xi8 = net.add_input("xi8", DataType::kINT8, {6, 4});
  Tensor* s = net.add_input("s", DataType::kFLOAT, {});
  using CO = CollectiveOperation;
  using RO = ReduceOperation;
  expect_error_unchanged(
      net,
      [&] {
        net.add_collective(xi8, {CO::kALL_REDUCE, RO::kSUM, 0, 2, 0});
      },
      {"Collective layer", "input 0 has type int8", "float32, float16, bfloat16, int32, int64"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_collective(x, {CO::kALL_REDUCE, RO::kSUM, 0, 0, 0});
                         },
                         {"world_size 0 must be at least 1"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_collective(x, {CO::kALL_REDUCE, RO::kSUM, 2, 2, 0});
                         },
                         {"rank 2 is outside [0, 2)"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_collective(x, {CO::kALL_REDUCE, RO::kSUM, -1, 2, 0});
                         },
                         {"rank -1 is outside [0, 2)"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_collective(x, {CO::kALL_GATHER, RO::kSUM, 0, 2, 2});
                         },
                         {"axis 2 is out of range for rank 2"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_collective(x, {CO::kREDUCE_SCATTER, RO::kSUM, 0, 4, 0});
                         },
                         {"dim 0 (size 6) is not divisible by world_size 4"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_collective(s, {CO::kALL_GATHER, RO::kSUM, 0, 2, 0});
                         },
                         {"kALL_GATHER needs an input of rank >= 1"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_collective(x, {static_cast<CO>(7), RO::kSUM, 0, 2, 0});
                         },
                         {"op 7 is not a CollectiveOperation"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_collective(x, {CO::kALL_REDUCE, static_cast<RO>(9), 0, 2, 0});
                         },
                         {"reduce_op 9 is not a ReduceOperation"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_layer(CollectiveAttrs{}, {x, x});
                         },
                         {"takes 1 input, got 2"});
}

TEST(CollectiveLayer, OutputShapesAndTextForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kHALF, {-1, 8});
  using CO = CollectiveOperation;
  using RO = ReduceOperation;
  Layer* g = net.add_collective(x, {CO::kALL_GATHER, RO::kSUM, 1, 4, 1});
  EXPECT_EQ(g->output(0)->dims(), Dims({-1, 32}));
  Layer* g0 = net.add_collective(x, {CO::kALL_GATHER, RO::kSUM, 1, 4, 0});
  EXPECT_EQ(g0->output(0)->dims(), Dims({-1, 8}));
  Layer* rs = net.add_collective(x, {CO::kREDUCE_SCATTER, RO::kMAX, 3, 4, -1});
  EXPECT_EQ(rs->output(0)->dims(), Dims({-1, 2}));
  Layer* ar = net.add_collective(x, {CO::kALL_REDUCE, RO::kAVG, 0, 2, 0});
  EXPECT_EQ(ar->output(0)->dims(), Dims({-1, 8}));
  EXPECT_EQ(ar->output(0)->type(), DataType::kHALF);
  rs->set_name("rs");
  EXPECT_NE(net.to_string().find("\nrs: Collective[op=kREDUCE_SCATTER reduce_op=kMAX rank=3 "
                                 "world_size=4 axis=-1] (x:float16[-1,8]) -> "
                                 "(Collective_3_out0:float16[-1,2])\n"),
            std::string::npos)
      << net.to_string();
}

}  // namespace
}  // namespace lktest
