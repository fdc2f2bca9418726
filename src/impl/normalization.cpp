// Normalization building blocks: batch/layer/group/instance/RMS norm and (log-)softmax for
// inference, on Scale, Normalization, SoftMax, Reduce and ElementWise layers.
#include "layerkit/impl/normalization.h"

#include <array>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>

#include "core/element.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::normalization {

namespace {

using E = ElementWiseOperation;

Tensor* input_tensor(const Operand& op, std::string_view what) {
  LK_CHECK(op.is_tensor() && op.tensor() != nullptr, what, " must be a network tensor, got ",
           op.describe());
  return op.tensor();
}

Tensor* float_input(const Operand& op) {
  Tensor* x = input_tensor(op, "input");
  LK_CHECK(
      x->type() == DataType::kFLOAT || x->type() == DataType::kHALF || x->type() == DataType::kBF16,
      "input must be float32, float16 or bfloat16, got ", data_type_name(x->type()));
  return x;
}

// The values of a constant operand (a host constant, or a tensor a Constant layer produces), or
// nullopt when they are only known at run time.
std::optional<std::vector<double>> constant_values(ConversionContext& ctx, const Operand& op,
                                                   std::string_view name) {
  Weights w;
  if (op.is_host_constant()) {
    const HostConstant& c = op.host_constant();
    if (!c.doubles.empty()) {
      LK_CHECK(ctx.settings().doubles == DoublePolicy::kTRUNCATE_WITH_WARNING, "constant ",
               c.dims.to_string(),
               " holds float64 values, which the context rejects (ConversionSettings::doubles)");
      ctx.warn(detail::cat("'", name, "': float64 constant ", c.dims.to_string(),
                           " truncated to float32"));
      std::vector<double> v;
      for (double d : c.doubles) v.push_back(static_cast<float>(d));
      return v;
    }
    w = c.weights;
  } else if (op.is_tensor() && op.tensor() && op.tensor()->producer() &&
             op.tensor()->producer()->kind() == LayerKind::kCONSTANT) {
    w = op.tensor()->producer()->attrs<ConstantAttrs>().weights;
  } else {
    return std::nullopt;
  }
  if (!is_floating(w.type()) && !is_integer(w.type()) && w.type() != DataType::kBOOL)
    return std::nullopt;
  if (is_sub_byte(w.type()) || w.type() == DataType::kFP8 || w.type() == DataType::kE8M0)
    return std::nullopt;
  std::vector<double> v(static_cast<size_t>(w.count()));
  for (int64_t i = 0; i < w.count(); ++i)
    v[static_cast<size_t>(i)] = is_floating(w.type())
                                    ? load_f(w.type(), w.data(), i)
                                    : static_cast<double>(load_i(w.type(), w.data(), i));
  return v;
}

Tensor* elementwise(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Tensor* a, Tensor* b, E op) {
  std::array<Tensor*, 2> pair{a, b};
  std::vector<Tensor*> bc = broadcast(ctx, pair, target, source_ir, name);
  return named_output(ctx, ctx.net().add_elementwise(bc[0], bc[1], op), target, source_ir, name);
}

Tensor* unary(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Tensor* x, UnaryOperation op) {
  return named_output(ctx, ctx.net().add_unary(x, op), target, source_ir, name);
}

Tensor* reshape(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* x, const Dims& dims) {
  if (x->dims() == dims) return x;
  ShuffleAttrs s;
  s.reshape_dims = dims;
  s.zero_is_placeholder = false;
  return named_output(ctx, ctx.net().add_shuffle(x, s), target, source_ir, name);
}

// A per-channel parameter ([C], checked against the input's C where static) as a tensor of
// `type` shaped [1, C, 1, ...] for a rank-`rank` input.
Tensor* channel_param(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, const Operand& p,
                      std::string_view what, int64_t channels, DataType type, int rank) {
  Dims d = p.dims();
  LK_CHECK(!p.is_scalar() && d.rank() == 1, what, " must be a 1-D tensor of C = ", channels,
           " elements, got ", p.describe());
  LK_CHECK(d[0] == -1 || channels == -1 || d[0] == channels, what, " has ", d[0],
           " elements but the input has C = ", channels, " channels");
  Tensor* t = to_tensor(ctx, p, type, 1, target, source_ir, name);
  Dims shape = Dims::of_rank(rank, 1);
  shape[1] = d[0] != -1 ? d[0] : channels;
  return reshape(ctx, target, source_ir, sub_name(name, "reshape"), t, shape);
}

int64_t channels_of(Tensor* x, std::string_view block) {
  LK_CHECK(x->dims().rank() >= 2, block, " needs an [N, C, ...] input of rank >= 2, got ",
           describe(*x));
  return x->dims()[1];
}

Tensor* batch_norm_impl(ConversionContext& ctx, const Target& target,
                        std::optional<SourceIR> source_ir, std::string_view name, Tensor* x,
                        const std::optional<Operand>& weight, const std::optional<Operand>& bias,
                        const Operand& mean, const Operand& var, double eps) {
  int64_t c = channels_of(x, "batch_norm");
  int rank = x->dims().rank();
  auto check_param = [&](const Operand& p, std::string_view what) {
    Dims d = p.dims();
    LK_CHECK(!p.is_scalar() && d.rank() == 1, what, " must be a 1-D tensor of C = ", c,
             " elements, got ", p.describe());
    LK_CHECK(d[0] == -1 || c == -1 || d[0] == c, what, " has ", d[0],
             " elements but the input has C = ", c, " channels");
  };
  check_param(mean, "running_mean");
  check_param(var, "running_var");
  if (weight) check_param(*weight, "weight");
  if (bias) check_param(*bias, "bias");

  // Constant statistics fold into one Scale layer: alpha = w / sqrt(var + eps),
  // beta = b - mean * alpha (ATen's inference transform), applied in fp32.
  if (c != -1) {
    auto m = constant_values(ctx, mean, name);
    auto v = constant_values(ctx, var, name);
    std::optional<std::vector<double>> w, b;
    if (weight) w = constant_values(ctx, *weight, name);
    if (bias) b = constant_values(ctx, *bias, name);
    if (m && v && (!weight || w) && (!bias || b)) {
      std::vector<float> scale(static_cast<size_t>(c)), shift(static_cast<size_t>(c));
      for (size_t i = 0; i < scale.size(); ++i) {
        float invstd = 1.0f / std::sqrt(static_cast<float>((*v)[i]) + static_cast<float>(eps));
        float alpha = (w ? static_cast<float>((*w)[i]) : 1.0f) * invstd;
        scale[i] = alpha;
        shift[i] = (b ? static_cast<float>((*b)[i]) : 0.0f) - static_cast<float>((*m)[i]) * alpha;
      }
      ScaleAttrs s;
      s.mode = ScaleMode::kCHANNEL;
      s.channel_axis = 1;
      s.scale = Weights::from_vector(DataType::kFLOAT, scale);
      s.shift = Weights::from_vector(DataType::kFLOAT, shift);
      Tensor* y = named_output(ctx, ctx.net().add_scale_nd(x, s), target, source_ir, name);
      ctx.register_weights(sub_name(name, "scale"), s.scale);
      ctx.register_weights(sub_name(name, "shift"), s.shift);
      return y;
    }
  }
  // Run-time statistics: the same transform from layers, in the compute type.
  DataType t = x->type(), ct = compute_type(t);
  auto param = [&](const Operand& p, std::string_view suffix) {
    return channel_param(ctx, target, source_ir, sub_name(name, suffix), p, suffix, c, ct, rank);
  };
  Tensor* xm = cast_to(ctx, x, ct, target, source_ir, sub_name(name, "input_cast"));
  Tensor* ve =
      elementwise(ctx, target, source_ir, sub_name(name, "var_eps"), param(var, "running_var"),
                  scalar_constant(ctx, eps, ct, Dims::of_rank(rank, 1), target, source_ir,
                                  sub_name(name, "eps")),
                  E::kSUM);
  Tensor* sd = unary(ctx, target, source_ir, sub_name(name, "std"), ve, UnaryOperation::kSQRT);
  Tensor* alpha =
      unary(ctx, target, source_ir, sub_name(name, "invstd"), sd, UnaryOperation::kRECIP);
  if (weight)
    alpha = elementwise(ctx, target, source_ir, sub_name(name, "alpha"), alpha,
                        param(*weight, "weight"), E::kPROD);
  Tensor* mean_alpha = elementwise(ctx, target, source_ir, sub_name(name, "mean_alpha"),
                                   param(mean, "running_mean"), alpha, E::kPROD);
  Tensor* beta =
      unary(ctx, target, source_ir, sub_name(name, "beta"), mean_alpha, UnaryOperation::kNEG);
  if (bias)
    beta = elementwise(ctx, target, source_ir, sub_name(name, "beta_bias"), param(*bias, "bias"),
                       beta, E::kSUM);
  Tensor* y = elementwise(ctx, target, source_ir, sub_name(name, "scale"), xm, alpha, E::kPROD);
  y = elementwise(ctx, target, source_ir, ct == t ? name : sub_name(name, "shift"), y, beta,
                  E::kSUM);
  return cast_to(ctx, y, t, target, source_ir, name);
}

// Scale or bias of a Normalization layer: the parameter shaped `param_dims` with leading 1s to
// the input's rank, in the input's type; absent: a constant `fill` of shape [1, ..., 1].
Tensor* norm_param(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, const std::optional<Operand>& p, Tensor* x, double fill) {
  int rank = x->dims().rank();
  if (!p)
    return scalar_constant(ctx, fill, x->type(), Dims::of_rank(rank, 1), target, source_ir, name);
  Dims d = p->dims();
  Tensor* t = to_tensor(ctx, *p, x->type(), d.rank(), target, source_ir, name);
  return prepend_ones(ctx, t, rank, target, source_ir, name);
}

AxesMask trailing_axes(int rank, int count) {
  AxesMask m = 0;
  for (int i = rank - count; i < rank; ++i) m |= AxesMask{1} << i;
  return m;
}

void check_normalized_shape(Tensor* x, const std::vector<int64_t>& shape,
                            const std::optional<Operand>& weight,
                            const std::optional<Operand>& bias) {
  Dims nd(std::span<const int64_t>(shape.data(), shape.size()));
  const Dims& d = x->dims();
  LK_CHECK(!shape.empty(), "normalized_shape must not be empty");
  LK_CHECK(static_cast<int>(shape.size()) <= d.rank(), "normalized_shape ", nd.to_string(),
           " has more dims than the input ", describe(*x));
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t got = d[d.rank() - static_cast<int>(shape.size()) + static_cast<int>(i)];
    LK_CHECK(shape[i] > 0 && (got == -1 || got == shape[i]), "normalized_shape ", nd.to_string(),
             " does not match the trailing dims of the input ", describe(*x));
  }
  auto check = [&](const std::optional<Operand>& p, std::string_view what) {
    if (!p) return;
    Dims pd = p->dims();
    bool ok = !p->is_scalar() && pd.rank() == nd.rank();
    for (int i = 0; ok && i < pd.rank(); ++i) ok = pd[i] == -1 || pd[i] == nd[i];
    LK_CHECK(ok, what, " must have shape normalized_shape ", nd.to_string(), ", got ",
             p->describe());
  };
  check(weight, "weight");
  check(bias, "bias");
}

