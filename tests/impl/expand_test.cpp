// expand, expand_to and tile against ATen (Tensor::expand, broadcast_to, at::tile): dtypes,
// -1 and new dims, shapes known at build time or only at run time, dynamic shapes; errors.
#include "layerkit/impl/expand.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace ex = layerkit::impl::expand;

const Target kTarget("expand.default");

const std::vector<DataType> kAll = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                    DataType::kINT8,  DataType::kUINT8, DataType::kINT32,
                                    DataType::kINT64, DataType::kBOOL};

std::string str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(v[i]);
  }
  return s + "]";
}

// The ONNX Expand oracle: numpy broadcasting of the input with a tensor of `shape`.
at::Tensor onnx_expand(const at::Tensor& x, const std::vector<int64_t>& shape) {
  return (x.to(at::kDouble) + at::zeros(shape, at::kDouble)).to(x.scalar_type());
}

TEST(ImplExpand, ExpandEveryTypeNewDimsAndMinusOne) {
  uint64_t seed = 1;
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases = {
      {{3, 1}, {3, 4}}, {{3, 1}, {2, 3, 4}}, {{3, 1}, {-1, 5}},      {{1, 1}, {2, -1, 3}},
      {{}, {2, 3}},     {{4}, {2, 3, 4}},    {{2, 1, 3}, {2, 0, 3}}, {{2, 3}, {-1, -1}}};
  for (DataType t : kAll) {
    for (const auto& [shape, sizes] : cases) {
      at::Tensor x = random(t, shape, seed++);
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return ex::expand(ctx, kTarget, SourceIR::kATEN, "e", in[0], sizes);
      });
      expect_close(got, x.expand(sizes).contiguous(), 1.0,
                   std::string(data_type_name(t)) + " " + str(shape) + " -> " + str(sizes));
    }
  }
}

TEST(ImplExpand, ExpandDynamicShapesAtMinOptMax) {
  auto set = [](int64_t a, int64_t k) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {a, 1}, 10 + k)};
  };
  run_block_dynamic(
      {set(1, 0), set(3, 1), set(7, 2)},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return ex::expand(ctx, kTarget, SourceIR::kATEN, "e", in[0], {2, -1, 5});
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, in[0].expand({2, -1, 5}).contiguous(), 1.0, "dynamic expand");
      });
  // A dynamic dim that is 1 at run time broadcasts to the given size.
  auto ones = [](int64_t b, int64_t k) {
    return std::vector<at::Tensor>{random(DataType::kINT32, {1, b}, 20 + k)};
  };
  run_block_dynamic(
      {ones(1, 0), ones(2, 1), ones(4, 2)},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return ex::expand(ctx, kTarget, SourceIR::kATEN, "e", in[0], {3, -1});
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, in[0].expand({3, -1}).contiguous(), 1.0, "dynamic 1 to 3");
      });
}

TEST(ImplExpand, ExpandToWithShapeKnownAtBuildTime) {
  uint64_t seed = 30;
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases = {
      {{3, 1}, {2, 3, 4}}, {{3, 1}, {1, 1}}, {{3, 4}, {4}}, {{1, 4, 1}, {3, 1, 1, 2}},
      {{}, {2, 2}},        {{2, 1, 3}, {1}}, {{5}, {1, 5}}, {{2, 1}, {2, 0}}};
  for (DataType t : {DataType::kFLOAT, DataType::kHALF, DataType::kINT64, DataType::kBOOL}) {
    for (const auto& [shape, target] : cases) {
      at::Tensor x = random(t, shape, seed++);
      at::Tensor s = at::tensor(target, at::kLong);
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return ex::expand_to(ctx, kTarget, SourceIR::kONNX, "e", in[0], constant(ctx.net(), s));
      });
      expect_close(got, onnx_expand(x, target), 1.0,
                   std::string(data_type_name(t)) + " " + str(shape) + " with " + str(target));
    }
  }
  // An int32 shape tensor is accepted too.
  at::Tensor x = random(DataType::kFLOAT, {3, 1}, 50);
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return ex::expand_to(ctx, kTarget, SourceIR::kONNX, "e", in[0],
                         constant(ctx.net(), at::tensor({2, 1, 4}, at::kInt)));
  });
  expect_close(got, onnx_expand(x, {2, 1, 4}), 1.0, "int32 shape");
}

