// Slice and select building blocks against Tensor::slice / Tensor::select: every dtype, negative
// dims and bounds, clamping, tensor bounds, dynamic shapes, errors and layer names.
#include "layerkit/impl/slice.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace sl = layerkit::impl::slice;

const Target kTarget("slice.Tensor");

const std::vector<DataType> kAll = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                    DataType::kINT32, DataType::kINT64, DataType::kBOOL};

struct Bounds {
  std::optional<int64_t> start, stop;
  int64_t step;
};
const std::vector<Bounds> kBounds = {{std::nullopt, std::nullopt, 1},
                                     {1, 5, 2},
                                     {-3, std::nullopt, 1},
                                     {std::nullopt, -1, 3},
                                     {-100, 100, 2},
                                     {5, 2, 1},
                                     {10, 20, 1},
                                     {0, 1, 1},
                                     {-1, std::nullopt, 4},
                                     {2, -2, 1},
                                     {std::nullopt, 3, 2},
                                     {-7, -5, 1}};

std::optional<Operand> opt(std::optional<int64_t> v) {
  return v ? std::optional<Operand>(*v) : std::nullopt;
}

// The oracle: Tensor::slice takes c10::optional bounds.
at::Tensor aten_slice(const at::Tensor& x, int64_t dim, std::optional<int64_t> start,
                      std::optional<int64_t> stop, int64_t step) {
  auto c = [](std::optional<int64_t> v) {
    return v ? c10::optional<int64_t>(*v) : c10::optional<int64_t>();
  };
  return x.slice(dim, c(start), c(stop), step);
}

std::string what(DataType t, int64_t dim, const Bounds& b) {
  auto s = [](std::optional<int64_t> v) { return v ? std::to_string(*v) : std::string("None"); };
  return std::string(data_type_name(t)) + " dim " + std::to_string(dim) + " [" + s(b.start) + ":" +
         s(b.stop) + ":" + std::to_string(b.step) + "]";
}

TEST(ImplSlice, StaticBoundsEveryTypeDimAndBound) {
  uint64_t seed = 1;
  for (DataType t : kAll) {
    at::Tensor x = random(t, {4, 7, 5}, seed++, -10, 10);
    for (int64_t dim : {0, 1, 2, -1, -3}) {
      for (const Bounds& b : kBounds) {
        at::Tensor got =
            run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return sl::slice(ctx, kTarget, SourceIR::kATEN, "s", in[0], dim, opt(b.start),
                               opt(b.stop), b.step);
            });
        expect_close(got, aten_slice(x, dim, b.start, b.stop, b.step), 1.0, what(t, dim, b));
      }
    }
  }
}

TEST(ImplSlice, TensorBoundsKnownOnlyAtRunTime) {
  at::Tensor x = random(DataType::kFLOAT, {3, 9}, 7);
  for (const Bounds& b : kBounds) {
    if (!b.start || !b.stop) continue;
    for (DataType bt : {DataType::kINT64, DataType::kINT32}) {
      at::ScalarType st = to_aten(bt);
      // The start as a 0-D network input, the stop as a [1] one.
      at::Tensor s = at::scalar_tensor(*b.start, at::TensorOptions().dtype(st));
      at::Tensor e = at::full({1}, *b.stop, at::TensorOptions().dtype(st));
      at::Tensor got =
          run_block({x, s, e}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            return sl::slice(ctx, kTarget, SourceIR::kATEN, "s", in[0], -1, in[1], in[2], b.step);
          });
      expect_close(got, aten_slice(x, -1, b.start, b.stop, b.step), 1.0,
                   what(bt, -1, b) + " tensor bounds");
    }
  }
  // One tensor bound, the other an int or absent.
  at::Tensor s = at::scalar_tensor(-4, at::kLong);
  at::Tensor got = run_block({x, s}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return sl::slice(ctx, kTarget, SourceIR::kATEN, "s", in[0], 1, in[1], std::nullopt, 2);
  });
  expect_close(got, aten_slice(x, 1, -4, std::nullopt, 2), 1.0, "tensor start, no stop");
  got = run_block({x, s}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return sl::slice(ctx, kTarget, SourceIR::kATEN, "s", in[0], 1, 1, in[1], 1);
  });
  expect_close(got, x.slice(1, 1, -4), 1.0, "int start, tensor stop");
}

