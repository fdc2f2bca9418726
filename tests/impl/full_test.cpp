// full/zeros/ones building blocks against at::full / at::zeros / at::ones: dtype inference,
// explicit dtypes, tensor values, shape tensors (dynamic), errors and layer names.
#include "layerkit/impl/full.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace fl = layerkit::impl::full;

const Target kTarget("full.default");

const std::vector<DataType> kTypes = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                      DataType::kINT32, DataType::kINT64, DataType::kBOOL,
                                      DataType::kINT8,  DataType::kUINT8};

// Runs a block with no data inputs (a dummy input keeps the network non-empty).
at::Tensor run_source(const std::function<Tensor*(ConversionContext&)>& block) {
  return run_block({},
                   [&](ConversionContext& ctx, const std::vector<Tensor*>&) { return block(ctx); });
}

TEST(ImplFull, InfersTheTypeFromTheValueAsTorch) {
  struct Case {
    Operand v;
    at::Scalar s;
  };
  std::vector<Case> cases = {{2.5, 2.5},
                             {-3, int64_t{-3}},
                             {true, true},
                             {false, false},
                             {int64_t{1} << 60, int64_t{1} << 60},
                             {0.1, 0.1}};
  for (const Case& c : cases) {
    at::Tensor got = run_source([&](ConversionContext& ctx) {
      return fl::full(ctx, kTarget, SourceIR::kATEN, "f", std::vector<int64_t>{2, 3}, c.v);
    });
    expect_close(got, at::full({2, 3}, c.s), 1.0, "value " + c.v.describe());
  }
}

TEST(ImplFull, ExplicitDtypesAndShapes) {
  std::vector<at::Scalar> values = {2.75, -1.5, int64_t{7}, true, 0.4};
  std::vector<Operand> ops = {2.75, -1.5, 7, true, 0.4};
  std::vector<std::vector<int64_t>> shapes = {{}, {5}, {2, 0, 3}, {1, 2, 3, 2}};
  for (DataType t : kTypes) {
    for (size_t i = 0; i < values.size(); ++i) {
      if (t == DataType::kUINT8 && values[i].toDouble() < 0) continue;  // torch rejects
      for (const auto& shape : shapes) {
        at::Tensor got = run_source([&](ConversionContext& ctx) {
          return fl::full(ctx, kTarget, SourceIR::kATEN, "f", shape, ops[i], t);
        });
        expect_close(got, at::full(shape, values[i], at::TensorOptions().dtype(to_aten(t))), 1.0,
                     std::string(data_type_name(t)) + " " + ops[i].describe());
      }
    }
  }
}

TEST(ImplFull, ZerosAndOnes) {
  for (DataType t : kTypes) {
    at::TensorOptions o = at::TensorOptions().dtype(to_aten(t));
    expect_close(run_source([&](ConversionContext& ctx) {
                   return fl::zeros(ctx, kTarget, SourceIR::kATEN, "z", {3, 2}, t);
                 }),
                 at::zeros({3, 2}, o), 1.0, "zeros");
    expect_close(run_source([&](ConversionContext& ctx) {
                   return fl::ones(ctx, kTarget, SourceIR::kATEN, "o", {4}, t);
                 }),
                 at::ones({4}, o), 1.0, "ones");
  }
  expect_close(run_source([&](ConversionContext& ctx) {
                 return fl::ones(ctx, kTarget, SourceIR::kATEN, "o", {2});
               }),
               at::ones({2}), 1.0, "default float32");
}

TEST(ImplFull, TensorValueKnownAtRunTime) {
  for (DataType vt : {DataType::kFLOAT, DataType::kINT32, DataType::kHALF}) {
    at::Tensor v = random(vt, {}, 3, -5, 5);
    at::Tensor got = run_block({v}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return fl::full(ctx, kTarget, SourceIR::kATEN, "f", std::vector<int64_t>{2, 2}, in[0]);
    });
    expect_close(got, at::full({2, 2}, v.item(), v.options()), 1.0, "own type");
    for (DataType t : kTypes) {
      if (t == DataType::kUINT8) continue;
      got = run_block({v}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return fl::full(ctx, kTarget, SourceIR::kATEN, "f", std::vector<int64_t>{3}, in[0], t);
      });
      expect_close(got, at::full({3}, v.item(), at::TensorOptions().dtype(to_aten(t))), 1.0,
                   "tensor value to " + std::string(data_type_name(t)));
    }
  }
  // bool(0.5) is true: not truncated through an integer first.
  at::Tensor half = at::scalar_tensor(0.5, at::kFloat);
  at::Tensor got = run_block({half}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return fl::full(ctx, kTarget, SourceIR::kATEN, "f", std::vector<int64_t>{2}, in[0],
                    DataType::kBOOL);
  });
  expect_close(got, at::full({2}, true), 1.0, "bool of 0.5");
}

