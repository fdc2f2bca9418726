// The cat building block against at::cat: types, mixed-type promotion, host constants, negative
// dims, skipped empty inputs, dynamic shapes, errors and names.
#include "layerkit/impl/cat.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace ct = layerkit::impl::cat;

const Target kTarget("test.op");
const std::vector<DataType> kAll = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                    DataType::kINT32, DataType::kINT64, DataType::kBOOL};

BlockFn cat_inputs(int64_t dim) {
  return [dim](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    std::vector<Operand> ops(in.begin(), in.end());
    return ct::cat(ctx, kTarget, SourceIR::kATEN, "c", ops, dim);
  };
}

TEST(ImplCat, EveryTypeAndDim) {
  uint64_t seed = 1;
  for (DataType t : kAll) {
    for (int64_t dim = -3; dim < 3; ++dim) {
      std::vector<int64_t> s0 = {2, 3, 4}, s1 = {2, 3, 4}, s2 = {2, 3, 4};
      int64_t p = dim < 0 ? dim + 3 : dim;
      s1[static_cast<size_t>(p)] = 1;
      s2[static_cast<size_t>(p)] = 5;
      std::vector<at::Tensor> xs = {random(t, s0, seed++), random(t, s1, seed++),
                                    random(t, s2, seed++)};
      expect_close(run_block(xs, cat_inputs(dim)), at::cat(xs, dim), 1.0,
                   "cat dim " + std::to_string(dim) + " " + std::string(data_type_name(t)));
    }
    at::Tensor one = random(t, {3}, seed++);
    expect_close(run_block({one}, cat_inputs(0)), at::cat({one}, 0), 1.0, "cat of one");
  }
}

TEST(ImplCat, MixedTypesPromoteAsTorch) {
  uint64_t seed = 100;
  for (DataType a : kAll) {
    for (DataType b : kAll) {
      std::vector<at::Tensor> xs = {random(a, {2, 3}, seed++), random(b, {2, 2}, seed++)};
      std::string what =
          "cat " + std::string(data_type_name(a)) + " with " + std::string(data_type_name(b));
      expect_close(run_block(xs, cat_inputs(-1)), at::cat(xs, -1), 1.0, what);
    }
  }
}

TEST(ImplCat, HostConstantsAndSkippedEmptyInputs) {
  at::Tensor x = random(DataType::kINT32, {2, 3}, 7);
  at::Tensor c = random(DataType::kFLOAT, {1, 3}, 8);
  std::vector<float> cv(c.data_ptr<float>(), c.data_ptr<float>() + 3);
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return ct::cat(ctx, kTarget, SourceIR::kATEN, "c",
                   {HostConstant::of({1, 3}, Weights::from_vector(DataType::kFLOAT, cv)), in[0]},
                   0);
  });
  expect_close(got, at::cat({c, x}, 0), 1.0, "host constant first");
  // torch skips 1-D empty tensors (they still take part in promotion: int32 with an empty
  // float tensor gives float).
  at::Tensor empty = random(DataType::kFLOAT, {0}, 9);
  expect_close(run_block({x, empty}, cat_inputs(1)), at::cat({x, empty}, 1), 1.0,
               "skipped empty input");
  at::Tensor e2 = random(DataType::kHALF, {2, 0}, 10);
  expect_close(run_block({e2, x}, cat_inputs(1)), at::cat({e2, x}, 1), 1.0, "size-0 cat dim");
}

TEST(ImplCat, DynamicShapesAtMinOptMax) {
  for (DataType t : kAll) {
    auto set = [t](int64_t n, int64_t a, int64_t b, uint64_t seed) {
      return std::vector<at::Tensor>{random(t, {n, a}, seed), random(t, {n, b}, seed + 1),
                                     random(DataType::kINT32, {n, 1}, seed + 2)};
    };
    run_block_dynamic({set(1, 1, 1, 1), set(3, 2, 4, 10), set(6, 5, 7, 20)}, cat_inputs(-1),
                      [t](const std::vector<at::Tensor>& in, const at::Tensor& out) {
                        expect_close(out, at::cat(in, -1), 1.0,
                                     "dynamic cat " + std::string(data_type_name(t)));
                      });
  }
}

TEST(ImplCat, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor a = random(DataType::kINT32, {2, 3}, 1);
  at::Tensor b = random(DataType::kFLOAT, {2, 4}, 2);
  at::Tensor r3 = random(DataType::kFLOAT, {2, 3, 1}, 3);
  expect_block_error({a, b}, cat_inputs(0),
                     {"cat::cat", "test.op", "'c'", "[2,3]", "[2,4]", "except in dim 0"});
  expect_block_error({a, r3}, cat_inputs(1), {"same rank", "[2,3]", "[2,3,1]"});
  expect_block_error({a, b}, cat_inputs(2), {"dim 2", "-2..1"});
  expect_block_error({a}, cat_inputs(-3), {"dim -3", "-2..1"});
  expect_block_error({random(DataType::kFLOAT, {}, 4)}, cat_inputs(0), {"zero-dimensional"});
  expect_block_error({a},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return ct::cat(ctx, kTarget, SourceIR::kATEN, "c", {in[0], 2.5}, 0);
                     },
                     {"operand 1", "scalar", "2.5"});
  expect_block_error({a},
                     [](ConversionContext& ctx, const std::vector<Tensor*>&) {
                       return ct::cat(ctx, kTarget, SourceIR::kATEN, "c", {}, 0);
                     },
                     {"at least one"});
}

TEST(ImplCat, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* y = net.add_input("y", DataType::kINT64, {2, 1});
  Tensor* c = ct::cat(ctx, "cat", SourceIR::kATEN, "cat_0", {x, y}, -1);
  EXPECT_EQ(c->producer()->name(), "[CONCATENATION]-[aten_ops.cat]-[cat_0]");
  EXPECT_NE(net.find_layer("[CAST]-[aten_ops.cat]-[cat_0_in1_cast]"), nullptr) << net.to_string();
  EXPECT_EQ(net.num_layers(), 4);  // two inputs, the cast, the concatenation
  Tensor* d = ct::cat(ctx, "cat", std::nullopt, "cat_0", {c, x}, 1);
  EXPECT_EQ(d->producer()->name(), "[CONCATENATION]-[unknown_ops.cat]-[cat_0]");
  EXPECT_EQ(d->dims(), Dims({2, 7}));
}

}  // namespace
}  // namespace lktest
