// Weights: a typed host buffer, either owned (shared, immutable) or borrowed from the caller.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "layerkit/core/data_type.h"
#include "layerkit/core/element_type.h"

namespace layerkit {

// Sub-byte types (kINT4, kFP4) are packed two per byte, element 2i in the low nibble and 2i+1
// in the high nibble of byte i (docs/data_types.md).
class Weights {
 public:
  Weights() = default;

  // Borrowed: the caller keeps `data` alive and unchanged for as long as any network, engine or
  // copy of these Weights uses it.
  static Weights borrow(DataType type, const void* data, int64_t count);
  // Owned: copies `bytes` (packed_bytes(type, count) of them).
  static Weights copy(DataType type, const void* data, int64_t count);
  static Weights zeros(DataType type, int64_t count);
  // Typed copies. The one-argument form takes the type from T (float, int8_t, uint8_t, int32_t,
  // int64_t, bool). The two-argument form checks that T holds `type` (holds_bits_of: the value,
  // or the bits of 16-bit floats in uint16_t and of kBOOL/kFP8/kE8M0 in uint8_t) and throws
  // kINVALID_ARGUMENT otherwise: a std::vector<float> never silently becomes kHALF bytes. To
  // round float values into a narrower float type use from_floats.
  template <typename T>
  static Weights from_vector(const std::vector<T>& v) {
    static_assert(natural_data_type<T>().has_value(),
                  "Weights::from_vector(v): T must be float, int8_t, uint8_t, int32_t, int64_t or "
                  "bool; pass the DataType for the bits of 16-bit floats (uint16_t)");
    return copy(*natural_data_type<T>(), v.data(), static_cast<int64_t>(v.size()));
  }
  template <typename T>
  static Weights from_vector(DataType type, const std::vector<T>& v) {
    check_element_type(type, cpp_type_name<T>(), holds_bits_of<T>(type));
    return copy(type, v.data(), static_cast<int64_t>(v.size()));
  }
  static Weights from_vector(const std::vector<bool>& v);
  static Weights from_vector(DataType type, const std::vector<bool>& v);
  // Rounds each value to `type` (any floating type: kFLOAT, kHALF, kBF16, kFP8, kFP4, kE8M0) as
  // the scalar conversions of docs/data_types.md do, packing sub-byte types.
  static Weights from_floats(DataType type, std::span<const float> values);

  DataType type() const { return type_; }
  int64_t count() const { return count_; }
  int64_t bytes() const { return packed_bytes(type_, count_); }
  const void* data() const { return data_; }
  bool empty() const { return count_ == 0; }
  bool owned() const { return storage_ != nullptr; }

  template <typename T>
  const T* as() const {
    return static_cast<const T*>(data_);
  }
  // The elements as a typed span; throws unless T holds type() (holds_bits_of).
  template <typename T>
  std::span<const T> span() const {
    check_element_type(type_, cpp_type_name<T>(), holds_bits_of<T>(type_));
    return {static_cast<const T*>(data_), static_cast<size_t>(count_)};
  }

 private:
  static void check_element_type(DataType type, const char* element, bool holds);
  DataType type_ = DataType::kFLOAT;
  int64_t count_ = 0;
  const void* data_ = nullptr;
  std::shared_ptr<const std::vector<uint8_t>> storage_;
};

}  // namespace layerkit
