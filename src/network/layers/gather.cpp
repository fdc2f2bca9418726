// Inference and printing for the Gather, Scatter, NonZero kinds.
#include <cstring>

#include "core/element.h"
#include "network/infer.h"
#include "network/layers/gather_index.h"

namespace layerkit::detail {

namespace {

// Two dims that must agree: equal, or either unknown (-1).
bool dims_agree(int64_t x, int64_t y) {
  return x < 0 || y < 0 || x == y;
}

Dims make_dims(const InferCtx& ctx, const std::vector<int64_t>& d) {
  ctx.check(static_cast<int>(d.size()) <= kMaxDims, "the output would have rank ", d.size(),
            ", above the maximum rank ", kMaxDims);
  return Dims(std::span<const int64_t>(d));
}

}  // namespace

void infer(const GatherAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 2, "Gather takes 2 inputs (data, indices), got ", ctx.num_inputs());
  const ValueDesc& data = ctx.input(0);
  const ValueDesc& ind = ctx.input(1);
  check_type(ctx, 1, {DataType::kINT32, DataType::kINT64});
  const int r = data.dims.rank(), q = ind.dims.rank(), nb = a.num_elementwise_dims;
  ctx.check(r >= 1, "data must have rank >= 1, got ", data.dims.to_string());
  std::vector<int64_t> out;
  int axis = 0;
  switch (a.mode) {
    case GatherMode::kDEFAULT: {
      axis = normalize_axis(ctx, a.axis, r);
      ctx.check(nb == 0 || nb == 1, "num_elementwise_dims is ", nb, "; kDEFAULT mode takes 0 or 1");
      if (nb == 1) {
        ctx.check(q >= 1, "num_elementwise_dims 1 needs indices of rank >= 1, got ",
                  ind.dims.to_string());
        ctx.check(axis >= 1, "with num_elementwise_dims 1, axis 0 is the batch axis; the gather ",
                  "axis must be >= 1, got ", a.axis);
      }
      for (int d = 0; d < axis; ++d) out.push_back(data.dims[d]);
      if (nb == 1) {
        int64_t x = data.dims[0], y = ind.dims[0];
        ctx.check(x == y || x == 1 || y == 1 || x < 0 || y < 0, "batch axis 0 has size ", x,
                  " in data but ", y, " in indices (must be equal or one of them 1)");
        out[0] = x == 1 ? y : (y == 1 ? x : (x < 0 ? y : x));
      }
      for (int d = nb; d < q; ++d) out.push_back(ind.dims[d]);
      for (int d = axis + 1; d < r; ++d) out.push_back(data.dims[d]);
      break;
    }
    case GatherMode::kELEMENT: {
      axis = normalize_axis(ctx, a.axis, r);
      ctx.check(nb == 0, "num_elementwise_dims is ", nb, "; kELEMENT mode takes 0");
      ctx.check(q == r, "kELEMENT mode needs indices of the data's rank ", r, ", got indices ",
                ind.dims.to_string(), " for data ", data.dims.to_string());
      for (int d = 0; d < r; ++d) {
        // As at::gather: off the gather axis the indices may not exceed the data.
        ctx.check(d == axis || ind.dims[d] < 0 || data.dims[d] < 0 || ind.dims[d] <= data.dims[d],
                  "indices ", ind.dims.to_string(), " exceed data ", data.dims.to_string(),
                  " at axis ", d, " (only the gather axis ", axis, " may be larger)");
        out.push_back(ind.dims[d]);
      }
      break;
    }
    case GatherMode::kND: {
      ctx.check(q >= 1, "kND mode needs indices of rank >= 1, got ", ind.dims.to_string());
      ctx.check(nb >= 0 && nb < std::min(q, r), "num_elementwise_dims ", nb, " must be in 0..",
                std::min(q, r) - 1, " for data ", data.dims.to_string(), " and indices ",
                ind.dims.to_string());
      int64_t m = ind.dims[q - 1];
      ctx.check(m >= 1 && m <= r - nb, "the last indices dim (", m,
                ") must be a build-time constant in 1..", r - nb, " (data rank ", r,
                " minus num_elementwise_dims ", nb, ")");
      for (int d = 0; d < nb; ++d)
        ctx.check(dims_agree(data.dims[d], ind.dims[d]), "batch axis ", d, " has size ",
                  data.dims[d], " in data but ", ind.dims[d], " in indices");
      for (int d = 0; d < q - 1; ++d) out.push_back(ind.dims[d]);
      for (int d = static_cast<int>(nb + m); d < r; ++d) out.push_back(data.dims[d]);
      break;
    }
    default:
      ctx.fail("unknown gather mode ", static_cast<int>(a.mode));
  }
  Dims out_dims = make_dims(ctx, out);
  if (a.mode == GatherMode::kND) {
    for (int d = 0; d < nb; ++d)
      if (out_dims[d] < 0) out_dims[d] = data.dims[d];
  }

