// Activation building blocks against ATen: every block and dtype, parameters, dynamic ranges,
// dynamic shapes, layer names and errors.
#include "layerkit/impl/activation.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace act = layerkit::impl::activation;

const Target kTarget("test.op");

using AtenFn = std::function<at::Tensor(const at::Tensor&)>;
using Block = std::function<Tensor*(ConversionContext&, Operand)>;

struct Case {
  std::string name;
  Block block;
  AtenFn aten;
  // The 16-bit reference is computed in fp32 and rounded (Note [Precision policy]: one
  // rounding) where torch's own 16-bit result rounds more often: softsign and tanhshrink are
  // Python composites in torch.nn.functional; gelu, see below.
  bool composite_reference = false;
};

// ATen rounds hardshrink's lambd to the input type (bf16 1.203125 with lambd 1.2 gives 0); Half
// has no CPU kernel in ATen 1.13, so the same rule is applied around an fp32 evaluation.
at::Tensor hardshrink_ref(const at::Tensor& x, double lambd) {
  if (x.scalar_type() != at::kHalf) return at::hardshrink(x, lambd);
  double l = at::scalar_tensor(lambd, at::kHalf).item<double>();
  return at::hardshrink(x.to(at::kFloat), l).to(at::kHalf);
}

#define LK_CASE(label, call, aten_expr)                                 \
  Case {                                                                \
    label, [](ConversionContext& ctx, Operand x) { return act::call; }, \
        [](const at::Tensor& x) { return aten_expr; }                   \
  }

