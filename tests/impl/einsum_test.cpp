// einsum building block against at::einsum over many equations (matmul, batch matmul, transpose,
// reductions, outer products, bilinear, ellipsis, implicit output), dtypes, dynamic shapes;
// errors.
#include "layerkit/impl/einsum.h"

#include <cmath>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace es = layerkit::impl::einsum;

const Target kTarget("einsum.default");

struct Case {
  std::string equation;
  std::vector<std::vector<int64_t>> shapes;
  int64_t k;  // elements summed per output element (tolerance scale sqrt(k))
};

const std::vector<Case> kCases = {
    {"ij,jk->ik", {{3, 4}, {4, 5}}, 4},
    {"ij,jk", {{3, 4}, {4, 5}}, 4},
    {"bij,bjk->bik", {{2, 3, 4}, {2, 4, 5}}, 4},
    {"ij->ji", {{3, 4}}, 1},
    {"ij->", {{3, 4}}, 12},
    {"ij->j", {{3, 4}}, 3},
    {"i,j->ij", {{3}, {4}}, 1},
    {"i,i->", {{5}, {5}}, 5},
    {"i,i->i", {{5}, {5}}, 1},
    {"ij,ij->ij", {{3, 4}, {3, 4}}, 1},
    {"bn,anm,bm->ba", {{2, 3}, {4, 3, 5}, {2, 5}}, 15},
    {"...ij,...jk->...ik", {{2, 3, 4}, {2, 4, 5}}, 4},
    {"...ij,...jk->...ik", {{2, 1, 3, 4}, {5, 4, 2}}, 4},
    {"b...i,b...i->b...", {{2, 3, 4}, {2, 3, 4}}, 4},
    {"...i->...", {{2, 3, 4}}, 4},
    {"i...->...", {{3, 2, 2}}, 3},
    {"bhqd,bhkd->bhqk", {{2, 2, 3, 4}, {2, 2, 5, 4}}, 4},
    {"abc,cd,de->abe", {{2, 3, 4}, {4, 5}, {5, 2}}, 20},
    {"ij,kl->ijkl", {{2, 3}, {2, 2}}, 1},
    {"iJ,Jk->ki", {{3, 4}, {4, 2}}, 4},
    {"ba,ab", {{3, 4}, {4, 3}}, 3},
    {" i j , j k -> i k ", {{3, 4}, {4, 2}}, 4},
    {"abc->cba", {{2, 3, 4}}, 1},
    {"ijk,ik->j", {{2, 3, 4}, {2, 4}}, 8},
};

TEST(ImplEinsum, ManyEquationsAsATen) {
  uint64_t seed = 1;
  for (const Case& c : kCases) {
    std::vector<at::Tensor> xs;
    for (const auto& s : c.shapes) xs.push_back(random(DataType::kFLOAT, s, seed++));
    at::Tensor got = run_block(xs, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return es::einsum(ctx, kTarget, SourceIR::kATEN, "e", c.equation, in);
    });
    // Sums over k products: tolerance scaled by sqrt(k).
    expect_close(got, at::einsum(c.equation, xs), std::sqrt(static_cast<double>(c.k)), c.equation);
  }
}

TEST(ImplEinsum, SixteenBitTypesComputeInFloat) {
  uint64_t seed = 100;
  for (DataType t : {DataType::kHALF, DataType::kBF16}) {
    for (const Case& c : {kCases[0], kCases[2], kCases[10]}) {
      std::vector<at::Tensor> xs;
      for (const auto& s : c.shapes) xs.push_back(random(t, s, seed++));
      at::Tensor got = run_block(xs, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return es::einsum(ctx, kTarget, SourceIR::kATEN, "e", c.equation, in);
      });
      // The reference computes in float32 and rounds once, as the block does.
      std::vector<at::Tensor> fs;
      for (const auto& x : xs) fs.push_back(x.to(at::kFloat));
      at::Tensor expected = at::einsum(c.equation, fs).to(to_aten(t));
      expect_close(got, expected, std::sqrt(static_cast<double>(c.k)),
                   std::string(data_type_name(t)) + " " + c.equation);
    }
  }
}

TEST(ImplEinsum, DynamicShapesAtMinOptMax) {
  auto set = [](int64_t b, int64_t m, int64_t k, int64_t n, int64_t s) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {b, m, k}, s),
                                   random(DataType::kFLOAT, {b, k, n}, s + 1)};
  };
  for (std::string eq : {"bij,bjk->bik", "bij,bjk->kb", "...ij,...jk->...ik", "bij,bjk"}) {
    run_block_dynamic(
        {set(1, 1, 1, 1, 10), set(2, 3, 4, 5, 20), set(3, 5, 7, 6, 30)},
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return es::einsum(ctx, kTarget, SourceIR::kATEN, "e", eq, in);
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          double k = static_cast<double>(in[0].size(2) * (eq == "bij,bjk->kb" ? in[0].size(1) : 1));
          expect_close(out, at::einsum(eq, in), std::sqrt(k), "dynamic " + eq);
        });
  }
}

TEST(ImplEinsum, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* a = net.add_input("a", DataType::kFLOAT, {3, 4});
  Tensor* b = net.add_input("b", DataType::kFLOAT, {4, 5});
  Tensor* h = net.add_input("h", DataType::kHALF, {3, 4});
  std::vector<Tensor*> ab = {a, b};
  EXPECT_EQ(es::einsum(ctx, kTarget, SourceIR::kATEN, "mm", "ij,jk->ik", ab)->producer()->name(),
            "[MATRIX_MULTIPLY]-[aten_ops.einsum.default]-[mm]");
  EXPECT_EQ(es::einsum(ctx, kTarget, SourceIR::kATEN, "t", "ij->ji", {a})->producer()->name(),
            "[SHUFFLE]-[aten_ops.einsum.default]-[t]");
  EXPECT_EQ(es::einsum(ctx, kTarget, SourceIR::kATEN, "s", "ij->j", {h})->producer()->name(),
            "[CAST]-[aten_ops.einsum.default]-[s]");
  EXPECT_EQ(es::einsum(ctx, kTarget, SourceIR::kATEN, "i", "ij->ij", {a}), a);
}

TEST(ImplEinsum, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor a = random(DataType::kFLOAT, {3, 4}, 1);
  at::Tensor b = random(DataType::kFLOAT, {4, 5}, 2);
  auto block = [](std::string eq) {
    return [eq](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return es::einsum(ctx, kTarget, SourceIR::kATEN, "e", eq, in);
    };
  };
  expect_block_error({a}, block("ii->i"), {"einsum::einsum", "label 'i' repeats", "diagonals"});
  expect_block_error({a, b}, block("ij->j"), {"einsum::einsum", "1 input terms", "2 operands"});
  expect_block_error({a, b}, block("ij,kj->ik"),
                     {"einsum::einsum", "label 'j' has size 4", "but 5"});
  expect_block_error({a}, block("ijk->i"), {"einsum::einsum", "3 labels", "rank 2"});
  expect_block_error({a}, block("i1->i"), {"einsum::einsum", "'1' is not a letter"});
  expect_block_error({a}, block("ij->iz"), {"einsum::einsum", "output label 'z'"});
  expect_block_error({a}, block("ij->ii"), {"einsum::einsum", "output label 'i' repeats"});
  expect_block_error({random(DataType::kFLOAT, {2, 3, 4}, 3)}, block("...j->j"),
                     {"einsum::einsum", "no \"...\""});
  expect_block_error({a.to(at::kInt)}, block("ij->j"), {"einsum::einsum", "int32"});
}

}  // namespace
}  // namespace lktest