  // Shape arithmetic: picking entries of a known small integer tensor (e.g. one dim of a Shape
  // output) keeps them known. At run time the executor reads values from the data instead, and
  // out-of-range indices are left to the kernel (kRUNTIME).
  KnownValues known;
  auto idx = ctx.int_values(1);
  if (!ctx.at_runtime() && !data.known.empty() && idx && out_dims.is_static() &&
      data.dims.is_static() && out_dims.volume() <= kMaxKnownValues) {
    auto src = gather_sources(
        a, axis, data.dims, ind.dims, out_dims,
        [&](int64_t i) { return (*idx)[static_cast<size_t>(i)]; },
        [&](const std::string& msg) { ctx.fail(msg); });
    for (int64_t s : src) known.push_back(data.known[static_cast<size_t>(s)]);
  }
  ctx.add_output(data.type, out_dims, std::move(known));
}
void print_attrs(const GatherAttrs& a, AttrPrinter& p) {
  p.add("mode", a.mode);
  p.add("axis", a.axis);
  p.add("num_elementwise_dims", a.num_elementwise_dims);
}

void infer(const ScatterAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 3, "Scatter takes 3 inputs (data, indices, updates), got ",
            ctx.num_inputs());
  const ValueDesc& data = ctx.input(0);
  const ValueDesc& ind = ctx.input(1);
  const ValueDesc& upd = ctx.input(2);
  check_type(ctx, 1, {DataType::kINT32, DataType::kINT64});
  ctx.check(upd.type == data.type, "updates have type ", data_type_name(upd.type),
            " but data has type ", data_type_name(data.type), "; they must match");
  const int r = data.dims.rank(), q = ind.dims.rank();
  ctx.check(r >= 1, "data must have rank >= 1, got ", data.dims.to_string());
  switch (a.reduction) {
    case ScatterReduction::kNONE:
      break;
    case ScatterReduction::kSUM:
    case ScatterReduction::kPROD:
    case ScatterReduction::kMAX:
    case ScatterReduction::kMIN: {
      // Reductions compute on the data type: the plain float and integer types, and bool for
      // kMAX/kMIN (logical or/and).
      bool arith = data.type == DataType::kFLOAT || data.type == DataType::kHALF ||
                   data.type == DataType::kBF16 || data.type == DataType::kINT8 ||
                   data.type == DataType::kUINT8 || data.type == DataType::kINT32 ||
                   data.type == DataType::kINT64;
      bool minmax = a.reduction == ScatterReduction::kMAX || a.reduction == ScatterReduction::kMIN;
      ctx.check(arith || (minmax && data.type == DataType::kBOOL), "reduction ",
                enum_name(a.reduction), " does not take data of type ", data_type_name(data.type),
                "; expected float32, float16, bfloat16, int8, uint8, int32 or int64",
                minmax ? " (or bool)" : "");
      break;
    }
    default:
      ctx.fail("unknown scatter reduction ", static_cast<int>(a.reduction));
  }
  if (a.mode == ScatterMode::kELEMENT) {
    int axis = normalize_axis(ctx, a.axis, r);
    ctx.check(q == r, "kELEMENT mode needs indices of the data's rank ", r, ", got indices ",
              ind.dims.to_string(), " for data ", data.dims.to_string());
    ctx.check(upd.dims.rank() == q, "updates ", upd.dims.to_string(),
              " must have the dims of the indices ", ind.dims.to_string());
    for (int d = 0; d < r; ++d) {
      ctx.check(dims_agree(upd.dims[d], ind.dims[d]), "updates ", upd.dims.to_string(),
                " must have the dims of the indices ", ind.dims.to_string());
      // As at::scatter: off the scatter axis the indices may not exceed the data.
      ctx.check(d == axis || ind.dims[d] < 0 || data.dims[d] < 0 || ind.dims[d] <= data.dims[d],
                "indices ", ind.dims.to_string(), " exceed data ", data.dims.to_string(),
                " at axis ", d, " (only the scatter axis ", axis, " may be larger)");
    }
  } else if (a.mode == ScatterMode::kND) {
    ctx.check(q >= 1, "kND mode needs indices of rank >= 1, got ", ind.dims.to_string());
    int64_t m = ind.dims[q - 1];
    ctx.check(m >= 1 && m <= r, "the last indices dim (", m,
              ") must be a build-time constant in 1..", r, " (the data rank)");
    std::vector<int64_t> want;
    for (int d = 0; d < q - 1; ++d) want.push_back(ind.dims[d]);
    for (int d = static_cast<int>(m); d < r; ++d) want.push_back(data.dims[d]);
    bool ok = static_cast<int>(want.size()) == upd.dims.rank();
    for (int d = 0; ok && d < upd.dims.rank(); ++d)
      ok = dims_agree(want[static_cast<size_t>(d)], upd.dims[d]);
    ctx.check(ok, "kND mode needs updates of dims ", make_dims(ctx, want).to_string(),
              " (indices[:-1] + data[", m, ":]), got ", upd.dims.to_string());
  } else {
    ctx.fail("unknown scatter mode ", static_cast<int>(a.mode));
  }
  ctx.add_output(data.type, data.dims);
}
void print_attrs(const ScatterAttrs& a, AttrPrinter& p) {
  p.add("mode", a.mode);
  p.add("axis", a.axis);
  // The extension is printed only when used, so plain TensorRT scatters read as before.
  if (a.reduction != ScatterReduction::kNONE) p.add("reduction", a.reduction);
}

