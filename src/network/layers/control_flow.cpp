// Inference and printing for the Conditional and Loop kinds (Note [Control-flow bodies]).
#include <algorithm>
#include <atomic>

#include "network/infer.h"

namespace layerkit::detail {

namespace {

std::atomic<ControlFlowEvaluator> g_evaluator{nullptr};

// A tensor of one element whatever its rank: every dim 1 (or -1, resolved at run time).
bool one_element(const Dims& d) {
  return std::all_of(d.begin(), d.end(), [](int64_t v) { return v == 1 || v == kDynamic; });
}

// The value `given` may flow into a body input declared `declared`: same type and rank, each dim
// equal or -1 in the body. A dynamic value needs a dynamic body dim (a static one would hold for
// some runs only).
void check_fits(const InferCtx& ctx, std::string_view what, DataType type, const Dims& given,
                const Tensor& declared) {
  ctx.check(!is_sub_byte(type), what, " is ", data_type_name(type),
            "; sub-byte values do not cross body boundaries (cast them first)");
  ctx.check(type == declared.type(), what, " is ", data_type_name(type), " but body input '",
            declared.name(), "' is ", data_type_name(declared.type()));
  bool ok = given.rank() == declared.dims().rank();
  for (int d = 0; ok && d < given.rank(); ++d)
    ok = declared.dims()[d] == kDynamic || declared.dims()[d] == given[d];
  ctx.check(ok, what, " has dims ", given.to_string(), " but body input '", declared.name(),
            "' is declared ", declared.dims().to_string(),
            " (each dim must be equal, or -1 in the body)");
}

// Per dim: the value when both agree, else -1.
Dims agree(const Dims& a, const Dims& b) {
  Dims r = a;
  for (int d = 0; d < r.rank(); ++d)
    if (a[d] != b[d]) r[d] = kDynamic;
  return r;
}

// The known truth value of a one-element bool tensor, if inference knows it.
std::optional<bool> known_bool(const KnownValues& k) {
  if (k.size() != 1 || !k[0]) return std::nullopt;
  return *k[0] != 0;
}

// True at run time when every input's elements are on the host, so the bodies can run.
bool can_evaluate(const InferCtx& ctx) {
  if (!ctx.at_runtime() || !control_flow_evaluator()) return false;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    const ValueDesc& v = ctx.input(i);
    if (!v.dims.is_static() || (!v.host_data && v.dims.volume() > 0)) return false;
  }
  return true;
}

template <typename A>
void evaluate(const A& a, InferCtx& ctx) {
  std::vector<const ValueDesc*> ins;
  for (int i = 0; i < ctx.num_inputs(); ++i)
    ins.push_back(ctx.has_input(i) ? &ctx.input(i) : nullptr);
  for (ValueDesc& d : control_flow_evaluator()(LayerAttrs(a), ctx.layer_name(), ins))
    ctx.add_output(d.type, d.dims, std::move(d.known));
}

void check_body(const InferCtx& ctx, const std::shared_ptr<const Network>& body,
                std::string_view what) {
  ctx.check(body != nullptr, "the ", what, " body is missing");
  ctx.check(body->num_outputs() > 0 || what != "loop", "the ", what, " body has no outputs");
}

}  // namespace

void set_control_flow_evaluator(ControlFlowEvaluator f) {
  g_evaluator.store(f);
}
ControlFlowEvaluator control_flow_evaluator() {
  return g_evaluator.load();
}

std::vector<std::pair<std::string_view, const Network*>> bodies_of(const LayerAttrs& attrs) {
  if (const auto* c = std::get_if<ConditionalAttrs>(&attrs))
    return {{"then", c->then_body.get()}, {"else", c->else_body.get()}};
  if (const auto* l = std::get_if<LoopAttrs>(&attrs)) return {{"body", l->body.get()}};
  return {};
}

