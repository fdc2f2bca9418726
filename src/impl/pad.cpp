// Padding building blocks: torch's constant, reflection, replication and circular padding, each
// as one Slice layer whose sample mode supplies the padded elements.
#include "layerkit/impl/pad.h"

#include <algorithm>
#include <string>

#include "layerkit/impl/utils.h"

namespace layerkit::impl::pad {

namespace {

// "[1,2,-1]" (a Dims cannot hold more than 8 entries).
std::string pad_string(const std::vector<int64_t>& pad) {
  std::string s = "[";
  for (size_t i = 0; i < pad.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(pad[i]);
  }
  return s + "]";
}

// Checks the pad list against the input and returns the number of padded (trailing) dims.
int check_pad(Tensor* input, const std::vector<int64_t>& pad) {
  LK_CHECK(input != nullptr, "input is a null tensor");
  int rank = input->dims().rank();
  LK_CHECK(pad.size() % 2 == 0, "padding length must be divisible by 2; pad ", pad_string(pad),
           " has length ", pad.size());
  LK_CHECK(static_cast<int64_t>(pad.size()) <= 2 * static_cast<int64_t>(rank),
           "padding length too large: pad ", pad_string(pad), " has length ", pad.size(), " (",
           pad.size() / 2, " dims) but the input has rank ", rank);
  return static_cast<int>(pad.size() / 2);
}

// The (left, right) padding of axis `axis` (0 for axes the pad list does not reach).
std::pair<int64_t, int64_t> axis_pad(const std::vector<int64_t>& pad, int rank, int axis) {
  size_t j = static_cast<size_t>(rank - 1 - axis);
  if (2 * j + 1 >= pad.size()) return {0, 0};
  return {pad[2 * j], pad[2 * j + 1]};
}

// One Slice that extends (or crops) every axis by its (left, right) padding: start -left, size
// dim + left + right, stride 1. Dynamic dims get the size from shape(x) + delta.
Tensor* padded_slice(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, Tensor* x,
                     const std::vector<int64_t>& pad, SampleMode mode, Tensor* fill) {
  const Dims& d = x->dims();
  int rank = d.rank();
  Dims start = Dims::of_rank(rank, 0), size = Dims::of_rank(rank, 0),
       stride = Dims::of_rank(rank, 1);
  std::vector<int64_t> delta(static_cast<size_t>(rank), 0);
  bool dynamic = false;
  for (int a = 0; a < rank; ++a) {
    auto [l, r] = axis_pad(pad, rank, a);
    start[a] = -l;
    delta[static_cast<size_t>(a)] = l + r;
    if (d[a] < 0) {
      dynamic = true;
    } else {
      LK_CHECK(d[a] + l + r >= 0, "the input size ", d[a], " of dim ", a, " plus padding ", l,
               " and ", r, " gives a negative output size ", d[a] + l + r);
      size[a] = d[a] + l + r;
    }
  }
  SliceInputs in;
  in.fill_value = fill;
  if (dynamic) {
    Tensor* shape =
        named_output(ctx, ctx.net().add_shape(x), target, source_ir, sub_name(name, "shape"));
    Tensor* c = named_output(
        ctx, ctx.net().add_constant({rank}, Weights::from_vector(DataType::kINT64, delta)), target,
        source_ir, sub_name(name, "delta"));
    in.size = named_output(ctx, ctx.net().add_elementwise(shape, c, ElementWiseOperation::kSUM),
                           target, source_ir, sub_name(name, "size"));
  }
  return named_output(ctx, ctx.net().add_slice(x, start, size, stride, mode, in), target, source_ir,
                      name);
}

// Entries must be >= 0 (reflection and replication), and for reflection < the dim size.
void check_nonnegative(Tensor* x, const std::vector<int64_t>& pad, bool reflect) {
  int rank = x->dims().rank();
  for (int a = 0; a < rank; ++a) {
    auto [l, r] = axis_pad(pad, rank, a);
    LK_CHECK(l >= 0 && r >= 0, "padding ", l, " and ", r, " of dim ", a,
             " must be non-negative for this mode");
    int64_t n = x->dims()[a];
    if (reflect && n >= 0)
      LK_CHECK(l < n && r < n,
               "padding size should be less than the corresponding input dim: "
               "padding ",
               l, " and ", r, " of dim ", a, " (size ", n, ")");
  }
}

}  // namespace

Tensor* constant_pad(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                     const std::vector<int64_t>& pad, double value) {
  Operand in(input), v(value);
  return guarded(ctx, "pad::constant_pad", target, name, {&in, &v}, [&]() -> Tensor* {
    check_pad(input, pad);
    Tensor* fill = nullptr;
    if (value != 0.0) {
      DataType t = input->type();
      // torch casts the value to the tensor's type (integers truncate).
      Operand fv = is_floating(t)         ? Operand(value)
                   : t == DataType::kBOOL ? Operand(value != 0.0)
                                          : Operand(static_cast<int64_t>(value));
      fill = to_tensor(ctx, fv, t, 0, target, source_ir, sub_name(name, "value"));
    }
    return padded_slice(ctx, target, source_ir, name, input, pad, SampleMode::kFILL, fill);
  });
}

Tensor* reflection_pad(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                       const std::vector<int64_t>& pad) {
  Operand in(input);
  return guarded(ctx, "pad::reflection_pad", target, name, {&in}, [&]() -> Tensor* {
    check_pad(input, pad);
    check_nonnegative(input, pad, true);
    return padded_slice(ctx, target, source_ir, name, input, pad, SampleMode::kREFLECT, nullptr);
  });
}

Tensor* replication_pad(ConversionContext& ctx, const Target& target,
                        std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                        const std::vector<int64_t>& pad) {
  Operand in(input);
  return guarded(ctx, "pad::replication_pad", target, name, {&in}, [&]() -> Tensor* {
    check_pad(input, pad);
    check_nonnegative(input, pad, false);
    return padded_slice(ctx, target, source_ir, name, input, pad, SampleMode::kCLAMP, nullptr);
  });
}

Tensor* circular_pad(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                     const std::vector<int64_t>& pad) {
  Operand in(input);
  return guarded(ctx, "pad::circular_pad", target, name, {&in}, [&]() -> Tensor* {
    check_pad(input, pad);
    int rank = input->dims().rank();
    for (int a = 0; a < rank; ++a) {
      auto [l, r] = axis_pad(pad, rank, a);
      int64_t n = input->dims()[a];
      if (n >= 0)
        LK_CHECK(l <= n && r <= n && -l <= n && -r <= n,
                 "padding value causes wrapping around more than once: padding ", l, " and ", r,
                 " of dim ", a, " (size ", n, ")");
    }
    // ATen crops first and wraps the cropped tensor, so negative entries are a separate slice.
    std::vector<int64_t> crop(pad.size()), grow(pad.size());
    for (size_t i = 0; i < pad.size(); ++i) {
      crop[i] = std::min<int64_t>(pad[i], 0);
      grow[i] = std::max<int64_t>(pad[i], 0);
    }
    Tensor* x = input;
    if (crop != std::vector<int64_t>(pad.size(), 0))
      x = padded_slice(ctx, target, source_ir, sub_name(name, "crop"), x, crop,
                       SampleMode::kSTRICT_BOUNDS, nullptr);
    return padded_slice(ctx, target, source_ir, name, x, grow, SampleMode::kWRAP, nullptr);
  });
}

}  // namespace layerkit::impl::pad
