// DataType names, sizes and the scalar conversions of Note [Scalar conversions].
#include "layerkit/core/data_type.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "layerkit/core/error.h"
#include "layerkit/core/size.h"

namespace layerkit {

std::string_view data_type_name(DataType t) {
  switch (t) {
    case DataType::kFLOAT:
      return "float32";
    case DataType::kHALF:
      return "float16";
    case DataType::kBF16:
      return "bfloat16";
    case DataType::kINT8:
      return "int8";
    case DataType::kUINT8:
      return "uint8";
    case DataType::kINT32:
      return "int32";
    case DataType::kINT64:
      return "int64";
    case DataType::kBOOL:
      return "bool";
    case DataType::kFP8:
      return "fp8e4m3";
    case DataType::kINT4:
      return "int4";
    case DataType::kFP4:
      return "fp4e2m1";
    case DataType::kE8M0:
      return "e8m0";
  }
  return "?";
}

std::optional<DataType> parse_data_type(std::string_view name) {
  for (int i = 0; i < kNumDataTypes; ++i) {
    auto t = static_cast<DataType>(i);
    if (data_type_name(t) == name) return t;
  }
  return std::nullopt;
}

int data_type_bits(DataType t) {
  switch (t) {
    case DataType::kFLOAT:
      return 32;
    case DataType::kHALF:
      return 16;
    case DataType::kBF16:
      return 16;
    case DataType::kINT8:
      return 8;
    case DataType::kUINT8:
      return 8;
    case DataType::kINT32:
      return 32;
    case DataType::kINT64:
      return 64;
    case DataType::kBOOL:
      return 8;
    case DataType::kFP8:
      return 8;
    case DataType::kINT4:
      return 4;
    case DataType::kFP4:
      return 4;
    case DataType::kE8M0:
      return 8;
  }
  return 0;
}

int64_t packed_bytes(DataType t, int64_t count) {
  // Whole bytes first, so only a count whose bytes overflow fails (Note [Size arithmetic]).
  const int64_t bits = data_type_bits(t);
  LK_CHECK(count >= 0, "packed_bytes: negative element count ", count);
  if (bits % 8 == 0)
    return checked_mul(count, bits / 8, detail::cat("bytes of ", count, " ", data_type_name(t)));
  return count / 8 * bits + (count % 8 * bits + 7) / 8;
}

bool is_floating(DataType t) {
  switch (t) {
    case DataType::kFLOAT:
    case DataType::kHALF:
    case DataType::kBF16:
    case DataType::kFP8:
    case DataType::kFP4:
    case DataType::kE8M0:
      return true;
    case DataType::kINT8:
    case DataType::kUINT8:
    case DataType::kINT32:
    case DataType::kINT64:
    case DataType::kBOOL:
    case DataType::kINT4:
      return false;
  }
  return false;
}

bool is_integer(DataType t) {
  switch (t) {
    case DataType::kINT8:
    case DataType::kUINT8:
    case DataType::kINT32:
    case DataType::kINT64:
    case DataType::kINT4:
      return true;
    case DataType::kFLOAT:
    case DataType::kHALF:
    case DataType::kBF16:
    case DataType::kFP8:
    case DataType::kFP4:
    case DataType::kE8M0:
    case DataType::kBOOL:
      return false;
  }
  return false;
}

bool is_sub_byte(DataType t) {
  return t == DataType::kINT4 || t == DataType::kFP4;
}

namespace {

// Rounds the finite non-negative value `a` to a binary format with `man_bits` explicit mantissa
// bits, minimum normal exponent `emin`, returning (biased exponent, mantissa) as one integer
// code `(e << man_bits) | m` where e == 0 means subnormal. Ties go to even. The caller handles
// overflow (a code beyond the format's largest).
uint32_t round_to_code(float a, int man_bits, int emin, int bias) {
  if (a == 0.0f) return 0;
  int exp;
  std::frexp(a, &exp);     // a = f * 2^exp, f in [0.5, 1)
  int e = exp - 1;         // a = 1.x * 2^e
  if (e < emin) e = emin;  // subnormal range shares the quantum of the smallest normal
  // Quantum (value of one mantissa ulp) at this exponent.
  float scaled = std::ldexp(a, man_bits - e);  // exact: only exponent changes
  float r = std::nearbyint(scaled);            // default rounding mode: ties to even
  uint32_t q = static_cast<uint32_t>(r);
  // q counts quanta of 2^(e - man_bits); for a normal number q in [2^man_bits, 2^(man_bits+1)].
  if (q == 0) return 0;
  if (q >= (1u << (man_bits + 1))) {  // rounded up into the next binade
    q >>= 1;
    e += 1;
  }
  if (q < (1u << man_bits)) return q;  // subnormal (only possible when e == emin)
  uint32_t biased = static_cast<uint32_t>(e + bias);
  return (biased << man_bits) | (q & ((1u << man_bits) - 1));
}

}  // namespace

uint16_t float_to_half_bits(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  float a = std::fabs(f);
  if (std::isnan(f)) return static_cast<uint16_t>(sign | 0x7e00u);
  if (std::isinf(f)) return static_cast<uint16_t>(sign | 0x7c00u);
  uint32_t code = round_to_code(a, 10, -14, 15);
  if (code >= 0x7c00u) return static_cast<uint16_t>(sign | 0x7c00u);
  return static_cast<uint16_t>(sign | code);
}

float half_bits_to_float(uint16_t h) {
  float sign = (h & 0x8000u) ? -1.0f : 1.0f;
  int e = (h >> 10) & 0x1f;
  int m = h & 0x3ff;
  if (e == 0x1f) return m ? std::copysign(NAN, sign) : sign * INFINITY;
  if (e == 0) return sign * std::ldexp(static_cast<float>(m), -24);
  return sign * std::ldexp(static_cast<float>(m | 0x400), e - 25);
}

uint16_t float_to_bf16_bits(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if (std::isnan(f)) return static_cast<uint16_t>((x >> 16) | 0x0040u);  // keep sign, quiet
  uint32_t lsb = (x >> 16) & 1u;
  x += 0x7fffu + lsb;  // round to nearest even; overflow carries into inf as it should
  return static_cast<uint16_t>(x >> 16);
}

float bf16_bits_to_float(uint16_t h) {
  return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

uint8_t float_to_fp8e4m3_bits(float f, bool saturate) {
  uint8_t sign = std::signbit(f) ? 0x80 : 0x00;
  if (std::isnan(f)) return static_cast<uint8_t>(sign | 0x7f);
  float a = std::fabs(f);
  if (std::isinf(f))
    return saturate ? static_cast<uint8_t>(sign | 0x7e) : static_cast<uint8_t>(sign | 0x7f);
  uint32_t code = round_to_code(a, 3, -6, 7);
  if (code > 0x7e)
    return saturate ? static_cast<uint8_t>(sign | 0x7e) : static_cast<uint8_t>(sign | 0x7f);
  return static_cast<uint8_t>(sign | code);
}

float fp8e4m3_bits_to_float(uint8_t b) {
  float sign = (b & 0x80) ? -1.0f : 1.0f;
  int e = (b >> 3) & 0xf;
  int m = b & 0x7;
  if (e == 0xf && m == 0x7) return std::copysign(NAN, sign);
  if (e == 0) return sign * std::ldexp(static_cast<float>(m), -9);
  return sign * std::ldexp(static_cast<float>(m | 0x8), e - 10);
}

uint8_t float_to_fp4e2m1_bits(float f) {
  if (std::isnan(f)) return 0x7;
  uint8_t sign = std::signbit(f) ? 0x8 : 0x0;
  float a = std::fabs(f);
  if (std::isinf(a)) return static_cast<uint8_t>(sign | 0x7);
  uint32_t code = round_to_code(a, 1, 0, 1);
  if (code > 0x7) code = 0x7;
  return static_cast<uint8_t>(sign | code);
}

float fp4e2m1_bits_to_float(uint8_t nibble) {
  float sign = (nibble & 0x8) ? -1.0f : 1.0f;
  int e = (nibble >> 1) & 0x3;
  int m = nibble & 0x1;
  if (e == 0) return sign * 0.5f * static_cast<float>(m);
  return sign * std::ldexp(static_cast<float>(m | 0x2), e - 2);
}

uint8_t float_to_e8m0_bits(float f) {
  if (std::isnan(f)) return 0xff;
  if (!(f > 0.0f)) return 0x00;
  if (std::isinf(f)) return 0xfe;
  int exp;
  float frac = std::frexp(f, &exp);  // f = frac * 2^exp, frac in [0.5, 1)
  int e = exp - 1;                   // f = (2 * frac) * 2^e
  if (2.0f * frac >= 1.5f) e += 1;
  int biased = e + 127;
  if (biased <= 0) return 0x00;
  if (biased >= 0xfe) return 0xfe;
  return static_cast<uint8_t>(biased);
}

float e8m0_bits_to_float(uint8_t b) {
  if (b == 0xff) return NAN;
  return std::ldexp(1.0f, static_cast<int>(b) - 127);
}

float round_to(DataType t, float f) {
  switch (t) {
    case DataType::kFLOAT:
      return f;
    case DataType::kHALF:
      return half_bits_to_float(float_to_half_bits(f));
    case DataType::kBF16:
      return bf16_bits_to_float(float_to_bf16_bits(f));
    case DataType::kFP8:
      return fp8e4m3_bits_to_float(float_to_fp8e4m3_bits(f));
    case DataType::kFP4:
      return fp4e2m1_bits_to_float(float_to_fp4e2m1_bits(f));
    case DataType::kE8M0:
      return e8m0_bits_to_float(float_to_e8m0_bits(f));
    case DataType::kINT8:
    case DataType::kUINT8:
    case DataType::kINT32:
    case DataType::kINT64:
    case DataType::kBOOL:
    case DataType::kINT4:
      break;
  }
  LK_FAIL(kINVALID_ARGUMENT, "round_to: ", data_type_name(t), " is not a floating-point type");
}

}  // namespace layerkit
