// ONNX converters for the ReduceX family, ArgMax/ArgMin and TopK, calls into impl::reduce and
// impl::topk.
#include "layerkit/impl/cast.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/reduce.h"
#include "layerkit/impl/shape.h"
#include "layerkit/impl/slice.h"
#include "layerkit/impl/topk.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

namespace ew = impl::elementwise;
namespace rd = impl::reduce;

enum class Reduction {
  kSUM,
  kMEAN,
  kMAX,
  kMIN,
  kPROD,
  kL1,
  kL2,
  kLOG_SUM,
  kLOG_SUM_EXP,
  kSUM_SQUARE
};

// ReduceSum takes axes as an input from opset 13, the others from opset 18.
OpConverter reduce(Reduction kind, int64_t axes_input_since) {
  return {[kind, axes_input_since](NodeContext& n) {
            auto& c = n.ctx();
            const auto t = n.op_type();
            Tensor* x = n.input(0);
            const bool keep = n.attr_int("keepdims", 1) != 0;
            auto axes = n.attr_or_input_ints("axes", 1, axes_input_since);
            if (axes && axes->empty()) axes.reset();
            if (!axes && n.attr_int("noop_with_empty_axes", 0) != 0) {
              n.set_output(0, named(n, n.net().add_identity(x)));
              return;
            }
            if (!axes) {
              axes.emplace();
              for (int i = 0; i < x->dims().rank(); ++i) axes->push_back(i);
            }
            const rd::DimList dims = *axes;
            const std::string nm = n.name();
            switch (kind) {
              case Reduction::kSUM:
                n.set_output(0, rd::sum(c, t, kONNX, nm, x, dims, keep, x->type()));
                return;
              case Reduction::kMEAN:
                n.set_output(0, rd::mean(c, t, kONNX, nm, x, dims, keep));
                return;
              case Reduction::kMAX:
                n.set_output(0, rd::max(c, t, kONNX, nm, x, dims, keep));
                return;
              case Reduction::kMIN:
                n.set_output(0, rd::min(c, t, kONNX, nm, x, dims, keep));
                return;
              case Reduction::kPROD:
                n.set_output(0, rd::prod(c, t, kONNX, nm, x, dims, keep, x->type()));
                return;
              case Reduction::kL1:
                n.set_output(0, rd::sum(c, t, kONNX, nm, ew::abs(c, t, kONNX, sub(n, "abs"), x),
                                        dims, keep, x->type()));
                return;
              case Reduction::kL2: {
                Tensor* sq = ew::mul(c, t, kONNX, sub(n, "sq"), x, x);
                Tensor* s = rd::sum(c, t, kONNX, sub(n, "sum"), sq, dims, keep, x->type());
                Tensor* r = ew::sqrt(c, t, kONNX, sub(n, "sqrt"), s);
                n.set_output(0, impl::cast::cast(c, t, kONNX, nm, r, x->type()));
                return;
              }
              case Reduction::kLOG_SUM:
                n.set_output(0, ew::log(c, t, kONNX, nm,
                                        rd::sum(c, t, kONNX, sub(n, "sum"), x, dims, keep)));
                return;
              case Reduction::kLOG_SUM_EXP: {
                // max + log(sum(exp(x - max))): no overflow for large inputs.
                Tensor* m = rd::max(c, t, kONNX, sub(n, "max"), x, dims, true);
                Tensor* e = ew::exp(c, t, kONNX, sub(n, "exp"),
                                    ew::sub(c, t, kONNX, sub(n, "shift"), x, m));
                Tensor* s = rd::sum(c, t, kONNX, sub(n, "sum"), e, dims, true);
                Tensor* r = ew::add(c, t, kONNX, keep ? nm : sub(n, "lse"),
                                    ew::log(c, t, kONNX, sub(n, "log"), s), m);
                if (!keep) {
                  std::vector<int64_t> sq = *dims;
                  r = rd::sum(c, t, kONNX, nm, r, sq, false);  // drops the size-1 dims
                }
                n.set_output(0, r);
                return;
              }
              case Reduction::kSUM_SQUARE:
                n.set_output(0, rd::sum(c, t, kONNX, nm, ew::mul(c, t, kONNX, sub(n, "sq"), x, x),
                                        dims, keep, x->type()));
                return;
            }
          },
          nullptr,
          {1}};
}

