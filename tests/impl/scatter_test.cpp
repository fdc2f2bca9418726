// scatter, scatter_reduce and scatter_nd building blocks against ATen (at::scatter,
// at::scatter_reduce, index_put_ steps): dtypes, reductions with duplicates, scalar and larger
// src, negative indices, dynamic shapes; errors.
#include "layerkit/impl/scatter.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace sc = layerkit::impl::scatter;

const Target kTarget("scatter.src");

const std::vector<DataType> kAll = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                    DataType::kINT8,  DataType::kUINT8, DataType::kINT32,
                                    DataType::kINT64};

// Indices along `axis` without repeats on any line (plain scatter with duplicates is
// order-dependent in torch's docs), shaped `ishape`, drawn from [0, n).
at::Tensor unique_line_indices(std::vector<int64_t> ishape, int64_t axis, int64_t n,
                               uint64_t seed) {
  std::vector<int64_t> full = ishape;
  full[static_cast<size_t>(axis)] = n;
  at::Tensor perm = random(DataType::kFLOAT, full, seed, 0.0, 1.0).argsort(axis);
  return perm.narrow(axis, 0, ishape[static_cast<size_t>(axis)]).contiguous();
}

TEST(ImplScatter, ScatterEveryTypeAndDim) {
  uint64_t seed = 1;
  for (DataType t : kAll) {
    for (int64_t dim : {0, 1, -1}) {
      at::Tensor x = random(t, {4, 5}, seed++);
      at::Tensor idx =
          unique_line_indices({3, 3}, dim < 0 ? dim + 2 : dim, dim == 0 ? 4 : 5, seed++);
      at::Tensor src = random(t, {3, 3}, seed++);
      at::Tensor got =
          run_block({x, idx, src}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            return sc::scatter(ctx, kTarget, SourceIR::kATEN, "s", in[0], dim, in[1], in[2]);
          });
      expect_close(got, at::scatter(x, dim, idx, src), 1.0,
                   std::string(data_type_name(t)) + " dim " + std::to_string(dim));
    }
  }
}

TEST(ImplScatter, SrcLargerThanIndexAndScalarSrc) {
  at::Tensor x = random(DataType::kFLOAT, {4, 5}, 10);
  at::Tensor idx = unique_line_indices({2, 3}, 1, 5, 11);
  at::Tensor src = random(DataType::kFLOAT, {3, 6}, 12);
  at::Tensor got =
      run_block({x, idx, src}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return sc::scatter(ctx, kTarget, SourceIR::kATEN, "s", in[0], 1, in[1], in[2]);
      });
  expect_close(got, at::scatter(x, 1, idx, src), 1.0, "src larger than index");
  for (DataType t : {DataType::kFLOAT, DataType::kHALF, DataType::kINT32}) {
    at::Tensor xt = random(t, {4, 5}, 13);
    got = run_block({xt, idx}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return sc::scatter(ctx, kTarget, SourceIR::kATEN, "s", in[0], 1, in[1], 2.0);
    });
    expect_close(got, at::scatter(xt, 1, idx, at::Scalar(2.0)), 1.0,
                 "scalar src " + std::string(data_type_name(t)));
  }
  // A scalar with a reduction: torch.scatter(reduce="add"/"multiply").
  at::Tensor dup = random(DataType::kINT64, {3, 4}, 14, 0, 3);
  for (const char* reduce : {"add", "multiply"}) {
    got = run_block({x, dup}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return sc::scatter(ctx, kTarget, SourceIR::kATEN, "s", in[0], 0, in[1], 1.5, reduce);
    });
    expect_close(got, at::scatter(x, 0, dup, at::Scalar(1.5), reduce), 1.0,
                 std::string("scalar ") + reduce);
  }
}

TEST(ImplScatter, ScatterReduceWithDuplicates) {
  uint64_t seed = 100;
  for (DataType t : kAll) {
    for (const char* reduce : {"sum", "prod", "amax", "amin"}) {
      at::Tensor x = random(t, {3, 4}, seed++, 0, 3);
      at::Tensor idx = random(DataType::kINT64, {6, 4}, seed++, 0, 2);
      at::Tensor src = random(t, {7, 4}, seed++, 0, 3);
      at::Tensor got =
          run_block({x, idx, src}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            return sc::scatter(ctx, kTarget, SourceIR::kATEN, "s", in[0], 0, in[1], in[2], reduce);
          });
      expect_close(got, at::scatter_reduce(x, 0, idx, src.narrow(0, 0, 6), reduce, true), 1.0,
                   std::string(data_type_name(t)) + " " + reduce);
    }
  }
}

