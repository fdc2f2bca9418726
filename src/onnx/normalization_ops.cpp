// ONNX converters for normalizations: BatchNormalization, InstanceNormalization,
// LayerNormalization, MeanVarianceNormalization, LRN and the softmax family (Softmax, LogSoftmax,
// Hardmax).
#include "layerkit/impl/arange.h"
#include "layerkit/impl/cast.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/normalization.h"
#include "layerkit/impl/pool.h"
#include "layerkit/impl/reduce.h"
#include "layerkit/impl/shape.h"
#include "layerkit/impl/shuffle.h"
#include "layerkit/impl/topk.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

namespace ew = impl::elementwise;

void batch_norm_op(NodeContext& n) {
  if (n.attr_int("training_mode", 0) != 0)
    n.fail(ErrorCode::kUNSUPPORTED, "training_mode=1 (batch statistics) is not an inference op");
  if (n.opset() < 9 && n.attr_int("spatial", 1) == 0)
    n.fail(ErrorCode::kUNSUPPORTED, "spatial=0 (per-element statistics) is not supported");
  for (int o = 1; o < n.node().output_size(); ++o)
    if (!n.node().output(o).empty())
      n.fail(ErrorCode::kUNSUPPORTED, "training outputs (running statistics) are not supported");
  n.set_output(0, impl::normalization::batch_norm(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0),
                                                  weight_operand(n, 1), weight_operand(n, 2),
                                                  weight_operand(n, 3), weight_operand(n, 4), false,
                                                  0.1, n.attr_float("epsilon", 1e-5f)));
}

void instance_norm_op(NodeContext& n) {
  n.set_output(0, impl::normalization::instance_norm(
                      n.ctx(), n.op_type(), kONNX, n.name(), n.input(0), weight_operand(n, 1),
                      weight_operand(n, 2), std::nullopt, std::nullopt, true, 0.1,
                      n.attr_float("epsilon", 1e-5f)));
}

void layer_norm_op(NodeContext& n) {
  Tensor* x = n.input(0);
  const int rank = x->dims().rank();
  const int64_t axis = n.axis_attr("axis", -1, rank);
  const double eps = n.attr_float("epsilon", 1e-5f);
  const bool stats = (n.node().output_size() > 1 && !n.node().output(1).empty()) ||
                     (n.node().output_size() > 2 && !n.node().output(2).empty());
  std::vector<int64_t> normalized;
  for (int i = static_cast<int>(axis); i < rank; ++i) normalized.push_back(x->dims()[i]);
  const bool static_norm =
      std::all_of(normalized.begin(), normalized.end(), [](int64_t v) { return v >= 0; });
  std::optional<impl::Operand> bias;
  if (n.has_input(2)) bias = weight_operand(n, 2);
  if (!stats && static_norm) {
    n.set_output(0, impl::normalization::layer_norm(n.ctx(), n.op_type(), kONNX, n.name(), x,
                                                    normalized, weight_operand(n, 1), bias, eps));
    return;
  }
  // Mean and InvStdDev are outputs too: the composite of the spec, in fp32 (stash_type 1).
  auto& c = n.ctx();
  const auto t = n.op_type();
  std::vector<int64_t> dims;
  for (int i = static_cast<int>(axis); i < rank; ++i) dims.push_back(i);
  Tensor* xf = impl::cast::cast(c, t, kONNX, sub(n, "x32"), x, DataType::kFLOAT);
  Tensor* mean = impl::reduce::mean(c, t, kONNX, sub(n, "mean"), xf, dims, true);
  Tensor* dev = ew::sub(c, t, kONNX, sub(n, "dev"), xf, mean);
  Tensor* var = impl::reduce::mean(c, t, kONNX, sub(n, "var"),
                                   ew::mul(c, t, kONNX, sub(n, "sq"), dev, dev), dims, true);
  Tensor* inv = ew::div(
      c, t, kONNX, sub(n, "inv_std"), 1.0,
      ew::sqrt(c, t, kONNX, sub(n, "std"), ew::add(c, t, kONNX, sub(n, "var_eps"), var, eps)));
  Tensor* y = ew::mul(c, t, kONNX, sub(n, "normed"), dev, inv);
  y = ew::mul(c, t, kONNX, sub(n, "scaled"), y, n.input(1));
  if (bias) y = ew::add(c, t, kONNX, sub(n, "shifted"), y, *bias);
  n.set_output(0, impl::cast::cast(c, t, kONNX, n.name(), y, x->type()));
  if (n.node().output_size() > 1) n.set_output(1, mean);
  if (n.node().output_size() > 2) n.set_output(2, inv);
}

// Before opset 13 the softmax family flattens to 2-D at `axis` and works on dim 1.
template <typename Fn>
void softmax_family(NodeContext& n, Fn fn) {
  Tensor* x = n.input(0);
  const int rank = x->dims().rank();
  if (n.opset() >= 13) {
    n.set_output(0, fn(n.name(), x, n.axis_attr("axis", -1, rank)));
    return;
  }
  int64_t axis = n.attr_int("axis", 1);
  if (axis < -rank || axis > rank)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'axis' is " + std::to_string(axis));
  if (axis < 0) axis += rank;
  if (axis == rank - 1 || rank <= 1) {
    n.set_output(0, fn(n.name(), x, rank == 0 ? 0 : rank - 1));
    return;
  }
  std::vector<std::vector<int>> groups(2);
  for (int d = 0; d < rank; ++d) groups[d < axis ? 0 : 1].push_back(d);
  Tensor* flat = impl::reshape_groups(n.ctx(), x, groups, n.op_type(), kONNX, sub(n, "flat"));
  Tensor* y = fn(sub(n, "op"), flat, 1);
  Tensor* shape = impl::shape::shape(n.ctx(), n.op_type(), kONNX, sub(n, "shape"), x);
  n.set_output(0, impl::shuffle::reshape(n.ctx(), n.op_type(), kONNX, n.name(), y, shape));
}

