// ONNX converters for element-wise ops, each a call into impl::elementwise (IsNaN and IsInf, whose
// boolean results of float inputs have no block, use the Unary layer directly).
#include <limits>

#include "layerkit/impl/cast.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/utils.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

namespace ew = impl::elementwise;

using BinaryFn = Tensor* (*)(impl::ConversionContext&, const impl::Target&,
                             std::optional<impl::SourceIR>, std::string_view, impl::Operand,
                             impl::Operand);
using UnaryFn = Tensor* (*)(impl::ConversionContext&, const impl::Target&,
                            std::optional<impl::SourceIR>, std::string_view, impl::Operand);

OpConverter binary(BinaryFn fn) {
  return {[fn](NodeContext& n) {
            n.set_output(0, fn(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0), n.input(1)));
          },
          nullptr};
}

OpConverter unary(UnaryFn fn) {
  return {[fn](NodeContext& n) {
            n.set_output(0, fn(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0)));
          },
          nullptr};
}

// Max, Min, Sum: a left fold over the inputs; each step is named "{name}_{i}" except the last.
OpConverter variadic(BinaryFn fn) {
  return {[fn](NodeContext& n) {
            Tensor* acc = n.input(0);
            const int count = n.num_inputs();
            for (int i = 1; i < count; ++i) {
              const std::string step =
                  i + 1 == count ? n.name() : impl::sub_name(n.name(), std::to_string(i));
              acc = fn(n.ctx(), n.op_type(), kONNX, step, acc, n.input(i));
            }
            n.set_output(0, acc);
          },
          [](const NodeView& v) -> std::optional<std::string> {
            if (v.num_inputs() < 1) return "needs at least one input";
            return std::nullopt;
          }};
}

Tensor* add2(impl::ConversionContext& c, const impl::Target& t, std::optional<impl::SourceIR> s,
             std::string_view name, impl::Operand a, impl::Operand b) {
  return ew::add(c, t, s, name, std::move(a), std::move(b));
}
Tensor* sub2(impl::ConversionContext& c, const impl::Target& t, std::optional<impl::SourceIR> s,
             std::string_view name, impl::Operand a, impl::Operand b) {
  return ew::sub(c, t, s, name, std::move(a), std::move(b));
}

// Unary layers whose ONNX op has no building block (boolean results of float inputs).
OpConverter unary_layer(UnaryOperation op) {
  return {[op](NodeContext& n) { n.set_output(0, named(n, n.net().add_unary(n.input(0), op))); },
          nullptr};
}

void isinf_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* x = n.input(0);
  const bool pos = n.attr_int("detect_positive", 1) != 0,
             neg = n.attr_int("detect_negative", 1) != 0;
  if (pos && neg) {
    n.set_output(0, named(n, n.net().add_unary(x, UnaryOperation::kISINF)));
    return;
  }
  const double inf = std::numeric_limits<double>::infinity();
  if (!pos && !neg) {
    // Nothing is detected: x == inf && x == -inf is false everywhere.
    n.set_output(0, ew::logical_and(c, t, kONNX, n.name(), ew::eq(c, t, kONNX, sub(n, "a"), x, inf),
                                    ew::eq(c, t, kONNX, sub(n, "b"), x, -inf)));
    return;
  }
  n.set_output(0, ew::eq(c, t, kONNX, n.name(), x, impl::Operand(pos ? inf : -inf)));
}

void mean_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* acc = n.input(0);
  for (int i = 1; i < n.num_inputs(); ++i)
    acc = ew::add(c, t, kONNX, sub(n, "sum" + std::to_string(i)), acc, n.input(i));
  n.set_output(
      0, ew::div(c, t, kONNX, n.name(), acc, impl::Operand(static_cast<double>(n.num_inputs()))));
}

}  // namespace

