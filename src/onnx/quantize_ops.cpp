// ONNX converters for QuantizeLinear / DequantizeLinear, DynamicQuantizeLinear, MatMulInteger
// and ConvInteger. Symmetric int8 maps onto the quantize blocks (Q/DQ layers); zero points and
// uint8 are element-wise composites of the same formula.
#include "layerkit/impl/cast.h"
#include "layerkit/impl/conv.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/matmul.h"
#include "layerkit/impl/quantize.h"
#include "layerkit/impl/reduce.h"
#include "layerkit/impl/shuffle.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

namespace ew = impl::elementwise;

// True when the Q/DQ layers fit: an int8 zero point that is a constant of zeros.
bool symmetric_int8(const NodeView& v) {
  if (!v.has_input(2)) return false;
  const HostTensor* zp = v.constant_input(2);
  if (!zp || zp->type != DataType::kINT8) return false;
  for (int64_t z : zp->ints())
    if (z != 0) return false;
  return true;
}

// A per-axis scale or zero point [C] shaped to broadcast along `axis` of a rank-`rank` input.
Tensor* along_axis(NodeContext& n, Tensor* v, int rank, const std::string& what) {
  if (v->dims().rank() == 0 || rank <= 1) return v;
  const int64_t axis = n.axis_attr("axis", 1, rank);
  std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
  shape[static_cast<size_t>(axis)] = -1;
  return impl::shuffle::reshape(n.ctx(), n.op_type(), kONNX, sub(n, what), v, shape);
}

}  // namespace

// Declared in converter.h.
Tensor* quantize_math(NodeContext& n, Tensor* x, Tensor* scale, Tensor* zp, DataType to,
                      const std::string& name) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* q = ew::round(
      c, t, kONNX, impl::sub_name(name, "round"),
      ew::div(c, t, kONNX, impl::sub_name(name, "scaled"),
              impl::cast::cast(c, t, kONNX, impl::sub_name(name, "x32"), x, DataType::kFLOAT),
              scale));
  if (zp)
    q = ew::add(c, t, kONNX, impl::sub_name(name, "shift"), q,
                impl::cast::cast(c, t, kONNX, impl::sub_name(name, "zp32"), zp, DataType::kFLOAT));
  const double lo = to == DataType::kUINT8 ? 0.0 : -128.0,
               hi = to == DataType::kUINT8 ? 255.0 : 127.0;
  q = ew::min(c, t, kONNX, impl::sub_name(name, "hi"),
              ew::max(c, t, kONNX, impl::sub_name(name, "lo"), q, lo), hi);
  return impl::cast::cast(c, t, kONNX, name, q, to);
}

namespace {

// (x - zero_point) * scale in the scale's type.
Tensor* dequantize_math(NodeContext& n, Tensor* x, Tensor* scale, Tensor* zp) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* v = impl::cast::cast(c, t, kONNX, sub(n, "x32"), x, DataType::kFLOAT);
  if (zp)
    v = ew::sub(c, t, kONNX, sub(n, "shift"), v,
                impl::cast::cast(c, t, kONNX, sub(n, "zp32"), zp, DataType::kFLOAT));
  Tensor* y = ew::mul(c, t, kONNX, sub(n, "scaled"), v, scale);
  return impl::cast::cast(c, t, kONNX, n.name(), y, scale->type());
}

// x - zero_point in int32 (zero point per tensor, or per row / channel along `axis`).
Tensor* centered(NodeContext& n, Tensor* x, int zp_input, int axis, const std::string& what) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* v = impl::cast::cast(c, t, kONNX, sub(n, what), x, DataType::kINT32);
  if (!n.has_input(zp_input)) return v;
  Tensor* zp =
      impl::cast::cast(c, t, kONNX, sub(n, what + "_zp"), n.input(zp_input), DataType::kINT32);
  if (zp->dims().rank() == 1 && zp->dims()[0] != 1) {
    const int rank = x->dims().rank();
    const int at = axis < 0 ? axis + rank : axis;
    if (at < 0 || at >= rank)
      n.fail(ErrorCode::kINVALID_ARGUMENT, what + " has rank " + std::to_string(rank) +
                                               ", too low for a per-row zero point along axis " +
                                               std::to_string(axis) + " (" +
                                               std::to_string(zp->dims()[0]) + " values)");
    std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
    shape[static_cast<size_t>(at)] = -1;
    zp = impl::shuffle::reshape(c, t, kONNX, sub(n, what + "_zp_shape"), zp, shape);
  }
  return ew::sub(c, t, kONNX, sub(n, what + "_centered"), v, zp);
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

// Declared in converter.h.
Tensor* dequantized(NodeContext& n, int q, int scale, int zp, int axis, const std::string& what) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* x = n.input(q);
  auto shaped = [&](Tensor* v, const std::string& role) {
    if (v->dims().rank() != 1 || v->dims()[0] == 1) return v;
    const int rank = x->dims().rank();
    const int at = axis < 0 ? axis + rank : axis;
    if (at < 0 || at >= rank)
      n.fail(ErrorCode::kINVALID_ARGUMENT, what + " has rank " + std::to_string(rank) +
                                               ", too low for a per-channel " + role +
                                               " along axis " + std::to_string(axis) + " (" +
                                               std::to_string(v->dims()[0]) + " values)");
    std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
    shape[static_cast<size_t>(at)] = -1;
    return impl::shuffle::reshape(c, t, kONNX, sub(n, what + "_" + role + "_shape"), v, shape);
  };
  Tensor* v = impl::cast::cast(c, t, kONNX, sub(n, what + "32"), x, DataType::kFLOAT);
  Tensor* z = impl::cast::cast(c, t, kONNX, sub(n, what + "_zp32"), shaped(n.input(zp), "zp"),
                               DataType::kFLOAT);
  v = ew::sub(c, t, kONNX, sub(n, what + "_centered"), v, z);
  return ew::mul(c, t, kONNX, sub(n, what + "_real"), v, shaped(n.input(scale), "scale"));
}

