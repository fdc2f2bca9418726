// Inference and printing for the Fill kind.
#include <cmath>

#include "network/infer.h"

namespace layerkit::detail {

namespace {
constexpr int kShapeInput = 0, kAlphaInput = 1, kBetaInput = 2;
}  // namespace

void infer(const FillAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() <= 3, "takes at most 3 inputs (shape, alpha, beta), got ",
            ctx.num_inputs());
  bool linspace = a.op == FillOperation::kLINSPACE;
  if (linspace) {
    ctx.check(a.output_type == DataType::kFLOAT || a.output_type == DataType::kHALF ||
                  a.output_type == DataType::kBF16 || a.output_type == DataType::kINT32 ||
                  a.output_type == DataType::kINT64,
              "output_type ", data_type_name(a.output_type), " is not supported by ",
              enum_name(a.op), "; expected one of float32, float16, bfloat16, int32, int64");
  } else {
    ctx.check(a.output_type == DataType::kFLOAT || a.output_type == DataType::kHALF ||
                  a.output_type == DataType::kBF16,
              "output_type ", data_type_name(a.output_type), " is not supported by ",
              enum_name(a.op), "; expected one of float32, float16, bfloat16");
  }

  Dims out = a.dims;
  if (ctx.has_input(kShapeInput)) {
    const ValueDesc& s = ctx.input(kShapeInput);
    check_type(ctx, kShapeInput, {DataType::kINT64});
    ctx.check(s.dims.rank() == 1 && s.dims[0] >= 0 && s.dims[0] <= kMaxDims,
              "shape (input 0) must be 1-D with a build-time length of at most ", kMaxDims,
              "; it has dims ", s.dims.to_string());
    out = Dims::of_rank(static_cast<int>(s.dims[0]), -1);
    if (static_cast<int64_t>(s.known.size()) == s.dims[0]) {
      for (int i = 0; i < out.rank(); ++i) {
        const auto& v = s.known[static_cast<size_t>(i)];
        if (!v) continue;
        ctx.check(*v >= 0, "shape (input 0) entry ", i, " is ", *v, "; sizes must be >= 0");
        out[i] = *v;
      }
    }
  } else {
    ctx.check(a.dims.is_static(), "dims ", a.dims.to_string(),
              " must be static (give a shape tensor as input 0 for dynamic dims)");
  }
  int rank = out.rank();

  bool int_out = a.output_type == DataType::kINT32 || a.output_type == DataType::kINT64;
  std::optional<int64_t> alpha_i;
  if (ctx.has_input(kAlphaInput)) {
    const ValueDesc& t = ctx.input(kAlphaInput);
    // TensorRT: tensor alpha/beta have the output's type.
    ctx.check(t.type == a.output_type, "alpha (input 1) has type ", data_type_name(t.type),
              "; expected the output type ", data_type_name(a.output_type));
    ctx.check(t.dims.rank() == 0, "alpha (input 1) must be 0-D; it has dims ", t.dims.to_string());
    if (t.known.size() == 1) alpha_i = t.known[0];
  } else {
    ctx.check(!int_out || std::trunc(a.alpha) == a.alpha, "alpha ", a.alpha,
              " is not an integer but output_type is ", data_type_name(a.output_type));
    alpha_i = static_cast<int64_t>(a.alpha);
  }

  std::vector<std::optional<int64_t>> beta_i;
  if (ctx.has_input(kBetaInput)) {
    const ValueDesc& t = ctx.input(kBetaInput);
    ctx.check(t.type == a.output_type, "beta (input 2) has type ", data_type_name(t.type),
              "; expected the output type ", data_type_name(a.output_type));
    if (linspace) {
      ctx.check(t.dims.rank() == 1 && t.dims[0] == rank, "beta (input 2) must be 1-D with ", rank,
                " entries (one delta per output axis); it has dims ", t.dims.to_string());
      for (int i = 0; i < rank; ++i)
        beta_i.push_back(static_cast<int>(t.known.size()) == rank ? t.known[static_cast<size_t>(i)]
                                                                  : std::nullopt);
    } else {
      ctx.check(t.dims.rank() == 0, "beta (input 2) must be 0-D for ", enum_name(a.op),
                "; it has dims ", t.dims.to_string());
    }
  } else {
    AttrPrinter pr;
    pr.add("beta", a.beta);
    if (linspace) {
      ctx.check(static_cast<int>(a.beta.size()) == rank, pr.str(), " has ", a.beta.size(),
                " entries; ", enum_name(a.op), " needs one delta per output axis (", rank, ")");
      for (double b : a.beta) {
        ctx.check(!int_out || std::trunc(b) == b, pr.str(),
                  " holds a non-integer delta but output_type is ", data_type_name(a.output_type));
        beta_i.emplace_back(static_cast<int64_t>(b));
      }
    } else {
      ctx.check(
          a.beta.size() == 1, pr.str(), " has ", a.beta.size(), " entries; ", enum_name(a.op),
          " takes exactly one (",
          a.op == FillOperation::kRANDOM_UNIFORM ? "the upper bound" : "the standard deviation",
          ")");
      if (!ctx.has_input(kAlphaInput) && a.op == FillOperation::kRANDOM_UNIFORM)
        ctx.check(a.alpha <= a.beta[0], "uniform range [", a.alpha, ", ", a.beta[0],
                  ") is empty (alpha must be <= beta)");
      if (a.op == FillOperation::kRANDOM_NORMAL)
        ctx.check(a.beta[0] >= 0, "standard deviation ", a.beta[0], " is negative");
    }
  }

  // An integer LINSPACE of known size is an index ramp often used in shape arithmetic.
  KnownValues known;
  int64_t n = out.volume();
  bool betas_known = true;
  for (const auto& b : beta_i) betas_known = betas_known && b.has_value();
  if (linspace && int_out && n >= 0 && n <= kMaxKnownValues && alpha_i && betas_known) {
    std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
    for (int64_t e = 0; e < n; ++e) {
      int64_t v = *alpha_i;
      for (int k = 0; k < rank; ++k)
        v += *beta_i[static_cast<size_t>(k)] * idx[static_cast<size_t>(k)];
      known.emplace_back(a.output_type == DataType::kINT32 ? static_cast<int32_t>(v) : v);
      for (int d = rank - 1; d >= 0; --d) {
        if (++idx[static_cast<size_t>(d)] < out[d]) break;
        idx[static_cast<size_t>(d)] = 0;
      }
    }
  }
  ctx.add_output(a.output_type, out, std::move(known));
}

void print_attrs(const FillAttrs& a, AttrPrinter& p) {
  p.add("op", a.op);
  p.add("dims", a.dims);
  p.add("alpha", a.alpha);
  p.add("beta", a.beta);
  p.add("output_type", a.output_type);
  p.add("seed", a.seed);
}

}  // namespace layerkit::detail
