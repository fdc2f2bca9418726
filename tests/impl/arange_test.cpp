// arange building block against at::arange: int/float/bool scalars, explicit dtypes, negative
// steps, tensor arguments known at run time, errors and layer names.
#include "layerkit/impl/arange.h"

#include <tuple>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace ar = layerkit::impl::arange;

const Target kTarget("arange.start_step");

at::Scalar scalar_of(const Operand& o) {
  if (o.is_int()) return o.int_value();
  if (o.is_bool()) return o.bool_value();
  return o.float_value();
}

struct Args {
  Operand start, end, step;
};
const std::vector<Args> kArgs = {
    {0, 10, 1},      {2, 11, 3},         {10, -3, -2},      {-5, 5, 7},    {3, 3, 1},
    {0.0, 1.0, 0.1}, {-1.5, 2.25, 0.25}, {5, 0.5, -0.75},   {1, 2.5, 0.3}, {true, 5, 2},
    {0.1, 0.1, 1},   {-2.0, 7, 1.5},     {1e3, 1e3 + 7, 1}, {0, 100, 9}};

TEST(ImplArange, ScalarsMatchAtenWithInferredDtype) {
  for (const Args& a : kArgs) {
    at::Tensor got = run_block({}, [&](ConversionContext& ctx, const std::vector<Tensor*>&) {
      return ar::arange(ctx, kTarget, SourceIR::kATEN, "a", a.start, a.end, a.step);
    });
    expect_close(got, at::arange(scalar_of(a.start), scalar_of(a.end), scalar_of(a.step)), 1.0,
                 a.start.describe() + " " + a.end.describe() + " " + a.step.describe());
  }
  at::Tensor got = run_block({}, [&](ConversionContext& ctx, const std::vector<Tensor*>&) {
    return ar::arange(ctx, kTarget, SourceIR::kATEN, "a", 6);
  });
  expect_close(got, at::arange(6), 1.0, "end only");
}

TEST(ImplArange, ExplicitDtypes) {
  for (DataType t :
       {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32, DataType::kINT64}) {
    for (const Args& a : kArgs) {
      at::Tensor expected;
      try {
        expected = at::arange(scalar_of(a.start), scalar_of(a.end), scalar_of(a.step),
                              at::TensorOptions().dtype(to_aten(t)));
      } catch (const c10::Error&) {
        continue;  // e.g. a float step truncated to 0 for an integer dtype: covered in errors
      }
      at::Tensor got = run_block({}, [&](ConversionContext& ctx, const std::vector<Tensor*>&) {
        return ar::arange(ctx, kTarget, SourceIR::kATEN, "a", a.start, a.end, a.step, t);
      });
      expect_close(got, expected, 1.0,
                   std::string(data_type_name(t)) + " " + a.start.describe() + " " +
                       a.end.describe() + " " + a.step.describe());
    }
  }
}

// Each argument as a 0-D network input (values only known when the engine runs).
TEST(ImplArange, TensorArgumentsKnownAtRunTime) {
  struct Case {
    at::Scalar s, e, st;
    at::ScalarType type;
  };
  std::vector<Case> cases = {{0, 10, 1, at::kLong},         {2, 11, 3, at::kLong},
                             {10, -3, -2, at::kLong},       {-5, 5, 7, at::kInt},
                             {3, 3, 1, at::kLong},          {0.0, 1.0, 0.25, at::kFloat},
                             {-1.5, 2.25, 0.5, at::kFloat}, {5.0, 0.5, -0.75, at::kFloat}};
  for (const Case& c : cases) {
    auto t = [&](const at::Scalar& v) { return at::scalar_tensor(v, c.type); };
    std::vector<at::Tensor> in = {t(c.s), t(c.e), t(c.st)};
    at::Tensor got = run_block(in, [&](ConversionContext& ctx, const std::vector<Tensor*>& x) {
      return ar::arange(ctx, kTarget, SourceIR::kATEN, "a", x[0], x[1], x[2]);
    });
    expect_close(got, at::arange(c.s, c.e, c.st), 1.0, "tensors " + std::to_string(c.s.toDouble()));
    // Mixed: tensor end, scalar start and step.
    in = {t(c.e)};
    bool is_float = c.type == at::kFloat;
    Operand s = is_float ? Operand(c.s.toDouble()) : Operand(c.s.toLong());
    Operand st = is_float ? Operand(c.st.toDouble()) : Operand(c.st.toLong());
    got = run_block(in, [&](ConversionContext& ctx, const std::vector<Tensor*>& x) {
      return ar::arange(ctx, kTarget, SourceIR::kATEN, "a", s, x[0], st);
    });
    expect_close(got, at::arange(c.s, c.e, c.st), 1.0,
                 "tensor end " + std::to_string(c.e.toDouble()));
    // A half result from float tensors computes in fp32 and rounds once.
    if (is_float) {
      got = run_block({t(c.e)}, [&](ConversionContext& ctx, const std::vector<Tensor*>& x) {
        return ar::arange(ctx, kTarget, SourceIR::kATEN, "a", s, x[0], st, DataType::kHALF);
      });
      expect_close(got, at::arange(c.s, c.e, c.st, at::kHalf), 1.0, "half");
    }
  }
}

