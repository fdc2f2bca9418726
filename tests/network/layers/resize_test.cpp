// Add-time validation, shape inference and text form of the Resize and GridSample layers.
#include "test_util.h"

namespace lktest {
namespace {

ResizeAttrs with_scales(std::vector<float> s) {
  ResizeAttrs a;
  a.scales.assign(s.begin(), s.end());
  return a;
}

TEST(ResizeLayer, InfersOutputDims) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3, 5, 7});
  EXPECT_EQ(net.add_resize(x, with_scales({1, 1, 1.5f, 0.5f}))->output(0)->dims(),
            (Dims{-1, 3, 7, 3}));
  ResizeAttrs a;
  a.output_dims = Dims{2, 3, 10, 1};
  EXPECT_EQ(net.add_resize(x, a)->output(0)->dims(), (Dims{2, 3, 10, 1}));
  // A known shape tensor gives the output dims; output_dims is then ignored.
  Tensor* sh = constant(net, at::tensor({4, 3, 2, 9}, at::kLong));
  EXPECT_EQ(net.add_resize(x, a, sh)->output(0)->dims(), (Dims{4, 3, 2, 9}));
}

TEST(ResizeLayer, RejectsScaleCountAndValues) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 3, 5, 7});
  expect_error_unchanged(net,
                         [&] {
                           net.add_resize(x, with_scales({2.0f, 2.0f}));
                         },
                         {"Resize layer", "got 2 scales but the data has rank 4"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_resize(x, with_scales({1, 1, 0.0f, 2}));
                         },
                         {"scale 2 is 0", "> 0"});
  expect_error_unchanged(net, [&] { net.add_resize(x, ResizeAttrs{}); }, {"no output size"});
  ResizeAttrs a;
  a.output_dims = Dims{1, 3, 5};
  expect_error_unchanged(net, [&] { net.add_resize(x, a); },
                         {"output_dims [1,3,5] has rank 3", "data has rank 4"});
  a.output_dims = Dims{1, 3, -1, 5};
  expect_error_unchanged(net, [&] { net.add_resize(x, a); },
                         {"output_dims [1,3,-1,5] has a negative size at axis 2"});
}

TEST(ResizeLayer, RejectsBadSecondInput) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 3, 5, 7});
  Tensor* short_shape = constant(net, at::tensor({1, 3, 5}, at::kLong));
  expect_error_unchanged(net, [&] { net.add_resize(x, ResizeAttrs{}, short_shape); },
                         {"input 1 has dims [3]", "one entry per data axis ([4])"});
  Tensor* neg = constant(net, at::tensor({1, 3, -5, 7}, at::kLong));
  expect_error_unchanged(net, [&] { net.add_resize(x, ResizeAttrs{}, neg); },
                         {"output size -5 at axis 2"});
  Tensor* half = net.add_input("h", DataType::kHALF, {4});
  expect_error_unchanged(net, [&] { net.add_resize(x, ResizeAttrs{}, half); },
                         {"input 1 has type float16", "int32/int64 output sizes or float32"});
  Tensor* bad_scales = constant(net, at::tensor({1.f, 1.f, -2.f, 1.f}));
  expect_error_unchanged(net, [&] { net.add_resize(x, ResizeAttrs{}, bad_scales); },
                         {"scale (input 1) 2 is -2"});
}

TEST(ResizeLayer, RejectsTypesAndRanks) {
  Network net;
  Tensor* xi = net.add_input("xi", DataType::kINT32, {1, 2, 3});
  ResizeAttrs lin = with_scales({1, 1, 2});
  lin.resize_mode = InterpolationMode::kLINEAR;
  expect_error_unchanged(net, [&] { net.add_resize(xi, lin); },
                         {"resize_mode kLINEAR needs floating data", "got int32"});
  EXPECT_EQ(net.add_resize(xi, with_scales({1, 1, 2}))->output(0)->dims(), (Dims{1, 2, 6}));
  Tensor* xb = net.add_input("xb", DataType::kBOOL, {1, 2});
  expect_error_unchanged(net,
                         [&] {
                           net.add_resize(xb, with_scales({1, 2}));
                         },
                         {"input 0 has type bool"});
  Tensor* s = net.add_input("s", DataType::kFLOAT, {});
  expect_error_unchanged(net, [&] { net.add_resize(s, with_scales({})); }, {"rank >= 1"});
  Tensor* empty = net.add_input("e", DataType::kFLOAT, {1, 0});
  ResizeAttrs a;
  a.output_dims = Dims{1, 3};
  expect_error_unchanged(net, [&] { net.add_resize(empty, a); },
                         {"axis 1 has input size 0 but output size 3"});
}