// Hardmax: 1 at the first maximum along the axis, 0 elsewhere.
Tensor* hardmax(NodeContext& n, const std::string& name, Tensor* x, int64_t axis) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  const int rank = x->dims().rank();
  Tensor* idx = impl::topk::argmax(c, t, kONNX, impl::sub_name(name, "argmax"), x, axis, true);
  Tensor* len = impl::shape::size(c, t, kONNX, impl::sub_name(name, "len"), x, axis);
  Tensor* iota = impl::arange::arange(c, t, kONNX, impl::sub_name(name, "iota"), len);
  std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
  shape[axis] = -1;
  iota = impl::shuffle::reshape(c, t, kONNX, impl::sub_name(name, "iota_shape"), iota, shape);
  Tensor* hit = ew::eq(c, t, kONNX, impl::sub_name(name, "hit"), idx, iota);
  return impl::cast::cast(c, t, kONNX, name, hit, x->type());
}

// MeanVarianceNormalization: (x - mean) / sqrt(mean(x^2) - mean(x)^2) over `axes`.
void mvn_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* x = n.input(0);
  std::vector<int64_t> axes = n.attr_ints("axes").value_or(std::vector<int64_t>{0, 2, 3});
  Tensor* mean = impl::reduce::mean(c, t, kONNX, sub(n, "mean"), x, axes, true);
  Tensor* sq_mean = impl::reduce::mean(c, t, kONNX, sub(n, "sq_mean"),
                                       ew::mul(c, t, kONNX, sub(n, "sq"), x, x), axes, true);
  Tensor* var = ew::sub(c, t, kONNX, sub(n, "var"), sq_mean,
                        ew::mul(c, t, kONNX, sub(n, "mean_sq"), mean, mean));
  Tensor* dev = ew::sub(c, t, kONNX, sub(n, "dev"), x, mean);
  n.set_output(0, ew::div(c, t, kONNX, n.name(), dev,
                          ew::add(c, t, kONNX, sub(n, "std_eps"),
                                  ew::sqrt(c, t, kONNX, sub(n, "std"), var), 1e-9)));
}

// LRN: x / (bias + alpha / size * sum of x^2 over `size` neighbouring channels)^beta; the
// channel sum is an average pool (padding counted) over [N, 1, C, spatial] times size.
void lrn_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* x = n.input(0);
  const int rank = x->dims().rank();
  if (rank < 3)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "input must be [N, C, ...], got " + describe(*x));
  const int64_t size = n.attr_int("size", 0);
  if (size <= 0)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'size' is " + std::to_string(size));
  const double alpha = n.attr_float("alpha", 1e-4f), beta = n.attr_float("beta", 0.75f),
               bias = n.attr_float("bias", 1.0f);
  std::vector<std::vector<int>> groups{{0}, {}, {1}, {}};
  for (int d = 2; d < rank; ++d) groups[3].push_back(d);
  Tensor* sq = ew::mul(c, t, kONNX, sub(n, "sq"), x, x);
  Tensor* grid = impl::reshape_groups(c, sq, groups, t, kONNX, sub(n, "grid"));
  impl::pool::PoolNdOptions p;
  p.type = PoolingType::kAVERAGE;
  p.kernel_size = {size, 1};
  p.pre_padding = {(size - 1) / 2, 0};
  p.post_padding = {size - 1 - (size - 1) / 2, 0};
  p.count_include_pad = true;
  Tensor* avg = impl::pool::pool_nd(c, t, kONNX, sub(n, "window"), grid, p);
  Tensor* shape = impl::shape::shape(c, t, kONNX, sub(n, "shape"), x);
  Tensor* sum = impl::shuffle::reshape(c, t, kONNX, sub(n, "sum"), avg, shape);
  // alpha / size * (size * avg) = alpha * avg.
  Tensor* base = ew::add(c, t, kONNX, sub(n, "base"),
                         ew::mul(c, t, kONNX, sub(n, "scaled"), sum, alpha), bias);
  n.set_output(0,
               ew::div(c, t, kONNX, n.name(), x, ew::pow(c, t, kONNX, sub(n, "pow"), base, beta)));
}

}  // namespace

void register_normalization_ops(Registry& r) {
  r["BatchNormalization"] = {batch_norm_op, nullptr};
  r["InstanceNormalization"] = {instance_norm_op, nullptr};
  r["LayerNormalization"] = {layer_norm_op, nullptr};
  r["Softmax"] = {[](NodeContext& n) {
                    softmax_family(n, [&](const std::string& name, Tensor* x, int64_t axis) {
                      return impl::normalization::softmax(n.ctx(), n.op_type(), kONNX, name, x,
                                                          axis);
                    });
                  },
                  nullptr};
  r["LogSoftmax"] = {[](NodeContext& n) {
                       softmax_family(n, [&](const std::string& name, Tensor* x, int64_t axis) {
                         return impl::normalization::log_softmax(n.ctx(), n.op_type(), kONNX, name,
                                                                 x, axis);
                       });
                     },
                     nullptr};
  r["Hardmax"] = {[](NodeContext& n) {
                    softmax_family(n, [&](const std::string& name, Tensor* x, int64_t axis) {
                      return hardmax(n, name, x, axis);
                    });
                  },
                  nullptr};
  r["MeanVarianceNormalization"] = {mvn_op, nullptr};
  r["LRN"] = {lrn_op, nullptr};
}

}  // namespace layerkit::onnx::detail
