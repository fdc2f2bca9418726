// CPU reference kernels of Gather, Scatter and NonZero against ATen.
#include <ATen/TensorIndexing.h>

#include <cmath>

#include "test_util.h"

namespace lktest {
namespace {

// Note [TensorIndex moves]
// ATen 1.13's at::indexing::TensorIndex move constructor copies a bool member that the integer
// and tensor constructors leave uninitialised, which UBSan reports (load of an invalid bool)
// when a std::vector<TensorIndex> reallocates. References that build index lists reserve them
// first, so no element is ever moved.

using layerkit::detail::cat;

const std::vector<DataType> kAllTypes = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                         DataType::kINT8,  DataType::kUINT8, DataType::kINT32,
                                         DataType::kINT64, DataType::kBOOL};
const std::vector<DataType> kIndexTypes = {DataType::kINT32, DataType::kINT64};

std::string name_of(DataType t, DataType it) {
  return cat(data_type_name(t), "/", data_type_name(it));
}

// Random indices in [-n, n-1] (negative ones count from the end).
at::Tensor random_indices(DataType t, const std::vector<int64_t>& shape, int64_t n, uint64_t seed) {
  return random(t, shape, seed, static_cast<double>(-n), static_cast<double>(n - 1));
}
// The non-negative equivalent, for ATen oracles.
at::Tensor wrap(const at::Tensor& idx, int64_t n) {
  at::Tensor l = idx.to(at::kLong);
  return at::where(l < 0, l + n, l);
}

std::vector<int64_t> shape_of(const at::Tensor& t) {
  return {t.sizes().begin(), t.sizes().end()};
}

// ---- Gather kDEFAULT ----

// ONNX Gather oracle via index_select on the flattened indices.
at::Tensor gather_default_ref(const at::Tensor& data, const at::Tensor& idx, int64_t axis) {
  int64_t n = data.size(axis);
  at::Tensor sel = at::index_select(data, axis, wrap(idx, n).flatten());
  std::vector<int64_t> shape(data.sizes().begin(), data.sizes().begin() + axis);
  for (int64_t s : idx.sizes()) shape.push_back(s);
  for (int64_t d = axis + 1; d < data.dim(); ++d) shape.push_back(data.size(d));
  return sel.reshape(shape);
}

TEST(GatherDefault, EveryDtypeAndIndexTypeMatchesIndexSelect) {
  for (DataType t : kAllTypes) {
    for (DataType it : kIndexTypes) {
      for (int64_t axis : {0, 1, 2}) {
        Network net;
        at::Tensor x = random(t, {3, 4, 5}, 11);
        at::Tensor idx = random_indices(it, {2, 3}, x.size(axis), 12 + static_cast<uint64_t>(axis));
        Tensor* xi = net.add_input("x", t, dims_of(x));
        Tensor* ii = net.add_input("i", it, dims_of(idx));
        net.mark_output(net.add_gather(xi, ii, static_cast<int32_t>(axis))->output(0));
        expect_close(run1(net, {x, idx}), gather_default_ref(x, idx, axis), 1.0,
                     name_of(t, it) + " axis " + std::to_string(axis));
      }
    }
  }
}

TEST(GatherDefault, ScalarIndexAndNegativeAxis) {
  Network net;
  at::Tensor x = random(DataType::kFLOAT, {3, 4}, 1);
  at::Tensor idx = at::scalar_tensor(-1, at::kInt);
  Tensor* xi = net.add_input("x", DataType::kFLOAT, dims_of(x));
  Tensor* c = constant(net, idx);
  Layer* g = net.add_gather(xi, c, -1);
  EXPECT_EQ(g->output(0)->dims(), (Dims{3}));
  net.mark_output(g->output(0));
  expect_close(run1(net, {x}), x.select(1, 3));
}

TEST(GatherDefault, ElementwiseBatchDimMatchesTakeAlongDim) {
  for (DataType t : {DataType::kFLOAT, DataType::kHALF, DataType::kINT64}) {
    for (int64_t ib : {4, 1}) {  // indices batch 1 broadcasts against the data's 4
      Network net;
      at::Tensor x = random(t, {4, 6, 3}, 2);
      at::Tensor idx = random_indices(DataType::kINT32, {ib, 5}, 6, 3);
      Tensor* xi = net.add_input("x", t, dims_of(x));
      Tensor* ii = net.add_input("i", DataType::kINT32, dims_of(idx));
      Layer* g = net.add_gather(xi, ii, 1, GatherMode::kDEFAULT, 1);
      EXPECT_EQ(g->output(0)->dims(), (Dims{4, 5, 3}));
      net.mark_output(g->output(0));
      // out[b, k, c] = x[b, idx[b, k], c]
      at::Tensor full = wrap(idx, 6).expand({4, 5}).unsqueeze(-1).expand({4, 5, 3});
      expect_close(run1(net, {x, idx}), at::take_along_dim(x, full, 1), 1.0,
                   cat(data_type_name(t), " ib ", ib));
    }
  }
}

TEST(GatherDefault, KnownValuesFollowConstantData) {
  Network net;
  at::Tensor shape = at::tensor(std::vector<int64_t>{2, 3, 5, 7}, at::kLong);
  Tensor* s = constant(net, shape);
  Tensor* i = constant(net, at::tensor(std::vector<int32_t>{-1, 1}, at::kInt));
  Layer* g = net.add_gather(s, i, 0);
  const KnownValues& k = g->output(0)->known_values();
  ASSERT_EQ(k.size(), 2u);
  ASSERT_TRUE(k[0] && k[1]);
  EXPECT_EQ(*k[0], 7);
  EXPECT_EQ(*k[1], 3);
  net.mark_output(g->output(0));
  expect_close(run1(net, {}), at::tensor(std::vector<int64_t>{7, 3}, at::kLong));
}

TEST(GatherDefault, KnownIndicesOutOfRangeFailAtBuildTime) {
  Network net;
  Tensor* s = constant(net, at::tensor(std::vector<int64_t>{2, 3}, at::kLong));
  Tensor* i = constant(net, at::tensor(std::vector<int32_t>{2}, at::kInt));
  expect_error_unchanged(net, [&] { net.add_gather(s, i, 0); },
                         {"index 2", "out of range", "size 2"});
}

TEST(GatherDefault, OutOfRangeIndexAtRunTimeIsRuntimeError) {
  for (int64_t bad : {4, -5}) {
    Network net;
    Tensor* xi = net.add_input("x", DataType::kFLOAT, {3, 4});
    Tensor* ii = net.add_input("i", DataType::kINT64, {2});
    net.mark_output(net.add_gather(xi, ii, 1)->output(0));
    at::Tensor idx = at::tensor(std::vector<int64_t>{0, bad}, at::kLong);
    expect_error(
        [&] {
          run1(net, {random(DataType::kFLOAT, {3, 4}, 1), idx});
        },
        {"Gather layer", "index " + std::to_string(bad), "out of range", "size 4"},
        ErrorCode::kRUNTIME);
  }
}

TEST(GatherDefault, DynamicShapesAtMinOptMax) {
  Network net;
  Tensor* xi = net.add_input("x", DataType::kFLOAT, {-1, 4});
  Tensor* ii = net.add_input("i", DataType::kINT32, {-1});
  Layer* g = net.add_gather(xi, ii, 0);
  EXPECT_EQ(g->output(0)->dims(), (Dims{-1, 4}));
  net.mark_output(g->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 4}, {3, 4}, {6, 4});
  p.set_dimensions("i", {1}, {5}, {9});
  config.profiles.push_back(p);
  Runner runner(net, config);
  for (auto [n, k] : {std::pair<int64_t, int64_t>{1, 1}, {3, 5}, {6, 9}}) {
    at::Tensor x = random(DataType::kFLOAT, {n, 4}, static_cast<uint64_t>(n));
    at::Tensor idx = random_indices(DataType::kINT32, {k}, n, static_cast<uint64_t>(k));
    expect_close(runner.run({x, idx}).at(0), gather_default_ref(x, idx, 0), 1.0,
                 "n " + std::to_string(n));
  }
}

