// Inference and printing for the Shuffle, Identity, Cast, Shape, Concatenation, Padding kinds.
#include <algorithm>
#include <limits>

#include "core/element.h"
#include "layerkit/core/size.h"
#include "network/infer.h"

namespace layerkit::detail {

namespace {

// Checks that `perm` is empty or a permutation of 0..rank-1; returns it (identity when empty).
std::vector<int> check_permutation(const InferCtx& ctx, const std::vector<int32_t>& perm, int rank,
                                   std::string_view what) {
  std::vector<int> p;
  if (perm.empty()) {
    for (int i = 0; i < rank; ++i) p.push_back(i);
    return p;
  }
  AttrPrinter pr;
  pr.add(what, perm);
  ctx.check(static_cast<int>(perm.size()) == rank, pr.str(), " has ", perm.size(),
            " entries; expected ", rank, " (the rank it applies to)");
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int32_t v : perm) {
    ctx.check(v >= 0 && v < rank && !seen[static_cast<size_t>(v)], pr.str(),
              " is not a permutation of 0..", rank - 1);
    seen[static_cast<size_t>(v)] = true;
    p.push_back(v);
  }
  return p;
}

Dims permute(const Dims& d, const std::vector<int>& p) {
  Dims out = Dims::of_rank(d.rank());
  for (int i = 0; i < d.rank(); ++i) out[i] = d[p[static_cast<size_t>(i)]];
  return out;
}

// The input's known values when they cover every element, else empty.
KnownValues full_known(const InferCtx& ctx, int i) {
  const ValueDesc& v = ctx.input(i);
  int64_t n = v.dims.volume();
  if (n < 0 || static_cast<int64_t>(v.known.size()) != n) return {};
  return v.known;
}

bool all_unknown(const KnownValues& k) {
  return std::all_of(k.begin(), k.end(), [](const auto& e) { return !e.has_value(); });
}

// Row-major offset of `idx` in `dims`.
int64_t offset_of(const Dims& dims, const std::vector<int64_t>& idx) {
  int64_t off = 0;
  for (int d = 0; d < dims.rank(); ++d) off = off * dims[d] + idx[static_cast<size_t>(d)];
  return off;
}
std::vector<int64_t> unravel(const Dims& dims, int64_t flat) {
  std::vector<int64_t> idx(static_cast<size_t>(dims.rank()));
  for (int d = dims.rank() - 1; d >= 0; --d) {
    idx[static_cast<size_t>(d)] = dims[d] == 0 ? 0 : flat % dims[d];
    if (dims[d]) flat /= dims[d];
  }
  return idx;
}

bool is_int_like(DataType t) {
  return t == DataType::kINT8 || t == DataType::kUINT8 || t == DataType::kINT32 ||
         t == DataType::kINT64 || t == DataType::kBOOL;
}

// The reshape target: reshape_dims or the values of input 1 (entries unknown at build time -> -1
// placeholders marked in `unknown`).
struct ReshapeSpec {
  std::vector<int64_t> dims;
  std::vector<bool> unknown;
};

ReshapeSpec reshape_spec(const ShuffleAttrs& a, const InferCtx& ctx) {
  ReshapeSpec s;
  if (ctx.has_input(1)) {
    const ValueDesc& sh = ctx.input(1);
    check_type(ctx, 1, {DataType::kINT32, DataType::kINT64});
    ctx.check(sh.dims.rank() == 1, "reshape shape (input 1) must be 1-D; it has dims ",
              sh.dims.to_string());
    ctx.check(sh.dims[0] >= 0, "reshape shape (input 1) must have a build-time length; dims ",
              sh.dims.to_string());
    ctx.check(sh.dims[0] <= kMaxDims, "reshape shape (input 1) has ", sh.dims[0],
              " entries; the maximum rank is ", kMaxDims);
    KnownValues k = full_known(ctx, 1);
    for (int64_t i = 0; i < sh.dims[0]; ++i) {
      bool known = !k.empty() && k[static_cast<size_t>(i)].has_value();
      s.dims.push_back(known ? *k[static_cast<size_t>(i)] : -1);
      s.unknown.push_back(!known);
    }
    return s;
  }
  for (int64_t v : *a.reshape_dims) {
    s.dims.push_back(v);
    s.unknown.push_back(false);
  }
  return s;
}

}  // namespace

// ---- Shuffle ----

