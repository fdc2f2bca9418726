// Inference, validation, known-value folding and text form of the ElementWise, Unary, Select kinds.
#include "test_util.h"

namespace lktest {
namespace {

using E = ElementWiseOperation;
using U = UnaryOperation;

Tensor* int64_const(Network& net, const std::vector<int64_t>& v, const Dims& dims) {
  return net.add_constant(dims, Weights::from_vector(DataType::kINT64, v))->output(0);
}

// ---- ElementWise ----

TEST(ElementWiseInfer, BroadcastsDimsAndKeepsType) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kHALF, {2, 1, 4});
  Tensor* b = net.add_input("b", DataType::kHALF, {1, 3, 4});
  Tensor* o = net.add_elementwise(a, b, E::kSUM)->output(0);
  EXPECT_EQ(o->dims(), Dims({2, 3, 4}));
  EXPECT_EQ(o->type(), DataType::kHALF);
}

TEST(ElementWiseInfer, DynamicDims) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kFLOAT, {-1, 1, 4});
  Tensor* b = net.add_input("b", DataType::kFLOAT, {1, -1, -1});
  Tensor* o = net.add_elementwise(a, b, E::kMAX)->output(0);
  EXPECT_EQ(o->dims(), Dims({-1, -1, 4}));
}

TEST(ElementWiseInfer, ComparisonsGiveBool) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kINT32, {3});
  Tensor* b = net.add_input("b", DataType::kINT32, {3});
  for (E op : {E::kEQUAL, E::kGREATER, E::kLESS})
    EXPECT_EQ(net.add_elementwise(a, b, op)->output(0)->type(), DataType::kBOOL);
}

TEST(ElementWiseInfer, FoldsKnownShapeArithmetic) {
  Network net;
  Tensor* shape = int64_const(net, {2, 3, 8}, {3});
  Tensor* two = int64_const(net, {2}, {1});
  auto values = [](Tensor* t) {
    std::vector<int64_t> v;
    for (const auto& e : t->known_values()) {
      EXPECT_TRUE(e.has_value());
      v.push_back(e.value_or(-999));
    }
    return v;
  };
  EXPECT_EQ(values(net.add_elementwise(shape, two, E::kPROD)->output(0)),
            (std::vector<int64_t>{4, 6, 16}));
  EXPECT_EQ(values(net.add_elementwise(shape, two, E::kSUM)->output(0)),
            (std::vector<int64_t>{4, 5, 10}));
  EXPECT_EQ(values(net.add_elementwise(shape, two, E::kDIV)->output(0)),
            (std::vector<int64_t>{1, 1, 4}));
  EXPECT_EQ(values(net.add_elementwise(shape, two, E::kSUB)->output(0)),
            (std::vector<int64_t>{0, 1, 6}));
  EXPECT_EQ(values(net.add_elementwise(two, shape, E::kGREATER)->output(0)),
            (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(values(net.add_elementwise(shape, two, E::kEQUAL)->output(0)),
            (std::vector<int64_t>{1, 0, 0}));
  // Two-way broadcast [2,1] x [1,3].
  Tensor* col = int64_const(net, {1, -7}, {2, 1});
  Tensor* row = int64_const(net, {2, 3, 4}, {1, 3});
  EXPECT_EQ(values(net.add_elementwise(col, row, E::kFLOOR_DIV)->output(0)),
            (std::vector<int64_t>{0, 0, 0, -4, -3, -2}));
}

TEST(ElementWiseInfer, FoldingLeavesDivisionByZeroUnknownAndUnknownInputsUnknown) {
  Network net;
  Tensor* a = int64_const(net, {6, 7}, {2});
  Tensor* z = int64_const(net, {3, 0}, {2});
  const KnownValues& k = net.add_elementwise(a, z, E::kDIV)->output(0)->known_values();
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0], std::optional<int64_t>(2));
  EXPECT_FALSE(k[1].has_value());
  Tensor* in = net.add_input("x", DataType::kINT64, {2});
  for (const auto& e : net.add_elementwise(a, in, E::kSUM)->output(0)->known_values())
    EXPECT_FALSE(e.has_value());
}

