// permute and transpose building blocks against at::permute / at::transpose: types, negative
// dims, dynamic shapes, errors and names.
#include "layerkit/impl/permutation.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace pm = layerkit::impl::permutation;

const Target kTarget("test.op");
std::string str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(v[i]);
  }
  return s + "]";
}
const std::vector<DataType> kAll = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                    DataType::kINT32, DataType::kINT64, DataType::kBOOL};

TEST(ImplPermutation, PermuteEveryTypeWithNegativeDims) {
  std::vector<std::vector<int64_t>> perms = {{0, 1, 2}, {2, 0, 1}, {-1, -3, -2}, {1, -1, 0}};
  uint64_t seed = 1;
  for (DataType t : kAll) {
    at::Tensor x = random(t, {2, 3, 4}, seed++);
    for (const auto& p : perms) {
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pm::permute(ctx, kTarget, SourceIR::kATEN, "p", in[0], p);
      });
      expect_close(got, at::permute(x, p).contiguous(), 1.0,
                   "permute " + str(p) + " " + std::string(data_type_name(t)));
    }
  }
  at::Tensor z = random(DataType::kFLOAT, {}, 9);
  expect_close(run_block({z},
                         [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                           return pm::permute(ctx, kTarget, SourceIR::kATEN, "p", in[0], {});
                         }),
               at::permute(z, {}), 1.0, "permute 0-D");
}

TEST(ImplPermutation, TransposeEveryTypeWithNegativeDims) {
  uint64_t seed = 50;
  for (DataType t : kAll) {
    at::Tensor x = random(t, {2, 3, 4, 5}, seed++);
    for (int64_t a = -4; a < 4; ++a) {
      for (int64_t b : {-1, 0, 2}) {
        at::Tensor got =
            run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return pm::transpose(ctx, kTarget, SourceIR::kATEN, "t", in[0], a, b);
            });
        expect_close(got, at::transpose(x, a, b).contiguous(), 1.0,
                     "transpose " + std::to_string(a) + "," + std::to_string(b) + " " +
                         std::string(data_type_name(t)));
      }
    }
  }
  at::Tensor z = random(DataType::kINT64, {}, 9);
  expect_close(run_block({z},
                         [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                           return pm::transpose(ctx, kTarget, SourceIR::kATEN, "t", in[0], 0, -1);
                         }),
               at::transpose(z, 0, -1), 1.0, "transpose 0-D");
}

TEST(ImplPermutation, DynamicShapesAtMinOptMax) {
  for (DataType t : kAll) {
    auto set = [t](int64_t a, int64_t b, int64_t c, uint64_t seed) {
      return std::vector<at::Tensor>{random(t, {a, b, c}, seed)};
    };
    std::vector<std::vector<at::Tensor>> sets = {set(1, 1, 1, 1), set(2, 3, 4, 2), set(5, 4, 6, 3)};
    run_block_dynamic(
        sets,
        [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return pm::permute(ctx, kTarget, SourceIR::kATEN, "p", in[0], {2, -3, 1});
        },
        [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, at::permute(in[0], {2, -3, 1}).contiguous(), 1.0, "dynamic permute");
        });
    run_block_dynamic(
        sets,
        [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return pm::transpose(ctx, kTarget, SourceIR::kATEN, "t", in[0], -1, 0);
        },
        [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, at::transpose(in[0], -1, 0).contiguous(), 1.0, "dynamic transpose");
        });
  }
}

TEST(ImplPermutation, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {2, 3, 4}, 1);
  auto permute = [](std::vector<int64_t> p) {
    return [p](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return pm::permute(ctx, kTarget, SourceIR::kATEN, "bad", in[0], p);
    };
  };
  expect_block_error({x}, permute({0, 1}),
                     {"permutation::permute", "test.op", "'bad'", "[0,1]", "rank-3"});
  expect_block_error({x}, permute({0, 1, -3}), {"[0,1,-3]", "repeat dim 0"});
  expect_block_error({x}, permute({0, 1, 3}), {"dim 3", "-3..2"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return pm::transpose(ctx, kTarget, SourceIR::kATEN, "t", in[0], 0, -4);
                     },
                     {"permutation::transpose", "dim -4", "-3..2"});
}

TEST(ImplPermutation, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* p = pm::permute(ctx, "permute", SourceIR::kATEN, "perm", x, {1, 0});
  EXPECT_EQ(p->producer()->name(), "[SHUFFLE]-[aten_ops.permute]-[perm]");
  EXPECT_EQ(p->name(), "[SHUFFLE]-[aten_ops.permute]-[perm]");
  Tensor* t = pm::transpose(ctx, "transpose.int", std::nullopt, "perm", p, 0, 1);
  EXPECT_EQ(t->producer()->name(), "[SHUFFLE]-[unknown_ops.transpose.int]-[perm]");
  EXPECT_EQ(net.num_layers(), 3);  // the input is a layer too
}

}  // namespace
}  // namespace lktest