TEST(ImplArange, DynamicLengthFromAShape) {
  // arange(size(x, 1)) over a dynamic dim, the usual position-ids pattern.
  auto set = [](int64_t n, int64_t m) { return std::vector<at::Tensor>{at::zeros({n, m})}; };
  run_block_dynamic(
      {set(1, 1), set(2, 6), set(3, 13)},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        Tensor* shape = ctx.net().add_shape(in[0])->output(0);
        Tensor* n = ctx.net().add_slice(shape, {1}, {1}, {1})->output(0);
        return ar::arange(ctx, kTarget, SourceIR::kATEN, "a", 2, n, 3);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::arange(2, std::max<int64_t>(in[0].size(1), 2), 3), 1.0,
                     "arange over dim " + std::to_string(in[0].size(1)));
      });
}

TEST(ImplArange, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* a = ar::arange(ctx, "arange.start_step", SourceIR::kATEN, "arange_1", 0, 5, 1);
  EXPECT_EQ(a->producer()->name(), "[CONSTANT]-[aten_ops.arange.start_step]-[arange_1]");
  EXPECT_EQ(net.num_layers(), 1);
  Tensor* e = net.add_input("e", DataType::kINT64, {});
  Tensor* b = ar::arange(ctx, "arange.start_step", std::nullopt, "r", 1, e, 2);
  EXPECT_EQ(b->producer()->name(), "[FILL]-[unknown_ops.arange.start_step]-[r]");
  // Note [Run-time arange with static start and step]: length floor(e / 2), start and step as
  // the Fill's attributes.
  for (const char* n : {"[SHUFFLE]-[unknown_ops.arange.start_step]-[r_end_vector]",
                        "[CONSTANT]-[unknown_ops.arange.start_step]-[r_step]",
                        "[ELEMENTWISE]-[unknown_ops.arange.start_step]-[r_length]"})
    EXPECT_NE(net.find_layer(n), nullptr) << n << "\n" << net.to_string();
  // All three run-time tensors: the general path.
  Tensor* s = net.add_input("s", DataType::kINT64, {});
  Tensor* st = net.add_input("st", DataType::kINT64, {});
  Tensor* g = ar::arange(ctx, "arange.start_step", SourceIR::kATEN, "g", s, e, st);
  EXPECT_EQ(g->producer()->name(), "[FILL]-[aten_ops.arange.start_step]-[g]");
  EXPECT_NE(net.find_layer("[ELEMENTWISE]-[aten_ops.arange.start_step]-[g_neg_span]"), nullptr);
  Tensor* f = net.add_input("f", DataType::kFLOAT, {});
  Tensor* c = ar::arange(ctx, "arange", SourceIR::kATEN, "h", 0, f, 1, DataType::kHALF);
  EXPECT_EQ(c->producer()->name(), "[CAST]-[aten_ops.arange]-[h]");
  EXPECT_NE(net.find_layer("[FILL]-[aten_ops.arange]-[h_fill]"), nullptr) << net.to_string();
}

TEST(ImplArange, ErrorsLeaveTheNetworkUnchanged) {
  auto blk = [](Operand s, Operand e, Operand st, std::optional<DataType> t = std::nullopt) {
    return [=](ConversionContext& ctx, const std::vector<Tensor*>&) {
      return ar::arange(ctx, kTarget, SourceIR::kATEN, "bad", s, e, st, t);
    };
  };
  expect_block_error({}, blk(0, 5, 0), {"arange::arange", "'bad'", "step must be nonzero"});
  expect_block_error({}, blk(0.0, 5.0, 0.0), {"step must be nonzero"});
  expect_block_error({}, blk(0, 5, 0.5, DataType::kINT64), {"step must be nonzero"});
  expect_block_error({}, blk(0, 5, -1), {"inconsistent with step sign", "start 0", "end 5"});
  expect_block_error({}, blk(5.0, 0.0, 0.5), {"inconsistent with step sign"});
  expect_block_error({}, blk(0.0, std::numeric_limits<double>::infinity(), 1.0),
                     {"unsupported range"});
  expect_block_error({}, blk(0, 5, 1, DataType::kBOOL), {"does not support dtype bool"});
  expect_block_error({at::zeros({2})},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return ar::arange(ctx, kTarget, SourceIR::kATEN, "bad", 0, in[0], 1);
                     },
                     {"end tensor must hold one element", "[2]"});
}

