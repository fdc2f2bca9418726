// MatrixMultiply reference kernel against ATen (matmul, bmm, mv, dot).
#include <cmath>

#include "test_util.h"

namespace lktest {
namespace {

using Op = MatrixOperation;

at::Tensor run_mm(const at::Tensor& a, Op op0, const at::Tensor& b, Op op1) {
  Network net;
  Tensor* x0 = net.add_input("a", from_aten(a.scalar_type()), dims_of(a));
  Tensor* x1 = net.add_input("b", from_aten(b.scalar_type()), dims_of(b));
  net.mark_output(net.add_matrix_multiply(x0, op0, x1, op1)->output(0));
  return run1(net, {a, b});
}

// Storage shape of an operand with batch dims `batch`, used as rows x cols (or, as a vector,
// of the contraction length: cols for operand 0, rows for operand 1).
std::vector<int64_t> shape_of(std::vector<int64_t> batch, Op op, int64_t rows, int64_t cols,
                              bool second) {
  if (op == Op::kVECTOR) {
    batch.push_back(second ? rows : cols);
  } else if (op == Op::kTRANSPOSE) {
    batch.push_back(cols);
    batch.push_back(rows);
  } else {
    batch.push_back(rows);
    batch.push_back(cols);
  }
  return batch;
}

// ATen oracle in fp32 on the same-typed values, rounded to the data type: apply the transposes,
// turn vectors into 1 x K / K x 1 matrices, at::matmul (broadcasting batch dims), drop the
// vector axes again.
at::Tensor oracle(const at::Tensor& a, Op op0, const at::Tensor& b, Op op1) {
  at::Tensor x = a.to(at::kFloat), y = b.to(at::kFloat);
  if (op0 == Op::kTRANSPOSE) x = x.transpose(-1, -2);
  if (op1 == Op::kTRANSPOSE) y = y.transpose(-1, -2);
  if (op0 == Op::kVECTOR) x = x.unsqueeze(-2);
  if (op1 == Op::kVECTOR) y = y.unsqueeze(-1);
  at::Tensor r = at::matmul(x, y);
  if (op1 == Op::kVECTOR) r = r.squeeze(-1);
  if (op0 == Op::kVECTOR) r = r.squeeze(op1 == Op::kVECTOR ? -1 : -2);
  return r.to(a.scalar_type());
}

TEST(MatrixMultiplyCpu, AllOpCombinationsWithBroadcastBatch) {
  const int64_t m = 3, k = 5, n = 4;
  uint64_t seed = 1;
  for (DataType t : kFloatTypes)
    for (Op op0 : {Op::kNONE, Op::kTRANSPOSE, Op::kVECTOR})
      for (Op op1 : {Op::kNONE, Op::kTRANSPOSE, Op::kVECTOR}) {
        at::Tensor a = random(t, shape_of({2, 1}, op0, m, k, false), ++seed);
        at::Tensor b = random(t, shape_of({1, 3}, op1, k, n, true), ++seed);
        at::Tensor got = run_mm(a, op0, b, op1);
        std::string what = std::string(data_type_name(t)) + " " + std::string(enum_name(op0)) +
                           " x " + std::string(enum_name(op1));
        // Accumulates K = 5 products per output: tolerance scale sqrt(K).
        expect_close(got, oracle(a, op0, b, op1), std::sqrt(double(k)), what);
        std::vector<int64_t> want{2, 3};
        if (op0 != Op::kVECTOR) want.push_back(m);
        if (op1 != Op::kVECTOR) want.push_back(n);
        EXPECT_EQ(got.sizes(), want) << what;
      }
}

TEST(MatrixMultiplyCpu, PlainMatricesMatchMm) {
  for (DataType t : kFloatTypes) {
    at::Tensor a = random(t, {7, 13}, 10), b = random(t, {13, 6}, 11);
    // K = 13: scale sqrt(13).
    expect_close(run_mm(a, Op::kNONE, b, Op::kNONE),
                 at::mm(a.to(at::kFloat), b.to(at::kFloat)).to(a.scalar_type()), std::sqrt(13.0),
                 std::string(data_type_name(t)));
  }
}

TEST(MatrixMultiplyCpu, BatchedMatchesBmm) {
  for (DataType t : kFloatTypes) {
    at::Tensor a = random(t, {4, 6, 3}, 12), b = random(t, {4, 5, 6}, 13);
    at::Tensor expected =
        at::bmm(a.to(at::kFloat).transpose(1, 2), b.to(at::kFloat).transpose(1, 2))
            .to(a.scalar_type());
    // K = 6: scale sqrt(6).
    expect_close(run_mm(a, Op::kTRANSPOSE, b, Op::kTRANSPOSE), expected, std::sqrt(6.0),
                 std::string(data_type_name(t)));
  }
}

TEST(MatrixMultiplyCpu, VectorsMatchMvAndDot) {
  for (DataType t : kFloatTypes) {
    at::Tensor a = random(t, {5, 9}, 14), v = random(t, {9}, 15), u = random(t, {9}, 16);
    at::Tensor af = a.to(at::kFloat), vf = v.to(at::kFloat), uf = u.to(at::kFloat);
    // K = 9 products per output: scale sqrt(9) = 3.
    expect_close(run_mm(a, Op::kNONE, v, Op::kVECTOR), at::mv(af, vf).to(a.scalar_type()), 3.0,
                 "mv");
    at::Tensor at_ = random(t, {9, 5}, 17);
    expect_close(run_mm(v, Op::kVECTOR, at_, Op::kNONE),
                 at::mv(at_.to(at::kFloat).t(), vf).to(a.scalar_type()), 3.0, "vector x matrix");
    at::Tensor dot = run_mm(v, Op::kVECTOR, u, Op::kVECTOR);
    EXPECT_EQ(dot.dim(), 0);
    expect_close(dot, at::dot(vf, uf).to(a.scalar_type()), 3.0, "dot");
  }
}

TEST(MatrixMultiplyCpu, SizeOneDims) {
  at::Tensor a = random(DataType::kFLOAT, {1, 1, 1}, 18),
             b = random(DataType::kFLOAT, {3, 1, 2}, 19);
  expect_close(run_mm(a, Op::kNONE, b, Op::kNONE), oracle(a, Op::kNONE, b, Op::kNONE));
}

TEST(MatrixMultiplyCpu, DynamicBatchAndSizes) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kFLOAT, {-1, -1, 6});
  Tensor* b = net.add_input("b", DataType::kFLOAT, {1, 6, -1});
  Layer* l = net.add_matrix_multiply(a, Op::kNONE, b, Op::kNONE);
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, -1, -1}));
  net.mark_output(l->output(0));
  BuilderConfig cfg;
  OptimizationProfile p;
  p.set_dimensions("a", {1, 1, 6}, {2, 4, 6}, {3, 7, 6});
  p.set_dimensions("b", {1, 6, 1}, {1, 6, 3}, {1, 6, 8});
  cfg.profiles.push_back(p);
  Runner r(net, cfg);
  uint64_t seed = 40;
  for (auto [bm, n] :
       {std::pair<std::vector<int64_t>, int64_t>{{1, 1, 6}, 1}, {{2, 4, 6}, 3}, {{3, 7, 6}, 8}}) {
    at::Tensor av = random(DataType::kFLOAT, bm, ++seed);
    at::Tensor bv = random(DataType::kFLOAT, {1, 6, n}, ++seed);
    // K = 6: scale sqrt(6).
    expect_close(r.run({av, bv}).at(0), at::matmul(av, bv), std::sqrt(6.0),
                 dims_of(av).to_string());
  }
}

}  // namespace
}  // namespace lktest
