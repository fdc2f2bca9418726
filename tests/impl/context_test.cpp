// Operand, Target and HostConstant: every integral and floating C++ type makes a scalar operand,
// any string type a target, and typed host constants check their element type and count.
#include "layerkit/impl/context.h"

#include <cstddef>
#include <string>
#include <string_view>

#include "impl/impl_test_util.h"
#include "layerkit/impl/elementwise.h"

namespace lktest {
namespace {

namespace ew = layerkit::impl::elementwise;

template <typename T>
void expect_int_scalar(T v, int64_t expected) {
  Operand op(v);
  EXPECT_TRUE(op.is_int()) << cpp_type_name<T>();
  EXPECT_EQ(op.int_value(), expected) << cpp_type_name<T>();
}

TEST(ImplOperand, EveryIntegralTypeMakesAnIntScalar) {
  expect_int_scalar(3, 3);
  expect_int_scalar(3u, 3);
  expect_int_scalar(std::size_t{4}, 4);
  expect_int_scalar(5LL, 5);
  expect_int_scalar(6ULL, 6);
  expect_int_scalar(-7L, -7);
  expect_int_scalar(static_cast<short>(-8), -8);
  expect_int_scalar(static_cast<unsigned short>(9), 9);
  expect_int_scalar(int8_t{-10}, -10);
  expect_int_scalar(uint8_t{250}, 250);
  expect_int_scalar(int64_t{1} << 40, int64_t{1} << 40);
  expect_int_scalar(std::ptrdiff_t{-11}, -11);
  expect_error([] { Operand op(~uint64_t{0}); }, {"18446744073709551615", "int64"});
}

TEST(ImplOperand, FloatingTypesAndBool) {
  Operand f(1.5f), d(2.25), ld(3.5L), b(true);
  EXPECT_TRUE(f.is_float());
  EXPECT_EQ(f.float_value(), 1.5);
  EXPECT_TRUE(d.is_float());
  EXPECT_TRUE(ld.is_float());
  EXPECT_EQ(ld.float_value(), 3.5);
  EXPECT_TRUE(b.is_bool());
}

TEST(ImplOperand, UnsignedAndSizeScalarsWorkInBlocks) {
  at::Tensor x = random(DataType::kINT64, {2, 3}, 1, -5, 5);
  std::size_t n = 3;
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return ew::add(ctx, "add.Tensor", SourceIR::kATEN, "a", in[0], n, 2u);
  });
  expect_close(got, at::add(x, 3, 2));
}

TEST(ImplOperand, DimsAndRank) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, -1});
  EXPECT_EQ(Operand(x).dims(), (Dims{2, -1}));
  EXPECT_EQ(Operand(x).rank(), 2);
  EXPECT_EQ(Operand(2.0).rank(), 0);
  EXPECT_EQ(Operand(HostConstant::of({3}, std::vector<int32_t>{1, 2, 3})).dims(), (Dims{3}));
}

TEST(ImplTarget, AnyStringType) {
  std::string s = "mul.Tensor";
  std::string_view sv = "sub.Tensor";
  const char* c = "div.Tensor";
  EXPECT_EQ(Target(s).name, "mul.Tensor");
  EXPECT_EQ(Target(sv).name, "sub.Tensor");
  EXPECT_EQ(Target(c).name, "div.Tensor");
  EXPECT_EQ(Target("add.Tensor").name, "add.Tensor");
  // A std::string_view target straight into a block (the call that used not to compile).
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2});
  Tensor* y = ew::mul(ctx, sv.substr(0, 3), SourceIR::kATEN, "m", x, 2.0);
  EXPECT_EQ(y->producer()->name(), "[ELEMENTWISE]-[aten_ops.sub]-[m]");
}

TEST(ImplHostConstant, TypedFactoriesCheckTypeAndCount) {
  HostConstant a = HostConstant::of({2, 2}, std::vector<float>{1, 2, 3, 4});
  EXPECT_EQ(a.weights.type(), DataType::kFLOAT);
  HostConstant h = HostConstant::of({2}, DataType::kHALF, std::vector<float>{1, 2});
  EXPECT_EQ(h.weights.type(), DataType::kHALF);
  EXPECT_EQ(half_bits_to_float(h.weights.span<uint16_t>()[1]), 2.0f);
  expect_error([] { HostConstant::of({3}, std::vector<float>{1, 2}); }, {"[3]", "3 elements", "2"});
  expect_error([] { HostConstant::of({-1}, std::vector<float>{1}); }, {"static"});
  expect_error([] { HostConstant::of_doubles({2}, {1.0}); }, {"[2]", "1 values"});
  // A half host constant used by a block: its values, not its reinterpreted bytes.
  at::Tensor x = random(DataType::kHALF, {2}, 3);
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return ew::add(ctx, "add.Tensor", SourceIR::kATEN, "a", in[0], h);
  });
  expect_close(got, at::add(x, at::tensor({1.0f, 2.0f}).to(at::kHalf)));
}

}  // namespace
}  // namespace lktest
