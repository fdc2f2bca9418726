// ONNX converters for QuantizeLinear / DequantizeLinear (symmetric: zero points must be 0).
#include "layerkit/impl/quantize.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

// Zero point (input 2) must be absent or a constant of zeros, and int8 (uint8 has no layer).
std::optional<std::string> check_zero_point(const NodeView& v, bool quantize) {
  if (!v.has_input(2)) {
    if (quantize) return "no y_zero_point means uint8 output, which layerkit does not support";
    return std::nullopt;
  }
  const HostTensor* zp = v.constant_input(2);
  if (!zp) return "input 2 (zero point) must be a constant";
  if (zp->type != DataType::kINT8)
    return "input 2 (zero point) has type " + std::string(data_type_name(zp->type)) +
           "; only int8 is supported";
  for (int64_t z : zp->ints())
    if (z != 0) return "input 2 (zero point) holds " + std::to_string(z) + "; only 0 is supported";
  return std::nullopt;
}

// A scalar scale initializer becomes a float operand (per-tensor); otherwise the tensor.
impl::Operand scale_operand(NodeContext& n) {
  const HostTensor* s = n.constant_input(1);
  if (s && s->dims.rank() == 0) return impl::Operand(s->doubles()[0]);
  return n.input(1);
}

std::optional<int64_t> axis_of(NodeContext& n) {
  Tensor* scale = n.input(1);
  if (scale->dims().rank() == 0) return std::nullopt;
  return n.attr_int("axis", 1);
}

}  // namespace

void register_quantize_ops(Registry& r) {
  r["QuantizeLinear"] = {
      [](NodeContext& n) {
        impl::Operand scale = scale_operand(n);
        const std::optional<int64_t> axis = axis_of(n);
        n.set_output(0, impl::quantize::quantize(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0),
                                                 scale, DataType::kINT8, axis));
      },
      [](const NodeView& v) { return check_zero_point(v, true); }};
  r["DequantizeLinear"] = {
      [](NodeContext& n) {
        Tensor* x = n.input(0);
        if (x->type() != DataType::kINT8)
          n.fail(ErrorCode::kUNSUPPORTED,
                 "input 0 is " + describe(*x) + "; only int8 can be dequantized");
        const DataType to = n.input(1)->type();
        impl::Operand scale = scale_operand(n);
        const std::optional<int64_t> axis = axis_of(n);
        n.set_output(0, impl::quantize::dequantize(n.ctx(), n.op_type(), kONNX, n.name(), x, scale,
                                                   to, axis));
      },
      [](const NodeView& v) { return check_zero_point(v, false); }};
}

}  // namespace layerkit::onnx::detail