Tensor* normalization_layer(ConversionContext& ctx, const Target& target,
                            std::optional<SourceIR> source_ir, std::string_view name, Tensor* x,
                            Tensor* scale, Tensor* bias, AxesMask axes, int64_t groups,
                            double eps) {
  LK_CHECK(std::isfinite(eps) && eps >= 0, "eps must be finite and >= 0, got ", eps);
  NormalizationAttrs a;
  a.epsilon = static_cast<float>(eps);
  a.axes = axes;
  a.num_groups = groups;
  return named_output(ctx, ctx.net().add_normalization(x, scale, bias, a), target, source_ir, name);
}

// Per-channel parameter for group and instance norm: [C] reshaped to [1, C, 1, ...].
Tensor* affine_param(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name,
                     const std::optional<Operand>& p, std::string_view what, Tensor* x,
                     double fill) {
  int rank = x->dims().rank();
  if (!p)
    return scalar_constant(ctx, fill, x->type(), Dims::of_rank(rank, 1), target, source_ir, name);
  return channel_param(ctx, target, source_ir, name, *p, what, x->dims()[1], x->type(), rank);
}

// The Normalization layer takes scale and bias in the data's type. fp32 parameters of a 16-bit
// input would lose precision rounded to it (ATen keeps them in fp32), so the layer then runs in
// fp32 and the result is cast back once (Note [Precision policy]). Parameters are per channel
// ([C] -> [1, C, 1, ...]) or shaped like the trailing dims (layer norm).
Tensor* normalize(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Tensor* x, const std::optional<Operand>& weight,
                  const std::optional<Operand>& bias, bool per_channel, AxesMask axes,
                  int64_t groups, double eps) {
  DataType t = x->type(), nt = t;
  for (const std::optional<Operand>* p : {&weight, &bias})
    if (*p && !(*p)->is_scalar() && operand_type(**p) == DataType::kFLOAT) nt = compute_type(t);
  Tensor* xn = cast_to(ctx, x, nt, target, source_ir, sub_name(name, "input_cast"));
  auto param = [&](const std::optional<Operand>& p, std::string_view what, double fill) {
    std::string n = sub_name(name, what);
    return per_channel ? affine_param(ctx, target, source_ir, n, p, what, xn, fill)
                       : norm_param(ctx, target, source_ir, n, p, xn, fill);
  };
  Tensor* s = param(weight, "weight", 1.0);
  Tensor* b = param(bias, "bias", 0.0);
  Tensor* y = normalization_layer(ctx, target, source_ir, nt == t ? name : sub_name(name, "norm"),
                                  xn, s, b, axes, groups, eps);
  return cast_to(ctx, y, t, target, source_ir, name);
}