// ---- Gather kELEMENT ----

TEST(GatherElement, EveryDtypeMatchesAtGather) {
  for (DataType t : kAllTypes) {
    for (DataType it : kIndexTypes) {
      for (int64_t axis : {0, 1, 2}) {
        Network net;
        at::Tensor x = random(t, {3, 4, 5}, 21);
        // Off the axis the indices may be smaller than the data; along it, larger.
        std::vector<int64_t> ishape = {2, 3, 4};
        ishape[static_cast<size_t>(axis)] = 6;
        at::Tensor idx = random_indices(it, ishape, x.size(axis), 22);
        Tensor* xi = net.add_input("x", t, dims_of(x));
        Tensor* ii = net.add_input("i", it, dims_of(idx));
        Layer* g = net.add_gather(xi, ii, static_cast<int32_t>(axis), GatherMode::kELEMENT);
        net.mark_output(g->output(0));
        expect_close(run1(net, {x, idx}), at::gather(x, axis, wrap(idx, x.size(axis))), 1.0,
                     name_of(t, it) + " axis " + std::to_string(axis));
      }
    }
  }
}

TEST(GatherElement, OutOfRangeIndexAtRunTimeIsRuntimeError) {
  Network net;
  Tensor* xi = net.add_input("x", DataType::kINT32, {2, 3});
  Tensor* ii = net.add_input("i", DataType::kINT32, {2, 3});
  net.mark_output(net.add_gather(xi, ii, 0, GatherMode::kELEMENT)->output(0));
  at::Tensor idx = at::zeros({2, 3}, at::kInt);
  idx[1][2] = 2;
  expect_error(
      [&] {
        run1(net, {random(DataType::kINT32, {2, 3}, 1), idx});
      },
      {"index 2", "indices element 5", "size 2"}, ErrorCode::kRUNTIME);
}

