// Host element representation: packing and scalar element access (see core/element.h).
#include "core/element.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace layerkit {

int64_t element_size(DataType t) {
  return is_sub_byte(t) ? 1 : data_type_bits(t) / 8;
}

void unpack(DataType t, const void* packed, void* out, int64_t count) {
  if (!is_sub_byte(t)) {
    if (count > 0) std::memcpy(out, packed, static_cast<size_t>(count * element_size(t)));
    return;
  }
  auto* src = static_cast<const uint8_t*>(packed);
  auto* dst = static_cast<uint8_t*>(out);
  for (int64_t i = 0; i < count; ++i) {
    uint8_t nib = (src[i / 2] >> ((i % 2) * 4)) & 0xf;
    if (t == DataType::kINT4) {
      dst[i] = static_cast<uint8_t>(static_cast<int8_t>(nib << 4) >> 4);  // sign-extend
    } else {
      dst[i] = nib;
    }
  }
}

void pack(DataType t, const void* in, void* packed, int64_t count) {
  if (count <= 0) return;  // empty buffers may be null
  if (!is_sub_byte(t)) {
    std::memcpy(packed, in, static_cast<size_t>(count * element_size(t)));
    return;
  }
  auto* src = static_cast<const uint8_t*>(in);
  auto* dst = static_cast<uint8_t*>(packed);
  std::memset(dst, 0, static_cast<size_t>((count + 1) / 2));
  for (int64_t i = 0; i < count; ++i)
    dst[i / 2] = static_cast<uint8_t>(dst[i / 2] | ((src[i] & 0xf) << ((i % 2) * 4)));
}

