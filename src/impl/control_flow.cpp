// if_conditional and loop: the Conditional and Loop layers, or their bodies inlined.
#include "layerkit/impl/control_flow.h"

#include <algorithm>
#include <map>

#include "layerkit/impl/squeeze.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::control_flow {

namespace {

std::optional<bool> known_bool(const Tensor* t) {
  if (!t) return std::nullopt;
  const KnownValues& k = t->known_values();
  if (t->type() != DataType::kBOOL || k.size() != 1 || !k[0]) return std::nullopt;
  return *k[0] != 0;
}

// Copies `body`'s layers into the context's network, its inputs read from `inputs`; returns the
// copies of its outputs. Layer names: sub_name(name, prefix + the body layer's name).
std::vector<Tensor*> inline_body(ConversionContext& ctx, const Target& target,
                                 std::optional<SourceIR> source_ir, std::string_view name,
                                 std::string_view prefix, const Network& body,
                                 std::span<Tensor* const> inputs) {
  LK_CHECK(static_cast<int>(inputs.size()) == body.num_inputs(), "the body has ", body.num_inputs(),
           " inputs but ", inputs.size(), " values are given");
  std::map<const Tensor*, Tensor*> map;
  for (int i = 0; i < body.num_inputs(); ++i) {
    const Tensor* in = body.input(i);
    Tensor* v = inputs[static_cast<size_t>(i)];
    LK_CHECK(v->type() == in->type() && v->dims().rank() == in->dims().rank(), "value ", i, " is ",
             describe(*v), " but body input '", in->name(), "' is ", describe(*in));
    map[in] = v;
  }
  for (int i = 0; i < body.num_layers(); ++i) {
    const Layer& l = *body.layer(i);
    if (l.kind() == LayerKind::kINPUT) continue;
    std::vector<Tensor*> ins;
    for (const Tensor* t : l.inputs()) ins.push_back(t ? map.at(t) : nullptr);
    Layer* copy = ctx.net().add_layer(l.attrs(), std::move(ins));
    set_layer_name(ctx, copy, target, source_ir, sub_name(name, detail::cat(prefix, l.name())));
    for (int k = 0; k < l.num_outputs(); ++k) map[l.output(k)] = copy->output(k);
  }
  std::vector<Tensor*> outs;
  for (int k = 0; k < body.num_outputs(); ++k) outs.push_back(map.at(body.output(k)));
  return outs;
}

Tensor* constant_of(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, Weights w) {
  Layer* l = ctx.net().add_constant(Dims{}, w);
  set_layer_name(ctx, l, target, source_ir, name);
  return l->output(0);
}

}  // namespace

std::vector<Tensor*> if_conditional(ConversionContext& ctx, const Target& target,
                                    std::optional<SourceIR> source_ir, std::string_view name,
                                    Tensor* condition, std::shared_ptr<const Network> then_body,
                                    std::shared_ptr<const Network> else_body,
                                    std::span<Tensor* const> inputs) {
  Operand c(condition);
  return guarded_multi(ctx, "control_flow::if_conditional", target, name, {&c}, [&] {
    LK_CHECK(condition != nullptr, "the condition is a null tensor");
    LK_CHECK(then_body && else_body, "a body is missing");
    for (Tensor* t : inputs) LK_CHECK(t != nullptr, "an input is a null tensor");
    // Adding the layer checks the bodies against each other even when one is inlined.
    if (const std::optional<bool> taken = known_bool(condition)) {
      {
        const NetworkMark mark = ctx.net().mark();
        ctx.net().add_conditional(condition, then_body, else_body, inputs);
        ctx.net().rollback(mark);
      }
      return inline_body(ctx, target, source_ir, name, *taken ? "then_" : "else_",
                         *taken ? *then_body : *else_body, inputs);
    }
    Layer* l = ctx.net().add_conditional(condition, then_body, else_body, inputs);
    set_layer_name(ctx, l, target, source_ir, name);
    return l->outputs();
  });
}