TEST(GatherElement, DynamicShapesAtMinOptMax) {
  Network net;
  Tensor* xi = net.add_input("x", DataType::kHALF, {-1, 5});
  Tensor* ii = net.add_input("i", DataType::kINT64, {-1, 5});
  net.mark_output(net.add_gather(xi, ii, 1, GatherMode::kELEMENT)->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 5}, {4, 5}, {7, 5});
  p.set_dimensions("i", {1, 5}, {4, 5}, {7, 5});
  config.profiles.push_back(p);
  Runner runner(net, config);
  for (int64_t n : {1, 4, 7}) {
    at::Tensor x = random(DataType::kHALF, {n, 5}, static_cast<uint64_t>(n));
    at::Tensor idx = random_indices(DataType::kINT64, {n, 5}, 5, 3);
    expect_close(runner.run({x, idx}).at(0), at::gather(x, 1, wrap(idx, 5)), 1.0,
                 "n " + std::to_string(n));
  }
}

// ---- Gather kND ----

// ONNX GatherND with `b` batch dims, written with ATen advanced indexing.
at::Tensor gather_nd_ref(const at::Tensor& data, const at::Tensor& idx, int64_t b) {
  using namespace at::indexing;
  int64_t m = idx.size(-1);
  std::vector<int64_t> batch(data.sizes().begin(), data.sizes().begin() + b);
  int64_t nbatch = 1;
  for (int64_t s : batch) nbatch *= s;
  std::vector<int64_t> dshape = {nbatch};
  for (int64_t d = b; d < data.dim(); ++d) dshape.push_back(data.size(d));
  at::Tensor d2 = data.reshape(dshape);
  at::Tensor i2 = idx.to(at::kLong).reshape({nbatch, -1, m});
  std::vector<at::Tensor> parts;
  for (int64_t n = 0; n < nbatch; ++n) {
    // Reserved: Note [TensorIndex moves].
    std::vector<TensorIndex> ti;
    ti.reserve(static_cast<size_t>(m));
    for (int64_t k = 0; k < m; ++k) ti.emplace_back(wrap(i2[n].select(1, k), data.size(b + k)));
    parts.push_back(d2[n].index(ti));
  }
  std::vector<int64_t> out(idx.sizes().begin(), idx.sizes().end() - 1);
  for (int64_t d = b + m; d < data.dim(); ++d) out.push_back(data.size(d));
  return at::stack(parts).reshape(out);
}

TEST(GatherND, EveryDtypeMatchesIndexingOracle) {
  for (DataType t : kAllTypes) {
    for (DataType it : kIndexTypes) {
      for (int64_t m : {1, 2, 3}) {
        Network net;
        at::Tensor x = random(t, {3, 4, 5}, 31);
        at::Tensor idx =
            at::cat({random_indices(it, {2, 2, 1}, 3, 32), random_indices(it, {2, 2, 1}, 4, 33),
                     random_indices(it, {2, 2, 1}, 5, 34)},
                    -1)
                .narrow(-1, 0, m)
                .contiguous();
        Tensor* xi = net.add_input("x", t, dims_of(x));
        Tensor* ii = net.add_input("i", it, dims_of(idx));
        net.mark_output(net.add_gather(xi, ii, 0, GatherMode::kND)->output(0));
        expect_close(run1(net, {x, idx}), gather_nd_ref(x, idx, 0), 1.0,
                     name_of(t, it) + " m " + std::to_string(m));
      }
    }
  }
}

