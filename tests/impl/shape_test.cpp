// Shape-query building blocks against ATen's sizes/numel: static, rank 0, dynamic, errors, names.
#include "layerkit/impl/shape.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace sh = layerkit::impl::shape;

const Target kTarget("test.op");
const std::vector<DataType> kAll = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                    DataType::kINT32, DataType::kINT64, DataType::kBOOL};

at::Tensor sizes_of(const at::Tensor& x) {
  return at::tensor(std::vector<int64_t>(x.sizes().begin(), x.sizes().end()), at::kLong);
}
at::Tensor long0(int64_t v) {
  return at::scalar_tensor(v, at::kLong);
}

TEST(ImplShape, StaticSizeNumelShapeEveryType) {
  uint64_t seed = 1;
  for (DataType t : kAll) {
    for (std::vector<int64_t> s : std::vector<std::vector<int64_t>>{{2, 3, 4}, {5}, {3, 0, 2}}) {
      at::Tensor x = random(t, s, seed++);
      std::string what = std::string(data_type_name(t)) + " " + dims_of(x).to_string();
      expect_close(run_block({x},
                             [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                               return sh::shape(ctx, kTarget, SourceIR::kATEN, "s", in[0]);
                             }),
                   sizes_of(x), 1.0, "shape " + what);
      expect_close(run_block({x},
                             [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                               return sh::size(ctx, kTarget, SourceIR::kATEN, "s", in[0]);
                             }),
                   sizes_of(x), 1.0, "size() " + what);
      expect_close(run_block({x},
                             [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                               return sh::numel(ctx, kTarget, SourceIR::kATEN, "n", in[0]);
                             }),
                   long0(x.numel()), 1.0, "numel " + what);
      for (int64_t d = -x.dim(); d < x.dim(); ++d)
        expect_close(run_block({x},
                               [d](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                                 return sh::size(ctx, kTarget, SourceIR::kATEN, "s", in[0], d);
                               }),
                     long0(x.size(d)), 1.0, "size(" + std::to_string(d) + ") " + what);
    }
  }
}

TEST(ImplShape, RankZeroInput) {
  at::Tensor x = random(DataType::kFLOAT, {}, 3);
  expect_close(run_block({x},
                         [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                           return sh::numel(ctx, kTarget, SourceIR::kATEN, "n", in[0]);
                         }),
               long0(x.numel()), 1.0, "numel 0-D");
  expect_close(run_block({x},
                         [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                           return sh::shape(ctx, kTarget, SourceIR::kATEN, "s", in[0]);
                         }),
               sizes_of(x), 1.0, "shape 0-D");
}

TEST(ImplShape, StaticResultsKeepBuildTimeValues) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3, 4});
  Tensor* s = sh::size(ctx, kTarget, SourceIR::kATEN, "s", x, -2);
  ASSERT_EQ(s->known_values().size(), 1u);
  EXPECT_EQ(s->known_values()[0], std::optional<int64_t>(3));
  Tensor* full = sh::shape(ctx, kTarget, SourceIR::kATEN, "full", x);
  ASSERT_EQ(full->known_values().size(), 3u);
  EXPECT_EQ(full->known_values()[0], std::nullopt);
  EXPECT_EQ(full->known_values()[2], std::optional<int64_t>(4));
}

TEST(ImplShape, DynamicShapesAtMinOptMax) {
  for (DataType t : {DataType::kFLOAT, DataType::kINT32, DataType::kBOOL}) {
    auto set = [t](int64_t n, int64_t m, uint64_t seed) {
      return std::vector<at::Tensor>{random(t, {n, 3, m}, seed)};
    };
    std::vector<std::vector<at::Tensor>> sets = {set(1, 1, 1), set(2, 4, 2), set(5, 7, 3)};
    run_block_dynamic(
        sets,
        [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return sh::shape(ctx, kTarget, SourceIR::kATEN, "s", in[0]);
        },
        [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, sizes_of(in[0]), 1.0, "dynamic shape");
        });
    run_block_dynamic(
        sets,
        [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return sh::numel(ctx, kTarget, SourceIR::kATEN, "n", in[0]);
        },
        [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, long0(in[0].numel()), 1.0, "dynamic numel");
        });
    for (int64_t d : {0, -1, 1}) {
      run_block_dynamic(
          sets,
          [d](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            return sh::size(ctx, kTarget, SourceIR::kATEN, "s", in[0], d);
          },
          [d](const std::vector<at::Tensor>& in, const at::Tensor& out) {
            expect_close(out, long0(in[0].size(d)), 1.0, "dynamic size(" + std::to_string(d) + ")");
          });
    }
  }
}

TEST(ImplShape, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {2, 3}, 1);
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sh::size(ctx, kTarget, SourceIR::kATEN, "bad", in[0], 2);
                     },
                     {"shape::size", "'bad'", "[2,3]", "dim 2", "-2..1"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sh::size(ctx, kTarget, SourceIR::kATEN, "bad", in[0], -3);
                     },
                     {"dim -3", "-2..1"});
  expect_block_error({random(DataType::kFLOAT, {}, 2)},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sh::size(ctx, kTarget, SourceIR::kATEN, "z", in[0], 0);
                     },
                     {"rank-0", "no dims"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>&) {
                       return sh::numel(ctx, kTarget, SourceIR::kATEN, "n", nullptr);
                     },
                     {"shape::numel", "null tensor"});
}

TEST(ImplShape, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3, -1});
  Tensor* s = sh::size(ctx, "sym_size.int", SourceIR::kATEN, "size_0", x, 2);
  EXPECT_EQ(s->producer()->name(), "[GATHER]-[aten_ops.sym_size.int]-[size_0]");
  EXPECT_NE(net.find_layer("[SHAPE]-[aten_ops.sym_size.int]-[size_0_shape]"), nullptr)
      << net.to_string();
  EXPECT_NE(net.find_layer("[CONSTANT]-[aten_ops.sym_size.int]-[size_0_index]"), nullptr)
      << net.to_string();
  Tensor* c = sh::size(ctx, "sym_size.int", SourceIR::kATEN, "size_1", x, 1);
  EXPECT_EQ(c->producer()->name(), "[CONSTANT]-[aten_ops.sym_size.int]-[size_1]");
  Tensor* n = sh::numel(ctx, "numel", SourceIR::kATEN, "numel", x);
  EXPECT_EQ(n->producer()->name(), "[REDUCE]-[aten_ops.numel]-[numel]");
  EXPECT_NE(net.find_layer("[SHAPE]-[aten_ops.numel]-[numel_shape]"), nullptr);
  Tensor* f = sh::shape(ctx, "shape", std::nullopt, "sh", x);
  EXPECT_EQ(f->producer()->name(), "[SHAPE]-[unknown_ops.shape]-[sh]");
  EXPECT_EQ(net.num_layers(), 8);  // the input and 7 block layers
}

}  // namespace
}  // namespace lktest