std::vector<Case> cases() {
  std::vector<Case> v = {
      LK_CASE("relu", relu(ctx, kTarget, SourceIR::kATEN, "a", x), at::relu(x)),
      LK_CASE("sigmoid", sigmoid(ctx, kTarget, SourceIR::kATEN, "a", x), at::sigmoid(x)),
      LK_CASE("tanh", tanh(ctx, kTarget, SourceIR::kATEN, "a", x), at::tanh(x)),
      LK_CASE("leaky_relu", leaky_relu(ctx, kTarget, SourceIR::kATEN, "a", x), at::leaky_relu(x)),
      LK_CASE("leaky_relu 0.2", leaky_relu(ctx, kTarget, SourceIR::kATEN, "a", x, 0.2),
              at::leaky_relu(x, 0.2)),
      LK_CASE("leaky_relu -0.3", leaky_relu(ctx, kTarget, SourceIR::kATEN, "a", x, -0.3),
              at::leaky_relu(x, -0.3)),
      LK_CASE("elu", elu(ctx, kTarget, SourceIR::kATEN, "a", x), at::elu(x)),
      LK_CASE("elu alpha 1.5", elu(ctx, kTarget, SourceIR::kATEN, "a", x, 1.5), at::elu(x, 1.5)),
      LK_CASE("elu scale 2", elu(ctx, kTarget, SourceIR::kATEN, "a", x, 0.8, 2.0),
              at::elu(x, 0.8, 2.0)),
      LK_CASE("elu input_scale 0.5", elu(ctx, kTarget, SourceIR::kATEN, "a", x, 0.7, 1.3, 0.5),
              at::elu(x, 0.7, 1.3, 0.5)),
      LK_CASE("elu input_scale -0.5", elu(ctx, kTarget, SourceIR::kATEN, "a", x, 0.7, 1.3, -0.5),
              at::elu(x, 0.7, 1.3, -0.5)),
      LK_CASE("selu", selu(ctx, kTarget, SourceIR::kATEN, "a", x), at::selu(x)),
      LK_CASE("softplus", softplus(ctx, kTarget, SourceIR::kATEN, "a", x), at::softplus(x)),
      // A threshold inside the input range, so the select matters.
      LK_CASE("softplus beta 2 threshold 1",
              softplus(ctx, kTarget, SourceIR::kATEN, "a", x, 2.0, 1.0), at::softplus(x, 2.0, 1.0)),
      LK_CASE("softplus beta 0.5 threshold 0.5",
              softplus(ctx, kTarget, SourceIR::kATEN, "a", x, 0.5, 0.5), at::softplus(x, 0.5, 0.5)),
      LK_CASE("gelu", gelu(ctx, kTarget, SourceIR::kATEN, "a", x), at::gelu(x)),
      LK_CASE("gelu tanh", gelu(ctx, kTarget, SourceIR::kATEN, "a", x, "tanh"),
              at::gelu(x, "tanh")),
      LK_CASE("hard_sigmoid", hard_sigmoid(ctx, kTarget, SourceIR::kATEN, "a", x),
              at::hardsigmoid(x)),
      LK_CASE("hard_swish", hard_swish(ctx, kTarget, SourceIR::kATEN, "a", x), at::hardswish(x)),
      LK_CASE("hardshrink", hardshrink(ctx, kTarget, SourceIR::kATEN, "a", x),
              hardshrink_ref(x, 0.5)),
      LK_CASE("hardshrink 1.2", hardshrink(ctx, kTarget, SourceIR::kATEN, "a", x, 1.2),
              hardshrink_ref(x, 1.2)),
      LK_CASE("softshrink", softshrink(ctx, kTarget, SourceIR::kATEN, "a", x), at::softshrink(x)),
      LK_CASE("softshrink 1.2", softshrink(ctx, kTarget, SourceIR::kATEN, "a", x, 1.2),
              at::softshrink(x, 1.2)),
      LK_CASE("silu", silu(ctx, kTarget, SourceIR::kATEN, "a", x), at::silu(x)),
      LK_CASE("hardtanh", hardtanh(ctx, kTarget, SourceIR::kATEN, "a", x), at::hardtanh(x)),
      LK_CASE("hardtanh -0.5 2", hardtanh(ctx, kTarget, SourceIR::kATEN, "a", x, -0.5, 2.0),
              at::hardtanh(x, -0.5, 2.0)),
      LK_CASE("relu6", relu6(ctx, kTarget, SourceIR::kATEN, "a", x), at::relu6(x)),
      LK_CASE("mish", mish(ctx, kTarget, SourceIR::kATEN, "a", x), at::mish(x)),
      // Without eps logit is NaN outside (0, 1); see LogitInsideAndOutsideTheUnitInterval.
      LK_CASE("logit eps 0.25", logit(ctx, kTarget, SourceIR::kATEN, "a", x, 0.25),
              at::logit(x, 0.25)),
  };
  // No at::softsign / at::tanhshrink in ATen: torch.nn.functional's definitions.
  Case softsign = LK_CASE("softsign", softsign(ctx, kTarget, SourceIR::kATEN, "a", x),
                          at::div(x, at::add(at::abs(x), 1)));
  softsign.composite_reference = true;
  // ATen 1.13's bf16 gelu is not computed in fp32 (gelu(-3) gives -0.00586 against the exact
  // -0.00405); layerkit computes in fp32 and rounds once, so gelu's 16-bit reference does too.
  for (Case& c : v)
    if (c.name.rfind("gelu", 0) == 0) c.composite_reference = true;
  // ATen 1.13 has no bf16 CPU kernel for mish: fp32, rounded once.
  for (Case& c : v)
    if (c.name == "mish") c.composite_reference = true;
  Case tanhshrink = LK_CASE("tanhshrink", tanhshrink(ctx, kTarget, SourceIR::kATEN, "a", x),
                            at::sub(x, at::tanh(x)));
  tanhshrink.composite_reference = true;
  v.push_back(softsign);
  v.push_back(tanhshrink);
  return v;
}
#undef LK_CASE

const std::vector<DataType> kTypes = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                      DataType::kINT32, DataType::kINT64, DataType::kINT8,
                                      DataType::kUINT8, DataType::kBOOL};

