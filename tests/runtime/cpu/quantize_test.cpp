// Quantize, Dequantize and DynamicQuantize on the CPU engine: INT8 against ATen's quantized
// tensors, FP8/FP4/INT4 against expectations computed here from the format definitions.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "test_util.h"

namespace lktest {
namespace {

// ---- the formats, from their definitions (independent of layerkit's conversions) ----

// E4M3 (fn): bias 7, 3 mantissa bits, subnormals at e == 0, 0x7f/0xff NaN.
double e4m3_value(int c) {
  if ((c & 0x7f) == 0x7f) return NAN;
  int e = (c >> 3) & 0xf, m = c & 7;
  double mag = e == 0 ? std::ldexp(m / 8.0, -6) : std::ldexp(1.0 + m / 8.0, e - 7);
  return (c & 0x80) ? -mag : mag;
}
// E2M1: bias 1, 1 mantissa bit; values 0, .5, 1, 1.5, 2, 3, 4, 6.
double e2m1_value(int c) {
  int e = (c >> 1) & 3, m = c & 1;
  double mag = e == 0 ? m / 2.0 : std::ldexp(1.0 + m / 2.0, e - 1);
  return (c & 8) ? -mag : mag;
}
// Nearest finite code of x's sign, ties to the even code; beyond the range the largest
// magnitude (saturation). NaN inputs are not used with these.
int nearest(double x, int ncodes, int sign_bit, double (*value)(int)) {
  double top = 0;  // far beyond the range, distances lose precision: clamp first
  for (int c = 0; c < ncodes; ++c)
    if (!std::isnan(value(c))) top = std::max(top, std::fabs(value(c)));
  if (std::fabs(x) > 2 * top) x = std::copysign(2 * top, x);
  int best = -1;
  double best_d = INFINITY;
  for (int c = 0; c < ncodes; ++c) {
    if (((c & sign_bit) != 0) != std::signbit(x)) continue;
    double v = value(c);
    if (std::isnan(v)) continue;
    double d = std::fabs(v - x);
    if (d < best_d || (d == best_d && (c & 1) == 0)) best = c, best_d = d;
  }
  return best;
}
int encode_e4m3(float x) {
  return nearest(x, 256, 0x80, e4m3_value);
}
int encode_e2m1(float x) {
  return nearest(x, 16, 0x8, e2m1_value);
}
// Half the gap between the format's representable magnitudes around |q| (the top gap beyond the
// largest value): the most that round-to-nearest (with saturation) may move q.
double half_gap(double q, int ncodes, int sign_bit, double (*value)(int)) {
  std::vector<double> v;
  for (int c = 0; c < ncodes; ++c)
    if (!(c & sign_bit) && !std::isnan(value(c))) v.push_back(value(c));
  std::sort(v.begin(), v.end());
  q = std::fabs(q);
  for (size_t i = 0; i + 1 < v.size(); ++i)
    if (q <= v[i + 1]) return (v[i + 1] - v[i]) / 2;
  return (v.back() - v[v.size() - 2]) / 2;
}

// Nibble i of a packed sub-byte buffer: element 2i in the low nibble of byte i.
int nibble(const std::vector<uint8_t>& bytes, int64_t i) {
  return (bytes[static_cast<size_t>(i / 2)] >> ((i % 2) * 4)) & 0xf;
}
int sext4(int n) {
  return n >= 8 ? n - 16 : n;
}

// Runs `net` through the engine API with raw input buffers; returns every output.
std::vector<OwnedTensor> run_engine(const Network& net, const std::vector<const void*>& inputs,
                                    const BuilderConfig& config = {}) {
  auto engine = Builder::build(net, config);
  auto ctx = engine->create_execution_context();
  for (int i = 0; i < net.num_inputs(); ++i)
    ctx->set_input(net.input(i)->name(), inputs.at(static_cast<size_t>(i)));
  ctx->execute();
  std::vector<OwnedTensor> outs;
  for (int i = 0; i < net.num_outputs(); ++i) outs.push_back(ctx->output(net.output(i)->name()));
  return outs;
}

float item(const at::Tensor& t, int64_t i) {
  return t.flatten()[i].item<float>();
}

// ---- Quantize / Dequantize INT8 against ATen ----

TEST(Quantize, Int8PerTensorMatchesATen) {
  for (DataType t : kFloatTypes) {
    for (DataType st : {t, DataType::kFLOAT}) {
      Network net;
      Tensor* x = net.add_input("x", t, {4, 6, 5});
      at::Tensor scale = at::full({}, 0.0213, at::TensorOptions().dtype(to_aten(st)));
      net.mark_output(net.add_quantize(x, constant(net, scale))->output(0));
      at::Tensor xv = random(t, {4, 6, 5}, 1, -4.0, 4.0);  // reaches beyond +-127 * scale
      at::Tensor want =
          at::quantize_per_tensor(xv.to(at::kFloat), item(scale, 0), 0, at::kQInt8).int_repr();
      expect_close(run1(net, {xv}), want, 1.0,
                   std::string(data_type_name(t)) + " scale " + std::string(data_type_name(st)));
    }
  }
}

TEST(Quantize, Int8RoundsHalfToEvenAndSaturates) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {10});
  net.mark_output(net.add_quantize(x, constant(net, at::full({1}, 0.25)))->output(0));
  // x / 0.25 = 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, 127.5, 1000, -1000
  at::Tensor xv = at::tensor(
      {0.125f, 0.375f, 0.625f, -0.125f, -0.375f, -0.625f, 31.625f, 31.875f, 250.0f, -250.0f});
  at::Tensor want = at::quantize_per_tensor(xv, 0.25, 0, at::kQInt8).int_repr();
  at::Tensor got = run1(net, {xv});
  expect_close(got, want);
  expect_close(got, at::tensor({0, 2, 2, 0, -2, -2, 126, 127, 127, -128}, at::kChar));
}