TEST(ResizeLayer, TextForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 1, 2, 2});
  ResizeAttrs a = with_scales({1, 1, 2, 1.5f});
  a.resize_mode = InterpolationMode::kCUBIC;
  a.coordinate_transformation = ResizeCoordinateTransformation::kHALF_PIXEL;
  a.exclude_outside = true;
  net.add_resize(x, a)->set_name("rs");
  EXPECT_NE(net.to_string().find(
                "rs: Resize[output_dims=none scales=[1,1,2,1.5] resize_mode=kCUBIC "
                "coordinate_transformation=kHALF_PIXEL selector_for_single_pixel=kFORMULA "
                "nearest_rounding=kFLOOR cubic_coeff=-0.75 exclude_outside=true] "
                "(x:float32[1,1,2,2]) -> ("),
            std::string::npos)
      << net.to_string();
  EXPECT_NE(net.to_string().find(":float32[1,1,4,3])"), std::string::npos) << net.to_string();
}

TEST(GridSampleLayer, InfersOutputDims) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kHALF, {-1, 3, 8, 9});
  Tensor* g = net.add_input("g", DataType::kHALF, {2, 4, 5, 2});
  Layer* l = net.add_grid_sample(x, g);
  EXPECT_EQ(l->output(0)->dims(), (Dims{2, 3, 4, 5}));
  EXPECT_EQ(l->output(0)->type(), DataType::kHALF);
}

TEST(GridSampleLayer, RejectsBadShapesTypesAndModes) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3, 8, 9});
  Tensor* g = net.add_input("g", DataType::kFLOAT, {2, 4, 5, 2});
  Tensor* g3 = net.add_input("g3", DataType::kFLOAT, {3, 4, 5, 2});
  expect_error_unchanged(net, [&] { net.add_grid_sample(x, g3); },
                         {"GridSample layer", "grid's batch 3 differs from the data's 2"});
  Tensor* gxyz = net.add_input("gxyz", DataType::kFLOAT, {2, 4, 5, 3});
  expect_error_unchanged(net, [&] { net.add_grid_sample(x, gxyz); },
                         {"grid's last dim is 3", "expected 2"});
  Tensor* x3 = net.add_input("x3", DataType::kFLOAT, {2, 3, 8});
  expect_error_unchanged(net, [&] { net.add_grid_sample(x3, g); }, {"data must be 4-D", "[2,3,8]"});
  Tensor* g5 = net.add_input("g5", DataType::kFLOAT, {2, 4, 5, 2, 1});
  expect_error_unchanged(net, [&] { net.add_grid_sample(x, g5); }, {"grid must be 4-D"});
  Tensor* gh = net.add_input("gh", DataType::kHALF, {2, 4, 5, 2});
  expect_error_unchanged(net, [&] { net.add_grid_sample(x, gh); },
                         {"grid has type float16", "data has type float32"});
  Tensor* xi = net.add_input("xi", DataType::kINT32, {2, 3, 8, 9});
  expect_error_unchanged(net, [&] { net.add_grid_sample(xi, g); }, {"input 0 has type int32"});
  expect_error_unchanged(net, [&] { net.add_grid_sample(x, nullptr); },
                         {"input 1 (grid) is missing"});
  GridSampleAttrs wrap{InterpolationMode::kLINEAR, false, SampleMode::kWRAP};
  expect_error_unchanged(net, [&] { net.add_grid_sample(x, g, wrap); },
                         {"sample_mode kWRAP is not supported"});
}

TEST(GridSampleLayer, TextForm) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 2, 3, 4});
  Tensor* g = net.add_input("g", DataType::kFLOAT, {1, 5, 6, 2});
  net.add_grid_sample(x, g, {InterpolationMode::kCUBIC, true, SampleMode::kREFLECT})
      ->set_name("gs");
  EXPECT_NE(net.to_string().find("gs: GridSample[interpolation_mode=kCUBIC align_corners=true "
                                 "sample_mode=kREFLECT] (x:float32[1,2,3,4], "
                                 "g:float32[1,5,6,2]) -> ("),
            std::string::npos)
      << net.to_string();
  EXPECT_NE(net.to_string().find(":float32[1,2,5,6])"), std::string::npos) << net.to_string();
}

}  // namespace
}  // namespace lktest
