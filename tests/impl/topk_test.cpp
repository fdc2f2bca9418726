// TopK building blocks against ATen: topk, argmax/argmin and sort over dtypes, dims, ties,
// dynamic shapes; errors; layer names.
#include "layerkit/impl/topk.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace tk = layerkit::impl::topk;

const Target kTarget("test.op");

using PairBlock = std::function<tk::ValuesIndices(ConversionContext&, Tensor*)>;

// Runs a two-output block; returns {values, indices}.
std::pair<at::Tensor, at::Tensor> run_pair(const at::Tensor& x, const PairBlock& block) {
  Network net;
  ConversionContext ctx(net);
  Tensor* in = net.add_input("in0", from_aten(x.scalar_type()), dims_of(x));
  tk::ValuesIndices r = block(ctx, in);
  net.mark_output(r.values);
  net.mark_output(r.indices);
  std::vector<at::Tensor> out = run(net, {x});
  return {out.at(0), out.at(1)};
}

// libtorch 1.13 spells optionals as c10::optional.
c10::optional<int64_t> c_dim(std::optional<int64_t> d) {
  return d ? c10::optional<int64_t>(*d) : c10::nullopt;
}

const std::vector<DataType> kNumeric = {DataType::kFLOAT, DataType::kHALF, DataType::kBF16,
                                        DataType::kINT32, DataType::kINT64};

// Distinct values (a permutation of -30..29, exact in every type), so indices are unique.
at::Tensor distinct(DataType t, const std::vector<int64_t>& shape, uint64_t seed) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  at::Generator g = at::detail::createCPUGenerator(seed);
  at::Tensor p = at::randperm(n, g, at::kLong).sub(n / 2);
  return p.reshape(shape).to(to_aten(t));
}

// ATen 1.13 has no fp16 topk on CPU: the reference runs on fp32 (the values are small integers,
// exact in every type) and casts the values back.
std::tuple<at::Tensor, at::Tensor> aten_topk(const at::Tensor& x, int64_t k, int64_t dim,
                                             bool largest) {
  try {
    return at::topk(x, k, dim, largest, true);
  } catch (const c10::Error&) {
    auto [v, i] = at::topk(x.to(at::kFloat), k, dim, largest, true);
    return {v.to(x.scalar_type()), i};
  }
}

TEST(ImplTopK, TopKEveryTypeDimAndDirection) {
  uint64_t seed = 1;
  for (DataType t : kNumeric) {
    for (int64_t dim : {0, 1, -1, -3}) {
      for (bool largest : {true, false}) {
        for (int64_t k : {1, 2}) {
          at::Tensor x = distinct(t, {3, 4, 5}, seed++);
          auto [v, i] = run_pair(x, [&](ConversionContext& ctx, Tensor* in) {
            return tk::topk(ctx, kTarget, SourceIR::kATEN, "t", in, k, dim, largest);
          });
          auto [ev, ei] = aten_topk(x, k, dim, largest);
          std::string what = std::string(data_type_name(t)) + " dim " + std::to_string(dim) +
                             (largest ? " largest" : " smallest") + " k " + std::to_string(k);
          expect_close(v, ev, 1.0, what);
          expect_close(i, ei, 1.0, what);
        }
      }
    }
  }
}

TEST(ImplTopK, UnsortedTopKHoldsTheSameElements) {
  at::Tensor x = distinct(DataType::kFLOAT, {4, 6}, 3);
  auto [v, i] = run_pair(x, [&](ConversionContext& ctx, Tensor* in) {
    return tk::topk(ctx, kTarget, SourceIR::kATEN, "t", in, 3, 1, true, false);
  });
  auto [ev, ei] = at::topk(x, 3, 1, true, false);
  expect_close(std::get<0>(at::sort(v, 1)), std::get<0>(at::sort(ev, 1)), 1.0, "unsorted");
  expect_close(at::gather(x, 1, i), v, 1.0, "indices point at the values");
}

