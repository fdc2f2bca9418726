// ONNX converters for Gather, GatherElements and GatherND, calls into impl::select.
#include "layerkit/impl/select.h"
#include "layerkit/impl/utils.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
void register_select_ops(Registry& r) {
  r["Gather"] = {
      [](NodeContext& n) {
        Tensor* data = n.input(0);
        Tensor* idx = n.input(1);
        const int64_t axis = n.attr_int("axis", 0);
        if (idx->dims().rank() == 1) {
          n.set_output(0, impl::select::index_select(n.ctx(), n.op_type(), kONNX, n.name(), data,
                                                     axis, idx));
          return;
        }
        // No block takes indices of other ranks yet: the Gather layer has ONNX's
        // semantics exactly (negative indices wrap).
        const int rank = data->dims().rank();
        if (axis < -rank || axis >= rank)
          n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'axis' is " + std::to_string(axis) +
                                                   " but input 0 " + describe(*data) +
                                                   " has rank " + std::to_string(rank));
        n.set_output(
            0, named(n, n.net().add_gather(data, idx,
                                           static_cast<int32_t>(axis < 0 ? axis + rank : axis))));
      },
      nullptr};
  r["GatherElements"] = {
      [](NodeContext& n) {
        n.set_output(0, impl::select::gather(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0),
                                             n.attr_int("axis", 0), n.input(1)));
      },
      nullptr};
  r["GatherND"] = {
      [](NodeContext& n) {
        n.set_output(0, impl::select::gather_nd(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0),
                                                n.input(1), n.attr_int("batch_dims", 0)));
      },
      nullptr};
}

}  // namespace layerkit::onnx::detail
