// ONNX converters for activations, calls into impl::activation (HardSigmoid and ThresholdedRelu,
// which have no block with ONNX's parameters, use the Activation layer directly), and those
// composed from element-wise blocks: PRelu, Clip, Celu and Shrink.
#include "layerkit/impl/activation.h"
#include "layerkit/impl/cast.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/utils.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

namespace act = impl::activation;
namespace ew = impl::elementwise;

OpConverter layer(ActivationType type, const char* alpha_name, float alpha_default,
                  const char* beta_name, float beta_default) {
  return {[=](NodeContext& n) {
            const float alpha = alpha_name ? n.attr_float(alpha_name, alpha_default) : 0.0f;
            const float beta = beta_name ? n.attr_float(beta_name, beta_default) : 0.0f;
            Tensor* x = n.input(0);
            if (!is_floating(x->type()))
              n.fail(ErrorCode::kINVALID_ARGUMENT, "input 0 must be floating, got " + describe(*x));
            n.set_output(0, named(n, n.net().add_activation(x, type, alpha, beta)));
          },
          nullptr};
}

// max(x, 0) + min(x, 0) * slope: ONNX's PRelu broadcasts slope to X (numpy rules), which the
// per-channel prelu block does not cover.
void prelu_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* x = n.input(0);
  Tensor* pos = ew::max(c, t, kONNX, sub(n, "pos"), x, impl::Operand(0));
  Tensor* neg = ew::min(c, t, kONNX, sub(n, "neg"), x, impl::Operand(0));
  neg = ew::mul(c, t, kONNX, sub(n, "scaled"), neg, n.input(1));
  n.set_output(0, ew::add(c, t, kONNX, n.name(), pos, neg));
}

void clip_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* y = n.input(0);
  std::optional<impl::Operand> lo, hi;
  if (n.opset() < 11) {
    if (n.attr("min")) lo = impl::Operand(static_cast<double>(n.attr_float("min", 0.0f)));
    if (n.attr("max")) hi = impl::Operand(static_cast<double>(n.attr_float("max", 0.0f)));
  } else {
    if (n.has_input(1)) lo = n.input(1);
    if (n.has_input(2)) hi = n.input(2);
  }
  if (!lo && !hi) {
    n.set_output(0, named(n, n.net().add_identity(y)));
    return;
  }
  const DataType type = y->type();
  if (lo) y = ew::max(c, t, kONNX, hi ? sub(n, "min") : n.name(), y, *lo);
  if (hi) y = ew::min(c, t, kONNX, n.name(), y, *hi);
  if (y->type() != type) y = impl::cast::cast(c, t, kONNX, sub(n, "cast"), y, type);
  n.set_output(0, y);
}

// Celu: max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).
void celu_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* x = n.input(0);
  const double alpha = n.attr_float("alpha", 1.0f);
  Tensor* e = ew::exp(c, t, kONNX, sub(n, "exp"), ew::div(c, t, kONNX, sub(n, "xa"), x, alpha));
  e = ew::mul(c, t, kONNX, sub(n, "em1a"), ew::sub(c, t, kONNX, sub(n, "em1"), e, 1.0), alpha);
  Tensor* neg = ew::min(c, t, kONNX, sub(n, "neg"), e, 0.0);
  Tensor* pos = ew::max(c, t, kONNX, sub(n, "pos"), x, 0.0);
  n.set_output(0, ew::add(c, t, kONNX, n.name(), pos, neg));
}

// Shrink: x + bias below -lambd, x - bias above lambd, 0 between.
void shrink_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* x = n.input(0);
  const double lambd = n.attr_float("lambd", 0.5f), bias = n.attr_float("bias", 0.0f);
  const DataType type = x->type();
  Tensor* lo = impl::cast::cast(c, t, kONNX, sub(n, "lo_mask"),
                                ew::lt(c, t, kONNX, sub(n, "lo"), x, -lambd), type);
  Tensor* hi = impl::cast::cast(c, t, kONNX, sub(n, "hi_mask"),
                                ew::gt(c, t, kONNX, sub(n, "hi"), x, lambd), type);
  Tensor* a =
      ew::mul(c, t, kONNX, sub(n, "lo_val"), lo, ew::add(c, t, kONNX, sub(n, "xb"), x, bias));
  Tensor* b =
      ew::mul(c, t, kONNX, sub(n, "hi_val"), hi, ew::sub(c, t, kONNX, sub(n, "xs"), x, bias));
  Tensor* y = ew::add(c, t, kONNX, sub(n, "sum"), a, b);
  n.set_output(0, impl::cast::cast(c, t, kONNX, n.name(), y, type));
}

}  // namespace

void register_activation_ops(Registry& r) {
  r["Relu"] = {[](NodeContext& n) {
                 n.set_output(0, act::relu(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0)));
               },
               nullptr};
  r["Sigmoid"] = {[](NodeContext& n) {
                    n.set_output(0,
                                 act::sigmoid(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0)));
                  },
                  nullptr};
  r["Tanh"] = {[](NodeContext& n) {
                 n.set_output(0, act::tanh(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0)));
               },
               nullptr};
  r["LeakyRelu"] = {[](NodeContext& n) {
                      n.set_output(0, act::leaky_relu(n.ctx(), n.op_type(), kONNX, n.name(),
                                                      n.input(0), n.attr_float("alpha", 0.01f)));
                    },
                    nullptr};
  r["Elu"] = {[](NodeContext& n) {
                n.set_output(0, act::elu(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0),
                                         n.attr_float("alpha", 1.0f)));
              },
              nullptr};
  // ONNX Selu(alpha, gamma) is elu with scale = gamma.
  r["Selu"] = {[](NodeContext& n) {
                 n.set_output(0, act::elu(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0),
                                          n.attr_float("alpha", 1.67326319217681884765625f),
                                          n.attr_float("gamma", 1.05070102214813232421875f)));
               },
               nullptr};
  r["Softsign"] = {[](NodeContext& n) {
                     n.set_output(0,
                                  act::softsign(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0)));
                   },
                   nullptr};
  r["Softplus"] = {[](NodeContext& n) {
                     n.set_output(0,
                                  act::softplus(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0)));
                   },
                   nullptr};
  r["HardSwish"] = {[](NodeContext& n) {
                      n.set_output(
                          0, act::hard_swish(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0)));
                    },
                    nullptr};
  // Gelu (opset 20): approximate "none" (erf) or "tanh", as torch.
  r["Gelu"] = {[](NodeContext& n) {
                 const std::string approx = n.attr_string("approximate", "none");
                 if (approx != "none" && approx != "tanh")
                   n.fail(ErrorCode::kINVALID_ARGUMENT,
                          "attribute 'approximate' is '" + approx + "'; expected none or tanh");
                 n.set_output(0,
                              act::gelu(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0), approx));
               },
               nullptr};
  r["HardSigmoid"] = layer(ActivationType::kHARD_SIGMOID, "alpha", 0.2f, "beta", 0.5f);
  r["ThresholdedRelu"] = layer(ActivationType::kTHRESHOLDED_RELU, "alpha", 1.0f, nullptr, 0.0f);
  r["PRelu"] = {prelu_op, nullptr};
  r["Clip"] = {clip_op, nullptr};
  r["Celu"] = {celu_op, nullptr};
  r["Shrink"] = {shrink_op, nullptr};
}

}  // namespace layerkit::onnx::detail
