// Split building blocks: one Slice per chunk with static offsets; on a dynamic dim the sizes are
// checked against the run-time dim through a strict-bounds Slice every chunk depends on.
#include "layerkit/impl/split.h"

#include <numeric>

#include "impl/shape_math.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::split {

namespace {

namespace sm = shape_math;
using E = ElementWiseOperation;

std::string sizes_string(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// Slices chunk i of `sizes` along `d`. `starts` (int64 [k], or null) replaces the static offsets
// when the dim is dynamic.
std::vector<Tensor*> slice_chunks(ConversionContext& ctx, const Target& target,
                                  std::optional<SourceIR> source_ir, std::string_view name,
                                  Tensor* x, int d, const std::vector<int64_t>& sizes,
                                  Tensor* starts) {
  std::vector<Tensor*> out;
  Tensor* axes = nullptr;
  if (!x->dims().is_static())
    axes = sm::i64_const(ctx, {d}, target, source_ir, sub_name(name, "axes"));
  int64_t offset = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::string chunk = sub_name(name, std::to_string(i));
    Layer* l = nullptr;
    if (!axes) {
      Dims st = Dims::of_rank(x->dims().rank(), 0), sz = x->dims(),
           sd = Dims::of_rank(x->dims().rank(), 1);
      st[d] = offset;
      sz[d] = sizes[i];
      l = ctx.net().add_slice(x, st, sz, sd);
    } else {
      SliceInputs in;
      in.axes = axes;
      Dims st{offset};
      if (starts) {
        in.start =
            named_output(ctx, ctx.net().add_slice(starts, {static_cast<int64_t>(i)}, {1}, {1}),
                         target, source_ir, sub_name(chunk, "start"));
        st = {};
      }
      l = ctx.net().add_slice(x, st, {sizes[i]}, {1}, SampleMode::kSTRICT_BOUNDS, in);
    }
    out.push_back(named_output(ctx, l, target, source_ir, chunk));
    offset += sizes[i];
  }
  return out;
}

std::vector<Tensor*> split_sizes_impl(ConversionContext& ctx, const Target& target,
                                      std::optional<SourceIR> source_ir, std::string_view name,
                                      Tensor* input, const std::vector<int64_t>& sizes,
                                      int64_t dim) {
  LK_CHECK(input != nullptr, "input is a null tensor");
  int rank = input->dims().rank();
  LK_CHECK(rank > 0, "split expects at least a 1-dimensional tensor; got ", describe(*input));
  int d = get_positive_dim(dim, rank);
  LK_CHECK(!sizes.empty(), "split_with_sizes needs at least one size");
  for (int64_t s : sizes)
    LK_CHECK(s >= 0, "split_with_sizes expects non-negative sizes, but got split_sizes=",
             sizes_string(sizes));
  int64_t total = std::accumulate(sizes.begin(), sizes.end(), int64_t{0});
  int64_t n = input->dims()[d];
  if (n >= 0) {
    LK_CHECK(total == n, "split_with_sizes expects split_sizes to sum exactly to ", n,
             " (input tensor's size at dimension ", dim,
             "), but got split_sizes=", sizes_string(sizes), " (sum ", total, ")");
    return slice_chunks(ctx, target, source_ir, name, input, d, sizes, nullptr);
  }
  // Dynamic dim: reading element (n - total) of a one-element constant with strict bounds fails
  // at run time unless n == total; the zero it reads is added to every chunk's start so that
  // no chunk can be computed without the check.
  std::string check = sub_name(name, "sizes_sum_check");
  Tensor* nt = sm::dim_size(ctx, input, d, target, source_ir, sub_name(check, "dim_size"));
  Tensor* tot = sm::i64_const(ctx, {total}, target, source_ir, sub_name(check, "total"));
  Tensor* diff = sm::binary(ctx, nt, tot, E::kSUB, target, source_ir, sub_name(check, "diff"));
  Tensor* zero = sm::i64_const(ctx, {0}, target, source_ir, sub_name(check, "zero"));
  SliceInputs probe;
  probe.start = diff;
  Tensor* checked =
      named_output(ctx, ctx.net().add_slice(zero, {}, {1}, {1}, SampleMode::kSTRICT_BOUNDS, probe),
                   target, source_ir, check);
  std::vector<int64_t> offsets;
  int64_t off = 0;
  for (int64_t s : sizes) {
    offsets.push_back(off);
    off += s;
  }
  Tensor* base = sm::i64_const(ctx, offsets, target, source_ir, sub_name(name, "offsets"));
  Tensor* starts =
      sm::binary(ctx, base, checked, E::kSUM, target, source_ir, sub_name(name, "starts"));
  return slice_chunks(ctx, target, source_ir, name, input, d, sizes, starts);
}

}  // namespace

std::vector<Tensor*> split(ConversionContext& ctx, const Target& target,
                           std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                           int64_t split_size, int64_t dim) {
  Operand in(input), s_op(split_size), d_op(dim);
  return guarded_multi(ctx, "split::split", target, name, {&in, &s_op, &d_op}, [&] {
    LK_CHECK(input != nullptr, "input is a null tensor");
    int rank = input->dims().rank();
    LK_CHECK(rank > 0, "split expects at least a 1-dimensional tensor; got ", describe(*input));
    int d = get_positive_dim(dim, rank);
    LK_CHECK(split_size >= 0,
             "split expects split_size be non-negative, but got split_size=", split_size);
    int64_t n = input->dims()[d];
    LK_CHECK(n >= 0, "dim ", dim, " of ", describe(*input),
             " is dynamic, so the number of chunks of split_size ", split_size,
             " is unknown when the network is built; pass the chunk sizes instead");
    LK_CHECK(split_size > 0 || n == 0, "split_size can only be 0 if dimension size is 0, but got ",
             "dimension size of ", n);
    // torch: max(ceil(n / split_size), 1) chunks, the last one holding the remainder.
    int64_t count = split_size == 0 ? 1 : std::max<int64_t>((n + split_size - 1) / split_size, 1);
    std::vector<int64_t> sizes;
    for (int64_t i = 0; i < count; ++i) sizes.push_back(std::min(split_size, n - i * split_size));
    return slice_chunks(ctx, target, source_ir, name, input, d, sizes, nullptr);
  });
}

std::vector<Tensor*> split(ConversionContext& ctx, const Target& target,
                           std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                           const std::vector<int64_t>& sizes, int64_t dim) {
  Operand in(input), d_op(dim);
  return guarded_multi(ctx, "split::split", target, name, {&in, &d_op}, [&] {
    return split_sizes_impl(ctx, target, source_ir, name, input, sizes, dim);
  });
}

std::vector<Tensor*> split_with_sizes(ConversionContext& ctx, const Target& target,
                                      std::optional<SourceIR> source_ir, std::string_view name,
                                      Tensor* input, const std::vector<int64_t>& sizes,
                                      int64_t dim) {
  Operand in(input), d_op(dim);
  return guarded_multi(ctx, "split::split_with_sizes", target, name, {&in, &d_op}, [&] {
    return split_sizes_impl(ctx, target, source_ir, name, input, sizes, dim);
  });
}

}  // namespace layerkit::impl::split
