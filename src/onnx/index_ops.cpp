// ONNX converters for selection and indexing ops: Where, Expand, Tile, CumSum, Scatter,
// ScatterElements, ScatterND, OneHot, Trilu, Einsum, ReverseSequence and MaxUnpool.
#include "layerkit/impl/arange.h"
#include "layerkit/impl/cast.h"
#include "layerkit/impl/condition.h"
#include "layerkit/impl/cumsum.h"
#include "layerkit/impl/einsum.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/expand.h"
#include "layerkit/impl/full.h"
#include "layerkit/impl/one_hot.h"
#include "layerkit/impl/pad.h"
#include "layerkit/impl/scatter.h"
#include "layerkit/impl/select.h"
#include "layerkit/impl/shape.h"
#include "layerkit/impl/shuffle.h"
#include "layerkit/impl/slice.h"
#include "layerkit/impl/triangular.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

namespace ew = impl::elementwise;

// ONNX reduction names to the scatter block's (torch's scatter_reduce spelling).
std::string scatter_reduce(const NodeView& n) {
  const std::string r = n.attr_string("reduction", "none");
  if (r == "none") return "";
  if (r == "add") return "sum";
  if (r == "mul") return "prod";
  if (r == "max") return "amax";
  if (r == "min") return "amin";
  n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'reduction' is '" + r + "'");
}

void scatter_elements_op(NodeContext& n) {
  Tensor* data = n.input(0);
  const int64_t axis = n.axis_attr("axis", 0, data->dims().rank());
  n.set_output(0, impl::scatter::scatter(n.ctx(), n.op_type(), kONNX, n.name(), data, axis,
                                         n.input(1), n.input(2), scatter_reduce(n)));
}

void one_hot_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* values = n.input(2);
  if (values->dims().rank() != 1 || (values->dims()[0] >= 0 && values->dims()[0] != 2))
    n.fail(ErrorCode::kINVALID_ARGUMENT,
           "input 2 (values) must be [off_value, on_value], got " + describe(*values));
  impl::Operand off = impl::slice::select(c, t, kONNX, sub(n, "off"), values, 0, 0);
  impl::Operand on = impl::slice::select(c, t, kONNX, sub(n, "on"), values, 0, 1);
  n.set_output(0, impl::one_hot::one_hot_values(c, t, kONNX, n.name(), n.input(0), n.input(1), off,
                                                on, n.attr_int("axis", -1)));
}

void trilu_op(NodeContext& n) {
  const int64_t k =
      n.has_input(1) ? n.int_input(1, "k", "the triangle is a mask built with the network") : 0;
  auto fn = n.attr_int("upper", 1) != 0 ? impl::triangular::triu : impl::triangular::tril;
  n.set_output(0, fn(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0), k));
}

void einsum_op(NodeContext& n) {
  std::vector<Tensor*> ins;
  for (int i = 0; i < n.num_inputs(); ++i) ins.push_back(n.input(i));
  const std::string eq = n.attr_string("equation", "");
  if (eq.empty()) n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'equation' is missing");
  n.set_output(0, impl::einsum::einsum(n.ctx(), n.op_type(), kONNX, n.name(), eq, ins));
}

// ReverseSequence: along time_axis, the first sequence_lens[b] entries of batch b are reversed:
// out[t, b] = x[L[b] - 1 - t, b] for t < L[b], else x[t, b] (a GatherElements along time).
void reverse_sequence_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* x = n.input(0);
  const int rank = x->dims().rank();
  if (rank < 2)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "input must have rank >= 2, got " + describe(*x));
  const int64_t time = n.axis_attr("time_axis", 0, rank),
                batch = n.axis_attr("batch_axis", 1, rank);
  if (!((time == 0 && batch == 1) || (time == 1 && batch == 0)))
    n.fail(ErrorCode::kINVALID_ARGUMENT, "time_axis and batch_axis must be 0 and 1 in some order");
  Tensor* len = impl::cast::cast(c, t, kONNX, sub(n, "lens"), n.input(1), DataType::kINT64);
  Tensor* steps = impl::arange::arange(c, t, kONNX, sub(n, "steps"),
                                       impl::shape::size(c, t, kONNX, sub(n, "time_len"), x, time));
  // [T, 1] and [1, B] (or transposed) so they broadcast to the first two dims.
  std::vector<int64_t> tshape{-1, 1}, bshape{1, -1};
  if (time == 1) std::swap(tshape, bshape);
  steps = impl::shuffle::reshape(c, t, kONNX, sub(n, "steps_shape"), steps, tshape);
  len = impl::shuffle::reshape(c, t, kONNX, sub(n, "lens_shape"), len, bshape);
  Tensor* rev =
      ew::sub(c, t, kONNX, sub(n, "rev"), ew::sub(c, t, kONNX, sub(n, "last"), len, 1), steps);
  Tensor* inside = ew::lt(c, t, kONNX, sub(n, "inside"), steps, len);
  Tensor* idx = impl::condition::where(c, t, kONNX, sub(n, "index2d"), inside, rev, steps);
  if (rank > 2) {
    std::vector<std::vector<int>> groups{{0}, {1}};
    for (int d = 2; d < rank; ++d) groups.push_back({});
    idx = impl::reshape_groups(c, idx, groups, t, kONNX, sub(n, "index_rank"));
  }
  idx = impl::expand::expand_to(c, t, kONNX, sub(n, "index"), idx,
                                impl::shape::shape(c, t, kONNX, sub(n, "shape"), x));
  n.set_output(0, impl::select::gather(c, t, kONNX, n.name(), x, time, idx));
}

