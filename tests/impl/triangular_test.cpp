// tril and triu against at::tril / at::triu: dtypes, diagonals, batches, non-square and dynamic
// shapes; errors.
#include "layerkit/impl/triangular.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace tr = layerkit::impl::triangular;

const Target kTarget("tril.default");

const std::vector<DataType> kAll = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                    DataType::kINT8,  DataType::kUINT8, DataType::kINT32,
                                    DataType::kINT64, DataType::kBOOL};

TEST(ImplTriangular, EveryTypeShapeAndDiagonal) {
  uint64_t seed = 1;
  for (DataType t : kAll) {
    for (const std::vector<int64_t>& shape :
         {std::vector<int64_t>{4, 4}, std::vector<int64_t>{3, 5}, std::vector<int64_t>{2, 5, 3}}) {
      for (int64_t k : {0, 1, -1, 3, -4}) {
        at::Tensor x = random(t, shape, seed++);
        for (bool lower : {true, false}) {
          at::Tensor got =
              run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                return lower ? tr::tril(ctx, kTarget, SourceIR::kATEN, "t", in[0], k)
                             : tr::triu(ctx, kTarget, SourceIR::kATEN, "t", in[0], k);
              });
          expect_close(got, lower ? at::tril(x, k) : at::triu(x, k), 1.0,
                       std::string(lower ? "tril " : "triu ") + std::string(data_type_name(t)) +
                           " k " + std::to_string(k));
        }
      }
    }
  }
}

TEST(ImplTriangular, DynamicShapesAtMinOptMax) {
  auto set = [](int64_t b, int64_t n, int64_t m, int64_t k) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {b, n, m}, 50 + k)};
  };
  for (bool lower : {true, false}) {
    run_block_dynamic(
        {set(1, 1, 1, 0), set(2, 3, 5, 1), set(3, 6, 5, 2)},
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return lower ? tr::tril(ctx, kTarget, SourceIR::kATEN, "t", in[0], 1)
                       : tr::triu(ctx, kTarget, SourceIR::kATEN, "t", in[0], -1);
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, lower ? at::tril(in[0], 1) : at::triu(in[0], -1), 1.0,
                       lower ? "dynamic tril" : "dynamic triu");
        });
  }
}

TEST(ImplTriangular, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 3});
  EXPECT_EQ(tr::tril(ctx, kTarget, SourceIR::kATEN, "t", x)->producer()->name(),
            "[SELECT]-[aten_ops.tril.default]-[t]");
}

// The row and column index ranges of a long static dim are run-time Fills, not host constants
// (fuzz_onnx_import: Trilu over a claimed shape asked the host for 2^43 bytes of indices); at the
// limit they stay Constants, and just past it the Fill gives the same mask.
TEST(ImplTriangular, LongStaticDimsIndexByRunTimeFills) {
  auto largest_constant = [](const Dims& dims) {
    Network net;
    ConversionContext ctx(net);
    Tensor* x = net.add_input("x", DataType::kFLOAT, dims);
    EXPECT_EQ(tr::triu(ctx, kTarget, SourceIR::kATEN, "t", x, 1)->dims(), dims);
    int64_t most = 0, fills = 0;
    for (int i = 0; i < net.num_layers(); ++i) {
      const Layer* l = net.layer(i);
      if (l->kind() == LayerKind::kCONSTANT)
        most = std::max(most, l->attrs<ConstantAttrs>().dims.volume());
      fills += l->kind() == LayerKind::kFILL;
    }
    return std::pair{most, fills};
  };
  const int64_t big = int64_t{1} << 29, limit = int64_t{1} << 24;
  EXPECT_EQ(largest_constant({big, big}), std::make_pair(int64_t{1}, int64_t{2}));
  EXPECT_EQ(largest_constant({3, limit}), std::make_pair(limit, int64_t{0}));
  const int64_t n = limit + 3;
  at::Tensor x = random(DataType::kINT8, {2, n}, 7);
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return tr::tril(ctx, kTarget, SourceIR::kATEN, "t", in[0], n - 5);
  });
  expect_close(got, at::tril(x, n - 5), 1.0, "tril of [2, 2^24 + 3] int8");
}

TEST(ImplTriangular, ErrorsLeaveTheNetworkUnchanged) {
  expect_block_error({random(DataType::kFLOAT, {4}, 1)},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return tr::tril(ctx, kTarget, SourceIR::kATEN, "t", in[0]);
                     },
                     {"triangular::tril", "rank >= 2", "[4]"});
  expect_block_error({random(DataType::kFLOAT, {}, 1)},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return tr::triu(ctx, kTarget, SourceIR::kATEN, "t", in[0]);
                     },
                     {"triangular::triu", "rank >= 2"});
}

}  // namespace
}  // namespace lktest
