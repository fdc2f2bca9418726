// CPU reference kernels of Resize and GridSample against ATen's upsample and grid_sampler.
#include "test_util.h"

namespace lktest {
namespace {

using CT = ResizeCoordinateTransformation;

// References run in float on the same-typed inputs and round to the type at the end.
at::Tensor f32(const at::Tensor& t) {
  return t.to(at::kFloat);
}

at::Tensor run_resize(const at::Tensor& x, const ResizeAttrs& a) {
  Network net;
  Tensor* in = net.add_input("x", from_aten(x.scalar_type()), dims_of(x));
  net.mark_output(net.add_resize(in, a)->output(0));
  return run1(net, {x});
}

ResizeAttrs sizes(InterpolationMode m, CT ct, std::vector<int64_t> out) {
  ResizeAttrs a;
  a.resize_mode = m;
  a.coordinate_transformation = ct;
  a.output_dims = Dims(std::span<const int64_t>(out));
  return a;
}
ResizeAttrs scales(InterpolationMode m, CT ct, std::vector<float> s) {
  ResizeAttrs a;
  a.resize_mode = m;
  a.coordinate_transformation = ct;
  a.scales.assign(s.begin(), s.end());
  return a;
}

// The shapes below avoid out == in and out == 2 * in, where the nearest index does not depend on
// the coordinate formula, so the comparison exercises the TensorRT formulas.
TEST(ResizeKernel, NearestAsymmetricFloorMatchesUpsampleNearest) {
  for (DataType t : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32}) {
    SCOPED_TRACE(data_type_name(t));
    at::Tensor x = random(t, {1, 2, 5, 7}, 1, -50, 50);
    auto at_nearest = [&](std::vector<int64_t> o, c10::optional<double> sh,
                          c10::optional<double> sw) {
      return at::upsample_nearest2d(f32(x), o, sh, sw).to(x.scalar_type());
    };
    expect_close(run_resize(x, sizes(InterpolationMode::kNEAREST, CT::kASYMMETRIC, {1, 2, 8, 3})),
                 at_nearest({8, 3}, {}, {}), 1.0, "sizes");
    // Scales: output = floor(in * scale), coordinates use 1 / scale.
    expect_close(
        run_resize(x, scales(InterpolationMode::kNEAREST, CT::kASYMMETRIC, {1, 1, 1.7f, 0.6f})),
        at_nearest({8, 4}, double(1.7f), double(0.6f)), 1.0, "scales");
  }
  at::Tensor x1 = random(DataType::kFLOAT, {2, 3, 7}, 2);
  expect_close(run_resize(x1, sizes(InterpolationMode::kNEAREST, CT::kASYMMETRIC, {2, 3, 11})),
               at::upsample_nearest1d(x1, {11}, c10::optional<double>()), 1.0, "1d");
  at::Tensor x3 = random(DataType::kFLOAT, {1, 1, 3, 4, 5}, 3);
  expect_close(run_resize(x3, sizes(InterpolationMode::kNEAREST, CT::kASYMMETRIC, {1, 1, 5, 3, 7})),
               at::upsample_nearest3d(x3, {5, 3, 7}, {}, {}, {}), 1.0, "3d");
}

TEST(ResizeKernel, NearestHalfPixelHalfUpMatchesNearestExact) {
  // ATen's nearest-exact picks floor((dst + 0.5) * in / out) = round-half-up of the half-pixel
  // coordinate: kHALF_PIXEL with kHALF_UP.
  for (DataType t : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT8}) {
    SCOPED_TRACE(data_type_name(t));
    at::Tensor x = random(t, {2, 1, 6, 5}, 4, -100, 100);
    ResizeAttrs a = sizes(InterpolationMode::kNEAREST, CT::kHALF_PIXEL, {2, 1, 9, 3});
    a.nearest_rounding = ResizeRoundMode::kHALF_UP;
    expect_close(run_resize(x, a),
                 at::_upsample_nearest_exact2d(f32(x), {9, 3}, {}, {}).to(x.scalar_type()), 1.0,
                 "sizes");
    ResizeAttrs s = scales(InterpolationMode::kNEAREST, CT::kHALF_PIXEL, {1, 1, 2.5f, 0.7f});
    s.nearest_rounding = ResizeRoundMode::kHALF_UP;
    expect_close(run_resize(x, s),
                 at::_upsample_nearest_exact2d(f32(x), {15, 3}, double(2.5f), double(0.7f))
                     .to(x.scalar_type()),
                 1.0, "scales");
  }
}

