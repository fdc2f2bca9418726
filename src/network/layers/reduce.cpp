// Inference and printing for the Reduce, TopK, Cumulative kinds.
#include <algorithm>

#include "network/infer.h"

namespace layerkit::detail {

namespace {

// TensorRT's limit on TopK's k.
constexpr int64_t kMaxTopK = 3840;

// Output flat offset of each input element of a reduction over `axes` (keep_dims layout).
std::vector<int64_t> reduce_targets(const Dims& in, AxesMask axes) {
  std::vector<int64_t> t;
  std::vector<int64_t> idx(static_cast<size_t>(in.rank()), 0);
  if (in.volume() <= 0) return t;
  do {
    int64_t off = 0;
    for (int d = 0; d < in.rank(); ++d)
      off = (axes & (1u << d)) ? off : off * in[d] + idx[static_cast<size_t>(d)];
    t.push_back(off);
  } while ([&] {
    for (int d = in.rank() - 1; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < in[d]) return true;
      idx[static_cast<size_t>(d)] = 0;
    }
    return false;
  }());
  return t;
}

// Fails with kRUNTIME at run time (data-dependent k) and kINVALID_ARGUMENT at build time.
template <typename... Args>
void check_k(const InferCtx& ctx, bool cond, const Args&... args) {
  if (cond) return;
  if (ctx.at_runtime())
    throw Error(ErrorCode::kRUNTIME, cat("TopK layer '", ctx.layer_name(), "': ", args...));
  ctx.fail(args...);
}

}  // namespace

void infer(const ReduceAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 1, "Reduce takes 1 input, got ", ctx.num_inputs());
  const ValueDesc& x = ctx.input(0);
  if (a.op == ReduceOperation::kAVG) {
    check_type(ctx, 0, {DataType::kFLOAT, DataType::kHALF, DataType::kBF16});
  } else {
    check_type(
        ctx, 0,
        {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32, DataType::kINT64});
  }
  const int r = x.dims.rank();
  ctx.check(a.axes != 0, "axes mask is 0; select at least one axis of the rank-", r, " input");
  axes_from_mask(ctx, a.axes, r);
  Dims out;
  for (int d = 0; d < r; ++d) {
    if (!(a.axes & (1u << d))) {
      out.push_back(x.dims[d]);
    } else if (a.keep_dims) {
      out.push_back(1);
    }
  }
  // Shape arithmetic (e.g. the volume as PROD of a Shape output) keeps values known.
  KnownValues known;
  if (!ctx.at_runtime() && a.op != ReduceOperation::kAVG && x.dims.is_static() &&
      static_cast<int64_t>(x.known.size()) == x.dims.volume() && x.dims.volume() > 0) {
    std::vector<int64_t> tgt = reduce_targets(x.dims, a.axes);
    known.assign(static_cast<size_t>(out.volume()), std::nullopt);
    std::vector<bool> started(known.size(), false);
    for (size_t i = 0; i < tgt.size(); ++i) {
      auto& acc = known[static_cast<size_t>(tgt[i])];
      const auto& v = x.known[i];
      if (!started[static_cast<size_t>(tgt[i])]) {
        started[static_cast<size_t>(tgt[i])] = true;
        acc = v;
        continue;
      }
      if (!acc || !v) {
        acc.reset();
        continue;
      }
      switch (a.op) {
        case ReduceOperation::kSUM:
          *acc += *v;
          break;
        case ReduceOperation::kPROD:
          *acc *= *v;
          break;
        case ReduceOperation::kMAX:
          *acc = std::max(*acc, *v);
          break;
        case ReduceOperation::kMIN:
          *acc = std::min(*acc, *v);
          break;
        case ReduceOperation::kAVG:
          break;
      }
    }
    // int32 results wrap like the kernel's stores.
    if (x.type == DataType::kINT32)
      for (auto& k : known)
        if (k) k = static_cast<int32_t>(*k);
  }
  ctx.add_output(x.type, out, std::move(known));
}
void print_attrs(const ReduceAttrs& a, AttrPrinter& p) {
  p.add("op", a.op);
  p.add("axes", a.axes);
  p.add("keep_dims", a.keep_dims);
}

void infer(const TopKAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 1 || ctx.num_inputs() == 2,
            "TopK takes 1 or 2 inputs (data, optional k), got ", ctx.num_inputs());
  const ValueDesc& x = ctx.input(0);
  check_type(
      ctx, 0,
      {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32, DataType::kINT64});
  ctx.check(a.indices_type == DataType::kINT32 || a.indices_type == DataType::kINT64,
            "indices_type is ", data_type_name(a.indices_type), "; expected int32 or int64");
  const int r = x.dims.rank();
  ctx.check(r >= 1, "input must have rank >= 1, got ", x.dims.to_string());
  std::vector<int> axes = axes_from_mask(ctx, a.axes, r);
  ctx.check(axes.size() == 1, "axes mask 0x", std::hex, a.axes, std::dec,
            " must select exactly one axis, it selects ", axes.size());
  const int axis = axes[0];
  const int64_t n = x.dims[axis];
  int64_t k = a.k;
  bool from_tensor = ctx.has_input(1);
  if (from_tensor) {
    const ValueDesc& kt = ctx.input(1);
    check_type(ctx, 1, {DataType::kINT32, DataType::kINT64});
    ctx.check(kt.dims.rank() == 0, "k must be a 0-D tensor, got dims ", kt.dims.to_string());
    auto v = ctx.int_values(1);
    k = v ? v->at(0) : kDynamic;
  }
  if (k != kDynamic || !from_tensor) {
    const char* what = from_tensor ? "k (input 1) is " : "k is ";
    check_k(ctx, k >= 1 && k <= kMaxTopK, what, k, "; expected 1..", kMaxTopK);
    check_k(ctx, n < 0 || k <= n, what, k, " but axis ", axis, " of the input ", x.dims.to_string(),
            " has only ", n, " elements");
  }
  Dims out = x.dims;
  out[axis] = k;
  ctx.add_output(x.type, out);
  ctx.add_output(a.indices_type, out);
}
void print_attrs(const TopKAttrs& a, AttrPrinter& p) {
  p.add("op", a.op);
  p.add("k", a.k);
  p.add("axes", a.axes);
  p.add("indices_type", a.indices_type);
}

void infer(const CumulativeAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 1, "Cumulative takes 1 input, got ", ctx.num_inputs());
  const ValueDesc& x = ctx.input(0);
  check_type(
      ctx, 0,
      {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32, DataType::kINT64});
  ctx.check(x.dims.rank() >= 1, "input must have rank >= 1, got ", x.dims.to_string());
  normalize_axis(ctx, a.axis, x.dims.rank());
  switch (a.op) {
    case CumulativeOperation::kSUM:
      break;
    default:
      ctx.fail("unknown cumulative operation ", static_cast<int>(a.op));
  }
  ctx.add_output(x.type, x.dims);
}
void print_attrs(const CumulativeAttrs& a, AttrPrinter& p) {
  p.add("op", a.op);
  p.add("axis", a.axis);
  p.add("exclusive", a.exclusive);
  p.add("reverse", a.reverse);
}

}  // namespace layerkit::detail
