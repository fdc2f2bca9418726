// Shape/type inference and attribute printing per layer kind (internal to network/ and runtime/).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "layerkit/core/error.h"
#include "layerkit/network/layers.h"
#include "layerkit/network/network.h"

namespace layerkit::detail {

// What inference knows of one tensor.
struct ValueDesc {
  DataType type = DataType::kFLOAT;
  Dims dims;
  // Known element values (integer tensors of at most kMaxKnownValues elements); see KnownValues.
  KnownValues known;
  // The tensor's elements on the host, when available: at run time for every tensor (sub-byte
  // types unpacked, one element per byte), at build time for constants of byte-sized types.
  const void* host_data = nullptr;
};

inline constexpr int64_t kMaxKnownValues = 64;

// Gives one kind's inference function its inputs, collects outputs, and builds error messages
// that name the layer and state every input's type and dims.
class InferCtx {
 public:
  InferCtx(std::string_view layer_name, LayerKind kind, std::span<const ValueDesc* const> inputs,
           bool runtime)
      : name_(layer_name), kind_(kind), inputs_(inputs), runtime_(runtime) {}

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  bool has_input(int i) const {
    return i < num_inputs() && inputs_[static_cast<size_t>(i)] != nullptr;
  }
  const ValueDesc& input(int i) const;
  // True while an engine executes (every dim is known then); false at network-building time.
  bool at_runtime() const { return runtime_; }

  // All values of integer input `i` when every one is known, else nullopt.
  std::optional<std::vector<int64_t>> int_values(int i) const;

  void add_output(DataType type, const Dims& dims, KnownValues known = {});
  std::vector<ValueDesc>& outputs() { return outputs_; }

  // Throws kINVALID_ARGUMENT (kRUNTIME while an engine executes): "<Kind> layer '<name>':
  // <message>; inputs: (...)".
  template <typename... Args>
  [[noreturn]] void fail(const Args&... args) const {
    throw_with(::layerkit::detail::cat(args...));
  }
  template <typename... Args>
  void check(bool cond, const Args&... args) const {
    if (!cond) throw_with(::layerkit::detail::cat(args...));
  }
  std::string describe_inputs() const;
  std::string_view layer_name() const { return name_; }

 private:
  [[noreturn]] void throw_with(const std::string& message) const;
  std::string_view name_;
  LayerKind kind_;
  std::span<const ValueDesc* const> inputs_;
  bool runtime_;
  std::vector<ValueDesc> outputs_;
};

// Collects "key=value" pairs for the text form; values print deterministically.
class AttrPrinter {
 public:
  void add(std::string_view key, const std::string& value);
  void add(std::string_view key, std::string_view value) { add(key, std::string(value)); }
  void add(std::string_view key, const char* value) { add(key, std::string(value)); }
  void add(std::string_view key, int64_t v) { add(key, std::to_string(v)); }
  void add(std::string_view key, int32_t v) { add(key, std::to_string(v)); }
  void add(std::string_view key, uint32_t v) { add(key, std::to_string(v)); }
  void add(std::string_view key, uint64_t v) { add(key, std::to_string(v)); }
  void add(std::string_view key, bool v) { add(key, std::string(v ? "true" : "false")); }
  void add(std::string_view key, double v);
  void add(std::string_view key, float v) { add(key, static_cast<double>(v)); }
  void add(std::string_view key, const Dims& d) { add(key, d.to_string()); }
  void add(std::string_view key, DataType t) { add(key, data_type_name(t)); }
  void add(std::string_view key, const Weights& w);  // "float32[N]" (values are not printed)
  void add(std::string_view key, const std::vector<int32_t>& v);
  void add(std::string_view key, const std::vector<float>& v);
  void add(std::string_view key, const std::vector<double>& v);
  template <typename E>
  requires std::is_enum_v<E>
  void add(std::string_view key, E v) { add(key, enum_name(v)); }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

// One inference and one printing function per kind, defined in src/network/layers/<family>.cpp.
#define LK_LAYER_KIND(e, name, attrs)        \
  void infer(const attrs& a, InferCtx& ctx); \
  void print_attrs(const attrs& a, AttrPrinter& p);
#include "layerkit/network/layer_kinds.def"
#undef LK_LAYER_KIND

// Runs the kind's inference on `inputs`; returns the outputs or throws.
std::vector<ValueDesc> infer_layer(const LayerAttrs& attrs, std::string_view layer_name,
                                   std::span<const ValueDesc* const> inputs, bool runtime);

// The bodies a layer holds (Note [Control-flow bodies]), labelled "then", "else", "body"; empty
// for every other kind.
std::vector<std::pair<std::string_view, const Network*>> bodies_of(const LayerAttrs& attrs);

// Note [Body evaluation]
// A Conditional's or Loop's output dims may depend on values (the condition, the trip count, a
// body whose shapes change per iteration), so inference at run time runs the bodies. network/
// cannot run a network (the executors sit above it), so the CPU runtime, which can, registers
// the function that does: given every input's host data it returns the outputs' descriptions
// (src/runtime/cpu/control_flow.cpp keeps the values, and the layer's kernel then only copies
// them). Without it, or without host data for an input, inference gives the build-time answer
// (-1 for data-dependent dims).
using ControlFlowEvaluator = std::vector<ValueDesc> (*)(const LayerAttrs& attrs,
                                                        std::string_view layer_name,
                                                        std::span<const ValueDesc* const> inputs);
void set_control_flow_evaluator(ControlFlowEvaluator f);
ControlFlowEvaluator control_flow_evaluator();

// ---- shared inference helpers (Note [Broadcasting] and axis rules live here) ----

// Note [Broadcasting]
// TensorRT layers broadcast without rank extension: both operands have the same rank and each
// dim pair is equal or one side is 1 (a dynamic -1 against 1 gives -1; -1 against n gives n).
// Building blocks insert the rank-extending reshape themselves before calling such layers.
Dims broadcast_dims(const InferCtx& ctx, const Dims& a, const Dims& b);
// Normalises a possibly negative axis for a tensor of `rank`, failing with the valid range.
int normalize_axis(const InferCtx& ctx, int64_t axis, int rank, std::string_view what = "axis");
// Checks that `mask` selects only axes below `rank`; returns the selected axes in order.
std::vector<int> axes_from_mask(const InferCtx& ctx, AxesMask mask, int rank);
// Fails unless `t` is one of `allowed`, naming the input.
void check_type(const InferCtx& ctx, int input, std::initializer_list<DataType> allowed);
std::string type_list(std::initializer_list<DataType> types);

}  // namespace layerkit::detail
