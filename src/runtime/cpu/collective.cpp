// Reference kernel for the Collective kind: rearranges data around the communicator's flat calls.
#include <cstring>

#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {
namespace {

// Views dims as [outer, n, inner] around `axis`.
struct Split {
  int64_t outer = 1, n = 1, inner = 1;
};
Split split(const Dims& d, int axis) {
  Split s;
  for (int i = 0; i < axis; ++i) s.outer *= d[i];
  s.n = d[axis];
  for (int i = axis + 1; i < d.rank(); ++i) s.inner *= d[i];
  return s;
}

}  // namespace

void run_reference(const CollectiveAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& out = ctx.output(0);
  const auto esize = static_cast<size_t>(element_size(x.type));
  if (a.world_size == 1) {  // every operation is the identity on one rank
    if (x.numel() > 0) std::memcpy(out.data, x.data, static_cast<size_t>(x.numel()) * esize);
    return;
  }
  Communicator* comm = ctx.communicator();
  if (!comm)
    ctx.fail("world_size is ", a.world_size,
             " but the engine has no communicator (set BuilderConfig::communicator, or "
             "DeserializeOptions::communicator for an engine read from a plan)");
  bool ok = comm->rank() == a.rank && comm->world_size() == a.world_size;
  if (!comm->all_ok(ok)) {
    if (!ok)
      ctx.fail("the communicator has rank ", comm->rank(), " of world size ", comm->world_size(),
               " but the layer says rank ", a.rank, " of ", a.world_size);
    ctx.fail("another rank's communicator disagrees with its layer's rank or world size");
  }
  // Every rank must pass the same dims, or the flat calls below would disagree on counts.
  std::vector<int64_t> shape(kMaxDims + 1, -1), lo(shape.size()), hi(shape.size());
  shape[0] = x.dims.rank();
  for (int d = 0; d < x.dims.rank(); ++d) shape[static_cast<size_t>(d) + 1] = x.dims[d];
  auto count = static_cast<int64_t>(shape.size());
  comm->all_reduce(shape.data(), lo.data(), count, DataType::kINT64, ReduceOperation::kMIN);
  comm->all_reduce(shape.data(), hi.data(), count, DataType::kINT64, ReduceOperation::kMAX);
  if (lo != hi) ctx.fail("ranks pass different input dims (this rank: ", x.dims.to_string(), ")");

  const auto* src = static_cast<const uint8_t*>(x.data);
  auto* dst = static_cast<uint8_t*>(out.data);
  switch (a.op) {
    case CollectiveOperation::kALL_REDUCE:
      comm->all_reduce(x.data, out.data, x.numel(), x.type, a.reduce_op);
      return;
    case CollectiveOperation::kALL_GATHER: {
      int axis = a.axis < 0 ? a.axis + x.dims.rank() : a.axis;
      Split s = split(x.dims, axis);
      std::vector<uint8_t> gathered(static_cast<size_t>(x.numel() * a.world_size) * esize);
      comm->all_gather(x.data, gathered.data(), x.numel(), x.type);
      // gathered is [world, outer, n, inner]; the output is [outer, world * n, inner].
      size_t row = static_cast<size_t>(s.n * s.inner) * esize;
      for (int64_t r = 0; r < a.world_size; ++r)
        for (int64_t o = 0; o < s.outer; ++o)
          std::memcpy(dst + static_cast<size_t>(o * a.world_size + r) * row,
                      gathered.data() + static_cast<size_t>(r * s.outer + o) * row, row);
      return;
    }
    case CollectiveOperation::kREDUCE_SCATTER: {
      int axis = a.axis < 0 ? a.axis + x.dims.rank() : a.axis;
      Split s = split(x.dims, axis);
      int64_t c = s.n / a.world_size;
      // Reorder [outer, world * c, inner] to [world, outer, c, inner] so chunk r is contiguous.
      std::vector<uint8_t> chunks(static_cast<size_t>(x.numel()) * esize);
      size_t row = static_cast<size_t>(c * s.inner) * esize;
      for (int64_t r = 0; r < a.world_size; ++r)
        for (int64_t o = 0; o < s.outer; ++o)
          std::memcpy(chunks.data() + static_cast<size_t>(r * s.outer + o) * row,
                      src + static_cast<size_t>(o * a.world_size + r) * row, row);
      comm->reduce_scatter(chunks.data(), out.data, out.numel(), x.type, a.reduce_op);
      return;
    }
  }
}

}  // namespace layerkit::cpu