TEST(ImplExpand, ExpandToWithShapeKnownOnlyAtRunTime) {
  // The shape is Shape(in1), a dynamic input: its values are unknown when the network is built.
  // Input 0's dims are dynamic too, so both sides of every dim are resolved at run time.
  struct Case {
    std::vector<int64_t> x_min, s_min, x_opt, s_opt, x_max, s_max;
  };
  // Each input's shapes grow from min to max (a valid profile); opt has x's 1s broadcast to the
  // shape's sizes and the other way round.
  const std::vector<Case> cases = {
      {{1, 1}, {1, 1, 1}, {2, 1}, {3, 2, 4}, {3, 6}, {3, 3, 6}},
      {{1}, {1, 1}, {4}, {2, 4}, {5}, {5, 5}},
      {{1, 1}, {1}, {2, 3}, {1}, {4, 3}, {3}},
  };
  uint64_t seed = 60;
  for (const Case& c : cases) {
    auto set = [&](const std::vector<int64_t>& xs, const std::vector<int64_t>& ss) {
      return std::vector<at::Tensor>{random(DataType::kFLOAT, xs, seed++),
                                     at::zeros(ss, at::kHalf)};
    };
    run_block_dynamic(
        {set(c.x_min, c.s_min), set(c.x_opt, c.s_opt), set(c.x_max, c.s_max)},
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          Tensor* s = ctx.net().add_shape(in[1])->output(0);
          return ex::expand_to(ctx, kTarget, SourceIR::kONNX, "e", in[0], s);
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          std::vector<int64_t> s(in[1].sizes().begin(), in[1].sizes().end());
          expect_close(
              out, onnx_expand(in[0], s), 1.0,
              "run-time " + str({in[0].sizes().begin(), in[0].sizes().end()}) + " with " + str(s));
        });
  }
  // Static input (a Constant), run-time shape: static dims other than 1 keep their size.
  at::Tensor x = random(DataType::kINT32, {3, 1}, 90);
  auto set = [&](const std::vector<int64_t>& ss) {
    return std::vector<at::Tensor>{at::zeros(ss, at::kHalf)};
  };
  run_block_dynamic(
      {set({1, 1, 1}), set({2, 3, 4}), set({2, 3, 5})},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        Tensor* s = ctx.net().add_shape(in[0])->output(0);
        return ex::expand_to(ctx, kTarget, SourceIR::kONNX, "e", constant(ctx.net(), x), s);
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        std::vector<int64_t> s(in[0].sizes().begin(), in[0].sizes().end());
        expect_close(out, onnx_expand(x, s), 1.0, "static input, run-time shape " + str(s));
      });
}

TEST(ImplExpand, TileWithRepsAsAList) {
  uint64_t seed = 100;
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases = {
      {{2, 3}, {2, 2}}, {{2, 3}, {3}},    {{3}, {2, 1, 2}}, {{2, 1, 3}, {1, 4, 1}},
      {{}, {3}},        {{2, 3}, {0, 1}}, {{2, 3}, {1, 1}}, {{1}, {5}}};
  for (DataType t : kAll) {
    for (const auto& [shape, reps] : cases) {
      at::Tensor x = random(t, shape, seed++);
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return ex::tile(ctx, kTarget, SourceIR::kATEN, "t", in[0], reps);
      });
      expect_close(got, at::tile(x, reps), 1.0,
                   std::string(data_type_name(t)) + " " + str(shape) + " reps " + str(reps));
    }
  }
}

TEST(ImplExpand, TileWithRepeatsTensor) {
  uint64_t seed = 200;
  for (DataType it : {DataType::kINT64, DataType::kINT32}) {
    at::Tensor x = random(DataType::kHALF, {2, 3, 1}, seed++);
    at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return ex::tile(ctx, kTarget, SourceIR::kONNX, "t", in[0],
                      constant(ctx.net(), at::tensor({3, 1, 2}, to_aten(it))));
    });
    expect_close(got, at::tile(x, {3, 1, 2}), 1.0, std::string(data_type_name(it)) + " repeats");
  }
  // Repeats known only at run time (the shape of a dynamic input), input dims dynamic.
  auto set = [&](const std::vector<int64_t>& xs, const std::vector<int64_t>& rs) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, xs, seed++), at::zeros(rs, at::kHalf)};
  };
  run_block_dynamic(
      {set({1, 1}, {1, 1}), set({2, 3}, {3, 2}), set({4, 3}, {3, 5})},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        Tensor* r = ctx.net().add_shape(in[1])->output(0);
        return ex::tile(ctx, kTarget, SourceIR::kONNX, "t", in[0], r);
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::tile(in[0], in[1].sizes()), 1.0, "run-time repeats");
      });
}

