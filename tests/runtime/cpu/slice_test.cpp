// CPU kernel of Slice (every sample mode, tensor parameters, dynamic shapes) against ATen.
#include "test_util.h"

namespace lktest {
namespace {

const std::vector<DataType> kTypes = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                      DataType::kINT32, DataType::kINT64, DataType::kINT8,
                                      DataType::kBOOL};

std::string name_of(DataType t) {
  return std::string(data_type_name(t));
}

// Dims that may hold negative entries (starts and strides), which the list constructor rejects.
Dims raw_dims(std::vector<int64_t> v) {
  Dims d = Dims::of_rank(static_cast<int>(v.size()));
  for (size_t i = 0; i < v.size(); ++i) d[static_cast<int>(i)] = v[i];
  return d;
}

at::Tensor slice_net(const at::Tensor& xv, const Dims& start, const Dims& size, const Dims& stride,
                     SampleMode mode, const at::Tensor& fill = {}) {
  Network net;
  DataType t = from_aten(xv.scalar_type());
  Tensor* x = net.add_input("x", t, dims_of(xv));
  SliceInputs in;
  if (fill.defined()) in.fill_value = constant(net, fill);
  net.mark_output(net.add_slice(x, start, size, stride, mode, in)->output(0));
  return run1(net, {xv});
}

TEST(SliceKernel, StridedStrictSliceMatchesTensorSlice) {
  for (DataType t : kTypes) {
    at::Tensor xv = random(t, {5, 6, 7}, 1);
    at::Tensor got = slice_net(xv, {1, 0, 2}, {2, 3, 2}, {2, 2, 3}, SampleMode::kSTRICT_BOUNDS);
    at::Tensor expected = xv.slice(0, 1, 5, 2).slice(1, 0, 6, 2).slice(2, 2, 7, 3);
    expect_close(got, expected.contiguous(), 1.0, name_of(t));
  }
}

TEST(SliceKernel, NegativeStrideMatchesFlip) {
  for (DataType t : kTypes) {
    at::Tensor xv = random(t, {4, 6}, 2);
    // Axis 1 read backwards from its last element; axis 0 backwards by 2 from index 3.
    at::Tensor got = slice_net(xv, {3, 5}, {2, 6}, raw_dims({-2, -1}), SampleMode::kSTRICT_BOUNDS);
    at::Tensor expected = at::flip(xv, {0, 1}).slice(0, 0, 4, 2);
    expect_close(got, expected.contiguous(), 1.0, name_of(t));
  }
}

TEST(SliceKernel, FillModeMatchesConstantPad) {
  for (DataType t : kTypes) {
    at::Tensor xv = random(t, {3, 4}, 3);
    at::Tensor got = slice_net(xv, raw_dims({-1, -2}), {6, 7}, {1, 1}, SampleMode::kFILL);
    expect_close(got, at::constant_pad_nd(xv, {2, 1, 1, 2}, 0), 1.0, name_of(t));
  }
}

TEST(SliceKernel, FillValueInput) {
  for (DataType t : {DataType::kFLOAT, DataType::kINT32, DataType::kBF16}) {
    at::Tensor xv = random(t, {2, 3}, 4);
    at::Tensor fill = at::full({}, 5, to_aten(t));
    at::Tensor got = slice_net(xv, raw_dims({0, -3}), {2, 9}, {1, 1}, SampleMode::kFILL, fill);
    expect_close(got, at::constant_pad_nd(xv, {3, 3}, 5), 1.0, name_of(t));
  }
}

// reflection/replication pads are ATen's references for kREFLECT/kCLAMP; integer and bool inputs
// go through double (exact for these values) since ATen lacks integer versions of those pads.
at::Tensor pad1d(const at::Tensor& x, int64_t l, int64_t r, bool reflect) {
  at::Tensor f = x.to(at::kDouble).unsqueeze(0);
  at::Tensor p = reflect ? at::reflection_pad1d(f, {l, r}) : at::replication_pad1d(f, {l, r});
  return p.squeeze(0).to(x.scalar_type());
}

TEST(SliceKernel, ReflectMatchesReflectionPad) {
  for (DataType t : kTypes) {
    at::Tensor xv = random(t, {3, 5}, 5);
    at::Tensor got = slice_net(xv, raw_dims({0, -3}), {3, 10}, {1, 1}, SampleMode::kREFLECT);
    expect_close(got, pad1d(xv, 3, 2, true), 1.0, name_of(t));
  }
}

TEST(SliceKernel, ReflectMatchesReflectionPad2dForFloat) {
  at::Tensor xv = random(DataType::kFLOAT, {2, 4, 5}, 6);
  at::Tensor got = slice_net(xv, raw_dims({0, -2, -1}), {2, 7, 9}, {1, 1, 1}, SampleMode::kREFLECT);
  // reflection_pad2d pads (W left, W right, H top, H bottom).
  expect_close(got, at::reflection_pad2d(xv, {1, 3, 2, 1}));
}

TEST(SliceKernel, ReflectBeyondOnePeriodFollowsModularRule) {
  at::Tensor xv = random(DataType::kFLOAT, {4}, 7);
  at::Tensor got = slice_net(xv, raw_dims({-7}), {20}, {1}, SampleMode::kREFLECT);
  // Period 2*(4-1) = 6: position p reads m = p mod 6, mirrored to 6 - m when m >= 4.
  at::Tensor m = at::remainder(at::arange(-7, 13, at::kLong), 6);
  at::Tensor idx = at::where(m < 4, m, 6 - m);
  expect_close(got, xv.index_select(0, idx));
}

TEST(SliceKernel, ClampMatchesReplicationPad) {
  for (DataType t : kTypes) {
    at::Tensor xv = random(t, {2, 4}, 8);
    at::Tensor got = slice_net(xv, raw_dims({0, -3}), {2, 9}, {1, 1}, SampleMode::kCLAMP);
    expect_close(got, pad1d(xv, 3, 2, false), 1.0, name_of(t));
  }
}

TEST(SliceKernel, WrapMatchesCircularConcat) {
  for (DataType t : kTypes) {
    at::Tensor xv = random(t, {3, 5}, 9);
    at::Tensor got = slice_net(xv, raw_dims({0, -2}), {3, 9}, {1, 1}, SampleMode::kWRAP);
    at::Tensor expected = at::cat({xv.slice(1, 3, 5), xv, xv.slice(1, 0, 2)}, 1);
    expect_close(got, expected, 1.0, name_of(t));
  }
}

TEST(SliceKernel, WrapWithLargeStrideMatchesModularIndex) {
  at::Tensor xv = random(DataType::kINT64, {4}, 10, -100, 100);
  at::Tensor got = slice_net(xv, raw_dims({-5}), {7}, {3}, SampleMode::kWRAP);
  at::Tensor idx = at::remainder(at::arange(7, at::kLong) * 3 - 5, 4);
  expect_close(got, xv.index_select(0, idx));
}

TEST(SliceKernel, TensorStartSizeStrideAndAxes) {
  Network net;
  at::Tensor xv = random(DataType::kFLOAT, {4, 5, 6}, 11);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4, 5, 6});
  SliceInputs in;
  // Only axes 2 and 0 are sliced (listed in that order); axis 1 is taken whole.
  in.axes = constant(net, at::tensor(std::vector<int32_t>{-1, 0}, at::kInt));
  in.start = constant(net, at::tensor(std::vector<int64_t>{1, 3}, at::kLong));
  in.size = constant(net, at::tensor(std::vector<int64_t>{2, 2}, at::kLong));
  in.stride = constant(net, at::tensor(std::vector<int32_t>{3, -2}, at::kInt));
  Layer* l = net.add_slice(x, {}, {}, {}, SampleMode::kSTRICT_BOUNDS, in);
  EXPECT_EQ(l->output(0)->dims(), (Dims{2, 5, 2}));
  net.mark_output(l->output(0));
  at::Tensor expected = at::flip(xv, {0}).slice(0, 0, 4, 2).slice(2, 1, 6, 3);
  expect_close(run1(net, {xv}), expected.contiguous());
}

