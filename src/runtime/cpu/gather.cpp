// Reference kernels for the Gather, Scatter, NonZero kinds.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "network/infer.h"
#include "network/layers/gather_index.h"
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

namespace {

// Copies element `from` of `src` to element `to` of `dst` (same type), whatever the type.
void copy_element(const KernelTensor& src, int64_t from, const KernelTensor& dst, int64_t to) {
  const int64_t size = element_size(src.type);
  std::memcpy(static_cast<char*>(dst.data) + to * size,
              static_cast<const char*>(src.data) + from * size, static_cast<size_t>(size));
}

}  // namespace

void run_reference(const GatherAttrs& a, KernelCtx& ctx) {
  const KernelTensor& data = ctx.input(0);
  const KernelTensor& ind = ctx.input(1);
  const KernelTensor& out = ctx.output(0);
  // Inference has validated the axis; normalise it the same way.
  int axis = a.mode == GatherMode::kND ? 0 : (a.axis < 0 ? a.axis + data.dims.rank() : a.axis);
  auto src = detail::gather_sources(
      a, axis, data.dims, ind.dims, out.dims, [&](int64_t i) { return load_i(ind, i); },
      [&](const std::string& msg) { ctx.fail(msg); });
  for (size_t i = 0; i < src.size(); ++i) copy_element(data, src[i], out, static_cast<int64_t>(i));
}

void run_reference(const ScatterAttrs& a, KernelCtx& ctx) {
  const KernelTensor& data = ctx.input(0);
  const KernelTensor& ind = ctx.input(1);
  const KernelTensor& upd = ctx.input(2);
  const KernelTensor& out = ctx.output(0);
  int axis = a.mode == ScatterMode::kND ? 0 : (a.axis < 0 ? a.axis + data.dims.rank() : a.axis);
  // Resolve (and range-check) every target before writing anything.
  auto dst = detail::scatter_targets(
      a, axis, data.dims, ind.dims, upd.dims, [&](int64_t i) { return load_i(ind, i); },
      [&](const std::string& msg) { ctx.fail(msg); });
  if (data.numel() > 0)
    std::memcpy(out.data, data.data, static_cast<size_t>(data.numel() * element_size(data.type)));
  switch (a.reduction) {
    case ScatterReduction::kNONE:
      // Duplicate targets: later updates (row-major order) win, as a sequential at::scatter does.
      for (size_t i = 0; i < dst.size(); ++i)
        copy_element(upd, static_cast<int64_t>(i), out, dst[i]);
      return;
    case ScatterReduction::kSUM:
    case ScatterReduction::kPROD:
    case ScatterReduction::kMAX:
    case ScatterReduction::kMIN:
      break;
  }
  // Each update combines with the current value in row-major order, rounding to the data type
  // after every step (as a sequential at::scatter_reduce does for 16-bit floats). Integers wrap
  // in int64 and are stored back in their type; max/min propagate NaN as torch does.
  const ScatterReduction op = a.reduction;
  if (is_floating(out.type)) {
    for (size_t i = 0; i < dst.size(); ++i) {
      float cur = load_f(out, dst[i]);
      float u = load_f(upd, static_cast<int64_t>(i));
      float r = 0.0f;
      switch (op) {
        case ScatterReduction::kSUM:
          r = cur + u;
          break;
        case ScatterReduction::kPROD:
          r = cur * u;
          break;
        case ScatterReduction::kMAX:
          r = std::isnan(cur) || cur >= u ? cur : u;
          break;
        case ScatterReduction::kMIN:
          r = std::isnan(cur) || cur <= u ? cur : u;
          break;
        case ScatterReduction::kNONE:
          r = u;
          break;
      }
      store_f(out, dst[i], r);
    }
    return;
  }
  for (size_t i = 0; i < dst.size(); ++i) {
    int64_t cur = load_i(out, dst[i]);
    int64_t u = load_i(upd, static_cast<int64_t>(i));
    int64_t r = 0;
    switch (op) {
      case ScatterReduction::kSUM:
        r = static_cast<int64_t>(static_cast<uint64_t>(cur) + static_cast<uint64_t>(u));
        break;
      case ScatterReduction::kPROD:
        r = static_cast<int64_t>(static_cast<uint64_t>(cur) * static_cast<uint64_t>(u));
        break;
      case ScatterReduction::kMAX:
        r = std::max(cur, u);
        break;
      case ScatterReduction::kMIN:
        r = std::min(cur, u);
        break;
      case ScatterReduction::kNONE:
        r = u;
        break;
    }
    store_i(out, dst[i], r);
  }
}

void run_reference(const NonZeroAttrs&, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& out = ctx.output(0);
  const int rank = x.dims.rank();
  const int64_t count = out.dims[1];
  int64_t c = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    bool nz = is_floating(x.type) ? load_f(x, i) != 0.0f : load_i(x, i) != 0;
    if (!nz) continue;
    if (c >= count) ctx.fail("more nonzero elements than the inferred count ", count);
    int64_t rest = i;
    for (int d = rank - 1; d >= 0; --d) {
      store_i(out, d * count + c, rest % x.dims[d]);
      rest /= x.dims[d];
    }
    ++c;
  }
  if (c != count) ctx.fail("found ", c, " nonzero elements but inference counted ", count);
}

}  // namespace layerkit::cpu
