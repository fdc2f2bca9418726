// Tests of DataType names, sizes and the scalar conversions of Note [Scalar conversions]:
// exhaustive over the 8- and 4-bit formats against decoders written here from the format
// definitions, and fp16/bf16 against c10::Half / c10::BFloat16.
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <random>

#include "test_util.h"

namespace lktest {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// (-1)^s * 2^(e - bias) * (1 + m / 2^M) for normals, (-1)^s * 2^(1 - bias) * (m / 2^M) for e == 0.
double decode_minifloat(uint32_t code, int exp_bits, int man_bits, int bias) {
  uint32_t s = code >> (exp_bits + man_bits);
  uint32_t e = (code >> man_bits) & ((1u << exp_bits) - 1);
  uint32_t m = code & ((1u << man_bits) - 1);
  double frac = static_cast<double>(m) / std::pow(2.0, man_bits);
  double mag = e == 0 ? std::pow(2.0, 1 - bias) * frac
                      : std::pow(2.0, static_cast<int>(e) - bias) * (1.0 + frac);
  return s ? -mag : mag;
}

// FP8 E4M3 (fn variant): bias 7, no infinities, NaN at 0x7f / 0xff.
double ref_e4m3(uint8_t b) {
  if ((b & 0x7f) == 0x7f) return kNaN;
  return decode_minifloat(b, 4, 3, 7);
}
// FP4 E2M1: bias 1, no NaN or infinity.
double ref_e2m1(uint8_t n) {
  return decode_minifloat(n, 2, 1, 1);
}
// E8M0: 2^(b - 127), 0xff is NaN.
double ref_e8m0(uint8_t b) {
  return b == 0xff ? kNaN : std::pow(2.0, static_cast<int>(b) - 127);
}

bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
}

TEST(DataType, E4M3DecodesEveryCodeAndRoundTrips) {
  for (int c = 0; c < 256; ++c) {
    auto b = static_cast<uint8_t>(c);
    double want = ref_e4m3(b);
    float got = fp8e4m3_bits_to_float(b);
    EXPECT_TRUE(same(got, want)) << "code " << c << ": got " << got << ", want " << want;
    if (std::isnan(want)) {
      EXPECT_EQ(std::signbit(got), (c & 0x80) != 0) << c;
    }
    EXPECT_EQ(float_to_fp8e4m3_bits(got, true), b) << "code " << c;
    EXPECT_EQ(float_to_fp8e4m3_bits(got, false), b) << "code " << c;
  }
  EXPECT_EQ(fp8e4m3_bits_to_float(0x7e), 448.0f);
  EXPECT_EQ(fp8e4m3_bits_to_float(0x01), std::ldexp(1.0f, -9));
}

TEST(DataType, E2M1DecodesEveryCodeAndRoundTrips) {
  const float grid[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  for (int c = 0; c < 16; ++c) {
    auto n = static_cast<uint8_t>(c);
    double want = ref_e2m1(n);
    float got = fp4e2m1_bits_to_float(n);
    EXPECT_TRUE(same(got, want)) << "code " << c << ": got " << got << ", want " << want;
    EXPECT_EQ(std::fabs(got), grid[c & 7]) << c;
    EXPECT_EQ(float_to_fp4e2m1_bits(got), n) << "code " << c;
  }
}

TEST(DataType, E8M0DecodesEveryCodeAndRoundTrips) {
  for (int c = 0; c < 256; ++c) {
    auto b = static_cast<uint8_t>(c);
    double want = ref_e8m0(b);
    float got = e8m0_bits_to_float(b);
    EXPECT_TRUE(same(got, want)) << "code " << c << ": got " << got << ", want " << want;
    EXPECT_EQ(float_to_e8m0_bits(got), b) << "code " << c;
  }
}

// The sweep every encoder is checked on: random bit patterns, random values in [-range, range],
// every midpoint between adjacent codes of `table` (same sign) and the floats just beside them.
std::vector<float> sweep(const std::vector<double>& values, double range, int n_random,
                         uint64_t seed) {
  std::vector<float> xs;
  std::mt19937_64 rng(seed);
  for (int i = 0; i < n_random; ++i) {
    xs.push_back(std::bit_cast<float>(static_cast<uint32_t>(rng())));
    xs.push_back(static_cast<float>(std::uniform_real_distribution<double>(-range, range)(rng)));
  }
  std::vector<double> sorted;
  for (double v : values)
    if (!std::isnan(v)) sorted.push_back(v);
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    auto mid = static_cast<float>((sorted[i] + sorted[i + 1]) / 2);  // exact for these formats
    xs.push_back(mid);
    xs.push_back(std::nextafter(mid, INFINITY));
    xs.push_back(std::nextafter(mid, -INFINITY));
    xs.push_back(static_cast<float>(sorted[i]));
  }
  for (float v : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, std::numeric_limits<float>::max(),
                  -std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min(),
                  std::numeric_limits<float>::min()})
    xs.push_back(v);
  return xs;
}

