// matmul building blocks against ATen: every rank combination with batch broadcasting, float and
// integer types, promotion, outer, dynamic shapes, errors and layer names.
#include "layerkit/impl/matmul.h"

#include <cmath>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace mm = layerkit::impl::matmul;

const Target kTarget("test.op");

// ATen 1.13 has no fp16 matmul on CPU: the reference computes in fp32 and rounds once, as
// ATen's bf16 kernel and the layer do.
at::Tensor reference_matmul(const at::Tensor& a, const at::Tensor& b) {
  at::ScalarType out = at::result_type(a, b);
  if (out == at::kHalf || out == at::kBFloat16)
    return at::matmul(a.to(at::kFloat), b.to(at::kFloat)).to(out);
  return at::matmul(a.to(out), b.to(out));
}

// Products accumulate over K terms: tolerance sqrt(K).
double k_scale(const at::Tensor& a) {
  return std::sqrt(static_cast<double>(a.size(-1)));
}

at::Tensor operand(DataType t, const std::vector<int64_t>& shape, uint64_t seed) {
  return is_integer(t) ? random(t, shape, seed, -9, 9) : random(t, shape, seed, -2, 2);
}

TEST(ImplMatmul, EveryRankCombinationAndType) {
  std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> shapes = {
      {{7}, {7}},                  // dot
      {{3, 7}, {7}},               // matrix-vector
      {{7}, {7, 5}},               // vector-matrix
      {{3, 7}, {7, 5}},            // matrix
      {{4, 3, 7}, {7, 5}},         // batched lhs
      {{7}, {4, 7, 5}},            // vector, batched rhs
      {{4, 3, 7}, {7}},            // batched, vector rhs
      {{2, 1, 3, 7}, {4, 7, 5}},   // broadcast batch dims across ranks
      {{1, 3, 7}, {6, 7, 1}},      // broadcast 1 against 6, N = 1
      {{2, 1, 5, 7}, {3, 7, 13}},  // odd sizes, batch broadcast both ways
  };
  uint64_t seed = 1;
  for (DataType t :
       {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32, DataType::kINT64}) {
    for (auto& [sa, sb] : shapes) {
      at::Tensor a = operand(t, sa, seed++), b = operand(t, sb, seed++);
      at::Tensor got =
          run_block({a, b}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            return mm::matrix_multiply(ctx, kTarget, SourceIR::kATEN, "mm", in[0], in[1]);
          });
      expect_close(got, reference_matmul(a, b), k_scale(a),
                   std::string(data_type_name(t)) + " " + dims_of(a).to_string() + " x " +
                       dims_of(b).to_string());
    }
  }
}

TEST(ImplMatmul, IntegersAreExactBeyondFloatPrecision) {
  at::Tensor a =
      at::full({2, 3}, int64_t{1} << 40, at::kLong) + at::arange(6, at::kLong).reshape({2, 3});
  at::Tensor b = at::arange(12, at::kLong).reshape({3, 4}) - 5;
  at::Tensor got = run_block({a, b}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return mm::matrix_multiply(ctx, kTarget, SourceIR::kATEN, "mm", in[0], in[1]);
  });
  expect_close(got, at::matmul(a, b));
}

TEST(ImplMatmul, MixedTypesPromoteAndHostConstants) {
  std::vector<std::pair<DataType, DataType>> pairs = {{DataType::kHALF, DataType::kFLOAT},
                                                      {DataType::kINT32, DataType::kFLOAT},
                                                      {DataType::kINT32, DataType::kINT64},
                                                      {DataType::kHALF, DataType::kBF16},
                                                      {DataType::kINT64, DataType::kBF16}};
  uint64_t seed = 100;
  for (auto [ta, tb] : pairs) {
    at::Tensor a = operand(ta, {2, 3, 5}, seed++), b = operand(tb, {5, 4}, seed++);
    at::Tensor got = run_block({a}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      at::Tensor c = b.contiguous();
      HostConstant hc = HostConstant::of(
          dims_of(c), Weights::copy(from_aten(c.scalar_type()), c.data_ptr(), c.numel()));
      return mm::matrix_multiply(ctx, kTarget, SourceIR::kATEN, "mm", in[0], hc);
    });
    expect_close(got, reference_matmul(a, b), k_scale(a),
                 std::string(data_type_name(ta)) + " x " + std::string(data_type_name(tb)));
  }
}

TEST(ImplMatmul, OuterProduct) {
  uint64_t seed = 200;
  for (auto [ta, tb] :
       std::vector<std::pair<DataType, DataType>>{{DataType::kFLOAT, DataType::kFLOAT},
                                                  {DataType::kHALF, DataType::kHALF},
                                                  {DataType::kBF16, DataType::kBF16},
                                                  {DataType::kINT64, DataType::kINT64},
                                                  {DataType::kINT32, DataType::kHALF},
                                                  {DataType::kBOOL, DataType::kBOOL}}) {
    at::Tensor a = operand(ta, {5}, seed++), b = operand(tb, {3}, seed++);
    if (ta == DataType::kBOOL) a = random(ta, {5}, seed), b = random(tb, {3}, seed + 1);
    at::Tensor got = run_block({a, b}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return mm::outer(ctx, kTarget, SourceIR::kATEN, "outer", in[0], in[1]);
    });
    expect_close(
        got, at::outer(a, b), 1.0,
        "outer " + std::string(data_type_name(ta)) + " " + std::string(data_type_name(tb)));
  }
}

