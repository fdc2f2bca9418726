// arange: a Constant computed as ATen computes it when every argument is known at build time;
// otherwise a Fill (kLINSPACE) whose length is computed from the arguments as a shape tensor
// (with start and step in the Fill's attributes when they are known, Note [Run-time arange with
// static start and step]).
#include "layerkit/impl/arange.h"

#include <cmath>
#include <limits>

#include "core/element.h"
#include "impl/expand_util.h"
#include "impl/shape_math.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::arange {

namespace {

namespace sm = shape_math;
using E = ElementWiseOperation;

bool supported(DataType t) {
  return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16 ||
         t == DataType::kINT32 || t == DataType::kINT64;
}

void check_argument(const Operand& op, std::string_view what) {
  if (op.is_scalar()) return;
  LK_CHECK(op.is_tensor(), what, " must be a scalar or a one-element tensor; got ", op.describe());
  const Tensor* t = op.tensor();
  LK_CHECK(t != nullptr, what, " is a null tensor");
  LK_CHECK(t->dims().rank() == 0 || (t->dims().rank() == 1 && t->dims()[0] == 1), what,
           " tensor must hold one element (0-D or [1]); got ", describe(*t));
  LK_CHECK(
      is_integer(t->type()) || t->type() == DataType::kBOOL || supported(compute_type(t->type())),
      what, " tensor has unsupported type ", data_type_name(t->type()));
}

// torch: arguments are Python numbers; any float makes the default float type.
DataType infer_type(std::initializer_list<const Operand*> ops) {
  for (const Operand* op : ops)
    if (is_floating(operand_type(*op))) return DataType::kFLOAT;
  return DataType::kINT64;
}

// The value of a scalar or a tensor whose value inference knows (integer tensors only).
std::optional<double> static_value(const Operand& op, std::optional<int64_t>* exact) {
  if (op.is_scalar()) {
    if (op.is_int()) *exact = op.int_value();
    if (op.is_bool()) *exact = op.bool_value() ? 1 : 0;
    return op.as_double();
  }
  std::optional<int64_t> k = sm::known_scalar(op.tensor());
  if (!k) return std::nullopt;
  *exact = *k;
  return static_cast<double>(*k);
}

// An argument as a 0-D tensor of `type` (scalars become Constants).
Tensor* as_tensor(ConversionContext& ctx, const Operand& op, DataType type, const Target& target,
                  std::optional<SourceIR> source_ir, std::string_view name) {
  Tensor* t = to_tensor(ctx, op, type, 0, target, source_ir, name);
  return sm::reshape(ctx, t, {}, target, source_ir, sub_name(name, "reshape"));
}

Tensor* arange_static_start_step(ConversionContext& ctx, const Target& target,
                                 std::optional<SourceIR> source_ir, std::string_view name,
                                 DataType type, double start, double step,
                                 std::optional<int64_t> istart, std::optional<int64_t> istep,
                                 const Operand& end);

// Above expand_util::kMaxConstantRange elements a static arange becomes a run-time Fill (Note
// [Run-time arange with static start and step]) instead of a host constant.
using impl::expand_util::kMaxConstantRange;

Tensor* arange_static(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, DataType type,
                      double start, double end, double step, std::optional<int64_t> istart,
                      std::optional<int64_t> iend, std::optional<int64_t> istep) {
  int64_t len = 0;
  std::vector<double> fvals;
  std::vector<int64_t> ivals;
  if (!is_floating(type)) {
    // ATen's integer path: the arguments converted to int64 (floats truncated), size from the
    // int64 difference divided in double.
    auto to_i = [](double v, std::optional<int64_t> e, std::string_view what) {
      if (e) return *e;
      LK_CHECK(std::isfinite(v) && std::fabs(v) < 9.2e18, "unsupported range: ", what, " ", v);
      return static_cast<int64_t>(v);
    };
    int64_t s = to_i(start, istart, "start"), e = to_i(end, iend, "end"),
            st = to_i(step, istep, "step");
    LK_CHECK(st != 0, "step must be nonzero");
    LK_CHECK((st > 0 && e >= s) || (st < 0 && e <= s),
             "upper bound and larger bound inconsistent with step sign (start ", s, ", end ", e,
             ", step ", st, ")");
    // Only int64 takes its size from the converted values; other integer types (int32) from
    // the original values in double, as ATen does.
    double size_d = type == DataType::kINT64
                        ? std::ceil(static_cast<double>(e - s) / static_cast<double>(st))
                        : std::ceil((end - start) / step);
    len = static_cast<int64_t>(size_d);
    if (len > kMaxConstantRange)
      return arange_static_start_step(ctx, target, source_ir, name, type, start, step, s, st,
                                      Operand(e));
    for (int64_t i = 0; i < len; ++i) ivals.push_back(s + st * i);
  } else {
    LK_CHECK(step != 0, "step must be nonzero");
    LK_CHECK(std::isfinite(start) && std::isfinite(end), "unsupported range: ", start, " -> ", end);
    LK_CHECK((step > 0 && end >= start) || (step < 0 && end <= start),
             "upper bound and larger bound inconsistent with step sign (start ", start, ", end ",
             end, ", step ", step, ")");
    double size_d = std::ceil((end - start) / step);
    LK_CHECK(size_d >= 0 && size_d <= static_cast<double>(1LL << 40),
             "invalid size, possible overflow? (", size_d, " elements)");
    len = static_cast<int64_t>(size_d);
    if (len > kMaxConstantRange)
      return arange_static_start_step(ctx, target, source_ir, name, type, start, step, istart,
                                      istep, Operand(end));
    for (int64_t i = 0; i < len; ++i) fvals.push_back(start + step * static_cast<double>(i));
  }
  Weights w = Weights::zeros(type, len);
  void* p = const_cast<void*>(w.data());
  for (int64_t i = 0; i < len; ++i) {
    if (is_floating(type))
      store_f(type, p, i, static_cast<float>(fvals[static_cast<size_t>(i)]));
    else
      store_i(type, p, i, ivals[static_cast<size_t>(i)]);
  }
  return named_output(ctx, ctx.net().add_constant({len}, w), target, source_ir, name);
}

// Note [Run-time arange with static start and step]
// The usual run-time arange has only `end` unknown (arange(n), arange(1, n, 2)). Then start and
// step go into the Fill's attributes and the length needs only end: for integers
// ceil((e - s) / t) = floor((e + c) / t) with c = t - sign(t) - s, exact in int64 (one add when
// c != 0, one floor division when t != 1); for floats ceil((e - s) / t) in fp32, as the general
// path computes it. The end is reshaped to [1] once, so the length is already the Fill's shape
// input: arange(n) of an int64 [1] n is the Fill alone.
Tensor* arange_static_start_step(ConversionContext& ctx, const Target& target,
                                 std::optional<SourceIR> source_ir, std::string_view name,
                                 DataType type, double start, double step,
                                 std::optional<int64_t> istart, std::optional<int64_t> istep,
                                 const Operand& end) {
  DataType ct = is_floating(type) ? DataType::kFLOAT : DataType::kINT64;
  auto sub = [&](std::string_view x) { return sub_name(name, x); };
  Tensor* e1 = sm::reshape(ctx, to_tensor(ctx, end, ct, 1, target, source_ir, sub("end")), {1},
                           target, source_ir, sub("end_vector"));
  auto vec1 = [&](double v, std::string_view n) {
    return scalar_constant(ctx, v, ct, Dims{1}, target, source_ir, sub(n));
  };
  FillAttrs a;
  a.op = FillOperation::kLINSPACE;
  a.output_type = ct;
  Tensor* len = nullptr;
  if (ct == DataType::kINT64) {
    int64_t s = istart ? *istart : static_cast<int64_t>(start);
    int64_t t = istep ? *istep : static_cast<int64_t>(step);
    LK_CHECK(t != 0, "step must be nonzero");
    int64_t c = t - (t > 0 ? 1 : -1) - s;
    Tensor* x = c == 0 ? e1
                       : sm::binary(ctx, e1, vec1(static_cast<double>(c), "offset"), E::kSUM,
                                    target, source_ir, sub("shifted_end"));
    len = t == 1 ? x
                 : sm::binary(ctx, x, vec1(static_cast<double>(t), "step"), E::kFLOOR_DIV, target,
                              source_ir, sub("length"));
    a.alpha = static_cast<double>(s);
    a.beta = {static_cast<double>(t)};
  } else {
    LK_CHECK(step != 0, "step must be nonzero");
    LK_CHECK(std::isfinite(start) && std::isfinite(step), "unsupported range: start ", start,
             ", step ", step);
    Tensor* d = start == 0 ? e1
                           : sm::binary(ctx, e1, vec1(start, "start"), E::kSUB, target, source_ir,
                                        sub("span"));
    Tensor* q = step == 1 ? d
                          : sm::binary(ctx, d, vec1(step, "step"), E::kDIV, target, source_ir,
                                       sub("quotient"));
    Tensor* c = named_output(ctx, ctx.net().add_unary(q, UnaryOperation::kCEIL), target, source_ir,
                             sub("ceil"));
    len = cast_to(ctx, c, DataType::kINT64, target, source_ir, sub("length"));
    a.alpha = static_cast<double>(static_cast<float>(start));
    a.beta = {static_cast<double>(static_cast<float>(step))};
  }
  FillInputs in;
  in.shape = len;
  Tensor* filled = named_output(ctx, ctx.net().add_fill(a, in), target, source_ir,
                                ct == type ? std::string(name) : sub("fill"));
  return cast_to(ctx, filled, type, target, source_ir, name);
}

Tensor* arange_dynamic(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, DataType type,
                       const Operand& start, const Operand& end, const Operand& step) {
  // Integer results compute in int64 (floats truncated first, as ATen converts the arguments);
  // floating ones in float32 (Note [Precision policy]) and cast once.
  DataType ct = is_floating(type) ? DataType::kFLOAT : DataType::kINT64;
  Tensor* s = as_tensor(ctx, start, ct, target, source_ir, sub_name(name, "start"));
  Tensor* e = as_tensor(ctx, end, ct, target, source_ir, sub_name(name, "end"));
  Tensor* st = as_tensor(ctx, step, ct, target, source_ir, sub_name(name, "step"));
  Tensor* len = nullptr;
  if (ct == DataType::kINT64) {
    // ceil((e - s) / st) = -floor((s - e) / st), exact in integers.
    Tensor* d = sm::binary(ctx, s, e, E::kSUB, target, source_ir, sub_name(name, "neg_span"));
    Tensor* q = sm::binary(ctx, d, st, E::kFLOOR_DIV, target, source_ir, sub_name(name, "floor"));
    len = named_output(ctx, ctx.net().add_unary(q, UnaryOperation::kNEG), target, source_ir,
                       sub_name(name, "length"));
  } else {
    Tensor* d = sm::binary(ctx, e, s, E::kSUB, target, source_ir, sub_name(name, "span"));
    Tensor* q = sm::binary(ctx, d, st, E::kDIV, target, source_ir, sub_name(name, "quotient"));
    Tensor* c = named_output(ctx, ctx.net().add_unary(q, UnaryOperation::kCEIL), target, source_ir,
                             sub_name(name, "ceil"));
    len = cast_to(ctx, c, DataType::kINT64, target, source_ir, sub_name(name, "length"));
  }
  Tensor* shape = sm::reshape(ctx, len, {1}, target, source_ir, sub_name(name, "shape"));
  Tensor* beta = sm::reshape(ctx, st, {1}, target, source_ir, sub_name(name, "delta"));
  FillAttrs a;
  a.op = FillOperation::kLINSPACE;
  a.output_type = ct;
  FillInputs in;
  in.shape = shape;
  in.alpha = s;
  in.beta = beta;
  Tensor* filled = named_output(ctx, ctx.net().add_fill(a, in), target, source_ir,
                                ct == type ? std::string(name) : sub_name(name, "fill"));
  return cast_to(ctx, filled, type, target, source_ir, name);
}

}  // namespace

