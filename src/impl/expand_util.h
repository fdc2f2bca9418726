// Repeating a tensor to a target shape with one Slice (kCLAMP broadcasts size-1 dims, kWRAP
// tiles), the target given per dim as a build-time size or a run-time [1] shape tensor, and
// index ramps along one axis. Shared by the expand, scatter, one_hot and triangular blocks.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "impl/shape_math.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::expand_util {

// One output dim: its size when known at build time, else an int64 [1] tensor holding it.
struct DimTarget {
  std::optional<int64_t> size;
  Tensor* tensor = nullptr;
};

// The dims of `x` as DimTargets (dynamic dims read from a Shape at run time).
inline std::vector<DimTarget> dims_of(ConversionContext& ctx, Tensor* x, const Target& target,
                                      std::optional<SourceIR> source_ir, std::string_view name) {
  std::vector<DimTarget> out;
  for (int d = 0; d < x->dims().rank(); ++d) {
    int64_t n = x->dims()[d];
    if (n >= 0)
      out.push_back({n, nullptr});
    else
      out.push_back({std::nullopt, shape_math::dim_size(ctx, x, d, target, source_ir,
                                                        sub_name(name, detail::cat("dim", d)))});
  }
  return out;
}

// A Slice of `x` (rank = dims.size()) starting at 0 with stride 1 and the given output sizes:
// with kCLAMP a size-1 dim is repeated (a broadcast; a dim of the output's size is copied), with
// kWRAP the dim is tiled. The Slice is named `name`.
inline Tensor* slice_to(ConversionContext& ctx, Tensor* x, const std::vector<DimTarget>& dims,
                        SampleMode mode, const Target& target, std::optional<SourceIR> source_ir,
                        std::string_view name) {
  const int rank = static_cast<int>(dims.size());
  LK_ASSERT(rank == x->dims().rank(), "slice_to: ", rank, " target dims for ",
            x->dims().to_string());
  Dims start = Dims::of_rank(rank, 0), stride = Dims::of_rank(rank, 1),
       size = Dims::of_rank(rank, 0);
  bool all_known = true;
  for (int d = 0; d < rank; ++d) {
    const DimTarget& t = dims[static_cast<size_t>(d)];
    if (t.size)
      size[d] = *t.size;
    else
      all_known = false;
  }
  SliceInputs in;
  if (!all_known) {
    std::vector<Tensor*> pieces;
    for (int d = 0; d < rank; ++d) {
      const DimTarget& t = dims[static_cast<size_t>(d)];
      pieces.push_back(t.size ? shape_math::i64_const(ctx, {*t.size}, target, source_ir,
                                                      sub_name(name, detail::cat("size", d)))
                              : t.tensor);
    }
    in.size = named_output(ctx, ctx.net().add_concatenation(pieces, 0), target, source_ir,
                           sub_name(name, "sizes"));
  }
  return named_output(ctx, ctx.net().add_slice(x, start, size, stride, mode, in), target, source_ir,
                      name);
}

// Broadcasts `x` (rank <= dims.size()) to `dims` (leading 1s first, then a kCLAMP Slice). Each
// known target size must equal x's static dim or x's dim must be 1; where x's dim is dynamic it
// must be 1 or the target size at run time.
inline Tensor* broadcast_to(ConversionContext& ctx, Tensor* x, const std::vector<DimTarget>& dims,
                            const Target& target, std::optional<SourceIR> source_ir,
                            std::string_view name) {
  const int rank = static_cast<int>(dims.size());
  LK_CHECK(x->dims().rank() <= rank, "cannot broadcast ", x->dims().to_string(), " to rank ", rank);
  Tensor* xr = prepend_ones(ctx, x, rank, target, source_ir, sub_name(name, "unsqueeze"));
  bool same = true;
  for (int d = 0; d < rank; ++d) {
    const DimTarget& t = dims[static_cast<size_t>(d)];
    int64_t have = xr->dims()[d];
    LK_CHECK(!t.size || have < 0 || have == 1 || have == *t.size, "dim ", d, " of ",
             xr->dims().to_string(), " (size ", have, ") cannot broadcast to size ",
             t.size.value_or(-1));
    same = same && t.size && have == *t.size;
  }
  if (same) return xr;
  return slice_to(ctx, xr, dims, SampleMode::kCLAMP, target, source_ir, name);
}

// Above this length a static index range (iota, arange) is a run-time Fill, not a host
// constant: a malformed model's dim of 2^40 must not make the build fill terabytes on the host.
// Constant folding evaluates the Fill only when it is small enough to fold.
constexpr int64_t kMaxConstantRange = int64_t{1} << 24;

// An int64 tensor of rank `rank`, all dims 1 but `axis` of size `n`, holding 0, 1, ..., n-1 along
// it: a Constant when n is known and at most kMaxConstantRange, else a LINSPACE Fill (of static
// dims, or shaped by a concatenated shape tensor).
inline Tensor* iota(ConversionContext& ctx, const DimTarget& n, int rank, int axis,
                    const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name) {
  Dims dims = Dims::of_rank(rank, 1);
  FillAttrs a;
  a.op = FillOperation::kLINSPACE;
  a.alpha = 0.0;
  a.beta.assign(static_cast<size_t>(rank), 0.0);
  a.beta[static_cast<size_t>(axis)] = 1.0;
  a.output_type = DataType::kINT64;
  if (n.size && *n.size > kMaxConstantRange) {
    dims[axis] = *n.size;
    a.dims = dims;
    return named_output(ctx, ctx.net().add_fill(a, FillInputs{}), target, source_ir, name);
  }
  if (n.size) {
    dims[axis] = *n.size;
    std::vector<int64_t> v(static_cast<size_t>(*n.size));
    for (int64_t i = 0; i < *n.size; ++i) v[static_cast<size_t>(i)] = i;
    return named_output(ctx,
                        ctx.net().add_constant(dims, Weights::from_vector(DataType::kINT64, v)),
                        target, source_ir, name);
  }
  std::vector<Tensor*> pieces;
  for (int d = 0; d < rank; ++d)
    pieces.push_back(d == axis ? n.tensor
                               : shape_math::i64_const(ctx, {1}, target, source_ir,
                                                       sub_name(name, detail::cat("one", d))));
  Tensor* c = named_output(ctx, ctx.net().add_concatenation(pieces, 0), target, source_ir,
                           sub_name(name, "shape"));
  a.dims = Dims::of_rank(rank, 1);
  FillInputs in;
  in.shape = c;
  return named_output(ctx, ctx.net().add_fill(a, in), target, source_ir, name);
}

}  // namespace layerkit::impl::expand_util