TEST(ImplSlice, ConstantTensorBoundsStayStatic) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 9});
  Tensor* s = constant(net, at::scalar_tensor(-4, at::kLong));
  Tensor* y = sl::slice(ctx, kTarget, SourceIR::kATEN, "s", x, 1, s, std::nullopt, 1);
  EXPECT_EQ(y->dims(), (Dims{3, 4}));
  EXPECT_EQ(y->producer()->kind(), LayerKind::kSLICE);
}

TEST(ImplSlice, DynamicShapesAtMinOptMax) {
  auto set = [](int64_t n, int64_t m, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, m}, seed)};
  };
  std::vector<std::vector<at::Tensor>> sets = {set(1, 1, 10), set(3, 6, 20), set(5, 11, 30)};
  for (const Bounds& b : kBounds) {
    run_block_dynamic(
        sets,
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return sl::slice(ctx, kTarget, SourceIR::kATEN, "s", in[0], -1, opt(b.start), opt(b.stop),
                           b.step);
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, aten_slice(in[0], -1, b.start, b.stop, b.step), 1.0,
                       what(DataType::kFLOAT, -1, b) + " dynamic " + std::to_string(in[0].size(1)));
        });
  }
  // Tensor bounds on a dynamic dim.
  auto tset = [](int64_t n, int64_t m, int64_t s, int64_t e, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kINT32, {n, m}, seed, -50, 50),
                                   at::scalar_tensor(s, at::kLong),
                                   at::scalar_tensor(e, at::kLong)};
  };
  run_block_dynamic(
      {tset(2, 1, 0, 1, 1), tset(3, 8, -6, 7, 2), tset(4, 12, 2, -1, 3)},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return sl::slice(ctx, kTarget, SourceIR::kATEN, "s", in[0], 1, in[1], in[2], 2);
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, in[0].slice(1, in[1].item<int64_t>(), in[2].item<int64_t>(), 2), 1.0,
                     "dynamic dim, tensor bounds");
      });
}

TEST(ImplSelect, EveryTypeDimAndIndex) {
  uint64_t seed = 100;
  for (DataType t : kAll) {
    at::Tensor x = random(t, {3, 4, 5}, seed++, -10, 10);
    for (int64_t dim : {0, 1, 2, -1, -2}) {
      int64_t n = x.size(dim);
      for (int64_t index : {int64_t{0}, n - 1, int64_t{-1}, -n, int64_t{1}}) {
        at::Tensor got =
            run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return sl::select(ctx, "select.int", SourceIR::kATEN, "sel", in[0], dim, index);
            });
        expect_close(got, x.select(dim, index), 1.0,
                     std::string(data_type_name(t)) + " dim " + std::to_string(dim) + " index " +
                         std::to_string(index));
      }
    }
  }
  // Rank 1 gives a 0-D result.
  at::Tensor v = random(DataType::kINT64, {6}, 3, -9, 9);
  at::Tensor got = run_block({v}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return sl::select(ctx, "select.int", SourceIR::kATEN, "sel", in[0], 0, -2);
  });
  expect_close(got, v.select(0, -2), 1.0, "rank 1");
}

TEST(ImplSelect, DynamicShapesAtMinOptMax) {
  auto set = [](int64_t n, int64_t m, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kHALF, {n, m, 2}, seed)};
  };
  for (int64_t index : {0, -1}) {
    run_block_dynamic(
        {set(1, 1, 1), set(2, 3, 2), set(4, 7, 3)},
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return sl::select(ctx, "select.int", SourceIR::kATEN, "sel", in[0], -2, index);
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, in[0].select(-2, index), 1.0, "dynamic select");
        });
  }
}

