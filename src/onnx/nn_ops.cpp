// ONNX converters for network ops: Conv, ConvTranspose, pooling, normalizations, softmax
// family, Gemm, MatMul, PRelu, Clip and the remaining unary math ops.
#include <cmath>

#include "layerkit/impl/activation.h"
#include "layerkit/impl/arange.h"
#include "layerkit/impl/cast.h"
#include "layerkit/impl/conv.h"
#include "layerkit/impl/deconv.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/matmul.h"
#include "layerkit/impl/normalization.h"
#include "layerkit/impl/permutation.h"
#include "layerkit/impl/pool.h"
#include "layerkit/impl/reduce.h"
#include "layerkit/impl/shape.h"
#include "layerkit/impl/shuffle.h"
#include "layerkit/impl/topk.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

namespace ew = impl::elementwise;

// Spatial attributes of Conv, ConvTranspose and the pools, one entry per spatial axis.
struct Window {
  std::vector<int64_t> kernel, stride, dilation, pre, post;
};

std::vector<int64_t> ints_or(const NodeView& n, std::string_view name, size_t count,
                             int64_t fallback) {
  auto v = n.attr_ints(name);
  if (!v) return std::vector<int64_t>(count, fallback);
  if (v->size() != count)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute '" + std::string(name) + "' has " +
                                             std::to_string(v->size()) + " entries; expected " +
                                             std::to_string(count));
  return *v;
}

// Reads strides, dilations and pads (explicit or auto_pad SAME_*/VALID) for `kernel`; auto_pad
// SAME needs static spatial dims of `x`.
Window window(const NodeView& n, Tensor* x, std::vector<int64_t> kernel) {
  const size_t k = kernel.size();
  Window w;
  w.kernel = std::move(kernel);
  w.stride = ints_or(n, "strides", k, 1);
  w.dilation = ints_or(n, "dilations", k, 1);
  const std::string auto_pad = n.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    auto pads = ints_or(n, "pads", 2 * k, 0);
    w.pre.assign(pads.begin(), pads.begin() + static_cast<long>(k));
    w.post.assign(pads.begin() + static_cast<long>(k), pads.end());
  } else if (auto_pad == "VALID") {
    w.pre.assign(k, 0);
    w.post.assign(k, 0);
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const Dims& d = x->dims();
    for (size_t i = 0; i < k; ++i) {
      const int64_t in = d[d.rank() - static_cast<int>(k) + static_cast<int>(i)];
      if (in < 0)
        n.fail(ErrorCode::kUNSUPPORTED,
               "auto_pad " + auto_pad + " needs static spatial dims, got " + describe(*x));
      const int64_t out = (in + w.stride[i] - 1) / w.stride[i];
      const int64_t total = std::max<int64_t>(
          0, (out - 1) * w.stride[i] + (w.kernel[i] - 1) * w.dilation[i] + 1 - in);
      const int64_t small = total / 2, big = total - total / 2;
      w.pre.push_back(auto_pad == "SAME_UPPER" ? small : big);
      w.post.push_back(auto_pad == "SAME_UPPER" ? big : small);
    }
  } else {
    n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'auto_pad' is '" + auto_pad + "'");
  }
  return w;
}

std::vector<int64_t> weight_kernel(const NodeContext& n, Tensor* w) {
  const Dims& d = w->dims();
  if (d.rank() < 3)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "input 1 (W) must have rank >= 3, got " + describe(*w));
  std::vector<int64_t> k;
  for (int i = 2; i < d.rank(); ++i) k.push_back(d[i]);
  return k;
}

void conv_op(NodeContext& n) {
  Tensor* x = n.input(0);
  Tensor* w_tensor = n.input(1);
  Window w = window(n, x, weight_kernel(n, w_tensor));
  std::optional<impl::Operand> bias;
  if (n.has_input(2)) bias = weight_operand(n, 2);
  n.set_output(0, impl::conv::convolution(n.ctx(), n.op_type(), kONNX, n.name(), x,
                                          weight_operand(n, 1), bias, w.stride, w.pre, w.post,
                                          w.dilation, n.attr_int("group", 1)));
}