TEST(ImplScatter, NegativeIndicesCountFromTheEnd) {
  at::Tensor x = random(DataType::kFLOAT, {3, 5}, 200);
  at::Tensor pos = unique_line_indices({3, 4}, 1, 5, 201);
  at::Tensor neg = at::where(random(DataType::kBOOL, {3, 4}, 202), pos - 5, pos);
  at::Tensor src = random(DataType::kFLOAT, {3, 4}, 203);
  at::Tensor got =
      run_block({x, neg, src}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return sc::scatter(ctx, kTarget, SourceIR::kONNX, "s", in[0], 1, in[1], in[2]);
      });
  expect_close(got, at::scatter(x, 1, pos, src), 1.0, "negative indices");
}

TEST(ImplScatter, DynamicShapesAtMinOptMax) {
  auto set = [](int64_t n, int64_t k) {
    at::Tensor x = random(DataType::kFLOAT, {n, 6}, 300 + k);
    at::Tensor idx = random(DataType::kINT64, {n, 3}, 310 + k, 0, 5);
    at::Tensor src = random(DataType::kFLOAT, {n, 4}, 320 + k);
    return std::vector<at::Tensor>{x, idx, src};
  };
  run_block_dynamic(
      {set(1, 0), set(3, 1), set(5, 2)},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return sc::scatter(ctx, kTarget, SourceIR::kATEN, "s", in[0], 1, in[1], in[2], "sum");
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::scatter_reduce(in[0], 1, in[1], in[2].narrow(1, 0, 3), "sum", true),
                     1.0, "dynamic scatter_reduce");
      });
  run_block_dynamic(
      {set(1, 3), set(2, 4), set(4, 5)},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return sc::scatter(ctx, kTarget, SourceIR::kATEN, "s", in[0], 1, in[1], -1.0, "amax");
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        at::Tensor src = at::full(in[1].sizes(), -1.0);
        expect_close(out, at::scatter_reduce(in[0], 1, in[1], src, "amax", true), 1.0,
                     "dynamic scalar amax");
      });
}

// ScatterND reference: one ATen step per index tuple (negative entries wrapped), in order.
at::Tensor scatter_nd_ref(const at::Tensor& data, const at::Tensor& idx, const at::Tensor& upd,
                          const std::string& reduction) {
  using namespace at::indexing;
  const int64_t m = idx.size(-1);
  at::Tensor flat = idx.to(at::kLong).reshape({-1, m});
  std::vector<int64_t> ushape = {flat.size(0)};
  for (int64_t d = m; d < data.dim(); ++d) ushape.push_back(data.size(d));
  at::Tensor u = upd.reshape(ushape);
  at::Tensor out = data.clone();
  for (int64_t k = 0; k < flat.size(0); ++k) {
    // Reserved: Note [TensorIndex moves] (tests/runtime/cpu/gather_test.cpp).
    std::vector<TensorIndex> ti;
    ti.reserve(static_cast<size_t>(m));
    for (int64_t d = 0; d < m; ++d) {
      int64_t v = flat[k][d].item<int64_t>();
      ti.emplace_back(v < 0 ? v + data.size(d) : v);
    }
    at::Tensor cur = out.index(ti);
    at::Tensor r = reduction == "none"  ? u[k]
                   : reduction == "add" ? cur + u[k]
                   : reduction == "mul" ? cur * u[k]
                   : reduction == "max" ? at::maximum(cur, u[k])
                                        : at::minimum(cur, u[k]);
    out.index_put_(ti, r);
  }
  return out;
}

