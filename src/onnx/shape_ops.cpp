// ONNX converter for Shape (with opset-15 start/end). No shape building block exists yet, so
// it adds the Shape (and Slice) layer directly.
#include <algorithm>

#include "layerkit/impl/utils.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {

void register_shape_ops(Registry& r) {
  r["Shape"] = {
      [](NodeContext& n) {
        Tensor* x = n.input(0);
        Layer* shape = n.net().add_shape(x);
        const int64_t rank = x->dims().rank();
        int64_t start = n.attr_int("start", 0);
        int64_t end = n.attr_int("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = std::clamp<int64_t>(start, 0, rank);
        end = std::clamp<int64_t>(end, start, rank);
        if (start == 0 && end == rank) {
          n.set_output(0, named(n, shape));
          return;
        }
        Tensor* dims = named(n, shape, "shape");
        n.set_output(0, named(n, n.net().add_slice(dims, Dims{start}, Dims{end - start}, Dims{1})));
      },
      nullptr};
}

}  // namespace layerkit::onnx::detail