// Nearest code of the same sign by brute force over `table` (value per code, NaN entries
// skipped), ties to the even code.
int nearest_code(double x, const std::vector<double>& table, int sign_bit) {
  // Far beyond the table, distances to its top values differ by less than a double ulp; any
  // value past twice the largest rounds like twice the largest.
  double top = 0;
  for (double v : table)
    if (!std::isnan(v)) top = std::max(top, std::fabs(v));
  if (std::fabs(x) > 2 * top) x = std::copysign(2 * top, x);
  int best = -1;
  double best_d = INFINITY;
  for (int c = 0; c < static_cast<int>(table.size()); ++c) {
    if (((c & sign_bit) != 0) != std::signbit(x)) continue;
    double v = table[static_cast<size_t>(c)];
    if (std::isnan(v)) continue;
    double d = std::fabs(v - x);
    if (d < best_d || (d == best_d && (c & 1) == 0)) {
      best = c;
      best_d = d;
    }
  }
  return best;
}

TEST(DataType, E4M3RoundsToNearestEvenAndSaturatesAsTheNoteSays) {
  std::vector<double> values;
  for (int c = 0; c < 256; ++c) values.push_back(ref_e4m3(static_cast<uint8_t>(c)));
  values.push_back(480.0);  // where the next binade's first step would be: rounding boundary 464
  values.push_back(-480.0);
  std::vector<float> xs = sweep(values, 600.0, 200000, 7);
  for (float v : {464.0f, 465.0f, 463.99f, 448.0f, 480.0f, 1e30f, -464.0f, -470.0f})
    xs.push_back(v);
  std::vector<double> table;
  for (int c = 0; c < 256; ++c)
    table.push_back((c & 0x7f) == 0x7f ? ((c & 0x80) ? -480.0 : 480.0)
                                       : ref_e4m3(static_cast<uint8_t>(c)));
  // 0x7f stands for the first value past the maximum (480): choosing it means overflow.
  int checked = 0;
  for (float x : xs) {
    uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
    uint8_t want_sat, want_nosat;
    if (std::isnan(x)) {
      want_sat = want_nosat = sign | 0x7f;
    } else if (std::isinf(x)) {
      want_sat = sign | 0x7e;  // inf clamps with saturation, is NaN without
      want_nosat = sign | 0x7f;
    } else {
      int c = nearest_code(x, table, 0x80);
      bool overflow = (c & 0x7f) == 0x7f;
      want_sat = static_cast<uint8_t>(overflow ? (sign | 0x7e) : c);
      want_nosat = static_cast<uint8_t>(overflow ? (sign | 0x7f) : c);
    }
    ASSERT_EQ(float_to_fp8e4m3_bits(x, true), want_sat) << "x = " << x;
    ASSERT_EQ(float_to_fp8e4m3_bits(x, false), want_nosat) << "x = " << x;
    ++checked;
  }
  EXPECT_GT(checked, 400000);
  // Spot checks of the boundaries: 464 is the tie between 448 (even) and 480.
  EXPECT_EQ(float_to_fp8e4m3_bits(464.0f, false), 0x7e);
  EXPECT_EQ(float_to_fp8e4m3_bits(std::nextafter(464.0f, 1e9f), false), 0x7f);
  EXPECT_EQ(float_to_fp8e4m3_bits(1e9f, true), 0x7e);
  EXPECT_EQ(float_to_fp8e4m3_bits(-1e9f, true), 0xfe);
  EXPECT_EQ(float_to_fp8e4m3_bits(std::ldexp(1.0f, -10), true), 0x00);  // tie 0 / 2^-9 -> 0
  EXPECT_EQ(float_to_fp8e4m3_bits(3 * std::ldexp(1.0f, -10), true), 0x02);
}

