// Activation building blocks: torch's pointwise activations as Activation layers or small
// composites, with integer promotion as torch does it and INT8 dynamic-range propagation.
#include "layerkit/impl/activation.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>
#include <vector>

#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::activation {

namespace {

using A = ActivationType;
using E = ElementWiseOperation;
using U = UnaryOperation;

// torch.nn.functional.selu's constants.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

// Note [Dynamic range]
// An activation's output range is the image of the input's range [lo, hi]. Every function here
// is monotone on each of a few pieces, so the image is the hull of the values at lo and hi and
// of the values at the piece boundaries (extrema or jumps; both one-sided limits at a jump)
// that lie in [lo, hi]. Each block lists its boundaries beside its range function:
//   monotone increasing, no boundaries: relu, sigmoid, tanh, selu, softsign, hard_sigmoid,
//     softshrink, tanhshrink (derivative 1 - tanh^2 >= 0);
//   leaky_relu, elu: 0 (the kink; with a negative slope/alpha 0 is the extremum);
//   softplus: the threshold x0 = threshold / beta, a jump from softplus(x0) down to x0;
//   gelu: its minimum (x ~ -0.7518, erf form; -0.7525, tanh form);
//   hard_swish: its minimum -0.375 at x = -1.5;
//   hardshrink: the jumps at -lambd (from -lambd to 0) and lambd (from 0 to lambd).
// The bounds are exact in real arithmetic and evaluated in double; the layers' float rounding
// can move outputs by an ulp, which INT8 calibration does not resolve anyway. Integer inputs
// (relu of ints, promoted sigmoid/tanh/...) use the same rules.
struct Boundary {
  double x, left, right;
};
using RangeFn = std::function<double(double)>;

void propagate_range(const Operand& input, Tensor* out, const RangeFn& f,
                     const std::vector<Boundary>& boundaries = {}) {
  if (!input.is_tensor() || input.tensor() == nullptr) return;
  std::optional<std::pair<float, float>> r = input.tensor()->dynamic_range();
  if (!r) return;
  double lo = r->first, hi = r->second;
  double a = f(lo), b = f(hi);
  double mn = std::min(a, b), mx = std::max(a, b);
  for (const Boundary& p : boundaries) {
    if (p.x < lo || p.x > hi) continue;
    mn = std::min({mn, p.left, p.right});
    mx = std::max({mx, p.left, p.right});
  }
  out->set_dynamic_range(static_cast<float>(mn), static_cast<float>(mx));
}

Boundary continuous(const RangeFn& f, double x) {
  return {x, f(x), f(x)};
}

// log(1 + exp(z)) without overflow.
double softplus_d(double z) {
  return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}

// How a block treats integer and bool inputs (as torch does).
enum class Ints {
  kREJECT,               // no integer kernel in torch
  kPROMOTE,              // integers and bool compute in fp32 (sigmoid, tanh)
  kPROMOTE_REJECT_BOOL,  // integers compute in fp32, bool fails (softsign, tanhshrink)
};

// Adds layers for one block; `out` is the name the block's last computing layer takes.
class Builder {
 public:
  Builder(ConversionContext& ctx, const Target& target, std::optional<SourceIR> ir,
          std::string_view name, int rank)
      : ctx_(ctx), target_(target), ir_(ir), name_(name), rank_(rank) {}

  std::string sub(std::string_view suffix) const { return sub_name(name_, suffix); }

  Tensor* act(Tensor* x, A type, double alpha, double beta, std::string_view name) {
    return named(
        ctx_.net().add_activation(x, type, static_cast<float>(alpha), static_cast<float>(beta)),
        name);
  }
  Tensor* ew(Tensor* a, Tensor* b, E op, std::string_view name) {
    return named(ctx_.net().add_elementwise(a, b, op), name);
  }
  Tensor* unary(Tensor* x, U op, std::string_view name) {
    return named(ctx_.net().add_unary(x, op), name);
  }
  Tensor* select(Tensor* c, Tensor* a, Tensor* b, std::string_view name) {
    return named(ctx_.net().add_select(c, a, b), name);
  }
  // A constant shaped [1]*rank, so it broadcasts against the input without a reshape.
  Tensor* constant(double v, DataType t, std::string_view name) {
    return scalar_constant(ctx_, v, t, Dims::of_rank(rank_, 1), target_, ir_, name);
  }

