// DataType: the element types of layerkit tensors, their sizes and names, and scalar conversions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace layerkit {

// Spelled as TensorRT spells them. kFP8 is E4M3 (finite-only "fn" variant, max 448); kFP4 is
// E2M1 (max 6, no inf/NaN); kE8M0 is the unsigned power-of-two scale of the OCP MX formats.
enum class DataType : int32_t {
  kFLOAT,
  kHALF,
  kBF16,
  kINT8,
  kUINT8,
  kINT32,
  kINT64,
  kBOOL,
  kFP8,
  kINT4,
  kFP4,
  kE8M0,
};

inline constexpr int kNumDataTypes = 12;

std::string_view data_type_name(DataType t);  // "float32", "float16", "bfloat16", "int8", ...
std::optional<DataType> parse_data_type(std::string_view name);

// Bits per element in a packed buffer (4 for kINT4/kFP4, which store two values per byte).
int data_type_bits(DataType t);
// Bytes needed for `count` elements packed (4-bit types: ceil(count / 2)); throws
// kINVALID_ARGUMENT when they overflow int64 (Note [Size arithmetic] in core/size.h).
int64_t packed_bytes(DataType t, int64_t count);

bool is_floating(DataType t);  // kFLOAT, kHALF, kBF16, kFP8, kFP4, kE8M0
bool is_integer(DataType t);   // kINT8, kUINT8, kINT32, kINT64, kINT4 (not kBOOL)
bool is_sub_byte(DataType t);  // kINT4, kFP4

// Note [Scalar conversions]
// Every conversion between a DataType and float is defined here once, as the formats define it:
// - To fp16/bf16: round to nearest, ties to even; overflow gives +-inf; NaN stays NaN.
// - To FP8 E4M3: round to nearest even. With `saturate` (TensorRT's casts and quantization),
//   finite values beyond +-448 clamp to +-448 and +-inf clamps too; without it they become NaN
//   (E4M3 has no infinity), as torch's float8_e4m3fn does. NaN stays NaN (0x7f / 0xff).
// - To FP4 E2M1: round to nearest even on the grid {0, .5, 1, 1.5, 2, 3, 4, 6}, saturating to
//   +-6; the format has no NaN, so NaN maps to +6 (documented in docs/data_types.md).
// - To E8M0 (2^(e-127), e in 0..254; 0xff is NaN): the nearest power of two by value (a
//   mantissa of exactly 1.5, the midpoint, rounds up), so the result is never below half the input;
//   values <= 2^-127 (and zero, negatives) give 0x00, >= 2^127 gives 0xfe, NaN gives 0xff.
// - Float to integer: truncate toward zero, saturate to the type's range, NaN gives 0.
// - Integer to narrower integer: two's complement wrap, as C++ and torch do.
// - To bool: nonzero (NaN counts as nonzero) is 1.
uint16_t float_to_half_bits(float f);
float half_bits_to_float(uint16_t h);
uint16_t float_to_bf16_bits(float f);
float bf16_bits_to_float(uint16_t h);
uint8_t float_to_fp8e4m3_bits(float f, bool saturate = true);
float fp8e4m3_bits_to_float(uint8_t b);
uint8_t float_to_fp4e2m1_bits(float f);  // low nibble: sign in bit 3
float fp4e2m1_bits_to_float(uint8_t nibble);
uint8_t float_to_e8m0_bits(float f);
float e8m0_bits_to_float(uint8_t b);

// Rounds a float to the nearest value representable in `t` (a float format) and back.
float round_to(DataType t, float f);

}  // namespace layerkit
