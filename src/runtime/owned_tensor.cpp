// OwnedTensor's typed views (the checks behind as<T>(), the float conversion) and the allocator
// that fills OwnedTensors.
#include "core/element.h"
#include "layerkit/core/error.h"
#include "layerkit/core/size.h"
#include "layerkit/runtime/executor.h"

namespace layerkit {

void OwnedTensor::check_typed_view(const char* element, bool holds) const {
  LK_CHECK(device == DeviceType::kCPU, "OwnedTensor::as<", element, ">: the data is in ",
           device_type_name(device), " memory; copy it to the host first");
  LK_CHECK(!is_sub_byte(type), "OwnedTensor::as<", element, ">: ", data_type_name(type),
           " elements are packed two per byte; use to_floats() or read the bytes");
  LK_CHECK(holds, "OwnedTensor::as<", element, ">: the tensor holds ", data_type_name(type),
           dims.to_string(), " elements, which a ", element,
           " does not hold (use to_floats() to convert)");
  LK_CHECK(
      dims.volume() >= 0 && data.size() >= static_cast<size_t>(packed_bytes(type, dims.volume())),
      "OwnedTensor::as<", element, ">: ", data.size(), " bytes do not hold dims ",
      dims.to_string());
}

void* OwnedTensorAllocator::reallocate_output(std::string_view name, void*, uint64_t size,
                                              uint64_t alignment) {
  // operator new aligns to at least __STDCPP_DEFAULT_NEW_ALIGNMENT__, which the executors ask for.
  LK_CHECK(alignment <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "output '", name, "': alignment ",
           alignment, " exceeds the ", __STDCPP_DEFAULT_NEW_ALIGNMENT__,
           " bytes host vectors give");
  tensor_.device = DeviceType::kCPU;
  // Note [Size arithmetic]: a request beyond the host's memory is kOUT_OF_MEMORY naming the output.
  allocate_host(tensor_.data, static_cast<int64_t>(size), detail::cat("output '", name, "'"));
  return tensor_.data.data();
}

void OwnedTensorAllocator::notify_shape(std::string_view, const Dims& dims) {
  tensor_.dims = dims;
}

std::vector<float> OwnedTensor::to_floats() const {
  LK_CHECK(device == DeviceType::kCPU, "OwnedTensor::to_floats: the data is in ",
           device_type_name(device), " memory; copy it to the host first");
  const int64_t n = dims.volume();
  LK_CHECK(n >= 0 && data.size() >= static_cast<size_t>(packed_bytes(type, n)),
           "OwnedTensor::to_floats: ", data.size(), " bytes do not hold ", data_type_name(type),
           dims.to_string());
  // Sub-byte types are packed here; the element accessors read the host representation.
  std::vector<uint8_t> host;
  const void* p = data.data();
  if (is_sub_byte(type)) {
    host.resize(static_cast<size_t>(n * element_size(type)));
    unpack(type, data.data(), host.data(), n);
    p = host.data();
  }
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    out[static_cast<size_t>(i)] =
        is_floating(type) ? load_f(type, p, i) : static_cast<float>(load_i(type, p, i));
  return out;
}

}  // namespace layerkit