 private:
  Tensor* named(Layer* l, std::string_view name) {
    return named_output(ctx_, l, target_, ir_, name);
  }
  ConversionContext& ctx_;
  const Target& target_;
  std::optional<SourceIR> ir_;
  std::string_view name_;
  int rank_;
};

bool is_float16_32(DataType t) {
  return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
}

// The body gets the input in its compute type and the name its last layer takes.
using Body = std::function<Tensor*(Builder&, Tensor* x, const std::string& last)>;

// The one path of every floating activation: checks the input type per `ints`, converts the
// input (single-layer blocks compute in the input type; composites per Note [Precision policy]),
// runs the body, casts back once and propagates the dynamic range.
Tensor* block(ConversionContext& ctx, std::string_view block_name, const Target& target,
              std::optional<SourceIR> source_ir, std::string_view name, const Operand& input,
              Ints ints, bool composite, std::string_view last_suffix, const Body& body,
              const RangeFn& range, const std::vector<Boundary>& boundaries = {}) {
  return guarded(ctx, block_name, target, name, {&input}, [&]() -> Tensor* {
    DataType t = operand_type(input);
    if (!is_floating(t)) {
      bool ok =
          ints == Ints::kPROMOTE || (ints == Ints::kPROMOTE_REJECT_BOOL && t != DataType::kBOOL);
      LK_CHECK(ok, block_name, " does not take ", data_type_name(t),
               " inputs (as in torch); cast to a floating type first");
      t = DataType::kFLOAT;
    }
    LK_CHECK(is_float16_32(t), block_name, " takes float32, float16 or bfloat16 inputs; got ",
             data_type_name(t));
    DataType ct = composite ? compute_type(t) : t;
    int rank = input.rank();
    Tensor* x = to_tensor(ctx, input, ct, rank, target, source_ir, name);
    Builder b(ctx, target, source_ir, name, rank);
    Tensor* y = body(b, x, ct == t ? std::string(name) : b.sub(last_suffix));
    y = cast_to(ctx, y, t, target, source_ir, name);
    propagate_range(input, y, range, boundaries);
    return y;
  });
}

// A block that is one Activation layer.
Tensor* single(ConversionContext& ctx, std::string_view block_name, const Target& target,
               std::optional<SourceIR> source_ir, std::string_view name, const Operand& input,
               Ints ints, A type, double alpha, double beta, const RangeFn& range,
               const std::vector<Boundary>& boundaries = {}) {
  return block(
      ctx, block_name, target, source_ir, name, input, ints, false, "",
      [&](Builder& b, Tensor* x, const std::string& last) {
        return b.act(x, type, alpha, beta, last);
      },
      range, boundaries);
}

double sigmoid_d(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}
double hard_sigmoid_d(double x) {
  return std::clamp(x / 6.0 + 0.5, 0.0, 1.0);
}
double elu_d(double x, double alpha, double scale, double input_scale) {
  return x > 0 ? scale * x : scale * alpha * std::expm1(input_scale * x);
}

}  // namespace

Tensor* relu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input) {
  auto f = [](double x) { return std::max(x, 0.0); };
  DataType t = input.is_tensor() && input.tensor() ? input.tensor()->type() : DataType::kFLOAT;
  if (!input.is_tensor() || is_floating(t) || input.tensor() == nullptr)
    return single(ctx, "activation::relu", target, source_ir, name, input, Ints::kREJECT, A::kRELU,
                  0, 0, f);
  // The Activation layer is float-only; torch keeps integer types: max(x, 0) in the input type.
  return guarded(ctx, "activation::relu", target, name, {&input}, [&]() -> Tensor* {
    LK_CHECK(t != DataType::kBOOL,
             "activation::relu does not take bool inputs (as in torch: boolean inputs are not "
             "supported for relu)");
    Tensor* y = elementwise::max(ctx, target, source_ir, name, input, 0);
    propagate_range(input, y, f);
    return y;
  });
}

Tensor* sigmoid(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Operand input) {
  return single(ctx, "activation::sigmoid", target, source_ir, name, input, Ints::kPROMOTE,
                A::kSIGMOID, 0, 0, sigmoid_d);
}

Tensor* tanh(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input) {
  return single(ctx, "activation::tanh", target, source_ir, name, input, Ints::kPROMOTE, A::kTANH,
                0, 0, [](double x) { return std::tanh(x); });
}

Tensor* leaky_relu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, double negative_slope) {
  auto f = [=](double x) { return x > 0 ? x : negative_slope * x; };
  return single(ctx, "activation::leaky_relu", target, source_ir, name, input, Ints::kREJECT,
                A::kLEAKY_RELU, negative_slope, 0, f, {continuous(f, 0)});
}

