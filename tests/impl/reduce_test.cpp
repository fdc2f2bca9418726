// Reduction building blocks against ATen: every function, dtype, dim list and keepdim; dynamic
// shapes; errors; layer names.
#include "layerkit/impl/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace rd = layerkit::impl::reduce;

const Target kTarget("test.op");

using DimList = rd::DimList;
using Block = std::function<Tensor*(ConversionContext&, Tensor*, DimList, bool)>;
// The oracle gets the reduced dims spelled out (every dim when the block reduces all).
using Oracle = std::function<at::Tensor(const at::Tensor&, std::vector<int64_t>, bool)>;

struct Case {
  std::string name;
  Block block;
  Oracle aten;
  std::vector<DataType> types;
  // The result type torch gives for an input type.
  std::function<DataType(DataType)> out;
  enum Domain { kANY, kPROD, kSPARSE } domain = kANY;
  // ATen 1.13 reductions of fp16/bf16 on CPU accumulate in fp32 (or lack the kernel): the
  // reference for those is computed on fp32 input and rounded once.
  bool upcast_reference = false;
};

const std::vector<DataType> kAll = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                    DataType::kINT32, DataType::kINT64, DataType::kBOOL};
const std::vector<DataType> kFloat = {DataType::kFLOAT, DataType::kHALF, DataType::kBF16};

DataType same(DataType t) {
  return t;
}
DataType int_to_int64(DataType t) {
  return is_floating(t) ? t : DataType::kINT64;
}
DataType to_bool(DataType) {
  return DataType::kBOOL;
}

// Single-dim ATen reductions (prod, any, all in 1.13) applied dim by dim, highest first so the
// remaining dims keep their positions.
at::Tensor chain(const std::function<at::Tensor(const at::Tensor&, int64_t, bool)>& f,
                 const std::function<at::Tensor(const at::Tensor&)>& whole, const at::Tensor& x,
                 std::vector<int64_t> dims, bool keepdim) {
  if (dims.empty()) return whole(x);
  for (int64_t& d : dims)
    if (d < 0) d += x.dim();
  std::sort(dims.rbegin(), dims.rend());
  at::Tensor r = x;
  for (int64_t d : dims) r = f(r, d, keepdim);
  return r;
}

template <typename F>
Block block_of(F f, std::string name) {
  return [f, name](ConversionContext& ctx, Tensor* x, DimList dims, bool keepdim) {
    return f(ctx, kTarget, SourceIR::kATEN, name, x, dims, keepdim);
  };
}

std::vector<Case> cases() {
  using C = Case;
  return {
      {"sum",
       [](ConversionContext& ctx, Tensor* x, DimList d, bool k) {
         return rd::sum(ctx, kTarget, SourceIR::kATEN, "sum", x, d, k);
       },
       [](const at::Tensor& x, std::vector<int64_t> d, bool k) { return at::sum(x, d, k); }, kAll,
       int_to_int64},
      {"sum_dtype_fp32",
       [](ConversionContext& ctx, Tensor* x, DimList d, bool k) {
         return rd::sum(ctx, kTarget, SourceIR::kATEN, "sum", x, d, k, DataType::kFLOAT);
       },
       [](const at::Tensor& x, std::vector<int64_t> d, bool k) {
         return at::sum(x, d, k, at::kFloat);
       },
       kAll, [](DataType) { return DataType::kFLOAT; }},
      {"mean",
       [](ConversionContext& ctx, Tensor* x, DimList d, bool k) {
         return rd::mean(ctx, kTarget, SourceIR::kATEN, "mean", x, d, k);
       },
       [](const at::Tensor& x, std::vector<int64_t> d, bool k) { return at::mean(x, d, k); },
       // ATen 1.13's CPU mean of fp16/bf16 rounds the sum to the type before dividing (two
       // roundings); the block rounds once, so the reference is the fp32 mean rounded once.
       kFloat, same, C::kANY, true},
      {"mean_dtype_fp32",
       [](ConversionContext& ctx, Tensor* x, DimList d, bool k) {
         return rd::mean(ctx, kTarget, SourceIR::kATEN, "mean", x, d, k, DataType::kFLOAT);
       },
       [](const at::Tensor& x, std::vector<int64_t> d, bool k) {
         return at::mean(x, d, k, at::kFloat);
       },
       kAll, [](DataType) { return DataType::kFLOAT; }},
      {"max", block_of(rd::max, "max"),
       [](const at::Tensor& x, std::vector<int64_t> d, bool k) { return at::amax(x, d, k); }, kAll,
       same},
      {"min", block_of(rd::min, "min"),
       [](const at::Tensor& x, std::vector<int64_t> d, bool k) { return at::amin(x, d, k); }, kAll,
       same},
      {"prod",
       [](ConversionContext& ctx, Tensor* x, DimList d, bool k) {
         return rd::prod(ctx, kTarget, SourceIR::kATEN, "prod", x, d, k);
       },
       [](const at::Tensor& x, std::vector<int64_t> d, bool k) {
         return chain([](const at::Tensor& t, int64_t i, bool kd) { return at::prod(t, i, kd); },
                      [](const at::Tensor& t) { return at::prod(t); }, x, d, k);
       },
       kAll, int_to_int64, C::kPROD},
      {"any", block_of(rd::any, "any"),
       [](const at::Tensor& x, std::vector<int64_t> d, bool k) {
         return chain([](const at::Tensor& t, int64_t i, bool kd) { return at::any(t, i, kd); },
                      [](const at::Tensor& t) { return at::any(t); }, x, d, k);
       },
       kAll, to_bool, C::kSPARSE},
      {"all", block_of(rd::all, "all"),
       [](const at::Tensor& x, std::vector<int64_t> d, bool k) {
         return chain([](const at::Tensor& t, int64_t i, bool kd) { return at::all(t, i, kd); },
                      [](const at::Tensor& t) { return at::all(t); }, x, d, k);
       },
       kAll, to_bool, C::kSPARSE},
  };
}

