// Index mapping shared by Gather/Scatter inference (known values) and their CPU kernels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "layerkit/core/dims.h"
#include "layerkit/core/error.h"
#include "layerkit/network/layers.h"

namespace layerkit::detail {

// Resolves one index against a dim of size `n`: negative values count from the end (TensorRT and
// ONNX allow [-n, n-1]). Returns -1 when out of range.
inline int64_t resolve_index(int64_t v, int64_t n) {
  if (v < 0) v += n;
  return v >= 0 && v < n ? v : -1;
}

// Row-major offset of multi-index `idx` in `dims`.
inline int64_t flat_offset(const Dims& dims, const std::vector<int64_t>& idx) {
  int64_t off = 0;
  for (int d = 0; d < dims.rank(); ++d) off = off * dims[d] + idx[static_cast<size_t>(d)];
  return off;
}

// Visits every multi-index of `dims` in row-major order (nothing when the volume is 0).
template <typename F>
void for_each_index(const Dims& dims, F f) {
  if (dims.volume() <= 0) return;
  std::vector<int64_t> idx(static_cast<size_t>(dims.rank()), 0);
  for (;;) {
    f(idx);
    int d = dims.rank() - 1;
    for (; d >= 0; --d) {
      auto& v = idx[static_cast<size_t>(d)];
      if (++v < dims[d]) break;
      v = 0;
    }
    if (d < 0) return;
  }
}

// For each element of a Gather's output (row-major over `out`), the flat offset of the data
// element it copies. `index(i)` reads the i-th (flat) element of the indices; `axis` is already
// normalised. Out-of-range indices call `bad(message)`, which must not return.
template <typename IndexFn, typename BadFn>
std::vector<int64_t> gather_sources(const GatherAttrs& a, int axis, const Dims& data,
                                    const Dims& indices, const Dims& out, IndexFn index,
                                    BadFn bad) {
  std::vector<int64_t> src;
  src.reserve(static_cast<size_t>(std::max<int64_t>(out.volume(), 0)));
  const int r = data.rank(), q = indices.rank(), nb = a.num_elementwise_dims;
  auto check = [&](int64_t raw, int64_t n, int64_t where, int dim) {
    int64_t v = resolve_index(raw, n);
    if (v < 0)
      bad(cat("index ", raw, " at indices element ", where, " is out of range for data axis ", dim,
              " of size ", n, " (expected ", -n, "..", n - 1, ")"));
    return v;
  };
  std::vector<int64_t> di(static_cast<size_t>(r)), ii(static_cast<size_t>(q));
  switch (a.mode) {
    case GatherMode::kDEFAULT:
      // out = data[:axis] + indices[nb:] + data[axis+1:]; with nb == 1, out axis 0 is the shared
      // (broadcast) batch axis of data and indices.
      for_each_index(out, [&](const std::vector<int64_t>& o) {
        const int nq = q - nb;
        for (int d = 0; d < axis; ++d) di[static_cast<size_t>(d)] = data[d] == 1 ? 0 : o[d];
        if (nb == 1) ii[0] = indices[0] == 1 ? 0 : o[0];
        for (int d = 0; d < nq; ++d) ii[static_cast<size_t>(nb + d)] = o[axis + d];
        for (int d = axis + 1; d < r; ++d)
          di[static_cast<size_t>(d)] = o[static_cast<size_t>(d - 1 + nq)];
        int64_t where = flat_offset(indices, ii);
        di[static_cast<size_t>(axis)] = check(index(where), data[axis], where, axis);
        src.push_back(flat_offset(data, di));
      });
      break;
    case GatherMode::kELEMENT:
      // out has the indices' dims; out[i...] = data[i... with axis replaced by indices[i...]].
      for_each_index(out, [&](const std::vector<int64_t>& o) {
        int64_t where = flat_offset(indices, o);
        for (int d = 0; d < r; ++d) di[static_cast<size_t>(d)] = o[static_cast<size_t>(d)];
        di[static_cast<size_t>(axis)] = check(index(where), data[axis], where, axis);
        src.push_back(flat_offset(data, di));
      });
      break;
    case GatherMode::kND: {
      // out = indices[:q-1] + data[nb+m:]; the first nb axes are batch axes shared by both.
      const int64_t m = indices[q - 1];
      for_each_index(out, [&](const std::vector<int64_t>& o) {
        for (int d = 0; d < q - 1; ++d) ii[static_cast<size_t>(d)] = o[static_cast<size_t>(d)];
        for (int d = 0; d < nb; ++d) di[static_cast<size_t>(d)] = o[static_cast<size_t>(d)];
        for (int64_t k = 0; k < m; ++k) {
          ii[static_cast<size_t>(q - 1)] = k;
          int64_t where = flat_offset(indices, ii);
          int dim = static_cast<int>(nb + k);
          di[static_cast<size_t>(dim)] = check(index(where), data[dim], where, dim);
        }
        for (int d = static_cast<int>(nb + m); d < r; ++d)
          di[static_cast<size_t>(d)] = o[static_cast<size_t>(q - 1 + d - nb - m)];
        src.push_back(flat_offset(data, di));
      });
      break;
    }
  }
  return src;
}

// For each element of a Scatter's updates (row-major), the flat offset in data it overwrites.
template <typename IndexFn, typename BadFn>
std::vector<int64_t> scatter_targets(const ScatterAttrs& a, int axis, const Dims& data,
                                     const Dims& indices, const Dims& updates, IndexFn index,
                                     BadFn bad) {
  std::vector<int64_t> dst;
  dst.reserve(static_cast<size_t>(std::max<int64_t>(updates.volume(), 0)));
  const int r = data.rank(), q = indices.rank();
  auto check = [&](int64_t raw, int64_t n, int64_t where, int dim) {
    int64_t v = resolve_index(raw, n);
    if (v < 0)
      bad(cat("index ", raw, " at indices element ", where, " is out of range for data axis ", dim,
              " of size ", n, " (expected ", -n, "..", n - 1, ")"));
    return v;
  };
  std::vector<int64_t> di(static_cast<size_t>(r)), ii(static_cast<size_t>(q));
  if (a.mode == ScatterMode::kELEMENT) {
    for_each_index(updates, [&](const std::vector<int64_t>& u) {
      int64_t where = flat_offset(indices, u);
      for (int d = 0; d < r; ++d) di[static_cast<size_t>(d)] = u[static_cast<size_t>(d)];
      di[static_cast<size_t>(axis)] = check(index(where), data[axis], where, axis);
      dst.push_back(flat_offset(data, di));
    });
  } else {
    // updates = indices[:q-1] + data[m:]; each index tuple addresses data[:m].
    const int64_t m = indices[q - 1];
    for_each_index(updates, [&](const std::vector<int64_t>& u) {
      for (int d = 0; d < q - 1; ++d) ii[static_cast<size_t>(d)] = u[static_cast<size_t>(d)];
      for (int64_t k = 0; k < m; ++k) {
        ii[static_cast<size_t>(q - 1)] = k;
        int64_t where = flat_offset(indices, ii);
        int dim = static_cast<int>(k);
        di[static_cast<size_t>(dim)] = check(index(where), data[dim], where, dim);
      }
      for (int d = static_cast<int>(m); d < r; ++d)
        di[static_cast<size_t>(d)] = u[static_cast<size_t>(q - 1 + d - m)];
      dst.push_back(flat_offset(data, di));
    });
  }
  return dst;
}

}  // namespace layerkit::detail
