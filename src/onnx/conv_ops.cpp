// ONNX converters for convolutions: Conv, ConvTranspose, ConvInteger and QLinearConv, and the
// spatial attributes (strides, dilations, pads, auto_pad) they share with the pools.
#include <algorithm>

#include "layerkit/impl/cast.h"
#include "layerkit/impl/conv.h"
#include "layerkit/impl/deconv.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/shuffle.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

namespace ew = impl::elementwise;

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

}  // namespace

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

namespace {

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

void register_conv_ops(Registry& r) {
  r["QLinearConv"] = {qlinear_conv_op, nullptr};
  r["ConvInteger"] = {conv_integer_op, nullptr};
  r["Conv"] = {conv_op, nullptr};
  r["ConvTranspose"] = {conv_transpose_op, nullptr};
}

}  // namespace layerkit::onnx::detail
