// ConversionContext, Target, SourceIR and Operand: the state and arguments every building block
// takes.
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
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

// The identity of the converted op, e.g. "add.Tensor" or "Conv": made from any string type
// (const char*, std::string, std::string_view, ...). It must not be empty: every building block
// rejects an empty target (and an empty name) with kINVALID_ARGUMENT.
struct Target {
  std::string name;
  template <typename S>
  requires std::convertible_to<const S&, std::string_view> Target(const S& n)
      : name(std::string_view(n)) {}  // NOLINT: converters write the op name
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
  // `w` (or `v`) must hold dims.volume() elements (kINVALID_ARGUMENT otherwise).
  static HostConstant of(const Dims& dims, const Weights& w);
  // Typed: the element type comes from T as in Weights::from_vector(v) (float, int8_t, uint8_t,
  // int32_t, int64_t, bool); of(dims, DataType::kHALF, floats) rounds floats to a float type.
  template <typename T>
  static HostConstant of(const Dims& dims, const std::vector<T>& v) {
    return of(dims, Weights::from_vector(v));
  }
  static HostConstant of(const Dims& dims, DataType type, const std::vector<float>& v) {
    return of(dims, Weights::from_floats(type, v));
  }
  static HostConstant of_doubles(const Dims& dims, std::vector<double> v);
};

// A building-block operand: a network tensor, a scalar (int, float, bool — PyTorch's "wrapped
// numbers", weakly typed per Note [Type promotion]) or a host constant.
//
// Every integral type (int, unsigned, size_t, long long, int8_t, ...) makes an int scalar and
// every floating type a float scalar, so call sites need no casts; an unsigned value above
// INT64_MAX throws kINVALID_ARGUMENT. bool makes a bool scalar.
class Operand {
 public:
  Operand(Tensor* t) : v_(t) {}  // NOLINT(google-explicit-constructor)
  template <std::integral I>
  requires(!std::same_as<I, bool>) Operand(I v) : v_(int_scalar(v)) {}  // NOLINT
  template <std::floating_point F>
  Operand(F v) : v_(static_cast<double>(v)) {}   // NOLINT
  Operand(bool v) : v_(v) {}                     // NOLINT
  Operand(HostConstant c) : v_(std::move(c)) {}  // NOLINT

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
  // Dims: the tensor's or host constant's; scalars are rank 0.
  Dims dims() const;
  int rank() const { return dims().rank(); }

  // "x:float32[2,3]", "2.5", "int 3", "true", "constant float32[4]"
  std::string describe() const;

 private:
  template <std::integral I>
  static int64_t int_scalar(I v) {
    if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(int64_t))
      if (v > static_cast<I>(std::numeric_limits<int64_t>::max())) unsigned_overflow(v);
    return static_cast<int64_t>(v);
  }
  [[noreturn]] static void unsigned_overflow(uint64_t v);
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