TEST(ImplTopK, TopKRankZeroAndNaN) {
  at::Tensor s = random(DataType::kFLOAT, {}, 4);
  auto [v, i] = run_pair(s, [&](ConversionContext& ctx, Tensor* in) {
    return tk::topk(ctx, kTarget, SourceIR::kATEN, "t", in, 1, -1);
  });
  auto [ev, ei] = at::topk(s, 1, -1);
  expect_close(v, ev, 1.0, "rank 0 values");
  expect_close(i, ei, 1.0, "rank 0 indices");
  // NaN is the largest value for topk (as torch).
  at::Tensor x = distinct(DataType::kFLOAT, {2, 5}, 5);
  x.index_put_({0, 3}, std::nan(""));
  for (bool largest : {true, false}) {
    auto [nv, ni] = run_pair(x, [&](ConversionContext& ctx, Tensor* in) {
      return tk::topk(ctx, kTarget, SourceIR::kATEN, "t", in, 2, 1, largest);
    });
    auto [env, eni] = at::topk(x, 2, 1, largest);
    expect_close(nv, env, 1.0, "NaN values");
    expect_close(ni, eni, 1.0, "NaN indices");
  }
}

TEST(ImplTopK, ArgmaxArgminEveryTypeDimKeepdimAndTies) {
  uint64_t seed = 100;
  for (DataType t : kNumeric) {
    for (std::optional<int64_t> dim : {std::optional<int64_t>{}, std::optional<int64_t>{0},
                                       std::optional<int64_t>{1}, std::optional<int64_t>{-1}}) {
      for (bool keepdim : {false, true}) {
        for (bool is_max : {true, false}) {
          for (bool ties : {false, true}) {
            // With ties torch documents the first occurrence, as the TopK layer orders them.
            at::Tensor x = ties ? random(DataType::kINT32, {3, 4, 5}, seed++, 0, 2).to(to_aten(t))
                                : distinct(t, {3, 4, 5}, seed++);
            at::Tensor got =
                run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                  return is_max
                             ? tk::argmax(ctx, kTarget, SourceIR::kATEN, "a", in[0], dim, keepdim)
                             : tk::argmin(ctx, kTarget, SourceIR::kATEN, "a", in[0], dim, keepdim);
                });
            at::Tensor expected =
                is_max ? at::argmax(x, c_dim(dim), keepdim) : at::argmin(x, c_dim(dim), keepdim);
            expect_close(got, expected, 1.0,
                         std::string(is_max ? "argmax " : "argmin ") +
                             std::string(data_type_name(t)) +
                             (dim ? " dim " + std::to_string(*dim) : " flat") +
                             (keepdim ? " keepdim" : "") + (ties ? " ties" : ""));
          }
        }
      }
    }
  }
  at::Tensor s = random(DataType::kFLOAT, {}, 9);
  at::Tensor got = run_block({s}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return tk::argmax(ctx, kTarget, SourceIR::kATEN, "a", in[0], 0);
  });
  expect_close(got, at::argmax(s, 0), 1.0, "rank 0");
}

TEST(ImplTopK, SortEveryTypeDimAndDirectionStableForTies) {
  uint64_t seed = 300;
  std::vector<DataType> types = kNumeric;
  types.push_back(DataType::kBOOL);
  for (DataType t : types) {
    for (int64_t dim : {0, -1, 1}) {
      for (bool descending : {false, true}) {
        for (bool ties : {false, true}) {
          if (t == DataType::kBOOL && !ties) continue;
          at::Tensor x =
              ties ? (t == DataType::kBOOL
                          ? random(t, {3, 4, 5}, seed++)
                          : random(DataType::kINT32, {3, 4, 5}, seed++, -2, 2).to(to_aten(t)))
                   : distinct(t, {3, 4, 5}, seed++);
          auto [v, i] = run_pair(x, [&](ConversionContext& ctx, Tensor* in) {
            return tk::sort(ctx, kTarget, SourceIR::kATEN, "s", in, dim, descending);
          });
          // The TopK layer keeps equal values in index order: torch's stable sort.
          auto [ev, ei] = at::sort(x, /*stable=*/true, dim, descending);
          std::string what = std::string(data_type_name(t)) + " dim " + std::to_string(dim) +
                             (descending ? " descending" : "") + (ties ? " ties" : "");
          expect_close(v, ev, 1.0, what);
          expect_close(i, ei, 1.0, what);
        }
      }
    }
  }
  at::Tensor s = random(DataType::kFLOAT, {}, 9);
  auto [v, i] = run_pair(s, [&](ConversionContext& ctx, Tensor* in) {
    return tk::sort(ctx, kTarget, SourceIR::kATEN, "s", in, -1);
  });
  auto [ev, ei] = at::sort(s, -1);
  expect_close(v, ev, 1.0, "rank 0 values");
  expect_close(i, ei, 1.0, "rank 0 indices");
}