TEST(ResizeKernel, NearestRoundingModesPickTheDocumentedPixel) {
  // 1-D [0..3] to 8 with half-pixel: coordinate (o + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, ...
  at::Tensor x = at::arange(4, at::kFloat).reshape({1, 4});
  auto pick = [&](ResizeRoundMode m) {
    ResizeAttrs a = sizes(InterpolationMode::kNEAREST, CT::kHALF_PIXEL, {1, 8});
    a.nearest_rounding = m;
    return run_resize(x, a);
  };
  auto row = [](std::vector<float> v) { return at::tensor(v).reshape({1, 8}); };
  expect_close(pick(ResizeRoundMode::kFLOOR), row({0, 0, 0, 1, 1, 2, 2, 3}));
  expect_close(pick(ResizeRoundMode::kCEIL), row({0, 1, 1, 2, 2, 3, 3, 3}));
  expect_close(pick(ResizeRoundMode::kHALF_UP), row({0, 0, 1, 1, 2, 2, 3, 3}));
  expect_close(pick(ResizeRoundMode::kHALF_DOWN), row({0, 0, 1, 1, 2, 2, 3, 3}));
  // Exact halves separate HALF_UP from HALF_DOWN: asymmetric 2 -> 4 hits 0, 0.5, 1, 1.5.
  at::Tensor x2 = at::arange(2, at::kFloat).reshape({1, 2});
  ResizeAttrs up = sizes(InterpolationMode::kNEAREST, CT::kASYMMETRIC, {1, 4});
  up.nearest_rounding = ResizeRoundMode::kHALF_UP;
  ResizeAttrs down = up;
  down.nearest_rounding = ResizeRoundMode::kHALF_DOWN;
  expect_close(run_resize(x2, up), at::tensor({0.f, 1.f, 1.f, 1.f}).reshape({1, 4}));
  expect_close(run_resize(x2, down), at::tensor({0.f, 0.f, 1.f, 1.f}).reshape({1, 4}));
}

TEST(ResizeKernel, LinearMatchesUpsampleLinear) {
  for (DataType t : kFloatTypes) {
    SCOPED_TRACE(data_type_name(t));
    at::Tensor x = random(t, {2, 3, 5, 4}, 5);
    for (bool align : {false, true}) {
      SCOPED_TRACE(align);
      CT ct = align ? CT::kALIGN_CORNERS : CT::kHALF_PIXEL;
      for (std::vector<int64_t> o : {std::vector<int64_t>{8, 3}, {3, 7}, {1, 3}, {5, 1}}) {
        expect_close(run_resize(x, sizes(InterpolationMode::kLINEAR, ct, {2, 3, o[0], o[1]})),
                     at::upsample_bilinear2d(f32(x), o, align, {}, {}).to(x.scalar_type()), 1.0,
                     "2d");
      }
      expect_close(run_resize(x, scales(InterpolationMode::kLINEAR, ct, {1, 1, 1.5f, 0.8f})),
                   at::upsample_bilinear2d(f32(x), {7, 3}, align, double(1.5f), double(0.8f))
                       .to(x.scalar_type()),
                   1.0, "2d scales");
      at::Tensor x1 = random(t, {1, 2, 6}, 6);
      expect_close(
          run_resize(x1, sizes(InterpolationMode::kLINEAR, ct, {1, 2, 13})),
          at::upsample_linear1d(f32(x1), {13}, align, c10::optional<double>()).to(x.scalar_type()),
          1.0, "1d");
      at::Tensor x3 = random(t, {1, 2, 3, 4, 2}, 7);
      expect_close(
          run_resize(x3, sizes(InterpolationMode::kLINEAR, ct, {1, 2, 5, 3, 3})),
          at::upsample_trilinear3d(f32(x3), {5, 3, 3}, align, {}, {}, {}).to(x.scalar_type()), 1.0,
          "3d");
    }
  }
}

