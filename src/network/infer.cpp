// InferCtx, AttrPrinter, the per-kind dispatch and the shared inference helpers.
#include "network/infer.h"

#include <cstdio>
#include <sstream>

#include "layerkit/core/size.h"

namespace layerkit::detail {

const ValueDesc& InferCtx::input(int i) const {
  if (!has_input(i)) fail("input ", i, " is missing");
  return *inputs_[static_cast<size_t>(i)];
}

std::optional<std::vector<int64_t>> InferCtx::int_values(int i) const {
  const ValueDesc& v = input(i);
  int64_t n = v.dims.volume();
  if (n < 0 || static_cast<int64_t>(v.known.size()) != n) return std::nullopt;
  std::vector<int64_t> r;
  r.reserve(v.known.size());
  for (const auto& e : v.known) {
    if (!e) return std::nullopt;
    r.push_back(*e);
  }
  return r;
}

void InferCtx::add_output(DataType type, const Dims& dims, KnownValues known) {
  outputs_.push_back(ValueDesc{type, dims, std::move(known), nullptr});
}

std::string InferCtx::describe_inputs() const {
  std::string s = "(";
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (i) s += ", ";
    const ValueDesc* v = inputs_[i];
    s += v ? cat(data_type_name(v->type), v->dims.to_string()) : std::string("-");
  }
  return s + ")";
}

void InferCtx::throw_with(const std::string& message) const {
  // At run time the network was valid when built: what fails is this run's shapes or values.
  throw Error(runtime_ ? ErrorCode::kRUNTIME : ErrorCode::kINVALID_ARGUMENT,
              cat(layer_kind_name(kind_), " layer '", name_, "': ", message,
                  "; inputs: ", describe_inputs()));
}

void AttrPrinter::add(std::string_view key, const std::string& value) {
  if (!s_.empty()) s_ += " ";
  s_ += key;
  s_ += "=";
  s_ += value;
}

namespace {
std::string fmt_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
template <typename T, typename F>
std::string fmt_list(const std::vector<T>& v, F f) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ",";
    s += f(v[i]);
  }
  return s + "]";
}
}  // namespace

void AttrPrinter::add(std::string_view key, double v) {
  add(key, fmt_double(v));
}
void AttrPrinter::add(std::string_view key, const Weights& w) {
  add(key, w.empty() ? std::string("none") : cat(data_type_name(w.type()), "[", w.count(), "]"));
}
void AttrPrinter::add(std::string_view key, const std::vector<int32_t>& v) {
  add(key, fmt_list(v, [](int32_t x) { return std::to_string(x); }));
}
void AttrPrinter::add(std::string_view key, const std::vector<float>& v) {
  add(key, fmt_list(v, [](float x) { return fmt_double(x); }));
}
void AttrPrinter::add(std::string_view key, const std::vector<double>& v) {
  add(key, fmt_list(v, [](double x) { return fmt_double(x); }));
}

std::vector<ValueDesc> infer_layer(const LayerAttrs& attrs, std::string_view layer_name,
                                   std::span<const ValueDesc* const> inputs, bool runtime) {
  auto kind = static_cast<LayerKind>(attrs.index());
  InferCtx ctx(layer_name, kind, inputs, runtime);
  try {
    std::visit(
        [&](const auto& a) {
          if constexpr (std::is_same_v<std::decay_t<decltype(a)>, std::monostate>) {
            LK_ASSERT(false, "layer without attributes");
          } else {
            infer(a, ctx);
          }
        },
        attrs);
    // Note [Size arithmetic]: an output whose bytes int64 cannot count fails here, naming the
    // layer, before any executor sizes a buffer from it.
    for (size_t k = 0; k < ctx.outputs().size(); ++k) {
      const ValueDesc& o = ctx.outputs()[k];
      if (o.dims.is_static()) tensor_bytes(o.type, o.dims, cat("output ", k));
    }
  } catch (const Error& e) {
    // Errors of shared helpers (checked sizes, Dims) get the layer and its inputs too.
    const std::string prefix = cat(layer_kind_name(kind), " layer '", layer_name, "': ");
    if (std::string_view(e.what()).starts_with(prefix)) throw;
    throw Error(
        e.code() == ErrorCode::kINVALID_ARGUMENT && runtime ? ErrorCode::kRUNTIME : e.code(),
        cat(prefix, e.what(), "; inputs: ", ctx.describe_inputs()));
  }
  return std::move(ctx.outputs());
}

Dims broadcast_dims(const InferCtx& ctx, const Dims& a, const Dims& b) {
  ctx.check(a.rank() == b.rank(), "operands have ranks ", a.rank(), " and ", b.rank(), " (",
            a.to_string(), " vs ", b.to_string(),
            "); layers broadcast only between equal ranks, reshape the smaller operand first");
  Dims out = Dims::of_rank(a.rank());
  for (int i = 0; i < a.rank(); ++i) {
    int64_t x = a[i], y = b[i];
    if (x == y) {
      out[i] = x;
    } else if (x == 1) {
      out[i] = y;
    } else if (y == 1) {
      out[i] = x;
    } else if (x == -1) {
      out[i] = y;  // at run time x must equal y (or be 1)
    } else if (y == -1) {
      out[i] = x;
    } else {
      ctx.fail("dims ", a.to_string(), " and ", b.to_string(), " do not broadcast: axis ", i,
               " has sizes ", x, " and ", y, " (each pair must be equal or contain a 1)");
    }
  }
  return out;
}

int normalize_axis(const InferCtx& ctx, int64_t axis, int rank, std::string_view what) {
  int64_t lo = rank == 0 ? -1 : -rank, hi = rank == 0 ? 0 : rank - 1;
  ctx.check(axis >= lo && axis <= hi, what, " ", axis, " is out of range for rank ", rank,
            " (expected ", lo, "..", hi, ")");
  return static_cast<int>(axis < 0 ? axis + std::max(rank, 1) : axis);
}

std::vector<int> axes_from_mask(const InferCtx& ctx, AxesMask mask, int rank) {
  ctx.check(rank >= 32 || (mask >> rank) == 0, "axes mask 0x", std::hex, mask, std::dec,
            " selects axes beyond rank ", rank);
  std::vector<int> axes;
  for (int i = 0; i < rank; ++i)
    if (mask & (1u << i)) axes.push_back(i);
  return axes;
}

std::string type_list(std::initializer_list<DataType> types) {
  std::string s;
  for (DataType t : types) {
    if (!s.empty()) s += ", ";
    s += data_type_name(t);
  }
  return s;
}

void check_type(const InferCtx& ctx, int input, std::initializer_list<DataType> allowed) {
  DataType t = ctx.input(input).type;
  for (DataType a : allowed)
    if (a == t) return;
  ctx.fail("input ", input, " has type ", data_type_name(t), "; expected one of ",
           type_list(allowed));
}

}  // namespace layerkit::detail
