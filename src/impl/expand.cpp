// expand / expand_to / tile: one Slice per call (kCLAMP repeats size-1 dims, kWRAP tiles), its
// sizes static where they are known and a concatenated shape tensor otherwise.
#include "layerkit/impl/expand.h"

#include <algorithm>

#include "impl/expand_util.h"
#include "impl/shape_math.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::expand {

namespace {

using expand_util::DimTarget;

void check_input(Tensor* x) {
  LK_CHECK(x != nullptr, "input is a null tensor");
}

// A 1-D int32/int64 tensor of build-time length, cast to int64; returns its length.
int64_t check_shape_tensor(Tensor* t, std::string_view what) {
  LK_CHECK(t != nullptr, what, " is a null tensor");
  LK_CHECK(t->type() == DataType::kINT32 || t->type() == DataType::kINT64, what, " has type ",
           data_type_name(t->type()), "; expected int32 or int64");
  LK_CHECK(t->dims().rank() == 1, what, " must be 1-D; it has dims ", t->dims().to_string());
  LK_CHECK(t->dims()[0] >= 0, what,
           " must have a length known when the network is built (it fixes the output rank)");
  return t->dims()[0];
}

// Entry j of a 1-D int64 tensor as an int64 [1] tensor.
Tensor* entry(ConversionContext& ctx, Tensor* t, int64_t j, const Target& target,
              std::optional<SourceIR> source_ir, std::string_view name) {
  return named_output(ctx, ctx.net().add_slice(t, {j}, {1}, {1}), target, source_ir, name);
}

std::optional<int64_t> known_entry(const Tensor* t, int64_t j) {
  const KnownValues& k = t->known_values();
  if (static_cast<int64_t>(k.size()) != t->dims()[0]) return std::nullopt;
  return k[static_cast<size_t>(j)];
}

}  // namespace

Tensor* expand(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Tensor* input, const std::vector<int64_t>& sizes) {
  Operand in(input);
  return guarded(ctx, "expand::expand", target, name, {&in}, [&]() -> Tensor* {
    check_input(input);
    const int rank = input->dims().rank();
    const int out_rank = static_cast<int>(sizes.size());
    LK_CHECK(out_rank >= rank, "the number of sizes (", out_rank,
             ") must be at least the input's rank ", rank, " (input ", input->dims().to_string(),
             ")");
    LK_CHECK(out_rank <= kMaxDims, "expand to rank ", out_rank, " exceeds the maximum rank ",
             kMaxDims);
    const int lead = out_rank - rank;
    Tensor* x = prepend_ones(ctx, input, out_rank, target, source_ir, sub_name(name, "unsqueeze"));
    std::vector<DimTarget> dims;
    for (int i = 0; i < out_rank; ++i) {
      int64_t s = sizes[static_cast<size_t>(i)];
      int64_t have = x->dims()[i];
      if (i < lead) {
        LK_CHECK(s >= 0, "size ", s, " at new leading dim ", i,
                 " must be >= 0 (-1 may only keep an existing dim)");
        dims.push_back({s, nullptr});
      } else if (s == -1) {
        if (have >= 0)
          dims.push_back({have, nullptr});
        else
          dims.push_back(
              {std::nullopt, shape_math::dim_size(ctx, x, i, target, source_ir,
                                                  sub_name(name, detail::cat("dim", i)))});
      } else {
        LK_CHECK(s >= 0, "size ", s, " at dim ", i, " must be >= 0 or -1 (keep the dim)");
        LK_CHECK(have < 0 || have == 1 || have == s, "the expanded size ", s,
                 " must match the existing size ", have, " at non-singleton dim ", i, " (input ",
                 input->dims().to_string(), ")");
        dims.push_back({s, nullptr});
      }
    }
    return expand_util::broadcast_to(ctx, x, dims, target, source_ir, name);
  });
}