TEST(Quantize, Int8PerChannelMatchesATen) {
  for (DataType t : kFloatTypes) {
    for (int axis : {0, 1, -1}) {
      std::vector<int64_t> shape{3, 4, 5};
      int ax = axis < 0 ? axis + 3 : axis;
      Network net;
      Tensor* x = net.add_input("x", t, Dims(std::span<const int64_t>(shape)));
      at::Tensor scale =
          random(DataType::kFLOAT, {shape[static_cast<size_t>(ax)]}, 2, 0.01, 0.05).to(to_aten(t));
      QuantizeAttrs qa;
      qa.axis = axis;
      net.mark_output(net.add_quantize(x, constant(net, scale), qa)->output(0));
      at::Tensor xv = random(t, shape, 3, -3.0, 3.0);
      at::Tensor want = at::quantize_per_channel(
                            xv.to(at::kFloat), scale.to(at::kDouble),
                            at::zeros({shape[static_cast<size_t>(ax)]}, at::kLong), ax, at::kQInt8)
                            .int_repr();
      expect_close(run1(net, {xv}), want, 1.0,
                   std::string(data_type_name(t)) + " axis " + std::to_string(axis));
    }
  }
}

TEST(Quantize, ZeroPointOfZerosIsAccepted) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {6});
  at::Tensor scale = at::full({6}, 0.1f);
  net.mark_output(
      net.add_quantize(x, constant(net, scale), {}, constant(net, at::zeros({6}, at::kChar)))
          ->output(0));
  at::Tensor xv = random(DataType::kFLOAT, {6}, 4);
  at::Tensor want =
      at::quantize_per_channel(xv, scale.to(at::kDouble), at::zeros({6}, at::kLong), 0, at::kQInt8)
          .int_repr();
  expect_close(run1(net, {xv}), want);
}

TEST(Quantize, NonZeroZeroPointFailsAtRunTime) {
  Network net2;
  Tensor* x2 = net2.add_input("x", DataType::kFLOAT, {3});
  Tensor* zp2 = net2.add_input("zp", DataType::kINT8, {3});
  net2.mark_output(net2.add_quantize(x2, constant(net2, at::full({3}, 0.5f)), {}, zp2)->output(0));
  at::Tensor xv = at::ones({3});
  at::Tensor zv = at::tensor({0, 1, 0}, at::kChar);
  expect_error(
      [&] {
        run1(net2, {xv, zv});
      },
      {"Quantize", "zero point element 1 is 1", "symmetric"}, ErrorCode::kRUNTIME);
}