at::Tensor input_for(DataType t, const std::vector<int64_t>& shape, uint64_t seed) {
  if (t == DataType::kBOOL) return random(t, shape, seed);
  if (t == DataType::kUINT8) return random(t, shape, seed, 0, 9);
  if (is_integer(t)) return random(t, shape, seed, -6, 6);
  at::Tensor x = random(t, shape, seed, -4, 4);
  // Exact boundary values (0, +-lambd of the shrinks, the thresholds) occur too.
  at::Tensor edges = at::tensor({0.0, 0.5, -0.5, 1.2, -1.2, 1.0, -3.0, 3.0}, at::kFloat);
  x.view(-1).slice(0, 0, 8).copy_(edges);
  return x;
}

// The ATen result, or nothing where ATen rejects the dtype. Half has no CPU kernels in ATen 1.13
// for most of these, so its reference is computed in fp32 and rounded.
std::optional<at::Tensor> oracle(const Case& c, const at::Tensor& x) {
  bool low = x.scalar_type() == at::kHalf || x.scalar_type() == at::kBFloat16;
  if (low && c.composite_reference) return c.aten(x.to(at::kFloat)).to(x.scalar_type());
  try {
    return c.aten(x);
  } catch (const c10::Error&) {
    if (x.scalar_type() != at::kHalf) return std::nullopt;
    return c.aten(x.to(at::kFloat)).to(at::kHalf);
  }
}

TEST(ImplActivation, EveryBlockAndTypeAgainstATen) {
  uint64_t seed = 1;
  int compared = 0, rejected = 0;
  for (const Case& c : cases()) {
    for (DataType t : kTypes) {
      at::Tensor x = input_for(t, {3, 5, 4}, seed++);
      std::string what = c.name + " " + std::string(data_type_name(t));
      std::optional<at::Tensor> expected = oracle(c, x);
      BlockFn fn = [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return c.block(ctx, in[0]);
      };
      if (!expected) {
        // torch rejects this dtype: so must the block, naming the dtype, leaving no layer.
        SCOPED_TRACE(what);
        expect_block_error({x}, fn, {"activation::", std::string(data_type_name(t))});
        ++rejected;
        continue;
      }
      expect_close(run_block({x}, fn), *expected, 1.0, what);
      ++compared;
    }
  }
  // relu, hardtanh(-0.5, 2) and relu6 keep 4 integer types, hardtanh(-1, 1) 3 (uint8 cannot
  // hold -1, as torch says), sigmoid/tanh and logit promote 5, softsign/tanhshrink 4; 31 cases *
  // 3 float types.
  EXPECT_EQ(compared, 31 * 3 + 4 * 3 + 3 + 5 * 3 + 4 * 2);
  EXPECT_GT(rejected, 0);
}

TEST(ImplActivation, ScalarAndRankZeroInputs) {
  at::Tensor x = at::tensor(-0.75f).reshape({});
  at::Tensor got = run_block({x}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return act::gelu(ctx, kTarget, SourceIR::kATEN, "g", in[0]);
  });
  expect_close(got, at::gelu(x), 1.0, "rank-0 gelu");
  // A float scalar operand becomes a rank-0 constant; an int scalar promotes as a tensor would.
  got = run_block({x}, [](ConversionContext& ctx, const std::vector<Tensor*>&) {
    return act::softplus(ctx, kTarget, SourceIR::kATEN, "s", 0.25, 2.0, 1.0);
  });
  expect_close(got, at::softplus(at::tensor(0.25f).reshape({}), 2.0, 1.0), 1.0, "scalar softplus");
  got = run_block({x}, [](ConversionContext& ctx, const std::vector<Tensor*>&) {
    return act::sigmoid(ctx, kTarget, SourceIR::kATEN, "s", int64_t{2});
  });
  expect_close(got, at::sigmoid(at::tensor(int64_t{2}).reshape({})), 1.0, "int scalar sigmoid");
}