void infer(const NonZeroAttrs&, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 1, "NonZero takes 1 input, got ", ctx.num_inputs());
  const ValueDesc& x = ctx.input(0);
  check_type(ctx, 0,
             {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT8, DataType::kUINT8,
              DataType::kINT32, DataType::kINT64, DataType::kBOOL});
  // A 0-D input has no axis to index; TensorRT's shape [rank, count] would be degenerate.
  ctx.check(x.dims.rank() >= 1, "input must have rank >= 1, got ", x.dims.to_string());
  const int64_t rank = x.dims.rank();
  // The count is data dependent: known at run time, or at build time for constant inputs; an
  // empty input has none (and may have no host elements to point at).
  if (!x.dims.is_static() || (!x.host_data && x.dims.volume() > 0)) {
    ctx.add_output(DataType::kINT64, Dims{rank, kDynamic});
    return;
  }
  int64_t n = x.dims.volume(), count = 0;
  std::vector<int64_t> flat;
  for (int64_t i = 0; i < n; ++i) {
    bool nz = is_floating(x.type) ? load_f(x.type, x.host_data, i) != 0.0f
                                  : load_i(x.type, x.host_data, i) != 0;
    if (nz) {
      ++count;
      if (rank * count <= kMaxKnownValues) flat.push_back(i);
    }
  }
  KnownValues known;
  if (rank * count <= kMaxKnownValues) {
    known.resize(static_cast<size_t>(rank * count));
    for (int64_t c = 0; c < count; ++c) {
      int64_t rest = flat[static_cast<size_t>(c)];
      for (int64_t d = rank - 1; d >= 0; --d) {
        known[static_cast<size_t>(d * count + c)] = rest % x.dims[static_cast<int>(d)];
        rest /= x.dims[static_cast<int>(d)];
      }
    }
  }
  ctx.add_output(DataType::kINT64, Dims{rank, count}, std::move(known));
}
void print_attrs(const NonZeroAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