TEST(ImplExpand, TileDynamicShapesAtMinOptMax) {
  auto set = [](int64_t a, int64_t b, int64_t k) {
    return std::vector<at::Tensor>{random(DataType::kBF16, {a, b}, 300 + k)};
  };
  run_block_dynamic(
      {set(1, 1, 0), set(2, 3, 1), set(5, 4, 2)},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return ex::tile(ctx, kTarget, SourceIR::kATEN, "t", in[0], {2, 1, 3});
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::tile(in[0], {2, 1, 3}), 1.0, "dynamic tile");
      });
}

TEST(ImplExpand, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 1});
  EXPECT_EQ(ex::expand(ctx, kTarget, SourceIR::kATEN, "e", x, {3, 4})->producer()->name(),
            "[SLICE]-[aten_ops.expand.default]-[e]");
  EXPECT_EQ(ex::tile(ctx, kTarget, SourceIR::kATEN, "t", x, {2, 2})->producer()->name(),
            "[SLICE]-[aten_ops.expand.default]-[t]");
}

TEST(ImplExpand, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {3, 2}, 1);
  auto expand = [](std::vector<int64_t> sizes) {
    return [sizes](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return ex::expand(ctx, kTarget, SourceIR::kATEN, "e", in[0], sizes);
    };
  };
  expect_block_error({x}, expand({3, 4}), {"expand::expand", "size 4", "existing size 2", "dim 1"});
  expect_block_error({x}, expand({2}), {"expand::expand", "number of sizes (1)", "rank 2"});
  expect_block_error({x}, expand({-1, 3, 2}), {"expand::expand", "new leading dim 0"});
  expect_block_error({x}, expand({3, -2}), {"expand::expand", "-2"});
  // Shape and repeats constants are added before the call, so only the block is rolled back.
  auto with_constant = [&](const at::Tensor& c,
                           const std::function<void(ConversionContext&, Tensor*, Tensor*)>& f,
                           const std::vector<std::string>& fragments) {
    Network net;
    ConversionContext ctx(net);
    Tensor* in = net.add_input("in0", DataType::kFLOAT, {3, 2});
    Tensor* k = constant(net, c);
    expect_error_unchanged(
        net, [&] { f(ctx, in, k); }, fragments);
  };
  auto expand_to = [](ConversionContext& ctx, Tensor* in, Tensor* s) {
    ex::expand_to(ctx, kTarget, SourceIR::kONNX, "e", in, s);
  };
  with_constant(at::tensor({4, 3}, at::kLong), expand_to,
                {"expand::expand_to", "cannot broadcast", "entry 0 = 4"});
  with_constant(at::tensor({2.0f, 3.0f}), expand_to,
                {"expand::expand_to", "float32", "int32 or int64"});
  with_constant(at::ones({1, 2}, at::kLong), expand_to, {"expand::expand_to", "1-D"});
  auto tile_t = [](ConversionContext& ctx, Tensor* in, Tensor* r) {
    ex::tile(ctx, kTarget, SourceIR::kONNX, "t", in, r);
  };
  with_constant(at::tensor({2, 2, 2}, at::kLong), tile_t,
                {"expand::tile", "repeats has 3 entries", "one per input dim"});
  with_constant(at::tensor({2, -1}, at::kLong), tile_t, {"expand::tile", "repeat -1"});
  auto tile = [](std::vector<int64_t> reps) {
    return [reps](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return ex::tile(ctx, kTarget, SourceIR::kATEN, "t", in[0], reps);
    };
  };
  expect_block_error({x}, tile({2, -1}), {"expand::tile", "repeat -1", "position 1"});
}

}  // namespace
}  // namespace lktest
