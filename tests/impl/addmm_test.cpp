// addmm building block against at::addmm: beta/alpha, input broadcasting, types, dynamic
// shapes, errors, names.
#include "layerkit/impl/addmm.h"

#include <cmath>
#include <limits>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace am = layerkit::impl::addmm;

const Target kTarget("test.op");

// ATen 1.13 lacks fp16 addmm on CPU: compute in fp32, round once.
at::Tensor reference(const at::Tensor& c, const at::Tensor& a, const at::Tensor& b,
                     const at::Scalar& beta, const at::Scalar& alpha) {
  at::ScalarType t = a.scalar_type();
  if (t == at::kHalf || t == at::kBFloat16)
    return at::addmm(c.to(at::kFloat), a.to(at::kFloat), b.to(at::kFloat), beta, alpha).to(t);
  return at::addmm(c, a, b, beta, alpha);
}

at::Tensor operand(DataType t, const std::vector<int64_t>& shape, uint64_t seed) {
  return is_integer(t) ? random(t, shape, seed, -9, 9) : random(t, shape, seed, -2, 2);
}

TEST(ImplAddmm, BetaAlphaInputBroadcastAndTypes) {
  uint64_t seed = 1;
  for (DataType t :
       {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32, DataType::kINT64}) {
    bool fl = is_floating(t);
    std::vector<std::pair<at::Scalar, at::Scalar>> ab = {
        {int64_t{1}, int64_t{1}}, {int64_t{2}, int64_t{-3}}, {int64_t{0}, int64_t{2}}};
    if (fl) ab.push_back({0.5, 1.5});
    for (auto& [beta, alpha] : ab) {
      for (std::vector<int64_t> cs : {std::vector<int64_t>{4, 6}, {6}, {1, 6}, {4, 1}, {}}) {
        at::Tensor c = operand(t, cs, seed++), a = operand(t, {4, 9}, seed++),
                   b = operand(t, {9, 6}, seed++);
        auto op = [](const at::Scalar& s) {
          return s.isIntegral(false) ? Operand(s.toLong()) : Operand(s.toDouble());
        };
        at::Tensor got =
            run_block({c, a, b}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return am::addmm(ctx, kTarget, SourceIR::kATEN, "addmm", in[0], in[1], in[2],
                               op(beta), op(alpha));
            });
        // Products accumulate over K = 9 terms.
        expect_close(got, reference(c, a, b, beta, alpha), 3.0,
                     std::string(data_type_name(t)) + " input " + dims_of(c).to_string() +
                         " beta " + std::to_string(beta.toDouble()) + " alpha " +
                         std::to_string(alpha.toDouble()));
      }
    }
  }
}

TEST(ImplAddmm, BetaZeroIgnoresNaNInput) {
  at::Tensor c = at::full({3, 4}, std::numeric_limits<float>::quiet_NaN());
  at::Tensor a = random(DataType::kFLOAT, {3, 5}, 1), b = random(DataType::kFLOAT, {5, 4}, 2);
  at::Tensor got = run_block({c, a, b}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return am::addmm(ctx, kTarget, SourceIR::kATEN, "addmm", in[0], in[1], in[2], 0, 1);
  });
  expect_close(got, at::addmm(c, a, b, 0, 1), std::sqrt(5.0));
}

TEST(ImplAddmm, DynamicShapesAtMinOptMax) {
  auto set = [](int64_t n, int64_t m, int64_t p, uint64_t s) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {p}, s),
                                   random(DataType::kFLOAT, {n, m}, s + 1),
                                   random(DataType::kFLOAT, {m, p}, s + 2)};
  };
  run_block_dynamic(
      {set(1, 1, 1, 10), set(3, 5, 4, 20), set(8, 9, 7, 30)},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return am::addmm(ctx, kTarget, SourceIR::kATEN, "addmm", in[0], in[1], in[2], 2.0, 0.5);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::addmm(in[0], in[1], in[2], 2.0, 0.5),
                     std::sqrt(static_cast<double>(in[1].size(1))), "dynamic addmm");
      });
}

TEST(ImplAddmm, ErrorsLeaveTheNetworkUnchanged) {
  using In = const std::vector<Tensor*>&;
  auto f = [](std::vector<int64_t> s, DataType t = DataType::kFLOAT) { return random(t, s, 1); };
  auto block = [](ConversionContext& ctx, In in) {
    return am::addmm(ctx, kTarget, SourceIR::kATEN, "am", in[0], in[1], in[2]);
  };
  expect_block_error({f({3, 4}), f({3, 5}), f({6, 4})}, block,
                     {"addmm::addmm", "'am'", "contraction dims differ", "[3,5]", "[6,4]"});
  expect_block_error({f({5, 4}), f({3, 5}), f({5, 4})}, block,
                     {"does not broadcast to [3,4]", "[5,4]"});
  expect_block_error({f({3, 4}), f({2, 3, 5}), f({5, 4})}, block, {"must be 2-D"});
  expect_block_error(
      {f({3, 4}, DataType::kINT32), f({3, 5}, DataType::kINT32), f({5, 4}, DataType::kINT32)},
      [](ConversionContext& ctx, In in) {
        return am::addmm(ctx, kTarget, SourceIR::kATEN, "am", in[0], in[1], in[2], 1, 0.5);
      },
      {"must be integral", "int32"});
}

TEST(ImplAddmm, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* c = net.add_input("c", DataType::kFLOAT, {4});
  Tensor* a = net.add_input("a", DataType::kFLOAT, {3, 5});
  Tensor* b = net.add_input("b", DataType::kFLOAT, {5, 4});
  Tensor* y = am::addmm(ctx, "addmm", SourceIR::kATEN, "am", c, a, b, 2, 3);
  EXPECT_EQ(y->producer()->name(), "[ELEMENTWISE]-[aten_ops.addmm]-[am]");
  EXPECT_NE(net.find_layer("[MATRIX_MULTIPLY]-[aten_ops.addmm]-[am_mm]"), nullptr)
      << net.to_string();
  EXPECT_NE(net.find_layer("[ELEMENTWISE]-[aten_ops.addmm]-[am_alpha]"), nullptr);
  EXPECT_NE(net.find_layer("[ELEMENTWISE]-[aten_ops.addmm]-[am_beta]"), nullptr);
  Tensor* z = am::addmm(ctx, "addmm", SourceIR::kATEN, "plain", c, a, b, 0, 1);
  EXPECT_EQ(z->producer()->name(), "[MATRIX_MULTIPLY]-[aten_ops.addmm]-[plain]");
}

}  // namespace
}  // namespace lktest