TEST(ImplTopK, DynamicShapesAtMinOptMax) {
  std::vector<std::vector<at::Tensor>> sets = {{distinct(DataType::kFLOAT, {1, 2, 3}, 11)},
                                               {distinct(DataType::kFLOAT, {2, 3, 4}, 12)},
                                               {distinct(DataType::kFLOAT, {3, 5, 6}, 13)}};
  for (int output : {0, 1}) {
    // sort over a dynamic dim reads k from the shape at run time.
    run_block_dynamic(
        sets,
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          tk::ValuesIndices r = tk::sort(ctx, kTarget, SourceIR::kATEN, "s", in[0], 1, true);
          return output == 0 ? r.values : r.indices;
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          auto [ev, ei] = at::sort(in[0], true, 1, true);
          expect_close(out, output == 0 ? ev : ei, 1.0,
                       "dynamic sort " + dims_of(in[0]).to_string());
        });
    run_block_dynamic(
        sets,
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          tk::ValuesIndices r = tk::topk(ctx, kTarget, SourceIR::kATEN, "t", in[0], 1, -1, false);
          return output == 0 ? r.values : r.indices;
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          auto [ev, ei] = at::topk(in[0], 1, -1, false);
          expect_close(out, output == 0 ? ev : ei, 1.0,
                       "dynamic topk " + dims_of(in[0]).to_string());
        });
    // k as a run-time tensor: the last dim's size minus 1, from the shape.
    run_block_dynamic(
        sets,
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          Layer* shape = ctx.net().add_shape(in[0]);
          Layer* last = ctx.net().add_slice(shape->output(0), Dims{2}, Dims{1}, Dims{1});
          Tensor* one = ctx.net()
                            .add_constant(Dims{1}, Weights::from_vector(std::vector<int64_t>{1}))
                            ->output(0);
          Tensor* k = ctx.net()
                          .add_elementwise(last->output(0), one, ElementWiseOperation::kSUB)
                          ->output(0);
          tk::ValuesIndices r =
              tk::topk_k_tensor(ctx, kTarget, SourceIR::kATEN, "k", in[0], k, -1, true);
          return output == 0 ? r.values : r.indices;
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          const int64_t k = in[0].size(-1) - 1;
          auto [ev, ei] = at::topk(in[0], k, -1, true);
          expect_close(out, output == 0 ? ev : ei, 1.0,
                       "topk with run-time k " + dims_of(in[0]).to_string());
        });
  }
  for (std::optional<int64_t> dim : {std::optional<int64_t>{}, std::optional<int64_t>{-2}}) {
    for (bool keepdim : {false, true}) {
      run_block_dynamic(
          sets,
          [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            return tk::argmin(ctx, kTarget, SourceIR::kATEN, "a", in[0], dim, keepdim);
          },
          [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
            expect_close(out, at::argmin(in[0], c_dim(dim), keepdim), 1.0,
                         "dynamic argmin " + dims_of(in[0]).to_string());
          });
    }
  }
}