TEST(Dequantize, Int8PerTensorAndPerChannelMatchATen) {
  for (DataType to : kFloatTypes) {
    at::Tensor q = random(DataType::kINT8, {4, 6}, 5, -128, 127);
    {
      Network net;
      Tensor* x = net.add_input("q", DataType::kINT8, {4, 6});
      at::Tensor scale = at::full({}, 0.037, at::TensorOptions().dtype(to_aten(to)));
      DequantizeAttrs da;
      da.to_type = to;
      net.mark_output(net.add_dequantize(x, constant(net, scale), da)->output(0));
      at::Tensor want = at::dequantize(at::_make_per_tensor_quantized_tensor(q, item(scale, 0), 0))
                            .to(to_aten(to));
      expect_close(run1(net, {q}), want, 1.0, std::string(data_type_name(to)) + " per tensor");
    }
    {
      Network net;
      Tensor* x = net.add_input("q", DataType::kINT8, {4, 6});
      at::Tensor scale =
          random(DataType::kFLOAT, {6}, 6, 0.01, 0.5);  // fp32 scale with any to_type
      DequantizeAttrs da;
      da.to_type = to;
      da.axis = 1;
      net.mark_output(net.add_dequantize(x, constant(net, scale), da)->output(0));
      at::Tensor want = at::dequantize(at::_make_per_channel_quantized_tensor(
                                           q, scale.to(at::kDouble), at::zeros({6}, at::kLong), 1))
                            .to(to_aten(to));
      expect_close(run1(net, {q}), want, 1.0, std::string(data_type_name(to)) + " per channel");
    }
  }
}

TEST(FakeQuantize, Int8PerChannelRoundTripMatchesATen) {
  for (DataType t : kFloatTypes) {
    Network net;
    Tensor* x = net.add_input("x", t, {5, 8});
    at::Tensor scale = random(DataType::kFLOAT, {5}, 7, 0.01, 0.03).to(to_aten(t));
    QuantizeAttrs qa;
    qa.axis = 0;
    DequantizeAttrs da;
    da.axis = 0;
    da.to_type = t;
    Tensor* s = constant(net, scale);
    Tensor* q = net.add_quantize(x, s, qa)->output(0);
    net.mark_output(net.add_dequantize(q, s, da)->output(0));
    at::Tensor xv = random(t, {5, 8}, 8, -3.0, 3.0);
    at::Tensor want =
        at::dequantize(at::quantize_per_channel(xv.to(at::kFloat), scale.to(at::kDouble),
                                                at::zeros({5}, at::kLong), 0, at::kQInt8))
            .to(to_aten(t));
    expect_close(run1(net, {xv}), want, 1.0, std::string(data_type_name(t)));
  }
}

TEST(Quantize, DynamicShapesAtMinOptMax) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 6});
  at::Tensor scale = random(DataType::kFLOAT, {6}, 9, 0.01, 0.05);
  QuantizeAttrs qa;
  qa.axis = 1;
  net.mark_output(net.add_quantize(x, constant(net, scale), qa)->output(0));
  BuilderConfig cfg;
  cfg.profiles.emplace_back();
  cfg.profiles[0].set_dimensions("x", {1, 6}, {3, 6}, {7, 6});
  Runner r(net, cfg);
  for (int64_t n : {1, 3, 7}) {
    at::Tensor xv = random(DataType::kFLOAT, {n, 6}, 10 + static_cast<uint64_t>(n), -3.0, 3.0);
    at::Tensor want = at::quantize_per_channel(xv, scale.to(at::kDouble), at::zeros({6}, at::kLong),
                                               1, at::kQInt8)
                          .int_repr();
    expect_close(r.run({xv}).at(0), want, 1.0, "n=" + std::to_string(n));
  }
}

TEST(Dequantize, DynamicShapesAtMinOptMax) {
  Network net;
  Tensor* x = net.add_input("q", DataType::kINT8, {2, -1});
  at::Tensor scale = at::full({}, 0.125f);
  DequantizeAttrs da;
  da.to_type = DataType::kHALF;
  net.mark_output(net.add_dequantize(x, constant(net, scale), da)->output(0));
  BuilderConfig cfg;
  cfg.profiles.emplace_back();
  cfg.profiles[0].set_dimensions("q", {2, 1}, {2, 4}, {2, 9});
  Runner r(net, cfg);
  for (int64_t n : {1, 4, 9}) {
    at::Tensor q = random(DataType::kINT8, {2, n}, 20 + static_cast<uint64_t>(n), -128, 127);
    at::Tensor want =
        at::dequantize(at::_make_per_tensor_quantized_tensor(q, 0.125, 0)).to(at::kHalf);
    expect_close(r.run({q}).at(0), want, 1.0, "n=" + std::to_string(n));
  }
}

