// Weights factories.
#include "layerkit/core/weights.h"

#include "core/element.h"
#include "layerkit/core/error.h"

namespace layerkit {

Weights Weights::borrow(DataType type, const void* data, int64_t count) {
  LK_CHECK(count >= 0, "Weights: negative count ", count);
  LK_CHECK(count == 0 || data != nullptr, "Weights: null data for ", count, " elements");
  Weights w;
  w.type_ = type;
  w.count_ = count;
  w.data_ = data;
  return w;
}

Weights Weights::copy(DataType type, const void* data, int64_t count) {
  LK_CHECK(count >= 0, "Weights: negative count ", count);
  LK_CHECK(count == 0 || data != nullptr, "Weights: null data for ", count, " elements");
  auto storage =
      std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(packed_bytes(type, count)));
  if (!storage->empty()) std::memcpy(storage->data(), data, storage->size());
  Weights w;
  w.type_ = type;
  w.count_ = count;
  w.data_ = storage->data();
  w.storage_ = std::move(storage);
  return w;
}

Weights Weights::zeros(DataType type, int64_t count) {
  LK_CHECK(count >= 0, "Weights: negative count ", count);
  auto storage =
      std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(packed_bytes(type, count)));
  Weights w;
  w.type_ = type;
  w.count_ = count;
  w.data_ = storage->data();
  w.storage_ = std::move(storage);
  return w;
}

void Weights::check_element_type(DataType type, const char* element, bool holds) {
  if (holds) return;
  if (is_sub_byte(type))
    LK_FAIL(kINVALID_ARGUMENT, "Weights: ", data_type_name(type),
            " elements are packed two per byte; no std::vector<", element,
            "> holds them (use Weights::copy with the packed bytes, or Weights::from_floats)");
  std::string hint;
  if (std::string_view(element) == "float" && is_floating(type))
    hint = detail::cat("; to round float values to ", data_type_name(type),
                       " use Weights::from_floats(DataType::k..., values)");
  else if (type == DataType::kHALF || type == DataType::kBF16)
    hint = "; pass std::vector<uint16_t> holding the bits";
  LK_FAIL(kINVALID_ARGUMENT, "Weights: a std::vector<", element, "> does not hold ",
          data_type_name(type), " elements (its bytes would be reinterpreted)", hint);
}

Weights Weights::from_vector(const std::vector<bool>& v) {
  return from_vector(DataType::kBOOL, v);
}

Weights Weights::from_vector(DataType type, const std::vector<bool>& v) {
  check_element_type(type, "bool", type == DataType::kBOOL);
  Weights w = zeros(type, static_cast<int64_t>(v.size()));
  auto* p = static_cast<uint8_t*>(const_cast<void*>(w.data_));
  for (size_t i = 0; i < v.size(); ++i) p[i] = v[i] ? 1 : 0;
  return w;
}

Weights Weights::from_floats(DataType type, std::span<const float> values) {
  LK_CHECK(is_floating(type), "Weights::from_floats: ", data_type_name(type),
           " is not a floating type (use from_vector with the integer values)");
  const auto n = static_cast<int64_t>(values.size());
  if (type == DataType::kFLOAT) return copy(type, values.data(), n);
  // Host representation first (one element per byte for kFP4), then packed.
  std::vector<uint8_t> host(static_cast<size_t>(n * element_size(type)));
  for (int64_t i = 0; i < n; ++i) store_f(type, host.data(), i, values[static_cast<size_t>(i)]);
  Weights w = zeros(type, n);
  pack(type, host.data(), const_cast<void*>(w.data_), n);
  return w;
}

}  // namespace layerkit