void conv_transpose_op(NodeContext& n) {
  Tensor* x = n.input(0);
  Tensor* wt = n.input(1);
  const std::vector<int64_t> kernel = weight_kernel(n, wt);
  const size_t k = kernel.size();
  const int64_t groups = n.attr_int("group", 1);
  std::vector<int64_t> stride = ints_or(n, "strides", k, 1);
  std::vector<int64_t> dilation = ints_or(n, "dilations", k, 1);
  std::vector<int64_t> out_pad = ints_or(n, "output_padding", k, 0);
  const std::string auto_pad = n.attr_string("auto_pad", "NOTSET");
  auto output_shape = n.attr_ints("output_shape");
  std::optional<impl::Operand> bias;
  if (n.has_input(2)) bias = weight_operand(n, 2);
  std::vector<int64_t> pre, post;
  const Dims& d = x->dims();
  auto in_size = [&](size_t i) {
    const int64_t v = d[d.rank() - static_cast<int>(k) + static_cast<int>(i)];
    if (v < 0)
      n.fail(ErrorCode::kUNSUPPORTED,
             "output_shape / auto_pad need static spatial dims, got " + describe(*x));
    return v;
  };
  if (output_shape || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    std::vector<int64_t> want;
    if (output_shape) {
      want = *output_shape;
      if (want.size() == k + 2) want.erase(want.begin(), want.begin() + 2);
      if (want.size() != k)
        n.fail(ErrorCode::kINVALID_ARGUMENT,
               "attribute 'output_shape' has " + std::to_string(want.size()) + " entries");
    } else {
      for (size_t i = 0; i < k; ++i) want.push_back(in_size(i) * stride[i]);
    }
    for (size_t i = 0; i < k; ++i) {
      const int64_t total =
          stride[i] * (in_size(i) - 1) + out_pad[i] + ((kernel[i] - 1) * dilation[i] + 1) - want[i];
      // total // 2 rounds down, also for a negative total (the output grows at one end).
      const int64_t half = total >= 0 ? total / 2 : -((1 - total) / 2);
      if (auto_pad == "SAME_UPPER") {
        pre.push_back(half);
        post.push_back(total - half);
      } else {
        pre.push_back(total - half);
        post.push_back(half);
      }
    }
  } else if (auto_pad == "NOTSET" || auto_pad == "VALID") {
    auto pads = auto_pad == "VALID" ? std::vector<int64_t>(2 * k, 0) : ints_or(n, "pads", 2 * k, 0);
    pre.assign(pads.begin(), pads.begin() + static_cast<long>(k));
    post.assign(pads.begin() + static_cast<long>(k), pads.end());
  } else {
    n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'auto_pad' is '" + auto_pad + "'");
  }
  if (pre == post) {
    bool fits = true;
    for (size_t i = 0; i < k; ++i) fits = fits && pre[i] >= 0;
    if (fits) {
      n.set_output(0, impl::deconv::deconvolution(n.ctx(), n.op_type(), kONNX, n.name(), x,
                                                  weight_operand(n, 1), bias, stride, pre, dilation,
                                                  out_pad, groups));
      return;
    }
  }
  // Asymmetric padding: the unpadded transposed convolution, then a window of the wanted size
  // starting at pre (zero-filled past the end, where output_padding reaches), then the bias.
  Tensor* full = impl::deconv::deconvolution(n.ctx(), n.op_type(), kONNX, sub(n, "full"), x,
                                             weight_operand(n, 1), std::nullopt, stride, {},
                                             dilation, {}, groups);
  const int rank = full->dims().rank();
  Dims start = Dims::of_rank(rank, 0), size = full->dims(), step = Dims::of_rank(rank, 1);
  for (size_t i = 0; i < k; ++i) {
    const int a = rank - static_cast<int>(k) + static_cast<int>(i);
    const int64_t total = stride[i] * (in_size(i) - 1) + out_pad[i] +
                          ((kernel[i] - 1) * dilation[i] + 1) - pre[i] - post[i];
    start[a] = pre[i];
    size[a] = total;
  }
  if (!size.is_static())
    n.fail(ErrorCode::kUNSUPPORTED, "asymmetric padding needs static batch and channel dims");
  Tensor* y =
      named(n, n.net().add_slice(full, start, size, step, SampleMode::kFILL), bias ? "window" : "");
  if (bias) {
    Tensor* b = impl::to_tensor(n.ctx(), *bias, y->type(), 1, n.op_type(), kONNX, sub(n, "bias"));
    std::vector<int64_t> bshape(static_cast<size_t>(rank), 1);
    bshape[rank - static_cast<int>(k) - 1] = -1;
    b = impl::shuffle::reshape(n.ctx(), n.op_type(), kONNX, sub(n, "bias_shape"), b, bshape);
    y = ew::add(n.ctx(), n.op_type(), kONNX, n.name(), y, b);
  }
  n.set_output(0, y);
}

