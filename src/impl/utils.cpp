// Naming, failure guard, type promotion, broadcasting and operand conversion for building blocks.
#include "layerkit/impl/utils.h"

#include <algorithm>
#include <cstring>

#include "core/element.h"

namespace layerkit::impl {

std::string sub_name(std::string_view name, std::string_view suffix) {
  return detail::cat(name, "_", suffix);
}

void check_target_and_name(const Target& target, std::string_view name) {
  LK_CHECK(!target.name.empty(),
           "the target is empty; pass the converted op's name (e.g. \"add.Tensor\"), which every "
           "layer name carries (Note [Layer naming])");
  LK_CHECK(!name.empty(), "target ", target.name,
           ": the name is empty; pass the converted node's name (e.g. \"layer1/add\"), from "
           "which the layer names are made (Note [Layer naming])");
}

void set_layer_name(ConversionContext& ctx, Layer* layer, const Target& target,
                    std::optional<SourceIR> source_ir, std::string_view name) {
  check_target_and_name(target, name);
  std::string base = detail::cat("[", layer_kind_upper_name(layer->kind()), "]-[",
                                 source_ir_name(source_ir.value_or(SourceIR::kUNKNOWN)), "_ops.",
                                 target.name, "]-[", name, "]");
  std::string full = base;
  for (int k = 1; ctx.net().find_layer(full) && ctx.net().find_layer(full) != layer; ++k)
    full = detail::cat(base, "_", k);
  layer->set_name(full);
  for (int i = 0; i < layer->num_outputs(); ++i) {
    std::string tname = layer->num_outputs() == 1 ? full : detail::cat(full, "_output", i);
    std::string candidate = tname;
    for (int k = 1;
         ctx.net().find_tensor(candidate) && ctx.net().find_tensor(candidate) != layer->output(i);
         ++k)
      candidate = detail::cat(tname, "_", k);
    layer->output(i)->set_name(candidate);
  }
}

Tensor* named_output(ConversionContext& ctx, Layer* layer, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name) {
  set_layer_name(ctx, layer, target, source_ir, name);
  return layer->output(0);
}

namespace {
// A tensor of another network is marked as such: its name may equal one of this network's.
std::string describe_operands(const Network& net, std::span<const Operand* const> operands) {
  std::string s = "(";
  bool first = true;
  for (const Operand* op : operands) {
    if (!first) s += ", ";
    first = false;
    s += op->describe();
    if (op->is_tensor() && op->tensor() && !net.owns(op->tensor()))
      s += " [a tensor of another network]";
  }
  return s + ")";
}

std::vector<Tensor*> guarded_described(ConversionContext& ctx, std::string_view block,
                                       const Target& target, std::string_view name,
                                       std::span<const Operand* const> operands,
                                       const std::function<std::vector<Tensor*>()>& body) {
  if (target.name.empty() || name.empty()) {
    try {
      check_target_and_name(target, name);
    } catch (const Error& e) {
      throw Error(e.code(), detail::cat(block, ": ", e.what()));
    }
  }
  NetworkMark mark = ctx.net().mark();
  try {
    return body();
  } catch (const Error& e) {
    ctx.net().rollback(mark);
    throw Error(e.code(),
                detail::cat(block, " (target ", target.name, ", name '", name, "', operands ",
                            describe_operands(ctx.net(), operands), "): ", e.what()));
  }
}
}  // namespace

std::vector<Tensor*> guarded_multi(ConversionContext& ctx, std::string_view block,
                                   const Target& target, std::string_view name,
                                   std::initializer_list<const Operand*> operands,
                                   const std::function<std::vector<Tensor*>()>& body) {
  return guarded_described(ctx, block, target, name,
                           std::span<const Operand* const>(operands.begin(), operands.size()),
                           body);
}

Tensor* guarded_list(ConversionContext& ctx, std::string_view block, const Target& target,
                     std::string_view name, std::span<const Operand> operands,
                     const std::function<Tensor*()>& body) {
  std::vector<const Operand*> ptrs;
  for (const Operand& op : operands) ptrs.push_back(&op);
  return guarded_described(ctx, block, target, name, ptrs,
                           [&] { return std::vector<Tensor*>{body()}; })
      .front();
}

Tensor* guarded(ConversionContext& ctx, std::string_view block, const Target& target,
                std::string_view name, std::initializer_list<const Operand*> operands,
                const std::function<Tensor*()>& body) {
  return guarded_multi(ctx, block, target, name, operands,
                       [&] { return std::vector<Tensor*>{body()}; })
      .front();
}

// ---- Note [Type promotion] ----

namespace {
enum class Category { kBOOL, kINTEGER, kFLOATING };
Category category(DataType t) {
  if (t == DataType::kBOOL) return Category::kBOOL;
  return is_floating(t) ? Category::kFLOATING : Category::kINTEGER;
}
int int_rank(DataType t) {
  switch (t) {
    case DataType::kUINT8:
      return 1;
    case DataType::kINT8:
      return 2;
    case DataType::kINT32:
      return 3;
    case DataType::kINT64:
      return 4;
    default:
      return 0;
  }
}
void check_promotable(DataType t) {
  LK_CHECK(t == DataType::kBOOL || t == DataType::kUINT8 || t == DataType::kINT8 ||
               t == DataType::kINT32 || t == DataType::kINT64 || t == DataType::kHALF ||
               t == DataType::kBF16 || t == DataType::kFLOAT,
           "type promotion: ", data_type_name(t),
           " does not take part in arithmetic promotion; dequantize or cast it first");
}
}  // namespace

DataType promote_types(DataType a, DataType b) {
  check_promotable(a);
  check_promotable(b);
  if (a == b) return a;
  Category ca = category(a), cb = category(b);
  if (ca != cb) {
    if (ca == Category::kFLOATING) return a;
    if (cb == Category::kFLOATING) return b;
    return ca == Category::kINTEGER ? a : b;  // integer beats bool
  }
  if (ca == Category::kFLOATING) return DataType::kFLOAT;  // fp16 vs bf16 (or either vs fp32)
  // Integers: uint8 with int8 needs int16, which layerkit lacks: int32.
  if ((a == DataType::kUINT8 && b == DataType::kINT8) ||
      (a == DataType::kINT8 && b == DataType::kUINT8))
    return DataType::kINT32;
  return int_rank(a) > int_rank(b) ? a : b;
}

DataType operand_type(const Operand& op) {
  if (op.is_tensor()) {
    LK_CHECK(op.tensor() != nullptr, "operand is a null tensor");
    return op.tensor()->type();
  }
  if (op.is_int()) return DataType::kINT64;
  if (op.is_float()) return DataType::kFLOAT;
  if (op.is_bool()) return DataType::kBOOL;
  const HostConstant& c = op.host_constant();
  return c.doubles.empty() ? c.weights.type() : DataType::kFLOAT;
}

namespace {
// torch's combine_categories: a lower-priority group counts only when its category is higher.
std::optional<DataType> combine(std::optional<DataType> higher, std::optional<DataType> lower) {
  if (!higher) return lower;
  if (!lower) return higher;
  if (category(*higher) == Category::kFLOATING) return higher;
  if (category(*lower) > category(*higher)) return promote_types(*higher, *lower);
  return higher;
}
}  // namespace

DataType result_type(std::span<const Operand* const> operands) {
  std::optional<DataType> dim, zero, scalar;
  auto fold = [](std::optional<DataType>& acc, DataType t) {
    acc = acc ? promote_types(*acc, t) : t;
  };
  for (const Operand* op : operands) {
    DataType t = operand_type(*op);
    if (op->is_scalar()) {
      fold(scalar, t);
    } else {
      fold(op->rank() > 0 ? dim : zero, t);
    }
  }
  std::optional<DataType> r = combine(dim, combine(zero, scalar));
  LK_CHECK(r.has_value(), "type promotion needs at least one operand");
  return *r;
}

DataType result_type(std::initializer_list<const Operand*> operands) {
  return result_type(std::span<const Operand* const>(operands.begin(), operands.size()));
}

// ---- casts and constants ----

DataType compute_type(DataType t) {
  return t == DataType::kHALF || t == DataType::kBF16 ? DataType::kFLOAT : t;
}

Tensor* cast_to(ConversionContext& ctx, Tensor* t, DataType type, const Target& target,
                std::optional<SourceIR> source_ir, std::string_view name) {
  if (t->type() == type) return t;
  return named_output(ctx, ctx.net().add_cast(t, type), target, source_ir, name);
}

namespace {
// Encodes `count` copies of a value into a Weights of `type` (Note [Scalar conversions]); ints
// are stored exactly when `exact_int` is given.
Weights fill_weights(DataType type, int64_t count, double v, std::optional<int64_t> exact_int) {
  LK_CHECK(!is_sub_byte(type) && type != DataType::kFP8 && type != DataType::kE8M0,
           "cannot make a ", data_type_name(type),
           " constant from a scalar; quantize a float constant instead");
  Weights w = Weights::zeros(type, count);
  void* p = const_cast<void*>(w.data());
  for (int64_t i = 0; i < count; ++i) {
    if (exact_int && !is_floating(type))
      store_i(type, p, i, *exact_int);
    else
      store_f(type, p, i, static_cast<float>(v));
  }
  return w;
}
}  // namespace

Tensor* scalar_constant(ConversionContext& ctx, double value, DataType type, const Dims& dims,
                        const Target& target, std::optional<SourceIR> source_ir,
                        std::string_view name) {
  return named_output(
      ctx, ctx.net().add_constant(dims, fill_weights(type, dims.volume(), value, std::nullopt)),
      target, source_ir, name);
}

Tensor* to_tensor(ConversionContext& ctx, const Operand& op, DataType type, int rank,
                  const Target& target, std::optional<SourceIR> source_ir, std::string_view name) {
  if (op.is_tensor()) {
    LK_CHECK(op.tensor() != nullptr, "operand is a null tensor");
    return cast_to(ctx, op.tensor(), type, target, source_ir, sub_name(name, "cast"));
  }
  if (op.is_scalar()) {
    Dims dims = Dims::of_rank(rank, 1);
    std::optional<int64_t> exact =
        op.is_int() ? std::optional<int64_t>(op.int_value()) : std::nullopt;
    Weights w = fill_weights(type, 1, op.as_double(), exact);
    return named_output(ctx, ctx.net().add_constant(dims, w), target, source_ir,
                        sub_name(name, "scalar"));
  }
  const HostConstant& c = op.host_constant();
  Weights w = c.weights;
  if (!c.doubles.empty()) {
    LK_CHECK(ctx.settings().doubles == DoublePolicy::kTRUNCATE_WITH_WARNING, "constant ",
             c.dims.to_string(),
             " holds float64 values, which no layer accepts, and the context "
             "rejects them (ConversionSettings::doubles); cast it to float32 first");
    ctx.warn(detail::cat("'", name, "': float64 constant ", c.dims.to_string(),
                         " truncated to float32"));
    std::vector<float> f(c.doubles.begin(), c.doubles.end());
    w = Weights::from_vector(DataType::kFLOAT, f);
  }
  Tensor* constant = named_output(ctx, ctx.net().add_constant(c.dims, w), target, source_ir,
                                  sub_name(name, "constant"));
  return cast_to(ctx, constant, type, target, source_ir, sub_name(name, "constant_cast"));
}

// ---- Note [Broadcasting] ----

Dims broadcast_shape(const Dims& a, const Dims& b) {
  int rank = std::max(a.rank(), b.rank());
  Dims out = Dims::of_rank(rank);
  for (int i = 0; i < rank; ++i) {
    int ia = i - (rank - a.rank()), ib = i - (rank - b.rank());
    int64_t x = ia >= 0 ? a[ia] : 1, y = ib >= 0 ? b[ib] : 1;
    if (x == y || y == 1) {
      out[i] = x;
    } else if (x == 1) {
      out[i] = y;
    } else if (x == -1 || y == -1) {
      out[i] = x == -1 ? y : x;
    } else {
      LK_FAIL(kINVALID_ARGUMENT, "shapes ", a.to_string(), " and ", b.to_string(),
              " do not broadcast: sizes ", x, " and ", y, " at output axis ", i);
    }
  }
  return out;
}

Tensor* prepend_ones(ConversionContext& ctx, Tensor* t, int rank, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name) {
  const Dims& d = t->dims();
  if (d.rank() >= rank) return t;
  int extra = rank - d.rank();
  int dynamic = static_cast<int>(std::count(d.begin(), d.end(), int64_t{-1}));
  Layer* l = nullptr;
  if (dynamic <= 1) {
    Dims target_dims = Dims::of_rank(rank, 1);
    for (int i = 0; i < d.rank(); ++i) target_dims[extra + i] = d[i];
    ShuffleAttrs s;
    s.reshape_dims = target_dims;
    s.zero_is_placeholder = false;
    l = ctx.net().add_shuffle(t, s);
  } else {
    Tensor* shape =
        named_output(ctx, ctx.net().add_shape(t), target, source_ir, sub_name(name, "shape"));
    std::vector<int64_t> ones(static_cast<size_t>(extra), 1);
    Tensor* c = named_output(
        ctx, ctx.net().add_constant({extra}, Weights::from_vector(DataType::kINT64, ones)), target,
        source_ir, sub_name(name, "ones"));
    std::vector<Tensor*> parts{c, shape};
    Tensor* cat = named_output(ctx, ctx.net().add_concatenation(parts, 0), target, source_ir,
                               sub_name(name, "new_shape"));
    l = ctx.net().add_shuffle(t, {}, cat);
  }
  return named_output(ctx, l, target, source_ir, sub_name(name, "broadcast"));
}

std::vector<Tensor*> broadcast(ConversionContext& ctx, std::span<Tensor* const> tensors,
                               const Target& target, std::optional<SourceIR> source_ir,
                               std::string_view name) {
  int rank = 0;
  Dims shape;
  for (Tensor* t : tensors) {
    rank = std::max(rank, t->dims().rank());
    shape = broadcast_shape(shape, t->dims());  // fails before any layer is added
  }
  std::vector<Tensor*> out;
  for (size_t i = 0; i < tensors.size(); ++i)
    out.push_back(prepend_ones(ctx, tensors[i], rank, target, source_ir,
                               tensors.size() == 2 ? sub_name(name, i == 0 ? "lhs" : "rhs")
                                                   : sub_name(name, detail::cat("in", i))));
  return out;
}

// ---- Note [Reshape by input dims] ----

Tensor* reshape_groups(ConversionContext& ctx, Tensor* t,
                       const std::vector<std::vector<int>>& groups, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name) {
  const Dims& d = t->dims();
  Dims out = Dims::of_rank(static_cast<int>(groups.size()));
  int dynamic = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    int64_t p = 1;
    for (int i : groups[g]) {
      LK_ASSERT(i >= 0 && i < d.rank(), "reshape group names dim ", i, " of ", d.to_string());
      p = d[i] < 0 || p < 0 ? -1 : p * d[i];
    }
    // A static 0 makes the product 0 whatever the dynamic dims are.
    for (int i : groups[g])
      if (d[i] == 0) p = 0;
    out[static_cast<int>(g)] = p;
    dynamic += p < 0 ? 1 : 0;
  }
  // The Shuffle cannot infer a -1 beside a literal 0; the run-time shape has no -1.
  bool has_zero = std::count(out.begin(), out.end(), int64_t{0}) > 0;
  Layer* l = nullptr;
  if (dynamic == 0 || (dynamic == 1 && !has_zero)) {
    ShuffleAttrs s;
    s.reshape_dims = out;
    s.zero_is_placeholder = false;
    l = ctx.net().add_shuffle(t, s);
  } else {
    Tensor* shape =
        named_output(ctx, ctx.net().add_shape(t), target, source_ir, sub_name(name, "shape"));
    auto int64_constant = [&](std::vector<int64_t> v, const std::string& n) {
      return named_output(ctx,
                          ctx.net().add_constant({static_cast<int64_t>(v.size())},
                                                 Weights::from_vector(DataType::kINT64, v)),
                          target, source_ir, n);
    };
    std::vector<Tensor*> parts;
    for (size_t g = 0; g < groups.size(); ++g) {
      std::string part = sub_name(name, detail::cat("dim", g));
      int64_t size = out[static_cast<int>(g)];
      if (size >= 0) {
        parts.push_back(int64_constant({size}, part));
        continue;
      }
      std::vector<int64_t> idx(groups[g].begin(), groups[g].end());
      Tensor* ids = int64_constant(idx, sub_name(part, "indices"));
      Layer* gather = ctx.net().add_gather(shape, ids, 0);
      Tensor* dims = gather->output(0);
      if (idx.size() == 1) {
        set_layer_name(ctx, gather, target, source_ir, part);
      } else {
        set_layer_name(ctx, gather, target, source_ir, sub_name(part, "gather"));
        dims = named_output(ctx, ctx.net().add_reduce(dims, ReduceOperation::kPROD, 1u, true),
                            target, source_ir, part);
      }
      parts.push_back(dims);
    }
    Tensor* cat = named_output(ctx, ctx.net().add_concatenation(parts, 0), target, source_ir,
                               sub_name(name, "new_shape"));
    ShuffleAttrs s;
    s.zero_is_placeholder = false;
    l = ctx.net().add_shuffle(t, s, cat);
  }
  return named_output(ctx, l, target, source_ir, name);
}

// ---- Note [Negative dims] ----

int get_positive_dim(int64_t dim, int rank) {
  int64_t lo = rank == 0 ? -1 : -rank, hi = rank == 0 ? 0 : rank - 1;
  LK_CHECK(dim >= lo && dim <= hi, "dim ", dim, " is out of range for a rank-", rank,
           " tensor (expected ", lo, "..", hi, ")");
  return static_cast<int>(dim < 0 ? dim + std::max(rank, 1) : dim);
}

}  // namespace layerkit::impl
