// Scalar semantics of the ElementWise and Unary operations, shared by inference (known-value
// folding) and the CPU reference kernels so both compute exactly the same values.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "core/element.h"
#include "layerkit/core/data_type.h"
#include "layerkit/network/layers.h"

namespace layerkit::detail {

inline bool is_comparison(ElementWiseOperation op) {
  return op == ElementWiseOperation::kEQUAL || op == ElementWiseOperation::kGREATER ||
         op == ElementWiseOperation::kLESS;
}
inline bool is_logical(ElementWiseOperation op) {
  return op == ElementWiseOperation::kAND || op == ElementWiseOperation::kOR ||
         op == ElementWiseOperation::kXOR;
}

inline bool is_bitwise(ElementWiseOperation op) {
  return op == ElementWiseOperation::kBITWISE_AND || op == ElementWiseOperation::kBITWISE_OR ||
         op == ElementWiseOperation::kBITWISE_XOR;
}

// Integer ElementWise in int64 with wrap-around (via uint64, so overflow is defined).
// nullopt means division by zero. kDIV truncates toward zero: TensorRT's integer division is
// C-style (Torch-TensorRT lowers rounding_mode="trunc" on integers to kDIV); kFLOOR_DIV floors.
inline std::optional<int64_t> elementwise_int(ElementWiseOperation op, int64_t a, int64_t b) {
  using E = ElementWiseOperation;
  auto ua = static_cast<uint64_t>(a), ub = static_cast<uint64_t>(b);
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  switch (op) {
    case E::kSUM:
      return static_cast<int64_t>(ua + ub);
    case E::kPROD:
      return static_cast<int64_t>(ua * ub);
    case E::kSUB:
      return static_cast<int64_t>(ua - ub);
    case E::kMAX:
      return a > b ? a : b;
    case E::kMIN:
      return a < b ? a : b;
    case E::kDIV:
      if (b == 0) return std::nullopt;
      if (a == kMin && b == -1) return kMin;
      return a / b;
    case E::kFLOOR_DIV: {
      if (b == 0) return std::nullopt;
      if (a == kMin && b == -1) return kMin;
      int64_t q = a / b;
      if (a % b != 0 && ((a < 0) != (b < 0))) --q;
      return q;
    }
    case E::kPOW: {
      if (b < 0) {
        // 1 / a^|b| truncated: only +-1 keep a nonzero magnitude; 0 would divide by zero.
        if (a == 0) return std::nullopt;
        if (a == 1) return 1;
        if (a == -1) return (b % 2 == 0) ? 1 : -1;
        return 0;
      }
      uint64_t r = 1, base = ua;
      for (uint64_t e = ub; e; e >>= 1) {
        if (e & 1) r *= base;
        base *= base;
      }
      return static_cast<int64_t>(r);
    }
    case E::kAND:
      return (a != 0 && b != 0) ? 1 : 0;
    case E::kOR:
      return (a != 0 || b != 0) ? 1 : 0;
    case E::kXOR:
      return ((a != 0) != (b != 0)) ? 1 : 0;
    case E::kEQUAL:
      return a == b ? 1 : 0;
    case E::kGREATER:
      return a > b ? 1 : 0;
    case E::kLESS:
      return a < b ? 1 : 0;
    case E::kBITWISE_AND:
      return a & b;
    case E::kBITWISE_OR:
      return a | b;
    case E::kBITWISE_XOR:
      return a ^ b;
  }
  return 0;
}

// Floating ElementWise in float (the result is rounded to the output type on store).
inline float elementwise_float(ElementWiseOperation op, float a, float b) {
  using E = ElementWiseOperation;
  switch (op) {
    case E::kSUM:
      return a + b;
    case E::kPROD:
      return a * b;
    case E::kSUB:
      return a - b;
    // NaN propagates, as at::maximum/at::minimum do.
    case E::kMAX:
      return (std::isnan(a) || std::isnan(b)) ? std::numeric_limits<float>::quiet_NaN()
                                              : (a > b ? a : b);
    case E::kMIN:
      return (std::isnan(a) || std::isnan(b)) ? std::numeric_limits<float>::quiet_NaN()
                                              : (a < b ? a : b);
    case E::kDIV:
      return a / b;
    case E::kPOW:
      return std::pow(a, b);
    case E::kFLOOR_DIV: {
      // Python-style floor division through fmod: exact where floor(a / b) would be thrown off
      // by a quotient that rounds up to an integer.
      if (b == 0.0f) return std::floor(a / b);
      float mod = std::fmod(a, b);
      float div = (a - mod) / b;
      if (mod != 0.0f && ((b < 0.0f) != (mod < 0.0f))) div -= 1.0f;
      if (div == 0.0f) return std::copysign(0.0f, a / b);
      float fl = std::floor(div);
      if (div - fl > 0.5f) fl += 1.0f;
      return fl;
    }
    case E::kEQUAL:
      return a == b ? 1.0f : 0.0f;
    case E::kGREATER:
      return a > b ? 1.0f : 0.0f;
    case E::kLESS:
      return a < b ? 1.0f : 0.0f;
    case E::kAND:
    case E::kOR:
    case E::kXOR:
    case E::kBITWISE_AND:
    case E::kBITWISE_OR:
    case E::kBITWISE_XOR:
      break;  // integer and bool only; handled in the integer domain
  }
  return 0.0f;
}

// Integer Unary (kABS, kNEG, kSIGN on integers; kNOT on bool), wrap-around like the binary ops.
inline int64_t unary_int(UnaryOperation op, int64_t x) {
  switch (op) {
    case UnaryOperation::kABS:
      return x < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(x)) : x;
    case UnaryOperation::kNEG:
      return static_cast<int64_t>(0 - static_cast<uint64_t>(x));
    case UnaryOperation::kSIGN:
      return (x > 0) - (x < 0);
    case UnaryOperation::kNOT:
      return x == 0 ? 1 : 0;
    default:
      return 0;
  }
}

}  // namespace layerkit::detail
