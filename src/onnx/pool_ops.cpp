// ONNX converters for pooling: MaxPool and AveragePool through impl::pool::pool_nd, the global
// pools as reductions.
#include "layerkit/impl/cast.h"
#include "layerkit/impl/pool.h"
#include "layerkit/impl/reduce.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

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

}  // namespace

void register_pool_ops(Registry& r) {
  r["MaxPool"] = {[](NodeContext& n) { pool_op(n, PoolingType::kMAX); }, nullptr};
  r["AveragePool"] = {[](NodeContext& n) { pool_op(n, PoolingType::kAVERAGE); }, nullptr};
  r["GlobalAveragePool"] = {[](NodeContext& n) { global_pool_op(n, false); }, nullptr};
  r["GlobalMaxPool"] = {[](NodeContext& n) { global_pool_op(n, true); }, nullptr};
}

}  // namespace layerkit::onnx::detail