Tensor* softmax_input(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name,
                      const Operand& input, std::optional<DataType> dtype) {
  Tensor* x = input_tensor(input, "input");
  if (dtype) {
    LK_CHECK(*dtype == DataType::kFLOAT || *dtype == DataType::kHALF || *dtype == DataType::kBF16,
             "dtype must be float32, float16 or bfloat16, got ", data_type_name(*dtype));
    return cast_to(ctx, x, *dtype, target, source_ir, sub_name(name, "dtype"));
  }
  return float_input(input);
}

}  // namespace

Tensor* batch_norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, std::optional<Operand> weight,
                   std::optional<Operand> bias, Operand running_mean, Operand running_var,
                   bool training, double /*momentum*/, double eps) {
  return guarded(
      ctx, "normalization::batch_norm", target, name, {&input, &running_mean, &running_var},
      [&]() -> Tensor* {
        LK_CHECK(!training,
                 "training=true is not supported: batch statistics and running-stat updates are "
                 "training behaviour; convert the model in eval mode");
        LK_CHECK(std::isfinite(eps) && eps >= 0, "eps must be finite and >= 0, got ", eps);
        Tensor* x = float_input(input);
        return batch_norm_impl(ctx, target, source_ir, name, x, weight, bias, running_mean,
                               running_var, eps);
      });
}

