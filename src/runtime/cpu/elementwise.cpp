// Reference kernels for the ElementWise, Unary, Select kinds.
#include <cmath>
#include <cstring>
#include <limits>

#include "network/layers/elementwise_ops.h"
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

namespace {

// Calls f(out_index, offset_0, offset_1, ...) for every output element, the offsets being the
// broadcast positions (Note [Broadcasting]) in each operand.
template <typename F, typename... T>
void for_each_broadcast(const KernelTensor& out, F f, const T&... ins) {
  int64_t n = out.numel();
  if (n == 0) return;
  std::vector<int64_t> idx(static_cast<size_t>(out.dims.rank()), 0);
  int64_t i = 0;
  do {
    f(i++, broadcast_offset(ins.dims, idx)...);
  } while (next_index(out.dims, idx));
}

}  // namespace

void run_reference(const ElementWiseAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& y = ctx.input(1);
  const KernelTensor& out = ctx.output(0);
  if (is_floating(x.type)) {
    for_each_broadcast(
        out,
        [&](int64_t i, int64_t ox, int64_t oy) {
          float r = detail::elementwise_float(a.op, load_f(x, ox), load_f(y, oy));
          store_f(out, i, r);
        },
        x, y);
    return;
  }
  for_each_broadcast(
      out,
      [&](int64_t i, int64_t ox, int64_t oy) {
        int64_t va = load_i(x, ox), vb = load_i(y, oy);
        std::optional<int64_t> r = detail::elementwise_int(a.op, va, vb);
        if (!r)
          ctx.fail("integer division by zero in ", enum_name(a.op), " (", va, " by ", vb,
                   " at output element ", i, ")");
        store_i(out, i, *r);
      },
      x, y);
}

void run_reference(const UnaryAttrs& a, KernelCtx& ctx) {
  using U = UnaryOperation;
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& out = ctx.output(0);
  int64_t n = x.numel();
  if (!is_floating(x.type)) {
    for (int64_t i = 0; i < n; ++i) store_i(out, i, detail::unary_int(a.op, load_i(x, i)));
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    float v = load_f(x, i);
    float r = 0.0f;
    switch (a.op) {
      case U::kEXP:
        r = std::exp(v);
        break;
      case U::kLOG:
        r = std::log(v);
        break;
      case U::kSQRT:
        r = std::sqrt(v);
        break;
      case U::kRECIP:
        r = 1.0f / v;
        break;
      case U::kABS:
        r = std::fabs(v);
        break;
      case U::kNEG:
        r = -v;
        break;
      case U::kSIN:
        r = std::sin(v);
        break;
      case U::kCOS:
        r = std::cos(v);
        break;
      case U::kTAN:
        r = std::tan(v);
        break;
      case U::kSINH:
        r = std::sinh(v);
        break;
      case U::kCOSH:
        r = std::cosh(v);
        break;
      case U::kASIN:
        r = std::asin(v);
        break;
      case U::kACOS:
        r = std::acos(v);
        break;
      case U::kATAN:
        r = std::atan(v);
        break;
      case U::kASINH:
        r = std::asinh(v);
        break;
      case U::kACOSH:
        r = std::acosh(v);
        break;
      case U::kATANH:
        r = std::atanh(v);
        break;
      case U::kCEIL:
        r = std::ceil(v);
        break;
      case U::kFLOOR:
        r = std::floor(v);
        break;
      case U::kERF:
        r = std::erf(v);
        break;
      case U::kSIGN:
        // NaN stays NaN; zero keeps its sign-less 0.
        r = std::isnan(v) ? v : static_cast<float>((v > 0.0f) - (v < 0.0f));
        break;
      case U::kROUND:
        // Ties to even (the default rounding mode), as at::round and ONNX Round do.
        r = std::nearbyint(v);
        break;
      case U::kISINF:
        r = std::isinf(v) ? 1.0f : 0.0f;
        break;
      case U::kISNAN:
        r = std::isnan(v) ? 1.0f : 0.0f;
        break;
      case U::kNOT:
        r = v == 0.0f ? 1.0f : 0.0f;
        break;
    }
    store_f(out, i, r);
  }
}

void run_reference(const SelectAttrs&, KernelCtx& ctx) {
  const KernelTensor& c = ctx.input(0);
  const KernelTensor& t = ctx.input(1);
  const KernelTensor& e = ctx.input(2);
  const KernelTensor& out = ctx.output(0);
  // Elements are copied bytewise, so every element type works unchanged.
  auto size = static_cast<size_t>(element_size(out.type));
  for_each_broadcast(
      out,
      [&](int64_t i, int64_t oc, int64_t ot, int64_t oe) {
        bool pick = load_i(c, oc) != 0;
        const auto* src = pick ? static_cast<const char*>(t.data) + ot * static_cast<int64_t>(size)
                               : static_cast<const char*>(e.data) + oe * static_cast<int64_t>(size);
        std::memcpy(static_cast<char*>(out.data) + i * static_cast<int64_t>(size), src, size);
      },
      c, t, e);
}

}  // namespace layerkit::cpu