std::vector<Case> float_cases() {
  auto norm = [](rd::NormOrder p, std::optional<double> ord, std::string label) {
    return Case{"norm_" + label,
                [p](ConversionContext& ctx, Tensor* x, DimList d, bool k) {
                  return rd::norm(ctx, kTarget, SourceIR::kATEN, "norm", x, p, d, k);
                },
                [ord](const at::Tensor& x, std::vector<int64_t> d, bool k) {
                  // frobenius_norm takes at most two dims; torch.norm(p="fro") over more is the
                  // vector
                  // 2-norm.
                  if (!ord && d.size() <= 2) return at::frobenius_norm(x, d, k);
                  if (!ord) return at::linalg_vector_norm(x, 2.0, d, k);
                  return at::linalg_vector_norm(x, *ord, d, k);
                },
                kFloat,
                same,
                Case::kANY,
                true};
  };
  auto var = [](double corr, bool is_std) {
    return Case{std::string(is_std ? "std" : "var") + "_correction" + std::to_string(int(corr)),
                [corr, is_std](ConversionContext& ctx, Tensor* x, DimList d, bool k) {
                  return is_std ? rd::std(ctx, kTarget, SourceIR::kATEN, "v", x, d, corr, k)
                                : rd::var(ctx, kTarget, SourceIR::kATEN, "v", x, d, corr, k);
                },
                [corr, is_std](const at::Tensor& x, std::vector<int64_t> d, bool k) {
                  at::OptionalIntArrayRef dims = d;
                  // c10::optional, not int64_t: a plain int would bind to the `bool unbiased`
                  // overload.
                  c10::optional<int64_t> c = static_cast<int64_t>(corr);
                  return is_std ? at::std(x, dims, c, k) : at::var(x, dims, c, k);
                },
                kFloat,
                same,
                Case::kANY,
                true};
  };
  const double inf = std::numeric_limits<double>::infinity();
  return {norm(2.0, 2.0, "2"),   norm(1.0, 1.0, "1"),
          norm(inf, inf, "inf"), norm(-inf, -inf, "neg_inf"),
          norm(0.0, 0.0, "0"),   norm(3.0, 3.0, "3"),
          norm(0.5, 0.5, "0.5"), norm("fro", std::nullopt, "fro"),
          var(1, false),         var(0, false),
          var(2, false),         var(1, true),
          var(0, true)};
}