TEST(ImplScatterND, EveryTypeAndReduction) {
  uint64_t seed = 400;
  for (DataType t : kAll) {
    for (const char* red : {"none", "add", "mul", "max", "min"}) {
      for (int64_t m : {1, 2}) {
        at::Tensor x = random(t, {3, 2, 4}, seed++, 0, 3);
        // Index tuples with duplicates only where a reduction makes the order irrelevant.
        at::Tensor idx;
        if (std::string(red) == "none") {
          idx = m == 1 ? at::tensor({2, -3}, at::kLong).reshape({2, 1})
                       : at::tensor({0, 1, -1, 0, 1, -1}, at::kLong).reshape({3, 2});
        } else {
          std::vector<at::Tensor> cols;
          for (int64_t d = 0; d < m; ++d)
            cols.push_back(random(DataType::kINT64, {5}, seed++, -x.size(d), x.size(d) - 1));
          idx = at::stack(cols, 1);
        }
        std::vector<int64_t> ushape = {idx.size(0)};
        for (int64_t d = m; d < 3; ++d) ushape.push_back(x.size(d));
        at::Tensor upd = random(t, ushape, seed++, 0, 3);
        at::Tensor got =
            run_block({x, idx, upd}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return sc::scatter_nd(ctx, kTarget, SourceIR::kONNX, "s", in[0], in[1], in[2], red);
            });
        expect_close(got, scatter_nd_ref(x, idx, upd, red), 1.0,
                     std::string(data_type_name(t)) + " " + red + " m " + std::to_string(m));
      }
    }
  }
}

TEST(ImplScatter, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4});
  Tensor* i = net.add_input("i", DataType::kINT64, {2, 4});
  Tensor* u = net.add_input("u", DataType::kFLOAT, {2, 4});
  EXPECT_EQ(sc::scatter(ctx, kTarget, SourceIR::kATEN, "s", x, 0, i, u)->producer()->name(),
            "[SCATTER]-[aten_ops.scatter.src]-[s]");
  Tensor* nd = net.add_input("nd", DataType::kINT64, {2, 1});
  Layer* l = sc::scatter_nd(ctx, kTarget, SourceIR::kONNX, "n", x, nd, u, "add")->producer();
  EXPECT_EQ(l->name(), "[SCATTER]-[onnx_ops.scatter.src]-[n]");
}

TEST(ImplScatter, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {3, 4}, 1);
  at::Tensor idx = random(DataType::kINT64, {2, 4}, 2, 0, 2);
  at::Tensor src = random(DataType::kFLOAT, {2, 4}, 3);
  auto scatter = [](int64_t dim, std::string reduce) {
    return [dim, reduce](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return sc::scatter(ctx, kTarget, SourceIR::kATEN, "s", in[0], dim, in[1], in[2], reduce);
    };
  };
  expect_block_error({x, idx, src}, scatter(2, ""), {"scatter::scatter", "dim 2"});
  expect_block_error({x, idx, src}, scatter(0, "mean"), {"scatter::scatter", "reduce \"mean\""});
  expect_block_error({x, idx.to(at::kFloat), src}, scatter(0, ""),
                     {"scatter::scatter", "index has type float32"});
  expect_block_error({x, idx, src.to(at::kHalf)}, scatter(0, ""),
                     {"scatter::scatter", "src has type float16", "input has type float32"});
  expect_block_error({x, idx.reshape({8}), src}, scatter(0, ""),
                     {"scatter::scatter", "index [8]", "rank 2"});
  expect_block_error({x, random(DataType::kINT64, {2, 5}, 4, 0, 2), src}, scatter(0, ""),
                     {"scatter::scatter", "larger than src"});
  expect_block_error({x.to(at::kBool), idx, src.to(at::kBool)}, scatter(0, "sum"),
                     {"scatter::scatter", "reduction kSUM", "bool"});
  auto nd = [](std::string red) {
    return [red](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return sc::scatter_nd(ctx, kTarget, SourceIR::kONNX, "s", in[0], in[1], in[2], red);
    };
  };
  at::Tensor ndi = random(DataType::kINT64, {2, 1}, 5, 0, 2);
  expect_block_error({x, ndi, src}, nd("avg"), {"scatter::scatter_nd", "reduction \"avg\""});
  expect_block_error({x, ndi, src.narrow(1, 0, 3)}, nd("add"),
                     {"scatter::scatter_nd", "updates of dims [2,4]"});
}

}  // namespace
}  // namespace lktest