Tensor* elu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Operand input, double alpha, double scale, double input_scale) {
  auto f = [=](double x) { return elu_d(x, alpha, scale, input_scale); };
  if (input_scale == 1.0) {
    // kELU is scale 1; kSELU is beta * elu(x, alpha), i.e. any scale.
    A type = scale == 1.0 ? A::kELU : A::kSELU;
    return single(ctx, "activation::elu", target, source_ir, name, input, Ints::kREJECT, type,
                  alpha, scale, f, {continuous(f, 0)});
  }
  // x > 0 ? scale x : scale alpha expm1(input_scale x). For input_scale > 0 the negative branch
  // sees z = input_scale x <= 0, where ELU(z, 1) is expm1(z) exactly; otherwise z >= 0 there and
  // exp(z) - 1 loses nothing.
  return block(
      ctx, "activation::elu", target, source_ir, name, input, Ints::kREJECT, true, "select",
      [&](Builder& b, Tensor* x, const std::string& last) {
        DataType ct = x->type();
        Tensor* z =
            b.ew(x, b.constant(input_scale, ct, b.sub("input_scale")), E::kPROD, b.sub("scaled"));
        Tensor* em1 = nullptr;
        if (input_scale > 0) {
          em1 = b.act(z, A::kELU, 1.0, 0, b.sub("expm1"));
        } else {
          Tensor* e = b.unary(z, U::kEXP, b.sub("exp"));
          em1 = b.ew(e, b.constant(1.0, ct, b.sub("one")), E::kSUB, b.sub("expm1"));
        }
        Tensor* neg = b.ew(em1, b.constant(scale * alpha, ct, b.sub("neg_coef")), E::kPROD,
                           b.sub("negative"));
        Tensor* pos = b.ew(x, b.constant(scale, ct, b.sub("scale")), E::kPROD, b.sub("positive"));
        Tensor* c = b.ew(x, b.constant(0.0, ct, b.sub("zero")), E::kGREATER, b.sub("is_positive"));
        return b.select(c, pos, neg, last);
      },
      f, {continuous(f, 0)});
}

Tensor* selu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input) {
  return single(ctx, "activation::selu", target, source_ir, name, input, Ints::kREJECT, A::kSELU,
                kSeluAlpha, kSeluScale,
                [](double x) { return elu_d(x, kSeluAlpha, kSeluScale, 1.0); });
}

Tensor* softsign(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Operand input) {
  return single(ctx, "activation::softsign", target, source_ir, name, input,
                Ints::kPROMOTE_REJECT_BOOL, A::kSOFTSIGN, 0, 0,
                [](double x) { return x / (1.0 + std::fabs(x)); });
}

Tensor* softplus(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Operand input, double beta, double threshold) {
  if (beta == 0.0) {
    // Checked inside the guard so the message carries the block and operands.
    return guarded(ctx, "activation::softplus", target, name, {&input}, [&]() -> Tensor* {
      LK_FAIL(kINVALID_ARGUMENT, "beta is 0; softplus divides by beta");
    });
  }
  auto f = [=](double x) { return beta * x > threshold ? x : softplus_d(beta * x) / beta; };
  double x0 = threshold / beta;
  // SOFTPLUS computes alpha * log(1 + exp(beta x)); torch returns x itself past the threshold.
  return block(
      ctx, "activation::softplus", target, source_ir, name, input, Ints::kREJECT, true, "select",
      [&](Builder& b, Tensor* x, const std::string& last) {
        DataType ct = x->type();
        Tensor* sp = b.act(x, A::kSOFTPLUS, 1.0 / beta, beta, b.sub("softplus"));
        Tensor* bx = beta == 1.0
                         ? x
                         : b.ew(x, b.constant(beta, ct, b.sub("beta")), E::kPROD, b.sub("beta_x"));
        Tensor* c = b.ew(bx, b.constant(threshold, ct, b.sub("threshold")), E::kGREATER,
                         b.sub("above_threshold"));
        return b.select(c, x, sp, last);
      },
      f, {{x0, softplus_d(threshold) / beta, x0}});
}