void pool_op(NodeContext& n, PoolingType type) {
  Tensor* x = n.input(0);
  if (n.node().output_size() > 1 && !n.node().output(1).empty())
    n.fail(ErrorCode::kUNSUPPORTED, "the Indices output of MaxPool is not supported");
  if (n.attr_int("storage_order", 0) != 0 && n.node().output_size() > 1)
    n.fail(ErrorCode::kUNSUPPORTED, "storage_order 1 is not supported");
  auto kernel = n.attr_ints("kernel_shape");
  if (!kernel) n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'kernel_shape' is missing");
  const int spatial = x->dims().rank() - 2;
  if (static_cast<int>(kernel->size()) != spatial)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "kernel_shape has " + std::to_string(kernel->size()) +
                                             " entries for input " + describe(*x));
  Window w = window(n, x, *kernel);
  if (type == PoolingType::kAVERAGE)
    for (int64_t dl : w.dilation)
      if (dl != 1) n.fail(ErrorCode::kUNSUPPORTED, "AveragePool with dilations");
  impl::pool::PoolNdOptions o;
  o.type = type;
  o.kernel_size = w.kernel;
  o.stride = w.stride;
  o.pre_padding = w.pre;
  o.post_padding = w.post;
  if (type == PoolingType::kMAX) o.dilation = w.dilation;
  o.ceil_mode = n.attr_int("ceil_mode", 0) != 0;
  o.count_include_pad = n.attr_int("count_include_pad", 0) != 0;
  if (type == PoolingType::kMAX &&
      (x->type() == DataType::kUINT8 || x->type() == DataType::kINT8)) {
    // The Pooling layer takes floats; 8-bit integers are exact in fp32 and a max picks one.
    const DataType t = x->type();
    Tensor* xf =
        impl::cast::cast(n.ctx(), n.op_type(), kONNX, sub(n, "to_float"), x, DataType::kFLOAT);
    Tensor* y = impl::pool::pool_nd(n.ctx(), n.op_type(), kONNX, sub(n, "pool"), xf, o);
    n.set_output(0, impl::cast::cast(n.ctx(), n.op_type(), kONNX, n.name(), y, t));
    return;
  }
  n.set_output(0, impl::pool::pool_nd(n.ctx(), n.op_type(), kONNX, n.name(), x, o));
}

void global_pool_op(NodeContext& n, bool max) {
  Tensor* x = n.input(0);
  std::vector<int64_t> dims;
  for (int i = 2; i < x->dims().rank(); ++i) dims.push_back(i);
  n.set_output(0, max ? impl::reduce::max(n.ctx(), n.op_type(), kONNX, n.name(), x, dims, true)
                      : impl::reduce::mean(n.ctx(), n.op_type(), kONNX, n.name(), x, dims, true));
}

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

void gemm_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* a = n.input(0);
  Tensor* b = n.input(1);
  if (a->dims().rank() != 2 || b->dims().rank() != 2)
    n.fail(ErrorCode::kINVALID_ARGUMENT,
           "A and B must be 2-D, got " + describe(*a) + " and " + describe(*b));
  if (n.attr_int("transA", 0))
    a = impl::permutation::transpose(c, t, kONNX, sub(n, "a_t"), a, 0, 1);
  if (n.attr_int("transB", 0))
    b = impl::permutation::transpose(c, t, kONNX, sub(n, "b_t"), b, 0, 1);
  const double alpha = n.attr_float("alpha", 1.0f), beta = n.attr_float("beta", 1.0f);
  const bool has_c = n.has_input(2) && beta != 0.0;
  Tensor* y = impl::matmul::matrix_multiply(
      c, t, kONNX, has_c || alpha != 1.0 ? sub(n, "matmul") : n.name(), a, b);
  if (alpha != 1.0)
    y = ew::mul(c, t, kONNX, has_c ? sub(n, "alpha") : n.name(), y, impl::Operand(alpha));
  if (has_c) {
    impl::Operand cv = n.input(2);
    if (beta != 1.0) cv = ew::mul(c, t, kONNX, sub(n, "beta"), cv, impl::Operand(beta));
    y = ew::add(c, t, kONNX, n.name(), y, cv);
  }
  n.set_output(0, y);
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

