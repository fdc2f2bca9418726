// ConversionContext, SourceIR names and Operand printing.
#include "layerkit/impl/context.h"

#include <cstdio>

namespace layerkit::impl {

std::string_view source_ir_name(SourceIR ir) {
  switch (ir) {
    case SourceIR::kATEN:
      return "aten";
    case SourceIR::kTORCHSCRIPT:
      return "torchscript";
    case SourceIR::kNN:
      return "nn";
    case SourceIR::kACC:
      return "acc";
    case SourceIR::kPRIM:
      return "prim";
    case SourceIR::kCORE_ATEN:
      return "core_aten";
    case SourceIR::kUNKNOWN:
      return "unknown";
    case SourceIR::kONNX:
      return "onnx";
  }
  return "?";
}

HostConstant HostConstant::of(const Dims& dims, const Weights& w) {
  LK_CHECK(dims.volume() >= 0, "HostConstant: dims ", dims.to_string(), " must be static");
  LK_CHECK(w.count() == dims.volume(), "HostConstant: dims ", dims.to_string(), " hold ",
           dims.volume(), " elements but the weights have ", w.count());
  return {dims, w, {}};
}

HostConstant HostConstant::of_doubles(const Dims& dims, std::vector<double> v) {
  LK_CHECK(dims.volume() >= 0, "HostConstant: dims ", dims.to_string(), " must be static");
  LK_CHECK(static_cast<int64_t>(v.size()) == dims.volume(), "HostConstant: dims ", dims.to_string(),
           " hold ", dims.volume(), " elements but ", v.size(), " values were given");
  return {dims, {}, std::move(v)};
}

void Operand::unsigned_overflow(uint64_t v) {
  LK_FAIL(kINVALID_ARGUMENT, "Operand: the unsigned value ", v,
          " does not fit an int64 scalar (max 9223372036854775807)");
}

Dims Operand::dims() const {
  if (is_tensor()) return tensor() ? tensor()->dims() : Dims{};
  if (is_host_constant()) return host_constant().dims;
  return Dims{};
}

double Operand::as_double() const {
  if (is_int()) return static_cast<double>(int_value());
  if (is_float()) return float_value();
  if (is_bool()) return bool_value() ? 1.0 : 0.0;
  LK_FAIL(kINVALID_ARGUMENT, "operand ", describe(), " is not a scalar");
}

std::string Operand::describe() const {
  if (is_tensor()) return tensor() ? layerkit::describe(*tensor()) : std::string("null tensor");
  if (is_int()) return detail::cat("int ", int_value());
  if (is_float()) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "float %.9g", float_value());
    return buf;
  }
  if (is_bool()) return bool_value() ? "bool true" : "bool false";
  const HostConstant& c = host_constant();
  return detail::cat("constant ", c.doubles.empty() ? data_type_name(c.weights.type()) : "float64",
                     c.dims.to_string());
}

void ConversionContext::register_weights(const std::string& name, const Weights& w) {
  LK_CHECK(!weights_.contains(name), "weights named '", name, "' are already registered");
  weights_.emplace(name, w);
}

}  // namespace layerkit::impl
