// Split building blocks against at::split / at::split_with_sizes: dtypes, negative dims, the
// last smaller chunk, dynamic dims with the run-time size check, errors and layer names.
#include "layerkit/impl/split.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace sp = layerkit::impl::split;

const Target kTarget("split.Tensor");

const std::vector<DataType> kAll = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                    DataType::kINT32, DataType::kINT64, DataType::kBOOL};

// Builds one network with every chunk as an output and compares each with ATen's.
void check_split(const at::Tensor& x,
                 const std::function<std::vector<Tensor*>(ConversionContext&, Tensor*)>& block,
                 const std::vector<at::Tensor>& expected, const std::string& what) {
  Network net;
  ConversionContext ctx(net);
  Tensor* in = net.add_input("x", from_aten(x.scalar_type()), dims_of(x));
  std::vector<Tensor*> outs = block(ctx, in);
  ASSERT_EQ(outs.size(), expected.size()) << what;
  for (Tensor* o : outs) net.mark_output(o);
  std::vector<at::Tensor> got = run(net, {x});
  for (size_t i = 0; i < got.size(); ++i)
    expect_close(got[i], expected[i], 1.0, what + " chunk " + std::to_string(i));
}

TEST(ImplSplit, ChunkSizeEveryTypeAndDim) {
  uint64_t seed = 1;
  for (DataType t : kAll) {
    at::Tensor x = random(t, {4, 7, 6}, seed++, -10, 10);
    for (int64_t dim : {0, 1, 2, -1, -2}) {
      for (int64_t size : {1, 2, 3, 4, 7, 10}) {
        check_split(
            x,
            [&](ConversionContext& ctx, Tensor* in) {
              return sp::split(ctx, kTarget, SourceIR::kATEN, "sp", in, size, dim);
            },
            at::split(x, size, dim),
            std::string(data_type_name(t)) + " dim " + std::to_string(dim) + " size " +
                std::to_string(size));
      }
    }
  }
  // A zero-size dim with split_size 0 gives one empty chunk, as in torch.
  at::Tensor e = at::zeros({3, 0});
  check_split(
      e,
      [&](ConversionContext& ctx, Tensor* in) {
        return sp::split(ctx, kTarget, SourceIR::kATEN, "sp", in, 0, 1);
      },
      at::split(e, 0, 1), "empty dim");
}

TEST(ImplSplit, SizesEveryTypeAndDim) {
  uint64_t seed = 50;
  for (DataType t : kAll) {
    at::Tensor x = random(t, {5, 7}, seed++, -10, 10);
    for (int64_t dim : {1, -1}) {
      for (std::vector<int64_t> sizes :
           {std::vector<int64_t>{7}, {3, 4}, {1, 0, 6}, {2, 2, 2, 1}, {0, 7}}) {
        check_split(
            x,
            [&](ConversionContext& ctx, Tensor* in) {
              return sp::split(ctx, kTarget, SourceIR::kATEN, "sp", in, sizes, dim);
            },
            at::split_with_sizes(x, sizes, dim), std::string(data_type_name(t)) + " sizes");
        check_split(
            x,
            [&](ConversionContext& ctx, Tensor* in) {
              return sp::split_with_sizes(ctx, kTarget, SourceIR::kATEN, "sp", in, sizes, dim);
            },
            at::split_with_sizes(x, sizes, dim),
            std::string(data_type_name(t)) + " split_with_sizes");
      }
    }
  }
  at::Tensor x = random(DataType::kFLOAT, {5, 7}, 3);
  check_split(
      x,
      [&](ConversionContext& ctx, Tensor* in) {
        return sp::split(ctx, kTarget, SourceIR::kATEN, "sp", in, std::vector<int64_t>{1, 4}, -2);
      },
      at::split_with_sizes(x, {1, 4}, -2), "dim -2");
}

// Dynamic network: every chunk is an output; run at min/opt/max.
void check_dynamic(const std::vector<at::Tensor>& sets,
                   const std::function<std::vector<Tensor*>(ConversionContext&, Tensor*)>& block,
                   const std::function<std::vector<at::Tensor>(const at::Tensor&)>& aten) {
  Network net;
  ConversionContext ctx(net);
  Tensor* in = net.add_input("x", from_aten(sets[0].scalar_type()),
                             Dims::of_rank(static_cast<int>(sets[0].dim()), -1));
  for (Tensor* o : block(ctx, in)) net.mark_output(o);
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", dims_of(sets[0]), dims_of(sets[1]), dims_of(sets[2]));
  config.profiles.push_back(p);
  Runner runner(net, config);
  for (const at::Tensor& x : sets) {
    std::vector<at::Tensor> got = runner.run({x});
    std::vector<at::Tensor> want = aten(x);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      expect_close(got[i], want[i], 1.0, "dynamic chunk " + std::to_string(i));
  }
}

