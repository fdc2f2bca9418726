// Slice and select building blocks: torch's bound normalisation done on the host when the dim and
// bounds are known, and with int64 shape arithmetic feeding Slice's tensor inputs when not.
#include "layerkit/impl/slice.h"

#include <algorithm>
#include <limits>

#include "impl/shape_math.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::slice {

namespace {

namespace sm = shape_math;
using E = ElementWiseOperation;

// A bound's value when known at build time (an int, or a tensor inference knows).
std::optional<int64_t> static_bound(const Operand& b) {
  if (b.is_int()) return b.int_value();
  return sm::known_scalar(b.tensor());
}

void check_bound(const std::optional<Operand>& b, std::string_view what) {
  if (!b) return;
  if (b->is_int()) return;
  LK_CHECK(b->is_tensor(), what, " must be an int or an integer tensor; got ", b->describe());
  const Tensor* t = b->tensor();
  LK_CHECK(t != nullptr, what, " is a null tensor");
  LK_CHECK(t->type() == DataType::kINT32 || t->type() == DataType::kINT64, what,
           " tensor must be int32 or int64; got ", describe(*t));
  LK_CHECK(t->dims().rank() == 0 || (t->dims().rank() == 1 && t->dims()[0] == 1), what,
           " tensor must hold one element (0-D or [1]); got ", describe(*t));
}

// torch's clamping of one bound to 0..n (wrapping negatives once).
int64_t clamp_bound(int64_t v, int64_t n) {
  if (v < 0) v += n;
  return std::clamp<int64_t>(v, 0, n);
}

// The same clamping as a shape computation on an int64 [1] `n`.
Tensor* clamp_bound_tensor(ConversionContext& ctx, const Operand& b, Tensor* n, int64_t n_static,
                           const Target& target, std::optional<SourceIR> source_ir,
                           std::string_view name) {
  if (b.is_int() && n_static >= 0)
    return sm::i64_const(ctx, {clamp_bound(b.int_value(), n_static)}, target, source_ir, name);
  Tensor* zero = sm::i64_const(ctx, {0}, target, source_ir, sub_name(name, "zero"));
  if (b.is_int()) {
    // The sign is known: one side of the clamp suffices.
    int64_t v = b.int_value();
    Tensor* c = sm::i64_const(ctx, {v}, target, source_ir, sub_name(name, "value"));
    if (v >= 0) return sm::binary(ctx, c, n, E::kMIN, target, source_ir, name);
    Tensor* w = sm::binary(ctx, c, n, E::kSUM, target, source_ir, sub_name(name, "wrap"));
    return sm::binary(ctx, w, zero, E::kMAX, target, source_ir, name);
  }
  Tensor* v = sm::i64_vec1(ctx, b.tensor(), target, source_ir, sub_name(name, "value"));
  Tensor* neg = sm::binary(ctx, v, zero, E::kLESS, target, source_ir, sub_name(name, "is_neg"));
  Tensor* w = sm::binary(ctx, v, n, E::kSUM, target, source_ir, sub_name(name, "wrap"));
  Tensor* sel = named_output(ctx, ctx.net().add_select(neg, w, v), target, source_ir,
                             sub_name(name, "wrapped"));
  Tensor* lo = sm::binary(ctx, sel, zero, E::kMAX, target, source_ir, sub_name(name, "lo"));
  return sm::binary(ctx, lo, n, E::kMIN, target, source_ir, name);
}

}  // namespace

