// Weights: a typed host buffer, either owned (shared, immutable) or borrowed from the caller.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "layerkit/core/data_type.h"

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
  template <typename T>
  static Weights from_vector(DataType type, const std::vector<T>& v) {
    return copy(type, v.data(), static_cast<int64_t>(v.size()));
  }

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

 private:
  DataType type_ = DataType::kFLOAT;
  int64_t count_ = 0;
  const void* data_ = nullptr;
  std::shared_ptr<const std::vector<uint8_t>> storage_;
};

}  // namespace layerkit