TEST(ElementWiseInfer, FoldedInt32ValuesWrapLikeTheKernel) {
  Network net;
  std::vector<int32_t> big{2147483647};
  Tensor* a = net.add_constant({1}, Weights::from_vector(DataType::kINT32, big))->output(0);
  const KnownValues& k = net.add_elementwise(a, a, E::kSUM)->output(0)->known_values();
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k[0], std::optional<int64_t>(-2));
}

TEST(ElementWiseInfer, Errors) {
  Network net;
  Tensor* f23 = net.add_input("f23", DataType::kFLOAT, {2, 3});
  Tensor* f24 = net.add_input("f24", DataType::kFLOAT, {2, 4});
  Tensor* f3 = net.add_input("f3", DataType::kFLOAT, {3});
  Tensor* h23 = net.add_input("h23", DataType::kHALF, {2, 3});
  Tensor* i8 = net.add_input("i8", DataType::kINT8, {2, 3});
  Tensor* b23 = net.add_input("b23", DataType::kBOOL, {2, 3});
  expect_error_unchanged(net, [&] { net.add_elementwise(f23, f3, E::kSUM); },
                         {"ElementWise layer", "ranks 2 and 1", "[2,3]", "[3]"});
  expect_error_unchanged(net, [&] { net.add_elementwise(f23, f24, E::kSUM); },
                         {"do not broadcast", "axis 1", "sizes 3 and 4"});
  expect_error_unchanged(net, [&] { net.add_elementwise(f23, h23, E::kPROD); },
                         {"types differ", "float32", "float16"});
  expect_error_unchanged(net, [&] { net.add_elementwise(f23, f23, E::kAND); },
                         {"input 0 has type float32", "expected one of bool"});
  expect_error_unchanged(net, [&] { net.add_elementwise(f23, f23, E::kBITWISE_AND); },
                         {"input 0 has type float32", "expected one of uint8, int8"});
  expect_error_unchanged(net, [&] { net.add_elementwise(b23, b23, E::kSUM); },
                         {"input 0 has type bool", "int64"});
  expect_error_unchanged(net, [&] { net.add_elementwise(i8, i8, E::kEQUAL); },
                         {"input 0 has type int8", "expected one of"});
  expect_error_unchanged(net, [&] { net.add_elementwise(f23, f23, static_cast<E>(99)); },
                         {"operation 99", "expected 0..16"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_layer(ElementWiseAttrs{E::kSUM}, {f23, nullptr});
                         },
                         {"input 1 is missing"});
  expect_error_unchanged(net, [&] { net.add_layer(ElementWiseAttrs{E::kSUM}, {f23}); },
                         {"takes 2 inputs, got 1"});
}

// ---- Unary ----

TEST(UnaryInfer, TypesAndKnownValues) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kBF16, {-1, 3});
  Tensor* o = net.add_unary(x, U::kCOS)->output(0);
  EXPECT_EQ(o->dims(), Dims({-1, 3}));
  EXPECT_EQ(o->type(), DataType::kBF16);
  EXPECT_EQ(net.add_unary(x, U::kISNAN)->output(0)->type(), DataType::kBOOL);
  Tensor* c = int64_const(net, {4, -5}, {2});
  const KnownValues& k = net.add_unary(c, U::kNEG)->output(0)->known_values();
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0], std::optional<int64_t>(-4));
  EXPECT_EQ(k[1], std::optional<int64_t>(5));
}

TEST(UnaryInfer, Errors) {
  Network net;
  Tensor* f = net.add_input("f", DataType::kFLOAT, {2});
  Tensor* i32 = net.add_input("i32", DataType::kINT32, {2});
  Tensor* b = net.add_input("b", DataType::kBOOL, {2});
  expect_error_unchanged(net, [&] { net.add_unary(i32, U::kLOG); },
                         {"Unary layer", "input 0 has type int32", "float32, float16, bfloat16"});
  expect_error_unchanged(net, [&] { net.add_unary(f, U::kNOT); },
                         {"input 0 has type float32", "expected one of bool"});
  expect_error_unchanged(net, [&] { net.add_unary(i32, U::kISINF); }, {"type int32"});
  expect_error_unchanged(net, [&] { net.add_unary(b, U::kABS); }, {"type bool", "int8"});
  expect_error_unchanged(net, [&] { net.add_unary(f, static_cast<U>(42)); },
                         {"operation 42", "expected 0..24"});
  expect_error_unchanged(net, [&] { net.add_layer(UnaryAttrs{U::kEXP}, {nullptr}); },
                         {"input 0 is missing"});
}

