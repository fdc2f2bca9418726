// one_hot and one_hot_values against ATen (at::one_hot, and for ONNX OneHot at::one_hot of the
// wrapped indices moved to the axis and mapped to the values): index types, axes, negative and
// out-of-range indices, depth known at build or run time, dynamic shapes; errors.
#include "layerkit/impl/one_hot.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace oh = layerkit::impl::one_hot;

const Target kTarget("one_hot.default");

// ONNX OneHot from ATen ops: negative indices wrap, indices outside [-depth, depth) give off.
at::Tensor onnx_one_hot(const at::Tensor& indices, int64_t depth, const at::Tensor& off,
                        const at::Tensor& on, int64_t axis) {
  at::Tensor i = indices.to(at::kLong);
  at::Tensor wrapped = at::where(i < 0, i + depth, i);
  at::Tensor valid = (wrapped >= 0).logical_and(wrapped < depth);
  at::Tensor hot = at::one_hot(at::where(valid, wrapped, at::zeros_like(wrapped)), depth);
  hot = hot.mul(valid.unsqueeze(-1).to(at::kLong));
  int64_t r = indices.dim() + 1;
  hot = hot.movedim(-1, axis < 0 ? axis + r : axis);
  return at::where(hot.to(at::kBool), on, off);
}

TEST(ImplOneHot, OneHotAsTorch) {
  uint64_t seed = 1;
  for (DataType it : {DataType::kINT64, DataType::kINT32}) {
    for (const std::vector<int64_t>& shape :
         {std::vector<int64_t>{5}, std::vector<int64_t>{2, 3}, std::vector<int64_t>{}}) {
      for (int64_t c : {1, 4, 7}) {
        at::Tensor idx = random(it, shape, seed++, 0, c - 1);
        at::Tensor got =
            run_block({idx}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return oh::one_hot(ctx, kTarget, SourceIR::kATEN, "o", in[0], c);
            });
        expect_close(got, at::one_hot(idx.to(at::kLong), c), 1.0,
                     std::string(data_type_name(it)) + " classes " + std::to_string(c));
      }
    }
  }
}

TEST(ImplOneHot, OneHotDynamicShapesAtMinOptMax) {
  auto set = [](int64_t a, int64_t b, int64_t k) {
    return std::vector<at::Tensor>{random(DataType::kINT64, {a, b}, 10 + k, 0, 5)};
  };
  run_block_dynamic(
      {set(1, 1, 0), set(2, 3, 1), set(4, 6, 2)},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return oh::one_hot(ctx, kTarget, SourceIR::kATEN, "o", in[0], 6);
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::one_hot(in[0], 6), 1.0, "dynamic one_hot");
      });
}

TEST(ImplOneHotValues, EveryAxisValueTypeAndIndexType) {
  uint64_t seed = 100;
  const int64_t depth = 5;
  for (DataType vt :
       {DataType::kFLOAT, DataType::kHALF, DataType::kINT32, DataType::kINT64, DataType::kBOOL}) {
    for (DataType it : {DataType::kINT64, DataType::kINT32, DataType::kINT8}) {
      for (int64_t axis : {-1, 0, 1, 2, -3}) {
        // Indices in [-7, 6]: negative ones wrap, -7, -6, 5 and 6 are out of range.
        at::Tensor idx = random(it, {3, 4}, seed++, -7, 6);
        at::Tensor vals = random(vt, {2}, seed++, 1, 9);
        at::Tensor got =
            run_block({idx, vals}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              Tensor* off = ctx.net().add_slice(in[1], {0}, {1}, {1})->output(0);
              Tensor* on = ctx.net().add_slice(in[1], {1}, {1}, {1})->output(0);
              return oh::one_hot_values(ctx, kTarget, SourceIR::kONNX, "o", in[0], depth, off, on,
                                        axis);
            });
        expect_close(got, onnx_one_hot(idx, depth, vals[0], vals[1], axis), 1.0,
                     std::string(data_type_name(vt)) + " values, " +
                         std::string(data_type_name(it)) + " indices, axis " +
                         std::to_string(axis));
      }
    }
  }
}