TEST(GatherND, BatchDimsMatchIndexingOracle) {
  at::Tensor x = random(DataType::kBF16, {2, 3, 4, 5}, 41);
  // b = 1: tuples of 2 address data axes 1 and 2; b = 2: tuples of 1 address axis 2.
  at::Tensor idx1 = at::cat({random_indices(DataType::kINT64, {2, 6, 1}, 3, 42),
                             random_indices(DataType::kINT64, {2, 6, 1}, 4, 43)},
                            -1);
  at::Tensor idx2 = random_indices(DataType::kINT64, {2, 3, 4, 1}, 4, 44);
  for (auto [b, idx] : {std::pair<int32_t, at::Tensor>{1, idx1}, {2, idx2}}) {
    Network net;
    Tensor* xi = net.add_input("x", DataType::kBF16, dims_of(x));
    Tensor* ii = net.add_input("i", DataType::kINT64, dims_of(idx));
    net.mark_output(net.add_gather(xi, ii, 0, GatherMode::kND, b)->output(0));
    expect_close(run1(net, {x, idx}), gather_nd_ref(x, idx, b), 1.0, "b " + std::to_string(b));
  }
}

TEST(GatherND, OutOfRangeIndexAtRunTimeIsRuntimeError) {
  Network net;
  Tensor* xi = net.add_input("x", DataType::kFLOAT, {3, 4});
  Tensor* ii = net.add_input("i", DataType::kINT32, {1, 2});
  net.mark_output(net.add_gather(xi, ii, 0, GatherMode::kND)->output(0));
  at::Tensor idx = at::tensor(std::vector<int32_t>{1, 9}, at::kInt).reshape({1, 2});
  expect_error(
      [&] {
        run1(net, {random(DataType::kFLOAT, {3, 4}, 1), idx});
      },
      {"index 9", "axis 1", "size 4"}, ErrorCode::kRUNTIME);
}

TEST(GatherND, DynamicShapesAtMinOptMax) {
  Network net;
  Tensor* xi = net.add_input("x", DataType::kFLOAT, {-1, 4, 3});
  Tensor* ii = net.add_input("i", DataType::kINT32, {-1, 2});
  net.mark_output(net.add_gather(xi, ii, 0, GatherMode::kND)->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 4, 3}, {3, 4, 3}, {5, 4, 3});
  p.set_dimensions("i", {1, 2}, {6, 2}, {10, 2});
  config.profiles.push_back(p);
  Runner runner(net, config);
  for (auto [n, k] : {std::pair<int64_t, int64_t>{1, 1}, {3, 6}, {5, 10}}) {
    at::Tensor x = random(DataType::kFLOAT, {n, 4, 3}, static_cast<uint64_t>(n));
    at::Tensor idx = at::cat({random_indices(DataType::kINT32, {k, 1}, n, 7),
                              random_indices(DataType::kINT32, {k, 1}, 4, 8)},
                             1);
    expect_close(runner.run({x, idx}).at(0), gather_nd_ref(x, idx, 0), 1.0,
                 "n " + std::to_string(n));
  }
}

// ---- Scatter ----

// Indices along `axis` without repeats on any line (scatter with duplicates is unordered in
// ONNX), shaped `ishape`, drawn from [0, n).
at::Tensor unique_line_indices(std::vector<int64_t> ishape, int64_t axis, int64_t n,
                               uint64_t seed) {
  std::vector<int64_t> full = ishape;
  full[static_cast<size_t>(axis)] = n;
  at::Tensor perm = random(DataType::kFLOAT, full, seed, 0.0, 1.0).argsort(axis);
  return perm.narrow(axis, 0, ishape[static_cast<size_t>(axis)]).contiguous();
}

