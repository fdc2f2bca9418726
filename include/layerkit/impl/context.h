// ConversionContext, Target, SourceIR and Operand: the state and arguments every building block
// takes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "layerkit/core/weights.h"
#include "layerkit/network/network.h"

namespace layerkit::impl {

// Where the converted op came from; printed in layer names as "<ir>_ops".
enum class SourceIR : int32_t {
  kATEN,
  kTORCHSCRIPT,
  kNN,
  kACC,
  kPRIM,
  kCORE_ATEN,
  kUNKNOWN,
  kONNX
};
std::string_view source_ir_name(SourceIR ir);  // "aten", "torchscript", ..., "onnx"

// The identity of the converted op, e.g. "add.Tensor" or "Conv".
struct Target {
  std::string name;
  Target(const char* n) : name(n) {}             // NOLINT: converters write the op name directly
  Target(std::string n) : name(std::move(n)) {}  // NOLINT
};

// What to do with fp64 host constants, which no layer accepts.
enum class DoublePolicy : int32_t { kTRUNCATE_WITH_WARNING, kREJECT };

struct ConversionSettings {
  DoublePolicy doubles = DoublePolicy::kTRUNCATE_WITH_WARNING;
};

// A host array that becomes a Constant layer when used: a typed Weights, or fp64 values (which
// are truncated to fp32 or rejected per ConversionSettings::doubles).
struct HostConstant {
  Dims dims;
  Weights weights;
  std::vector<double> doubles;  // used instead of weights when non-empty
  static HostConstant of(const Dims& dims, const Weights& w) { return {dims, w, {}}; }
  static HostConstant of_doubles(const Dims& dims, std::vector<double> v) {
    return {dims, {}, std::move(v)};
  }
};

// A building-block operand: a network tensor, a scalar (int, float, bool — PyTorch's "wrapped
// numbers", weakly typed per Note [Type promotion]) or a host constant.
class Operand {
 public:
  Operand(Tensor* t) : v_(t) {}                     // NOLINT(google-explicit-constructor)
  Operand(int v) : v_(static_cast<int64_t>(v)) {}   // NOLINT
  Operand(int64_t v) : v_(v) {}                     // NOLINT
  Operand(double v) : v_(v) {}                      // NOLINT
  Operand(float v) : v_(static_cast<double>(v)) {}  // NOLINT
  Operand(bool v) : v_(v) {}                        // NOLINT
  Operand(HostConstant c) : v_(std::move(c)) {}     // NOLINT

  bool is_tensor() const { return std::holds_alternative<Tensor*>(v_); }
  bool is_scalar() const { return is_int() || is_float() || is_bool(); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_float() const { return std::holds_alternative<double>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_host_constant() const { return std::holds_alternative<HostConstant>(v_); }
  Tensor* tensor() const { return std::get<Tensor*>(v_); }
  int64_t int_value() const { return std::get<int64_t>(v_); }
  double float_value() const { return std::get<double>(v_); }
  bool bool_value() const { return std::get<bool>(v_); }
  const HostConstant& host_constant() const { return std::get<HostConstant>(v_); }
  // The scalar as a double (ints, floats and bools).
  double as_double() const;

  // "x:float32[2,3]", "2.5", "int 3", "true", "constant float32[4]"
  std::string describe() const;

 private:
  std::variant<Tensor*, int64_t, double, bool, HostConstant> v_;
};

class ConversionContext {
 public:
  explicit ConversionContext(Network& net, ConversionSettings settings = {})
      : net_(net), settings_(settings) {}

  Network& net() const { return net_; }
  const ConversionSettings& settings() const { return settings_; }

  // Weights registered under deterministic names (refit looks layers' weights up by name).
  void register_weights(const std::string& name, const Weights& w);
  const std::map<std::string, Weights>& weight_map() const { return weights_; }

  // Warnings recorded while converting (e.g. fp64 constants truncated to fp32).
  void warn(std::string message) { warnings_.push_back(std::move(message)); }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  Network& net_;
  ConversionSettings settings_;
  std::map<std::string, Weights> weights_;
  std::vector<std::string> warnings_;
};

}  // namespace layerkit::impl
