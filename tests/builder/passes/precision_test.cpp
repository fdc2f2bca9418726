// Reduced-precision builds: which layers run in fp16/bf16, overrides, and results against ATen
// computing the same rounding (reduced-precision inputs and outputs, fp32 accumulation).
#include "pass_test_util.h"

namespace lktest {
namespace {

// Rounds through `t` (fp16 or bf16) and back to fp32: what a layer running in `t` reads/writes.
at::Tensor rounded(const at::Tensor& x, at::ScalarType t) {
  return x.to(t).to(at::kFloat);
}

BuilderConfig reduced(BuilderFlag flag, std::optional<OptimizationProfile> profile = {}) {
  BuilderConfig c;
  c.set_flag(flag);
  if (profile) c.profiles.push_back(*profile);
  return c;
}

// The type of every input of the engine-network layer named `name`.
std::vector<DataType> input_types(const Engine& e, const std::string& name) {
  const Layer* l = e.network().find_layer(name);
  EXPECT_NE(l, nullptr) << name << " is not a layer of\n" << e.network().to_string();
  std::vector<DataType> out;
  if (l)
    for (const Tensor* t : l->inputs())
      if (t) out.push_back(t->type());
  return out;
}

struct Mlp {
  Network net;
  at::Tensor w1 = random(DataType::kFLOAT, {16, 8}, 21, -0.5, 0.5);
  at::Tensor w2 = random(DataType::kFLOAT, {8, 4}, 22, -0.5, 0.5);
  Layer* mm2 = nullptr;
  explicit Mlp(Dims x_dims = {4, 16}) {
    Tensor* x = net.add_input("x", DataType::kFLOAT, x_dims);
    Tensor* h =
        named(net.add_matrix_multiply(x, MatrixOperation::kNONE, named_constant(net, "w1", w1),
                                      MatrixOperation::kNONE),
              "mm1");
    Tensor* r = named(net.add_activation(h, ActivationType::kRELU), "relu");
    mm2 = net.add_matrix_multiply(r, MatrixOperation::kNONE, named_constant(net, "w2", w2),
                                  MatrixOperation::kNONE);
    Tensor* y = named(mm2, "mm2");
    net.mark_output(named(net.add_softmax(y, 1u << 1), "probs"));
  }
  // ATen with every layer's inputs and outputs rounded to `t`, accumulating in fp32.
  at::Tensor reference(const at::Tensor& x, at::ScalarType t, bool mm2_in_fp32 = false) const {
    at::Tensor h = rounded(at::matmul(rounded(x, t), rounded(w1, t)), t);
    at::Tensor r = rounded(at::relu(h), t);
    at::Tensor y = mm2_in_fp32 ? at::matmul(r, w2) : rounded(at::matmul(r, rounded(w2, t)), t);
    return rounded(at::softmax(rounded(y, t), 1), t);
  }
};

// Compares in the reduced type, whose tolerance applies (scaled for the accumulation over K).
void expect_close_in(const at::Tensor& actual, const at::Tensor& expected, at::ScalarType t,
                     double scale) {
  ASSERT_EQ(actual.scalar_type(), at::kFloat) << "engine outputs keep their declared type";
  expect_close(actual.to(t), expected.to(t), scale);
}

TEST(ReducePrecision, Fp16RunsTheMlpInHalfWithFp32Outputs) {
  Mlp m;
  auto engine = Builder::build(m.net, reduced(BuilderFlag::kFP16));
  for (const char* name : {"mm1", "relu", "mm2", "probs"})
    for (DataType t : input_types(*engine, name))
      EXPECT_EQ(t, DataType::kHALF) << name << "\n" << engine->network().to_string();
  EXPECT_EQ(engine->network().output(0)->type(), DataType::kFLOAT);
  EXPECT_EQ(engine->network().output(0)->name(), "probs");
  const std::string report = engine->build_report().to_string();
  EXPECT_NE(report.find("reduce_precision: mm1: runs in float16"), std::string::npos) << report;

  at::Tensor x = random(DataType::kFLOAT, {4, 16}, 1);
  at::Tensor y = run1(m.net, {x}, reduced(BuilderFlag::kFP16));
  expect_close_in(y, m.reference(x, at::kHalf), at::kHalf, std::sqrt(16.0));
  // The reduced engine is not the fp32 one: the rounding shows beyond fp32's tolerance.
  at::Tensor fp32 = run1(m.net, {x});
  EXPECT_GT((y - fp32).abs().max().item<float>(), 1e-5f);
}

TEST(ReducePrecision, Bf16AndDynamicShapesAtMinOptMax) {
  Mlp m({-1, 16});
  OptimizationProfile p;
  p.set_dimensions("x", {1, 16}, {4, 16}, {9, 16});
  BuilderConfig c = reduced(BuilderFlag::kBF16, p);
  auto engine = Builder::build(m.net, c);
  for (DataType t : input_types(*engine, "mm1")) EXPECT_EQ(t, DataType::kBF16);
  for (int64_t n : {1, 4, 9}) {
    at::Tensor x = random(DataType::kFLOAT, {n, 16}, 2 + static_cast<uint64_t>(n));
    expect_close_in(run1(m.net, {x}, c), m.reference(x, at::kBFloat16), at::kBFloat16,
                    std::sqrt(16.0));
  }
}

TEST(ReducePrecision, SetPrecisionKeepsALayerInFp32) {
  Mlp m;
  m.mm2->set_precision(DataType::kFLOAT);
  auto engine = Builder::build(m.net, reduced(BuilderFlag::kFP16));
  for (DataType t : input_types(*engine, "mm2")) EXPECT_EQ(t, DataType::kFLOAT);
  for (DataType t : input_types(*engine, "mm1")) EXPECT_EQ(t, DataType::kHALF);
  at::Tensor x = random(DataType::kFLOAT, {4, 16}, 3);
  at::Tensor y = run1(m.net, {x}, reduced(BuilderFlag::kFP16));
  // mm2 reads relu's fp16 result widened, multiplies fp32 weights; softmax is fp16 again.
  expect_close_in(y, m.reference(x, at::kHalf, /*mm2_in_fp32=*/true), at::kHalf, std::sqrt(16.0));
  // Without a reduced-precision flag the setting changes nothing.
  auto plain = Builder::build(m.net, BuilderConfig{});
  for (DataType t : input_types(*plain, "mm1")) EXPECT_EQ(t, DataType::kFLOAT);
}

TEST(ReducePrecision, SetPrecisionHalfRunsOneLayerInHalfUnderBf16) {
  Mlp m;
  m.mm2->set_precision(DataType::kHALF);
  auto engine = Builder::build(m.net, reduced(BuilderFlag::kBF16));
  for (DataType t : input_types(*engine, "mm2")) EXPECT_EQ(t, DataType::kHALF);
  for (DataType t : input_types(*engine, "mm1")) EXPECT_EQ(t, DataType::kBF16);
}

TEST(ReducePrecision, SumsComparisonsAndIntegerLayersStayAsDeclared) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 50});
  Tensor* e = named(net.add_unary(x, UnaryOperation::kEXP), "exp");
  Tensor* s = named(net.add_reduce(e, ReduceOperation::kSUM, 1u << 1, false), "sum");
  Tensor* gt =
      named(net.add_elementwise(s, splat(net, "limit", {1}, 60.0f), ElementWiseOperation::kGREATER),
            "gt");
  net.mark_output(s);
  net.mark_output(gt);
  auto engine = Builder::build(net, reduced(BuilderFlag::kFP16));
  EXPECT_EQ(input_types(*engine, "exp"), std::vector<DataType>{DataType::kHALF});
  // exp's fp16 result is widened for the fp32 sum; the comparison reads the fp32 sum.
  EXPECT_EQ(input_types(*engine, "sum"), std::vector<DataType>{DataType::kFLOAT});
  EXPECT_EQ(input_types(*engine, "gt"),
            (std::vector<DataType>{DataType::kFLOAT, DataType::kFLOAT}));
  at::Tensor xv = random(DataType::kFLOAT, {3, 50}, 4, 0.0, 3.0);
  std::vector<at::Tensor> out = run(net, {xv}, reduced(BuilderFlag::kFP16));
  // 50 terms up to e^3 ~ 20: an fp16 sum would lose digits; fp32 keeps them.
  at::Tensor ref = rounded(at::exp(rounded(xv, at::kHalf)), at::kHalf).sum(1);
  expect_close(out[0], ref, std::sqrt(50.0));
  EXPECT_TRUE(at::equal(out[1], ref.gt(60.0f)));
}