TEST(ImplMatmul, DynamicShapesAtMinOptMax) {
  std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> combos[] = {
      {{{1, 1, 3}, {3, 1}}, {{2, 4, 3}, {3, 5}}, {{5, 9, 3}, {3, 8}}},           // batched x matrix
      {{{1, 1, 2}, {1, 2, 1}}, {{3, 4, 5}, {3, 5, 6}}, {{6, 7, 9}, {6, 9, 8}}},  // batched
      {{{1}, {1, 1, 1}}, {{5}, {2, 5, 3}}, {{9}, {4, 9, 6}}},                    // vector x batched
      {{{1, 1}, {1}}, {{3, 4}, {4}}, {{8, 9}, {9}}},                             // matrix-vector
      {{{1}, {1}}, {{4}, {4}}, {{9}, {9}}},                                      // dot
  };
  uint64_t seed = 300;
  for (DataType t : {DataType::kFLOAT, DataType::kINT32}) {
    for (auto& combo : combos) {
      std::vector<std::vector<at::Tensor>> sets;
      for (auto& [sa, sb] : combo) sets.push_back({operand(t, sa, seed++), operand(t, sb, seed++)});
      run_block_dynamic(
          sets,
          [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            return mm::matrix_multiply(ctx, kTarget, SourceIR::kATEN, "mm", in[0], in[1]);
          },
          [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
            expect_close(
                out, reference_matmul(in[0], in[1]), k_scale(in[0]),
                "dynamic " + dims_of(in[0]).to_string() + " x " + dims_of(in[1]).to_string());
          });
    }
  }
}

TEST(ImplMatmul, ErrorsLeaveTheNetworkUnchanged) {
  using In = const std::vector<Tensor*>&;
  auto f = [](std::vector<int64_t> s, DataType t = DataType::kFLOAT) { return random(t, s, 1); };
  auto block = [](ConversionContext& ctx, In in) {
    return mm::matrix_multiply(ctx, kTarget, SourceIR::kATEN, "mm", in[0], in[1]);
  };
  expect_block_error(
      {f({2, 3}), f({4, 5})}, block,
      {"matmul::matrix_multiply", "'mm'", "contraction dims differ", "[2,3]", "[4,5]"});
  expect_block_error({f({3}), f({4})}, block, {"contraction dims differ", "[3]", "[4]"});
  expect_block_error({f({2, 2, 3}), f({3, 3, 4})}, block, {"do not broadcast", "2", "3"});
  // The int32 operand is cast to fp32 first; the cast is rolled back.
  expect_block_error({f({2, 3}, DataType::kINT32), f({4, 5})}, block, {"contraction dims"});
  expect_block_error({f({2, 3}, DataType::kBOOL), f({3, 2}, DataType::kBOOL)}, block, {"bool"});
  expect_block_error({f({}), f({3})}, block, {"at least one dim"});
  expect_block_error({f({3})},
                     [](ConversionContext& ctx, In in) {
                       return mm::matrix_multiply(ctx, kTarget, SourceIR::kATEN, "mm", in[0], 2.0);
                     },
                     {"not scalars"});
  expect_block_error({f({3, 2}), f({3})},
                     [](ConversionContext& ctx, In in) {
                       return mm::outer(ctx, kTarget, SourceIR::kATEN, "o", in[0], in[1]);
                     },
                     {"matmul::outer", "two 1-D tensors", "[3,2]"});
}

TEST(ImplMatmul, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* a = net.add_input("a", DataType::kFLOAT, {4, 2, 3});
  Tensor* v = net.add_input("v", DataType::kINT32, {3});
  Tensor* y = mm::matrix_multiply(ctx, "matmul", SourceIR::kATEN, "mm1", a, v);
  EXPECT_EQ(y->producer()->name(), "[MATRIX_MULTIPLY]-[aten_ops.matmul]-[mm1]");
  EXPECT_NE(net.find_layer("[CAST]-[aten_ops.matmul]-[mm1_rhs_cast]"), nullptr) << net.to_string();
  EXPECT_NE(net.find_layer("[SHUFFLE]-[aten_ops.matmul]-[mm1_rhs_broadcast]"), nullptr)
      << net.to_string();
  Tensor* i = net.add_input("i", DataType::kINT64, {2, 3});
  Tensor* j = net.add_input("j", DataType::kINT64, {3, 5});
  Tensor* z = mm::matrix_multiply(ctx, "matmul", SourceIR::kATEN, "mm2", i, j);
  EXPECT_EQ(z->producer()->name(), "[REDUCE]-[aten_ops.matmul]-[mm2]");
  EXPECT_NE(net.find_layer("[ELEMENTWISE]-[aten_ops.matmul]-[mm2_products]"), nullptr);
  Tensor* o = mm::outer(ctx, "outer", std::nullopt, "o", v, v);
  EXPECT_EQ(o->producer()->name(), "[ELEMENTWISE]-[unknown_ops.outer]-[o]");
  EXPECT_NE(net.find_layer("[SHUFFLE]-[unknown_ops.outer]-[o_lhs_column]"), nullptr);
}

}  // namespace
}  // namespace lktest
