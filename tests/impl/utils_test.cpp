// The helpers every block shares, seen through blocks: empty targets and names are rejected,
// operands of another network are named as such, and errors name only layers that exist.
#include "layerkit/impl/utils.h"

#include "impl/impl_test_util.h"
#include "layerkit/impl/activation.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/matmul.h"

namespace lktest {
namespace {

namespace ew = layerkit::impl::elementwise;

TEST(ImplNaming, EmptyTargetOrNameIsRejected) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  expect_error_unchanged(net, [&] { ew::add(ctx, "", SourceIR::kATEN, "a", x, 1.0); },
                         {"elementwise::add", "the target is empty", "add.Tensor"});
  expect_error_unchanged(net, [&] { ew::add(ctx, "add.Tensor", SourceIR::kATEN, "", x, 1.0); },
                         {"elementwise::add", "target add.Tensor", "the name is empty"});
  expect_error_unchanged(
      net, [&] { layerkit::impl::activation::relu(ctx, std::string(), std::nullopt, "r", x); },
      {"activation::relu", "the target is empty"});
  // The helper itself, for converters that add layers directly.
  Layer* l = net.add_identity(x);
  expect_error([&] { set_layer_name(ctx, l, "t", SourceIR::kATEN, ""); }, {"the name is empty"});
}

TEST(ImplErrors, TensorOfAnotherNetworkIsNamedAsSuch) {
  Network net, other;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* foreign = other.add_input("x", DataType::kFLOAT, {2, 3});
  const int layers = net.num_layers();
  try {
    ew::add(ctx, "add.Tensor", SourceIR::kATEN, "a", x, foreign);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("x:float32[2,3] [a tensor of another network]"), std::string::npos) << m;
    EXPECT_NE(m.find("input 1 ('x') is a tensor of another network"), std::string::npos) << m;
    // No default layer name ("ElementWise_3"): the layer was never added.
    EXPECT_EQ(m.find("ElementWise_"), std::string::npos) << m;
  }
  EXPECT_EQ(net.num_layers(), layers);
}

TEST(ImplErrors, MatmulShapeErrorNamesTheOperandsNotARemovedConstant) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3});
  HostConstant w = HostConstant::of({4, 5}, std::vector<float>(20, 1.0f));
  try {
    layerkit::impl::matmul::matrix_multiply(ctx, "mm", SourceIR::kATEN, "fc", x, w);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("contraction dims differ"), std::string::npos) << m;
    EXPECT_NE(m.find("constant float32[4,5] has 4 rows"), std::string::npos) << m;
    EXPECT_EQ(m.find("[CONSTANT]"), std::string::npos) << m;
  }
  EXPECT_EQ(net.num_layers(), 1);
}

}  // namespace
}  // namespace lktest
