// squeeze and unsqueeze building blocks against at::squeeze / at::unsqueeze: types, negative
// dims, non-1 dims left alone, dynamic shapes, errors and names.
#include "layerkit/impl/squeeze.h"

#include <algorithm>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace sq = layerkit::impl::squeeze;

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

// ATen 1.13 squeezes one dim at a time; several dims are squeezed from the highest down so the
// positions of the rest do not move.
at::Tensor squeeze_dims(const at::Tensor& x, std::vector<int64_t> dims) {
  for (auto& d : dims) d = d < 0 ? d + std::max<int64_t>(x.dim(), 1) : d;
  std::sort(dims.rbegin(), dims.rend());
  at::Tensor r = x;
  for (int64_t d : dims) r = at::squeeze(r, d);
  return r;
}

TEST(ImplSqueeze, SqueezeEveryTypeAllOneAndSeveralDims) {
  uint64_t seed = 1;
  for (DataType t : kAll) {
    at::Tensor x = random(t, {1, 3, 1, 4, 1}, seed++);
    std::string ty(data_type_name(t));
    expect_close(run_block({x},
                           [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                             return sq::squeeze(ctx, kTarget, SourceIR::kATEN, "s", in[0]);
                           }),
                 at::squeeze(x), 1.0, "squeeze all " + ty);
    for (int64_t d = -5; d < 5; ++d)  // non-1 dims (1, 3, -2, -4) are left alone
      expect_close(run_block({x},
                             [d](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                               return sq::squeeze(ctx, kTarget, SourceIR::kATEN, "s", in[0], d);
                             }),
                   at::squeeze(x, d), 1.0, "squeeze " + std::to_string(d) + " " + ty);
    for (std::vector<int64_t> dims :
         std::vector<std::vector<int64_t>>{{0, 2}, {-1, 1, 0}, {}, {3, -3}, {0, 2, 4}}) {
      expect_close(run_block({x},
                             [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                               return sq::squeeze(ctx, kTarget, SourceIR::kATEN, "s", in[0], dims);
                             }),
                   squeeze_dims(x, dims), 1.0, "squeeze " + str(dims) + " " + ty);
    }
  }
  at::Tensor z = random(DataType::kFLOAT, {}, 3);
  expect_close(run_block({z},
                         [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                           return sq::squeeze(ctx, kTarget, SourceIR::kATEN, "s", in[0], -1);
                         }),
               at::squeeze(z, -1), 1.0, "squeeze 0-D");
}

TEST(ImplSqueeze, UnsqueezeEveryTypeAndDim) {
  uint64_t seed = 60;
  for (DataType t : kAll) {
    at::Tensor x = random(t, {2, 3}, seed++);
    for (int64_t d = -3; d <= 2; ++d)
      expect_close(run_block({x},
                             [d](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                               return sq::unsqueeze(ctx, kTarget, SourceIR::kATEN, "u", in[0], d);
                             }),
                   at::unsqueeze(x, d), 1.0,
                   "unsqueeze " + std::to_string(d) + " " + std::string(data_type_name(t)));
  }
  at::Tensor z = random(DataType::kINT32, {}, 3);
  for (int64_t d : {0, -1})
    expect_close(run_block({z},
                           [d](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                             return sq::unsqueeze(ctx, kTarget, SourceIR::kATEN, "u", in[0], d);
                           }),
                 at::unsqueeze(z, d), 1.0, "unsqueeze 0-D");
}