TEST(ImplOneHotValues, ScalarValuesFloatIndicesAndDepthTensor) {
  at::Tensor idx = random(DataType::kINT64, {6}, 200, -4, 3);
  // Scalars: float values give float32.
  at::Tensor got = run_block({idx}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return oh::one_hot_values(ctx, kTarget, SourceIR::kONNX, "o", in[0], 4, 0.5, 2.5);
  });
  expect_close(got, onnx_one_hot(idx, 4, at::scalar_tensor(0.5f), at::scalar_tensor(2.5f), -1), 1.0,
               "scalar values");
  // Float indices are cast to int64; depth as a 0-D float constant and a [1] int32 constant.
  at::Tensor fidx = idx.to(at::kFloat);
  for (at::Tensor depth : {at::scalar_tensor(4.0f), at::tensor({4}, at::kInt)}) {
    got = run_block({fidx}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return oh::one_hot_values(ctx, kTarget, SourceIR::kONNX, "o", in[0],
                                constant(ctx.net(), depth), int64_t{0}, int64_t{1}, 0);
    });
    expect_close(
        got,
        onnx_one_hot(idx, 4, at::scalar_tensor(0, at::kLong), at::scalar_tensor(1, at::kLong), 0),
        1.0, "float indices, depth tensor");
  }
}

TEST(ImplOneHotValues, DepthKnownOnlyAtRunTime) {
  // depth = the size of a dynamic input's dim 0; the indices are dynamic too.
  auto set = [](int64_t n, int64_t depth, int64_t k) {
    return std::vector<at::Tensor>{random(DataType::kINT64, {n, 2}, 300 + k, -depth - 1, depth),
                                   at::zeros({depth}, at::kHalf)};
  };
  run_block_dynamic(
      {set(1, 1, 0), set(3, 4, 1), set(5, 9, 2)},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        Tensor* d = ctx.net().add_shape(in[1])->output(0);
        return oh::one_hot_values(ctx, kTarget, SourceIR::kONNX, "o", in[0], d, -1.0, 3.0, 1);
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out,
                     onnx_one_hot(in[0], in[1].size(0), at::scalar_tensor(-1.0f),
                                  at::scalar_tensor(3.0f), 1),
                     1.0, "run-time depth " + std::to_string(in[1].size(0)));
      });
}

TEST(ImplOneHot, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor idx = random(DataType::kINT64, {3}, 1, 0, 2);
  expect_block_error({idx},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return oh::one_hot(ctx, kTarget, SourceIR::kATEN, "o", in[0], -1);
                     },
                     {"one_hot::one_hot", "num_classes is -1"});
  expect_block_error({idx.to(at::kFloat)},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return oh::one_hot(ctx, kTarget, SourceIR::kATEN, "o", in[0], 3);
                     },
                     {"one_hot::one_hot", "float32", "int64 or int32"});
  auto values = [](Operand depth, int64_t axis) {
    return [depth, axis](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      Operand d = depth.is_tensor() ? Operand(in[1]) : depth;
      return oh::one_hot_values(ctx, kTarget, SourceIR::kONNX, "o", in[0], d, 0.0, 1.0, axis);
    };
  };
  expect_block_error({idx}, values(int64_t{0}, -1), {"one_hot::one_hot_values", "depth is 0"});
  expect_block_error({idx}, values(int64_t{3}, 2), {"one_hot::one_hot_values", "dim 2"});
  Tensor* t = nullptr;
  expect_block_error({idx, at::ones({2}, at::kLong)}, values(t, -1),
                     {"one_hot::one_hot_values", "one element", "[2]"});
}

}  // namespace
}  // namespace lktest