void register_elementwise_ops(Registry& r) {
  r["Add"] = binary(add2);
  r["Sub"] = binary(sub2);
  r["Mul"] = binary(ew::mul);
  // ONNX integer division truncates toward zero (as C and onnxruntime do).
  r["Div"] = {[](NodeContext& n) {
                Tensor* a = n.input(0);
                std::optional<std::string_view> mode;
                if (!is_floating(a->type())) mode = "trunc";
                n.set_output(0,
                             ew::div(n.ctx(), n.op_type(), kONNX, n.name(), a, n.input(1), mode));
              },
              nullptr};
  // ONNX Pow keeps the base's type (opset 12+ allows another exponent type); torch promotes,
  // so a promoted result is cast back.
  r["Pow"] = {[](NodeContext& n) {
                Tensor* base = n.input(0);
                Tensor* y = ew::pow(n.ctx(), n.op_type(), kONNX, n.name(), base, n.input(1));
                y = impl::cast::cast(n.ctx(), n.op_type(), kONNX, impl::sub_name(n.name(), "cast"),
                                     y, base->type());
                n.set_output(0, y);
              },
              nullptr};
  // fmod=1 is C's remainder (sign of the dividend), fmod=0 Python's (sign of the divisor).
  r["Mod"] = {[](NodeContext& n) {
                auto fn = n.attr_int("fmod", 0) != 0 ? ew::fmod : ew::remainder;
                n.set_output(0, fn(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0), n.input(1)));
              },
              nullptr};
  // BitShift on unsigned integers (uint8 is the one layerkit has): x * 2^y wrapped to the type
  // for LEFT, floor(x / 2^y) for RIGHT, computed in int32.
  r["BitShift"] = {[](NodeContext& n) {
                     auto& c = n.ctx();
                     const auto t = n.op_type();
                     Tensor* x = n.input(0);
                     if (x->type() != DataType::kUINT8)
                       n.fail(ErrorCode::kUNSUPPORTED,
                              "BitShift on " + describe(*x) + " (unsigned types: uint8 only)");
                     Tensor* xi = impl::cast::cast(c, t, kONNX, sub(n, "x32"), x, DataType::kINT32);
                     Tensor* yi =
                         impl::cast::cast(c, t, kONNX, sub(n, "y32"), n.input(1), DataType::kINT32);
                     Tensor* p = ew::pow(c, t, kONNX, sub(n, "pow2"), impl::Operand(2), yi);
                     const std::string dir = n.attr_string("direction", "");
                     Tensor* r = nullptr;
                     if (dir == "LEFT") {
                       r = ew::bitwise_and(c, t, kONNX, sub(n, "wrap"),
                                           ew::mul(c, t, kONNX, sub(n, "shifted"), xi, p), 255);
                     } else if (dir == "RIGHT") {
                       r = ew::floor_div(c, t, kONNX, sub(n, "shifted"), xi, p);
                     } else {
                       n.fail(ErrorCode::kINVALID_ARGUMENT,
                              "attribute 'direction' is '" + dir + "'; expected LEFT or RIGHT");
                     }
                     n.set_output(0, impl::cast::cast(c, t, kONNX, n.name(), r, DataType::kUINT8));
                   },
                   nullptr};
  r["BitwiseAnd"] = binary(ew::bitwise_and);
  r["BitwiseOr"] = binary(ew::bitwise_or);
  r["BitwiseXor"] = binary(ew::bitwise_xor);
  r["BitwiseNot"] = {[](NodeContext& n) {
                       Tensor* x = n.input(0);
                       if (!is_integer(x->type()))
                         n.fail(ErrorCode::kINVALID_ARGUMENT,
                                "input 0 must be an integer tensor, got " + describe(*x));
                       // ~x is x ^ all-ones: -1 in the signed types, 255 in uint8.
                       const int64_t ones = x->type() == DataType::kUINT8 ? 255 : -1;
                       n.set_output(0, ew::bitwise_xor(n.ctx(), n.op_type(), kONNX, n.name(), x,
                                                       impl::Operand(ones)));
                     },
                     nullptr};
  r["And"] = binary(ew::logical_and);
  r["Or"] = binary(ew::logical_or);
  r["Xor"] = binary(ew::logical_xor);
  r["Not"] = unary(ew::not_);
  r["Equal"] = binary(ew::eq);
  r["Greater"] = binary(ew::gt);
  r["GreaterOrEqual"] = binary(ew::ge);
  r["Less"] = binary(ew::lt);
  r["LessOrEqual"] = binary(ew::le);
  r["Max"] = variadic(ew::max);
  r["Min"] = variadic(ew::min);
  r["Sum"] = variadic(add2);
  r["Abs"] = unary(ew::abs);
  r["Neg"] = unary(ew::neg);
  r["Floor"] = unary(ew::floor);
  r["Ceil"] = unary(ew::ceil);
  r["Round"] = unary(ew::round);
  r["Sqrt"] = unary(ew::sqrt);
  r["Reciprocal"] = {[](NodeContext& n) {
                       // A weak float scalar keeps the tensor's type (Note [Type promotion]).
                       n.set_output(
                           0, ew::div(n.ctx(), n.op_type(), kONNX, n.name(), 1.0, n.input(0)));
                     },
                     nullptr};
  r["Exp"] = unary(ew::exp);
  r["Log"] = unary(ew::log);
  r["Sin"] = unary(ew::sin);
  r["Cos"] = unary(ew::cos);
  r["Tan"] = unary(ew::tan);
  r["Asin"] = unary(ew::asin);
  r["Acos"] = unary(ew::acos);
  r["Atan"] = unary(ew::atan);
  r["Sinh"] = unary(ew::sinh);
  r["Cosh"] = unary(ew::cosh);
  r["Sign"] = unary(ew::sign);
  r["Erf"] = {[](NodeContext& n) {
                n.set_output(0, ew::erf(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0)));
              },
              nullptr};
  r["Asinh"] = {[](NodeContext& n) {
                  n.set_output(0, ew::asinh(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0)));
                },
                nullptr};
  r["Acosh"] = {[](NodeContext& n) {
                  n.set_output(0, ew::acosh(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0)));
                },
                nullptr};
  r["Atanh"] = {[](NodeContext& n) {
                  n.set_output(0, ew::atanh(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0)));
                },
                nullptr};
  r["IsNaN"] = unary_layer(UnaryOperation::kISNAN);
  r["IsInf"] = {isinf_op, nullptr};
  r["Mean"] = {mean_op, nullptr};
}

}  // namespace layerkit::onnx::detail