// ---- FP8 / INT4 / FP4 from the format definitions ----

// Expected Quantize output codes (one per element, unpacked) for `x` (float view) and the scale
// for each element.
std::vector<int> expected_codes(DataType out, const at::Tensor& xf, const at::Tensor& sf) {
  std::vector<int> codes;
  for (int64_t i = 0; i < xf.numel(); ++i) {
    float v = item(xf, i) / item(sf, i);
    if (out == DataType::kFP8) codes.push_back(encode_e4m3(v));
    if (out == DataType::kFP4) codes.push_back(encode_e2m1(v));
    if (out == DataType::kINT4) {
      // Round half to even (nearbyint), saturate to [-8, 7]: at::round does half to even.
      auto r = at::clamp(at::round(at::tensor(v)), -8, 7).item<int>();
      codes.push_back(r & 0xf);
    }
  }
  return codes;
}

std::vector<int> output_codes(const OwnedTensor& o) {
  std::vector<int> codes;
  for (int64_t i = 0; i < o.dims.volume(); ++i)
    codes.push_back(is_sub_byte(o.type) ? nibble(o.data, i) : o.data[static_cast<size_t>(i)]);
  return codes;
}

struct ScaleCase {
  std::string what;
  std::vector<int64_t> scale_shape;
  int axis;
};

TEST(Quantize, Fp8Int4Fp4PerTensorPerChannelAndBlocks) {
  std::vector<int64_t> shape{4, 32};
  std::vector<ScaleCase> cases = {{"per tensor", {}, -1},
                                  {"per channel axis 0", {4}, 0},
                                  {"per channel axis 1", {32}, 1},
                                  {"blocks of 16 on the last axis", {4, 2}, -1},
                                  {"blocks of 2 on the second to last axis", {2, 32}, 0}};
  for (DataType out : {DataType::kFP8, DataType::kINT4, DataType::kFP4}) {
    for (DataType t : kFloatTypes) {
      for (const ScaleCase& c : cases) {
        std::string what =
            std::string(data_type_name(out)) + " " + std::string(data_type_name(t)) + " " + c.what;
        double range = out == DataType::kFP8 ? 500.0 : (out == DataType::kFP4 ? 7.0 : 9.0);
        at::Tensor scale = random(DataType::kFLOAT, c.scale_shape, 31, 0.5, 2.0).to(to_aten(t));
        at::Tensor xv = random(t, shape, 32, -range, range);
        Network net;
        Tensor* x = net.add_input("x", t, {4, 32});
        QuantizeAttrs qa;
        qa.axis = c.axis;
        qa.output_type = out;
        net.mark_output(net.add_quantize(x, constant(net, scale), qa)->output(0));
        auto outs = run_engine(net, {xv.data_ptr()});
        ASSERT_EQ(outs.at(0).type, out);
        ASSERT_EQ(outs.at(0).dims, Dims({4, 32}));
        ASSERT_EQ(static_cast<int64_t>(outs.at(0).data.size()), packed_bytes(out, 128));
        // The scale of every element, by expanding the scale over the data.
        at::Tensor sf = scale.to(at::kFloat);
        if (c.scale_shape.empty()) {
          sf = sf.expand(shape);
        } else if (c.scale_shape.size() == 1) {
          sf = c.axis == 0 ? sf.view({4, 1}).expand(shape) : sf.view({1, 32}).expand(shape);
        } else {
          sf = sf.repeat_interleave(4 / c.scale_shape[0], 0)
                   .repeat_interleave(32 / c.scale_shape[1], 1);
        }
        std::vector<int> want = expected_codes(out, xv.to(at::kFloat), sf.contiguous());
        EXPECT_EQ(output_codes(outs.at(0)), want) << what;
      }
    }
  }
}

