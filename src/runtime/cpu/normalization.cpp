// Reference kernels for the Normalization and SoftMax kinds.
#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

namespace {

// Row-major offset of `idx` in `dims` (dims and idx of equal rank).
int64_t offset_of(const Dims& dims, std::span<const int64_t> idx) {
  int64_t off = 0;
  for (int d = 0; d < dims.rank(); ++d) off = off * dims[d] + idx[static_cast<size_t>(d)];
  return off;
}

// Offset of the scale/bias element for data index `idx`; axis 1 of size `groups` (when it
// differs from the channel count) is indexed by group.
int64_t affine_offset(const Dims& p, std::span<const int64_t> idx, int64_t groups,
                      int64_t channels_per_group) {
  int64_t off = 0;
  for (int d = 0; d < p.rank(); ++d) {
    int64_t i = idx[static_cast<size_t>(d)];
    if (p[d] == 1) {
      i = 0;
    } else if (d == 1 && groups > 1 && p[d] == groups && channels_per_group != 1) {
      i /= channels_per_group;
    }
    off = off * p[d] + i;
  }
  return off;
}

}  // namespace

void run_reference(const NormalizationAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& scale = ctx.input(1);
  const KernelTensor& bias = ctx.input(2);
  const KernelTensor& y = ctx.output(0);
  const Dims& dims = x.dims;
  int rank = dims.rank();
  int64_t groups = a.num_groups;
  int64_t cpg = groups > 1 ? dims[1] / groups : 1;

  // One statistic per index of `stat_dims`: reduced axes collapse to 1, channels to groups.
  Dims stat_dims = dims;
  for (int d = 0; d < rank; ++d)
    if (a.axes & (1u << d)) stat_dims[d] = 1;
  if (groups > 1) stat_dims[1] = groups;
  auto stat_of = [&](std::vector<int64_t> idx) {
    for (int d = 0; d < rank; ++d)
      if (a.axes & (1u << d)) idx[static_cast<size_t>(d)] = 0;
    if (groups > 1) idx[1] /= cpg;
    return offset_of(stat_dims, idx);
  };

  int64_t n = x.numel();
  if (n == 0) return;
  int64_t num_stats = stat_dims.volume();
  // Two passes in double: the accumulation is at least fp32 whatever the data type or
  // compute_precision, and two-pass variance avoids cancellation.
  std::vector<double> mean(static_cast<size_t>(num_stats), 0.0);
  std::vector<double> var(static_cast<size_t>(num_stats), 0.0);
  std::vector<int64_t> count(static_cast<size_t>(num_stats), 0);
  std::vector<int64_t> stat(static_cast<size_t>(n));
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  int64_t i = 0;
  do {
    int64_t s = stat_of(idx);
    stat[static_cast<size_t>(i)] = s;
    mean[static_cast<size_t>(s)] += load_f(x, i);
    ++count[static_cast<size_t>(s)];
    ++i;
  } while (next_index(dims, idx));
  for (int64_t s = 0; s < num_stats; ++s)
    mean[static_cast<size_t>(s)] /= static_cast<double>(count[static_cast<size_t>(s)]);
  for (i = 0; i < n; ++i) {
    size_t s = static_cast<size_t>(stat[static_cast<size_t>(i)]);
    double dv = load_f(x, i) - mean[s];
    var[s] += dv * dv;
  }
  for (int64_t s = 0; s < num_stats; ++s)
    var[static_cast<size_t>(s)] /= static_cast<double>(count[static_cast<size_t>(s)]);

  std::fill(idx.begin(), idx.end(), 0);
  i = 0;
  do {
    size_t s = static_cast<size_t>(stat[static_cast<size_t>(i)]);
    double rstd = 1.0 / std::sqrt(var[s] + static_cast<double>(a.epsilon));
    double g = load_f(scale, affine_offset(scale.dims, idx, groups, cpg));
    double b = load_f(bias, affine_offset(bias.dims, idx, groups, cpg));
    store_f(y, i, static_cast<float>((load_f(x, i) - mean[s]) * rstd * g + b));
    ++i;
  } while (next_index(dims, idx));
}

void run_reference(const SoftMaxAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& y = ctx.output(0);
  const Dims& dims = x.dims;
  int rank = dims.rank();
  int axis = rank - 1;
  for (int d = 0; d < rank; ++d)
    if (a.axes & (1u << d)) axis = d;
  int64_t outer = 1, inner = 1, len = dims[axis];
  for (int d = 0; d < axis; ++d) outer *= dims[d];
  for (int d = axis + 1; d < rank; ++d) inner *= dims[d];
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      int64_t base = o * len * inner + in;
      // Subtracting the maximum keeps exp() from overflowing.
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t k = 0; k < len; ++k) mx = std::max(mx, load_f(x, base + k * inner));
      double sum = 0.0;
      for (int64_t k = 0; k < len; ++k) sum += std::exp(double(load_f(x, base + k * inner)) - mx);
      for (int64_t k = 0; k < len; ++k)
        store_f(y, base + k * inner,
                static_cast<float>(std::exp(double(load_f(x, base + k * inner)) - mx) / sum));
    }
  }
}

}  // namespace layerkit::cpu
