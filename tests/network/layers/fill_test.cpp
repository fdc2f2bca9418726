// Add-time validation and text form of Fill.
#include "test_util.h"

namespace lktest {
namespace {

FillAttrs linspace(Dims dims, double alpha, std::vector<double> beta,
                   DataType t = DataType::kFLOAT) {
  FillAttrs a;
  a.dims = dims;
  a.alpha = alpha;
  a.beta = std::move(beta);
  a.output_type = t;
  return a;
}

TEST(FillLayer, RejectsUnsupportedOutputTypes) {
  Network net;
  expect_error_unchanged(net, [&] { net.add_fill(linspace({3}, 0, {1}, DataType::kINT8)); },
                         {"Fill layer", "output_type int8 is not supported by kLINSPACE"});
  FillAttrs r = linspace({3}, 0, {1}, DataType::kINT32);
  r.op = FillOperation::kRANDOM_UNIFORM;
  expect_error_unchanged(net, [&] { net.add_fill(r); },
                         {"output_type int32 is not supported by kRANDOM_UNIFORM"});
}

TEST(FillLayer, RejectsBadBetaAndAlpha) {
  Network net;
  expect_error_unchanged(net,
                         [&] {
                           net.add_fill(linspace({2, 3}, 0, {1}));
                         },
                         {"beta=[1] has 1 entries", "one delta per output axis (2)"});
  expect_error_unchanged(net, [&] { net.add_fill(linspace({3}, 0.5, {1}, DataType::kINT32)); },
                         {"alpha 0.5 is not an integer", "int32"});
  expect_error_unchanged(net, [&] { net.add_fill(linspace({3}, 0, {1.5}, DataType::kINT64)); },
                         {"non-integer delta"});
  FillAttrs u = linspace({3}, 2, {1});
  u.op = FillOperation::kRANDOM_UNIFORM;
  expect_error_unchanged(net, [&] { net.add_fill(u); }, {"uniform range [2, 1) is empty"});
  u.beta = {1, 2};
  expect_error_unchanged(net, [&] { net.add_fill(u); },
                         {"beta=[1,2] has 2 entries", "takes exactly one (the upper bound)"});
  FillAttrs n = linspace({3}, 0, {-1});
  n.op = FillOperation::kRANDOM_NORMAL;
  expect_error_unchanged(net, [&] { net.add_fill(n); }, {"standard deviation -1 is negative"});
}

TEST(FillLayer, RejectsBadDimsAndTensorInputs) {
  Network net;
  expect_error_unchanged(net,
                         [&] {
                           net.add_fill(linspace({-1, 2}, 0, {1, 1}));
                         },
                         {"dims [-1,2] must be static"});
  FillInputs in;
  in.shape = net.add_input("s32", DataType::kINT32, {2});
  expect_error_unchanged(net,
                         [&] {
                           net.add_fill(linspace({}, 0, {1, 1}), in);
                         },
                         {"input 0 has type int32", "expected one of int64"});
  in.shape = net.add_input("s2", DataType::kINT64, {2, 1});
  expect_error_unchanged(net,
                         [&] {
                           net.add_fill(linspace({}, 0, {1, 1}), in);
                         },
                         {"shape (input 0) must be 1-D", "[2,1]"});
  in = {};
  in.alpha = constant(net, at::zeros({1}, at::kFloat));
  expect_error_unchanged(net, [&] { net.add_fill(linspace({3}, 0, {1}), in); },
                         {"alpha (input 1) must be 0-D", "[1]"});
  in.alpha = constant(net, at::zeros({}, at::kHalf));
  expect_error_unchanged(net, [&] { net.add_fill(linspace({3}, 0, {1}), in); },
                         {"alpha (input 1) has type float16", "output type float32"});
  in = {};
  in.beta = constant(net, at::zeros({3}, at::kFloat));
  expect_error_unchanged(net,
                         [&] {
                           net.add_fill(linspace({3, 2}, 0, {}), in);
                         },
                         {"beta (input 2) must be 1-D with 2 entries", "[3]"});
}

TEST(FillLayer, UnknownShapeTensorGivesDynamicDims) {
  Network net;
  FillInputs in;
  in.shape = net.add_input("s", DataType::kINT64, {3});
  EXPECT_EQ(net.add_fill(linspace({}, 0, {1, 1, 1}), in)->output(0)->dims(), (Dims{-1, -1, -1}));
}

TEST(FillLayer, TextForm) {
  Network net;
  FillAttrs a = linspace({2, 3}, 0.5, {1, -2}, DataType::kHALF);
  a.seed = 17;
  net.add_fill(a)->set_name("f");
  EXPECT_EQ(net.to_string(),
            "f: Fill[op=kLINSPACE dims=[2,3] alpha=0.5 beta=[1,-2] output_type=float16 seed=17] () "
            "-> (Fill_0_out0:float16[2,3])\noutputs:\n");
}

}  // namespace
}  // namespace lktest