// ArgMax / ArgMin; select_last_index reverses the axis first and maps the index back.
OpConverter arg(bool is_max) {
  return {[is_max](NodeContext& n) {
            auto& c = n.ctx();
            const auto t = n.op_type();
            Tensor* x = n.input(0);
            const int rank = x->dims().rank();
            const int64_t axis = n.axis_attr("axis", 0, rank);
            const bool keep = n.attr_int("keepdims", 1) != 0;
            const bool last = n.attr_int("select_last_index", 0) != 0;
            auto fn = is_max ? impl::topk::argmax : impl::topk::argmin;
            if (!last) {
              n.set_output(0, fn(c, t, kONNX, n.name(), x, axis, keep));
              return;
            }
            const int64_t len = x->dims()[axis];
            if (len < 0)
              n.fail(ErrorCode::kUNSUPPORTED,
                     "select_last_index on dynamic axis " + std::to_string(axis));
            Dims start = Dims::of_rank(rank, 0), size = x->dims(), stride = Dims::of_rank(rank, 1);
            if (!size.is_static())
              n.fail(ErrorCode::kUNSUPPORTED,
                     "select_last_index needs static dims, got " + describe(*x));
            start[static_cast<int>(axis)] = len - 1;
            stride[static_cast<int>(axis)] = -1;
            Tensor* rev = named(n, n.net().add_slice(x, start, size, stride), "reverse");
            Tensor* i = fn(c, t, kONNX, sub(n, "arg"), rev, axis, keep);
            n.set_output(0, ew::sub(c, t, kONNX, n.name(), impl::Operand(len - 1), i));
          },
          nullptr};
}

void topk_op(NodeContext& n) {
  Tensor* x = n.input(0);
  const int rank = x->dims().rank();
  const int64_t axis = n.axis_attr("axis", -1, rank);
  const bool largest = n.attr_int("largest", 1) != 0, sorted = n.attr_int("sorted", 1) != 0;
  // K computed from a dynamic dim is the TopK layer's run-time k input.
  auto r = n.opset() >= 10 && !n.constant_input(1)
               ? impl::topk::topk_k_tensor(n.ctx(), n.op_type(), kONNX, n.name(), x, n.input(1),
                                           axis, largest, sorted)
               : impl::topk::topk(n.ctx(), n.op_type(), kONNX, n.name(), x,
                                  n.opset() < 10 ? n.attr_int("k", 1) : n.int_input(1, "K"), axis,
                                  largest, sorted);
  n.set_output(0, r.values);
  n.set_output(1, r.indices);
}

}  // namespace

void register_reduce_ops(Registry& r) {
  r["ReduceSum"] = reduce(Reduction::kSUM, 13);
  r["ReduceMean"] = reduce(Reduction::kMEAN, 18);
  r["ReduceMax"] = reduce(Reduction::kMAX, 18);
  r["ReduceMin"] = reduce(Reduction::kMIN, 18);
  r["ReduceProd"] = reduce(Reduction::kPROD, 18);
  r["ReduceL1"] = reduce(Reduction::kL1, 18);
  r["ReduceL2"] = reduce(Reduction::kL2, 18);
  r["ReduceLogSum"] = reduce(Reduction::kLOG_SUM, 18);
  r["ReduceLogSumExp"] = reduce(Reduction::kLOG_SUM_EXP, 18);
  r["ReduceSumSquare"] = reduce(Reduction::kSUM_SQUARE, 18);
  r["ArgMax"] = arg(true);
  r["ArgMin"] = arg(false);
  r["TopK"] = {topk_op, nullptr, {1}};
}

}  // namespace layerkit::onnx::detail