Tensor* layer_norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input,
                   const std::vector<int64_t>& normalized_shape, std::optional<Operand> weight,
                   std::optional<Operand> bias, double eps) {
  return guarded(ctx, "normalization::layer_norm", target, name, {&input}, [&]() -> Tensor* {
    Tensor* x = float_input(input);
    check_normalized_shape(x, normalized_shape, weight, bias);
    AxesMask axes = trailing_axes(x->dims().rank(), static_cast<int>(normalized_shape.size()));
    return normalize(ctx, target, source_ir, name, x, weight, bias, false, axes, 1, eps);
  });
}

Tensor* group_norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, int64_t num_groups,
                   std::optional<Operand> weight, std::optional<Operand> bias, double eps) {
  return guarded(ctx, "normalization::group_norm", target, name, {&input}, [&]() -> Tensor* {
    Tensor* x = float_input(input);
    int64_t c = channels_of(x, "group_norm");
    LK_CHECK(num_groups >= 1, "num_groups must be >= 1, got ", num_groups);
    LK_CHECK(c == -1 || c % num_groups == 0, "num_groups ", num_groups,
             " does not divide the number of channels C = ", c);
    int rank = x->dims().rank();
    // One group is a normalization over the channels and spatial dims; more groups use the
    // layer's grouping of axis 1, with the spatial dims as extra axes.
    AxesMask axes = trailing_axes(rank, num_groups == 1 ? rank - 1 : rank - 2);
    return normalize(ctx, target, source_ir, name, x, weight, bias, true, axes, num_groups, eps);
  });
}