TEST(ResizeKernel, CubicMatchesUpsampleBicubic) {
  for (DataType t : kFloatTypes) {
    SCOPED_TRACE(data_type_name(t));
    at::Tensor x = random(t, {1, 2, 6, 5}, 8);
    for (bool align : {false, true}) {
      SCOPED_TRACE(align);
      CT ct = align ? CT::kALIGN_CORNERS : CT::kHALF_PIXEL;
      for (std::vector<int64_t> o : {std::vector<int64_t>{9, 4}, {4, 11}, {1, 2}}) {
        expect_close(run_resize(x, sizes(InterpolationMode::kCUBIC, ct, {1, 2, o[0], o[1]})),
                     at::upsample_bicubic2d(f32(x), o, align, {}, {}).to(x.scalar_type()), 1.0,
                     "sizes");
      }
      expect_close(run_resize(x, scales(InterpolationMode::kCUBIC, ct, {1, 1, 1.4f, 2.3f})),
                   at::upsample_bicubic2d(f32(x), {8, 11}, align, double(1.4f), double(2.3f))
                       .to(x.scalar_type()),
                   1.0, "scales");
    }
  }
}

TEST(ResizeKernel, CubicExcludeOutsideKeepsConstantsAndInteriorValues) {
  at::Tensor x = random(DataType::kFLOAT, {1, 1, 8, 8}, 9);
  ResizeAttrs a = sizes(InterpolationMode::kCUBIC, CT::kALIGN_CORNERS, {1, 1, 15, 15});
  a.exclude_outside = true;
  at::Tensor got = run_resize(x, a);
  at::Tensor want = at::upsample_bicubic2d(x, {15, 15}, true, {}, {});
  // Outputs 3..11 read only inside taps, where dropping outside taps changes nothing.
  using at::indexing::Slice;
  expect_close(got.index({Slice(), Slice(), Slice(3, 12), Slice(3, 12)}),
               want.index({Slice(), Slice(), Slice(3, 12), Slice(3, 12)}));
  // Near the border the renormalized weights differ from edge clamping.
  EXPECT_FALSE(at::allclose(got, want));
  // Renormalized weights reproduce a constant exactly.
  at::Tensor c = at::full({1, 1, 4, 4}, 3.5f);
  ResizeAttrs h = sizes(InterpolationMode::kCUBIC, CT::kHALF_PIXEL, {1, 1, 7, 9});
  h.exclude_outside = true;
  expect_close(run_resize(c, h), at::full({1, 1, 7, 9}, 3.5f));
}

TEST(ResizeKernel, UpperSelectorPicksTheFirstPixelForSizeOne) {
  at::Tensor x = random(DataType::kFLOAT, {1, 1, 4, 5}, 10);
  ResizeAttrs a = sizes(InterpolationMode::kLINEAR, CT::kHALF_PIXEL, {1, 1, 1, 3});
  a.selector_for_single_pixel = ResizeSelector::kUPPER;
  using at::indexing::Slice;
  at::Tensor row0 = x.index({Slice(), Slice(), Slice(0, 1), Slice()});
  expect_close(run_resize(x, a), at::upsample_bilinear2d(row0, {1, 3}, false, {}, {}));
}

TEST(ResizeKernel, NonSpatialAxisResizes) {
  // Resizing axis 1 of [2, 5, 3] equals 1-D resizing of the transposed tensor.
  at::Tensor x = random(DataType::kFLOAT, {2, 5, 3}, 11);
  at::Tensor want = at::upsample_linear1d(x.transpose(1, 2), {8}, false, c10::optional<double>())
                        .transpose(1, 2)
                        .contiguous();
  expect_close(run_resize(x, sizes(InterpolationMode::kLINEAR, CT::kHALF_PIXEL, {2, 8, 3})), want);
}