Tensor* gelu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input, std::string_view approximate) {
  if (approximate != "none" && approximate != "tanh") {
    return guarded(ctx, "activation::gelu", target, name, {&input}, [&]() -> Tensor* {
      LK_FAIL(kINVALID_ARGUMENT, "approximate '", approximate, "' is not 'none' or 'tanh'");
    });
  }
  bool erf_form = approximate == "none";
  RangeFn f = [erf_form](double x) {
    if (erf_form) return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    return 0.5 * x *
           (1.0 + std::tanh(std::sqrt(2.0 / std::numbers::pi) * (x + 0.044715 * x * x * x)));
  };
  double x_min = erf_form ? -0.7517915260400782 : -0.7524614066473527;
  return single(ctx, "activation::gelu", target, source_ir, name, input, Ints::kREJECT,
                erf_form ? A::kGELU_ERF : A::kGELU_TANH, 0, 0, f, {continuous(f, x_min)});
}

Tensor* hard_sigmoid(ConversionContext& ctx, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name, Operand input) {
  return single(ctx, "activation::hard_sigmoid", target, source_ir, name, input, Ints::kREJECT,
                A::kHARD_SIGMOID, 1.0 / 6.0, 0.5, hard_sigmoid_d);
}

Tensor* hard_swish(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input) {
  RangeFn f = [](double x) { return x * hard_sigmoid_d(x); };
  return block(ctx, "activation::hard_swish", target, source_ir, name, input, Ints::kREJECT, true,
               "prod",
               [&](Builder& b, Tensor* x, const std::string& last) {
                 Tensor* hs = b.act(x, A::kHARD_SIGMOID, 1.0 / 6.0, 0.5, b.sub("hard_sigmoid"));
                 return b.ew(x, hs, E::kPROD, last);
               },
               f, {continuous(f, -1.5)});
}

Tensor* hardshrink(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, double lambd) {
  auto f = [=](double x) { return x >= -lambd && x <= lambd ? 0.0 : x; };
  // Computed in the input type: abs, comparisons and select are exact there, and lambd is
  // rounded to the input type as ATen's kernel does (bf16 1.203125 with lambd 1.2 gives 0).
  // |x| <= l is (|x| < l) or (|x| == l) so NaN stays NaN, as in torch.
  return block(ctx, "activation::hardshrink", target, source_ir, name, input, Ints::kREJECT, false,
               "select",
               [&](Builder& b, Tensor* x, const std::string& last) {
                 DataType ct = x->type();
                 Tensor* a = b.unary(x, U::kABS, b.sub("abs"));
                 Tensor* l = b.constant(lambd, ct, b.sub("lambd"));
                 Tensor* lt = b.ew(a, l, E::kLESS, b.sub("less"));
                 Tensor* eq = b.ew(a, l, E::kEQUAL, b.sub("equal"));
                 Tensor* inside = b.ew(lt, eq, E::kOR, b.sub("inside"));
                 return b.select(inside, b.constant(0.0, ct, b.sub("zero")), x, last);
               },
               f, {{-lambd, -lambd, 0.0}, {lambd, 0.0, lambd}});
}

Tensor* softshrink(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, double lambd) {
  auto f = [=](double x) { return x > lambd ? x - lambd : (x < -lambd ? x + lambd : 0.0); };
  return block(
      ctx, "activation::softshrink", target, source_ir, name, input, Ints::kREJECT, true, "select",
      [&](Builder& b, Tensor* x, const std::string& last) {
        LK_CHECK(lambd >= 0, "lambd must be >= 0 (as in torch); got ", lambd);
        DataType ct = x->type();
        Tensor* l = b.constant(lambd, ct, b.sub("lambd"));
        Tensor* nl = b.constant(-lambd, ct, b.sub("neg_lambd"));
        // Nested selects rather than x - clamp(x, -l, l): NaN gives 0, as in torch.
        Tensor* above = b.ew(x, l, E::kGREATER, b.sub("above"));
        Tensor* below = b.ew(x, nl, E::kLESS, b.sub("below"));
        Tensor* down = b.ew(x, l, E::kSUB, b.sub("minus_lambd"));
        Tensor* up = b.ew(x, l, E::kSUM, b.sub("plus_lambd"));
        Tensor* low = b.select(below, up, b.constant(0.0, ct, b.sub("zero")), b.sub("low"));
        return b.select(above, down, low, last);
      },
      f);
}

Tensor* tanhshrink(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input) {
  return block(
      ctx, "activation::tanhshrink", target, source_ir, name, input, Ints::kPROMOTE_REJECT_BOOL,
      true, "sub",
      [&](Builder& b, Tensor* x, const std::string& last) {
        Tensor* t = b.act(x, A::kTANH, 0, 0, b.sub("tanh"));
        return b.ew(x, t, E::kSUB, last);
      },
      [](double x) { return x - std::tanh(x); });
}

