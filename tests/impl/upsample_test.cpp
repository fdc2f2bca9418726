// Upsample building block against ATen's upsample_* kernels: every mode, size and scale forms,
// align_corners, up- and downsampling, size-keeping scales, dynamic shapes, errors, names.
#include "layerkit/impl/upsample.h"

#include <cmath>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace us = layerkit::impl::upsample;

const Target kTarget("upsample.vec");

using OptD = c10::optional<double>;

// ATen's op for `mode` with explicit output sizes and optional per-dim scales, as F.interpolate
// calls it (output size floor(in * scale) computed here in double).
at::Tensor aten_upsample(const at::Tensor& x, const std::string& mode,
                         const std::vector<int64_t>& out, const std::vector<OptD>& s, bool ac) {
  size_t n = out.size();
  if (mode == "nearest")
    return n == 1   ? at::upsample_nearest1d(x, out, s[0])
           : n == 2 ? at::upsample_nearest2d(x, out, s[0], s[1])
                    : at::upsample_nearest3d(x, out, s[0], s[1], s[2]);
  if (mode == "nearest-exact")
    return n == 1   ? at::_upsample_nearest_exact1d(x, out, s[0])
           : n == 2 ? at::_upsample_nearest_exact2d(x, out, s[0], s[1])
                    : at::_upsample_nearest_exact3d(x, out, s[0], s[1], s[2]);
  if (mode == "linear") return at::upsample_linear1d(x, out, ac, s[0]);
  if (mode == "bilinear") return at::upsample_bilinear2d(x, out, ac, s[0], s[1]);
  if (mode == "bicubic") return at::upsample_bicubic2d(x, out, ac, s[0], s[1]);
  return at::upsample_trilinear3d(x, out, ac, s[0], s[1], s[2]);
}

// fp16/bf16: computed in fp32 and rounded once. ATen 1.13 has no fp16 CPU kernel, and its bf16
// kernels round intermediate values to bf16 (errors of several bf16 ulps), while the layer
// computes in fp32 and rounds on store as Note [Precision policy] asks.
at::Tensor reference(const at::Tensor& x, const std::string& mode, const std::vector<int64_t>& out,
                     const std::vector<OptD>& s, bool ac) {
  if (x.scalar_type() == at::kFloat) return aten_upsample(x, mode, out, s, ac);
  return aten_upsample(x.to(at::kFloat), mode, out, s, ac).to(x.scalar_type());
}

struct ModeCase {
  std::string mode;
  std::vector<int64_t> shape;
};

const std::vector<ModeCase> kModes = {
    {"nearest", {2, 3, 7}},          {"nearest", {2, 3, 5, 7}},
    {"nearest", {1, 2, 3, 5, 4}},    {"nearest-exact", {2, 3, 7}},
    {"nearest-exact", {2, 3, 5, 7}}, {"nearest-exact", {1, 2, 3, 5, 4}},
    {"linear", {2, 3, 7}},           {"bilinear", {2, 3, 5, 7}},
    {"bicubic", {2, 3, 5, 7}},       {"trilinear", {1, 2, 3, 5, 4}},
};

bool interpolating(const std::string& mode) {
  return mode.rfind("nearest", 0) != 0;
}

TEST(ImplUpsample, SizeGivenMatchesAten) {
  uint64_t seed = 100;
  for (DataType t : kFloatTypes) {
    for (const ModeCase& c : kModes) {
      size_t n = c.shape.size() - 2;
      // Upsampling (odd ratios), downsampling and a mix; the same size as the input too.
      std::vector<std::vector<int64_t>> sizes = {std::vector<int64_t>(n, 11),
                                                 std::vector<int64_t>(n, 2)};
      std::vector<int64_t> mixed;
      for (size_t i = 0; i < n; ++i)
        mixed.push_back(i % 2 ? c.shape[i + 2] : 2 * c.shape[i + 2] + 1);
      sizes.push_back(mixed);
      for (const auto& out : sizes) {
        for (int ac = 0; ac < (interpolating(c.mode) ? 2 : 1); ++ac) {
          at::Tensor x = random(t, c.shape, seed++);
          std::optional<bool> align =
              interpolating(c.mode) ? std::optional<bool>(ac == 1) : std::nullopt;
          at::Tensor got =
              run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                return us::upsample(ctx, kTarget, SourceIR::kATEN, "up", in[0], c.mode, out,
                                    std::nullopt, align);
              });
          at::Tensor expected = reference(x, c.mode, out, std::vector<OptD>(n), ac == 1);
          expect_close(got, expected, 1.0,
                       c.mode + " " + std::string(data_type_name(t)) + " " +
                           dims_of(x).to_string() + " -> " + dims_of(expected).to_string() +
                           " ac " + std::to_string(ac));
        }
      }
    }
  }
}

