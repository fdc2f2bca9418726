// Weights factories.
#include "layerkit/core/weights.h"

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

}  // namespace layerkit