Tensor* instance_norm(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Operand input,
                      std::optional<Operand> weight, std::optional<Operand> bias,
                      std::optional<Operand> running_mean, std::optional<Operand> running_var,
                      bool use_input_stats, double /*momentum*/, double eps) {
  return guarded(ctx, "normalization::instance_norm", target, name, {&input}, [&]() -> Tensor* {
    Tensor* x = float_input(input);
    if (!use_input_stats) {
      LK_CHECK(running_mean && running_var,
               "use_input_stats=false needs running_mean and running_var");
      LK_CHECK(std::isfinite(eps) && eps >= 0, "eps must be finite and >= 0, got ", eps);
      return batch_norm_impl(ctx, target, source_ir, name, x, weight, bias, *running_mean,
                             *running_var, eps);
    }
    LK_CHECK(x->dims().rank() >= 3,
             "instance_norm needs an [N, C, spatial...] input of rank >= 3, got ", describe(*x));
    int rank = x->dims().rank();
    return normalize(ctx, target, source_ir, name, x, weight, bias, true,
                     trailing_axes(rank, rank - 2), 1, eps);
  });
}

Tensor* rms_norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Operand input, const std::vector<int64_t>& normalized_shape,
                 std::optional<Operand> weight, std::optional<double> eps) {
  return guarded(ctx, "normalization::rms_norm", target, name, {&input}, [&]() -> Tensor* {
    Tensor* x = float_input(input);
    check_normalized_shape(x, normalized_shape, weight, std::nullopt);
    DataType t = x->type(), ct = compute_type(t);
    // torch's eps=None: the input type's machine epsilon.
    double e = eps.value_or(t == DataType::kHALF   ? 0.0009765625
                            : t == DataType::kBF16 ? 0.0078125
                                                   : std::numeric_limits<float>::epsilon());
    LK_CHECK(std::isfinite(e) && e >= 0, "eps must be finite and >= 0, got ", e);
    int rank = x->dims().rank();
    Tensor* xc = cast_to(ctx, x, ct, target, source_ir, sub_name(name, "input_cast"));
    Tensor* sq = elementwise(ctx, target, source_ir, sub_name(name, "square"), xc, xc, E::kPROD);
    Tensor* r = named_output(
        ctx,
        ctx.net().add_reduce(sq, ReduceOperation::kAVG,
                             trailing_axes(rank, static_cast<int>(normalized_shape.size())), true),
        target, source_ir, sub_name(name, "mean"));
    Tensor* me = elementwise(ctx, target, source_ir, sub_name(name, "mean_eps"), r,
                             scalar_constant(ctx, e, ct, Dims::of_rank(rank, 1), target, source_ir,
                                             sub_name(name, "eps")),
                             E::kSUM);
    Tensor* rms = unary(ctx, target, source_ir, sub_name(name, "rms"), me, UnaryOperation::kSQRT);
    bool last = !weight && ct == t;
    Tensor* y =
        elementwise(ctx, target, source_ir, last ? name : sub_name(name, "div"), xc, rms, E::kDIV);
    if (weight) {
      Tensor* w = norm_param(ctx, target, source_ir, sub_name(name, "weight"), weight, xc, 1.0);
      y = elementwise(ctx, target, source_ir, ct == t ? name : sub_name(name, "scale"), y, w,
                      E::kPROD);
    }
    return cast_to(ctx, y, t, target, source_ir, name);
  });
}

Tensor* softmax(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Operand input, int64_t dim, std::optional<DataType> dtype) {
  return guarded(ctx, "normalization::softmax", target, name, {&input}, [&]() -> Tensor* {
    Tensor* x = softmax_input(ctx, target, source_ir, name, input, dtype);
    int rank = x->dims().rank();
    int d = get_positive_dim(dim, rank);
    // A 0-d input is a one-element softmax: the layer needs rank >= 1.
    Tensor* x1 = rank == 0 ? reshape(ctx, target, source_ir, sub_name(name, "to_1d"), x, {1}) : x;
    Tensor* y = named_output(ctx, ctx.net().add_softmax(x1, AxesMask{1} << d), target, source_ir,
                             rank == 0 ? sub_name(name, "softmax") : name);
    if (rank != 0) return y;
    return reshape(ctx, target, source_ir, name, y, Dims{});
  });
}