TEST(Quantize, Fp8AndFp4SaturateAndTieToEven) {
  at::Tensor xv = at::tensor({464.0f, 1000.0f, -1e9f, 0.25f * 0.0f, 5.0f, 7.0f, -100.0f, 2.5f});
  for (DataType out : {DataType::kFP8, DataType::kFP4}) {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, {8});
    QuantizeAttrs qa;
    qa.output_type = out;
    net.mark_output(net.add_quantize(x, constant(net, at::full({}, 1.0f)), qa)->output(0));
    std::vector<int> got = output_codes(run_engine(net, {xv.data_ptr()}).at(0));
    if (out == DataType::kFP8) {
      // 464 ties 448/480 -> 448; beyond saturates to +-448 (0x7e / 0xfe); 5, 7 exact.
      EXPECT_EQ(got, (std::vector<int>{0x7e, 0x7e, 0xfe, 0x00, encode_e4m3(5.0f), encode_e4m3(7.0f),
                                       encode_e4m3(-100.0f), encode_e4m3(2.5f)}));
    } else {
      // 5 ties 4/6 -> 4 (0x6); 7 and 464 saturate to 6 (0x7); 2.5 ties 2/3 -> 2 (0x4).
      EXPECT_EQ(got, (std::vector<int>{0x7, 0x7, 0xf, 0x0, 0x6, 0x7, 0xf, 0x4}));
    }
  }
}

TEST(Dequantize, Fp8Int4Fp4MatchTheFormatDefinitions) {
  for (DataType in : {DataType::kFP8, DataType::kINT4, DataType::kFP4}) {
    for (DataType to : kFloatTypes) {
      // Every code of the format, twice over, as packed engine input.
      int ncodes = in == DataType::kFP8 ? 256 : 16;
      int64_t n = 2 * ncodes;
      std::vector<int> codes;
      for (int64_t i = 0; i < n; ++i) codes.push_back(static_cast<int>((i * 7) % ncodes));
      std::vector<uint8_t> packed(static_cast<size_t>(packed_bytes(in, n)), 0);
      for (int64_t i = 0; i < n; ++i) {
        if (is_sub_byte(in))
          packed[static_cast<size_t>(i / 2)] |= static_cast<uint8_t>(codes[i] << ((i % 2) * 4));
        else
          packed[static_cast<size_t>(i)] = static_cast<uint8_t>(codes[static_cast<size_t>(i)]);
      }
      Network net;
      Tensor* x = net.add_input("q", in, {2, ncodes});
      at::Tensor scale = random(DataType::kFLOAT, {ncodes}, 41, 0.5, 3.0).to(to_aten(to));
      DequantizeAttrs da;
      da.to_type = to;
      da.axis = 1;
      net.mark_output(net.add_dequantize(x, constant(net, scale), da)->output(0));
      auto outs = run_engine(net, {packed.data()});
      at::Tensor got = at::empty({2, ncodes}, to_aten(to));
      std::memcpy(got.data_ptr(), outs.at(0).data.data(), outs.at(0).data.size());
      std::vector<float> want_v;
      for (int64_t i = 0; i < n; ++i) {
        int c = codes[static_cast<size_t>(i)];
        double v = in == DataType::kFP8 ? e4m3_value(c)
                                        : (in == DataType::kFP4 ? e2m1_value(c) : sext4(c));
        want_v.push_back(static_cast<float>(v) * item(scale, i % ncodes));
      }
      at::Tensor want = at::tensor(want_v).view({2, ncodes}).to(to_aten(to));
      expect_close(got, want, 1.0,
                   std::string(data_type_name(in)) + " to " + std::string(data_type_name(to)));
    }
  }
}

TEST(FakeQuantize, Fp8PerTensorAndInt4BlocksRoundTrip) {
  struct Case {
    DataType q;
    std::vector<int64_t> scale_shape;
  };
  for (const Case& c :
       {Case{DataType::kFP8, {}}, Case{DataType::kINT4, {3, 2}}, Case{DataType::kFP4, {3, 2}}}) {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, {3, 16});
    at::Tensor scale = random(DataType::kFLOAT, c.scale_shape, 51, 0.25, 1.0);
    Tensor* s = constant(net, scale);
    QuantizeAttrs qa;
    qa.output_type = c.q;
    Tensor* q = net.add_quantize(x, s, qa)->output(0);
    net.mark_output(net.add_dequantize(q, s)->output(0));
    at::Tensor xv = random(DataType::kFLOAT, {3, 16}, 52, -8.0, 8.0);
    at::Tensor sf = c.scale_shape.empty() ? scale.expand({3, 16}) : scale.repeat_interleave(8, 1);
    sf = sf.contiguous();
    std::vector<int> codes = expected_codes(c.q, xv, sf);
    std::vector<float> want;
    for (int64_t i = 0; i < 48; ++i) {
      int code = codes[static_cast<size_t>(i)];
      double v = c.q == DataType::kFP8 ? e4m3_value(code)
                                       : (c.q == DataType::kFP4 ? e2m1_value(code) : sext4(code));
      want.push_back(static_cast<float>(v) * item(sf, i));
    }
    expect_close(run1(net, {xv}), at::tensor(want).view({3, 16}), 1.0,
                 std::string(data_type_name(c.q)));
  }
}