TEST(ImplUpsample, ScaleGivenMatchesAten) {
  // Non-integer scales make 1/scale differ from in/out, so these fail if the block passes sizes.
  // 1.2 on a size-3 axis keeps its size (ATen's linear kernels then copy that axis, nearest
  // ones do not); 2.1 on a size-4 axis doubles it.
  const std::vector<std::vector<double>> scales = {{1.7}, {0.6}, {2.0},  {2.5},
                                                   {1.2}, {2.1}, {0.35}, {3.0}};
  uint64_t seed = 500;
  for (DataType t : kFloatTypes) {
    for (ModeCase c : kModes) {
      size_t n = c.shape.size() - 2;
      const int64_t last = c.shape.back();
      for (auto s : scales) {
        c.shape.back() = s[0] == 2.1 ? 4 : s[0] == 1.2 ? 3 : last;
        for (int ac = 0; ac < (interpolating(c.mode) ? 2 : 1); ++ac) {
          at::Tensor x = random(t, c.shape, seed++);
          std::vector<int64_t> out;
          std::vector<OptD> opt;
          std::vector<double> per_dim;
          for (size_t i = 0; i < n; ++i) {
            double si = s[0] + 0.25 * static_cast<double>(i % 2);  // differ per dim
            per_dim.push_back(si);
            out.push_back(
                static_cast<int64_t>(std::floor(static_cast<double>(c.shape[i + 2]) * si)));
            opt.emplace_back(si);
          }
          if (std::find(out.begin(), out.end(), 0) != out.end()) continue;
          std::optional<bool> align =
              interpolating(c.mode) ? std::optional<bool>(ac == 1) : std::nullopt;
          at::Tensor got =
              run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                return us::upsample(ctx, kTarget, SourceIR::kATEN, "up", in[0], c.mode,
                                    std::nullopt, per_dim, align);
              });
          at::Tensor expected = reference(x, c.mode, out, opt, ac == 1);
          expect_close(got, expected, 1.0,
                       c.mode + " " + std::string(data_type_name(t)) + " " +
                           dims_of(x).to_string() + " scale " + std::to_string(s[0]) + " ac " +
                           std::to_string(ac));
        }
      }
    }
  }
}

// Scales whose float(1 / scale) no float scale reproduces (2.1 on a size-7 axis, 2.3 on size
// 10): the layer takes the double scale, so indices and weights still agree with ATen exactly.
TEST(ImplUpsample, ScalesWithoutAFloatEquivalentMatchAten) {
  uint64_t seed = 900;
  for (ModeCase c : kModes) {
    size_t n = c.shape.size() - 2;
    for (auto [size, scale] : {std::pair<int64_t, double>{7, 2.1}, {10, 2.3}}) {
      for (size_t i = 0; i < n; ++i) c.shape[i + 2] = size;
      at::Tensor x = random(DataType::kFLOAT, c.shape, seed++);
      std::vector<int64_t> out(n,
                               static_cast<int64_t>(std::floor(static_cast<double>(size) * scale)));
      std::vector<OptD> opt(n, scale);
      std::vector<double> per_dim(n, scale);
      std::optional<bool> align = interpolating(c.mode) ? std::optional<bool>(false) : std::nullopt;
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return us::upsample(ctx, kTarget, SourceIR::kATEN, "up", in[0], c.mode, std::nullopt,
                            per_dim, align);
      });
      expect_close(got, reference(x, c.mode, out, opt, false), 1.0,
                   c.mode + " size " + std::to_string(size) + " scale " + std::to_string(scale));
    }
  }
}