TEST(ResizeKernel, AsymmetricLinearByHand) {
  // [0, 1, 2] to 5 with ratio 3/5: coordinates 0, 0.6, 1.2, 1.8, 2.4 (the last reads pixel 2).
  at::Tensor x = at::tensor({0.f, 10.f, 20.f}).reshape({1, 3});
  expect_close(run_resize(x, sizes(InterpolationMode::kLINEAR, CT::kASYMMETRIC, {1, 5})),
               at::tensor({0.f, 6.f, 12.f, 18.f, 20.f}).reshape({1, 5}));
}

TEST(ResizeKernel, ShapeAndScaleInputTensors) {
  at::Tensor x = random(DataType::kFLOAT, {1, 2, 4, 6}, 12);
  {
    Network net;
    Tensor* in = net.add_input("x", DataType::kFLOAT, dims_of(x));
    Tensor* sh = constant(net, at::tensor({1, 2, 7, 3}, at::kLong));
    Layer* l = net.add_resize(in, sizes(InterpolationMode::kLINEAR, CT::kALIGN_CORNERS, {}), sh);
    EXPECT_EQ(l->output(0)->dims(), (Dims{1, 2, 7, 3}));
    net.mark_output(l->output(0));
    expect_close(run1(net, {x}), at::upsample_bilinear2d(x, {7, 3}, true, {}, {}), 1.0, "shape");
  }
  {
    Network net;
    Tensor* in = net.add_input("x", DataType::kFLOAT, dims_of(x));
    Tensor* sc = constant(net, at::tensor({1.f, 1.f, 2.5f, 0.5f}));
    ResizeAttrs a;
    a.resize_mode = InterpolationMode::kLINEAR;
    a.coordinate_transformation = CT::kHALF_PIXEL;
    Layer* l = net.add_resize(in, a, sc);
    EXPECT_EQ(l->output(0)->dims(), (Dims{1, 2, 10, 3}));
    net.mark_output(l->output(0));
    expect_close(run1(net, {x}), at::upsample_bilinear2d(x, {10, 3}, false, 2.5, 0.5), 1.0,
                 "scales");
  }
}

TEST(ResizeKernel, DynamicShapesWithScalesAtMinOptMax) {
  Network net;
  Tensor* in = net.add_input("x", DataType::kFLOAT, {-1, 3, -1, -1});
  Layer* l =
      net.add_resize(in, scales(InterpolationMode::kLINEAR, CT::kHALF_PIXEL, {1, 1, 2.5f, 0.75f}));
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 3, -1, -1}));
  net.mark_output(l->output(0));
  BuilderConfig config;
  config.profiles.emplace_back();
  config.profiles[0].set_dimensions("x", {1, 3, 1, 2}, {2, 3, 4, 5}, {3, 3, 7, 9});
  Runner runner(net, config);
  int seed = 13;
  for (std::vector<int64_t> s : {std::vector<int64_t>{1, 3, 1, 2}, {2, 3, 4, 5}, {3, 3, 7, 9}}) {
    at::Tensor x = random(DataType::kFLOAT, s, seed++);
    std::vector<int64_t> o{static_cast<int64_t>(s[2] * 2.5), static_cast<int64_t>(s[3] * 0.75)};
    expect_close(runner.run({x}).at(0), at::upsample_bilinear2d(x, o, false, 2.5, 0.75));
  }
}

TEST(ResizeKernel, DynamicShapesWithShapeInputAtMinOptMax) {
  Network net;
  Tensor* in = net.add_input("x", DataType::kHALF, {-1, 2, -1, -1});
  Tensor* sh = net.add_input("size", DataType::kINT64, {4});
  Layer* l = net.add_resize(in, sizes(InterpolationMode::kNEAREST, CT::kASYMMETRIC, {}), sh);
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, -1, -1, -1}));
  net.mark_output(l->output(0));
  BuilderConfig config;
  config.profiles.emplace_back();
  config.profiles[0].set_dimensions("x", {1, 2, 2, 2}, {2, 2, 5, 3}, {3, 2, 9, 8});
  Runner runner(net, config);
  int seed = 14;
  for (std::vector<int64_t> s : {std::vector<int64_t>{1, 2, 2, 2}, {2, 2, 5, 3}, {3, 2, 9, 8}}) {
    at::Tensor x = random(DataType::kHALF, s, seed++);
    std::vector<int64_t> o{s[2] + 3, s[3] * 3 - 1};
    at::Tensor size = at::tensor({s[0], s[1], o[0], o[1]}, at::kLong);
    expect_close(runner.run({x, size}).at(0),
                 at::upsample_nearest2d(f32(x), o, {}, {}).to(at::kHalf));
  }
}