// MaxUnpool: zeros of the unpooled size (from kernel, strides and pads), X's values scattered to
// the flat positions in I (which index that size); a larger output_shape pads at the end.
void max_unpool_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* x = n.input(0);
  const Dims& d = x->dims();
  if (!d.is_static())
    n.fail(ErrorCode::kUNSUPPORTED, "input needs static dims, got " + describe(*x));
  const int spatial = d.rank() - 2;
  auto kernel = n.attr_ints("kernel_shape");
  if (!kernel || static_cast<int>(kernel->size()) != spatial)
    n.fail(ErrorCode::kINVALID_ARGUMENT,
           "attribute 'kernel_shape' needs one entry per spatial dim");
  auto strides = n.attr_ints("strides").value_or(std::vector<int64_t>(spatial, 1));
  auto pads = n.attr_ints("pads").value_or(std::vector<int64_t>(2 * spatial, 0));
  std::vector<int64_t> unpooled{d[0], d[1]};
  for (int i = 0; i < spatial; ++i)
    unpooled.push_back((d[2 + i] - 1) * strides[i] - pads[i] - pads[i + spatial] + (*kernel)[i]);
  std::vector<int64_t> out = unpooled;
  if (n.has_input(2)) {
    out = n.ints_input(2, "output_shape", "the unpooling scatter needs a static output shape");
    if (out.size() != unpooled.size())
      n.fail(ErrorCode::kINVALID_ARGUMENT, "output_shape has " + std::to_string(out.size()) +
                                               " entries for input " + describe(*x));
    for (size_t i = 0; i < out.size(); ++i)
      if (out[i] < unpooled[i] || (i < 2 && out[i] != unpooled[i]))
        n.fail(ErrorCode::kINVALID_ARGUMENT,
               "output_shape dim " + std::to_string(i) + " is " + std::to_string(out[i]) +
                   "; the unpooled size is " + std::to_string(unpooled[i]));
  }
  int64_t total = 1;
  for (int64_t v : unpooled) total *= v;
  Tensor* zeros =
      impl::full::zeros(c, t, kONNX, sub(n, "zeros"), std::vector<int64_t>{total}, x->type());
  Tensor* flat_x = impl::shuffle::flatten(c, t, kONNX, sub(n, "values"), x);
  Tensor* flat_i = impl::shuffle::flatten(c, t, kONNX, sub(n, "indices"), n.input(1));
  Tensor* y = impl::scatter::scatter(c, t, kONNX, sub(n, "scatter"), zeros, 0, flat_i, flat_x);
  if (out == unpooled) {
    n.set_output(0, impl::shuffle::reshape(c, t, kONNX, n.name(), y, out));
    return;
  }
  y = impl::shuffle::reshape(c, t, kONNX, sub(n, "unpooled"), y, unpooled);
  std::vector<int64_t> pad;
  for (int i = static_cast<int>(out.size()) - 1; i >= 2; --i) {
    pad.push_back(0);
    pad.push_back(out[i] - unpooled[i]);
  }
  n.set_output(0, impl::pad::constant_pad(c, t, kONNX, n.name(), y, pad, 0.0));
}

}  // namespace

void register_index_ops(Registry& r) {
  r["Where"] = {[](NodeContext& n) {
                  n.set_output(0, impl::condition::where(n.ctx(), n.op_type(), kONNX, n.name(),
                                                         n.input(0), n.input(1), n.input(2)));
                },
                nullptr};
  r["Expand"] = {[](NodeContext& n) {
                   n.set_output(0, impl::expand::expand_to(n.ctx(), n.op_type(), kONNX, n.name(),
                                                           n.input(0), n.input(1)));
                 },
                 nullptr};
  r["Tile"] = {[](NodeContext& n) {
                 n.set_output(0, impl::expand::tile(n.ctx(), n.op_type(), kONNX, n.name(),
                                                    n.input(0), n.input(1)));
               },
               nullptr};
  r["CumSum"] = {[](NodeContext& n) {
                   Tensor* x = n.input(0);
                   const int64_t axis = n.normalize_axis(
                       n.int_input(1, "axis", "the Cumulative layer's axis is an attribute"),
                       x->dims().rank(), "axis");
                   n.set_output(0, impl::cumsum::cumsum(n.ctx(), n.op_type(), kONNX, n.name(), x,
                                                        axis, n.attr_int("exclusive", 0) != 0,
                                                        n.attr_int("reverse", 0) != 0, x->type()));
                 },
                 nullptr,
                 {1}};
  r["ScatterElements"] = {scatter_elements_op, nullptr};
  r["Scatter"] = {scatter_elements_op, nullptr};
  r["ScatterND"] = {[](NodeContext& n) {
                      n.set_output(0,
                                   impl::scatter::scatter_nd(n.ctx(), n.op_type(), kONNX, n.name(),
                                                             n.input(0), n.input(1), n.input(2),
                                                             n.attr_string("reduction", "none")));
                    },
                    nullptr};
  r["OneHot"] = {one_hot_op, nullptr};
  r["Trilu"] = {trilu_op, nullptr, {1}};
  r["Einsum"] = {einsum_op, nullptr};
  r["ReverseSequence"] = {reverse_sequence_op, nullptr};
  r["MaxUnpool"] = {max_unpool_op, nullptr, {2}};
}

}  // namespace layerkit::onnx::detail
