// Inference, validation and text form of the Activation, ParametricReLU, Scale kinds.
#include <limits>

#include "test_util.h"

namespace lktest {
namespace {

using A = ActivationType;

TEST(ActivationInfer, KeepsTypeAndDims) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kBF16, {-1, 3, 5});
  Tensor* o = net.add_activation(x, A::kCLIP, -1.0f, 1.0f)->output(0);
  EXPECT_EQ(o->dims(), Dims({-1, 3, 5}));
  EXPECT_EQ(o->type(), DataType::kBF16);
}

TEST(ActivationInfer, Errors) {
  Network net;
  Tensor* i32 = net.add_input("i32", DataType::kINT32, {2, 3});
  Tensor* i8 = net.add_input("i8", DataType::kINT8, {2, 3});
  Tensor* f = net.add_input("f", DataType::kFLOAT, {2, 3});
  expect_error_unchanged(net, [&] { net.add_activation(i32, A::kRELU); },
                         {"Activation layer", "input 0 has type int32", "float32, float16"});
  expect_error_unchanged(net, [&] { net.add_activation(i8, A::kSIGMOID); }, {"type int8"});
  expect_error_unchanged(net, [&] { net.add_activation(f, static_cast<A>(31)); },
                         {"activation type 31", "expected 0..13"});
  float nan = std::numeric_limits<float>::quiet_NaN();
  expect_error_unchanged(net, [&] { net.add_activation(f, A::kLEAKY_RELU, nan); },
                         {"must not be NaN"});
  expect_error_unchanged(net, [&] { net.add_layer(ActivationAttrs{}, {nullptr}); },
                         {"input 0 is missing"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_layer(ActivationAttrs{}, {f, f});
                         },
                         {"takes 1 input, got 2"});
}

TEST(ParametricReLUInfer, OutputHasDataShape) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kHALF, {-1, 3, 4, 4});
  Tensor* s = net.add_input("s", DataType::kHALF, {1, 3, 1, 1});
  Tensor* o = net.add_parametric_relu(x, s)->output(0);
  EXPECT_EQ(o->dims(), Dims({-1, 3, 4, 4}));
  EXPECT_EQ(o->type(), DataType::kHALF);
}

TEST(ParametricReLUInfer, Errors) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3, 4});
  Tensor* sh = net.add_input("sh", DataType::kHALF, {1, 3, 1});
  Tensor* s1 = net.add_input("s1", DataType::kFLOAT, {3});
  Tensor* s4 = net.add_input("s4", DataType::kFLOAT, {1, 4, 1});
  Tensor* big = net.add_input("big", DataType::kFLOAT, {2, 3, 8});
  Tensor* xi = net.add_input("xi", DataType::kINT32, {2, 3, 4});
  Tensor* si = net.add_input("si", DataType::kINT32, {1, 3, 1});
  expect_error_unchanged(net, [&] { net.add_parametric_relu(x, sh); },
                         {"ParametricReLU layer", "slope (input 1) has type float16", "float32"});
  expect_error_unchanged(net, [&] { net.add_parametric_relu(x, s1); },
                         {"slope [3] has rank 1", "data [2,3,4] has rank 3"});
  expect_error_unchanged(net, [&] { net.add_parametric_relu(x, s4); },
                         {"does not broadcast", "axis 1 has size 4", "expected 1 or 3"});
  // The slope broadcasts to the data, not the other way round.
  expect_error_unchanged(net, [&] { net.add_parametric_relu(x, big); },
                         {"axis 2 has size 8", "expected 1 or 4"});
  expect_error_unchanged(net, [&] { net.add_parametric_relu(xi, si); }, {"input 0 has type int32"});
  expect_error_unchanged(net,
                         [&] {
                           net.add_layer(ParametricReLUAttrs{}, {x, nullptr});
                         },
                         {"input 1 is missing"});
}

Weights floats(int64_t n, DataType t = DataType::kFLOAT) {
  if (t == DataType::kFLOAT) return Weights::from_vector(t, std::vector<float>(n, 1.0f));
  return Weights::zeros(t, n);
}