void register_quantize_ops(Registry& r) {
  // Dequantize both operands, multiply in fp32, quantize with y's scale and zero point.
  r["QLinearMatMul"] = {
      [](NodeContext& n) {
        Tensor* a = dequantized(n, 0, 1, 2, -2, "a");
        Tensor* b = dequantized(n, 3, 4, 5, -1, "b");
        Tensor* y =
            impl::matmul::matrix_multiply(n.ctx(), n.op_type(), kONNX, sub(n, "matmul"), a, b);
        n.set_output(0, quantize_math(n, y, n.input(6), n.input(7), n.input(7)->type(), n.name()));
      },
      nullptr};
  r["QuantizeLinear"] = {
      [](NodeContext& n) {
        Tensor* x = n.input(0);
        if (symmetric_int8(n)) {
          impl::Operand scale = scale_operand(n);
          const std::optional<int64_t> axis = axis_of(n);
          n.set_output(0, impl::quantize::quantize(n.ctx(), n.op_type(), kONNX, n.name(), x, scale,
                                                   DataType::kINT8, axis));
          return;
        }
        const int rank = x->dims().rank();
        Tensor* zp = n.has_input(2) ? along_axis(n, n.input(2), rank, "zp_axis") : nullptr;
        const DataType to = zp ? zp->type() : DataType::kUINT8;
        if (to != DataType::kUINT8 && to != DataType::kINT8)
          n.fail(ErrorCode::kUNSUPPORTED, "zero point type " + std::string(data_type_name(to)));
        Tensor* scale = along_axis(n, n.input(1), rank, "scale_axis");
        n.set_output(0, quantize_math(n, x, scale, zp, to, n.name()));
      },
      nullptr};
  r["DequantizeLinear"] = {
      [](NodeContext& n) {
        Tensor* x = n.input(0);
        if (x->type() == DataType::kINT8 && (!n.has_input(2) || symmetric_int8(n))) {
          const DataType to = n.input(1)->type();
          impl::Operand scale = scale_operand(n);
          const std::optional<int64_t> axis = axis_of(n);
          n.set_output(0, impl::quantize::dequantize(n.ctx(), n.op_type(), kONNX, n.name(), x,
                                                     scale, to, axis));
          return;
        }
        const int rank = x->dims().rank();
        Tensor* zp = n.has_input(2) ? along_axis(n, n.input(2), rank, "zp_axis") : nullptr;
        n.set_output(0, dequantize_math(n, x, along_axis(n, n.input(1), rank, "scale_axis"), zp));
      },
      nullptr};
  // y_scale = (max(0, max x) - min(0, min x)) / 255, y_zero_point = saturate(round(-min / scale)).
  r["DynamicQuantizeLinear"] = {
      [](NodeContext& n) {
        auto& c = n.ctx();
        const auto t = n.op_type();
        Tensor* x = impl::cast::cast(c, t, kONNX, sub(n, "x32"), n.input(0), DataType::kFLOAT);
        Tensor* hi = ew::max(c, t, kONNX, sub(n, "hi"),
                             impl::reduce::max(c, t, kONNX, sub(n, "max"), x), 0.0);
        Tensor* lo = ew::min(c, t, kONNX, sub(n, "lo"),
                             impl::reduce::min(c, t, kONNX, sub(n, "min"), x), 0.0);
        Tensor* scale = ew::div(c, t, kONNX, sub(n, "scale"),
                                ew::sub(c, t, kONNX, sub(n, "range"), hi, lo), 255.0);
        Tensor* zp_f = ew::round(c, t, kONNX, sub(n, "zp_round"),
                                 ew::div(c, t, kONNX, sub(n, "zp_div"),
                                         ew::neg(c, t, kONNX, sub(n, "neg_lo"), lo), scale));
        zp_f = ew::min(c, t, kONNX, sub(n, "zp_hi"),
                       ew::max(c, t, kONNX, sub(n, "zp_lo"), zp_f, 0.0), 255.0);
        Tensor* zp = impl::cast::cast(c, t, kONNX, sub(n, "zero_point"), zp_f, DataType::kUINT8);
        n.set_output(0, quantize_math(n, x, scale, zp, DataType::kUINT8, n.name()));
        n.set_output(1, scale);
        n.set_output(2, zp);
      },
      nullptr};
  // (A - a_zero_point) x (B - b_zero_point), exact in int32.
  r["MatMulInteger"] = {
      [](NodeContext& n) {
        Tensor* a = centered(n, n.input(0), 2, -2, "a");
        Tensor* b = centered(n, n.input(1), 3, -1, "b");
        n.set_output(0, impl::matmul::matrix_multiply(n.ctx(), n.op_type(), kONNX, n.name(), a, b));
      },
      nullptr};
}

}  // namespace layerkit::onnx::detail