TEST(ScatterElement, EveryDtypeMatchesAtScatter) {
  for (DataType t : kAllTypes) {
    for (DataType it : kIndexTypes) {
      for (int64_t axis : {0, 1}) {
        Network net;
        at::Tensor x = random(t, {4, 5}, 51);
        std::vector<int64_t> ishape = {3, 3};
        at::Tensor pos = unique_line_indices(ishape, axis, x.size(axis), 52);
        // Half of the indices are given as negative equivalents.
        at::Tensor neg = random(DataType::kBOOL, ishape, 53);
        at::Tensor idx = at::where(neg, pos - x.size(axis), pos).to(to_aten(it));
        at::Tensor upd = random(t, ishape, 54);
        Tensor* xi = net.add_input("x", t, dims_of(x));
        Tensor* ii = net.add_input("i", it, dims_of(idx));
        Tensor* ui = net.add_input("u", t, dims_of(upd));
        Layer* s = net.add_scatter(xi, ii, ui, ScatterMode::kELEMENT, static_cast<int32_t>(axis));
        net.mark_output(s->output(0));
        expect_close(run1(net, {x, idx, upd}), at::scatter(x, axis, pos, upd), 1.0,
                     name_of(t, it) + " axis " + std::to_string(axis));
      }
    }
  }
}

// ScatterND oracle: index_put_ of each index tuple.
at::Tensor scatter_nd_ref(const at::Tensor& data, const at::Tensor& idx, const at::Tensor& upd) {
  using namespace at::indexing;
  int64_t m = idx.size(-1);
  at::Tensor flat = idx.to(at::kLong).reshape({-1, m});
  // Reserved: Note [TensorIndex moves].
  std::vector<TensorIndex> ti;
  ti.reserve(static_cast<size_t>(m));
  for (int64_t k = 0; k < m; ++k) ti.emplace_back(wrap(flat.select(1, k), data.size(k)));
  std::vector<int64_t> ushape = {flat.size(0)};
  for (int64_t d = m; d < data.dim(); ++d) ushape.push_back(data.size(d));
  at::Tensor out = data.clone();
  out.index_put_(ti, upd.reshape(ushape));
  return out;
}

// `count` distinct index tuples into data dims [0, m), each entry possibly negative.
at::Tensor unique_tuples(const at::Tensor& data, int64_t m, int64_t count, DataType it,
                         uint64_t seed) {
  int64_t space = 1;
  for (int64_t d = 0; d < m; ++d) space *= data.size(d);
  at::Tensor flat = random(DataType::kFLOAT, {space}, seed, 0.0, 1.0).argsort().narrow(0, 0, count);
  std::vector<at::Tensor> cols(static_cast<size_t>(m));
  for (int64_t d = m - 1; d >= 0; --d) {
    at::Tensor c = flat.remainder(data.size(d));
    flat = flat.div(data.size(d), "floor");
    at::Tensor neg = random(DataType::kBOOL, {count}, seed + static_cast<uint64_t>(d) + 1);
    cols[static_cast<size_t>(d)] = at::where(neg, c - data.size(d), c);
  }
  return at::stack(cols, 1).to(to_aten(it));
}

TEST(ScatterND, EveryDtypeMatchesIndexPut) {
  for (DataType t : kAllTypes) {
    for (DataType it : kIndexTypes) {
      for (int64_t m : {1, 2, 3}) {
        Network net;
        at::Tensor x = random(t, {3, 4, 2}, 61);
        at::Tensor idx = unique_tuples(x, m, 3, it, 62).reshape({3, m});
        std::vector<int64_t> ushape = {3};
        for (int64_t d = m; d < 3; ++d) ushape.push_back(x.size(d));
        at::Tensor upd = random(t, ushape, 63);
        Tensor* xi = net.add_input("x", t, dims_of(x));
        Tensor* ii = net.add_input("i", it, dims_of(idx));
        Tensor* ui = net.add_input("u", t, dims_of(upd));
        net.mark_output(net.add_scatter(xi, ii, ui, ScatterMode::kND)->output(0));
        expect_close(run1(net, {x, idx, upd}), scatter_nd_ref(x, idx, upd), 1.0,
                     name_of(t, it) + " m " + std::to_string(m));
      }
    }
  }
}

TEST(ScatterND, MultiDimIndices) {
  Network net;
  at::Tensor x = random(DataType::kFLOAT, {4, 5, 3}, 71);
  at::Tensor idx = unique_tuples(x, 2, 6, DataType::kINT64, 72).reshape({2, 3, 2});
  at::Tensor upd = random(DataType::kFLOAT, {2, 3, 3}, 73);
  Tensor* xi = net.add_input("x", DataType::kFLOAT, dims_of(x));
  Tensor* ii = constant(net, idx);
  Tensor* ui = net.add_input("u", DataType::kFLOAT, dims_of(upd));
  net.mark_output(net.add_scatter(xi, ii, ui, ScatterMode::kND)->output(0));
  expect_close(run1(net, {x, upd}), scatter_nd_ref(x, idx, upd));
}