TEST(ImplFull, DynamicShapesAtMinOptMax) {
  // The shape comes from a dynamic input's Shape: full_like-style.
  auto set = [](int64_t n, int64_t m) {
    return std::vector<at::Tensor>{at::zeros({n, m}, at::kHalf)};
  };
  for (DataType t : {DataType::kFLOAT, DataType::kINT64, DataType::kBOOL, DataType::kBF16}) {
    run_block_dynamic(
        {set(1, 1), set(2, 5), set(6, 9)},
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          Tensor* s = ctx.net().add_shape(in[0])->output(0);
          return fl::full(ctx, kTarget, SourceIR::kATEN, "f", s, 3, t);
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, at::full(in[0].sizes(), 3, at::TensorOptions().dtype(to_aten(t))), 1.0,
                       "dynamic full");
        });
  }
  run_block_dynamic(
      {set(1, 1), set(2, 5), set(6, 9)},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        Tensor* s = ctx.net().add_shape(in[0])->output(0);
        Tensor* s32 = ctx.net().add_cast(s, DataType::kINT32)->output(0);
        return fl::zeros(ctx, kTarget, SourceIR::kATEN, "z", s32);
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::zeros(in[0].sizes()), 1.0, "dynamic zeros, int32 shape");
      });
}

TEST(ImplFull, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* a =
      fl::full(ctx, "full.default", SourceIR::kATEN, "full_1", std::vector<int64_t>{2}, 1.5);
  EXPECT_EQ(a->producer()->name(), "[FILL]-[aten_ops.full.default]-[full_1]");
  Tensor* b = fl::ones(ctx, "ones.default", std::nullopt, "ones_1", {2}, DataType::kBOOL);
  EXPECT_EQ(b->producer()->name(), "[CAST]-[unknown_ops.ones.default]-[ones_1]");
  EXPECT_NE(net.find_layer("[FILL]-[unknown_ops.ones.default]-[ones_1_fill]"), nullptr)
      << net.to_string();
  Tensor* s = net.add_input("s", DataType::kINT32, {3});
  Tensor* c = fl::zeros(ctx, "zeros.default", SourceIR::kATEN, "z", s);
  EXPECT_EQ(c->producer()->name(), "[FILL]-[aten_ops.zeros.default]-[z]");
  EXPECT_NE(net.find_layer("[CAST]-[aten_ops.zeros.default]-[z_shape]"), nullptr)
      << net.to_string();
}

TEST(ImplFull, ErrorsLeaveTheNetworkUnchanged) {
  auto src = [](std::function<Tensor*(ConversionContext&, const std::vector<Tensor*>&)> f) {
    return f;
  };
  expect_block_error(
      {}, src([](ConversionContext& ctx, const std::vector<Tensor*>&) {
        return fl::full(ctx, kTarget, SourceIR::kATEN, "bad", std::vector<int64_t>{2, -1}, 1.0);
      }),
      {"full::full", "'bad'", "negative dimension -1", "[2, -1]"});
  expect_block_error({}, src([](ConversionContext& ctx, const std::vector<Tensor*>&) {
                       return fl::full(ctx, kTarget, SourceIR::kATEN, "bad",
                                       std::vector<int64_t>{2}, 1.0, DataType::kFP8);
                     }),
                     {"does not support dtype"});
  expect_block_error({}, src([](ConversionContext& ctx, const std::vector<Tensor*>&) {
                       return fl::full(ctx, kTarget, SourceIR::kATEN, "bad",
                                       std::vector<int64_t>{2},
                                       HostConstant::of_doubles({2}, {1, 2}));
                     }),
                     {"scalar or a 0-D tensor"});
  // The int32 shape is cast before the 1-D value is rejected: the cast is rolled back too.
  expect_block_error({at::zeros({2}, at::kInt), at::zeros({2})},
                     src([](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return fl::full(ctx, kTarget, SourceIR::kATEN, "bad", in[0], in[1]);
                     }),
                     {"fill_value tensor must be 0-D", "[2]"});
  expect_block_error({at::zeros({2}, at::kFloat)},
                     src([](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return fl::zeros(ctx, kTarget, SourceIR::kATEN, "bad", in[0]);
                     }),
                     {"full::zeros", "shape tensor must be int32 or int64"});
  expect_block_error({at::zeros({2, 2}, at::kLong)},
                     src([](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return fl::ones(ctx, kTarget, SourceIR::kATEN, "bad", in[0]);
                     }),
                     {"1-D"});
  expect_block_error({}, src([](ConversionContext& ctx, const std::vector<Tensor*>&) {
                       return fl::full(ctx, kTarget, SourceIR::kATEN, "bad",
                                       std::vector<int64_t>{2}, std::nan(""), DataType::kINT32);
                     }),
                     {"cannot be converted", "int32"});
}

}  // namespace
}  // namespace lktest