// ---- DynamicQuantize ----

struct DqResult {
  std::vector<int> data;    // codes, one per element
  std::vector<int> scales;  // E4M3/E8M0 codes (empty for float scales)
  std::vector<float> float_scales;
};

DqResult run_dynamic_quantize(const at::Tensor& xv, int axis, const DynamicQuantizeAttrs& base,
                              std::optional<float> global) {
  Network net;
  Tensor* x = net.add_input("x", from_aten(xv.scalar_type()), dims_of(xv));
  DynamicQuantizeAttrs a = base;
  a.axis = axis;
  Tensor* g = global ? constant(net, at::full({}, *global)) : nullptr;
  Layer* l = net.add_dynamic_quantize(x, g, a);
  net.mark_output(l->output(0));
  net.mark_output(l->output(1));
  at::Tensor c = xv.contiguous();
  auto outs = run_engine(net, {c.data_ptr()});
  DqResult r;
  r.data = output_codes(outs.at(0));
  if (a.scale_type == DataType::kFLOAT) {
    r.float_scales.resize(static_cast<size_t>(outs.at(1).dims.volume()));
    std::memcpy(r.float_scales.data(), outs.at(1).data.data(), outs.at(1).data.size());
  } else {
    r.scales = output_codes(outs.at(1));
  }
  return r;
}

enum class Fmt { kNVFP4, kMXFP8, kFP8Float };
DynamicQuantizeAttrs attrs_for(Fmt f) {
  DynamicQuantizeAttrs a;
  if (f == Fmt::kNVFP4) a = {-1, 16, DataType::kFP4, DataType::kFP8};
  if (f == Fmt::kMXFP8) a = {-1, 32, DataType::kFP8, DataType::kE8M0};
  if (f == Fmt::kFP8Float) a = {-1, 8, DataType::kFP8, DataType::kFLOAT};
  return a;
}

// The expectation from the definitions, for a [rows, cols] float view blocked along `axis`.
DqResult expected_dynamic(const at::Tensor& xf, int axis, Fmt f, int block, float g) {
  at::Tensor x2 = xf.contiguous();
  int rank = static_cast<int>(x2.dim());
  int ax = axis < 0 ? axis + rank : axis;
  // Move the blocked axis last: blocks are then runs of `block` consecutive elements.
  at::Tensor moved = x2.movedim(ax, rank - 1).contiguous();
  std::vector<int64_t> mshape(moved.sizes().begin(), moved.sizes().end());
  int64_t nblocks = moved.numel() / block;
  std::vector<int> data_m(static_cast<size_t>(moved.numel()));
  DqResult r;
  std::vector<int> sc_m(static_cast<size_t>(nblocks));
  std::vector<float> fs_m(static_cast<size_t>(nblocks));
  for (int64_t b = 0; b < nblocks; ++b) {
    float amax = 0.0f;
    for (int k = 0; k < block; ++k) amax = std::max(amax, std::fabs(item(moved, b * block + k)));
    double divisor;
    if (f == Fmt::kNVFP4) {
      int code = encode_e4m3(amax / 6.0f / g);
      sc_m[static_cast<size_t>(b)] = code;
      divisor = static_cast<float>(e4m3_value(code)) * g;
    } else if (f == Fmt::kMXFP8) {
      // The smallest power of two 2^k (k >= -127) with amax / 2^k <= 448.
      int k = -127;
      while (static_cast<double>(amax) > 448.0 * std::ldexp(1.0, k)) ++k;
      sc_m[static_cast<size_t>(b)] = k + 127;
      divisor = std::ldexp(1.0, k);
    } else {
      float s = amax / 448.0f / g;
      fs_m[static_cast<size_t>(b)] = s;
      divisor = s * g;
    }
    for (int k = 0; k < block; ++k) {
      float v = divisor == 0.0 ? 0.0f : item(moved, b * block + k) / static_cast<float>(divisor);
      data_m[static_cast<size_t>(b * block + k)] =
          f == Fmt::kNVFP4 ? encode_e2m1(v) : encode_e4m3(v);
    }
  }
  // Move back to the original layout.
  auto back = [&](const std::vector<int>& v, std::vector<int64_t> shape) {
    at::Tensor t = at::tensor(std::vector<int64_t>(v.begin(), v.end())).view(shape);
    t = t.movedim(rank - 1, ax).contiguous();
    std::vector<int> out;
    for (int64_t i = 0; i < t.numel(); ++i)
      out.push_back(static_cast<int>(t.flatten()[i].item<int64_t>()));
    return out;
  };
  r.data = back(data_m, mshape);
  std::vector<int64_t> sshape = mshape;
  sshape.back() /= block;
  if (f == Fmt::kFP8Float) {
    at::Tensor t = at::tensor(fs_m).view(sshape).movedim(rank - 1, ax).contiguous();
    for (int64_t i = 0; i < t.numel(); ++i) r.float_scales.push_back(item(t, i));
  } else {
    r.scales = back(sc_m, sshape);
  }
  return r;
}