LoopResult loop(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, std::shared_ptr<const Network> body,
                const LoopInputs& inputs, const LoopOptions& options) {
  Operand m = inputs.trip_limit ? Operand(inputs.trip_limit) : Operand(int64_t{-1});
  std::vector<Tensor*> outs = guarded_multi(ctx, "control_flow::loop", target, name, {&m}, [&] {
    LK_CHECK(body != nullptr, "the body is missing");
    LoopAttrs a;
    a.body = body;
    a.scan_input_reverse = options.scan_input_reverse;
    a.scan_output_axes = options.scan_output_axes;
    a.scan_output_reverse = options.scan_output_reverse;
    for (size_t i = 0; i < options.scan_input_axes.size(); ++i) {
      LK_CHECK(i < inputs.scan_inputs.size() && inputs.scan_inputs[i], "scan input ", i,
               " is missing");
      a.scan_input_axes.push_back(static_cast<int32_t>(
          get_positive_dim(options.scan_input_axes[i], inputs.scan_inputs[i]->dims().rank())));
    }
    // The layer validates everything; unrolling replaces it only where the count is known.
    Layer* l = ctx.net().add_loop(a, inputs.trip_limit, inputs.condition, inputs.carried,
                                  inputs.scan_inputs, inputs.invariants);
    set_layer_name(ctx, l, target, source_ir, name);
    const int c = static_cast<int>(inputs.carried.size());
    const int r = body->num_outputs() - 1 - c;
    std::optional<int64_t> trips;
    if (inputs.trip_limit && inputs.trip_limit->known_values().size() == 1 &&
        inputs.trip_limit->known_values()[0])
      trips = std::max<int64_t>(*inputs.trip_limit->known_values()[0], 0);
    const bool never_stops = (!inputs.condition || known_bool(inputs.condition) == true) &&
                             known_bool(body->output(0)) == true;
    if (!trips || *trips == 0 || !never_stops || !inputs.scan_inputs.empty() ||
        *trips * body->num_layers() > options.max_unrolled_layers)
      return l->outputs();
    // Unrolled: the body once per iteration, the iteration and condition as constants.
    std::vector<Layer*> doomed{l};
    ctx.net().remove_layers(doomed);
    Tensor* yes = constant_of(ctx, target, source_ir, sub_name(name, "condition"),
                              Weights::from_vector(std::vector<bool>{true}));
    std::vector<Tensor*> carried = inputs.carried;
    std::vector<std::vector<Tensor*>> scans(static_cast<size_t>(r));
    for (int64_t t = 0; t < *trips; ++t) {
      const std::string it = detail::cat("iter", t, "_");
      std::vector<Tensor*> in{constant_of(ctx, target, source_ir, sub_name(name, it + "iteration"),
                                          Weights::from_vector(std::vector<int64_t>{t})),
                              yes};
      in.insert(in.end(), carried.begin(), carried.end());
      in.insert(in.end(), inputs.invariants.begin(), inputs.invariants.end());
      std::vector<Tensor*> o = inline_body(ctx, target, source_ir, name, it, *body, in);
      for (int i = 0; i < c; ++i) carried[static_cast<size_t>(i)] = o[static_cast<size_t>(1 + i)];
      for (int i = 0; i < r; ++i) {
        const int axis =
            options.scan_output_axes.empty() ? 0 : options.scan_output_axes[static_cast<size_t>(i)];
        scans[static_cast<size_t>(i)].push_back(
            squeeze::unsqueeze(ctx, target, source_ir, sub_name(name, detail::cat(it, "scan", i)),
                               o[static_cast<size_t>(1 + c + i)], axis));
      }
    }
    std::vector<Tensor*> result = carried;
    for (int i = 0; i < r; ++i) {
      std::vector<Tensor*>& parts = scans[static_cast<size_t>(i)];
      if (!options.scan_output_reverse.empty() &&
          options.scan_output_reverse[static_cast<size_t>(i)])
        std::reverse(parts.begin(), parts.end());
      const int axis =
          options.scan_output_axes.empty() ? 0 : options.scan_output_axes[static_cast<size_t>(i)];
      Layer* cat = ctx.net().add_concatenation(parts, axis);
      set_layer_name(ctx, cat, target, source_ir, sub_name(name, detail::cat("scan", i)));
      result.push_back(cat->output(0));
    }
    return result;
  });
  LoopResult res;
  const size_t c = inputs.carried.size();
  res.carried.assign(outs.begin(), outs.begin() + static_cast<std::ptrdiff_t>(c));
  res.scan_outputs.assign(outs.begin() + static_cast<std::ptrdiff_t>(c), outs.end());
  return res;
}

}  // namespace layerkit::impl::control_flow
