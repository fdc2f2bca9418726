// reshape, view and flatten building blocks against at::reshape / at::flatten: types, -1, size-0
// dims, shape tensors, dynamic shapes, errors and names.
#include "layerkit/impl/shuffle.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace sf = layerkit::impl::shuffle;

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

TEST(ImplShuffle, ReshapeEveryTypeWithInferredDim) {
  struct Case {
    std::vector<int64_t> in, shape;
  };
  std::vector<Case> cases = {
      {{2, 3, 4}, {4, 6}}, {{2, 3, 4}, {-1}}, {{2, 3, 4}, {3, -1, 2}}, {{6}, {1, 2, 1, 3}},
      {{1}, {}},           {{}, {1, 1}},      {{2, 0, 3}, {0, 5}},     {{2, 0, 3}, {-1, 2}},
      {{4, 1}, {-1, 2}}};
  uint64_t seed = 1;
  for (DataType t : kAll) {
    for (const Case& c : cases) {
      at::Tensor x = random(t, c.in, seed++);
      std::string what = std::string(data_type_name(t)) + " " + str(c.in) + " -> " + str(c.shape);
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return sf::reshape(ctx, kTarget, SourceIR::kATEN, "r", in[0], c.shape);
      });
      expect_close(got, at::reshape(x, c.shape), 1.0, "reshape " + what);
      got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return sf::view(ctx, kTarget, SourceIR::kATEN, "v", in[0], c.shape);
      });
      expect_close(got, x.view(c.shape), 1.0, "view " + what);
    }
  }
}

TEST(ImplShuffle, ReshapeByShapeTensor) {
  at::Tensor x = random(DataType::kFLOAT, {2, 3, 4}, 7);
  for (at::ScalarType st : {at::kInt, at::kLong}) {
    for (std::vector<int64_t> s : std::vector<std::vector<int64_t>>{{6, 4}, {-1, 3}, {2, 12, 1}}) {
      at::Tensor shape = at::tensor(s, at::kLong).to(st);
      at::Tensor got =
          run_block({x, shape}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            return sf::reshape(ctx, kTarget, SourceIR::kATEN, "r", in[0], in[1]);
          });
      expect_close(got, at::reshape(x, s), 1.0, "shape tensor " + str(s));
    }
  }
}

TEST(ImplShuffle, FlattenEveryTypeAndDimRange) {
  uint64_t seed = 100;
  for (DataType t : kAll) {
    at::Tensor x = random(t, {2, 3, 4, 5}, seed++);
    for (int64_t s = -4; s < 4; ++s) {
      for (int64_t e = -4; e < 4; ++e) {
        if ((s < 0 ? s + 4 : s) > (e < 0 ? e + 4 : e)) continue;
        at::Tensor got =
            run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return sf::flatten(ctx, kTarget, SourceIR::kATEN, "f", in[0], s, e);
            });
        expect_close(got, at::flatten(x, s, e), 1.0,
                     "flatten " + std::to_string(s) + ".." + std::to_string(e) + " " +
                         std::string(data_type_name(t)));
      }
    }
  }
  at::Tensor z = random(DataType::kINT32, {}, 5);
  expect_close(run_block({z},
                         [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                           return sf::flatten(ctx, kTarget, SourceIR::kATEN, "f", in[0]);
                         }),
               at::flatten(z), 1.0, "flatten 0-D");
  at::Tensor e = random(DataType::kFLOAT, {2, 0, 3}, 6);
  expect_close(run_block({e},
                         [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                           return sf::flatten(ctx, kTarget, SourceIR::kATEN, "f", in[0], 1);
                         }),
               at::flatten(e, 1), 1.0, "flatten with a 0 dim");
}