TEST(SliceKernel, KnownValuesOfShapeSlice) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3, 8});
  Tensor* s = net.add_shape(x)->output(0);
  const KnownValues& k = net.add_slice(s, {1}, {2}, {1})->output(0)->known_values();
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(*k[0], 3);
  EXPECT_EQ(*k[1], 8);
}

TEST(SliceKernel, StartFromDataFailsAtRunTimeOutOfBounds) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4});
  Tensor* start = net.add_input("start", DataType::kINT64, {1});
  SliceInputs in;
  in.start = start;
  net.mark_output(net.add_slice(x, {}, {2}, {1}, SampleMode::kSTRICT_BOUNDS, in)->output(0));
  Runner r(net);
  at::Tensor xv = random(DataType::kFLOAT, {4}, 12);
  expect_close(r.run({xv, at::tensor(std::vector<int64_t>{2}, at::kLong)})[0], xv.slice(0, 2, 4));
  expect_error(
      [&] {
        r.run({xv, at::tensor(std::vector<int64_t>{3}, at::kLong)});
      },
      {"Slice", "index 4", "size 4"}, ErrorCode::kRUNTIME);
}

// The size tensor comes from the input's own shape: x[:, 2:2+4] for any batch.
TEST(SliceKernel, DynamicSizeFromShapeTensor) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 8});
  Tensor* shape = net.add_shape(x)->output(0);
  Tensor* batch = net.add_slice(shape, {0}, {1}, {1})->output(0);
  Tensor* four = constant(net, at::tensor(std::vector<int64_t>{4}, at::kLong));
  std::vector<Tensor*> parts{batch, four};
  SliceInputs in;
  in.size = net.add_concatenation(parts, 0)->output(0);
  Layer* l = net.add_slice(x, {0, 2}, {}, {1, 1}, SampleMode::kSTRICT_BOUNDS, in);
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 4}));
  net.mark_output(l->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 8}, {4, 8}, {9, 8});
  config.profiles.push_back(p);
  Runner r(net, config);
  for (int64_t n : {1, 4, 9}) {
    at::Tensor xv = random(DataType::kFLOAT, {n, 8}, 13);
    expect_close(r.run({xv})[0], xv.slice(1, 2, 6).contiguous(), 1.0, std::to_string(n));
  }
}

TEST(SliceKernel, DynamicInputWithWrap) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kINT32, {-1});
  net.mark_output(net.add_slice(x, raw_dims({-1}), {6}, {1}, SampleMode::kWRAP)->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1}, {3}, {10});
  config.profiles.push_back(p);
  Runner r(net, config);
  for (int64_t n : {1, 3, 10}) {
    at::Tensor xv = random(DataType::kINT32, {n}, 14, -100, 100);
    at::Tensor idx = at::remainder(at::arange(6, at::kLong) - 1, n);
    expect_close(r.run({xv})[0], xv.index_select(0, idx), 1.0, std::to_string(n));
  }
}

}  // namespace
}  // namespace lktest