TEST(ImplUpsample, SingleScaleAndSizeApplyToEverySpatialDim) {
  at::Tensor x = random(DataType::kFLOAT, {1, 2, 4, 5}, 3);
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return us::upsample(ctx, kTarget, SourceIR::kATEN, "up", in[0], "bilinear", std::nullopt,
                        std::vector<double>{1.5}, false);
  });
  expect_close(got, at::upsample_bilinear2d(x, {6, 7}, false, 1.5, 1.5), 1.0, "scale 1.5");
  got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return us::upsample(ctx, kTarget, SourceIR::kATEN, "up", in[0], "nearest",
                        std::vector<int64_t>{9});
  });
  expect_close(got, at::upsample_nearest2d(x, {9, 9}), 1.0, "size 9");
}

TEST(ImplUpsample, ScaleThatKeepsTheSizeMatchesAten) {
  // Scale 1.2 on 3x3 keeps the size: ATen's linear kernels then copy, its nearest and bicubic
  // ones still sample at 1/scale.
  at::Tensor x = random(DataType::kFLOAT, {1, 2, 3, 3}, 4);
  for (const std::string mode : {"bilinear", "bicubic", "nearest", "nearest-exact"}) {
    for (int ac = 0; ac < (interpolating(mode) ? 2 : 1); ++ac) {
      std::optional<bool> align = interpolating(mode) ? std::optional<bool>(ac == 1) : std::nullopt;
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return us::upsample(ctx, kTarget, SourceIR::kATEN, "up", in[0], mode, std::nullopt,
                            std::vector<double>{1.2}, align);
      });
      expect_close(got, aten_upsample(x, mode, {3, 3}, {1.2, 1.2}, ac == 1), 1.0,
                   mode + " ac " + std::to_string(ac));
    }
  }
}

TEST(ImplUpsample, IntegerNearestIsACopy) {
  for (DataType t : {DataType::kINT32, DataType::kINT64}) {
    at::Tensor x = random(t, {2, 3, 5, 4}, 9, -100, 100);
    at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return us::upsample(ctx, kTarget, SourceIR::kATEN, "up", in[0], "nearest", std::nullopt,
                          std::vector<double>{1.7, 0.8});
    });
    // Integer data through the fp32 kernel: the values are small, so the copy is exact.
    at::Tensor expected =
        at::upsample_nearest2d(x.to(at::kFloat), {8, 3}, 1.7, 0.8).to(x.scalar_type());
    expect_close(got, expected, 1.0, std::string(data_type_name(t)));
  }
}

TEST(ImplUpsample, DynamicShapesAtMinOptMax) {
  auto set = [](int64_t n, int64_t h, int64_t w, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, 2, h, w}, seed)};
  };
  const std::vector<std::vector<at::Tensor>> sets = {set(1, 3, 4, 1), set(2, 6, 7, 2),
                                                     set(3, 9, 13, 3)};
  for (bool ac : {false, true}) {
    run_block_dynamic(
        sets,
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return us::upsample(ctx, kTarget, SourceIR::kATEN, "up", in[0], "bilinear",
                              std::vector<int64_t>{5, 8}, std::nullopt, ac);
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, at::upsample_bilinear2d(in[0], {5, 8}, ac), 1.0, "bilinear size");
        });
  }
  // Scales exact in float: for other scales the layer's float scale cannot match ATen's double
  // one for every run-time size (see docs/operators/upsample.md).
  for (const std::string mode : {"nearest", "nearest-exact", "bilinear", "bicubic"}) {
    run_block_dynamic(
        sets,
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return us::upsample(ctx, kTarget, SourceIR::kATEN, "up", in[0], mode, std::nullopt,
                              std::vector<double>{2.5, 0.75});
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          std::vector<int64_t> o = {static_cast<int64_t>(std::floor(in[0].size(2) * 2.5)),
                                    static_cast<int64_t>(std::floor(in[0].size(3) * 0.75))};
          expect_close(out, aten_upsample(in[0], mode, o, {2.5, 0.75}, false), 1.0,
                       mode + " scale " + dims_of(in[0]).to_string());
        });
  }
}

