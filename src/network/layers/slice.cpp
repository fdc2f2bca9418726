// Inference and printing for the Slice kind.
#include <algorithm>

#include "layerkit/core/size.h"
#include "network/infer.h"
#include "network/layers/slice_sample.h"

namespace layerkit::detail {

namespace {

constexpr int kStartInput = 1, kSizeInput = 2, kStrideInput = 3, kFillInput = 4, kAxesInput = 5;

// One of start/size/stride: the tensor input's values (unknown entries nullopt) or the attribute.
std::vector<std::optional<int64_t>> slice_param(const InferCtx& ctx, int input, const Dims& attr,
                                                std::string_view what, int n) {
  std::vector<std::optional<int64_t>> v;
  if (ctx.has_input(input)) {
    const ValueDesc& t = ctx.input(input);
    check_type(ctx, input, {DataType::kINT32, DataType::kINT64});
    ctx.check(t.dims.rank() == 1 && t.dims[0] == n, what, " (input ", input, ") must be 1-D with ",
              n, " entries (one per sliced axis); it has dims ", t.dims.to_string());
    bool full = static_cast<int64_t>(t.known.size()) == n;
    for (int i = 0; i < n; ++i) v.push_back(full ? t.known[static_cast<size_t>(i)] : std::nullopt);
    return v;
  }
  ctx.check(attr.rank() == n, what, " ", attr.to_string(), " has ", attr.rank(),
            " entries; expected ", n, " (one per sliced axis)");
  for (int i = 0; i < n; ++i) v.emplace_back(attr[i]);
  return v;
}

}  // namespace

void infer(const SliceAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() >= 1 && ctx.num_inputs() <= 6, "takes 1 to 6 inputs, got ",
            ctx.num_inputs());
  const ValueDesc& x = ctx.input(0);
  int rank = x.dims.rank();

  // Axes: which axes start/size/stride describe; the others are taken whole.
  std::vector<int> axes;
  if (ctx.has_input(kAxesInput)) {
    const ValueDesc& t = ctx.input(kAxesInput);
    check_type(ctx, kAxesInput, {DataType::kINT32, DataType::kINT64});
    ctx.check(t.dims.rank() == 1 && t.dims[0] >= 0 && t.dims[0] <= rank,
              "axes (input 5) must be 1-D with at most ", rank, " entries; it has dims ",
              t.dims.to_string());
    auto values = ctx.int_values(kAxesInput);
    ctx.check(values.has_value(), "axes (input 5) must be known when the network is built");
    for (int64_t v : *values) {
      int ax = normalize_axis(ctx, v, rank, "axes entry");
      ctx.check(std::find(axes.begin(), axes.end(), ax) == axes.end(), "axes entry ", v,
                " repeats axis ", ax);
      axes.push_back(ax);
    }
  } else {
    for (int i = 0; i < rank; ++i) axes.push_back(i);
  }
  int n = static_cast<int>(axes.size());
  auto start = slice_param(ctx, kStartInput, a.start, "start", n);
  auto size = slice_param(ctx, kSizeInput, a.size, "size", n);
  auto stride = slice_param(ctx, kStrideInput, a.stride, "stride", n);

  if (ctx.has_input(kFillInput)) {
    const ValueDesc& f = ctx.input(kFillInput);
    ctx.check(a.mode == SampleMode::kFILL, "a fill value (input 4) needs mode kFILL, not ",
              enum_name(a.mode));
    ctx.check(f.dims.rank() == 0, "fill value (input 4) must be 0-D; it has dims ",
              f.dims.to_string());
    ctx.check(f.type == x.type, "fill value (input 4) has type ", data_type_name(f.type),
              " but the data has ", data_type_name(x.type), "; they must match");
  }