at::Tensor run_grid(const at::Tensor& x, const at::Tensor& grid, const GridSampleAttrs& a) {
  Network net;
  Tensor* in = net.add_input("x", from_aten(x.scalar_type()), dims_of(x));
  Tensor* g = net.add_input("grid", from_aten(grid.scalar_type()), dims_of(grid));
  net.mark_output(net.add_grid_sample(in, g, a)->output(0));
  return run1(net, {x, grid});
}

// ATen's grid_sampler_2d codes: interpolation 0 bilinear, 1 nearest, 2 bicubic; padding 0
// zeros, 1 border, 2 reflection.
TEST(GridSampleKernel, MatchesAtenForEveryMode) {
  const std::pair<InterpolationMode, int64_t> interps[] = {{InterpolationMode::kLINEAR, 0},
                                                           {InterpolationMode::kNEAREST, 1},
                                                           {InterpolationMode::kCUBIC, 2}};
  const std::pair<SampleMode, int64_t> pads[] = {
      {SampleMode::kFILL, 0}, {SampleMode::kCLAMP, 1}, {SampleMode::kREFLECT, 2}};
  for (DataType t : kFloatTypes) {
    SCOPED_TRACE(data_type_name(t));
    at::Tensor x = random(t, {2, 3, 5, 6}, 20);
    // Some sampling points fall outside [-1, 1] to exercise the padding modes.
    at::Tensor grid = random(t, {2, 4, 7, 2}, 21, -1.3, 1.3);
    for (auto [im, ai] : interps) {
      for (auto [sm, ap] : pads) {
        for (bool align : {false, true}) {
          SCOPED_TRACE(testing::Message()
                       << enum_name(im) << " " << enum_name(sm) << " align " << align);
          GridSampleAttrs a{im, align, sm};
          at::Tensor want =
              at::grid_sampler_2d(f32(x), f32(grid), ai, ap, align).to(x.scalar_type());
          expect_close(run_grid(x, grid, a), want);
        }
      }
    }
  }
}

TEST(GridSampleKernel, DynamicShapesAtMinOptMax) {
  Network net;
  Tensor* in = net.add_input("x", DataType::kFLOAT, {-1, 2, -1, -1});
  Tensor* g = net.add_input("grid", DataType::kFLOAT, {-1, -1, -1, 2});
  Layer* l = net.add_grid_sample(in, g, {InterpolationMode::kLINEAR, false, SampleMode::kCLAMP});
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 2, -1, -1}));
  net.mark_output(l->output(0));
  BuilderConfig config;
  config.profiles.emplace_back();
  config.profiles[0].set_dimensions("x", {1, 2, 1, 1}, {2, 2, 4, 5}, {3, 2, 8, 9});
  config.profiles[0].set_dimensions("grid", {1, 1, 1, 2}, {2, 3, 3, 2}, {3, 6, 5, 2});
  Runner runner(net, config);
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> shapes = {
      {{1, 2, 1, 1}, {1, 1, 1, 2}}, {{2, 2, 4, 5}, {2, 3, 3, 2}}, {{3, 2, 8, 9}, {3, 6, 5, 2}}};
  int seed = 22;
  for (const auto& [xs, gs] : shapes) {
    at::Tensor x = random(DataType::kFLOAT, xs, seed++);
    at::Tensor grid = random(DataType::kFLOAT, gs, seed++, -1.2, 1.2);
    expect_close(runner.run({x, grid}).at(0), at::grid_sampler_2d(x, grid, 0, 1, false));
  }
}

}  // namespace
}  // namespace lktest