Tensor* slice(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Tensor* input, int64_t dim, std::optional<Operand> start,
              std::optional<Operand> stop, int64_t step) {
  Operand in(input), d_op(dim), st_op(step);
  // Absent bounds print as torch's defaults (start 0, stop INT64_MAX) in the error prefix.
  Operand s_default(int64_t{0}), e_default(std::numeric_limits<int64_t>::max());
  const Operand* s_ptr = start ? &*start : &s_default;
  const Operand* e_ptr = stop ? &*stop : &e_default;
  return guarded(ctx, "slice::slice", target, name, {&in, &d_op, s_ptr, e_ptr, &st_op}, [&] {
    LK_CHECK(input != nullptr, "input is a null tensor");
    int rank = input->dims().rank();
    LK_CHECK(rank > 0, "slice() cannot be applied to a 0-dim tensor ", describe(*input));
    int d = get_positive_dim(dim, rank);
    LK_CHECK(step > 0, "slice step must be positive; got ", step);
    check_bound(start, "start");
    check_bound(stop, "stop");
    int64_t n = input->dims()[d];
    std::optional<int64_t> s = start ? static_bound(*start) : std::optional<int64_t>(0);
    std::optional<int64_t> e = stop ? static_bound(*stop) : std::optional<int64_t>(n);
    if (n < 0 && !stop) e.reset();  // the end of a dynamic dim is known only at run time

    if (n >= 0 && s && e) {
      int64_t a = clamp_bound(*s, n), b = std::max(clamp_bound(*e, n), a);
      int64_t len = (b - a + step - 1) / step;
      if (input->dims().is_static()) {
        Dims st = Dims::of_rank(rank, 0), sz = input->dims(), sd = Dims::of_rank(rank, 1);
        st[d] = a;
        sz[d] = len;
        sd[d] = step;
        return named_output(ctx, ctx.net().add_slice(input, st, sz, sd), target, source_ir, name);
      }
      SliceInputs axes;
      axes.axes = sm::i64_const(ctx, {d}, target, source_ir, sub_name(name, "axes"));
      return named_output(
          ctx, ctx.net().add_slice(input, {a}, {len}, {step}, SampleMode::kSTRICT_BOUNDS, axes),
          target, source_ir, name);
    }

    // Some value is known only at run time: clamp start and stop to 0..n as int64 [1] tensors,
    // size = ceil((max(stop, start) - start) / step).
    Tensor* nt = sm::dim_size(ctx, input, d, target, source_ir, sub_name(name, "dim_size"));
    Tensor* a =
        start ? clamp_bound_tensor(ctx, *start, nt, n, target, source_ir, sub_name(name, "start"))
              : sm::i64_const(ctx, {0}, target, source_ir, sub_name(name, "start"));
    Tensor* b =
        stop ? clamp_bound_tensor(ctx, *stop, nt, n, target, source_ir, sub_name(name, "stop"))
             : nt;
    b = sm::binary(ctx, b, a, E::kMAX, target, source_ir, sub_name(name, "stop_at_least_start"));
    Tensor* len = sm::binary(ctx, b, a, E::kSUB, target, source_ir, sub_name(name, "span"));
    if (step > 1) {
      Tensor* round =
          sm::i64_const(ctx, {step - 1}, target, source_ir, sub_name(name, "step_minus_one"));
      Tensor* st = sm::i64_const(ctx, {step}, target, source_ir, sub_name(name, "step"));
      Tensor* up =
          sm::binary(ctx, len, round, E::kSUM, target, source_ir, sub_name(name, "span_up"));
      len = sm::binary(ctx, up, st, E::kFLOOR_DIV, target, source_ir, sub_name(name, "size"));
    }
    SliceInputs in_t;
    in_t.start = a;
    in_t.size = len;
    in_t.axes = sm::i64_const(ctx, {d}, target, source_ir, sub_name(name, "axes"));
    return named_output(
        ctx, ctx.net().add_slice(input, {}, {}, {step}, SampleMode::kSTRICT_BOUNDS, in_t), target,
        source_ir, name);
  });
}

Tensor* select(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Tensor* input, int64_t dim, int64_t index) {
  Operand in(input), d_op(dim), i_op(index);
  return guarded(ctx, "slice::select", target, name, {&in, &d_op, &i_op}, [&] {
    LK_CHECK(input != nullptr, "input is a null tensor");
    int rank = input->dims().rank();
    LK_CHECK(rank > 0, "select() cannot be applied to a 0-dim tensor ", describe(*input));
    int d = get_positive_dim(dim, rank);
    int64_t n = input->dims()[d];
    if (n >= 0) {
      LK_CHECK(index >= -n && index < n, "select(): index ", index, " out of range for tensor of ",
               "size ", input->dims().to_string(), " at dimension ", dim, " (expected ", -n, "..",
               n - 1, ")");
      if (index < 0) index += n;
    }
    // A 0-D index removes the axis; Gather wraps a negative index on a dynamic dim at run time
    // and fails there when it is out of range.
    Tensor* c =
        named_output(ctx,
                     ctx.net().add_constant(
                         {}, Weights::from_vector(DataType::kINT64, std::vector<int64_t>{index})),
                     target, source_ir, sub_name(name, "index"));
    return named_output(ctx, ctx.net().add_gather(input, c, d), target, source_ir, name);
  });
}

}  // namespace layerkit::impl::slice