  // Per output axis: start, size, stride (whole axis where not listed).
  std::vector<std::optional<int64_t>> st(static_cast<size_t>(rank), 0),
      sz(static_cast<size_t>(rank)), sd(static_cast<size_t>(rank), 1);
  for (int d = 0; d < rank; ++d)
    sz[static_cast<size_t>(d)] = x.dims[d] >= 0 ? std::optional<int64_t>(x.dims[d]) : std::nullopt;
  for (int k = 0; k < n; ++k) {
    size_t ax = static_cast<size_t>(axes[static_cast<size_t>(k)]);
    st[ax] = start[static_cast<size_t>(k)];
    sz[ax] = size[static_cast<size_t>(k)];
    sd[ax] = stride[static_cast<size_t>(k)];
  }
  Dims out = Dims::of_rank(rank);
  for (int d = 0; d < rank; ++d) {
    size_t i = static_cast<size_t>(d);
    ctx.check(!sz[i] || *sz[i] >= 0, "size of axis ", d, " is ", sz[i].value_or(0),
              "; sizes must be >= 0");
    ctx.check(!sd[i] || *sd[i] != 0, "stride of axis ", d, " is 0; strides must be nonzero");
    out[d] = sz[i] ? *sz[i] : -1;
    int64_t dim = x.dims[d];
    // At run time bounds are the kernel's (kRUNTIME) concern; here they are the caller's.
    if (ctx.at_runtime() || !sz[i] || *sz[i] == 0 || dim < 0) continue;
    if (a.mode == SampleMode::kSTRICT_BOUNDS) {
      if (!st[i] || !sd[i]) continue;
      const int64_t first = *st[i];
      const int64_t last = checked_add(
          first, checked_mul(*sz[i] - 1, *sd[i], "kSTRICT_BOUNDS slice: (size - 1) x stride"),
          "kSTRICT_BOUNDS slice: start + (size - 1) x stride");
      ctx.check(first >= 0 && first < dim && last >= 0 && last < dim,
                "kSTRICT_BOUNDS slice of axis ", d, " (size ", dim, ") with start ", first,
                ", size ", *sz[i], ", stride ", *sd[i], " reads indices ", first, "..", last,
                ", outside 0..", dim - 1);
    } else if (a.mode != SampleMode::kFILL) {
      ctx.check(dim > 0, "mode ", enum_name(a.mode), " cannot read ", *sz[i],
                " elements from axis ", d, " of size 0");
    }
  }

  // Slicing small integer tensors (a Shape output, say) is shape arithmetic; carry the values.
  KnownValues known;
  int64_t count = out.volume();
  int64_t xn = x.dims.volume();
  bool params_known = std::all_of(st.begin(), st.end(), [](auto& v) { return v.has_value(); }) &&
                      std::all_of(sd.begin(), sd.end(), [](auto& v) { return v.has_value(); });
  if (count >= 0 && count <= kMaxKnownValues && xn >= 0 &&
      static_cast<int64_t>(x.known.size()) == xn && params_known) {
    std::optional<int64_t> fill = 0;
    if (ctx.has_input(kFillInput)) {
      const ValueDesc& f = ctx.input(kFillInput);
      fill = f.known.size() == 1 ? f.known[0] : std::nullopt;
    }
    std::vector<int64_t> oi(static_cast<size_t>(rank), 0);
    for (int64_t o = 0; o < count; ++o) {
      int64_t off = 0;
      bool inside = true;
      for (int d = 0; d < rank; ++d) {
        size_t i = static_cast<size_t>(d);
        int64_t raw = *st[i] + oi[i] * *sd[i];
        int64_t src = x.dims[d] > 0 ? slice_source_index(a.mode, raw, x.dims[d]) : -1;
        inside = inside && src >= 0;
        off = off * x.dims[d] + std::max<int64_t>(src, 0);
      }
      known.push_back(inside ? x.known[static_cast<size_t>(off)] : fill);
      for (int d = rank - 1; d >= 0; --d) {
        if (++oi[static_cast<size_t>(d)] < out[d]) break;
        oi[static_cast<size_t>(d)] = 0;
      }
    }
    if (std::all_of(known.begin(), known.end(), [](auto& v) { return !v.has_value(); }))
      known.clear();
  }
  ctx.add_output(x.type, out, std::move(known));
}

void print_attrs(const SliceAttrs& a, AttrPrinter& p) {
  p.add("start", a.start);
  p.add("size", a.size);
  p.add("stride", a.stride);
  p.add("mode", a.mode);
}

}  // namespace layerkit::detail