void infer(const ShuffleAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() >= 1 && ctx.num_inputs() <= 2, "takes 1 or 2 inputs, got ",
            ctx.num_inputs());
  const ValueDesc& x = ctx.input(0);
  std::vector<int> p1 = check_permutation(ctx, a.first_transpose, x.dims.rank(), "first_transpose");
  Dims t = permute(x.dims, p1);
  Dims r = t;
  if (ctx.has_input(1) || a.reshape_dims) {
    ReshapeSpec s = reshape_spec(a, ctx);
    std::string target = "[";
    for (size_t i = 0; i < s.dims.size(); ++i)
      target += cat(i ? "," : "", s.unknown[i] ? std::string("?") : std::to_string(s.dims[i]));
    target += "]";
    r = Dims::of_rank(static_cast<int>(s.dims.size()));
    int infer_at = -1;
    // Placeholder-copied dims appear on both sides of the volume equation and cancel, so the -1
    // of [0, -1] over a [-1, 3, 4] input is still 12.
    std::vector<bool> copied(static_cast<size_t>(t.rank()), false);
    int64_t known_product = 1;
    bool product_known = true;
    for (int i = 0; i < r.rank(); ++i) {
      size_t ui = static_cast<size_t>(i);
      int64_t v = s.dims[ui];
      if (s.unknown[ui]) {
        r[i] = -1;
        product_known = false;
        continue;
      }
      ctx.check(v >= -1, "reshape dims ", target, " contain ", v, " at ", i,
                "; entries are >= 0 or -1 (inferred)");
      if (v == -1) {
        ctx.check(infer_at < 0, "reshape dims ", target,
                  " contain more than one -1 (only one dim can be inferred)");
        infer_at = i;
        continue;
      }
      if (v == 0 && a.zero_is_placeholder) {
        ctx.check(i < t.rank(), "reshape dims ", target, " have a 0 placeholder at ", i,
                  " but the (transposed) input ", t.to_string(), " has only rank ", t.rank());
        r[i] = t[i];
        copied[ui] = true;
        continue;
      }
      r[i] = v;
      known_product = checked_mul(known_product, v, "reshape dims");
    }
    int64_t rest_volume = 1;  // the input's volume without the copied dims
    for (int i = 0; i < t.rank(); ++i) {
      if (copied[static_cast<size_t>(i)]) continue;
      if (t[i] < 0) {
        rest_volume = -1;
        break;
      }
      rest_volume = checked_mul(rest_volume, t[i], "input volume");
    }
    if (infer_at >= 0) {
      r[infer_at] = -1;
      if (product_known && rest_volume >= 0) {
        ctx.check(known_product != 0, "reshape dims ", target, " cannot infer the -1 of ",
                  t.to_string(), " when the other dims multiply to 0");
        ctx.check(rest_volume % known_product == 0, "cannot reshape ", t.to_string(), " to ",
                  target, ": volume ", rest_volume, " is not divisible by ", known_product);
        r[infer_at] = rest_volume / known_product;
      }
    } else if (product_known && rest_volume >= 0 && known_product != rest_volume) {
      ctx.fail("cannot reshape ", t.to_string(), " (volume ", t.volume(), ") to ", r.to_string(),
               " (volume ", r.volume(), ")");
    }
  }
  std::vector<int> p2 = check_permutation(ctx, a.second_transpose, r.rank(), "second_transpose");
  Dims out = permute(r, p2);

  // Shape arithmetic often reshapes/transposes small integer tensors; carry their values.
  KnownValues known;
  KnownValues in_known = full_known(ctx, 0);
  if (!in_known.empty() && out.is_static() && t.is_static() && !all_unknown(in_known)) {
    Dims r_static = r;
    for (int64_t o = 0; o < out.volume(); ++o) {
      std::vector<int64_t> oi = unravel(out, o);
      std::vector<int64_t> ri(oi.size());
      for (size_t k = 0; k < oi.size(); ++k) ri[static_cast<size_t>(p2[k])] = oi[k];
      std::vector<int64_t> ti = unravel(t, offset_of(r_static, ri));
      std::vector<int64_t> xi(ti.size());
      for (size_t k = 0; k < ti.size(); ++k) xi[static_cast<size_t>(p1[k])] = ti[k];
      known.push_back(in_known[static_cast<size_t>(offset_of(x.dims, xi))]);
    }
  }
  ctx.add_output(x.type, out, std::move(known));
}
void print_attrs(const ShuffleAttrs& a, AttrPrinter& p) {
  p.add("first_transpose", a.first_transpose);
  p.add("reshape_dims", a.reshape_dims ? a.reshape_dims->to_string() : std::string("none"));
  p.add("second_transpose", a.second_transpose);
  p.add("zero_is_placeholder", a.zero_is_placeholder);
}

// ---- Identity ----

void infer(const IdentityAttrs&, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 1, "takes 1 input, got ", ctx.num_inputs());
  const ValueDesc& x = ctx.input(0);
  ctx.add_output(x.type, x.dims, x.known);
}
void print_attrs(const IdentityAttrs&, AttrPrinter&) {}

// ---- Cast ----

void infer(const CastAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 1, "takes 1 input, got ", ctx.num_inputs());
  const ValueDesc& x = ctx.input(0);
  ctx.check(!is_sub_byte(x.type), "input 0 has sub-byte type ", data_type_name(x.type),
            "; Cast accepts byte-sized types only");
  ctx.check(!is_sub_byte(a.to_type), "to_type ", data_type_name(a.to_type),
            " is a sub-byte type; Cast produces byte-sized types only");
  KnownValues known;
  if (is_int_like(x.type) && is_int_like(a.to_type)) {
    for (const auto& v : x.known)
      known.push_back(v ? std::optional<int64_t>(wrap_int(a.to_type, *v)) : std::nullopt);
  }
  ctx.add_output(a.to_type, x.dims, std::move(known));
}
void print_attrs(const CastAttrs& a, AttrPrinter& p) {
  p.add("to_type", a.to_type);
}