at::Tensor input_for(const Case& c, DataType t, const std::vector<int64_t>& shape, uint64_t seed) {
  if (t == DataType::kBOOL) return random(t, shape, seed);
  bool integral = is_integer(t);
  // prod: magnitudes near 1 so 24-element products stay finite and exact in int64.
  if (c.domain == Case::kPROD)
    return integral ? random(t, shape, seed, -2, 2) : random(t, shape, seed, 0.5, 1.5);
  // any/all: many zeros so both outcomes occur.
  if (c.domain == Case::kSPARSE)
    return at::where(random(DataType::kBOOL, shape, seed + 3), random(t, shape, seed, 1, 3),
                     at::zeros_like(random(t, shape, seed)));
  return integral ? random(t, shape, seed, -9, 9) : random(t, shape, seed, -3, 3);
}

at::Tensor reference(const Case& c, const at::Tensor& x, const std::vector<int64_t>& dims,
                     bool keepdim) {
  at::ScalarType out = to_aten(c.out(from_aten(x.scalar_type())));
  bool low = x.scalar_type() == at::kHalf || x.scalar_type() == at::kBFloat16;
  if (c.upcast_reference && low) return c.aten(x.to(at::kFloat), dims, keepdim).to(out);
  try {
    return c.aten(x, dims, keepdim);
  } catch (const c10::Error&) {
    return c.aten(x.to(at::kFloat), dims, keepdim).to(out);
  }
}

struct DimCase {
  DimList dims;
  std::vector<int64_t> explicit_dims;  // for the oracle
};

const std::vector<DimCase> kDimCases = {{std::nullopt, {0, 1, 2}},
                                        {std::vector<int64_t>{}, {0, 1, 2}},
                                        {std::vector<int64_t>{1}, {1}},
                                        {std::vector<int64_t>{-1}, {-1}},
                                        {std::vector<int64_t>{0, 2}, {0, 2}},
                                        {std::vector<int64_t>{-1, -3}, {-1, -3}},
                                        {std::vector<int64_t>{2, 0, 1}, {2, 0, 1}}};

int64_t reduced_count(const std::vector<int64_t>& shape, const std::vector<int64_t>& dims) {
  int64_t k = 1;
  for (int64_t d : dims) k *= shape[static_cast<size_t>(d < 0 ? d + 3 : d)];
  return k;
}

void sweep(const std::vector<Case>& all_cases) {
  const std::vector<int64_t> shape = {2, 3, 4};
  uint64_t seed = 1;
  for (const Case& c : all_cases) {
    for (DataType t : c.types) {
      for (const DimCase& dc : kDimCases) {
        for (bool keepdim : {false, true}) {
          at::Tensor x = input_for(c, t, shape, seed++);
          at::Tensor got =
              run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                return c.block(ctx, in[0], dc.dims, keepdim);
              });
          // Reductions accumulate over K elements: tolerance scaled by sqrt(K).
          double scale = std::sqrt(static_cast<double>(reduced_count(shape, dc.explicit_dims)));
          expect_close(got, reference(c, x, dc.explicit_dims, keepdim), scale,
                       c.name + " " + std::string(data_type_name(t)) + " dims " +
                           std::to_string(dc.explicit_dims.size()) +
                           (dc.dims ? " listed" : " nullopt") + (keepdim ? " keepdim" : ""));
        }
      }
    }
  }
}

TEST(ImplReduce, EveryFunctionTypeDimListAndKeepdim) {
  sweep(cases());
}

TEST(ImplReduce, NormVarStdEveryOrderCorrectionAndFloatType) {
  sweep(float_cases());
}

TEST(ImplReduce, RankZeroInputsReduceToThemselves) {
  uint64_t seed = 900;
  std::vector<Case> all = cases();
  for (const Case& c : float_cases()) all.push_back(c);
  for (const Case& c : all) {
    for (DataType t : c.types) {
      for (DimList dims : {DimList{}, DimList{std::vector<int64_t>{-1}}}) {
        at::Tensor x = input_for(c, t, {}, seed++);
        at::Tensor got =
            run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return c.block(ctx, in[0], dims, false);
            });
        expect_close(
            got, reference(c, x, dims ? std::vector<int64_t>{0} : std::vector<int64_t>{}, false),
            1.0, c.name + " rank 0 " + std::string(data_type_name(t)));
      }
    }
  }
}