TEST(ReducePrecision, ConvolutionWithBiasAndPoolingInFp16) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3, 8, 8});
  ConvolutionAttrs a;
  a.num_output_maps = 4;
  a.kernel_size = Dims{3, 3};
  a.pre_padding = a.post_padding = Dims{1, 1};
  at::Tensor w = random(DataType::kFLOAT, {4, 3, 3, 3}, 31, -0.3, 0.3).contiguous();
  at::Tensor b = random(DataType::kFLOAT, {4}, 32).contiguous();
  a.kernel = Weights::copy(DataType::kFLOAT, w.data_ptr(), w.numel());
  a.bias = Weights::copy(DataType::kFLOAT, b.data_ptr(), b.numel());
  Tensor* c = named(net.add_convolution_nd(x, a), "conv");
  Tensor* r = named(net.add_activation(c, ActivationType::kRELU), "relu");
  PoolingAttrs pa;
  pa.type = PoolingType::kAVERAGE;
  pa.window = Dims{2, 2};
  pa.stride = Dims{2, 2};
  net.mark_output(named(net.add_pooling_nd(r, pa), "pool"));
  auto engine = Builder::build(net, reduced(BuilderFlag::kFP16));
  EXPECT_EQ(input_types(*engine, "conv"), std::vector<DataType>{DataType::kHALF});
  at::Tensor xv = random(DataType::kFLOAT, {2, 3, 8, 8}, 5);
  at::Tensor conv = rounded(
      at::conv2d(rounded(xv, at::kHalf), rounded(w, at::kHalf), rounded(b, at::kHalf), 1, 1),
      at::kHalf);
  at::Tensor ref = rounded(at::avg_pool2d(at::relu(conv), 2, 2), at::kHalf);
  expect_close_in(run1(net, {xv}, reduced(BuilderFlag::kFP16)), ref, at::kHalf, std::sqrt(27.0));
}

TEST(ReducePrecision, BadFlagsAndPrecisionsAreErrors) {
  Mlp m;
  BuilderConfig c = reduced(BuilderFlag::kFP16);
  c.set_flag(BuilderFlag::kSTRONGLY_TYPED);
  expect_error([&] { Builder::build(m.net, c); }, {"kSTRONGLY_TYPED", "kFP16"});
  BuilderConfig junk;
  junk.flags = 1u << 9;
  expect_error([&] { Builder::build(m.net, junk); }, {"flags 512", "not a BuilderFlag"});
  expect_error([&] { m.mm2->set_precision(DataType::kINT8); },
               {"'mm2'", "set_precision(int8)", "float32, float16 or bfloat16"});
  // A strongly typed build keeps fp32.
  BuilderConfig strong;
  strong.set_flag(BuilderFlag::kSTRONGLY_TYPED);
  auto engine = Builder::build(m.net, strong);
  for (DataType t : input_types(*engine, "mm1")) EXPECT_EQ(t, DataType::kFLOAT);
}

}  // namespace
}  // namespace lktest