Tensor* arange(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Operand start, Operand end, Operand step,
               std::optional<DataType> dtype) {
  return guarded(ctx, "arange::arange", target, name, {&start, &end, &step}, [&] {
    check_argument(start, "start");
    check_argument(end, "end");
    check_argument(step, "step");
    DataType type = dtype.value_or(infer_type({&start, &end, &step}));
    LK_CHECK(supported(type), "arange does not support dtype ", data_type_name(type),
             " (float32, float16, bfloat16, int32, int64)");
    std::optional<int64_t> is, ie, ist;
    std::optional<double> s = static_value(start, &is), e = static_value(end, &ie),
                          st = static_value(step, &ist);
    if (s && e && st)
      return arange_static(ctx, target, source_ir, name, type, *s, *e, *st, is, ie, ist);
    // Fill attributes are doubles: integer start and step must be exact there.
    auto exact = [](double v) { return std::fabs(v) < 9.0e15; };
    if (s && st && exact(*s) && exact(*st))
      return arange_static_start_step(ctx, target, source_ir, name, type, *s, *st, is, ist, end);
    return arange_dynamic(ctx, target, source_ir, name, type, start, end, step);
  });
}

Tensor* arange(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Operand end) {
  return arange(ctx, target, source_ir, name, 0, std::move(end), 1, std::nullopt);
}

}  // namespace layerkit::impl::arange