// Ranges (Note [Dynamic range]): silu has its minimum -0.27846 at x = -1.27846; mish its
// minimum -0.30884 at x = -1.19201; hardtanh, relu6 and logit are monotone increasing.
Tensor* silu(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input) {
  RangeFn f = [](double x) { return x * sigmoid_d(x); };
  return block(ctx, "activation::silu", target, source_ir, name, input, Ints::kREJECT, true, "prod",
               [&](Builder& b, Tensor* x, const std::string& last) {
                 Tensor* s = b.act(x, A::kSIGMOID, 0, 0, b.sub("sigmoid"));
                 return b.ew(x, s, E::kPROD, last);
               },
               f, {continuous(f, -1.2784645427610738)});
}

Tensor* hardtanh(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Operand input, double min_val, double max_val) {
  auto f = [=](double x) { return std::min(std::max(x, min_val), max_val); };
  DataType t = input.is_tensor() && input.tensor() ? input.tensor()->type() : DataType::kFLOAT;
  if (!input.is_tensor() || input.tensor() == nullptr || is_floating(t))
    return single(ctx, "activation::hardtanh", target, source_ir, name, input, Ints::kREJECT,
                  A::kCLIP, min_val, max_val, f);
  // CLIP is float-only; integer tensors clamp in their own type.
  return guarded(ctx, "activation::hardtanh", target, name, {&input}, [&]() -> Tensor* {
    LK_CHECK(t != DataType::kBOOL, "activation::hardtanh does not take bool inputs (as in torch)");
    // As torch: a bound outside the integer type's range is an error, not a wrapped value.
    double lo = t == DataType::kUINT8   ? 0.0
                : t == DataType::kINT8  ? -128.0
                : t == DataType::kINT32 ? -2147483648.0
                                        : -9.2e18;
    double hi = t == DataType::kUINT8   ? 255.0
                : t == DataType::kINT8  ? 127.0
                : t == DataType::kINT32 ? 2147483647.0
                                        : 9.2e18;
    for (double v : {min_val, max_val})
      LK_CHECK(std::isfinite(v) && std::trunc(v) >= lo && std::trunc(v) <= hi, "bound ", v,
               " does not fit the input type ", data_type_name(t), " (as torch requires)");
    Tensor* y = elementwise::clamp(ctx, target, source_ir, name, input,
                                   Operand(static_cast<int64_t>(std::trunc(min_val))),
                                   Operand(static_cast<int64_t>(std::trunc(max_val))));
    propagate_range(input, y, f);
    return y;
  });
}

Tensor* relu6(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input) {
  return hardtanh(ctx, target, source_ir, name, std::move(input), 0.0, 6.0);
}

Tensor* mish(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Operand input) {
  RangeFn f = [](double x) { return x * std::tanh(softplus_d(x)); };
  return block(ctx, "activation::mish", target, source_ir, name, input, Ints::kREJECT, true, "prod",
               [&](Builder& b, Tensor* x, const std::string& last) {
                 Tensor* sp = b.act(x, A::kSOFTPLUS, 1.0, 1.0, b.sub("softplus"));
                 Tensor* th = b.act(sp, A::kTANH, 0, 0, b.sub("tanh"));
                 return b.ew(x, th, E::kPROD, last);
               },
               f, {continuous(f, -1.1920928955078125)});
}

Tensor* logit(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input, std::optional<double> eps) {
  RangeFn f = [=](double x) {
    double z = eps ? std::clamp(x, *eps, 1.0 - *eps) : x;
    return std::log(z / (1.0 - z));
  };
  return block(
      ctx, "activation::logit", target, source_ir, name, input, Ints::kPROMOTE, true, "log",
      [&](Builder& b, Tensor* x, const std::string& last) {
        DataType ct = x->type();
        Tensor* z = x;
        if (eps) {
          Tensor* lo = b.ew(x, b.constant(*eps, ct, b.sub("eps")), E::kMAX, b.sub("clamp_min"));
          z = b.ew(lo, b.constant(1.0 - *eps, ct, b.sub("one_minus_eps")), E::kMIN,
                   b.sub("clamp_max"));
        }
        Tensor* d = b.ew(b.constant(1.0, ct, b.sub("one")), z, E::kSUB, b.sub("one_minus_z"));
        Tensor* q = b.ew(z, d, E::kDIV, b.sub("odds"));
        return b.unary(q, U::kLOG, last);
      },
      f);
}

}  // namespace layerkit::impl::activation