TEST(DynamicQuantize, MatchesTheFormatDefinitionsOnRandomData) {
  struct Case {
    Fmt f;
    std::vector<int64_t> shape;
    int axis;
    float g;
  };
  std::vector<Case> cases = {
      {Fmt::kNVFP4, {4, 64}, -1, 0.5f},    {Fmt::kNVFP4, {2, 32, 3}, 1, 1.0f},
      {Fmt::kNVFP4, {3, 2, 48}, 2, 0.02f}, {Fmt::kMXFP8, {4, 64}, -1, 1.0f},
      {Fmt::kMXFP8, {2, 64, 3}, -2, 1.0f}, {Fmt::kFP8Float, {4, 24}, -1, 2.0f},
      {Fmt::kFP8Float, {16, 5}, 0, 0.25f},
  };
  for (const Case& c : cases) {
    for (DataType t : kFloatTypes) {
      DynamicQuantizeAttrs a = attrs_for(c.f);
      at::Tensor xv = random(t, c.shape, 61, -50.0, 50.0);
      DqResult got = run_dynamic_quantize(xv, c.axis, a,
                                          c.f == Fmt::kMXFP8 ? std::nullopt : std::optional(c.g));
      DqResult want = expected_dynamic(xv.to(at::kFloat), c.axis, c.f, a.block_size, c.g);
      std::string what = std::string(data_type_name(t)) + " axis " + std::to_string(c.axis) +
                         " format " + std::to_string(static_cast<int>(c.f));
      EXPECT_EQ(got.data, want.data) << what;
      EXPECT_EQ(got.scales, want.scales) << what;
      EXPECT_EQ(got.float_scales, want.float_scales) << what;

      // Dequantized error bound: |deq - x| <= half a format step at that magnitude times the
      // block's divisor.
      at::Tensor xf = xv.to(at::kFloat).contiguous();
      int rank = static_cast<int>(c.shape.size());
      int ax = c.axis < 0 ? c.axis + rank : c.axis;
      auto strides = dims_of(xf).strides();
      for (int64_t i = 0; i < xf.numel(); ++i) {
        // Scale index: the element's index with the axis coordinate divided by the block size.
        int64_t rem = i, sidx = 0;
        for (int d = 0; d < rank; ++d) {
          int64_t coord = rem / strides[static_cast<size_t>(d)];
          rem %= strides[static_cast<size_t>(d)];
          int64_t sdim = d == ax ? c.shape[static_cast<size_t>(d)] / a.block_size
                                 : c.shape[static_cast<size_t>(d)];
          sidx = sidx * sdim + (d == ax ? coord / a.block_size : coord);
        }
        double divisor =
            c.f == Fmt::kNVFP4
                ? static_cast<float>(e4m3_value(got.scales[static_cast<size_t>(sidx)])) * c.g
            : c.f == Fmt::kMXFP8 ? std::ldexp(1.0, got.scales[static_cast<size_t>(sidx)] - 127)
                                 : got.float_scales[static_cast<size_t>(sidx)] * c.g;
        int code = got.data[static_cast<size_t>(i)];
        double qv = c.f == Fmt::kNVFP4 ? e2m1_value(code) : e4m3_value(code);
        double x = item(xf, i);
        double bound = (c.f == Fmt::kNVFP4 ? half_gap(x / divisor, 16, 8, e2m1_value)
                                           : half_gap(x / divisor, 256, 0x80, e4m3_value)) *
                       divisor;
        ASSERT_LE(std::fabs(qv * divisor - x), bound) << what << " element " << i;
      }
    }
  }
}