TEST(ImplActivation, DynamicShapesAtMinOptMax) {
  auto set = [](int64_t n, int64_t m, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, m}, seed, -4, 4)};
  };
  std::vector<std::vector<at::Tensor>> sets = {set(1, 1, 10), set(3, 4, 20), set(6, 9, 30)};
  for (const Case& c : cases()) {
    run_block_dynamic(
        sets,
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) { return c.block(ctx, in[0]); },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          expect_close(out, c.aten(in[0]), 1.0, c.name + " dynamic");
        });
  }
  // relu of a dynamic int tensor (ElementWise max with a broadcast constant).
  auto iset = [](int64_t n, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kINT32, {n, 2}, seed, -5, 5)};
  };
  run_block_dynamic(
      {iset(1, 1), iset(4, 2), iset(7, 3)},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return act::relu(ctx, kTarget, SourceIR::kATEN, "r", in[0]);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::relu(in[0]), 1.0, "relu int32 dynamic");
      });
}

// Note [Dynamic range]: the output range must contain the function's image of the input range
// and be no wider. The image is measured with ATen in float64 on a dense grid.
TEST(ImplActivation, DynamicRangePropagatesAsTheImageOfTheInputRange) {
  const std::vector<std::pair<double, double>> ranges = {{-4.0, 3.0}, {-1.0, -0.2}, {0.3, 0.9},
                                                         {-0.6, 0.6}, {-2.0, -1.0}, {1.1, 25.0}};
  constexpr int64_t kPoints = 200001;
  for (const Case& c : cases()) {
    for (auto [lo, hi] : ranges) {
      Network net;
      ConversionContext ctx(net);
      Tensor* x = net.add_input("x", DataType::kFLOAT, {4});
      x->set_dynamic_range(static_cast<float>(lo), static_cast<float>(hi));
      Tensor* y = c.block(ctx, x);
      std::string what = c.name + " over [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
      ASSERT_TRUE(y->dynamic_range().has_value()) << what;
      auto [out_lo, out_hi] = *y->dynamic_range();
      // The grid spans the float endpoints the input range holds.
      at::Tensor grid = at::linspace(static_cast<float>(lo), static_cast<float>(hi), kPoints,
                                     at::TensorOptions().dtype(at::kDouble));
      at::Tensor image = c.aten(grid);
      double img_lo = image.min().item<double>(), img_hi = image.max().item<double>();
      // Containment, up to the float rounding of the stored bounds.
      double eps = 1e-6 * (1.0 + std::max(std::fabs(img_lo), std::fabs(img_hi)));
      EXPECT_LE(out_lo, img_lo + eps) << what;
      EXPECT_GE(out_hi, img_hi - eps) << what;
      // Tightness: the grid misses at most one step's worth of the image near a jump.
      double slack = 1e-3;
      EXPECT_GE(out_lo, img_lo - slack) << what;
      EXPECT_LE(out_hi, img_hi + slack) << what;
    }
  }
}

TEST(ImplActivation, DynamicRangeOfIntegerReluAndAbsentRange) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kINT32, {4});
  x->set_dynamic_range(-3, 7);
  Tensor* y = act::relu(ctx, kTarget, SourceIR::kATEN, "r", x);
  ASSERT_TRUE(y->dynamic_range().has_value());
  EXPECT_EQ(y->dynamic_range()->first, 0.0f);
  EXPECT_EQ(y->dynamic_range()->second, 7.0f);
  // sigmoid of an int tensor (promoted to fp32): [sigmoid(-3), sigmoid(7)].
  Tensor* s = act::sigmoid(ctx, kTarget, SourceIR::kATEN, "s", x);
  ASSERT_TRUE(s->dynamic_range().has_value());
  EXPECT_FLOAT_EQ(s->dynamic_range()->first, at::sigmoid(at::tensor(-3.0)).item<float>());
  EXPECT_FLOAT_EQ(s->dynamic_range()->second, at::sigmoid(at::tensor(7.0)).item<float>());
  // Without an input range, none is invented.
  Tensor* z = net.add_input("z", DataType::kFLOAT, {4});
  EXPECT_FALSE(act::gelu(ctx, kTarget, SourceIR::kATEN, "g", z)->dynamic_range().has_value());
}