// ---- Scatter reductions (layerkit extension) ----

const std::vector<std::pair<ScatterReduction, const char*>> kReductions = {
    {ScatterReduction::kSUM, "sum"},
    {ScatterReduction::kPROD, "prod"},
    {ScatterReduction::kMAX, "amax"},
    {ScatterReduction::kMIN, "amin"}};

TEST(ScatterElement, ReductionsWithDuplicatesMatchScatterReduce) {
  // Indices drawn from [0, 3) on a line of 8 updates: every target receives several updates.
  const std::vector<DataType> types = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                       DataType::kINT8,  DataType::kUINT8, DataType::kINT32,
                                       DataType::kINT64};
  uint64_t seed = 500;
  for (DataType t : types) {
    for (auto [red, reduce] : kReductions) {
      for (int64_t axis : {0, 1}) {
        Network net;
        at::Tensor x = random(t, {3, 3}, seed++, 0, 3);
        std::vector<int64_t> ishape =
            axis == 0 ? std::vector<int64_t>{8, 3} : std::vector<int64_t>{3, 8};
        at::Tensor idx = random(DataType::kINT64, ishape, seed++, 0, 2);
        at::Tensor upd = random(t, ishape, seed++, 0, 3);
        Tensor* xi = net.add_input("x", t, dims_of(x));
        Tensor* ii = net.add_input("i", DataType::kINT64, dims_of(idx));
        Tensor* ui = net.add_input("u", t, dims_of(upd));
        Layer* s =
            net.add_scatter(xi, ii, ui, ScatterMode::kELEMENT, static_cast<int32_t>(axis), red);
        net.mark_output(s->output(0));
        at::Tensor expected = at::scatter_reduce(x, axis, idx, upd, reduce, true);
        expect_close(
            run1(net, {x, idx, upd}), expected, 1.0,
            std::string(data_type_name(t)) + " " + reduce + " axis " + std::to_string(axis));
      }
    }
  }
}

TEST(ScatterElement, BoolMaxMinAreOrAnd) {
  at::Tensor x = random(DataType::kBOOL, {2, 4}, 600);
  at::Tensor idx = random(DataType::kINT64, {2, 6}, 601, 0, 3);
  at::Tensor upd = random(DataType::kBOOL, {2, 6}, 602);
  for (auto [red, reduce] : {kReductions[2], kReductions[3]}) {
    Network net;
    Tensor* xi = net.add_input("x", DataType::kBOOL, dims_of(x));
    Tensor* ii = net.add_input("i", DataType::kINT64, dims_of(idx));
    Tensor* ui = net.add_input("u", DataType::kBOOL, dims_of(upd));
    net.mark_output(net.add_scatter(xi, ii, ui, ScatterMode::kELEMENT, 1, red)->output(0));
    // ATen has no bool amax/amin scatter on CPU: the reference runs on uint8.
    at::Tensor expected =
        at::scatter_reduce(x.to(at::kByte), 1, idx, upd.to(at::kByte), reduce, true).to(at::kBool);
    expect_close(run1(net, {x, idx, upd}), expected, 1.0, reduce);
  }
}

TEST(ScatterND, ReductionsWithDuplicatesAccumulateInOrder) {
  uint64_t seed = 700;
  for (DataType t : {DataType::kFLOAT, DataType::kHALF, DataType::kINT32, DataType::kINT64}) {
    for (auto [red, reduce] : kReductions) {
      Network net;
      at::Tensor x = random(t, {3, 2, 4}, seed++, 0, 3);
      // 6 tuples over a 3x2 space with negative entries: duplicates are certain.
      at::Tensor idx = at::stack({random(DataType::kINT64, {6}, seed++, -3, 2),
                                  random(DataType::kINT64, {6}, seed++, -2, 1)},
                                 1);
      at::Tensor upd = random(t, {6, 4}, seed++, 0, 3);
      Tensor* xi = net.add_input("x", t, dims_of(x));
      Tensor* ii = net.add_input("i", DataType::kINT64, dims_of(idx));
      Tensor* ui = net.add_input("u", t, dims_of(upd));
      net.mark_output(net.add_scatter(xi, ii, ui, ScatterMode::kND, 0, red)->output(0));
      // Reference: one ATen step per index tuple, in order.
      at::Tensor expected = x.clone();
      for (int64_t k = 0; k < 6; ++k) {
        int64_t a = idx[k][0].item<int64_t>(), b = idx[k][1].item<int64_t>();
        a = a < 0 ? a + 3 : a;
        b = b < 0 ? b + 2 : b;
        at::Tensor cur = expected[a][b];
        at::Tensor u = upd[k];
        at::Tensor r = red == ScatterReduction::kSUM    ? cur + u
                       : red == ScatterReduction::kPROD ? cur * u
                       : red == ScatterReduction::kMAX  ? at::maximum(cur, u)
                                                        : at::minimum(cur, u);
        expected[a][b].copy_(r);
      }
      expect_close(run1(net, {x, idx, upd}), expected, 1.0,
                   std::string(data_type_name(t)) + " " + reduce);
    }
  }
}