TEST(DynamicQuantize, ZeroBlocksOutliersMidpointsAndSaturation) {
  // One row of four NVFP4 blocks (g = 1).
  std::vector<float> v(64, 0.0f);  // block 0: all zero
  v[16] = 1000.0f;                 // block 1: one outlier among small values
  for (int k = 17; k < 32; ++k) v[static_cast<size_t>(k)] = 0.01f * static_cast<float>(k);
  // Block 2: amax 6 gives scale 1, then values on FP4 midpoints tie to even.
  const float mids[] = {6.0f, 0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, -5.0f, -0.25f};
  for (int k = 0; k < 10; ++k) v[static_cast<size_t>(32 + k)] = mids[k];
  // Block 3: amax / 6 = 1.06 rounds down to the FP8 scale 1, so 6.36 saturates to 6.
  v[48] = 6.36f;
  v[49] = -6.36f;
  at::Tensor xv = at::tensor(v).view({1, 64});
  DqResult got = run_dynamic_quantize(xv, -1, attrs_for(Fmt::kNVFP4), 1.0f);
  ASSERT_EQ(got.scales.size(), 4u);
  EXPECT_EQ(got.scales[0], 0x00);  // all-zero block: scale 0, data 0
  for (int k = 0; k < 16; ++k) EXPECT_EQ(got.data[static_cast<size_t>(k)], 0) << k;
  EXPECT_EQ(got.scales[1], encode_e4m3(1000.0f / 6.0f));
  EXPECT_EQ(got.data[16], 0x7);  // the outlier lands on 6 (or saturates there)
  for (int k = 17; k < 32; ++k) EXPECT_EQ(got.data[static_cast<size_t>(k)], 0) << k;
  EXPECT_EQ(got.scales[2], 0x38);  // 1.0 in E4M3
  const int mid_codes[] = {0x7, 0x0, 0x2, 0x2, 0x4, 0x4, 0x6, 0x6, 0xe, 0x8};
  for (int k = 0; k < 10; ++k)
    EXPECT_EQ(got.data[static_cast<size_t>(32 + k)], mid_codes[k]) << "midpoint " << mids[k];
  EXPECT_EQ(got.scales[3], 0x38);
  EXPECT_EQ(got.data[48], 0x7);
  EXPECT_EQ(got.data[49], 0xf);

  // A global scale too small for the data saturates the FP8 block scale at 448 and the data at
  // 6: 6000 / 6 / 1 = 1000 > 448.
  std::vector<float> big(16, 1.0f);
  big[3] = 6000.0f;
  DqResult sat =
      run_dynamic_quantize(at::tensor(big).view({1, 16}), -1, attrs_for(Fmt::kNVFP4), 1.0f);
  EXPECT_EQ(sat.scales, (std::vector<int>{0x7e}));
  EXPECT_EQ(sat.data[3], 0x7);
  EXPECT_EQ(sat.data[0], encode_e2m1(1.0f / 448.0f));

  // MXFP8: an all-zero block gets the smallest scale (code 0) and zero data; a block whose
  // amax is exactly 448 * 2^k gets 2^k and no saturation.
  std::vector<float> w(64, 0.0f);
  w[32] = 448.0f * 4.0f;
  w[33] = -3.0f;
  DqResult mx =
      run_dynamic_quantize(at::tensor(w).view({1, 64}), -1, attrs_for(Fmt::kMXFP8), std::nullopt);
  EXPECT_EQ(mx.scales, (std::vector<int>{0, 129}));
  for (int k = 0; k < 32; ++k) EXPECT_EQ(mx.data[static_cast<size_t>(k)], 0) << k;
  EXPECT_EQ(mx.data[32], 0x7e);
  EXPECT_EQ(mx.data[33], encode_e4m3(-0.75f));
}

}  // namespace
}  // namespace lktest