TEST(ImplReduce, NanPropagatesThroughMaxMinAndCountsAsTrue) {
  at::Tensor x = random(DataType::kFLOAT, {3, 4}, 7);
  x.index_put_({1, 2}, std::nan(""));
  for (const Case& c : cases()) {
    if (c.name != "max" && c.name != "min" && c.name != "any" && c.name != "all" && c.name != "sum")
      continue;
    at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return c.block(ctx, in[0], std::vector<int64_t>{1}, false);
    });
    expect_close(got, reference(c, x, {1}, false), 2.0, c.name + " NaN");  // K = 4
  }
}

TEST(ImplReduce, EmptyReductionsGiveTorchIdentities) {
  at::Tensor x = random(DataType::kFLOAT, {2, 0, 3}, 8);
  for (const Case& c : cases()) {
    if (c.name == "max" || c.name == "min") continue;  // torch refuses these
    at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return c.block(ctx, in[0], std::vector<int64_t>{1}, false);
    });
    expect_close(got, reference(c, x, {1}, false), 1.0, c.name + " empty");
  }
}

TEST(ImplReduce, DynamicShapesAtMinOptMax) {
  std::vector<Case> all = cases();
  for (const Case& c : float_cases()) all.push_back(c);
  uint64_t seed = 1000;
  for (const Case& c : all) {
    DataType t = c.types.front();
    std::vector<std::vector<at::Tensor>> sets = {{input_for(c, t, {1, 2, 3}, seed)},
                                                 {input_for(c, t, {2, 3, 4}, seed + 1)},
                                                 {input_for(c, t, {3, 5, 6}, seed + 2)}};
    seed += 3;
    for (DimList dims : {DimList{std::vector<int64_t>{-2, 0}}, DimList{}}) {
      std::vector<int64_t> oracle_dims = dims ? *dims : std::vector<int64_t>{0, 1, 2};
      for (bool keepdim : {false, true}) {
        run_block_dynamic(
            sets,
            [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return c.block(ctx, in[0], dims, keepdim);
            },
            [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
              std::vector<int64_t> shape = in[0].sizes().vec();
              // Accumulates over K elements: tolerance scaled by sqrt(K).
              double scale = std::sqrt(static_cast<double>(reduced_count(shape, oracle_dims)));
              expect_close(out, reference(c, in[0], oracle_dims, keepdim), scale,
                           c.name + " dynamic " + dims_of(in[0]).to_string());
            });
      }
    }
  }
}

TEST(ImplReduce, VarCountsDynamicDimsAtRunTime) {
  // The element count comes from a Shape layer, not from the build-time -1.
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, -1});
  rd::var(ctx, kTarget, SourceIR::kATEN, "v", x, std::vector<int64_t>{1});
  EXPECT_NE(net.find_layer("[SHAPE]-[aten_ops.test.op]-[v_count_shape]"), nullptr)
      << net.to_string();
  // Static dims: a constant count.
  Tensor* y = net.add_input("y", DataType::kFLOAT, {2, 5});
  rd::var(ctx, kTarget, SourceIR::kATEN, "w", y, std::vector<int64_t>{1});
  EXPECT_NE(net.find_layer("[CONSTANT]-[aten_ops.test.op]-[w_count]"), nullptr) << net.to_string();
}

