// Private helpers shared by the conv, deconv and pool building blocks (see spatial_util.h).
#include "impl/spatial_util.h"

#include <algorithm>

#include "core/element.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::spatial {

std::vector<int64_t> expand(const std::vector<int64_t>& v, int n, std::optional<int64_t> dflt,
                            std::string_view what) {
  if (v.empty()) {
    LK_CHECK(dflt.has_value(), what, " must have 1 or ", n, " entries, got none");
    return std::vector<int64_t>(static_cast<size_t>(n), *dflt);
  }
  if (v.size() == 1) return std::vector<int64_t>(static_cast<size_t>(n), v[0]);
  LK_CHECK(static_cast<int>(v.size()) == n, what, " must have 1 or ", n, " entries, got ", list(v));
  return v;
}

std::string list(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += detail::cat(i ? "," : "", v[i]);
  return s + "]";
}

Tensor* add_batch(ConversionContext& ctx, Tensor* x, const Target& target,
                  std::optional<SourceIR> source_ir, std::string_view name) {
  return prepend_ones(ctx, x, x->dims().rank() + 1, target, source_ir, sub_name(name, "batch"));
}

Tensor* remove_batch(ConversionContext& ctx, Tensor* y, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name) {
  const Dims& d = y->dims();
  int rank = d.rank();
  int dynamic = static_cast<int>(std::count(d.begin() + 1, d.end(), int64_t{-1}));
  Layer* l = nullptr;
  if (dynamic <= 1) {
    Dims r = Dims::of_rank(rank - 1);
    for (int i = 1; i < rank; ++i) r[i - 1] = d[i];
    ShuffleAttrs s;
    s.reshape_dims = r;
    s.zero_is_placeholder = false;
    l = ctx.net().add_shuffle(y, s);
  } else {
    Tensor* shape = named_output(ctx, ctx.net().add_shape(y), target, source_ir,
                                 sub_name(name, "unbatch_shape"));
    Tensor* tail = named_output(ctx, ctx.net().add_slice(shape, {1}, {rank - 1}, {1}), target,
                                source_ir, sub_name(name, "unbatch_dims"));
    l = ctx.net().add_shuffle(y, {}, tail);
  }
  return named_output(ctx, l, target, source_ir, sub_name(name, "unbatch"));
}

Weights host_weights(ConversionContext& ctx, const HostConstant& c, DataType data_type,
                     std::string_view name, std::string_view what) {
  if (!c.doubles.empty()) {
    LK_CHECK(ctx.settings().doubles == DoublePolicy::kTRUNCATE_WITH_WARNING, what, " constant ",
             c.dims.to_string(),
             " holds float64 values, which no layer accepts, and the context rejects them "
             "(ConversionSettings::doubles); cast it to float32 first");
    ctx.warn(detail::cat("'", name, "': float64 ", what, " ", c.dims.to_string(),
                         " truncated to float32"));
    std::vector<float> f(c.doubles.begin(), c.doubles.end());
    return Weights::from_vector(DataType::kFLOAT, f);
  }
  DataType t = c.weights.type();
  LK_CHECK(t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16, what,
           " constant is ", data_type_name(t),
           "; convolution and deconvolution take float weights");
  LK_CHECK(c.weights.count() == c.dims.volume(), what, " constant ", c.dims.to_string(), " holds ",
           c.weights.count(), " values");
  if (t == data_type || t == DataType::kFLOAT) return c.weights;
  // fp16 weights for a bf16 input (or the reverse): widen exactly to fp32.
  std::vector<float> f(static_cast<size_t>(c.weights.count()));
  for (int64_t i = 0; i < c.weights.count(); ++i)
    f[static_cast<size_t>(i)] = load_f(t, c.weights.data(), i);
  return Weights::from_vector(DataType::kFLOAT, f);
}

WeightOperand weight_operand(ConversionContext& ctx, const Operand& op, DataType data_type,
                             const Target& target, std::optional<SourceIR> source_ir,
                             std::string_view name, std::string_view what) {
  WeightOperand r;
  if (op.is_host_constant()) {
    r.dims = op.host_constant().dims;
    r.weights = host_weights(ctx, op.host_constant(), data_type, name, what);
    return r;
  }
  LK_CHECK(op.is_tensor(), what, " must be a tensor or a host constant, got ", op.describe());
  LK_CHECK(op.tensor() != nullptr, what, " is a null tensor");
  r.dims = op.tensor()->dims();
  LK_CHECK(r.dims.is_static(), what, " dims ", r.dims.to_string(), " must be known at build time");
  LK_CHECK(is_floating(op.tensor()->type()), what, " is ", data_type_name(op.tensor()->type()),
           "; convolution and deconvolution take float weights");
  r.tensor = cast_to(ctx, op.tensor(), data_type, target, source_ir, sub_name(name, "cast"));
  return r;
}

Tensor* pin_channels(ConversionContext& ctx, Tensor* x, int64_t channels, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name) {
  if (x->dims()[1] != -1) return x;
  ShuffleAttrs s;
  Dims d = Dims::of_rank(x->dims().rank(), 0);
  d[1] = channels;
  s.reshape_dims = d;
  s.zero_is_placeholder = true;
  return named_output(ctx, ctx.net().add_shuffle(x, s), target, source_ir,
                      sub_name(name, "channels"));
}

Tensor* bias_operand(ConversionContext& ctx, const std::optional<Operand>& bias, DataType t,
                     int64_t k, const Target& target, std::optional<SourceIR> source_ir,
                     std::string_view name, Weights& weights) {
  if (!bias) return nullptr;
  WeightOperand b =
      weight_operand(ctx, *bias, t, target, source_ir, sub_name(name, "bias"), "bias");
  LK_CHECK(b.dims.rank() == 1 && b.dims[0] == k, "bias ", b.dims.to_string(), " must be [", k,
           "] (one per output channel)");
  weights = b.weights;
  return b.tensor;
}

Tensor* finish_layer(ConversionContext& ctx, Layer* l, const Weights& kernel, const Weights& bias,
                     bool unbatched, const Target& target, std::optional<SourceIR> source_ir,
                     std::string_view name) {
  set_layer_name(ctx, l, target, source_ir, name);
  if (!kernel.empty()) ctx.register_weights(sub_name(l->name(), "kernel"), kernel);
  if (!bias.empty()) ctx.register_weights(sub_name(l->name(), "bias"), bias);
  Tensor* y = l->output(0);
  return unbatched ? remove_batch(ctx, y, target, source_ir, name) : y;
}

}  // namespace layerkit::impl::spatial