TEST(ImplSplit, DynamicShapesAtMinOptMax) {
  // Sizes on a dynamic dim: every run has the dim equal to their sum; other dims vary.
  check_dynamic(
      {random(DataType::kFLOAT, {1, 6}, 1), random(DataType::kFLOAT, {3, 6}, 2),
       random(DataType::kFLOAT, {8, 6}, 3)},
      [](ConversionContext& ctx, Tensor* in) {
        return sp::split(ctx, kTarget, SourceIR::kATEN, "sp", in, std::vector<int64_t>{2, 0, 4},
                         -1);
      },
      [](const at::Tensor& x) {
        return at::split_with_sizes(x, {2, 0, 4}, -1);
      });
  // Chunk size on a static dim of a tensor with other dynamic dims (declared as such by
  // the profile: the split dim is static in the network).
  Network net;
  ConversionContext ctx(net);
  Tensor* in = net.add_input("x", DataType::kINT32, {-1, 5});
  auto outs = sp::split(ctx, kTarget, SourceIR::kATEN, "sp", in, 2, 1);
  for (Tensor* o : outs) net.mark_output(o);
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 5}, {4, 5}, {9, 5});
  config.profiles.push_back(p);
  Runner runner(net, config);
  for (int64_t n : {1, 4, 9}) {
    at::Tensor x = random(DataType::kINT32, {n, 5}, static_cast<uint64_t>(n), -9, 9);
    std::vector<at::Tensor> got = runner.run({x});
    std::vector<at::Tensor> want = at::split(x, 2, 1);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) expect_close(got[i], want[i], 1.0, "chunk");
  }
}

TEST(ImplSplit, SizesNotSummingToADynamicDimFailWhenBuiltOrRun) {
  Network net;
  ConversionContext ctx(net);
  Tensor* in = net.add_input("x", DataType::kFLOAT, {2, -1});
  // Only the first chunk is an output: the check must still take part.
  net.mark_output(
      sp::split(ctx, kTarget, SourceIR::kATEN, "sp", in, std::vector<int64_t>{2, 3}, 1).at(0));
  // A profile admitting other sizes of the split dim is rejected when the engine is built.
  BuilderConfig bad;
  OptimizationProfile p;
  p.set_dimensions("x", {2, 1}, {2, 5}, {2, 9});
  bad.profiles.push_back(p);
  expect_error([&] { Runner r(net, bad); }, {"sp_sizes_sum_check", "kSTRICT_BOUNDS"});
  BuilderConfig good;
  OptimizationProfile q;
  q.set_dimensions("x", {2, 5}, {2, 5}, {2, 5});
  good.profiles.push_back(q);
  Runner runner(net, good);
  at::Tensor ok = random(DataType::kFLOAT, {2, 5}, 4);
  expect_close(runner.run({ok}).at(0), at::split_with_sizes(ok, {2, 3}, 1)[0], 1.0, "sum 5");
}

TEST(ImplSplit, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4, 5});
  auto outs = sp::split(ctx, "split.Tensor", SourceIR::kATEN, "split_1", x, 2, 1);
  ASSERT_EQ(outs.size(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(outs[static_cast<size_t>(i)]->producer()->name(),
              "[SLICE]-[aten_ops.split.Tensor]-[split_1_" + std::to_string(i) + "]");
  EXPECT_EQ(net.num_layers(), 4) << net.to_string();

  Tensor* d = net.add_input("d", DataType::kFLOAT, {-1, 5});
  auto douts = sp::split_with_sizes(ctx, "split_with_sizes", std::nullopt, "s", d,
                                    std::vector<int64_t>{1, 2}, 0);
  EXPECT_EQ(douts[1]->producer()->name(), "[SLICE]-[unknown_ops.split_with_sizes]-[s_1]");
  for (const char* n : {"[SLICE]-[unknown_ops.split_with_sizes]-[s_sizes_sum_check]",
                        "[SHAPE]-[unknown_ops.split_with_sizes]-[s_sizes_sum_check_dim_size_shape]",
                        "[ELEMENTWISE]-[unknown_ops.split_with_sizes]-[s_starts]",
                        "[SLICE]-[unknown_ops.split_with_sizes]-[s_1_start]",
                        "[CONSTANT]-[unknown_ops.split_with_sizes]-[s_axes]"})
    EXPECT_NE(net.find_layer(n), nullptr) << n << "\n" << net.to_string();
}

TEST(ImplSplit, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {3, 4}, 1);
  auto sizes = [](std::vector<int64_t> s, int64_t dim) {
    return [s, dim](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return sp::split(ctx, kTarget, SourceIR::kATEN, "bad", in[0], s, dim).at(0);
    };
  };
  auto chunk = [](int64_t size, int64_t dim) {
    return [size, dim](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return sp::split(ctx, kTarget, SourceIR::kATEN, "bad", in[0], size, dim).at(0);
    };
  };
  expect_block_error({x}, sizes({1, 2}, 1),
                     {"split::split", "'bad'", "sum exactly to 4", "[1, 2]", "dimension 1"});
  expect_block_error({x}, sizes({5, -1}, 1), {"non-negative", "[5, -1]"});
  expect_block_error({x}, sizes({}, 1), {"at least one size"});
  expect_block_error({x}, sizes({3}, 2), {"dim 2 is out of range"});
  expect_block_error({x}, chunk(-1, 0), {"non-negative", "split_size=-1"});
  expect_block_error({x}, chunk(0, 0), {"split_size can only be 0", "3"});
  expect_block_error({x}, chunk(2, -3), {"dim -3 is out of range"});
  expect_block_error({at::scalar_tensor(1.0)}, chunk(1, 0), {"at least a 1-dimensional"});
  // The chunk count of a dynamic dim is unknown.
  Network net;
  ConversionContext ctx(net);
  Tensor* d = net.add_input("d", DataType::kFLOAT, {-1, 5});
  expect_error_unchanged(net, [&] { sp::split(ctx, kTarget, SourceIR::kATEN, "bad", d, 2, 0); },
                         {"dim 0", "is dynamic", "split_size 2", "pass the chunk sizes"});
}

}  // namespace
}  // namespace lktest