Tensor* log_softmax(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Operand input, int64_t dim,
                    std::optional<DataType> dtype) {
  return guarded(ctx, "normalization::log_softmax", target, name, {&input}, [&]() -> Tensor* {
    Tensor* x = softmax_input(ctx, target, source_ir, name, input, dtype);
    int rank = x->dims().rank();
    int d = get_positive_dim(dim, rank);
    DataType t = x->type(), ct = compute_type(t);
    // (x - max) - log(sum(exp(x - max))): finite where softmax underflows to 0, unlike
    // log(softmax(x)).
    Tensor* xc = cast_to(ctx, x, ct, target, source_ir, sub_name(name, "input_cast"));
    if (rank == 0) xc = reshape(ctx, target, source_ir, sub_name(name, "to_1d"), xc, {1});
    AxesMask axis = AxesMask{1} << d;
    Tensor* mx = named_output(ctx, ctx.net().add_reduce(xc, ReduceOperation::kMAX, axis, true),
                              target, source_ir, sub_name(name, "max"));
    Tensor* shifted =
        elementwise(ctx, target, source_ir, sub_name(name, "shifted"), xc, mx, E::kSUB);
    Tensor* ex =
        unary(ctx, target, source_ir, sub_name(name, "exp"), shifted, UnaryOperation::kEXP);
    Tensor* sum = named_output(ctx, ctx.net().add_reduce(ex, ReduceOperation::kSUM, axis, true),
                               target, source_ir, sub_name(name, "sum"));
    Tensor* lse =
        unary(ctx, target, source_ir, sub_name(name, "log_sum"), sum, UnaryOperation::kLOG);
    bool last = ct == t && rank != 0;
    Tensor* y = elementwise(ctx, target, source_ir, last ? name : sub_name(name, "sub"), shifted,
                            lse, E::kSUB);
    if (rank == 0)
      y = reshape(ctx, target, source_ir, ct == t ? name : sub_name(name, "to_0d"), y, Dims{});
    return cast_to(ctx, y, t, target, source_ir, name);
  });
}

namespace {

// mean and rstd of `x` over `axes` (kept as size 1), computed in fp32 for 16-bit inputs: the
// biased variance as the mean of squared deviations (two passes, as ATen's CPU kernels), and
// 1 / sqrt(var + eps). Returned in x's type.
std::pair<Tensor*, Tensor*> statistics(ConversionContext& ctx, const Target& target,
                                       std::optional<SourceIR> source_ir, std::string_view name,
                                       Tensor* x, AxesMask axes, double eps) {
  LK_CHECK(std::isfinite(eps) && eps >= 0, "eps must be finite and >= 0, got ", eps);
  DataType t = x->type(), ct = compute_type(t);
  auto sub = [&](std::string_view s) { return sub_name(name, s); };
  Tensor* xs = cast_to(ctx, x, ct, target, source_ir, sub("stats_input"));
  auto reduce_avg = [&](Tensor* v, std::string_view n) {
    return named_output(ctx, ctx.net().add_reduce(v, ReduceOperation::kAVG, axes, true), target,
                        source_ir, n);
  };
  Tensor* mean = reduce_avg(xs, sub(ct == t ? "mean" : "mean_compute"));
  Tensor* diff = elementwise(ctx, target, source_ir, sub("deviation"), xs, mean, E::kSUB);
  Tensor* sq = elementwise(ctx, target, source_ir, sub("squared"), diff, diff, E::kPROD);
  Tensor* var = reduce_avg(sq, sub("var"));
  Tensor* e = scalar_constant(ctx, eps, ct, Dims::of_rank(var->dims().rank(), 1), target, source_ir,
                              sub("eps"));
  Tensor* ve = elementwise(ctx, target, source_ir, sub("var_eps"), var, e, E::kSUM);
  Tensor* sd = unary(ctx, target, source_ir, sub("std"), ve, UnaryOperation::kSQRT);
  Tensor* rstd = unary(ctx, target, source_ir, sub(ct == t ? "rstd" : "rstd_compute"), sd,
                       UnaryOperation::kRECIP);
  return {cast_to(ctx, mean, t, target, source_ir, sub("mean")),
          cast_to(ctx, rstd, t, target, source_ir, sub("rstd"))};
}

}  // namespace