TEST(ImplSlice, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4, 6});
  Tensor* y = sl::slice(ctx, "slice.Tensor", SourceIR::kATEN, "slice_1", x, 1, 1, -1, 2);
  EXPECT_EQ(y->producer()->name(), "[SLICE]-[aten_ops.slice.Tensor]-[slice_1]");
  EXPECT_EQ(net.num_layers(), 2) << net.to_string();  // input + slice: nothing else when static
  Tensor* z = sl::select(ctx, "select.int", SourceIR::kATEN, "select_1", y, 0, -1);
  EXPECT_EQ(z->producer()->name(), "[GATHER]-[aten_ops.select.int]-[select_1]");
  EXPECT_NE(net.find_layer("[CONSTANT]-[aten_ops.select.int]-[select_1_index]"), nullptr)
      << net.to_string();

  // A dynamic dim: shape arithmetic under the block's name.
  Tensor* d = net.add_input("d", DataType::kFLOAT, {2, -1});
  Tensor* w = sl::slice(ctx, "slice.Tensor", std::nullopt, "dyn", d, 1, -3, std::nullopt, 2);
  EXPECT_EQ(w->producer()->name(), "[SLICE]-[unknown_ops.slice.Tensor]-[dyn]");
  for (const char* n : {"[SHAPE]-[unknown_ops.slice.Tensor]-[dyn_dim_size_shape]",
                        "[SLICE]-[unknown_ops.slice.Tensor]-[dyn_dim_size]",
                        "[ELEMENTWISE]-[unknown_ops.slice.Tensor]-[dyn_start_wrap]",
                        "[ELEMENTWISE]-[unknown_ops.slice.Tensor]-[dyn_start]",
                        "[ELEMENTWISE]-[unknown_ops.slice.Tensor]-[dyn_size]",
                        "[CONSTANT]-[unknown_ops.slice.Tensor]-[dyn_axes]"})
    EXPECT_NE(net.find_layer(n), nullptr) << n << "\n" << net.to_string();
}

TEST(ImplSlice, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {3, 4}, 1);
  at::Tensor f0 = at::scalar_tensor(1.5, at::kFloat);
  at::Tensor zero_d = at::scalar_tensor(2.0, at::kFloat);
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sl::slice(ctx, kTarget, SourceIR::kATEN, "bad", in[0], 1, 0, 2, 0);
                     },
                     {"slice::slice", "slice.Tensor", "'bad'", "step must be positive", "0"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sl::slice(ctx, kTarget, SourceIR::kATEN, "bad", in[0], 2, 0, 2, 1);
                     },
                     {"dim 2 is out of range", "-2..1"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sl::slice(ctx, kTarget, SourceIR::kATEN, "bad", in[0], 0, 1.5, 2, 1);
                     },
                     {"start must be an int", "1.5"});
  expect_block_error({x, f0},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sl::slice(ctx, kTarget, SourceIR::kATEN, "bad", in[0], 0,
                                        std::nullopt, in[1], 1);
                     },
                     {"stop tensor must be int32 or int64", "float32"});
  expect_block_error({x, at::zeros({2}, at::kLong)},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sl::slice(ctx, kTarget, SourceIR::kATEN, "bad", in[0], 0, in[1],
                                        std::nullopt, 1);
                     },
                     {"one element", "[2]"});
  // 0-D inputs have no dim to slice.
  expect_block_error({zero_d},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sl::slice(ctx, kTarget, SourceIR::kATEN, "bad", in[0], 0, 0, 1, 1);
                     },
                     {"0-dim tensor"});
  expect_block_error({zero_d},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sl::select(ctx, kTarget, SourceIR::kATEN, "bad", in[0], 0, 0);
                     },
                     {"slice::select", "0-dim tensor"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sl::select(ctx, kTarget, SourceIR::kATEN, "bad", in[0], 1, 4);
                     },
                     {"index 4 out of range", "[3,4]", "dimension 1", "-4..3"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return sl::select(ctx, kTarget, SourceIR::kATEN, "bad", in[0], -1, -5);
                     },
                     {"index -5 out of range"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>&) {
                       return sl::select(ctx, kTarget, SourceIR::kATEN, "bad", nullptr, 0, 0);
                     },
                     {"null tensor"});
}

TEST(ImplSelect, IndexOutsideADynamicDimFailsAtRunTime) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 2});
  net.mark_output(sl::select(ctx, "select.int", SourceIR::kATEN, "sel", x, 0, -4));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 2}, {3, 2}, {5, 2});
  config.profiles.push_back(p);
  Runner runner(net, config);
  expect_close(runner.run({at::arange(8, at::kFloat).reshape({4, 2})}).at(0),
               at::arange(8, at::kFloat).reshape({4, 2}).select(0, -4), 1.0, "in range");
  expect_error([&] { runner.run({at::zeros({3, 2})}); }, {"-4"}, ErrorCode::kRUNTIME);
}

}  // namespace
}  // namespace lktest