// The layers of a run-time arange (besides the network inputs). Before the Fill took start and
// step as attributes, arange(n) of a 0-D int64 n took 8 layers (two Constants, sub, floor
// division, neg, two reshapes, Fill), and arange(0.0, x, 1.0) of a float x 9.
// A static arange longer than 2^24 elements is a run-time Fill, not a host constant: a claimed
// length of 2^40 (fuzz_onnx_import: Hardmax over a dim of 2^40) once filled the host for
// minutes. Lengths at the limit stay constants; the Fill form gives the same values.
TEST(ImplArange, LongStaticArangeIsARunTimeFill) {
  auto kinds = [](Operand start, Operand end, Operand step, std::optional<DataType> t) {
    Network net;
    ConversionContext ctx(net);
    Tensor* out = ar::arange(ctx, kTarget, SourceIR::kATEN, "a", start, end, step, t);
    std::vector<LayerKind> k;
    for (int i = 0; i < net.num_layers(); ++i) k.push_back(net.layer(i)->kind());
    EXPECT_EQ(out->dims().rank(), 1);
    return k;
  };
  const int64_t big = int64_t{1} << 40;
  for (auto t : {DataType::kINT64, DataType::kINT32, DataType::kFLOAT}) {
    const std::vector<LayerKind> k = kinds(0, big, 1, t);
    EXPECT_NE(std::find(k.begin(), k.end(), LayerKind::kFILL), k.end()) << data_type_name(t);
  }
  EXPECT_EQ(kinds(0, int64_t{1} << 24, 1, DataType::kINT64),
            std::vector<LayerKind>{LayerKind::kCONSTANT});
  // Just above the limit: the values of the Fill.
  const int64_t n = (int64_t{1} << 24) + 3;
  at::Tensor got = run_block({}, [&](ConversionContext& ctx, const std::vector<Tensor*>&) {
    return ar::arange(ctx, kTarget, SourceIR::kATEN, "a", 5, 5 + 2 * n, 2);
  });
  expect_close(got, at::arange(5, 5 + 2 * n, 2), 1.0, "2^24 + 3 elements, int64");
}

TEST(ImplArange, RunTimeArangeLayerCounts) {
  auto layers = [](DataType t, const Dims& d, Operand start, Operand step) {
    Network net;
    ConversionContext ctx(net);
    Tensor* e = net.add_input("e", t, d);
    ar::arange(ctx, kTarget, SourceIR::kATEN, "a", start, e, step);
    return net.num_layers() - 1;
  };
  EXPECT_EQ(layers(DataType::kINT64, {1}, 0, 1), 1);     // the Fill alone
  EXPECT_EQ(layers(DataType::kINT64, {}, 0, 1), 2);      // reshape to [1], Fill
  EXPECT_EQ(layers(DataType::kINT64, {}, 1, 2), 4);      // + step constant, floor division
  EXPECT_EQ(layers(DataType::kINT64, {}, 3, 2), 6);      // + offset constant, add
  EXPECT_EQ(layers(DataType::kFLOAT, {}, 0.0, 1.0), 4);  // reshape, ceil, cast, Fill
  // The values, at the run-time ends where the shortcuts apply (negative steps included).
  for (auto [s, e, st] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {0, 7, 1}, {3, 11, 2}, {3, 12, 2}, {10, -3, -3}, {-4, 5, 4}, {5, 5, 1}, {2, 9, -1}}) {
    if ((st > 0 && e < s) || (st < 0 && e > s)) continue;
    at::Tensor got =
        run_block({at::scalar_tensor(e, at::kLong)},
                  [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                    return ar::arange(ctx, kTarget, SourceIR::kATEN, "a", s, in[0], st);
                  });
    expect_close(
        got, at::arange(s, e, st), 1.0,
        "arange(" + std::to_string(s) + ", " + std::to_string(e) + ", " + std::to_string(st) + ")");
  }
  at::Tensor got = run_block(
      {at::full({1}, 4.25f)}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return ar::arange(ctx, kTarget, SourceIR::kATEN, "a", -1.5, in[0], 0.75, DataType::kBF16);
      });
  expect_close(got, at::arange(-1.5, 4.25, 0.75, at::kBFloat16), 1.0, "bf16 from a [1] float end");
}

}  // namespace
}  // namespace lktest
