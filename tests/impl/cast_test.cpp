// cast / to_copy building blocks against Tensor::to: every pair of the common dtypes, scalars,
// host constants with the fp64 policy, dynamic shapes, names and errors.
#include "layerkit/impl/cast.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace cs = layerkit::impl::cast;

const Target kTarget("test.op");

const std::vector<DataType> kTypes = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                      DataType::kINT32, DataType::kINT64, DataType::kINT8,
                                      DataType::kUINT8, DataType::kBOOL};

// Values every type of the pair holds (no uint8 negatives, nothing beyond int8), with fractions
// for float sources (truncation toward zero) and zeros (false when cast to bool).
at::Tensor source(DataType from, DataType to, uint64_t seed) {
  if (from == DataType::kBOOL) return random(from, {4, 6}, seed);
  bool unsigned_pair = from == DataType::kUINT8 || to == DataType::kUINT8;
  double lo = unsigned_pair ? 0 : -100, hi = 100;
  at::Tensor x = random(from, {4, 6}, seed, lo, hi);
  x.view(-1).slice(0, 0, 2).zero_();
  return x;
}

TEST(ImplCast, EveryPairAgainstTensorTo) {
  uint64_t seed = 1;
  int pairs = 0;
  for (DataType from : kTypes) {
    for (DataType to : kTypes) {
      at::Tensor x = source(from, to, seed++);
      std::string what =
          std::string(data_type_name(from)) + " -> " + std::string(data_type_name(to));
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return cs::cast(ctx, kTarget, SourceIR::kATEN, "c", in[0], to);
      });
      expect_close(got, x.to(to_aten(to)), 1.0, what);
      got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return cs::to_copy(ctx, kTarget, SourceIR::kATEN, "c", in[0], to);
      });
      expect_close(got, x.to(to_aten(to)), 1.0, "to_copy " + what);
      ++pairs;
    }
  }
  EXPECT_EQ(pairs, 64);
}

TEST(ImplCast, SameTypeAddsNoLayer) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kHALF, {2});
  int before = net.num_layers();
  EXPECT_EQ(cs::cast(ctx, kTarget, SourceIR::kATEN, "c", x, DataType::kHALF), x);
  EXPECT_EQ(cs::to_copy(ctx, kTarget, SourceIR::kATEN, "c", x, DataType::kHALF), x);
  EXPECT_EQ(net.num_layers(), before);
}

TEST(ImplCast, ScalarsBecomeRankZeroConstants) {
  at::Tensor dummy = random(DataType::kFLOAT, {1}, 1);
  struct S {
    Operand op;
    at::Scalar s;
    DataType to;
  };
  const std::vector<S> cases = {{-3.7, at::Scalar(-3.7), DataType::kINT32},
                                {int64_t{5}, at::Scalar(int64_t{5}), DataType::kHALF},
                                {true, at::Scalar(true), DataType::kFLOAT},
                                {0.0, at::Scalar(0.0), DataType::kBOOL},
                                {2.5, at::Scalar(2.5), DataType::kBF16}};
  for (const S& c : cases) {
    at::Tensor got = run_block({dummy}, [&](ConversionContext& ctx, const std::vector<Tensor*>&) {
      return cs::cast(ctx, kTarget, SourceIR::kATEN, "c", c.op, c.to);
    });
    expect_close(got, at::scalar_tensor(c.s).to(to_aten(c.to)), 1.0,
                 c.op.describe() + " -> " + std::string(data_type_name(c.to)));
  }
}

TEST(ImplCast, HostConstants) {
  at::Tensor dummy = random(DataType::kFLOAT, {1}, 1);
  std::vector<int32_t> v = {-4, 0, 7};
  at::Tensor got = run_block({dummy}, [&](ConversionContext& ctx, const std::vector<Tensor*>&) {
    return cs::cast(ctx, kTarget, SourceIR::kATEN, "c",
                    HostConstant::of({3}, Weights::from_vector(DataType::kINT32, v)),
                    DataType::kHALF);
  });
  expect_close(got, at::tensor(v).to(at::kHalf), 1.0, "int32 constant -> fp16");
}

TEST(ImplCast, Float64ConstantsAreTruncatedOrRejectedPerSetting) {
  HostConstant c = HostConstant::of_doubles({3}, {0.1, -2.75, 1e3});
  at::Tensor expected = at::tensor({0.1, -2.75, 1e3}, at::kDouble).to(at::kFloat).to(at::kInt);
  {
    Network net;
    ConversionContext ctx(net);
    Tensor* y = cs::cast(ctx, kTarget, SourceIR::kATEN, "c", c, DataType::kINT32);
    ASSERT_EQ(ctx.warnings().size(), 1u);
    EXPECT_NE(ctx.warnings()[0].find("truncated to float32"), std::string::npos);
    net.mark_output(y);
    expect_close(run1(net, {}), expected, 1.0, "fp64 constant -> int32");
  }
  {
    Network net;
    ConversionContext strict(net, ConversionSettings{DoublePolicy::kREJECT});
    expect_error_unchanged(
        net, [&] { cs::to_copy(strict, kTarget, SourceIR::kATEN, "c", c, DataType::kFLOAT); },
        {"cast::to_copy", "float64", "rejects"});
    EXPECT_TRUE(strict.warnings().empty());
  }
}

TEST(ImplCast, DynamicShapesAtMinOptMax) {
  auto set = [](int64_t n, int64_t m, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, m}, seed, -50, 50)};
  };
  run_block_dynamic(
      {set(1, 1, 10), set(3, 4, 20), set(6, 5, 30)},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return cs::cast(ctx, kTarget, SourceIR::kATEN, "c", in[0], DataType::kINT8);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, in[0].to(at::kChar), 1.0, "fp32 -> int8 dynamic");
      });
}

TEST(ImplCast, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2});
  Tensor* y =
      cs::to_copy(ctx, "_to_copy.default", SourceIR::kATEN, "to_copy_1", x, DataType::kHALF);
  EXPECT_EQ(y->producer()->name(), "[CAST]-[aten_ops._to_copy.default]-[to_copy_1]");
  EXPECT_EQ(y->name(), "[CAST]-[aten_ops._to_copy.default]-[to_copy_1]");
  Tensor* s = cs::cast(ctx, "to", std::nullopt, "k", int64_t{3}, DataType::kINT32);
  EXPECT_EQ(s->producer()->name(), "[CONSTANT]-[unknown_ops.to]-[k_scalar]");
  EXPECT_EQ(s->dims().rank(), 0);
}

TEST(ImplCast, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor f = random(DataType::kFLOAT, {2, 3}, 1);
  expect_block_error({f},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return cs::cast(ctx, kTarget, SourceIR::kATEN, "c", in[0], DataType::kINT4);
                     },
                     {"cast::cast", "'c'", "int4"});
  expect_block_error({f},
                     [](ConversionContext& ctx, const std::vector<Tensor*>&) {
                       return cs::cast(ctx, kTarget, SourceIR::kATEN, "c",
                                       static_cast<Tensor*>(nullptr), DataType::kFLOAT);
                     },
                     {"cast::cast", "null tensor"});
}

}  // namespace
}  // namespace lktest