// ConvInteger: (x - x_zero_point) conv (w - w_zero_point) in int32. The convolution runs in
// fp32, exact while every accumulated sum stays below 2^24 (8-bit operands, up to 256 terms of
// 255 * 255); wider sums would round.
void conv_integer_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* x = n.input(0);
  Tensor* w = n.input(1);
  auto centered = [&](Tensor* v, int zp_input, const std::string& what, bool per_channel) {
    Tensor* f = impl::cast::cast(c, t, kONNX, sub(n, what), v, DataType::kFLOAT);
    if (!n.has_input(zp_input)) return f;
    Tensor* zp =
        impl::cast::cast(c, t, kONNX, sub(n, what + "_zp"), n.input(zp_input), DataType::kFLOAT);
    if (per_channel && zp->dims().rank() == 1 && zp->dims()[0] != 1) {
      std::vector<int64_t> shape(static_cast<size_t>(v->dims().rank()), 1);
      shape[0] = -1;
      zp = impl::shuffle::reshape(c, t, kONNX, sub(n, what + "_zp_shape"), zp, shape);
    }
    return ew::sub(c, t, kONNX, sub(n, what + "_centered"), f, zp);
  };
  Tensor* xf = centered(x, 2, "x", false);
  Tensor* wf = centered(w, 3, "w", true);
  Window win = window(n, x, weight_kernel(n, w));
  Tensor* y = impl::conv::convolution(c, t, kONNX, sub(n, "conv"), xf, wf, std::nullopt, win.stride,
                                      win.pre, win.post, win.dilation, n.attr_int("group", 1));
  n.set_output(0, impl::cast::cast(c, t, kONNX, n.name(), y, DataType::kINT32));
}

// QLinearConv: x, w dequantized (w per output channel), an fp32 convolution with the int32 bias
// scaled by x_scale * w_scale, then quantized with y's scale and zero point.
void qlinear_conv_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* x = dequantized(n, 0, 1, 2, 1, "x");
  Tensor* w = dequantized(n, 3, 4, 5, 0, "w");
  std::optional<impl::Operand> bias;
  if (n.has_input(8)) {
    Tensor* b = impl::cast::cast(c, t, kONNX, sub(n, "b32"), n.input(8), DataType::kFLOAT);
    Tensor* s = ew::mul(c, t, kONNX, sub(n, "b_scale"), n.input(1), n.input(4));
    bias = ew::mul(c, t, kONNX, sub(n, "b_real"), b, s);
  }
  Window win = window(n, n.input(0), weight_kernel(n, n.input(3)));
  Tensor* y = impl::conv::convolution(c, t, kONNX, sub(n, "conv"), x, w, bias, win.stride, win.pre,
                                      win.post, win.dilation, n.attr_int("group", 1));
  n.set_output(0, quantize_math(n, y, n.input(6), n.input(7), n.input(7)->type(), n.name()));
}

}  // namespace

void register_nn_ops(Registry& r) {
  r["QLinearConv"] = {qlinear_conv_op, nullptr};
  r["ConvInteger"] = {conv_integer_op, nullptr};
  r["LRN"] = {lrn_op, nullptr};
  r["Conv"] = {conv_op, nullptr};
  r["ConvTranspose"] = {conv_transpose_op, nullptr};
  r["MaxPool"] = {[](NodeContext& n) { pool_op(n, PoolingType::kMAX); }, nullptr};
  r["AveragePool"] = {[](NodeContext& n) { pool_op(n, PoolingType::kAVERAGE); }, nullptr};
  r["GlobalAveragePool"] = {[](NodeContext& n) { global_pool_op(n, false); }, nullptr};
  r["GlobalMaxPool"] = {[](NodeContext& n) { global_pool_op(n, true); }, nullptr};
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
  r["Gemm"] = {gemm_op, nullptr};
  r["MatMul"] = {[](NodeContext& n) {
                   n.set_output(0, impl::matmul::matrix_multiply(n.ctx(), n.op_type(), kONNX,
                                                                 n.name(), n.input(0), n.input(1)));
                 },
                 nullptr};
  r["PRelu"] = {prelu_op, nullptr};
  r["Clip"] = {clip_op, nullptr};
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
  r["Celu"] = {celu_op, nullptr};
  r["Shrink"] = {shrink_op, nullptr};
  r["MeanVarianceNormalization"] = {mvn_op, nullptr};
}

}  // namespace layerkit::onnx::detail