TEST(ImplActivation, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* f = net.add_input("f", DataType::kFLOAT, {2, 3});
  Tensor* h = net.add_input("h", DataType::kHALF, {2, 3});
  Tensor* i = net.add_input("i", DataType::kINT32, {2, 3});

  Tensor* r = act::relu(ctx, "relu.default", SourceIR::kATEN, "relu_1", f);
  EXPECT_EQ(r->producer()->name(), "[ACTIVATION]-[aten_ops.relu.default]-[relu_1]");
  EXPECT_EQ(r->name(), "[ACTIVATION]-[aten_ops.relu.default]-[relu_1]");

  // Integer relu: ElementWise max with a scalar constant.
  Tensor* ri = act::relu(ctx, "relu.default", SourceIR::kATEN, "relu_2", i);
  EXPECT_EQ(ri->producer()->name(), "[ELEMENTWISE]-[aten_ops.relu.default]-[relu_2]");
  EXPECT_NE(net.find_layer("[CONSTANT]-[aten_ops.relu.default]-[relu_2_rhs_scalar]"), nullptr);

  // Promoted input: a cast, then the activation under the block's name.
  Tensor* s = act::sigmoid(ctx, "sigmoid", std::nullopt, "sig", i);
  EXPECT_EQ(s->producer()->name(), "[ACTIVATION]-[unknown_ops.sigmoid]-[sig]");
  EXPECT_NE(net.find_layer("[CAST]-[unknown_ops.sigmoid]-[sig_cast]"), nullptr);

  // A 16-bit composite computes in fp32 and casts back once under the block's name.
  int before = net.num_layers();
  Tensor* sp = act::softplus(ctx, "softplus", SourceIR::kATEN, "sp", h, 2.0, 1.0);
  std::vector<std::string> names;
  for (int k = before; k < net.num_layers(); ++k) names.push_back(net.layer(k)->name());
  std::vector<std::string> expected = {
      "[CAST]-[aten_ops.softplus]-[sp_cast]",
      "[ACTIVATION]-[aten_ops.softplus]-[sp_softplus]",
      "[CONSTANT]-[aten_ops.softplus]-[sp_beta]",
      "[ELEMENTWISE]-[aten_ops.softplus]-[sp_beta_x]",
      "[CONSTANT]-[aten_ops.softplus]-[sp_threshold]",
      "[ELEMENTWISE]-[aten_ops.softplus]-[sp_above_threshold]",
      "[SELECT]-[aten_ops.softplus]-[sp_select]",
      "[CAST]-[aten_ops.softplus]-[sp]",
  };
  EXPECT_EQ(names, expected);
  EXPECT_EQ(sp->type(), DataType::kHALF);

  // The same composite in fp32 ends with the select under the block's name.
  Tensor* hs = act::hard_swish(ctx, "hardswish", SourceIR::kATEN, "hs", f);
  EXPECT_EQ(hs->producer()->name(), "[ELEMENTWISE]-[aten_ops.hardswish]-[hs]");
  EXPECT_NE(net.find_layer("[ACTIVATION]-[aten_ops.hardswish]-[hs_hard_sigmoid]"), nullptr);

  // Same name twice: deterministic suffix.
  Tensor* r2 = act::relu(ctx, "relu.default", SourceIR::kATEN, "relu_1", f);
  EXPECT_EQ(r2->producer()->name(), "[ACTIVATION]-[aten_ops.relu.default]-[relu_1]_1");
}

