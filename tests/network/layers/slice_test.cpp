// Add-time validation and text form of Slice.
#include "test_util.h"

namespace lktest {
namespace {

Dims raw_dims(std::vector<int64_t> v) {
  Dims d = Dims::of_rank(static_cast<int>(v.size()));
  for (size_t i = 0; i < v.size(); ++i) d[static_cast<int>(i)] = v[i];
  return d;
}

TEST(SliceLayer, RejectsWrongParameterRanks) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4, 5});
  expect_error_unchanged(net,
                         [&] {
                           net.add_slice(x, {0}, {2, 2}, {1, 1});
                         },
                         {"Slice layer", "start [0] has 1 entries; expected 2", "float32[4,5]"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_slice(x, {0, 0}, {2, 2}, {1});
                         },
                         {"stride [1] has 1 entries; expected 2"});
}

TEST(SliceLayer, RejectsZeroStrideAndOutOfBoundsStrictSlices) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4, 5});
  expect_error_unchanged(net,
                         [&] {
                           net.add_slice(x, {0, 0}, {2, 2}, {1, 0});
                         },
                         {"stride of axis 1 is 0"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_slice(x, {0, 3}, {2, 2}, {1, 2});
                         },
                         {"kSTRICT_BOUNDS", "axis 1 (size 5)", "start 3, size 2, stride 2",
                          "indices 3..5", "outside 0..4"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_slice(x, raw_dims({-1, 0}), {2, 2}, {1, 1});
                         },
                         {"axis 0 (size 4)", "indices -1..0"});
  // The same reads are fine when a mode remaps them.
  EXPECT_EQ(
      net.add_slice(x, raw_dims({-1, 3}), {2, 2}, {1, 2}, SampleMode::kCLAMP)->output(0)->dims(),
      (Dims{2, 2}));
  Tensor* empty = net.add_input("e", DataType::kFLOAT, {0, 2});
  expect_error_unchanged(net,
                         [&] {
                           net.add_slice(empty, {0, 0}, {1, 2}, {1, 1}, SampleMode::kWRAP);
                         },
                         {"kWRAP cannot read 1 elements from axis 0 of size 0"});
  EXPECT_EQ(net.add_slice(empty, {0, 0}, {1, 2}, {1, 1}, SampleMode::kFILL)->output(0)->dims(),
            (Dims{1, 2}));
}

TEST(SliceLayer, RejectsBadTensorInputs) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4, 5});
  SliceInputs in;
  in.start = net.add_input("fs", DataType::kFLOAT, {2});
  expect_error_unchanged(net,
                         [&] {
                           net.add_slice(x, {}, {1, 1}, {1, 1}, SampleMode::kSTRICT_BOUNDS, in);
                         },
                         {"input 1 has type float32", "int32, int64"});
  in.start = net.add_input("s3", DataType::kINT64, {3});
  expect_error_unchanged(net,
                         [&] {
                           net.add_slice(x, {}, {1, 1}, {1, 1}, SampleMode::kSTRICT_BOUNDS, in);
                         },
                         {"start (input 1) must be 1-D with 2 entries", "[3]"});
  in = {};
  in.fill_value = constant(net, at::zeros({}, at::kFloat));
  expect_error_unchanged(net,
                         [&] {
                           net.add_slice(x, {0, 0}, {1, 1}, {1, 1}, SampleMode::kWRAP, in);
                         },
                         {"fill value (input 4) needs mode kFILL, not kWRAP"});
  in.fill_value = constant(net, at::zeros({1}, at::kFloat));
  expect_error_unchanged(net,
                         [&] {
                           net.add_slice(x, {0, 0}, {1, 1}, {1, 1}, SampleMode::kFILL, in);
                         },
                         {"must be 0-D", "[1]"});
  in.fill_value = constant(net, at::zeros({}, at::kInt));
  expect_error_unchanged(net,
                         [&] {
                           net.add_slice(x, {0, 0}, {1, 1}, {1, 1}, SampleMode::kFILL, in);
                         },
                         {"fill value (input 4) has type int32 but the data has float32"});
  in = {};
  in.axes = constant(net, at::tensor(std::vector<int32_t>{1, 1}, at::kInt));
  expect_error_unchanged(net,
                         [&] {
                           net.add_slice(x, {0, 0}, {1, 1}, {1, 1}, SampleMode::kSTRICT_BOUNDS, in);
                         },
                         {"axes entry 1 repeats axis 1"});
  in.axes = constant(net, at::tensor(std::vector<int32_t>{2}, at::kInt));
  expect_error_unchanged(net,
                         [&] { net.add_slice(x, {0}, {1}, {1}, SampleMode::kSTRICT_BOUNDS, in); },
                         {"axes entry 2 is out of range for rank 2"});
  in.axes = net.add_input("ax", DataType::kINT32, {1});
  expect_error_unchanged(net,
                         [&] { net.add_slice(x, {0}, {1}, {1}, SampleMode::kSTRICT_BOUNDS, in); },
                         {"axes (input 5) must be known"});
}

TEST(SliceLayer, UnknownSizeTensorGivesDynamicDims) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kINT8, {4, 5});
  SliceInputs in;
  in.size = net.add_input("sz", DataType::kINT32, {2});
  EXPECT_EQ(net.add_slice(x, {0, 0}, {}, {1, 1}, SampleMode::kCLAMP, in)->output(0)->dims(),
            (Dims{-1, -1}));
}

TEST(SliceLayer, TextForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kINT4, {4, 6});
  net.add_slice(x, raw_dims({-1, 0}), {3, 2}, raw_dims({1, -2}), SampleMode::kREFLECT)
      ->set_name("sl");
  EXPECT_NE(net.to_string().find("sl: Slice[start=[-1,0] size=[3,2] stride=[1,-2] mode=kREFLECT] "
                                 "(x:int4[4,6]) -> (Slice_1_out0:int4[3,2])"),
            std::string::npos)
      << net.to_string();
}

}  // namespace
}  // namespace lktest
