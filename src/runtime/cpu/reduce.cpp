// Reference kernels for the Reduce, TopK, Cumulative kinds.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

namespace {

// Output flat offset of input element `idx` of a reduction over `axes`.
int64_t reduce_offset(const Dims& in, AxesMask axes, const std::vector<int64_t>& idx) {
  int64_t off = 0;
  for (int d = 0; d < in.rank(); ++d)
    if (!(axes & (1u << d))) off = off * in[d] + idx[static_cast<size_t>(d)];
  return off;
}

// a + b; integers wrap (two's complement) instead of overflowing.
template <typename T>
T add(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) +
                          static_cast<std::make_unsigned_t<T>>(b));
  } else {
    return a + b;
  }
}

template <typename T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::isnan(v);
  } else {
    return false;
  }
}

// Accumulates in T (double for floating types, int64 for integers) and finishes each group.
template <typename T, typename Load, typename Store>
void reduce(const ReduceAttrs& a, const KernelTensor& x, const KernelTensor& out, Load load,
            Store store) {
  const int64_t n_out = out.numel();
  const int64_t group = n_out == 0 ? 0 : x.numel() / n_out;
  std::vector<T> acc(static_cast<size_t>(n_out));
  std::vector<bool> started(static_cast<size_t>(n_out), false);
  for (auto& v : acc) {
    switch (a.op) {
      case ReduceOperation::kPROD:
        v = T(1);
        break;
      case ReduceOperation::kMAX:
        v = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                 : std::numeric_limits<T>::lowest();
        break;
      case ReduceOperation::kMIN:
        v = std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity()
                                                 : std::numeric_limits<T>::max();
        break;
      default:
        v = T(0);
    }
  }
  if (x.numel() > 0) {
    std::vector<int64_t> idx(static_cast<size_t>(x.dims.rank()), 0);
    int64_t i = 0;
    do {
      T v = load(i++);
      T& s = acc[static_cast<size_t>(reduce_offset(x.dims, a.axes, idx))];
      switch (a.op) {
        case ReduceOperation::kSUM:
        case ReduceOperation::kAVG:
          s += v;
          break;
        case ReduceOperation::kPROD:
          s *= v;
          break;
        // NaN propagates through max/min, as at::amax/amin (`v > NaN` is false, so it sticks).
        case ReduceOperation::kMAX:
          if (is_nan(v) || v > s) s = v;
          break;
        case ReduceOperation::kMIN:
          if (is_nan(v) || v < s) s = v;
          break;
      }
    } while (next_index(x.dims, idx));
  }
  for (int64_t o = 0; o < n_out; ++o) {
    T v = acc[static_cast<size_t>(o)];
    if (a.op == ReduceOperation::kAVG) v = v / static_cast<T>(group);
    store(o, v);
  }
}

}  // namespace

void run_reference(const ReduceAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& out = ctx.output(0);
  // As at::amax/amin: an extremum of nothing is undefined.
  if (x.numel() == 0 && out.numel() > 0 &&
      (a.op == ReduceOperation::kMAX || a.op == ReduceOperation::kMIN))
    ctx.fail(enum_name(a.op), " over zero elements (input ", x.dims.to_string(), ") has no value");
  if (is_floating(x.type)) {
    reduce<double>(
        a, x, out, [&](int64_t i) { return static_cast<double>(load_f(x, i)); },
        [&](int64_t o, double v) { store_f(out, o, static_cast<float>(v)); });
  } else {
    // Integers accumulate exactly in int64 (wrapping like two's complement on overflow).
    reduce<int64_t>(
        a, x, out, [&](int64_t i) { return load_i(x, i); },
        [&](int64_t o, int64_t v) { store_i(out, o, v); });
  }
}

void run_reference(const TopKAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& values = ctx.output(0);
  const KernelTensor& indices = ctx.output(1);
  int axis = 0;
  while (!(a.axes & (1u << axis))) ++axis;
  const int64_t n = x.dims[axis], k = values.dims[axis];
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.dims[d];
  for (int d = axis + 1; d < x.dims.rank(); ++d) inner *= x.dims[d];
  const bool largest = a.op == TopKOperation::kMAX;
  const bool floating = is_floating(x.type);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::vector<double> fv(static_cast<size_t>(n));
  std::vector<int64_t> iv(static_cast<size_t>(n));
  // Total order: NaN counts as the largest value (as at::topk); ties go to the lower index.
  auto before = [&](int64_t p, int64_t q) {
    auto up = static_cast<size_t>(p), uq = static_cast<size_t>(q);
    if (floating) {
      bool pn = std::isnan(fv[up]), qn = std::isnan(fv[uq]);
      if (pn != qn) return largest ? pn : qn;
      if (!pn && fv[up] != fv[uq]) return largest ? fv[up] > fv[uq] : fv[up] < fv[uq];
    } else if (iv[up] != iv[uq]) {
      return largest ? iv[up] > iv[uq] : iv[up] < iv[uq];
    }
    return p < q;
  };
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      for (int64_t j = 0; j < n; ++j) {
        int64_t src = (o * n + j) * inner + in;
        if (floating) {
          fv[static_cast<size_t>(j)] = load_f(x, src);
        } else {
          iv[static_cast<size_t>(j)] = load_i(x, src);
        }
        order[static_cast<size_t>(j)] = j;
      }
      std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      for (int64_t j = 0; j < k; ++j) {
        int64_t pick = order[static_cast<size_t>(j)];
        int64_t dst = (o * k + j) * inner + in;
        if (floating) {
          store_f(values, dst, static_cast<float>(fv[static_cast<size_t>(pick)]));
        } else {
          store_i(values, dst, iv[static_cast<size_t>(pick)]);
        }
        store_i(indices, dst, pick);
      }
    }
  }
}

void run_reference(const CumulativeAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& out = ctx.output(0);
  const int rank = x.dims.rank();
  const int axis = a.axis < 0 ? a.axis + rank : a.axis;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.dims[d];
  for (int d = axis + 1; d < rank; ++d) inner *= x.dims[d];
  const int64_t n = x.dims[axis];
  // As ATen's CPU cumsum (acc_type): float32 accumulates in double, 16-bit floats in float, each
  // output rounded once; integers accumulate in int64 and wrap to their type on store.
  auto run = [&](auto zero, auto load, auto store) {
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        auto sum = zero;
        for (int64_t k = 0; k < n; ++k) {
          int64_t pos = a.reverse ? n - 1 - k : k;
          int64_t off = (o * n + pos) * inner + i;
          auto v = load(off);
          if (!a.exclusive) sum = add(sum, v);
          store(off, sum);
          if (a.exclusive) sum = add(sum, v);
        }
      }
    }
  };
  if (x.type == DataType::kFLOAT) {
    run(
        0.0, [&](int64_t i) { return static_cast<double>(load_f(x, i)); },
        [&](int64_t i, double v) { store_f(out, i, static_cast<float>(v)); });
  } else if (is_floating(x.type)) {
    run(
        0.0f, [&](int64_t i) { return load_f(x, i); },
        [&](int64_t i, float v) { store_f(out, i, v); });
  } else {
    run(
        int64_t{0}, [&](int64_t i) { return load_i(x, i); },
        [&](int64_t i, int64_t v) { store_i(out, i, v); });
  }
}

}  // namespace layerkit::cpu
