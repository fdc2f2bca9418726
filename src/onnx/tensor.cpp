// Decoding of ONNX TensorProto (raw, typed and external data) into host tensors.
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "layerkit/core/error.h"
#include "onnx/converter.h"

namespace layerkit::onnx {
namespace detail {

std::optional<DataType> to_data_type(int32_t t) {
  switch (t) {
    case pb::TensorProto::FLOAT:
      return DataType::kFLOAT;
    case pb::TensorProto::FLOAT16:
      return DataType::kHALF;
    case pb::TensorProto::BFLOAT16:
      return DataType::kBF16;
    case pb::TensorProto::INT8:
      return DataType::kINT8;
    case pb::TensorProto::UINT8:
      return DataType::kUINT8;
    case pb::TensorProto::INT32:
      return DataType::kINT32;
    case pb::TensorProto::INT64:
      return DataType::kINT64;
    case pb::TensorProto::BOOL:
      return DataType::kBOOL;
    default:
      return std::nullopt;
  }
}

std::string onnx_type_name(int32_t t) {
  if (pb::TensorProto::DataType_IsValid(t))
    return pb::TensorProto::DataType_Name(static_cast<pb::TensorProto::DataType>(t));
  return "data type " + std::to_string(t);
}

std::vector<int64_t> HostTensor::ints() const {
  std::vector<int64_t> v(static_cast<size_t>(count()));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (type) {
      case DataType::kINT64:
        v[i] = weights.as<int64_t>()[i];
        break;
      case DataType::kINT32:
        v[i] = weights.as<int32_t>()[i];
        break;
      case DataType::kINT8:
        v[i] = weights.as<int8_t>()[i];
        break;
      case DataType::kUINT8:
      case DataType::kBOOL:
        v[i] = weights.as<uint8_t>()[i];
        break;
      default:
        LK_FAIL(kINVALID_ARGUMENT, "expected integer values, got ", data_type_name(type));
    }
  }
  return v;
}

std::vector<double> HostTensor::doubles() const {
  if (!is_floating(type)) {
    const std::vector<int64_t> iv = ints();
    return {iv.begin(), iv.end()};
  }
  std::vector<double> v(static_cast<size_t>(count()));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (type) {
      case DataType::kFLOAT:
        v[i] = weights.as<float>()[i];
        break;
      case DataType::kHALF:
        v[i] = half_bits_to_float(weights.as<uint16_t>()[i]);
        break;
      case DataType::kBF16:
        v[i] = bf16_bits_to_float(weights.as<uint16_t>()[i]);
        break;
      default:
        LK_FAIL(kUNSUPPORTED, "cannot read ", data_type_name(type), " values on the host");
    }
  }
  return v;
}

namespace {

std::string read_external(const pb::TensorProto& t, const std::string& base_dir,
                          int64_t want_bytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  // The entries are text of the model file: anything but a decimal count is a malformed model.
  auto count_of = [&](const std::string& key, const std::string& value) {
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    LK_CHECK(ec == std::errc() && end == value.data() + value.size() && v >= 0, "initializer '",
             t.name(), "': external data entry '", key, "' is '", value,
             "', not a byte count (a non-negative integer below 2^63)");
    return v;
  };
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset")
      offset = count_of(kv.key(), kv.value());
    else if (kv.key() == "length")
      length = count_of(kv.key(), kv.value());
  }
  LK_CHECK(!location.empty(), "initializer '", t.name(),
           "' has external data without a 'location' entry");
  std::filesystem::path p = std::filesystem::path(base_dir) / location;
  std::ifstream f(p, std::ios::binary);
  if (!f)
    LK_FAIL(kIO, "initializer '", t.name(), "': external data file '", p.string(),
            "' cannot be opened (it must lie next to the model, at the model's relative path '",
            location, "')");
  f.seekg(0, std::ios::end);
  const int64_t size = f.tellg();
  if (length < 0) length = want_bytes;
  // (Compared without forming offset + length, which may overflow.)
  if (offset > size || length > size - offset)
    LK_FAIL(kIO, "initializer '", t.name(), "': external data file '", p.string(), "' has ", size,
            " bytes, but offset ", offset, " + length ", length, " reaches beyond it");
  std::string data(static_cast<size_t>(length), '\0');
  f.seekg(offset);
  f.read(data.data(), length);
  return data;
}

}  // namespace