namespace {
template <typename T>
T load(const void* p, int64_t i) {
  T v;
  std::memcpy(&v, static_cast<const char*>(p) + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
  return v;
}
template <typename T>
void store(void* p, int64_t i, T v) {
  std::memcpy(static_cast<char*>(p) + i * static_cast<int64_t>(sizeof(T)), &v, sizeof(T));
}
// Float to integer: truncate toward zero, saturate, NaN -> 0 (Note [Scalar conversions]).
int64_t float_to_int(float v, int64_t lo, int64_t hi) {
  if (std::isnan(v)) return 0;
  double t = std::trunc(static_cast<double>(v));
  if (t <= static_cast<double>(lo)) return lo;
  if (t >= static_cast<double>(hi)) return hi;
  return static_cast<int64_t>(t);
}
}  // namespace

float load_f(DataType t, const void* p, int64_t i) {
  switch (t) {
    case DataType::kFLOAT:
      return load<float>(p, i);
    case DataType::kHALF:
      return half_bits_to_float(load<uint16_t>(p, i));
    case DataType::kBF16:
      return bf16_bits_to_float(load<uint16_t>(p, i));
    case DataType::kINT8:
      return static_cast<float>(load<int8_t>(p, i));
    case DataType::kUINT8:
      return static_cast<float>(load<uint8_t>(p, i));
    case DataType::kINT32:
      return static_cast<float>(load<int32_t>(p, i));
    case DataType::kINT64:
      return static_cast<float>(load<int64_t>(p, i));
    case DataType::kBOOL:
      return load<uint8_t>(p, i) ? 1.0f : 0.0f;
    case DataType::kFP8:
      return fp8e4m3_bits_to_float(load<uint8_t>(p, i));
    case DataType::kINT4:
      return static_cast<float>(load<int8_t>(p, i));
    case DataType::kFP4:
      return fp4e2m1_bits_to_float(load<uint8_t>(p, i));
    case DataType::kE8M0:
      return e8m0_bits_to_float(load<uint8_t>(p, i));
  }
  return 0.0f;
}

void store_f(DataType t, void* p, int64_t i, float v) {
  switch (t) {
    case DataType::kFLOAT:
      store<float>(p, i, v);
      return;
    case DataType::kHALF:
      store<uint16_t>(p, i, float_to_half_bits(v));
      return;
    case DataType::kBF16:
      store<uint16_t>(p, i, float_to_bf16_bits(v));
      return;
    case DataType::kINT8:
      store<int8_t>(p, i, static_cast<int8_t>(float_to_int(v, -128, 127)));
      return;
    case DataType::kUINT8:
      store<uint8_t>(p, i, static_cast<uint8_t>(float_to_int(v, 0, 255)));
      return;
    case DataType::kINT32:
      store<int32_t>(p, i,
                     static_cast<int32_t>(float_to_int(v, std::numeric_limits<int32_t>::min(),
                                                       std::numeric_limits<int32_t>::max())));
      return;
    case DataType::kINT64:
      store<int64_t>(p, i,
                     float_to_int(v, std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max()));
      return;
    case DataType::kBOOL:
      store<uint8_t>(p, i, v != 0.0f ? 1 : 0);
      return;
    case DataType::kFP8:
      store<uint8_t>(p, i, float_to_fp8e4m3_bits(v));
      return;
    case DataType::kINT4:
      store<int8_t>(p, i, static_cast<int8_t>(float_to_int(v, -8, 7)));
      return;
    case DataType::kFP4:
      store<uint8_t>(p, i, float_to_fp4e2m1_bits(v));
      return;
    case DataType::kE8M0:
      store<uint8_t>(p, i, float_to_e8m0_bits(v));
      return;
  }
}

int64_t wrap_int(DataType t, int64_t v) {
  switch (t) {
    case DataType::kINT8:
      return static_cast<int8_t>(v);
    case DataType::kUINT8:
      return static_cast<uint8_t>(v);
    case DataType::kINT32:
      return static_cast<int32_t>(v);
    case DataType::kINT4:
      return static_cast<int8_t>(static_cast<int8_t>((v & 0xf) << 4) >> 4);
    case DataType::kBOOL:
      return v != 0 ? 1 : 0;
    default:
      return v;
  }
}

int64_t load_i(DataType t, const void* p, int64_t i) {
  switch (t) {
    case DataType::kINT8:
      return load<int8_t>(p, i);
    case DataType::kUINT8:
      return load<uint8_t>(p, i);
    case DataType::kINT32:
      return load<int32_t>(p, i);
    case DataType::kINT64:
      return load<int64_t>(p, i);
    case DataType::kBOOL:
      return load<uint8_t>(p, i) ? 1 : 0;
    case DataType::kINT4:
      return load<int8_t>(p, i);
    case DataType::kFLOAT:
    case DataType::kHALF:
    case DataType::kBF16:
    case DataType::kFP8:
    case DataType::kFP4:
    case DataType::kE8M0:
      return float_to_int(load_f(t, p, i), std::numeric_limits<int64_t>::min(),
                          std::numeric_limits<int64_t>::max());
  }
  return 0;
}

void store_i(DataType t, void* p, int64_t i, int64_t v) {
  switch (t) {
    case DataType::kINT8:
      store<int8_t>(p, i, static_cast<int8_t>(v));
      return;
    case DataType::kUINT8:
      store<uint8_t>(p, i, static_cast<uint8_t>(v));
      return;
    case DataType::kINT32:
      store<int32_t>(p, i, static_cast<int32_t>(v));
      return;
    case DataType::kINT64:
      store<int64_t>(p, i, v);
      return;
    case DataType::kBOOL:
      store<uint8_t>(p, i, v != 0 ? 1 : 0);
      return;
    case DataType::kINT4: {
      // Two's complement wrap to 4 bits.
      auto w = static_cast<int8_t>(static_cast<int8_t>((v & 0xf) << 4) >> 4);
      store<int8_t>(p, i, w);
      return;
    }
    case DataType::kFLOAT:
    case DataType::kHALF:
    case DataType::kBF16:
    case DataType::kFP8:
    case DataType::kFP4:
    case DataType::kE8M0:
      store_f(t, p, i, static_cast<float>(v));
      return;
  }
}

}  // namespace layerkit
