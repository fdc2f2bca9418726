// Tests of the Network itself: naming, text form, atomic failure, cloning, DOT, engine I/O.
#include "test_util.h"

namespace lktest {
namespace {

TEST(Network, ConstantRoundTripsThroughEngine) {
  Network net;
  at::Tensor c = random(DataType::kFLOAT, {2, 3}, 1);
  Tensor* t = constant(net, c);
  net.mark_output(t);
  expect_close(run1(net, {}), c);
}

TEST(Network, InputNamesAreUnique) {
  Network net;
  net.add_input("x", DataType::kFLOAT, {1, 2});
  expect_error_unchanged(net, [&] { net.add_input("x", DataType::kHALF, {1}); },
                         {"add_input", "'x'", "already exists"});
}

TEST(Network, RenamingToATakenNameFails) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kFLOAT, {1});
  net.add_input("b", DataType::kFLOAT, {1});
  expect_error([&] { a->set_name("b"); }, {"'a'", "'b'", "another tensor"});
  a->set_name("c");
  EXPECT_EQ(net.find_tensor("c"), a);
  EXPECT_EQ(net.find_tensor("a"), nullptr);
}

TEST(Network, ConstantWithWrongCountFailsAndLeavesNetworkUnchanged) {
  Network net;
  net.add_input("x", DataType::kFLOAT, {2});
  std::vector<float> v(5);
  expect_error_unchanged(net,
                         [&] {
                           net.add_constant({2, 3}, Weights::from_vector(DataType::kFLOAT, v));
                         },
                         {"Constant layer", "weights hold 5", "[2,3]", "need 6"});
}

TEST(Network, TextFormIsStable) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kHALF, {-1, 4});
  std::vector<int64_t> v{1, 2, 3};
  Layer* c = net.add_constant({3}, Weights::from_vector(DataType::kINT64, v));
  c->set_name("shape_const");
  net.mark_output(c->output(0));
  (void)x;
  EXPECT_EQ(net.to_string(),
            "x: Input[type=float16 dims=[-1,4]] () -> (x:float16[-1,4])\n"
            "shape_const: Constant[dims=[3] weights=int64[3]] () -> "
            "(Constant_1_out0:int64[3])\n"
            "outputs: Constant_1_out0\n");
  EXPECT_EQ(c->output(0)->known_values().size(), 3u);
  EXPECT_EQ(*c->output(0)->known_values()[2], 3);
}

TEST(Network, CloneIsDeepAndEqual) {
  Network net;
  net.add_input("x", DataType::kFLOAT, {2, 2});
  net.mark_output(constant(net, random(DataType::kINT32, {4}, 2, 0, 9)));
  auto copy = net.clone();
  EXPECT_EQ(copy->to_string(), net.to_string());
  copy->layer(0)->set_name("renamed");
  EXPECT_NE(copy->to_string(), net.to_string());
}

TEST(Network, DotExportNamesEveryLayer) {
  Network net;
  net.add_input("x", DataType::kFLOAT, {2, 2});
  net.mark_output(constant(net, random(DataType::kFLOAT, {4}, 2)));
  std::string dot = net.to_dot();
  EXPECT_NE(dot.find("digraph"), std::string::npos);
  EXPECT_NE(dot.find("Constant"), std::string::npos);
  EXPECT_NE(dot.find("\"x\\nInput"), std::string::npos);
}

TEST(Network, MarkOutputRejectsForeignTensor) {
  Network a, b;
  Tensor* t = constant(b, random(DataType::kFLOAT, {1}, 3));
  expect_error([&] { a.mark_output(t); }, {"mark_output", "another network"});
}