TEST(ImplReduce, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* s = rd::sum(ctx, "sum.dim_IntList", SourceIR::kATEN, "s", x, std::vector<int64_t>{1});
  EXPECT_EQ(s->producer()->name(), "[REDUCE]-[aten_ops.sum.dim_IntList]-[s]");
  EXPECT_EQ(s->name(), "[REDUCE]-[aten_ops.sum.dim_IntList]-[s]");
  Tensor* i = net.add_input("i", DataType::kINT32, {2, 3});
  Tensor* si = rd::sum(ctx, "sum", std::nullopt, "si", i);
  EXPECT_EQ(si->type(), DataType::kINT64);
  EXPECT_EQ(si->producer()->name(), "[REDUCE]-[unknown_ops.sum]-[si]");
  EXPECT_NE(net.find_layer("[CAST]-[unknown_ops.sum]-[si_cast]"), nullptr) << net.to_string();
  Tensor* h = net.add_input("h", DataType::kHALF, {2, 3});
  Tensor* v = rd::var(ctx, "var", SourceIR::kATEN, "v", h, std::vector<int64_t>{-1});
  EXPECT_EQ(v->producer()->name(), "[CAST]-[aten_ops.var]-[v]");
  for (const char* n :
       {"[CAST]-[aten_ops.var]-[v_upcast]", "[REDUCE]-[aten_ops.var]-[v_mean]",
        "[ELEMENTWISE]-[aten_ops.var]-[v_diff]", "[ELEMENTWISE]-[aten_ops.var]-[v_square]",
        "[REDUCE]-[aten_ops.var]-[v_sum]", "[CONSTANT]-[aten_ops.var]-[v_count]",
        "[ELEMENTWISE]-[aten_ops.var]-[v_div]"})
    EXPECT_NE(net.find_layer(n), nullptr) << n << "\n" << net.to_string();
  // The same name again gets a deterministic suffix.
  Tensor* s2 = rd::sum(ctx, "sum.dim_IntList", SourceIR::kATEN, "s", x);
  EXPECT_EQ(s2->producer()->name(), "[REDUCE]-[aten_ops.sum.dim_IntList]-[s]_1");
  Tensor* b = net.add_input("b", DataType::kBOOL, {2, 3});
  Tensor* a = rd::any(ctx, "any", SourceIR::kATEN, "a", b);
  EXPECT_EQ(a->producer()->name(), "[CAST]-[aten_ops.any]-[a]");
  EXPECT_NE(net.find_layer("[REDUCE]-[aten_ops.any]-[a_reduce]"), nullptr) << net.to_string();
}

TEST(ImplReduce, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor f = random(DataType::kFLOAT, {2, 3, 4}, 1);
  at::Tensor i = random(DataType::kINT32, {2, 3}, 2, -3, 3);
  auto blk = [](auto fn) {
    return [fn](ConversionContext& ctx, const std::vector<Tensor*>& in) { return fn(ctx, in[0]); };
  };
  expect_block_error(
      {f}, blk([](ConversionContext& ctx, Tensor* x) {
        return rd::sum(ctx, kTarget, SourceIR::kATEN, "bad", x, std::vector<int64_t>{0, 3});
      }),
      {"reduce::sum", "test.op", "'bad'", "dim 3", "out of range", "-3..2"});
  expect_block_error(
      {f}, blk([](ConversionContext& ctx, Tensor* x) {
        return rd::max(ctx, kTarget, SourceIR::kATEN, "m", x, std::vector<int64_t>{1, -2});
      }),
      {"reduce::max", "dim -2", "more than once"});
  expect_block_error({i}, blk([](ConversionContext& ctx, Tensor* x) {
                       return rd::mean(ctx, kTarget, SourceIR::kATEN, "m", x);
                     }),
                     {"reduce::mean", "int32", "floating"});
  expect_block_error({i}, blk([](ConversionContext& ctx, Tensor* x) {
                       return rd::var(ctx, kTarget, SourceIR::kATEN, "v", x);
                     }),
                     {"reduce::var", "int32", "floating"});
  expect_block_error({i}, blk([](ConversionContext& ctx, Tensor* x) {
                       return rd::std(ctx, kTarget, SourceIR::kATEN, "v", x);
                     }),
                     {"reduce::std", "int32", "floating"});
  expect_block_error({i}, blk([](ConversionContext& ctx, Tensor* x) {
                       return rd::norm(ctx, kTarget, SourceIR::kATEN, "n", x);
                     }),
                     {"reduce::norm", "int32", "floating"});
  expect_block_error({f}, blk([](ConversionContext& ctx, Tensor* x) {
                       return rd::norm(ctx, kTarget, SourceIR::kATEN, "n", x, "nuc");
                     }),
                     {"reduce::norm", "'nuc'"});
  expect_block_error({f}, blk([](ConversionContext& ctx, Tensor* x) {
                       return rd::mean(ctx, kTarget, SourceIR::kATEN, "m", x,
                                       std::vector<int64_t>{-4});
                     }),
                     {"reduce::mean", "dim -4"});
  expect_block_error({f}, blk([](ConversionContext& ctx, Tensor* x) {
                       return rd::sum(ctx, kTarget, SourceIR::kATEN, "s", x, std::nullopt, false,
                                      DataType::kFP8);
                     }),
                     {"reduce::sum", "dtype", "fp8"});
}

}  // namespace
}  // namespace lktest
