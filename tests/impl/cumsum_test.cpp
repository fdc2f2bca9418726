// cumsum building block against at::cumsum: dtypes and torch's output types, dims, exclusive and
// reverse (as ONNX CumSum), dtype argument, dynamic shapes; errors.
#include "layerkit/impl/cumsum.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace cs = layerkit::impl::cumsum;

const Target kTarget("cumsum.default");

const std::vector<DataType> kAll = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                    DataType::kINT8,  DataType::kUINT8, DataType::kINT32,
                                    DataType::kINT64, DataType::kBOOL};

// at::cumsum; ATen 1.13 has no float16 cumsum on CPU, so float16 results come from the float32
// cumsum rounded to float16 (newer ATen accumulates float16 in float, as the layer does; the two
// differ by at most one float16 rounding step, within the float16 tolerance).
at::Tensor aten_cumsum(const at::Tensor& x, int64_t dim,
                       c10::optional<at::ScalarType> dtype = c10::nullopt) {
  at::ScalarType out =
      dtype ? *dtype : (at::isFloatingType(x.scalar_type()) ? x.scalar_type() : at::kLong);
  if (out == at::kHalf) return at::cumsum(x.to(at::kFloat), dim).to(at::kHalf);
  return at::cumsum(x, dim, dtype);
}

// The ONNX CumSum oracle from at::cumsum: exclusive sums the line shifted by one (a 0 first, the
// same additions in the same order), reverse runs on the flipped line.
at::Tensor reference(const at::Tensor& x, int64_t dim, bool exclusive, bool reverse,
                     c10::optional<at::ScalarType> dtype = c10::nullopt) {
  at::Tensor v = reverse ? x.flip(dim) : x;
  if (exclusive) {
    int64_t d = dim < 0 ? dim + v.dim() : dim;
    at::Tensor zero = at::zeros_like(v.narrow(d, 0, 1));
    v = at::cat({zero, v.narrow(d, 0, v.size(d) - 1)}, d);
  }
  at::Tensor r = aten_cumsum(v, dim, dtype);
  return reverse ? r.flip(dim) : r;
}

TEST(ImplCumsum, EveryTypeAndDimAsTorch) {
  uint64_t seed = 1;
  for (DataType t : kAll) {
    for (int64_t dim : {0, 1, -1, 2}) {
      at::Tensor x = random(t, {3, 4, 5}, seed++);
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return cs::cumsum(ctx, kTarget, SourceIR::kATEN, "c", in[0], dim);
      });
      // torch: integer and bool inputs give int64.
      expect_close(got, aten_cumsum(x, dim), 1.0,
                   std::string(data_type_name(t)) + " dim " + std::to_string(dim));
    }
  }
}

TEST(ImplCumsum, ExclusiveAndReverse) {
  uint64_t seed = 100;
  for (DataType t :
       {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32, DataType::kINT64}) {
    for (bool exclusive : {false, true}) {
      for (bool reverse : {false, true}) {
        for (int64_t dim : {0, -1}) {
          at::Tensor x = random(t, {4, 6}, seed++);
          at::Tensor got =
              run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                return cs::cumsum(ctx, kTarget, SourceIR::kONNX, "c", in[0], dim, exclusive,
                                  reverse, t);
              });
          expect_close(got, reference(x, dim, exclusive, reverse, to_aten(t)), 1.0,
                       std::string(data_type_name(t)) + (exclusive ? " exclusive" : "") +
                           (reverse ? " reverse" : "") + " dim " + std::to_string(dim));
        }
      }
    }
  }
}

TEST(ImplCumsum, DtypeKeepsOrChangesTheType) {
  // ONNX CumSum on int32/int8 keeps the type and wraps, as at::cumsum with that dtype does.
  at::Tensor big = at::full({6}, 2000000000, at::kInt);
  at::Tensor got = run_block({big}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return cs::cumsum(ctx, kTarget, SourceIR::kONNX, "c", in[0], 0, false, false, DataType::kINT32);
  });
  expect_close(got, at::cumsum(big, 0, at::kInt), 1.0, "int32 wraps");
  at::Tensor i8 = random(DataType::kINT8, {40}, 7, 50, 120);
  got = run_block({i8}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return cs::cumsum(ctx, kTarget, SourceIR::kONNX, "c", in[0], 0, false, false, DataType::kINT8);
  });
  expect_close(got, at::cumsum(i8, 0, at::kChar), 1.0, "int8 wraps");
  // Float dtype for an integer input; fp32 for fp16 input.
  at::Tensor x = random(DataType::kINT32, {3, 5}, 8);
  got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return cs::cumsum(ctx, kTarget, SourceIR::kATEN, "c", in[0], 1, false, false, DataType::kFLOAT);
  });
  expect_close(got, at::cumsum(x, 1, at::kFloat), 1.0, "int32 as float32");
  at::Tensor h = random(DataType::kHALF, {3, 5}, 9);
  got = run_block({h}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return cs::cumsum(ctx, kTarget, SourceIR::kATEN, "c", in[0], 1, false, false, DataType::kFLOAT);
  });
  expect_close(got, at::cumsum(h.to(at::kFloat), 1), 1.0, "fp16 as float32");
}

TEST(ImplCumsum, LongLinesAndRankZero) {
  at::Tensor x = random(DataType::kFLOAT, {2, 3000}, 10);
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return cs::cumsum(ctx, kTarget, SourceIR::kATEN, "c", in[0], 1);
  });
  expect_close(got, at::cumsum(x, 1), 1.0, "3000 long");
  at::Tensor s = random(DataType::kFLOAT, {}, 11);
  got = run_block({s}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return cs::cumsum(ctx, kTarget, SourceIR::kATEN, "c", in[0], -1);
  });
  expect_close(got, at::cumsum(s, -1), 1.0, "rank 0");
}

TEST(ImplCumsum, DynamicShapesAtMinOptMax) {
  auto set = [](int64_t a, int64_t b, int64_t k) {
    return std::vector<at::Tensor>{random(DataType::kINT32, {a, b}, 20 + k)};
  };
  for (bool exclusive : {false, true}) {
    run_block_dynamic(
        {set(1, 1, 0), set(3, 17, 1), set(5, 200, 2)},
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return cs::cumsum(ctx, kTarget, SourceIR::kATEN, "c", in[0], 1, exclusive, true);
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, reference(in[0], 1, exclusive, true, at::kLong), 1.0, "dynamic cumsum");
        });
  }
}

TEST(ImplCumsum, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 4});
  EXPECT_EQ(cs::cumsum(ctx, kTarget, SourceIR::kATEN, "c", x, 1)->producer()->name(),
            "[CUMULATIVE]-[aten_ops.cumsum.default]-[c]");
}

TEST(ImplCumsum, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {3, 4}, 1);
  auto block = [](int64_t dim, std::optional<DataType> dtype) {
    return [dim, dtype](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return cs::cumsum(ctx, kTarget, SourceIR::kATEN, "c", in[0], dim, false, false, dtype);
    };
  };
  expect_block_error({x}, block(2, std::nullopt), {"cumsum::cumsum", "dim 2"});
  expect_block_error({x}, block(-3, std::nullopt), {"cumsum::cumsum", "dim -3"});
  expect_block_error({x}, block(0, DataType::kBOOL), {"cumsum::cumsum", "bool", "given dtype"});
}

}  // namespace
}  // namespace lktest