BlockFn call(std::string mode, std::optional<std::vector<int64_t>> size,
             std::optional<std::vector<double>> scale, std::optional<bool> ac = std::nullopt) {
  return [=](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return us::upsample(ctx, kTarget, SourceIR::kATEN, "up", in[0], mode, size, scale, ac);
  };
}

TEST(ImplUpsample, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {1, 2, 4, 5}, 1);
  expect_block_error(
      {x}, call("area", std::vector<int64_t>{3, 3}, std::nullopt),
      {"upsample::upsample", "upsample.vec", "'up'", "unknown upsample mode 'area'"});
  expect_block_error({x}, call("nearest", std::vector<int64_t>{3, 3}, std::vector<double>{2.0}),
                     {"either size or scale_factor, not both"});
  expect_block_error({x}, call("nearest", std::nullopt, std::nullopt), {"neither"});
  expect_block_error({x}, call("nearest", std::vector<int64_t>{3, 3}, std::nullopt, false),
                     {"align_corners", "'nearest'"});
  expect_block_error({x}, call("trilinear", std::vector<int64_t>{3, 3}, std::nullopt),
                     {"'trilinear' takes 5-D", "[1,2,4,5]"});
  expect_block_error({x}, call("bilinear", std::vector<int64_t>{3, 3, 3}, std::nullopt),
                     {"size has 3 entries", "expected 1 or 2"});
  expect_block_error({x}, call("bilinear", std::nullopt, std::vector<double>{-1.5}),
                     {"scale_factor -1.5", "> 0"});
  expect_block_error({x}, call("bilinear", std::nullopt, std::vector<double>{0.1}),
                     {"input size 4", "output size 0"});
  expect_block_error({x}, call("bicubic", std::vector<int64_t>{0, 3}, std::nullopt),
                     {"output size 0"});
}

TEST(ImplUpsample, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 2, 4, 5});
  int before = net.num_layers();
  Tensor* y = us::upsample(ctx, "upsample_bilinear2d", SourceIR::kATEN, "up", x, "bilinear",
                           std::vector<int64_t>{8, 10}, std::nullopt, true);
  EXPECT_EQ(y->producer()->name(), "[RESIZE]-[aten_ops.upsample_bilinear2d]-[up]");
  EXPECT_EQ(net.num_layers(), before + 1) << net.to_string();  // static: the Resize alone
  Tensor* d = net.add_input("d", DataType::kFLOAT, {-1, 2, 4, 5});
  Tensor* z = us::upsample(ctx, "upsample_nearest2d", std::nullopt, "nn", d, "nearest",
                           std::vector<int64_t>{8, 10});
  EXPECT_EQ(z->producer()->name(), "[RESIZE]-[unknown_ops.upsample_nearest2d]-[nn]");
  for (const char* n : {"[SHAPE]-[unknown_ops.upsample_nearest2d]-[nn_shape]",
                        "[SLICE]-[unknown_ops.upsample_nearest2d]-[nn_batch_channels]",
                        "[CONSTANT]-[unknown_ops.upsample_nearest2d]-[nn_sizes]",
                        "[CONCATENATION]-[unknown_ops.upsample_nearest2d]-[nn_out_shape]"})
    EXPECT_NE(net.find_layer(n), nullptr) << n << "\n" << net.to_string();
}

TEST(ImplUpsample, OptionStructWithDesignatedInitializers) {
  expect_same_network(
      {{DataType::kFLOAT, {1, 2, 4, 5}}},
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return us::upsample(ctx, kTarget, SourceIR::kATEN, "u", in[0], "bilinear", std::nullopt,
                            std::vector<double>{2.0}, true);
      },
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return us::upsample(
            ctx, kTarget, SourceIR::kATEN, "u", in[0],
            {.scale_factor = std::vector<double>{2.0}, .mode = "bilinear", .align_corners = true});
      });
  expect_same_network(
      {{DataType::kFLOAT, {1, 2, 4, 5}}},
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return us::upsample(ctx, kTarget, SourceIR::kATEN, "u", in[0], "nearest",
                            std::vector<int64_t>{7, 3});
      },
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return us::upsample(ctx, kTarget, SourceIR::kATEN, "u", in[0],
                            {.size = std::vector<int64_t>{7, 3}});
      });
}

}  // namespace
}  // namespace lktest