TEST(ImplShuffle, DynamicShapesAtMinOptMax) {
  auto sets = [](DataType t) {
    auto set = [t](int64_t a, int64_t b, uint64_t seed) {
      return std::vector<at::Tensor>{random(t, {a, 3, b, 2}, seed)};
    };
    return std::vector<std::vector<at::Tensor>>{set(1, 1, 1), set(2, 4, 2), set(4, 6, 3)};
  };
  for (DataType t : kAll) {
    std::string ty(data_type_name(t));
    // One -1 in the request over fully dynamic input dims.
    run_block_dynamic(
        sets(t),
        [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return sf::reshape(ctx, kTarget, SourceIR::kATEN, "r", in[0], {-1, 6});
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, at::reshape(in[0], {-1, 6}), 1.0, "dynamic reshape " + ty);
        });
    // Several dynamic dims survive: the shape is computed at run time.
    for (auto [s, e] :
         std::vector<std::pair<int64_t, int64_t>>{{1, 2}, {0, 1}, {-2, -1}, {0, -1}}) {
      run_block_dynamic(
          sets(t),
          [s = s, e = e](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            return sf::flatten(ctx, kTarget, SourceIR::kATEN, "f", in[0], s, e);
          },
          [&, s = s, e = e](const std::vector<at::Tensor>& in, const at::Tensor& out) {
            expect_close(
                out, at::flatten(in[0], s, e), 1.0,
                "dynamic flatten " + std::to_string(s) + ".." + std::to_string(e) + " " + ty);
          });
    }
  }
}

TEST(ImplShuffle, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {2, 3, 4}, 1);
  auto reshape_to = [](std::vector<int64_t> s) {
    return [s](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return sf::reshape(ctx, kTarget, SourceIR::kATEN, "bad", in[0], s);
    };
  };
  expect_block_error({x}, reshape_to({5, 5}),
                     {"shuffle::reshape", "test.op", "'bad'", "[5,5]", "[2,3,4]", "24 elements"});
  expect_block_error({x}, reshape_to({-1, 5}), {"[-1,5]", "invalid for input of shape [2,3,4]"});
  expect_block_error({x}, reshape_to({-1, -1}), {"[-1,-1]", "only one dimension can be -1"});
  expect_block_error({x}, reshape_to({-2, -12}), {"invalid size -2"});
  expect_block_error({x}, reshape_to({0, -1}), {"[0,-1]", "any size"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sf::flatten(ctx, kTarget, SourceIR::kATEN, "f", in[0], 2, 1);
                     },
                     {"shuffle::flatten", "start_dim 2", "end_dim 1"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sf::flatten(ctx, kTarget, SourceIR::kATEN, "f", in[0], 0, 3);
                     },
                     {"dim 3", "-3..2"});
  expect_block_error({x, random(DataType::kFLOAT, {2}, 3)},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sf::reshape(ctx, kTarget, SourceIR::kATEN, "r", in[0], in[1]);
                     },
                     {"int32 or int64", "float32"});
  expect_block_error({x, random(DataType::kINT64, {2, 1}, 3)},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sf::view(ctx, kTarget, SourceIR::kATEN, "v", in[0], in[1]);
                     },
                     {"shuffle::view", "1-D", "[2,1]"});
}

TEST(ImplShuffle, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 3, -1, -1});
  Tensor* r = sf::reshape(ctx, "reshape", SourceIR::kATEN, "reshape_0", x, {-1});
  EXPECT_EQ(r->producer()->name(), "[SHUFFLE]-[aten_ops.reshape]-[reshape_0]");
  Tensor* f = sf::flatten(ctx, "flatten.using_ints", SourceIR::kATEN, "flat", x, 1, 2);
  EXPECT_EQ(f->producer()->name(), "[SHUFFLE]-[aten_ops.flatten.using_ints]-[flat]");
  for (const char* n : {"[SHAPE]-[aten_ops.flatten.using_ints]-[flat_shape]",
                        "[GATHER]-[aten_ops.flatten.using_ints]-[flat_dim0]",
                        "[CONSTANT]-[aten_ops.flatten.using_ints]-[flat_dim0_indices]",
                        "[GATHER]-[aten_ops.flatten.using_ints]-[flat_dim1_gather]",
                        "[REDUCE]-[aten_ops.flatten.using_ints]-[flat_dim1]",
                        "[GATHER]-[aten_ops.flatten.using_ints]-[flat_dim2]",
                        "[CONCATENATION]-[aten_ops.flatten.using_ints]-[flat_new_shape]"})
    EXPECT_NE(net.find_layer(n), nullptr) << n << "\n" << net.to_string();
  EXPECT_EQ(f->dims(), Dims({-1, -1, -1}));
  Tensor* v = sf::view(ctx, "view", std::nullopt, "v", x, {-1, 3});
  EXPECT_EQ(v->producer()->name(), "[SHUFFLE]-[unknown_ops.view]-[v]");
  EXPECT_EQ(v->dims(), Dims({-1, 3}));
}

}  // namespace
}  // namespace lktest