HostTensor decode_tensor(const pb::TensorProto& t, const std::string& base_dir,
                         impl::DoublePolicy doubles, std::vector<std::string>* warnings) {
  HostTensor h;
  LK_CHECK(t.dims_size() <= kMaxDims, "tensor '", t.name(), "' has rank ", t.dims_size(),
           "; at most ", kMaxDims, " dims are supported");
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  int64_t count = 1;
  for (int64_t d : dims) {
    LK_CHECK(d >= 0, "tensor '", t.name(), "' has a negative dim ", d);
    LK_CHECK(d == 0 || count <= (int64_t{1} << 40) / d, "tensor '", t.name(),
             "' has more than 2^40 elements (malformed dims?)");
    count *= d;
  }
  h.dims = Dims(std::span<const int64_t>(dims));
  const bool is_double = t.data_type() == pb::TensorProto::DOUBLE;
  std::optional<DataType> type = is_double ? DataType::kFLOAT : to_data_type(t.data_type());
  if (!type)
    LK_FAIL(kUNSUPPORTED, "tensor '", t.name(), "' has type ", onnx_type_name(t.data_type()),
            ", which layerkit does not support");
  if (is_double && doubles == impl::DoublePolicy::kREJECT)
    LK_FAIL(kUNSUPPORTED, "tensor '", t.name(),
            "' is float64 and ConversionSettings::doubles is kREJECT");
  h.type = *type;
  const int64_t elem_bytes = is_double ? 8 : data_type_bits(h.type) / 8;
  const int64_t want = count * elem_bytes;

  // raw_data is read where the parsed model holds it (a model's weights are most of its bytes).
  std::string external;
  std::string_view raw;
  bool have_raw = false;
  if (t.data_location() == pb::TensorProto::EXTERNAL) {
    external = read_external(t, base_dir, want);
    raw = external;
    have_raw = true;
  } else if (t.has_raw_data()) {
    raw = t.raw_data();
    have_raw = true;
  }
  auto fail_count = [&](int64_t got) {
    LK_FAIL(kINVALID_ARGUMENT, "tensor '", t.name(), "' has dims ", h.dims.to_string(), " (", count,
            " elements) but holds ", got, " values");
  };
  // Sizes are checked before anything is allocated: a malformed file must not allocate by its
  // claimed dims.
  if (have_raw) {
    if (static_cast<int64_t>(raw.size()) != want)
      LK_FAIL(kINVALID_ARGUMENT, "tensor '", t.name(), "' has dims ", h.dims.to_string(),
              " and type ", onnx_type_name(t.data_type()), " (", want, " bytes) but ", raw.size(),
              " bytes of data");
  } else {
    int64_t typed = 0;
    switch (t.data_type()) {
      case pb::TensorProto::FLOAT:
        typed = t.float_data_size();
        break;
      case pb::TensorProto::DOUBLE:
        typed = t.double_data_size();
        break;
      case pb::TensorProto::INT64:
        typed = t.int64_data_size();
        break;
      default:
        typed = t.int32_data_size();
        break;
    }
    if (typed != count) fail_count(typed);
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(count * data_type_bits(h.type) / 8));
  // An empty tensor copies nothing: memcpy with the null data of an empty buffer (or of an empty
  // repeated field) is undefined even for zero bytes.
  auto copy_in = [&](const void* src, size_t n) {
    if (n) std::memcpy(bytes.data(), src, n);
  };
  if (have_raw) {
    if (is_double) {
      for (int64_t i = 0; i < count; ++i) {
        double d;
        std::memcpy(&d, raw.data() + i * 8, 8);
        const float f = static_cast<float>(d);
        std::memcpy(bytes.data() + i * 4, &f, 4);
      }
    } else {
      copy_in(raw.data(), raw.size());
    }
  } else {
    switch (t.data_type()) {
      case pb::TensorProto::FLOAT:
        if (t.float_data_size() != count) fail_count(t.float_data_size());
        copy_in(t.float_data().data(), bytes.size());
        break;
      case pb::TensorProto::DOUBLE:
        if (t.double_data_size() != count) fail_count(t.double_data_size());
        for (int64_t i = 0; i < count; ++i) {
          const float f = static_cast<float>(t.double_data(static_cast<int>(i)));
          std::memcpy(bytes.data() + i * 4, &f, 4);
        }
        break;
      case pb::TensorProto::INT64:
        if (t.int64_data_size() != count) fail_count(t.int64_data_size());
        copy_in(t.int64_data().data(), bytes.size());
        break;
      case pb::TensorProto::INT32:
        if (t.int32_data_size() != count) fail_count(t.int32_data_size());
        copy_in(t.int32_data().data(), bytes.size());
        break;
      case pb::TensorProto::FLOAT16:
      case pb::TensorProto::BFLOAT16:  // bit patterns in int32_data
        if (t.int32_data_size() != count) fail_count(t.int32_data_size());
        for (int64_t i = 0; i < count; ++i) {
          const auto v = static_cast<uint16_t>(t.int32_data(static_cast<int>(i)));
          std::memcpy(bytes.data() + i * 2, &v, 2);
        }
        break;
      default:  // INT8, UINT8, BOOL: one value per int32_data entry
        if (t.int32_data_size() != count) fail_count(t.int32_data_size());
        for (int64_t i = 0; i < count; ++i)
          bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(t.int32_data(static_cast<int>(i)));
        break;
    }
  }
  if (is_double && warnings)
    warnings->push_back("tensor '" + t.name() + "': float64 values truncated to float32");
  h.weights = Weights::copy(h.type, bytes.data(), count);
  return h;
}

}  // namespace detail

OwnedTensor read_tensor_proto(const std::string& path, std::string* name, bool uint16_as_bf16) {
  std::ifstream f(path, std::ios::binary);
  if (!f) LK_FAIL(kIO, "cannot open tensor file '", path, "'");
  detail::pb::TensorProto t;
  if (!t.ParseFromIstream(&f)) LK_FAIL(kIO, "'", path, "' is not a valid TensorProto file");
  if (uint16_as_bf16 && t.data_type() == detail::pb::TensorProto::UINT16)
    t.set_data_type(detail::pb::TensorProto::BFLOAT16);
  const std::string dir = std::filesystem::path(path).parent_path().string();
  detail::HostTensor h = detail::decode_tensor(t, dir.empty() ? "." : dir,
                                               impl::DoublePolicy::kTRUNCATE_WITH_WARNING, nullptr);
  if (name) *name = t.name();
  OwnedTensor out;
  out.type = h.type;
  out.dims = h.dims;
  const auto* p = static_cast<const uint8_t*>(h.weights.data());
  out.data.assign(p, p + h.weights.bytes());
  return out;
}

}  // namespace layerkit::onnx