TEST(DataType, E2M1RoundsToNearestEvenAndSaturates) {
  std::vector<double> values;
  for (int c = 0; c < 16; ++c) values.push_back(ref_e2m1(static_cast<uint8_t>(c)));
  std::vector<float> xs = sweep(values, 10.0, 200000, 8);
  for (float v : {5.0f, 7.0f, 8.0f, 6.5f, 0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, -5.0f, 1e30f})
    xs.push_back(v);
  for (float x : xs) {
    uint8_t sign = std::signbit(x) ? 0x8 : 0x0;
    uint8_t want;
    if (std::isnan(x)) {
      want = 0x7;  // no NaN in E2M1: the Note maps NaN to +6
    } else if (std::isinf(x)) {
      want = sign | 0x7;
    } else {
      want = static_cast<uint8_t>(nearest_code(x, values, 0x8));
    }
    ASSERT_EQ(float_to_fp4e2m1_bits(x), want) << "x = " << x;
  }
  EXPECT_EQ(float_to_fp4e2m1_bits(5.0f), 0x6);   // tie 4 (even) / 6
  EXPECT_EQ(float_to_fp4e2m1_bits(0.25f), 0x0);  // tie 0 (even) / 0.5
  EXPECT_EQ(float_to_fp4e2m1_bits(-100.0f), 0xf);
}

TEST(DataType, E8M0RoundsToNearestPowerOfTwoTiesUp) {
  std::vector<double> values;
  for (int c = 0; c < 256; ++c) values.push_back(ref_e8m0(static_cast<uint8_t>(c)));
  std::vector<float> xs = sweep(values, 1e6, 200000, 9);
  for (float x : xs) {
    uint8_t want;
    if (std::isnan(x)) {
      want = 0xff;
    } else if (!(x > 0.0f)) {
      want = 0x00;  // zero and negatives: the smallest scale
    } else if (std::isinf(x)) {
      want = 0xfe;
    } else {
      // Nearest of 2^-127 .. 2^127; the Note breaks ties (mantissa exactly 1.5) upward.
      int best = 0;
      double best_d = INFINITY;
      for (int c = 0; c < 255; ++c) {
        double d = std::fabs(values[static_cast<size_t>(c)] - x);
        if (d <= best_d) {
          best = c;
          best_d = d;
        }
      }
      want = static_cast<uint8_t>(best);
    }
    ASSERT_EQ(float_to_e8m0_bits(x), want) << "x = " << x;
  }
  EXPECT_EQ(float_to_e8m0_bits(1.5f), 128);
  EXPECT_EQ(float_to_e8m0_bits(std::nextafter(1.5f, 0.0f)), 127);
  EXPECT_EQ(float_to_e8m0_bits(3e38f), 0xfe);
  EXPECT_EQ(float_to_e8m0_bits(std::numeric_limits<float>::denorm_min()), 0x00);
}

bool half_same(uint16_t a, uint16_t b) {
  auto nan = [](uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); };
  return a == b || (nan(a) && nan(b));
}
bool bf16_same(uint16_t a, uint16_t b) {
  auto nan = [](uint16_t h) { return (h & 0x7f80) == 0x7f80 && (h & 0x7f); };
  return a == b || (nan(a) && nan(b));  // NaN payload and sign are not specified
}

TEST(DataType, HalfAndBFloat16DecodeAsC10) {
  for (uint32_t i = 0; i < 65536; ++i) {
    auto h = static_cast<uint16_t>(i);
    float want_h = static_cast<float>(c10::Half(h, c10::Half::from_bits()));
    float want_b = static_cast<float>(c10::BFloat16(h, c10::BFloat16::from_bits()));
    ASSERT_TRUE(same(half_bits_to_float(h), want_h)) << "half bits " << i;
    ASSERT_TRUE(same(bf16_bits_to_float(h), want_b)) << "bf16 bits " << i;
    // Re-encoding a decoded value gives the canonical bits back (NaN: some NaN).
    ASSERT_TRUE(half_same(float_to_half_bits(want_h), h)) << i;
    ASSERT_TRUE(bf16_same(float_to_bf16_bits(want_b), h)) << i;
  }
}

