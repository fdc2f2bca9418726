// Reference kernel for the Slice kind (all sample modes, every element type).
#include <cstring>

#include "network/layers/slice_sample.h"
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

namespace {

std::vector<int64_t> param(const KernelCtx& ctx, int input, const Dims& attr) {
  std::vector<int64_t> v;
  if (ctx.has_input(input)) {
    const KernelTensor& t = ctx.input(input);
    for (int64_t i = 0; i < t.numel(); ++i) v.push_back(load_i(t, i));
  } else {
    v.assign(attr.begin(), attr.end());
  }
  return v;
}

}  // namespace

void run_reference(const SliceAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& out = ctx.output(0);
  int rank = x.dims.rank();
  std::vector<int> axes;
  if (ctx.has_input(5)) {
    const KernelTensor& t = ctx.input(5);
    for (int64_t i = 0; i < t.numel(); ++i) {
      int64_t ax = load_i(t, i);
      axes.push_back(static_cast<int>(ax < 0 ? ax + rank : ax));
    }
  } else {
    for (int d = 0; d < rank; ++d) axes.push_back(d);
  }
  std::vector<int64_t> start = param(ctx, 1, a.start), stride = param(ctx, 3, a.stride);
  std::vector<int64_t> st(static_cast<size_t>(rank), 0), sd(static_cast<size_t>(rank), 1);
  for (size_t k = 0; k < axes.size(); ++k) {
    st[static_cast<size_t>(axes[k])] = start[k];
    sd[static_cast<size_t>(axes[k])] = stride[k];
  }
  if (out.numel() == 0) return;

  int64_t es = element_size(x.type);
  std::vector<uint8_t> fill(static_cast<size_t>(es), 0);
  if (ctx.has_input(4)) std::memcpy(fill.data(), ctx.input(4).data, static_cast<size_t>(es));

  std::vector<int64_t> oi(static_cast<size_t>(rank), 0);
  int64_t o = 0;
  do {
    int64_t off = 0;
    bool inside = true;
    for (int d = 0; d < rank; ++d) {
      size_t i = static_cast<size_t>(d);
      int64_t dim = x.dims[d];
      int64_t raw = st[i] + oi[i] * sd[i];
      if (dim == 0 && a.mode != SampleMode::kFILL)
        ctx.fail("mode ", enum_name(a.mode), " cannot read from axis ", d, " of size 0");
      int64_t src = dim > 0 ? detail::slice_source_index(a.mode, raw, dim) : -1;
      if (src < 0 && a.mode == SampleMode::kSTRICT_BOUNDS)
        ctx.fail("kSTRICT_BOUNDS slice reads index ", raw, " of axis ", d, " (size ", dim,
                 ", start ", st[i], ", stride ", sd[i], ") of input dims ", x.dims.to_string());
      inside = inside && src >= 0;
      off = off * dim + (src >= 0 ? src : 0);
    }
    char* dst = static_cast<char*>(out.data) + o * es;
    if (inside) {
      std::memcpy(dst, static_cast<const char*>(x.data) + off * es, static_cast<size_t>(es));
    } else {
      std::memcpy(dst, fill.data(), static_cast<size_t>(es));
    }
    ++o;
  } while (next_index(out.dims, oi));
}

}  // namespace layerkit::cpu