TEST(ScatterElement, ReductionPropagatesNaN) {
  at::Tensor x = at::tensor({1.0f, std::nanf(""), 3.0f});
  at::Tensor idx = at::tensor({0, 0, 1, 2}, at::kLong);
  at::Tensor upd = at::tensor({std::nanf(""), 5.0f, 2.0f, 4.0f});
  for (auto [red, reduce] : {kReductions[2], kReductions[3]}) {
    Network net;
    Tensor* xi = net.add_input("x", DataType::kFLOAT, dims_of(x));
    Tensor* ii = net.add_input("i", DataType::kINT64, dims_of(idx));
    Tensor* ui = net.add_input("u", DataType::kFLOAT, dims_of(upd));
    net.mark_output(net.add_scatter(xi, ii, ui, ScatterMode::kELEMENT, 0, red)->output(0));
    expect_close(run1(net, {x, idx, upd}), at::scatter_reduce(x, 0, idx, upd, reduce, true), 1.0,
                 reduce);
  }
}

TEST(Scatter, OutOfRangeIndexAtRunTimeIsRuntimeError) {
  at::Tensor idx = at::full({1, 1}, -4, at::kInt);
  {
    Network net;
    Tensor* xi = net.add_input("x", DataType::kFLOAT, {3, 1});
    Tensor* ii = net.add_input("i", DataType::kINT32, {1, 1});
    Tensor* ui = net.add_input("u", DataType::kFLOAT, {1, 1});
    net.mark_output(net.add_scatter(xi, ii, ui, ScatterMode::kELEMENT, 0)->output(0));
    expect_error(
        [&] {
          run1(net,
               {random(DataType::kFLOAT, {3, 1}, 1), idx, random(DataType::kFLOAT, {1, 1}, 2)});
        },
        {"Scatter layer", "index -4", "size 3"}, ErrorCode::kRUNTIME);
  }
  {
    Network net;
    Tensor* xi = net.add_input("x", DataType::kFLOAT, {3});
    Tensor* ii = net.add_input("i", DataType::kINT32, {1, 1});
    Tensor* ui = net.add_input("u", DataType::kFLOAT, {1});
    net.mark_output(net.add_scatter(xi, ii, ui, ScatterMode::kND)->output(0));
    expect_error(
        [&] {
          run1(net, {random(DataType::kFLOAT, {3}, 1), idx, random(DataType::kFLOAT, {1}, 2)});
        },
        {"Scatter layer", "index -4", "size 3"}, ErrorCode::kRUNTIME);
  }
}