Tensor* expand_to(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Tensor* input, Tensor* shape) {
  Operand in(input), sh(shape);
  return guarded(ctx, "expand::expand_to", target, name, {&in, &sh}, [&]() -> Tensor* {
    check_input(input);
    const int64_t n = check_shape_tensor(shape, "shape");
    const int rank = input->dims().rank();
    const int out_rank = static_cast<int>(std::max<int64_t>(rank, n));
    LK_CHECK(out_rank <= kMaxDims, "expand to rank ", out_rank, " exceeds the maximum rank ",
             kMaxDims);
    Tensor* s64 =
        cast_to(ctx, shape, DataType::kINT64, target, source_ir, sub_name(name, "shape_cast"));
    Tensor* x = prepend_ones(ctx, input, out_rank, target, source_ir, sub_name(name, "unsqueeze"));
    const int64_t lead = out_rank - n;  // output dims the shape does not cover
    std::vector<DimTarget> dims;
    for (int i = 0; i < out_rank; ++i) {
      int64_t have = x->dims()[i];
      auto x_dim = [&]() -> DimTarget {
        if (have >= 0) return {have, nullptr};
        return {std::nullopt, shape_math::dim_size(ctx, x, i, target, source_ir,
                                                   sub_name(name, detail::cat("dim", i)))};
      };
      if (i < lead) {
        dims.push_back(x_dim());
        continue;
      }
      int64_t j = i - lead;
      std::optional<int64_t> s = known_entry(s64, j);
      if (s) {
        LK_CHECK(*s >= 0, "shape entry ", j, " is ", *s, "; sizes must be >= 0");
        LK_CHECK(have < 0 || have == 1 || *s == 1 || have == *s, "input ",
                 input->dims().to_string(), " cannot broadcast with shape entry ", j, " = ", *s,
                 " (output dim ", i, " has size ", have, ")");
      }
      if (s && have >= 0) {
        dims.push_back({have == 1 ? *s : have, nullptr});
      } else if (s && *s == 1) {
        dims.push_back(x_dim());
      } else if (s) {
        dims.push_back({*s, nullptr});  // a dynamic input dim must be 1 or *s at run time
      } else if (have >= 0 && have != 1) {
        dims.push_back({have, nullptr});  // the shape entry must be 1 or `have` at run time
      } else {
        Tensor* e = entry(ctx, s64, j, target, source_ir, sub_name(name, detail::cat("entry", j)));
        if (have == 1) {
          dims.push_back({std::nullopt, e});
          continue;
        }
        // Both unknown: the input's size unless it is 1, then the shape's.
        Tensor* xd = x_dim().tensor;
        Tensor* one = shape_math::i64_const(ctx, {1}, target, source_ir,
                                            sub_name(name, detail::cat("one", i)));
        Tensor* is_one = shape_math::binary(ctx, xd, one, ElementWiseOperation::kEQUAL, target,
                                            source_ir, sub_name(name, detail::cat("is_one", i)));
        Tensor* sel = named_output(ctx, ctx.net().add_select(is_one, e, xd), target, source_ir,
                                   sub_name(name, detail::cat("size", i)));
        dims.push_back({std::nullopt, sel});
      }
    }
    return expand_util::broadcast_to(ctx, x, dims, target, source_ir, name);
  });
}

Tensor* tile(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, const std::vector<int64_t>& reps) {
  Operand in(input);
  return guarded(ctx, "expand::tile", target, name, {&in}, [&]() -> Tensor* {
    check_input(input);
    for (size_t i = 0; i < reps.size(); ++i)
      LK_CHECK(reps[i] >= 0, "repeat ", reps[i], " at position ", i, " must be >= 0");
    const int rank = input->dims().rank();
    const int out_rank = std::max(rank, static_cast<int>(reps.size()));
    LK_CHECK(out_rank <= kMaxDims, "tile to rank ", out_rank, " exceeds the maximum rank ",
             kMaxDims);
    Tensor* x = prepend_ones(ctx, input, out_rank, target, source_ir, sub_name(name, "unsqueeze"));
    const int pad = out_rank - static_cast<int>(reps.size());
    std::vector<DimTarget> dims;
    bool identity = true;
    for (int i = 0; i < out_rank; ++i) {
      int64_t r = i < pad ? 1 : reps[static_cast<size_t>(i - pad)];
      int64_t have = x->dims()[i];
      identity = identity && r == 1;
      if (have >= 0) {
        dims.push_back({have * r, nullptr});
        continue;
      }
      Tensor* d =
          shape_math::dim_size(ctx, x, i, target, source_ir, sub_name(name, detail::cat("dim", i)));
      if (r != 1) {
        Tensor* rc = shape_math::i64_const(ctx, {r}, target, source_ir,
                                           sub_name(name, detail::cat("rep", i)));
        d = shape_math::binary(ctx, d, rc, ElementWiseOperation::kPROD, target, source_ir,
                               sub_name(name, detail::cat("size", i)));
      }
      dims.push_back({std::nullopt, d});
    }
    if (identity) return x;
    return expand_util::slice_to(ctx, x, dims, SampleMode::kWRAP, target, source_ir, name);
  });
}

Tensor* tile(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, Tensor* repeats) {
  Operand in(input), rp(repeats);
  return guarded(ctx, "expand::tile", target, name, {&in, &rp}, [&]() -> Tensor* {
    check_input(input);
    const int64_t n = check_shape_tensor(repeats, "repeats");
    const int rank = input->dims().rank();
    LK_CHECK(n == rank, "repeats has ", n, " entries; ONNX Tile needs one per input dim (", rank,
             " for input ", input->dims().to_string(), ")");
    if (rank == 0) return input;
    Tensor* r64 =
        cast_to(ctx, repeats, DataType::kINT64, target, source_ir, sub_name(name, "repeats_cast"));
    const KnownValues& k = r64->known_values();
    if (static_cast<int64_t>(k.size()) == n)
      for (int64_t j = 0; j < n; ++j)
        LK_CHECK(!k[static_cast<size_t>(j)] || *k[static_cast<size_t>(j)] >= 0, "repeat ",
                 *k[static_cast<size_t>(j)], " at position ", j, " must be >= 0");
    Tensor* shape =
        named_output(ctx, ctx.net().add_shape(input), target, source_ir, sub_name(name, "shape"));
    Tensor* sizes = shape_math::binary(ctx, shape, r64, ElementWiseOperation::kPROD, target,
                                       source_ir, sub_name(name, "sizes"));
    SliceInputs si;
    si.size = sizes;
    return named_output(ctx,
                        ctx.net().add_slice(input, Dims::of_rank(rank, 0), Dims::of_rank(rank, 0),
                                            Dims::of_rank(rank, 1), SampleMode::kWRAP, si),
                        target, source_ir, name);
  });
}

}  // namespace layerkit::impl::expand