TEST(ScaleInfer, AcceptsMatchingWeights) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kHALF, {-1, 3, 4});
  ScaleAttrs a;
  a.mode = ScaleMode::kCHANNEL;
  a.scale = floats(3);                   // float32 weights for a float16 input
  a.shift = floats(3, DataType::kHALF);  // same type as the input
  Tensor* o = net.add_scale_nd(x, a)->output(0);
  EXPECT_EQ(o->dims(), Dims({-1, 3, 4}));
  EXPECT_EQ(o->type(), DataType::kHALF);
  a.mode = ScaleMode::kELEMENTWISE;
  a.scale = floats(12);
  a.shift = {};
  EXPECT_NO_THROW(net.add_scale_nd(x, a));
}

TEST(ScaleInfer, Errors) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3, 4});
  Tensor* dyn = net.add_input("dyn", DataType::kFLOAT, {2, -1, 4});
  Tensor* xi = net.add_input("xi", DataType::kINT32, {2, 3, 4});
  ScaleAttrs a;
  a.mode = ScaleMode::kCHANNEL;
  a.scale = floats(4);
  expect_error_unchanged(net, [&] { net.add_scale_nd(x, a); },
                         {"Scale layer", "scale weights hold 4 values", "expected 3 (kCHANNEL"});
  a.mode = ScaleMode::kUNIFORM;
  a.scale = {};
  a.shift = floats(2);
  expect_error_unchanged(net, [&] { net.add_scale_nd(x, a); },
                         {"shift weights hold 2 values", "expected 1 (kUNIFORM)"});
  a.mode = ScaleMode::kELEMENTWISE;
  a.shift = {};
  a.power = floats(3);
  expect_error_unchanged(net, [&] { net.add_scale_nd(x, a); },
                         {"power weights hold 3 values", "expected 12 (kELEMENTWISE"});
  a = {};
  a.scale = Weights::zeros(DataType::kINT32, 1);
  expect_error_unchanged(
      net, [&] { net.add_scale_nd(x, a); },
      {"scale weights have type int32", "expected float32 (the input type or float32)"});
  a.scale = floats(1, DataType::kHALF);
  expect_error_unchanged(net, [&] { net.add_scale_nd(x, a); }, {"scale weights have type float16"});
  a = {};
  a.channel_axis = 3;
  expect_error_unchanged(net, [&] { net.add_scale_nd(x, a); },
                         {"channel_axis 3 is out of range for rank 3", "0..2"});
  a.channel_axis = -1;
  expect_error_unchanged(net, [&] { net.add_scale_nd(x, a); }, {"channel_axis -1"});
  a = {};
  a.mode = ScaleMode::kCHANNEL;
  expect_error_unchanged(net, [&] { net.add_scale_nd(dyn, a); },
                         {"needs a known channel dim", "[2,-1,4]"});
  a.mode = static_cast<ScaleMode>(7);
  expect_error_unchanged(net, [&] { net.add_scale_nd(x, a); }, {"scale mode 7"});
  a = {};
  expect_error_unchanged(net, [&] { net.add_scale_nd(xi, a); }, {"input 0 has type int32"});
}

TEST(PointwiseText, ActivationParametricReLUScaleLines) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 2, 3});
  Tensor* s = net.add_input("s", DataType::kFLOAT, {1, 2, 1});
  Layer* act = net.add_activation(x, A::kSCALED_TANH, 1.5f, 0.25f);
  act->set_name("act");
  act->output(0)->set_name("y");
  Layer* pr = net.add_parametric_relu(act->output(0), s);
  pr->set_name("pr");
  pr->output(0)->set_name("z");
  ScaleAttrs a;
  a.mode = ScaleMode::kCHANNEL;
  a.shift = floats(2);
  a.power = floats(2);
  Layer* sc = net.add_scale_nd(pr->output(0), a);
  sc->set_name("sc");
  sc->output(0)->set_name("w");
  std::string text = net.to_string();
  EXPECT_NE(text.find("act: Activation[type=kSCALED_TANH alpha=1.5 beta=0.25] "
                      "(x:float32[1,2,3]) -> (y:float32[1,2,3])\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("pr: ParametricReLU[] (y:float32[1,2,3], s:float32[1,2,1]) -> "
                      "(z:float32[1,2,3])\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("sc: Scale[mode=kCHANNEL channel_axis=1 scale=none shift=float32[2] "
                      "power=float32[2]] (z:float32[1,2,3]) -> (w:float32[1,2,3])\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace lktest
