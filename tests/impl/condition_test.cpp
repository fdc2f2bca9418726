// where building block against at::where: dtypes, promotion with tensors and scalars, 3-way
// broadcasting, dynamic shapes; errors.
#include "layerkit/impl/condition.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace cd = layerkit::impl::condition;

const Target kTarget("where.self");

const std::vector<DataType> kAll = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                    DataType::kINT8,  DataType::kUINT8, DataType::kINT32,
                                    DataType::kINT64, DataType::kBOOL};

TEST(ImplWhere, EveryTypeWithThreeWayBroadcasting) {
  uint64_t seed = 1;
  for (DataType t : kAll) {
    at::Tensor c = random(DataType::kBOOL, {3, 1, 4}, seed++);
    at::Tensor x = random(t, {2, 1}, seed++);
    at::Tensor y = random(t, {4}, seed++);
    at::Tensor got =
        run_block({c, x, y}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return cd::where(ctx, kTarget, SourceIR::kATEN, "w", in[0], in[1], in[2]);
        });
    expect_close(got, at::where(c, x, y), 1.0, std::string(data_type_name(t)));
  }
}

TEST(ImplWhere, MixedTypesPromoteAsTorch) {
  uint64_t seed = 20;
  const std::vector<std::pair<DataType, DataType>> pairs = {
      {DataType::kINT32, DataType::kFLOAT}, {DataType::kHALF, DataType::kBF16},
      {DataType::kUINT8, DataType::kINT8},  {DataType::kBOOL, DataType::kINT64},
      {DataType::kINT64, DataType::kHALF},  {DataType::kINT8, DataType::kINT32}};
  for (auto [a, b] : pairs) {
    at::Tensor c = random(DataType::kBOOL, {2, 3}, seed++);
    at::Tensor x = random(a, {2, 3}, seed++);
    at::Tensor y = random(b, {3}, seed++);
    at::Tensor got =
        run_block({c, x, y}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return cd::where(ctx, kTarget, SourceIR::kATEN, "w", in[0], in[1], in[2]);
        });
    at::Tensor expected = at::where(c, x, y);
    // Note [Type promotion]: uint8 with int8 gives int32 here (layerkit has no int16, torch's
    // result); the values are the same.
    if (expected.scalar_type() == at::kShort) expected = expected.to(at::kInt);
    expect_close(got, expected, 1.0,
                 std::string(data_type_name(a)) + " with " + std::string(data_type_name(b)));
  }
  // A rank-0 tensor is weaker than a ranked one (int32 [2,3] with fp16 [] gives fp16; int64 []
  // with int32 [2,3] gives int32).
  at::Tensor c = random(DataType::kBOOL, {2, 3}, 40);
  at::Tensor x = random(DataType::kINT32, {2, 3}, 41);
  for (DataType s : {DataType::kHALF, DataType::kINT64}) {
    at::Tensor y = random(s, {}, 42);
    at::Tensor got =
        run_block({c, x, y}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return cd::where(ctx, kTarget, SourceIR::kATEN, "w", in[0], in[1], in[2]);
        });
    expect_close(got, at::where(c, x, y), 1.0, "rank 0 " + std::string(data_type_name(s)));
  }
}

TEST(ImplWhere, ScalarOperands) {
  at::Tensor c = random(DataType::kBOOL, {3, 4}, 50);
  uint64_t seed = 51;
  for (DataType t : {DataType::kFLOAT, DataType::kHALF, DataType::kINT32, DataType::kBOOL}) {
    at::Tensor x = random(t, {4}, seed++);
    // Tensor with a float scalar: float tensors keep their type, integers become fp32.
    at::Tensor got = run_block({c, x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return cd::where(ctx, kTarget, SourceIR::kATEN, "w", in[0], in[1], 2.5);
    });
    expect_close(got, at::where(c, x, at::Scalar(2.5)), 1.0,
                 std::string(data_type_name(t)) + " with 2.5");
    // Scalar first, int scalar: ints keep their type, bool becomes int64.
    got = run_block({c, x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return cd::where(ctx, kTarget, SourceIR::kATEN, "w", in[0], int64_t{-3}, in[1]);
    });
    expect_close(got, at::where(c, at::Scalar(int64_t{-3}), x), 1.0,
                 "-3 with " + std::string(data_type_name(t)));
  }
  // Two scalars: float and int give the default float type, two ints int64.
  at::Tensor got = run_block({c}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return cd::where(ctx, kTarget, SourceIR::kATEN, "w", in[0], 1.5, int64_t{2});
  });
  expect_close(got, at::where(c, at::Scalar(1.5), at::Scalar(int64_t{2})), 1.0, "1.5, 2");
  got = run_block({c}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return cd::where(ctx, kTarget, SourceIR::kATEN, "w", in[0], int64_t{7}, int64_t{-2});
  });
  expect_close(got, at::where(c, at::Scalar(int64_t{7}), at::Scalar(int64_t{-2})), 1.0, "7, -2");
}

TEST(ImplWhere, DynamicShapesAtMinOptMax) {
  auto set = [](int64_t a, int64_t b, int64_t k) {
    return std::vector<at::Tensor>{random(DataType::kBOOL, {a, 1, b}, 60 + k),
                                   random(DataType::kFLOAT, {b}, 70 + k),
                                   random(DataType::kINT32, {2, 1}, 80 + k)};
  };
  run_block_dynamic(
      {set(1, 1, 0), set(2, 3, 1), set(4, 6, 2)},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return cd::where(ctx, kTarget, SourceIR::kATEN, "w", in[0], in[1], in[2]);
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::where(in[0], in[1], in[2]), 1.0, "dynamic where");
      });
}

TEST(ImplWhere, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* c = net.add_input("c", DataType::kBOOL, {2, 3});
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* out = cd::where(ctx, kTarget, SourceIR::kATEN, "w", c, x, 0.0);
  EXPECT_EQ(out->producer()->name(), "[SELECT]-[aten_ops.where.self]-[w]");
}

TEST(ImplWhere, ErrorsLeaveTheNetworkUnchanged) {
  auto block = [](Operand x, Operand y) {
    return [x, y](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      Operand a = x.is_tensor() ? Operand(in[1]) : x;
      Operand b = y.is_tensor() ? Operand(in[2]) : y;
      return cd::where(ctx, kTarget, SourceIR::kATEN, "w", in[0], a, b);
    };
  };
  Tensor* dummy = nullptr;
  expect_block_error({random(DataType::kFLOAT, {2}, 1), random(DataType::kFLOAT, {2}, 2),
                      random(DataType::kFLOAT, {2}, 3)},
                     block(dummy, dummy), {"condition::where", "bool condition", "float32"});
  expect_block_error({random(DataType::kBOOL, {2, 3}, 1), random(DataType::kFLOAT, {4}, 2),
                      random(DataType::kFLOAT, {3}, 3)},
                     block(dummy, dummy), {"condition::where", "broadcast"});
  expect_block_error({random(DataType::kBOOL, {2, 3}, 1)},
                     [](ConversionContext& ctx, const std::vector<Tensor*>&) {
                       return cd::where(ctx, kTarget, SourceIR::kATEN, "w", nullptr, 1.0, 2.0);
                     },
                     {"condition::where", "null"});
}

}  // namespace
}  // namespace lktest
