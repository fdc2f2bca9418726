// grid_sample building block against at::grid_sampler: every mode, padding mode, align_corners
// and float type; dynamic shapes, errors and layer names.
#include "layerkit/impl/grid.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace gr = layerkit::impl::grid;

const Target kTarget("grid_sampler");

const std::vector<std::string> kModes = {"bilinear", "nearest", "bicubic"};
const std::vector<std::string> kPaddings = {"zeros", "border", "reflection"};

// ATen's grid_sampler takes the modes as integers in these orders. fp16/bf16 (the layer computes
// in fp32 and rounds once) are referenced in fp32 from the same values and rounded.
at::Tensor reference(const at::Tensor& x, const at::Tensor& g, int mode, int padding, bool ac) {
  if (x.scalar_type() == at::kFloat) return at::grid_sampler(x, g, mode, padding, ac);
  return at::grid_sampler(x.to(at::kFloat), g.to(at::kFloat), mode, padding, ac)
      .to(x.scalar_type());
}

TEST(ImplGrid, EveryModePaddingAndTypeMatchesAten) {
  uint64_t seed = 100;
  for (DataType t : kFloatTypes) {
    for (int m = 0; m < 3; ++m) {
      for (int p = 0; p < 3; ++p) {
        for (bool ac : {false, true}) {
          // Odd sizes; the grid reaches outside [-1, 1] so every padding mode matters, and it
          // samples a larger and a smaller output than the input.
          at::Tensor x = random(t, {2, 3, 5, 7}, seed++);
          for (std::vector<int64_t> gs : {std::vector<int64_t>{2, 9, 11, 2}, {2, 3, 2, 2}}) {
            at::Tensor g = random(t, gs, seed++, -1.3, 1.3);
            at::Tensor got =
                run_block({x, g}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                  return gr::grid_sample(ctx, kTarget, SourceIR::kATEN, "gs", in[0], in[1],
                                         kModes[m], kPaddings[p], ac);
                });
            expect_close(got, reference(x, g, m, p, ac), 1.0,
                         kModes[m] + " " + kPaddings[p] + " ac " + std::to_string(ac) + " " +
                             std::string(data_type_name(t)) + " grid " + dims_of(g).to_string());
          }
        }
      }
    }
  }
}

TEST(ImplGrid, DynamicShapesAtMinOptMax) {
  auto set = [](int64_t n, int64_t h, int64_t w, int64_t ho, int64_t wo, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, 2, h, w}, seed),
                                   random(DataType::kFLOAT, {n, ho, wo, 2}, seed + 1, -1.2, 1.2)};
  };
  for (int m = 0; m < 3; ++m) {
    run_block_dynamic(
        {set(1, 2, 3, 1, 1, 10), set(2, 5, 6, 4, 3, 20), set(4, 9, 8, 7, 10, 30)},
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return gr::grid_sample(ctx, kTarget, SourceIR::kATEN, "gs", in[0], in[1], kModes[m],
                                 "reflection", false);
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, at::grid_sampler(in[0], in[1], m, 2, false), 1.0,
                       kModes[m] + " " + dims_of(in[0]).to_string());
        });
  }
}

BlockFn call(std::string mode, std::string padding) {
  return [=](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return gr::grid_sample(ctx, kTarget, SourceIR::kATEN, "gs", in[0], in[1], mode, padding, false);
  };
}

TEST(ImplGrid, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {2, 3, 5, 7}, 1);
  at::Tensor g = random(DataType::kFLOAT, {2, 4, 4, 2}, 2);
  expect_block_error(
      {x, g}, call("area", "zeros"),
      {"grid::grid_sample", "grid_sampler", "'gs'", "unknown grid_sample mode 'area'"});
  expect_block_error({x, g}, call("bilinear", "wrap"), {"padding_mode 'wrap'"});
  expect_block_error({x, random(DataType::kFLOAT, {2, 4, 4, 3}, 3)}, call("bilinear", "zeros"),
                     {"grid must be 4-D [N, H_out, W_out, 2]", "[2,4,4,3]"});
  expect_block_error({x, random(DataType::kFLOAT, {3, 4, 4, 2}, 3)}, call("bilinear", "zeros"),
                     {"input batch 2", "grid batch 3"});
  expect_block_error({x, random(DataType::kFLOAT, {2, 4, 4, 4, 3}, 3)}, call("bilinear", "zeros"),
                     {"grid must be 4-D", "[2,4,4,4,3]"});
  expect_block_error(
      {random(DataType::kFLOAT, {2, 3, 4, 5, 6}, 4), random(DataType::kFLOAT, {2, 4, 4, 4, 3}, 3)},
      call("bilinear", "zeros"), {"input must be 4-D", "[2,3,4,5,6]"});
  expect_block_error({x, g.to(at::kHalf)}, call("bilinear", "zeros"),
                     {"same float type", "float32", "float16"});
  expect_block_error(
      {random(DataType::kINT32, {2, 3, 5, 7}, 5), random(DataType::kINT32, {2, 4, 4, 2}, 6)},
      call("bilinear", "zeros"), {"same float type", "int32"});
}

TEST(ImplGrid, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 2, 4, 5});
  Tensor* g = net.add_input("g", DataType::kFLOAT, {1, 3, 3, 2});
  int before = net.num_layers();
  Tensor* y = gr::grid_sample(ctx, "grid_sampler_2d", SourceIR::kATEN, "sample", x, g);
  EXPECT_EQ(y->producer()->name(), "[GRID_SAMPLE]-[aten_ops.grid_sampler_2d]-[sample]");
  EXPECT_EQ(net.num_layers(), before + 1) << net.to_string();
}

TEST(ImplGrid, OptionStructWithDesignatedInitializers) {
  expect_same_network(
      {{DataType::kFLOAT, {1, 2, 4, 5}}, {DataType::kFLOAT, {1, 3, 3, 2}}},
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return gr::grid_sample(ctx, kTarget, SourceIR::kATEN, "g", in[0], in[1], "nearest",
                               "border", true);
      },
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return gr::grid_sample(
            ctx, kTarget, SourceIR::kATEN, "g", in[0], in[1],
            {.mode = "nearest", .padding_mode = "border", .align_corners = true});
      });
}

}  // namespace
}  // namespace lktest