TEST(Network, RelaxTensorOnlyForgets) {
  Network n;
  Tensor* x = n.add_input("x", DataType::kFLOAT, {2, 3});
  Tensor* shape = n.add_shape(x)->output(0);
  ASSERT_EQ(shape->known_values(), (KnownValues{2, 3}));
  // Making a dim dynamic and forgetting a value are allowed ...
  n.relax_tensor(shape, {-1}, KnownValues{std::nullopt, 3});
  EXPECT_EQ(shape->dims(), Dims{-1});
  EXPECT_EQ(shape->known_values(), (KnownValues{std::nullopt, 3}));
  // ... knowing more or something else is not.
  expect_error([&] { n.relax_tensor(shape, {2}, {}); }, {"'", "dims [2] are not [-1]"});
  expect_error(
      [&] {
        n.relax_tensor(shape, {-1}, KnownValues{2, 3});
      },
      {"value 0 is given as 2 but inference does not know it"});
  expect_error(
      [&] {
        n.relax_tensor(shape, {-1}, KnownValues{std::nullopt, 4});
      },
      {"value 1 is given as 4 but inference knows it as 3"});
  expect_error([&] { n.relax_tensor(shape, {-1, -1}, {}); }, {"are not [-1]"});
  n.relax_tensor(shape, {-1}, {});
  EXPECT_TRUE(shape->known_values().empty());
}

// Note [Size arithmetic]: sizes int64 cannot count fail where the tensor is made, naming it.
TEST(NetworkSizes, InputWhoseBytesOverflowIsRefusedByName) {
  Network net;
  expect_error_unchanged(
      net, [&] { net.add_input("x", DataType::kFLOAT, {int64_t{1} << 62}); },
      {"input 'x'", "float32[4611686018427387904]", "more bytes than int64 counts"});
  expect_error_unchanged(
      net,
      [&] {
        net.add_input("x", DataType::kINT8, {int64_t{1} << 32, int64_t{1} << 32});
      },
      {"input 'x'", "[4294967296,4294967296]", "more elements"});
  // The largest float input int64 bytes can count is accepted; what a machine can hold is the
  // executor's question (kOUT_OF_MEMORY), not the network's.
  EXPECT_NO_THROW(net.add_input("ok", DataType::kFLOAT, {(int64_t{1} << 61) - 1}));
}

TEST(NetworkSizes, LayerOutputsWhoseBytesOverflowAreRefused) {
  Network net;
  // Each operand is 2^60 floats (2^62 bytes); the results are not representable.
  Tensor* a = net.add_input("a", DataType::kFLOAT, {int64_t{1} << 60});
  Tensor* b = net.add_input("b", DataType::kFLOAT, {int64_t{1} << 60});
  Tensor* both[] = {a, b};
  expect_error_unchanged(net, [&] { net.add_concatenation(both, 0); },
                         {"Concatenation layer", "output 0", "float32[2305843009213693952]",
                          "more bytes than int64 counts"});
  // Concatenated extents that overflow int64 itself.
  Tensor* c = net.add_input("c", DataType::kBOOL, {INT64_MAX - 1});
  Tensor* cc[] = {c, c};
  expect_error_unchanged(net, [&] { net.add_concatenation(cc, 0); },
                         {"Concatenation layer", "concatenated extent", "overflows int64"});
  // Gather: 2^30 indices of rows of 2^40 floats.
  Tensor* data = net.add_input("data", DataType::kFLOAT, {1 << 20, int64_t{1} << 40});
  Tensor* idx = net.add_input("idx", DataType::kINT64, {1 << 30});
  expect_error_unchanged(net, [&] { net.add_gather(data, idx, 0); },
                         {"Gather layer", "[1073741824,1099511627776]", "more elements"});
  // Broadcasting [2^31,1] against [1,2^31] gives 2^62 floats.
  Tensor* col = net.add_input("col", DataType::kFLOAT, {int64_t{1} << 31, 1});
  Tensor* row = net.add_input("row", DataType::kFLOAT, {1, int64_t{1} << 31});
  expect_error_unchanged(
      net, [&] { net.add_elementwise(col, row, ElementWiseOperation::kSUM); },
      {"ElementWise layer", "float32[2147483648,2147483648]", "more bytes than int64 counts"});
}

}  // namespace
}  // namespace lktest
