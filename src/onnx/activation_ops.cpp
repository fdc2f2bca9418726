// ONNX converters for activations, calls into impl::activation (HardSigmoid and ThresholdedRelu,
// which have no block with ONNX's parameters, use the Activation layer directly).
#include "layerkit/impl/activation.h"
#include "layerkit/impl/utils.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

namespace act = impl::activation;

OpConverter layer(ActivationType type, const char* alpha_name, float alpha_default,
                  const char* beta_name, float beta_default) {
  return {[=](NodeContext& n) {
            const float alpha = alpha_name ? n.attr_float(alpha_name, alpha_default) : 0.0f;
            const float beta = beta_name ? n.attr_float(beta_name, beta_default) : 0.0f;
            Tensor* x = n.input(0);
            if (!is_floating(x->type()))
              n.fail(ErrorCode::kINVALID_ARGUMENT, "input 0 must be floating, got " + describe(*x));
            Layer* l = n.net().add_activation(x, type, alpha, beta);
            impl::set_layer_name(n.ctx(), l, n.op_type(), kONNX, n.name());
            n.set_output(0, l->output(0));
          },
          nullptr};
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
}

}  // namespace layerkit::onnx::detail