void infer(const ConditionalAttrs& a, InferCtx& ctx) {
  check_body(ctx, a.then_body, "then");
  check_body(ctx, a.else_body, "else");
  ctx.check(ctx.num_inputs() >= 1, "input 0 (the condition) is missing");
  const ValueDesc& cond = ctx.input(0);
  ctx.check(cond.type == DataType::kBOOL && one_element(cond.dims),
            "the condition must be a bool tensor of one element, got ", data_type_name(cond.type),
            cond.dims.to_string());
  const Network& t = *a.then_body;
  const Network& e = *a.else_body;
  const int n = ctx.num_inputs() - 1;
  for (const Network* body : {&t, &e}) {
    const char* which = body == &t ? "then" : "else";
    ctx.check(body->num_inputs() == n, "the ", which, " body has ", body->num_inputs(),
              " inputs but the layer passes ", n, " values (inputs 1..", n, ")");
    for (int i = 0; i < n; ++i) {
      const ValueDesc& v = ctx.input(i + 1);
      check_fits(ctx, cat("input ", i + 1), v.type, v.dims, *body->input(i));
    }
  }
  ctx.check(t.num_outputs() == e.num_outputs(), "the then body has ", t.num_outputs(),
            " outputs but the else body has ", e.num_outputs());
  for (int k = 0; k < t.num_outputs(); ++k) {
    const Tensor& x = *t.output(k);
    const Tensor& y = *e.output(k);
    ctx.check(x.type() == y.type(), "output ", k, " is ", data_type_name(x.type()),
              " in the then body ('", x.name(), "') but ", data_type_name(y.type()),
              " in the else body ('", y.name(), "')");
    ctx.check(x.dims().rank() == y.dims().rank(), "output ", k, " has rank ", x.dims().rank(),
              " in the then body ", x.dims().to_string(), " but ", y.dims().rank(),
              " in the else body ", y.dims().to_string(), "; the branches must agree on ranks");
  }
  if (can_evaluate(ctx)) return evaluate(a, ctx);
  // A condition known when the network is built decides the dims (Note [Body evaluation]).
  const std::optional<bool> known = known_bool(cond.known);
  for (int k = 0; k < t.num_outputs(); ++k) {
    const Tensor& x = *t.output(k);
    const Tensor& y = *e.output(k);
    if (known) {
      const Tensor& taken = *known ? x : y;
      ctx.add_output(taken.type(), taken.dims());
    } else {
      ctx.add_output(x.type(), agree(x.dims(), y.dims()));
    }
  }
}
void print_attrs(const ConditionalAttrs& a, AttrPrinter& p) {
  p.add("then_layers", a.then_body ? a.then_body->num_layers() : 0);
  p.add("else_layers", a.else_body ? a.else_body->num_layers() : 0);
}