TEST(Scatter, DynamicShapesAtMinOptMax) {
  Network net;
  Tensor* xi = net.add_input("x", DataType::kINT32, {-1, 6});
  Tensor* ii = net.add_input("i", DataType::kINT64, {-1, 2});
  Tensor* ui = net.add_input("u", DataType::kINT32, {-1, 2});
  net.mark_output(net.add_scatter(xi, ii, ui, ScatterMode::kELEMENT, 1)->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  for (const char* n : {"x", "i", "u"})
    p.set_dimensions(n, {1, n[0] == 'x' ? 6 : 2}, {3, n[0] == 'x' ? 6 : 2},
                     {5, n[0] == 'x' ? 6 : 2});
  config.profiles.push_back(p);
  Runner runner(net, config);
  for (int64_t n : {1, 3, 5}) {
    at::Tensor x = random(DataType::kINT32, {n, 6}, static_cast<uint64_t>(n), -50, 50);
    at::Tensor idx = unique_line_indices({n, 2}, 1, 6, static_cast<uint64_t>(n + 9));
    at::Tensor upd = random(DataType::kINT32, {n, 2}, 3, -50, 50);
    expect_close(runner.run({x, idx, upd}).at(0), at::scatter(x, 1, idx, upd), 1.0,
                 "n " + std::to_string(n));
  }
}

// ---- NonZero ----

TEST(NonZero, EveryDtypeMatchesAtNonzero) {
  for (DataType t : kAllTypes) {
    for (const std::vector<int64_t>& shape :
         {std::vector<int64_t>{7}, std::vector<int64_t>{3, 4}, std::vector<int64_t>{2, 3, 4}}) {
      Network net;
      // Values in {-1, 0, 1} (bool: {0, 1}) so that about a third are zero.
      at::Tensor x = random(DataType::kINT32, shape, 81, -1, 1).to(to_aten(t));
      Tensor* xi = net.add_input("x", t, dims_of(x));
      Layer* nz = net.add_non_zero(xi);
      EXPECT_EQ(nz->output(0)->dims(), (Dims{static_cast<int64_t>(shape.size()), -1}));
      net.mark_output(nz->output(0));
      expect_close(run1(net, {x}), at::nonzero(x).t().contiguous(), 1.0,
                   cat(data_type_name(t), " rank ", shape.size()));
    }
  }
}

TEST(NonZero, AllZeroGivesEmptyOutput) {
  Network net;
  Tensor* xi = net.add_input("x", DataType::kFLOAT, {2, 3});
  net.mark_output(net.add_non_zero(xi)->output(0));
  at::Tensor out = run1(net, {at::zeros({2, 3})});
  EXPECT_EQ(shape_of(out), (std::vector<int64_t>{2, 0}));
}

TEST(NonZero, EmptyInputHasNoneAtAddTime) {
  // Nothing to count: the count 0 is known from the dims alone, also for a tensor computed at
  // run time (whose empty host copy has no element to point at).
  Network net;
  Tensor* xi = net.add_input("x", DataType::kINT32, {3, 0, 2});
  Layer* nz = net.add_non_zero(net.add_cast(xi, DataType::kHALF)->output(0));
  EXPECT_EQ(nz->output(0)->dims(), (Dims{3, 0}));
  net.mark_output(nz->output(0));
  at::Tensor x = at::zeros({3, 0, 2}, at::kInt);
  at::Tensor out = run1(net, {x});
  EXPECT_EQ(shape_of(out), (std::vector<int64_t>{3, 0}));
  expect_close(out, at::nonzero(x.to(at::kHalf)).t().contiguous());
}

TEST(NonZero, ConstantInputIsResolvedAtBuildTime) {
  Network net;
  at::Tensor c = at::tensor(std::vector<int32_t>{0, 5, 0, -2, 1, 0}, at::kInt).reshape({2, 3});
  Layer* nz = net.add_non_zero(constant(net, c));
  EXPECT_EQ(nz->output(0)->dims(), (Dims{2, 3}));
  at::Tensor ref = at::nonzero(c).t().contiguous();
  const KnownValues& k = nz->output(0)->known_values();
  ASSERT_EQ(k.size(), 6u);
  for (int64_t i = 0; i < 6; ++i) {
    ASSERT_TRUE(k[static_cast<size_t>(i)]);
    EXPECT_EQ(*k[static_cast<size_t>(i)], ref.flatten()[i].item<int64_t>()) << i;
  }
  net.mark_output(nz->output(0));
  expect_close(run1(net, {}), ref);
}

TEST(NonZero, DynamicShapesAtMinOptMax) {
  Network net;
  Tensor* xi = net.add_input("x", DataType::kHALF, {-1, 3});
  net.mark_output(net.add_non_zero(xi)->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 3}, {4, 3}, {9, 3});
  config.profiles.push_back(p);
  Runner runner(net, config);
  for (int64_t n : {1, 4, 9}) {
    at::Tensor x = random(DataType::kINT32, {n, 3}, static_cast<uint64_t>(n), -1, 1).to(at::kHalf);
    expect_close(runner.run({x}).at(0), at::nonzero(x).t().contiguous(), 1.0,
                 "n " + std::to_string(n));
  }
}

}  // namespace
}  // namespace lktest
