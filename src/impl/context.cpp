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
