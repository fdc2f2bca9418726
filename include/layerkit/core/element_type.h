// C++ element types and the DataTypes whose host buffers they read: what typed factories
// (Weights::from_vector, HostConstant::of) deduce and what typed views (OwnedTensor::as) check.
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>

#include "layerkit/core/data_type.h"

namespace layerkit {

// The DataType a std::vector<T> or std::span<T> holds by value: float, int8_t, uint8_t, int32_t,
// int64_t and bool. Other C++ types have none (double has no layer type; 16-bit floats are
// carried as their uint16_t bits, see holds_bits_of).
template <typename T>
constexpr std::optional<DataType> natural_data_type() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, float>) return DataType::kFLOAT;
  if constexpr (std::is_same_v<U, int8_t>) return DataType::kINT8;
  if constexpr (std::is_same_v<U, uint8_t>) return DataType::kUINT8;
  if constexpr (std::is_same_v<U, int32_t>) return DataType::kINT32;
  if constexpr (std::is_same_v<U, int64_t>) return DataType::kINT64;
  if constexpr (std::is_same_v<U, bool>) return DataType::kBOOL;
  return std::nullopt;
}

// True when elements of `type` are stored one per T on the host, as their value (T's natural
// type) or as their raw bits (uint16_t for kHALF/kBF16; uint8_t for kBOOL, kFP8 and kE8M0).
// Sub-byte types (kINT4, kFP4) are packed two per byte and match no T.
template <typename T>
constexpr bool holds_bits_of(DataType type) {
  using U = std::remove_cv_t<T>;
  if (natural_data_type<U>() == type) return true;
  if constexpr (std::is_same_v<U, uint16_t>)
    return type == DataType::kHALF || type == DataType::kBF16;
  if constexpr (std::is_same_v<U, uint8_t>)
    return type == DataType::kBOOL || type == DataType::kFP8 || type == DataType::kE8M0;
  return false;
}

// The C++ spelling of T for error messages.
template <typename T>
constexpr const char* cpp_type_name() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, float>) return "float";
  if constexpr (std::is_same_v<U, double>) return "double";
  if constexpr (std::is_same_v<U, bool>) return "bool";
  if constexpr (std::is_same_v<U, int8_t>) return "int8_t";
  if constexpr (std::is_same_v<U, uint8_t>) return "uint8_t";
  if constexpr (std::is_same_v<U, int16_t>) return "int16_t";
  if constexpr (std::is_same_v<U, uint16_t>) return "uint16_t";
  if constexpr (std::is_same_v<U, int32_t>) return "int32_t";
  if constexpr (std::is_same_v<U, uint32_t>) return "uint32_t";
  if constexpr (std::is_same_v<U, int64_t>) return "int64_t";
  if constexpr (std::is_same_v<U, uint64_t>) return "uint64_t";
  return "(unsupported element type)";
}

}  // namespace layerkit
