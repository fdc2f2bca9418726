// Reference kernels for the Shuffle, Identity, Cast, Shape, Concatenation, Padding kinds.
// These move elements without looking at them, so one byte-copy per element serves every type
// (sub-byte types hold one element per byte here, Note [Host element representation]).
#include <cstring>

#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

namespace {

void copy_element(const KernelTensor& src, int64_t si, const KernelTensor& dst, int64_t di) {
  int64_t es = element_size(src.type);
  std::memcpy(static_cast<char*>(dst.data) + di * es, static_cast<const char*>(src.data) + si * es,
              static_cast<size_t>(es));
}

std::vector<int64_t> unravel(const Dims& dims, int64_t flat) {
  std::vector<int64_t> idx(static_cast<size_t>(dims.rank()));
  for (int d = dims.rank() - 1; d >= 0; --d) {
    idx[static_cast<size_t>(d)] = flat % dims[d];
    flat /= dims[d];
  }
  return idx;
}

int64_t offset_of(const Dims& dims, const std::vector<int64_t>& idx) {
  int64_t off = 0;
  for (int d = 0; d < dims.rank(); ++d) off = off * dims[d] + idx[static_cast<size_t>(d)];
  return off;
}

std::vector<int> permutation(const std::vector<int32_t>& perm, int rank) {
  std::vector<int> p;
  for (int i = 0; i < rank; ++i) p.push_back(perm.empty() ? i : perm[static_cast<size_t>(i)]);
  return p;
}

bool int_like(DataType t) {
  return t == DataType::kINT8 || t == DataType::kUINT8 || t == DataType::kINT32 ||
         t == DataType::kINT64 || t == DataType::kBOOL;
}

}  // namespace

void run_reference(const ShuffleAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& out = ctx.output(0);
  if (out.numel() == 0) return;
  int xr = x.dims.rank();
  std::vector<int> p1 = permutation(a.first_transpose, xr);
  Dims t = Dims::of_rank(xr);
  for (int i = 0; i < xr; ++i) t[i] = x.dims[p1[static_cast<size_t>(i)]];
  // The reshaped dims follow from the output by undoing the second transpose.
  int rr = out.dims.rank();
  std::vector<int> p2 = permutation(a.second_transpose, rr);
  Dims r = Dims::of_rank(rr);
  for (int i = 0; i < rr; ++i) r[p2[static_cast<size_t>(i)]] = out.dims[i];

  std::vector<int64_t> oi(static_cast<size_t>(rr), 0), ri(static_cast<size_t>(rr));
  std::vector<int64_t> xi(static_cast<size_t>(xr));
  int64_t o = 0;
  do {
    for (int k = 0; k < rr; ++k)
      ri[static_cast<size_t>(p2[static_cast<size_t>(k)])] = oi[static_cast<size_t>(k)];
    std::vector<int64_t> ti = unravel(t, offset_of(r, ri));
    for (int k = 0; k < xr; ++k)
      xi[static_cast<size_t>(p1[static_cast<size_t>(k)])] = ti[static_cast<size_t>(k)];
    copy_element(x, offset_of(x.dims, xi), out, o++);
  } while (next_index(out.dims, oi));
}

void run_reference(const IdentityAttrs&, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& out = ctx.output(0);
  if (x.numel() > 0)
    std::memcpy(out.data, x.data, static_cast<size_t>(x.numel() * element_size(x.type)));
}

void run_reference(const CastAttrs&, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& out = ctx.output(0);
  // Integer (and bool) sources go through int64 so int->int casts wrap exactly and large int64
  // values are rounded once; floating sources go through float (Note [Scalar conversions]).
  bool int_src = int_like(x.type);
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (int_src) {
      store_i(out, i, load_i(x, i));
    } else {
      store_f(out, i, load_f(x, i));
    }
  }
}

void run_reference(const ShapeAttrs&, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& out = ctx.output(0);
  for (int i = 0; i < x.dims.rank(); ++i) store_i(out, i, x.dims[i]);
}

void run_reference(const ConcatenationAttrs& a, KernelCtx& ctx) {
  const KernelTensor& out = ctx.output(0);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < a.axis; ++d) outer *= out.dims[d];
  for (int d = a.axis + 1; d < out.dims.rank(); ++d) inner *= out.dims[d];
  int64_t o = 0;
  for (int64_t b = 0; b < outer; ++b) {
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const KernelTensor& x = ctx.input(i);
      int64_t chunk = x.dims[a.axis] * inner;
      for (int64_t j = 0; j < chunk; ++j) copy_element(x, b * chunk + j, out, o++);
    }
  }
}

void run_reference(const PaddingAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x = ctx.input(0);
  const KernelTensor& out = ctx.output(0);
  if (out.numel() == 0) return;
  // All-zero bytes are the value 0 of every type (E8M0, which has no zero, gets its smallest
  // value 2^-127, as store_f(0) gives).
  std::memset(out.data, 0, static_cast<size_t>(out.numel() * element_size(out.type)));
  int rank = x.dims.rank();
  int first = rank - a.pre_padding.rank();
  std::vector<int64_t> oi(static_cast<size_t>(rank), 0), xi(static_cast<size_t>(rank));
  int64_t o = 0;
  do {
    bool inside = true;
    for (int d = 0; d < rank; ++d) {
      int64_t v = oi[static_cast<size_t>(d)];
      if (d >= first) v -= a.pre_padding[d - first];
      inside = inside && v >= 0 && v < x.dims[d];
      xi[static_cast<size_t>(d)] = v;
    }
    if (inside) copy_element(x, offset_of(x.dims, xi), out, o);
    ++o;
  } while (next_index(out.dims, oi));
}

}  // namespace layerkit::cpu