TEST(ImplActivation, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor f = random(DataType::kFLOAT, {2, 3}, 1);
  at::Tensor b = random(DataType::kBOOL, {2, 3}, 2);
  at::Tensor i = random(DataType::kINT64, {2, 3}, 3, -3, 3);
  expect_block_error({b},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return act::relu(ctx, kTarget, SourceIR::kATEN, "r", in[0]);
                     },
                     {"activation::relu", "test.op", "'r'", "bool"});
  expect_block_error({i},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return act::gelu(ctx, kTarget, SourceIR::kATEN, "g", in[0]);
                     },
                     {"activation::gelu", "int64", "cast to a floating type"});
  expect_block_error({b},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return act::softsign(ctx, kTarget, SourceIR::kATEN, "s", in[0]);
                     },
                     {"activation::softsign", "bool"});
  expect_block_error({f},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return act::softshrink(ctx, kTarget, SourceIR::kATEN, "s", in[0], -0.5);
                     },
                     {"activation::softshrink", "lambd must be >= 0", "-0.5"});
  expect_block_error({f},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return act::gelu(ctx, kTarget, SourceIR::kATEN, "g", in[0], "fast");
                     },
                     {"activation::gelu", "approximate 'fast'"});
  expect_block_error({f},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return act::softplus(ctx, kTarget, SourceIR::kATEN, "s", in[0], 0.0);
                     },
                     {"activation::softplus", "beta is 0"});
  expect_block_error({f},
                     [](ConversionContext& ctx, const std::vector<Tensor*>&) {
                       return act::tanh(ctx, kTarget, SourceIR::kATEN, "t",
                                        static_cast<Tensor*>(nullptr));
                     },
                     {"null tensor"});
}

TEST(ImplActivation, LogitInsideAndOutsideTheUnitInterval) {
  at::Tensor x = at::tensor({0.001f, 0.1f, 0.25f, 0.5f, 0.75f, 0.999f, 0.0f, 1.0f, -0.5f, 1.5f});
  for (at::ScalarType st : {at::kFloat, at::kHalf, at::kBFloat16}) {
    at::Tensor xi = x.to(st);
    for (std::optional<double> eps : {std::optional<double>{}, std::optional<double>{1e-3}}) {
      at::Tensor got = run_block({xi}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return act::logit(ctx, kTarget, SourceIR::kATEN, "l", in[0], eps);
      });
      // Half: computed in fp32 and rounded (no CPU kernel in ATen 1.13).
      c10::optional<double> ae;
      if (eps) ae = *eps;
      at::Tensor want =
          st == at::kHalf ? at::logit(xi.to(at::kFloat), ae).to(st) : at::logit(xi, ae);
      expect_close(got, want, 1.0, std::string("logit ") + c10::toString(st));
    }
  }
  // Dynamic shapes at min, opt and max.
  auto set = [](int64_t n, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, 3}, seed, 0.01, 0.99)};
  };
  run_block_dynamic(
      {set(1, 1), set(4, 2), set(9, 3)},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return act::logit(ctx, kTarget, SourceIR::kATEN, "l", in[0]);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::logit(in[0]), 1.0, "logit dynamic");
      });
}

TEST(ImplActivation, HardtanhIsOneClipLayerAndRejectsBool) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kHALF, {2, 3});
  Tensor* y = act::relu6(ctx, "relu6", SourceIR::kATEN, "r6", x);
  EXPECT_EQ(y->producer()->name(), "[ACTIVATION]-[aten_ops.relu6]-[r6]");
  EXPECT_EQ(y->producer()->attrs<ActivationAttrs>().type, ActivationType::kCLIP);
  EXPECT_EQ(net.num_layers(), 2);
  expect_block_error({random(DataType::kBOOL, {3}, 1)},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return act::hardtanh(ctx, kTarget, SourceIR::kATEN, "h", in[0]);
                     },
                     {"activation::hardtanh", "bool"});
  expect_block_error({random(DataType::kINT32, {3}, 1)},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return act::mish(ctx, kTarget, SourceIR::kATEN, "m", in[0]);
                     },
                     {"activation::mish", "int32"});
}

}  // namespace
}  // namespace lktest
