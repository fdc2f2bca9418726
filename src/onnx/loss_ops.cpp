// ONNX converters for NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss, calls into
// impl::loss.
#include <limits>

#include "layerkit/impl/loss.h"
#include "layerkit/impl/normalization.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

// Without the attribute no class index is ignored; the minimum int64 is never a valid class.
int64_t ignore_index(const NodeView& n) {
  return n.attr_int("ignore_index", std::numeric_limits<int64_t>::min());
}

std::optional<impl::Operand> class_weight(const NodeContext& n) {
  if (!n.has_input(2)) return std::nullopt;
  return weight_operand(n, 2);
}

void nll_op(NodeContext& n) {
  n.set_output(0, impl::loss::nll_loss(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0),
                                       n.input(1), class_weight(n),
                                       n.attr_string("reduction", "mean"), ignore_index(n)));
}

void sce_op(NodeContext& n) {
  Tensor* lp = impl::normalization::log_softmax(n.ctx(), n.op_type(), kONNX, sub(n, "log_prob"),
                                                n.input(0), 1);
  n.set_output(0, impl::loss::nll_loss(n.ctx(), n.op_type(), kONNX, n.name(), lp, n.input(1),
                                       class_weight(n), n.attr_string("reduction", "mean"),
                                       ignore_index(n)));
  if (n.node().output_size() > 1) n.set_output(1, lp);
}

}  // namespace

void register_loss_ops(Registry& r) {
  r["NegativeLogLikelihoodLoss"] = {nll_op, nullptr};
  r["SoftmaxCrossEntropyLoss"] = {sce_op, nullptr};
}

}  // namespace layerkit::onnx::detail
