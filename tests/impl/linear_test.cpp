// linear building block against at::linear: leading dims, bias, types, dynamic batch, errors,
// names.
#include "layerkit/impl/linear.h"

#include <cmath>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace ln = layerkit::impl::linear;

const Target kTarget("test.op");

// ATen 1.13 lacks fp16 linear on CPU: compute in fp32, round once.
at::Tensor reference(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  at::ScalarType t = x.scalar_type();
  if (t == at::kHalf || t == at::kBFloat16)
    return at::linear(x.to(at::kFloat), w.to(at::kFloat), b.defined() ? b.to(at::kFloat) : b).to(t);
  return at::linear(x, w, b);
}

at::Tensor operand(DataType t, const std::vector<int64_t>& shape, uint64_t seed) {
  return is_integer(t) ? random(t, shape, seed, -9, 9) : random(t, shape, seed, -2, 2);
}

TEST(ImplLinear, LeadingDimsBiasAndTypes) {
  uint64_t seed = 1;
  for (DataType t :
       {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32, DataType::kINT64}) {
    for (std::vector<int64_t> shape :
         {std::vector<int64_t>{11}, {4, 11}, {2, 3, 11}, {2, 1, 3, 11}}) {
      for (bool with_bias : {true, false}) {
        at::Tensor x = operand(t, shape, seed++), w = operand(t, {7, 11}, seed++);
        at::Tensor b = operand(t, {7}, seed++);
        at::Tensor got =
            run_block({x, w, b}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              std::optional<Operand> bo;
              if (with_bias) bo = in[2];
              return ln::linear(ctx, kTarget, SourceIR::kATEN, "fc", in[0], in[1], bo);
            });
        // Products accumulate over in_features = 11 terms.
        expect_close(got, reference(x, w, with_bias ? b : at::Tensor()), std::sqrt(11.0),
                     std::string(data_type_name(t)) + " " + dims_of(x).to_string() +
                         (with_bias ? " with bias" : ""));
      }
    }
  }
}

TEST(ImplLinear, HostConstantWeightsAndDynamicBatch) {
  at::Tensor w = random(DataType::kFLOAT, {6, 5}, 1), b = random(DataType::kFLOAT, {6}, 2);
  auto host = [](const at::Tensor& t) {
    return HostConstant::of(dims_of(t), Weights::copy(DataType::kFLOAT, t.data_ptr(), t.numel()));
  };
  auto set = [](std::vector<int64_t> s, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, s, seed)};
  };
  run_block_dynamic(
      {set({1, 1, 5}, 10), set({2, 7, 5}, 11), set({4, 16, 5}, 12)},
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return ln::linear(ctx, kTarget, SourceIR::kATEN, "fc", in[0], host(w), host(b));
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::linear(in[0], w, b), std::sqrt(5.0), "dynamic linear");
      });
}

TEST(ImplLinear, ErrorsLeaveTheNetworkUnchanged) {
  using In = const std::vector<Tensor*>&;
  at::Tensor x = random(DataType::kFLOAT, {3, 5}, 1);
  expect_block_error({x, random(DataType::kFLOAT, {4, 6}, 2)},
                     [](ConversionContext& ctx, In in) {
                       return ln::linear(ctx, kTarget, SourceIR::kATEN, "fc", in[0], in[1]);
                     },
                     {"linear::linear", "'fc'", "5 features", "expects 6"});
  expect_block_error({x, random(DataType::kFLOAT, {4, 5}, 2), random(DataType::kFLOAT, {3}, 3)},
                     [](ConversionContext& ctx, In in) {
                       return ln::linear(ctx, kTarget, SourceIR::kATEN, "fc", in[0], in[1], in[2]);
                     },
                     {"bias must be 1-D [out_features = 4]", "[3]"});
  expect_block_error({x, random(DataType::kFLOAT, {5}, 2)},
                     [](ConversionContext& ctx, In in) {
                       return ln::linear(ctx, kTarget, SourceIR::kATEN, "fc", in[0], in[1]);
                     },
                     {"weight must be 2-D"});
  expect_block_error({random(DataType::kBOOL, {3, 5}, 1), random(DataType::kBOOL, {4, 5}, 2)},
                     [](ConversionContext& ctx, In in) {
                       return ln::linear(ctx, kTarget, SourceIR::kATEN, "fc", in[0], in[1]);
                     },
                     {"bool"});
}

TEST(ImplLinear, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3, 5});
  Tensor* w = net.add_input("w", DataType::kFLOAT, {4, 5});
  Tensor* b = net.add_input("b", DataType::kFLOAT, {4});
  Tensor* y = ln::linear(ctx, "linear", SourceIR::kATEN, "fc1", x, w, b);
  EXPECT_EQ(y->producer()->name(), "[ELEMENTWISE]-[aten_ops.linear]-[fc1]");
  Layer* m = net.find_layer("[MATRIX_MULTIPLY]-[aten_ops.linear]-[fc1_matmul]");
  ASSERT_NE(m, nullptr) << net.to_string();
  EXPECT_EQ(m->attrs<MatrixMultiplyAttrs>().op1, MatrixOperation::kTRANSPOSE);
  Tensor* h = net.add_input("h", DataType::kHALF, {3, 5});
  Tensor* wh = net.add_input("wh", DataType::kHALF, {4, 5});
  Tensor* z = ln::linear(ctx, "linear", std::nullopt, "fc2", h, wh);
  EXPECT_EQ(z->producer()->name(), "[MATRIX_MULTIPLY]-[unknown_ops.linear]-[fc2]");
  EXPECT_EQ(z->type(), DataType::kHALF);
}

}  // namespace
}  // namespace lktest
