// Inference and printing for the ElementWise, Unary, Select kinds.
#include "network/infer.h"
#include "network/layers/elementwise_ops.h"

namespace layerkit::detail {

namespace {

constexpr DataType kF32 = DataType::kFLOAT, kF16 = DataType::kHALF, kBF16 = DataType::kBF16,
                   kI8 = DataType::kINT8, kI32 = DataType::kINT32, kI64 = DataType::kINT64,
                   kBool = DataType::kBOOL;

bool static_small(const Dims& d) {
  return d.is_static() && d.volume() <= kMaxKnownValues;
}

// Known values of a broadcast n-ary element-wise result: `f` gets each output element's known
// operand values and returns the value, or nullopt to leave it unknown. Empty unless every
// operand's value list is tracked and the output is small and static.
template <typename F>
KnownValues fold_broadcast(const Dims& out, std::initializer_list<const ValueDesc*> ins, F f) {
  if (!static_small(out)) return {};
  for (const ValueDesc* v : ins)
    if (!static_small(v->dims) || static_cast<int64_t>(v->known.size()) != v->dims.volume())
      return {};
  KnownValues known;
  std::vector<int64_t> idx(static_cast<size_t>(out.rank()), 0);
  for (int64_t i = 0; i < out.volume(); ++i) {
    std::vector<int64_t> vals;
    bool all = true;
    for (const ValueDesc* v : ins) {
      int64_t off = 0;
      for (int d = 0; d < out.rank(); ++d)
        off = off * v->dims[d] + (v->dims[d] == 1 ? 0 : idx[static_cast<size_t>(d)]);
      const auto& e = v->known[static_cast<size_t>(off)];
      if (!e) {
        all = false;
        break;
      }
      vals.push_back(*e);
    }
    known.push_back(all ? f(vals) : std::nullopt);
    for (int d = out.rank() - 1; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < out[d]) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
  return known;
}

bool tracks_values(DataType t) {
  return t == kI8 || t == kI32 || t == kI64 || t == kBool;
}

}  // namespace

void infer(const ElementWiseAttrs& a, InferCtx& ctx) {
  using E = ElementWiseOperation;
  ctx.check(ctx.num_inputs() == 2, "ElementWise takes 2 inputs, got ", ctx.num_inputs());
  ctx.check(a.op >= E::kSUM && a.op <= E::kBITWISE_XOR, "operation ", static_cast<int>(a.op),
            " is not an ElementWiseOperation (expected 0..", static_cast<int>(E::kBITWISE_XOR),
            ")");
  const ValueDesc& x = ctx.input(0);
  const ValueDesc& y = ctx.input(1);
  ctx.check(x.type == y.type, "operand types differ (", data_type_name(x.type), " and ",
            data_type_name(y.type), "); ", enum_name(a.op), " needs equal types");
  // Accepted types per TensorRT's ElementWise operator table (TensorRT 10).
  if (is_logical(a.op)) {
    check_type(ctx, 0, {kBool});
  } else if (is_bitwise(a.op)) {
    check_type(ctx, 0, {DataType::kUINT8, kI8, kI32, kI64, kBool});
  } else if (is_comparison(a.op)) {
    check_type(ctx, 0, {kF32, kF16, kBF16, kI32, kI64});
  } else {
    check_type(ctx, 0, {kF32, kF16, kBF16, kI8, kI32, kI64});
  }
  Dims out = broadcast_dims(ctx, x.dims, y.dims);
  DataType out_type = is_comparison(a.op) ? kBool : x.type;
  KnownValues known;
  if (tracks_values(x.type)) {
    known = fold_broadcast(out, {&x, &y}, [&](const std::vector<int64_t>& v) {
      std::optional<int64_t> r = elementwise_int(a.op, v[0], v[1]);
      return r ? std::optional<int64_t>(wrap_int(out_type, *r)) : std::nullopt;
    });
  }
  ctx.add_output(out_type, out, std::move(known));
}
void print_attrs(const ElementWiseAttrs& a, AttrPrinter& p) {
  p.add("op", a.op);
}

void infer(const UnaryAttrs& a, InferCtx& ctx) {
  using U = UnaryOperation;
  ctx.check(ctx.num_inputs() == 1, "Unary takes 1 input, got ", ctx.num_inputs());
  ctx.check(a.op >= U::kEXP && a.op <= U::kISNAN, "operation ", static_cast<int>(a.op),
            " is not a UnaryOperation (expected 0..", static_cast<int>(U::kISNAN), ")");
  const ValueDesc& x = ctx.input(0);
  switch (a.op) {
    case U::kNOT:
      check_type(ctx, 0, {kBool});
      break;
    case U::kABS:
    case U::kNEG:
    case U::kSIGN:
      check_type(ctx, 0, {kF32, kF16, kBF16, kI8, kI32, kI64});
      break;
    default:
      check_type(ctx, 0, {kF32, kF16, kBF16});
      break;
  }
  DataType out_type = (a.op == U::kISINF || a.op == U::kISNAN) ? kBool : x.type;
  KnownValues known;
  if (tracks_values(x.type)) {
    known = fold_broadcast(x.dims, {&x}, [&](const std::vector<int64_t>& v) {
      return std::optional<int64_t>(wrap_int(out_type, unary_int(a.op, v[0])));
    });
  }
  ctx.add_output(out_type, x.dims, std::move(known));
}
void print_attrs(const UnaryAttrs& a, AttrPrinter& p) {
  p.add("op", a.op);
}

void infer(const SelectAttrs&, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 3, "Select takes 3 inputs (condition, then, else), got ",
            ctx.num_inputs());
  const ValueDesc& c = ctx.input(0);
  const ValueDesc& t = ctx.input(1);
  const ValueDesc& e = ctx.input(2);
  ctx.check(c.type == kBool, "condition (input 0) has type ", data_type_name(c.type),
            "; expected bool");
  ctx.check(t.type == e.type, "then (input 1) and else (input 2) types differ (",
            data_type_name(t.type), " and ", data_type_name(e.type), ")");
  ctx.check(!is_sub_byte(t.type), "Select does not take sub-byte type ", data_type_name(t.type));
  Dims out = broadcast_dims(ctx, broadcast_dims(ctx, c.dims, t.dims), e.dims);
  KnownValues known;
  if (tracks_values(t.type)) {
    known = fold_broadcast(out, {&c, &t, &e}, [](const std::vector<int64_t>& v) {
      return std::optional<int64_t>(v[0] ? v[1] : v[2]);
    });
  }
  ctx.add_output(t.type, out, std::move(known));
}
void print_attrs(const SelectAttrs&, AttrPrinter&) {}

}  // namespace layerkit::detail