TEST(ImplTopK, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 6});
  tk::ValuesIndices r = tk::topk(ctx, "topk", SourceIR::kATEN, "t", x, 2);
  EXPECT_EQ(r.values->producer()->name(), "[TOPK]-[aten_ops.topk]-[t]");
  EXPECT_EQ(r.values->name(), "[TOPK]-[aten_ops.topk]-[t]_output0");
  EXPECT_EQ(r.indices->name(), "[TOPK]-[aten_ops.topk]-[t]_output1");
  EXPECT_EQ(r.indices->type(), DataType::kINT64);
  Tensor* a = tk::argmax(ctx, "argmax", SourceIR::kATEN, "a", x, 1);
  EXPECT_EQ(a->producer()->name(), "[SHUFFLE]-[aten_ops.argmax]-[a]");
  EXPECT_NE(net.find_layer("[TOPK]-[aten_ops.argmax]-[a_topk]"), nullptr) << net.to_string();
  Tensor* f = tk::argmin(ctx, "argmin", std::nullopt, "f", x);
  EXPECT_EQ(f->producer()->name(), "[SHUFFLE]-[unknown_ops.argmin]-[f]");
  EXPECT_NE(net.find_layer("[SHUFFLE]-[unknown_ops.argmin]-[f_flatten]"), nullptr)
      << net.to_string();
  Tensor* b = net.add_input("b", DataType::kBOOL, {-1, 3});
  tk::ValuesIndices s = tk::sort(ctx, "sort", SourceIR::kATEN, "s", b, 0);
  EXPECT_EQ(s.values->producer()->name(), "[CAST]-[aten_ops.sort]-[s_values]");
  EXPECT_EQ(s.indices->producer()->name(), "[TOPK]-[aten_ops.sort]-[s]");
  for (const char* n : {"[CAST]-[aten_ops.sort]-[s_cast]", "[SHAPE]-[aten_ops.sort]-[s_shape]",
                        "[GATHER]-[aten_ops.sort]-[s_k]"})
    EXPECT_NE(net.find_layer(n), nullptr) << n << "\n" << net.to_string();
  tk::ValuesIndices r2 = tk::topk(ctx, "topk", SourceIR::kATEN, "t", x, 1);
  EXPECT_EQ(r2.values->producer()->name(), "[TOPK]-[aten_ops.topk]-[t]_1");
}

TEST(ImplTopK, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor f = random(DataType::kFLOAT, {2, 5}, 1);
  at::Tensor b = random(DataType::kBOOL, {2, 5}, 2);
  at::Tensor big = random(DataType::kFLOAT, {4000}, 3);
  auto blk = [](auto fn) {
    return [fn](ConversionContext& ctx, const std::vector<Tensor*>& in) { return fn(ctx, in[0]); };
  };
  expect_block_error({f}, blk([](ConversionContext& ctx, Tensor* x) {
                       return tk::topk(ctx, kTarget, SourceIR::kATEN, "bad", x, 6).values;
                     }),
                     {"topk::topk", "test.op", "'bad'", "k 6", "size 5"});
  expect_block_error({f}, blk([](ConversionContext& ctx, Tensor* x) {
                       return tk::topk(ctx, kTarget, SourceIR::kATEN, "t", x, 0).values;
                     }),
                     {"topk::topk", "k 0"});
  expect_block_error({f}, blk([](ConversionContext& ctx, Tensor* x) {
                       return tk::topk(ctx, kTarget, SourceIR::kATEN, "t", x, 1, 2).values;
                     }),
                     {"topk::topk", "dim 2", "out of range"});
  expect_block_error({b}, blk([](ConversionContext& ctx, Tensor* x) {
                       return tk::topk(ctx, kTarget, SourceIR::kATEN, "t", x, 1).values;
                     }),
                     {"topk::topk", "bool"});
  expect_block_error({big}, blk([](ConversionContext& ctx, Tensor* x) {
                       return tk::topk(ctx, kTarget, SourceIR::kATEN, "t", x, 3900).values;
                     }),
                     {"topk::topk", "k 3900", "3840"});
  expect_block_error({big}, blk([](ConversionContext& ctx, Tensor* x) {
                       return tk::sort(ctx, kTarget, SourceIR::kATEN, "s", x).values;
                     }),
                     {"topk::sort", "size 4000", "3840"});
  expect_block_error({b}, blk([](ConversionContext& ctx, Tensor* x) {
                       return tk::argmax(ctx, kTarget, SourceIR::kATEN, "a", x, 1);
                     }),
                     {"topk::argmax", "bool"});
  expect_block_error({f}, blk([](ConversionContext& ctx, Tensor* x) {
                       return tk::argmin(ctx, kTarget, SourceIR::kATEN, "a", x, -3);
                     }),
                     {"topk::argmin", "dim -3", "out of range"});
}

}  // namespace
}  // namespace lktest