// ---- Shape ----

void infer(const ShapeAttrs&, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 1, "takes 1 input, got ", ctx.num_inputs());
  const ValueDesc& x = ctx.input(0);
  KnownValues known;
  for (int i = 0; i < x.dims.rank(); ++i)
    known.push_back(x.dims[i] >= 0 ? std::optional<int64_t>(x.dims[i]) : std::nullopt);
  ctx.add_output(DataType::kINT64, Dims{x.dims.rank()}, std::move(known));
}
void print_attrs(const ShapeAttrs&, AttrPrinter&) {}

// ---- Concatenation ----

void infer(const ConcatenationAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() >= 1, "needs at least one input");
  for (int i = 0; i < ctx.num_inputs(); ++i)
    ctx.check(ctx.has_input(i), "input ", i, " is missing");
  const ValueDesc& x0 = ctx.input(0);
  int rank = x0.dims.rank();
  ctx.check(rank >= 1, "inputs must have rank >= 1; input 0 has dims ", x0.dims.to_string());
  // TensorRT's IConcatenationLayer takes axis in 0..rank-1 (no negative axes).
  ctx.check(a.axis >= 0 && a.axis < rank, "axis ", a.axis, " is out of range for rank ", rank,
            " (expected 0..", rank - 1, ")");
  Dims out = x0.dims;
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    const ValueDesc& xi = ctx.input(i);
    ctx.check(xi.type == x0.type, "input ", i, " has type ", data_type_name(xi.type),
              " but input 0 has ", data_type_name(x0.type), "; all inputs need the same type");
    ctx.check(xi.dims.rank() == rank, "input ", i, " has rank ", xi.dims.rank(), " (",
              xi.dims.to_string(), ") but input 0 has rank ", rank, " (", x0.dims.to_string(), ")");
    for (int d = 0; d < rank; ++d) {
      int64_t v = xi.dims[d];
      if (d == a.axis) {
        out[d] = (out[d] < 0 || v < 0) ? -1 : checked_add(out[d], v, "concatenated extent");
        continue;
      }
      if (out[d] < 0) {
        out[d] = v;
      } else if (v >= 0) {
        ctx.check(v == out[d], "input ", i, " dims ", xi.dims.to_string(), " differ from ",
                  out.to_string(), " at axis ", d, " (", v, " vs ", out[d],
                  "); only the concatenation axis ", a.axis, " may differ");
      }
    }
  }
  // Shape tensors are assembled by concatenation; carry the known values.
  KnownValues known;
  int64_t n = out.volume();
  if (n >= 0 && n <= kMaxKnownValues && is_int_like(x0.type)) {
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < a.axis; ++d) outer *= out[d];
    for (int d = a.axis + 1; d < rank; ++d) inner *= out[d];
    for (int64_t o = 0; o < outer; ++o) {
      for (int i = 0; i < ctx.num_inputs(); ++i) {
        const ValueDesc& xi = ctx.input(i);
        KnownValues k = full_known(ctx, i);
        int64_t chunk = xi.dims[a.axis] * inner;
        for (int64_t j = 0; j < chunk; ++j)
          known.push_back(k.empty() ? std::nullopt : k[static_cast<size_t>(o * chunk + j)]);
      }
    }
    if (all_unknown(known)) known.clear();
  }
  ctx.add_output(x0.type, out, std::move(known));
}
void print_attrs(const ConcatenationAttrs& a, AttrPrinter& p) {
  p.add("axis", a.axis);
}

// ---- Padding ----

void infer(const PaddingAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 1, "takes 1 input, got ", ctx.num_inputs());
  const ValueDesc& x = ctx.input(0);
  int n = a.pre_padding.rank();
  ctx.check(a.post_padding.rank() == n, "pre_padding ", a.pre_padding.to_string(),
            " and post_padding ", a.post_padding.to_string(), " have different ranks");
  ctx.check(n <= x.dims.rank(), "padding ", a.pre_padding.to_string(), " covers ", n,
            " dims but the input has rank ", x.dims.rank());
  Dims out = x.dims;
  int first = x.dims.rank() - n;
  for (int k = 0; k < n; ++k) {
    int d = first + k;
    if (x.dims[d] < 0) continue;
    int64_t v = checked_add(checked_add(x.dims[d], a.pre_padding[k], "padded extent"),
                            a.post_padding[k], "padded extent");
    ctx.check(v >= 0, "padding pre ", a.pre_padding.to_string(), " post ",
              a.post_padding.to_string(), " crops axis ", d, " of size ", x.dims[d], " to ", v,
              " (must stay >= 0)");
    out[d] = v;
  }
  ctx.add_output(x.type, out);
}
void print_attrs(const PaddingAttrs& a, AttrPrinter& p) {
  p.add("pre_padding", a.pre_padding);
  p.add("post_padding", a.post_padding);
}

}  // namespace layerkit::detail