void infer(const LoopAttrs& a, InferCtx& ctx) {
  check_body(ctx, a.body, "loop");
  const Network& body = *a.body;
  const int c = a.num_carried;
  const int s = static_cast<int>(a.scan_input_axes.size());
  ctx.check(c >= 0, "num_carried is ", c);
  ctx.check(ctx.num_inputs() >= 2 + c + s, "the layer has ", ctx.num_inputs(),
            " inputs; a loop with ", c, " carried values and ", s, " scan inputs takes at least ",
            2 + c + s, " (trip limit, condition, carried values, scan inputs, invariants)");
  const int k = ctx.num_inputs() - 2 - c - s;
  const int r = body.num_outputs() - 1 - c;
  ctx.check(body.num_inputs() == 2 + c + s + k, "the body has ", body.num_inputs(),
            " inputs but the loop gives it ", 2 + c + s + k, " (iteration, condition, ", c,
            " carried, ", s, " scan slices, ", k, " invariants)");
  ctx.check(r >= 0, "the body has ", body.num_outputs(), " outputs but needs at least ", 1 + c,
            " (the condition and ", c, " carried values)");
  auto check_flags = [&](const std::vector<int32_t>& v, size_t n, const char* what) {
    ctx.check(v.empty() || v.size() == n, what, " has ", v.size(), " entries for ", n,
              " values (give one per value, or none)");
    for (int32_t f : v) ctx.check(f == 0 || f == 1, what, " entries are 0 or 1, got ", f);
  };
  check_flags(a.scan_input_reverse, static_cast<size_t>(s), "scan_input_reverse");
  check_flags(a.scan_output_reverse, static_cast<size_t>(r), "scan_output_reverse");
  ctx.check(a.scan_output_axes.empty() || static_cast<int>(a.scan_output_axes.size()) == r,
            "scan_output_axes has ", a.scan_output_axes.size(), " entries for ", r,
            " scan outputs");

  // The trip limit and the condition, each one element.
  std::optional<int64_t> limit;
  bool bounded = false, bound_unknown = false;
  if (ctx.has_input(0)) {
    const ValueDesc& m = ctx.input(0);
    ctx.check((m.type == DataType::kINT32 || m.type == DataType::kINT64) && one_element(m.dims),
              "the trip limit (input 0) must be an int32 or int64 tensor of one element, got ",
              data_type_name(m.type), m.dims.to_string());
    bounded = true;
    if (auto v = ctx.int_values(0); v && v->size() == 1)
      limit = std::max<int64_t>((*v)[0], 0);
    else
      bound_unknown = true;
  }
  std::optional<bool> cond_init = true;
  if (ctx.has_input(1)) {
    const ValueDesc& b = ctx.input(1);
    ctx.check(b.type == DataType::kBOOL && one_element(b.dims),
              "the condition (input 1) must be a bool tensor of one element, got ",
              data_type_name(b.type), b.dims.to_string());
    cond_init = known_bool(b.known);
  }
  auto expect_body_input = [&](int i, DataType t, const char* what) {
    const Tensor& in = *body.input(i);
    ctx.check(in.type() == t && in.dims().rank() == 0, "body input ", i, " ('", in.name(),
              "', the ", what, ") must be ", data_type_name(t), " 0-D, got ",
              data_type_name(in.type()), in.dims().to_string());
  };
  expect_body_input(0, DataType::kINT64, "iteration");
  expect_body_input(1, DataType::kBOOL, "condition");
  const Tensor& cond_out = *body.output(0);
  ctx.check(cond_out.type() == DataType::kBOOL && one_element(cond_out.dims()), "body output 0 ('",
            cond_out.name(), "', the next condition) must be a bool tensor of one element, got ",
            data_type_name(cond_out.type()), cond_out.dims().to_string());

  // Carried values: the initial value and every iteration's result must fit the body's input.
  std::vector<Dims> carried_dims;
  for (int i = 0; i < c; ++i) {
    const ValueDesc& v = ctx.input(2 + i);
    const Tensor& in = *body.input(2 + i);
    const Tensor& out = *body.output(1 + i);
    check_fits(ctx, cat("carried value ", i, " (input ", 2 + i, ")"), v.type, v.dims, in);
    check_fits(ctx,
               cat("carried value ", i, " as the body gives it back (body output ", 1 + i, " '",
                   out.name(), "')"),
               out.type(), out.dims(), in);
    carried_dims.push_back(agree(v.dims, out.dims()));
  }
  // Scan inputs: one slice per iteration along the axis.
  std::optional<int64_t> scan_len;
  for (int i = 0; i < s; ++i) {
    const ValueDesc& v = ctx.input(2 + c + i);
    ctx.check(v.dims.rank() >= 1, "scan input ", i, " (input ", 2 + c + i, ") has rank 0");
    const int axis = normalize_axis(ctx, a.scan_input_axes[static_cast<size_t>(i)], v.dims.rank(),
                                    "scan_input_axes entry");
    ctx.check(a.scan_input_axes[static_cast<size_t>(i)] == axis, "scan_input_axes entry ", i,
              " is ", a.scan_input_axes[static_cast<size_t>(i)], "; give it as ", axis);
    Dims slice = Dims::of_rank(v.dims.rank() - 1);
    for (int d = 0, o = 0; d < v.dims.rank(); ++d)
      if (d != axis) slice[o++] = v.dims[d];
    check_fits(ctx, cat("a slice of scan input ", i, " (input ", 2 + c + i, ")"), v.type, slice,
               *body.input(2 + c + i));
    bounded = true;
    const int64_t len = v.dims[axis];
    if (len == kDynamic)
      bound_unknown = true;
    else
      scan_len = std::min(scan_len.value_or(len), len);
  }
  for (int i = 0; i < k; ++i) {
    const ValueDesc& v = ctx.input(2 + c + s + i);
    check_fits(ctx, cat("invariant ", i, " (input ", 2 + c + s + i, ")"), v.type, v.dims,
               *body.input(2 + c + s + i));
  }
  const std::optional<bool> cond_next = known_bool(cond_out.known_values());
  const bool never_stops = cond_init == true && cond_next == true;
  ctx.check(bounded || !never_stops,
            "the loop has no trip limit and no scan input, and its condition is always true: it "
            "would never end");
  for (int i = 0; i < r; ++i) {
    const Tensor& out = *body.output(1 + c + i);
    const int32_t axis =
        a.scan_output_axes.empty() ? 0 : a.scan_output_axes[static_cast<size_t>(i)];
    ctx.check(axis >= 0 && axis <= out.dims().rank(), "scan_output_axes entry ", i, " is ", axis,
              "; body output ", 1 + c + i, " '", out.name(), "' of rank ", out.dims().rank(),
              " stacks along an axis in [0, ", out.dims().rank(), "]");
  }
  if (can_evaluate(ctx)) return evaluate(a, ctx);

  // The iteration count, when the network is built: known when every bound is and the condition
  // never stops the loop early, or when a bound is 0 (or the condition starts false).
  std::optional<int64_t> trips;
  const std::optional<int64_t> known_bound = limit && scan_len ? std::min(*limit, *scan_len)
                                             : limit           ? limit
                                                               : scan_len;
  if (cond_init == false || (known_bound && *known_bound == 0))
    trips = 0;
  else if (never_stops && !bound_unknown)
    trips = known_bound;
  for (int i = 0; i < c; ++i) {
    const ValueDesc& v = ctx.input(2 + i);
    ctx.add_output(v.type, trips == 0 ? v.dims : carried_dims[static_cast<size_t>(i)],
                   trips == 0 ? v.known : KnownValues{});
  }
  for (int i = 0; i < r; ++i) {
    const Tensor& out = *body.output(1 + c + i);
    const int32_t axis =
        a.scan_output_axes.empty() ? 0 : a.scan_output_axes[static_cast<size_t>(i)];
    Dims d = Dims::of_rank(out.dims().rank() + 1);
    for (int j = 0, o = 0; j < d.rank(); ++j)
      d[j] = j == axis ? trips.value_or(kDynamic) : out.dims()[o++];
    ctx.add_output(out.type(), d);
  }
}
void print_attrs(const LoopAttrs& a, AttrPrinter& p) {
  p.add("num_carried", a.num_carried);
  if (!a.scan_input_axes.empty()) p.add("scan_input_axes", a.scan_input_axes);
  if (!a.scan_input_reverse.empty()) p.add("scan_input_reverse", a.scan_input_reverse);
  if (!a.scan_output_axes.empty()) p.add("scan_output_axes", a.scan_output_axes);
  if (!a.scan_output_reverse.empty()) p.add("scan_output_reverse", a.scan_output_reverse);
  p.add("body_layers", a.body ? a.body->num_layers() : 0);
}

}  // namespace layerkit::detail