TEST(ImplSqueeze, DynamicShapesAtMinOptMax) {
  for (DataType t : kAll) {
    std::string ty(data_type_name(t));
    // Dynamic dims everywhere: unsqueeze keeps all of them, so the shape is computed at run time.
    auto set = [t](int64_t a, int64_t b, int64_t c, uint64_t seed) {
      return std::vector<at::Tensor>{random(t, {a, b, c}, seed)};
    };
    std::vector<std::vector<at::Tensor>> sets = {set(1, 1, 1, 1), set(2, 3, 4, 2), set(5, 4, 6, 3)};
    for (int64_t d : {0, 2, -1}) {
      run_block_dynamic(
          sets,
          [d](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            return sq::unsqueeze(ctx, kTarget, SourceIR::kATEN, "u", in[0], d);
          },
          [&, d](const std::vector<at::Tensor>& in, const at::Tensor& out) {
            expect_close(out, at::unsqueeze(in[0], d), 1.0,
                         "dynamic unsqueeze " + std::to_string(d) + " " + ty);
          });
    }
  }
  // Squeezing a static 1 beside dynamic dims (the network is built here, not by
  // run_block_dynamic, which makes every dim dynamic).
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kHALF, {-1, 1, -1});
  Tensor* y = sq::squeeze(ctx, kTarget, SourceIR::kATEN, "s", x, 1);
  Tensor* z = sq::squeeze(ctx, kTarget, SourceIR::kATEN, "all", y);  // dynamic dims are kept
  EXPECT_EQ(z->dims(), Dims({-1, -1}));
  net.mark_output(z);
  OptimizationProfile profile;
  profile.set_dimensions("x", {1, 1, 1}, {2, 1, 3}, {4, 1, 5});
  BuilderConfig config;
  config.profiles.push_back(profile);
  Runner runner(net, config);
  for (std::vector<int64_t> s :
       std::vector<std::vector<int64_t>>{{1, 1, 1}, {2, 1, 3}, {4, 1, 5}}) {
    at::Tensor in = random(DataType::kHALF, s, 7);
    expect_close(runner.run({in}).at(0), at::squeeze(in, 1), 1.0, "dynamic squeeze");
  }
}

TEST(ImplSqueeze, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {1, 3, 1}, 1);
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sq::squeeze(ctx, kTarget, SourceIR::kATEN, "bad", in[0], 3);
                     },
                     {"squeeze::squeeze", "test.op", "'bad'", "dim 3", "-3..2"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sq::squeeze(ctx, kTarget, SourceIR::kATEN, "bad", in[0],
                                          std::vector<int64_t>{0, -3});
                     },
                     {"[0,-3]", "repeat dim 0"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sq::unsqueeze(ctx, kTarget, SourceIR::kATEN, "u", in[0], 4);
                     },
                     {"squeeze::unsqueeze", "dim 4", "-4..3"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sq::unsqueeze(ctx, kTarget, SourceIR::kATEN, "u", in[0], -5);
                     },
                     {"dim -5", "-4..3"});
  // A listed dynamic dim: whether it goes depends on run-time sizes.
  Network net;
  ConversionContext ctx(net);
  Tensor* d = net.add_input("x", DataType::kFLOAT, {2, -1});
  expect_error_unchanged(net, [&] { sq::squeeze(ctx, kTarget, SourceIR::kATEN, "s", d, -1); },
                         {"squeeze::squeeze", "dim -1", "[2,-1]", "dynamic size"});
}

TEST(ImplSqueeze, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 1, -1});
  Tensor* s = sq::squeeze(ctx, "squeeze.dim", SourceIR::kATEN, "sq", x, 1);
  EXPECT_EQ(s->producer()->name(), "[SHUFFLE]-[aten_ops.squeeze.dim]-[sq]");
  for (const char* n :
       {"[SHAPE]-[aten_ops.squeeze.dim]-[sq_shape]", "[GATHER]-[aten_ops.squeeze.dim]-[sq_dim0]",
        "[CONSTANT]-[aten_ops.squeeze.dim]-[sq_dim0_indices]",
        "[GATHER]-[aten_ops.squeeze.dim]-[sq_dim1]",
        "[CONCATENATION]-[aten_ops.squeeze.dim]-[sq_new_shape]"})
    EXPECT_NE(net.find_layer(n), nullptr) << n << "\n" << net.to_string();
  Tensor* u = sq::unsqueeze(ctx, "unsqueeze", std::nullopt, "u",
                            net.add_input("y", DataType::kFLOAT, {2, -1}), 0);
  EXPECT_EQ(u->producer()->name(), "[SHUFFLE]-[unknown_ops.unsqueeze]-[u]");
  EXPECT_EQ(u->dims(), Dims({1, 2, -1}));
}

}  // namespace
}  // namespace lktest