NormOutputs native_layer_norm(ConversionContext& ctx, const Target& target,
                              std::optional<SourceIR> source_ir, std::string_view name,
                              Operand input, const std::vector<int64_t>& normalized_shape,
                              std::optional<Operand> weight, std::optional<Operand> bias,
                              double eps) {
  std::vector<Tensor*> r =
      guarded_multi(ctx, "normalization::native_layer_norm", target, name, {&input}, [&] {
        Tensor* x = float_input(input);
        check_normalized_shape(x, normalized_shape, weight, bias);
        AxesMask axes = trailing_axes(x->dims().rank(), static_cast<int>(normalized_shape.size()));
        Tensor* y = normalize(ctx, target, source_ir, name, x, weight, bias, false, axes, 1, eps);
        auto [mean, rstd] = statistics(ctx, target, source_ir, name, x, axes, eps);
        return std::vector<Tensor*>{y, mean, rstd};
      });
  return {r[0], r[1], r[2]};
}

NormOutputs native_group_norm(ConversionContext& ctx, const Target& target,
                              std::optional<SourceIR> source_ir, std::string_view name,
                              Operand input, std::optional<Operand> weight,
                              std::optional<Operand> bias, int64_t N, int64_t C, int64_t HxW,
                              int64_t group, double eps) {
  std::vector<Tensor*> r =
      guarded_multi(ctx, "normalization::native_group_norm", target, name, {&input}, [&] {
        Tensor* x = float_input(input);
        const Dims& d = x->dims();
        int64_t c = channels_of(x, "native_group_norm");
        LK_CHECK(d[0] == -1 || d[0] == N, "N = ", N, " but the input is ", describe(*x));
        LK_CHECK(c == -1 || c == C, "C = ", C, " but the input is ", describe(*x));
        int64_t spatial = 1;
        for (int i = 2; i < d.rank() && spatial >= 0; ++i) spatial = d[i] < 0 ? -1 : spatial * d[i];
        LK_CHECK(spatial == -1 || spatial == HxW, "HxW = ", HxW,
                 " but the spatial dims of the input hold ", spatial, " elements (", describe(*x),
                 ")");
        LK_CHECK(group >= 1 && C % group == 0, "group = ", group,
                 " must be >= 1 and divide C = ", C);
        int rank = d.rank();
        AxesMask axes = trailing_axes(rank, group == 1 ? rank - 1 : rank - 2);
        Tensor* y =
            normalize(ctx, target, source_ir, name, x, weight, bias, true, axes, group, eps);
        // Statistics per (sample, group): [N, group, C / group * HxW], over the last axis.
        ShuffleAttrs s;
        s.reshape_dims = Dims{0, group, -1};
        s.zero_is_placeholder = true;
        Tensor* g = named_output(ctx, ctx.net().add_shuffle(x, s), target, source_ir,
                                 sub_name(name, "groups"));
        auto [mean, rstd] = statistics(ctx, target, source_ir, name, g, AxesMask{1} << 2, eps);
        auto to_2d = [&](Tensor* v, std::string_view suffix) {
          ShuffleAttrs r2;
          r2.reshape_dims = Dims{0, group};
          r2.zero_is_placeholder = true;  // keeps N, dynamic or not
          return named_output(ctx, ctx.net().add_shuffle(v, r2), target, source_ir,
                              sub_name(name, suffix));
        };
        Tensor* m = to_2d(mean, "mean_2d");
        Tensor* rs = to_2d(rstd, "rstd_2d");
        return std::vector<Tensor*>{y, m, rs};
      });
  return {r[0], r[1], r[2]};
}

Tensor* batch_norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, const BatchNormOptions& o) {
  return batch_norm(ctx, target, source_ir, name, std::move(input), o.weight, o.bias,
                    o.running_mean, o.running_var, o.training, o.momentum, o.eps);
}

Tensor* layer_norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, const LayerNormOptions& o) {
  return layer_norm(ctx, target, source_ir, name, std::move(input), o.normalized_shape, o.weight,
                    o.bias, o.eps);
}

Tensor* group_norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, const GroupNormOptions& o) {
  return group_norm(ctx, target, source_ir, name, std::move(input), o.num_groups, o.weight, o.bias,
                    o.eps);
}

}  // namespace layerkit::impl::normalization
