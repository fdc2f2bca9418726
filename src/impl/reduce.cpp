// Reduction building blocks: sum, mean, amax/amin, prod, any/all, norm, var/std, composed from
// Reduce, Cast and element-wise layers with PyTorch's dtype rules.
#include "layerkit/impl/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::reduce {

namespace {

namespace ew = layerkit::impl::elementwise;
using R = ReduceOperation;

bool reduce_layer_type(DataType t) {
  return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16 ||
         t == DataType::kINT32 || t == DataType::kINT64;
}

void check_input(Tensor* x) {
  LK_CHECK(x != nullptr, "input is a null tensor");
  DataType t = x->type();
  LK_CHECK(
      reduce_layer_type(t) || t == DataType::kBOOL || t == DataType::kUINT8 || t == DataType::kINT8,
      "reductions take float32, float16, bfloat16, int8, uint8, int32, int64 or bool "
      "inputs, not ",
      data_type_name(t));
}

// The reduced dims, sorted and positive; empty for rank 0.
std::vector<int> reduced_dims(const DimList& dims, int rank) {
  std::vector<int> out;
  if (!dims || dims->empty()) {
    for (int i = 0; i < rank; ++i) out.push_back(i);
    return out;
  }
  std::vector<bool> seen(static_cast<size_t>(std::max(rank, 1)), false);
  for (int64_t d : *dims) {
    int p = get_positive_dim(d, rank);
    LK_CHECK(!seen[static_cast<size_t>(p)], "dim ", d,
             " appears more than once in the list of dims");
    seen[static_cast<size_t>(p)] = true;
    if (rank > 0) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// One Reduce layer over `axes`. The layer cannot reduce a rank-0 tensor, and reducing a scalar
// is the scalar itself, so rank 0 goes through [1] and back.
Tensor* reduce_layer(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, Tensor* x, R op,
                     const std::vector<int>& axes, bool keepdim) {
  AxesMask mask = 0;
  for (int a : axes) mask |= AxesMask{1} << a;
  if (x->dims().rank() == 0) {
    ShuffleAttrs s;
    s.reshape_dims = Dims{1};
    x = named_output(ctx, ctx.net().add_shuffle(x, s), target, source_ir, sub_name(name, "as_1d"));
    mask = 1;
    keepdim = false;
  }
  return named_output(ctx, ctx.net().add_reduce(x, op, mask, keepdim), target, source_ir, name);
}

// A reduction whose result has type `out`, computed in a type the Reduce layer accepts.
Tensor* typed_reduce(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, Tensor* x, R op,
                     const DimList& dims, bool keepdim, DataType out, DataType wide) {
  std::vector<int> axes = reduced_dims(dims, x->dims().rank());
  DataType lt = reduce_layer_type(out) ? out : wide;
  Tensor* xc = cast_to(ctx, x, lt, target, source_ir, sub_name(name, "cast"));
  Tensor* r = reduce_layer(ctx, target, source_ir, lt == out ? name : sub_name(name, "wide"), xc,
                           op, axes, keepdim);
  return cast_to(ctx, r, out, target, source_ir, name);
}

DataType checked_dtype(std::optional<DataType> dtype, DataType fallback) {
  if (!dtype) return fallback;
  DataType t = *dtype;
  LK_CHECK(
      reduce_layer_type(t) || t == DataType::kBOOL || t == DataType::kUINT8 || t == DataType::kINT8,
      "dtype ", data_type_name(t), " is not a type reductions produce");
  return t;
}

DataType integral_to_int64(DataType t) {
  return is_floating(t) ? t : DataType::kINT64;
}

// The number of elements in the reduced dims as an fp32 rank-0 tensor: a constant when the dims
// are static, otherwise Shape -> Gather -> Reduce kPROD -> Cast so it is taken at run time.
Tensor* reduced_count(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Tensor* x,
                      const std::vector<int>& axes) {
  const Dims& d = x->dims();
  bool known = true;
  double n = 1;
  for (int a : axes) {
    if (d[a] < 0) known = false;
    n *= static_cast<double>(d[a]);
  }
  if (known || axes.empty())
    return scalar_constant(ctx, n, DataType::kFLOAT, Dims{}, target, source_ir, name);
  Tensor* shape =
      named_output(ctx, ctx.net().add_shape(x), target, source_ir, sub_name(name, "shape"));
  std::vector<int64_t> idx(axes.begin(), axes.end());
  Tensor* c = named_output(ctx,
                           ctx.net().add_constant({static_cast<int64_t>(idx.size())},
                                                  Weights::from_vector(DataType::kINT64, idx)),
                           target, source_ir, sub_name(name, "dims"));
  Tensor* g = named_output(ctx, ctx.net().add_gather(shape, c, 0), target, source_ir,
                           sub_name(name, "sizes"));
  Tensor* p = named_output(ctx, ctx.net().add_reduce(g, R::kPROD, 1, false), target, source_ir,
                           sub_name(name, "prod"));
  return cast_to(ctx, p, DataType::kFLOAT, target, source_ir, name);
}

void check_floating(Tensor* x, std::string_view op) {
  DataType t = x->type();
  LK_CHECK(t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16, op,
           " takes floating inputs (float32, float16, bfloat16), not ", data_type_name(t),
           " (as torch)");
}

Tensor* var_impl(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* x, const DimList& dims, double correction,
                 bool keepdim, bool take_sqrt) {
  check_input(x);
  check_floating(x, take_sqrt ? "std" : "var");
  std::vector<int> axes = reduced_dims(dims, x->dims().rank());
  DataType t = x->type(), ct = compute_type(t);
  // Note [Precision policy]: every step in fp32 for 16-bit inputs, one rounding at the end.
  Tensor* xf = cast_to(ctx, x, ct, target, source_ir, sub_name(name, "upcast"));
  Tensor* m = reduce_layer(ctx, target, source_ir, sub_name(name, "mean"), xf, R::kAVG, axes, true);
  Tensor* diff = ew::sub(ctx, target, source_ir, sub_name(name, "diff"), xf, m);
  Tensor* sq = ew::mul(ctx, target, source_ir, sub_name(name, "square"), diff, diff);
  Tensor* ss =
      reduce_layer(ctx, target, source_ir, sub_name(name, "sum"), sq, R::kSUM, axes, keepdim);
  Tensor* n = reduced_count(ctx, target, source_ir, sub_name(name, "count"), x, axes);
  Tensor* dof = ew::sub(ctx, target, source_ir, sub_name(name, "dof"), n, correction);
  dof = ew::max(ctx, target, source_ir, sub_name(name, "dof_clamp"), dof, 0.0);
  bool last_div = !take_sqrt && ct == t;
  Tensor* v = ew::div(ctx, target, source_ir, last_div ? name : sub_name(name, "div"), ss, dof);
  if (take_sqrt) v = ew::sqrt(ctx, target, source_ir, ct == t ? name : sub_name(name, "sqrt"), v);
  return cast_to(ctx, v, t, target, source_ir, name);
}

Tensor* extreme(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* x, const DimList& dims, bool keepdim, R op) {
  check_input(x);
  return typed_reduce(ctx, target, source_ir, name, x, op, dims, keepdim, x->type(),
                      DataType::kINT32);
}

Tensor* truth(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Tensor* x, const DimList& dims, bool keepdim, bool is_all) {
  check_input(x);
  std::vector<int> axes = reduced_dims(dims, x->dims().rank());
  Tensor* b = x->type() == DataType::kBOOL
                  ? x
                  : ew::ne(ctx, target, source_ir, sub_name(name, "nonzero"), x, 0);
  Tensor* i = cast_to(ctx, b, DataType::kINT32, target, source_ir, sub_name(name, "as_int"));
  // all: the product of 0/1 values (1 over no elements). any: the count of true values, which
  // is 0 over no elements (kMAX would fail there); it cannot wrap within int32 index ranges.
  Tensor* r = reduce_layer(ctx, target, source_ir, sub_name(name, "reduce"), i,
                           is_all ? R::kPROD : R::kSUM, axes, keepdim);
  return cast_to(ctx, r, DataType::kBOOL, target, source_ir, name);
}

}  // namespace

Tensor* sum(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Tensor* input, DimList dims, bool keepdim,
            std::optional<DataType> dtype) {
  Operand in(input);
  return guarded(ctx, "reduce::sum", target, name, {&in}, [&] {
    check_input(input);
    DataType out = checked_dtype(dtype, integral_to_int64(input->type()));
    return typed_reduce(ctx, target, source_ir, name, input, R::kSUM, dims, keepdim, out,
                        DataType::kINT64);
  });
}

Tensor* mean(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, DimList dims, bool keepdim,
             std::optional<DataType> dtype) {
  Operand in(input);
  return guarded(ctx, "reduce::mean", target, name, {&in}, [&] {
    check_input(input);
    DataType out = checked_dtype(dtype, input->type());
    LK_CHECK(out == DataType::kFLOAT || out == DataType::kHALF || out == DataType::kBF16,
             "mean could not infer the output dtype: the input (or dtype) must be floating, not ",
             data_type_name(out), " (as torch); pass a floating dtype");
    // kAVG divides by the element count at run time, so dynamic dims need no shape arithmetic.
    return typed_reduce(ctx, target, source_ir, name, input, R::kAVG, dims, keepdim, out, out);
  });
}

Tensor* max(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Tensor* input, DimList dims, bool keepdim) {
  Operand in(input);
  return guarded(ctx, "reduce::max", target, name, {&in}, [&] {
    return extreme(ctx, target, source_ir, name, input, dims, keepdim, R::kMAX);
  });
}

Tensor* min(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Tensor* input, DimList dims, bool keepdim) {
  Operand in(input);
  return guarded(ctx, "reduce::min", target, name, {&in}, [&] {
    return extreme(ctx, target, source_ir, name, input, dims, keepdim, R::kMIN);
  });
}

Tensor* prod(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, DimList dims, bool keepdim,
             std::optional<DataType> dtype) {
  Operand in(input);
  return guarded(ctx, "reduce::prod", target, name, {&in}, [&] {
    check_input(input);
    DataType out = checked_dtype(dtype, integral_to_int64(input->type()));
    return typed_reduce(ctx, target, source_ir, name, input, R::kPROD, dims, keepdim, out,
                        DataType::kINT64);
  });
}

Tensor* any(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Tensor* input, DimList dims, bool keepdim) {
  Operand in(input);
  return guarded(ctx, "reduce::any", target, name, {&in},
                 [&] { return truth(ctx, target, source_ir, name, input, dims, keepdim, false); });
}

Tensor* all(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Tensor* input, DimList dims, bool keepdim) {
  Operand in(input);
  return guarded(ctx, "reduce::all", target, name, {&in},
                 [&] { return truth(ctx, target, source_ir, name, input, dims, keepdim, true); });
}

Tensor* norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, NormOrder p, DimList dims, bool keepdim) {
  Operand in(input);
  return guarded(ctx, "reduce::norm", target, name, {&in}, [&]() -> Tensor* {
    check_input(input);
    check_floating(input, "norm");
    double order = 2.0;
    if (const std::string* s = std::get_if<std::string>(&p)) {
      LK_CHECK(*s == "fro", "norm order '", *s, "' is not supported (only \"fro\" and numbers)");
    } else {
      order = std::get<double>(p);
      LK_CHECK(!std::isnan(order), "norm order must not be NaN");
    }
    std::vector<int> axes = reduced_dims(dims, input->dims().rank());
    DataType t = input->type(), ct = compute_type(t);
    auto last = [&](std::string_view suffix) {
      return ct == t ? std::string(name) : sub_name(name, suffix);
    };
    Tensor* x = cast_to(ctx, input, ct, target, source_ir, sub_name(name, "upcast"));
    constexpr double kInf = std::numeric_limits<double>::infinity();
    Tensor* r = nullptr;
    if (order == 2.0) {
      Tensor* sq = ew::mul(ctx, target, source_ir, sub_name(name, "square"), x, x);
      Tensor* s =
          reduce_layer(ctx, target, source_ir, sub_name(name, "sum"), sq, R::kSUM, axes, keepdim);
      r = ew::sqrt(ctx, target, source_ir, last("sqrt"), s);
    } else if (order == 0.0) {
      Tensor* nz = ew::ne(ctx, target, source_ir, sub_name(name, "nonzero"), x, 0);
      nz = cast_to(ctx, nz, ct, target, source_ir, sub_name(name, "count_cast"));
      r = reduce_layer(ctx, target, source_ir, last("sum"), nz, R::kSUM, axes, keepdim);
    } else {
      Tensor* a = ew::abs(ctx, target, source_ir, sub_name(name, "abs"), x);
      if (order == 1.0) {
        r = reduce_layer(ctx, target, source_ir, last("sum"), a, R::kSUM, axes, keepdim);
      } else if (order == kInf || order == -kInf) {
        r = reduce_layer(ctx, target, source_ir, last("reduce"), a, order > 0 ? R::kMAX : R::kMIN,
                         axes, keepdim);
      } else {
        Tensor* pw = ew::pow(ctx, target, source_ir, sub_name(name, "pow"), a, order);
        Tensor* s =
            reduce_layer(ctx, target, source_ir, sub_name(name, "sum"), pw, R::kSUM, axes, keepdim);
        r = ew::pow(ctx, target, source_ir, last("root"), s, 1.0 / order);
      }
    }
    return cast_to(ctx, r, t, target, source_ir, name);
  });
}

Tensor* var(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Tensor* input, DimList dims, double correction, bool keepdim) {
  Operand in(input);
  return guarded(ctx, "reduce::var", target, name, {&in}, [&] {
    return var_impl(ctx, target, source_ir, name, input, dims, correction, keepdim, false);
  });
}

Tensor* std(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Tensor* input, DimList dims, double correction, bool keepdim) {
  Operand in(input);
  return guarded(ctx, "reduce::std", target, name, {&in}, [&] {
    return var_impl(ctx, target, source_ir, name, input, dims, correction, keepdim, true);
  });
}

}  // namespace layerkit::impl::reduce