// ---- Select ----

TEST(SelectInfer, BroadcastsAllThree) {
  Network net;
  Tensor* c = net.add_input("c", DataType::kBOOL, {2, 1, 1});
  Tensor* a = net.add_input("a", DataType::kINT64, {1, 3, 1});
  Tensor* b = net.add_input("b", DataType::kINT64, {1, 1, -1});
  Tensor* o = net.add_select(c, a, b)->output(0);
  EXPECT_EQ(o->dims(), Dims({2, 3, -1}));
  EXPECT_EQ(o->type(), DataType::kINT64);
}

TEST(SelectInfer, FoldsKnownValues) {
  Network net;
  std::vector<uint8_t> cv{1, 0, 1};
  Tensor* c = net.add_constant({3}, Weights::from_vector(DataType::kBOOL, cv))->output(0);
  Tensor* a = int64_const(net, {1, 2, 3}, {3});
  Tensor* b = int64_const(net, {7}, {1});
  const KnownValues& k = net.add_select(c, a, b)->output(0)->known_values();
  ASSERT_EQ(k.size(), 3u);
  EXPECT_EQ(k[0], std::optional<int64_t>(1));
  EXPECT_EQ(k[1], std::optional<int64_t>(7));
  EXPECT_EQ(k[2], std::optional<int64_t>(3));
}

TEST(SelectInfer, Errors) {
  Network net;
  Tensor* c = net.add_input("c", DataType::kBOOL, {2, 3});
  Tensor* fc = net.add_input("fc", DataType::kFLOAT, {2, 3});
  Tensor* f = net.add_input("f", DataType::kFLOAT, {2, 3});
  Tensor* h = net.add_input("h", DataType::kHALF, {2, 3});
  Tensor* f4 = net.add_input("f4", DataType::kFLOAT, {2, 4});
  Tensor* f1 = net.add_input("f1", DataType::kFLOAT, {3});
  expect_error_unchanged(net, [&] { net.add_select(fc, f, f); },
                         {"Select layer", "condition (input 0) has type float32", "bool"});
  expect_error_unchanged(net, [&] { net.add_select(c, f, h); },
                         {"types differ", "float32 and float16"});
  expect_error_unchanged(net, [&] { net.add_select(c, f, f4); },
                         {"do not broadcast", "sizes 3 and 4"});
  expect_error_unchanged(net, [&] { net.add_select(c, f1, f); }, {"ranks 2 and 1"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_layer(SelectAttrs{}, {c, f, nullptr});
                         },
                         {"input 2 is missing"});
}

TEST(PointwiseText, ElementWiseUnarySelectLines) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kFLOAT, {2, 1});
  Tensor* b = net.add_input("b", DataType::kFLOAT, {1, 3});
  Tensor* c = net.add_input("c", DataType::kBOOL, {2, 3});
  Layer* ew = net.add_elementwise(a, b, E::kFLOOR_DIV);
  ew->set_name("ew");
  ew->output(0)->set_name("q");
  Layer* un = net.add_unary(ew->output(0), U::kASINH);
  un->set_name("un");
  un->output(0)->set_name("r");
  Layer* sel = net.add_select(c, un->output(0), ew->output(0));
  sel->set_name("sel");
  sel->output(0)->set_name("s");
  std::string text = net.to_string();
  EXPECT_NE(text.find("ew: ElementWise[op=kFLOOR_DIV] (a:float32[2,1], b:float32[1,3]) -> "
                      "(q:float32[2,3])\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("un: Unary[op=kASINH] (q:float32[2,3]) -> (r:float32[2,3])\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("sel: Select[] (c:bool[2,3], r:float32[2,3], q:float32[2,3]) -> "
                      "(s:float32[2,3])\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace lktest