TEST(DataType, HalfAndBFloat16EncodeAsC10) {
  std::vector<double> halves, bf16s;
  for (uint32_t i = 0; i < 65536; ++i) {
    halves.push_back(
        static_cast<float>(c10::Half(static_cast<uint16_t>(i), c10::Half::from_bits())));
    bf16s.push_back(
        static_cast<float>(c10::BFloat16(static_cast<uint16_t>(i), c10::BFloat16::from_bits())));
  }
  halves.push_back(65536.0);  // the would-be next value: midpoint 65520 is the overflow boundary
  std::vector<float> xs = sweep(halves, 70000.0, 400000, 10);
  std::vector<float> more = sweep(bf16s, 1e38, 100000, 11);
  xs.insert(xs.end(), more.begin(), more.end());
  const float tiny = std::ldexp(1.0f, -24);  // smallest fp16 subnormal
  for (float v : {65504.0f, 65519.99f, 65520.0f, std::nextafter(65520.0f, 0.0f), -65520.0f,
                  tiny / 2, std::nextafter(tiny / 2, 1.0f), 3 * tiny / 2,
                  std::nextafter(3 * tiny / 2, 0.0f), -tiny / 2, tiny})
    xs.push_back(v);
  ASSERT_GE(xs.size(), 1000000u);
  for (float x : xs) {
    ASSERT_TRUE(half_same(float_to_half_bits(x), c10::Half(x).x)) << "x = " << x;
    ASSERT_TRUE(bf16_same(float_to_bf16_bits(x), c10::BFloat16(x).x)) << "x = " << x;
  }
  EXPECT_EQ(float_to_half_bits(65519.99f), 0x7bff);
  EXPECT_EQ(float_to_half_bits(65520.0f), 0x7c00);
  EXPECT_EQ(float_to_half_bits(tiny / 2), 0x0000);      // tie to even: 0
  EXPECT_EQ(float_to_half_bits(3 * tiny / 2), 0x0002);  // tie to even: 2 * tiny
  EXPECT_TRUE(std::isnan(half_bits_to_float(float_to_half_bits(NAN))));
  EXPECT_TRUE(std::isnan(bf16_bits_to_float(float_to_bf16_bits(-NAN))));
}

TEST(DataType, NamesRoundTripAndSizes) {
  for (int i = 0; i < kNumDataTypes; ++i) {
    auto t = static_cast<DataType>(i);
    auto parsed = parse_data_type(data_type_name(t));
    ASSERT_TRUE(parsed.has_value()) << data_type_name(t);
    EXPECT_EQ(*parsed, t);
  }
  EXPECT_FALSE(parse_data_type("float").has_value());
  EXPECT_FALSE(parse_data_type("").has_value());
  EXPECT_EQ(data_type_name(DataType::kFP8), "fp8e4m3");
  EXPECT_EQ(data_type_name(DataType::kFP4), "fp4e2m1");
  EXPECT_EQ(packed_bytes(DataType::kFLOAT, 3), 12);
  EXPECT_EQ(packed_bytes(DataType::kHALF, 3), 6);
  EXPECT_EQ(packed_bytes(DataType::kINT64, 2), 16);
  EXPECT_EQ(packed_bytes(DataType::kBOOL, 5), 5);
  EXPECT_EQ(packed_bytes(DataType::kFP8, 5), 5);
  EXPECT_EQ(packed_bytes(DataType::kE8M0, 5), 5);
  EXPECT_EQ(packed_bytes(DataType::kINT4, 5), 3);
  EXPECT_EQ(packed_bytes(DataType::kFP4, 4), 2);
  EXPECT_EQ(packed_bytes(DataType::kFP4, 0), 0);
  EXPECT_EQ(data_type_bits(DataType::kINT4), 4);
  EXPECT_TRUE(is_sub_byte(DataType::kFP4));
  EXPECT_FALSE(is_sub_byte(DataType::kFP8));
  EXPECT_TRUE(is_floating(DataType::kE8M0));
  EXPECT_TRUE(is_integer(DataType::kINT4));
  EXPECT_FALSE(is_integer(DataType::kBOOL));
}

TEST(DataType, RoundToMatchesTheEncoders) {
  EXPECT_EQ(round_to(DataType::kFP4, 5.1f), 6.0f);
  EXPECT_EQ(round_to(DataType::kFP8, 500.0f), 448.0f);  // saturating, as TensorRT's casts
  EXPECT_EQ(round_to(DataType::kHALF, 1.0f + std::ldexp(1.0f, -11)), 1.0f);
  EXPECT_EQ(round_to(DataType::kBF16, 1.0f + std::ldexp(1.0f, -8)), 1.0f);
  EXPECT_EQ(round_to(DataType::kE8M0, 3.0f), 4.0f);
  expect_error([] { round_to(DataType::kINT8, 1.0f); }, {"round_to", "int8"});
}

}  // namespace
}  // namespace lktest
