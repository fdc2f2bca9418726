// OwnedTensor's typed views of engine outputs: as<T>() checks the element type; to_floats
// converts any type.
#include "layerkit/runtime/executor.h"

#include <c10/util/Half.h>

#include "test_util.h"

namespace lktest {
namespace {

// x (2x3 float) -> x + x, cast to `out_type`.
const OwnedTensor& doubled(std::unique_ptr<Engine>& engine, std::unique_ptr<ExecutionContext>& ctx,
                           DataType out_type, const std::vector<float>& x) {
  Network net;
  Tensor* in = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* s = net.add_elementwise(in, in, ElementWiseOperation::kSUM)->output(0);
  Tensor* y = net.add_cast(s, out_type)->output(0);
  y->set_name("y");
  net.mark_output(y);
  engine = Builder::build(net, {});
  ctx = engine->create_execution_context();
  ctx->set_input("x", x.data());
  ctx->execute();
  return ctx->output("y");
}

TEST(OwnedTensor, TypedSpanOfAFloatOutput) {
  std::unique_ptr<Engine> e;
  std::unique_ptr<ExecutionContext> c;
  std::vector<float> x{1, 2, 3, -4, 5.5f, 0};
  const OwnedTensor& y = doubled(e, c, DataType::kFLOAT, x);
  std::span<const float> v = y.as<float>();
  ASSERT_EQ(v.size(), 6u);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(v[i], 2 * x[i]);
  expect_error([&] { (void)y.as<int32_t>(); }, {"as<int32_t>", "float32[2,3]"});
  expect_error([&] { (void)y.as<uint16_t>(); }, {"as<uint16_t>", "float32"});
}

TEST(OwnedTensor, HalfAndIntegerOutputs) {
  std::unique_ptr<Engine> e;
  std::unique_ptr<ExecutionContext> c;
  std::vector<float> x{1, 2, 3, -4, 5.5f, 0.1f};
  const OwnedTensor& h = doubled(e, c, DataType::kHALF, x);
  expect_error([&] { (void)h.as<float>(); }, {"as<float>", "float16", "to_floats"});
  std::span<const uint16_t> bits = h.as<uint16_t>();
  std::vector<float> f = h.to_floats();
  ASSERT_EQ(f.size(), 6u);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(bits[i], c10::Half(2 * x[i]).x) << i;
    EXPECT_EQ(f[i], static_cast<float>(c10::Half(2 * x[i]))) << i;
  }
  std::unique_ptr<Engine> e2;
  std::unique_ptr<ExecutionContext> c2;
  const OwnedTensor& i = doubled(e2, c2, DataType::kINT64, x);
  std::span<const int64_t> iv = i.as<int64_t>();
  EXPECT_EQ(iv[3], -8);
  EXPECT_EQ(iv[4], 11);
  expect_error([&] { (void)i.as<int32_t>(); }, {"int64"});
}

}  // namespace
}  // namespace lktest
