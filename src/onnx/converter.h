// Internal interface between the importer and the per-op converters (src/onnx/*_ops.cpp).
#pragma once

#include <onnx/onnx_pb.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layerkit/impl/context.h"
#include "layerkit/impl/utils.h"
#include "layerkit/onnx/importer.h"

namespace layerkit::onnx::detail {

namespace pb = ::onnx;

// A value known at import time: an initializer or the output of a Constant node.
struct HostTensor {
  DataType type = DataType::kFLOAT;
  Dims dims;
  Weights weights;
  int64_t count() const { return weights.count(); }
  // Elements as int64 (integer and bool types) or double (floating types).
  std::vector<int64_t> ints() const;
  std::vector<double> doubles() const;
};

// Decodes raw_data, the typed fields or external data (looked up in base_dir). float64 becomes
// fp32 (with a warning) or an error per `doubles`.
HostTensor decode_tensor(const pb::TensorProto& t, const std::string& base_dir,
                         impl::DoublePolicy doubles, std::vector<std::string>* warnings);
std::optional<DataType> to_data_type(int32_t onnx_type);
std::string onnx_type_name(int32_t onnx_type);

// What converters and checks see of a node.
class NodeView {
 public:
  NodeView(const pb::NodeProto& node, int index, int64_t opset,
           const std::map<std::string, std::shared_ptr<HostTensor>>* constants);
  const pb::NodeProto& node() const { return node_; }
  int index() const { return index_; }
  const std::string& op_type() const { return node_.op_type(); }
  // The node's name, or "<op>_<index>" when it has none: the `name` of its building blocks.
  const std::string& name() const { return name_; }
  int64_t opset() const { return opset_; }

  int num_inputs() const { return node_.input_size(); }
  bool has_input(int i) const { return i < node_.input_size() && !node_.input(i).empty(); }
  // The input's value when known at import time, else null.
  const HostTensor* constant_input(int i) const;
  // A constant integer input (e.g. opset-18 ReduceX axes); throws naming the node if it is not,
  // with `why` no layer can take the value at run time when given.
  std::vector<int64_t> ints_input(int i, std::string_view what, std::string_view why = {}) const;
  // The same for an input that must hold exactly one value (a scalar or a one-element tensor,
  // e.g. TopK's K); throws naming the node and the element count otherwise.
  int64_t int_input(int i, std::string_view what, std::string_view why = {}) const;

  // A constant floating input as doubles; throws naming the node if it is not constant.
  std::vector<double> doubles_input(int i, std::string_view what, std::string_view why = {}) const;
  double double_input(int i, std::string_view what, std::string_view why = {}) const;

  const pb::AttributeProto* attr(std::string_view name) const;
  int64_t attr_int(std::string_view name, int64_t fallback) const;
  float attr_float(std::string_view name, float fallback) const;
  std::string attr_string(std::string_view name, std::string fallback) const;
  std::optional<std::vector<int64_t>> attr_ints(std::string_view name) const;
  // An int list from the attribute before `input_since` and from input `input_index` from then
  // on (ReduceX axes, Split sizes, Pad axes, ...); nullopt when absent.
  std::optional<std::vector<int64_t>> attr_or_input_ints(std::string_view name, int input_index,
                                                         int64_t input_since,
                                                         std::string_view why = {}) const;

  // The attribute `name` (default `fallback`) as an axis of a rank-`rank` tensor, negative
  // values counting from the end; fails naming the node when out of range.
  int64_t axis_attr(std::string_view name, int64_t fallback, int64_t rank) const;
  // Normalizes `axis` against `rank` or fails naming `what` and the node.
  int64_t normalize_axis(int64_t axis, int64_t rank, std::string_view what) const;

  // "node 3 'conv1' (Conv)"
  std::string where() const;
  [[noreturn]] void fail(ErrorCode code, const std::string& message) const;

 private:
  const pb::NodeProto& node_;
  int index_;
  int64_t opset_;
  std::string name_;
  const std::map<std::string, std::shared_ptr<HostTensor>>* constants_;
};

class Importer;

// Note [Subgraphs]
// An If branch or a Loop/Scan body becomes a network of its own (Note [Control-flow bodies] in
// layerkit/network/layers.h). ONNX scopes subgraphs lexically: a subgraph reads any value of the
// scopes around it by name. Outer constants (initializers, Constant outputs, folded values) are
// constants inside too; every other outer value it reads is captured: it becomes a body input,
// after the leading inputs the converter declares, and the layer passes the outer tensor there.
struct BodyInput {
  std::string name;  // the subgraph's name for it ("" when the subgraph has none)
  DataType type = DataType::kFLOAT;
  Dims dims;
};
struct Subgraph {
  std::shared_ptr<Network> body;  // inputs: the leading ones, then one per captured value
  std::vector<Tensor*> outputs;   // the subgraph's outputs (not marked), in its order
  std::vector<Tensor*> captured;  // outer tensors, one per body input after the leading ones
};
// The names a subgraph (and the subgraphs inside it) reads without defining them.
std::vector<std::string> free_names(const pb::GraphProto& g);

// A node being converted: inputs as network tensors, outputs bound back to ONNX names.
class NodeContext : public NodeView {
 public:
  NodeContext(const NodeView& view, impl::ConversionContext& ctx, Importer& importer)
      : NodeView(view), ctx_(ctx), importer_(importer) {}
  impl::ConversionContext& ctx() const { return ctx_; }
  Network& net() const { return ctx_.net(); }
  // The input as a tensor (initializers and constants become Constant layers on first use).
  Tensor* input(int i) const;
  // input(i), or null when the optional input is absent.
  Tensor* optional_input(int i) const { return has_input(i) ? input(i) : nullptr; }
  // Binds output i. A constant result may also be recorded as known (Constant nodes).
  void set_output(int i, Tensor* t) const;
  void set_constant_output(int i, std::shared_ptr<HostTensor> value) const;
  // Converts subgraph `g` (Note [Subgraphs]); the outer values named in `capture_first` that are
  // not constants are captured first, in that order (so two branches capture alike).
  Subgraph subgraph(const pb::GraphProto& g, const std::vector<BodyInput>& leading,
                    const std::vector<std::string>& capture_first = {}) const;

 private:
  impl::ConversionContext& ctx_;
  Importer& importer_;
};

constexpr auto kONNX = impl::SourceIR::kONNX;

// Names a layer a converter adds directly (where no building block has ONNX's semantics): the
// node's name, or sub_name(name, suffix) for an intermediate layer. Returns output 0.
inline Tensor* named(const NodeContext& n, Layer* l, std::string_view suffix = {}) {
  return impl::named_output(n.ctx(), l, n.op_type(), kONNX,
                            suffix.empty() ? n.name() : impl::sub_name(n.name(), suffix));
}
// sub_name(n.name(), suffix): the name of an intermediate building-block call.
inline std::string sub(const NodeView& n, std::string_view suffix) {
  return impl::sub_name(n.name(), suffix);
}
// HostConstant operand of a constant input (so weights become layer weights), else its tensor.
inline impl::Operand weight_operand(const NodeContext& n, int i) {
  if (const HostTensor* h = n.constant_input(i)) return impl::HostConstant{h->dims, h->weights, {}};
  return n.input(i);
}

// Shared by the quantized converters (quantize_ops.cpp): saturate(round_half_even(x / scale) +
// zero_point) in `to` (int8 or uint8), named `name`; and (input q - input zp) * input scale in
// fp32, per-channel scales and zero points (rank 1, more than one entry) placed on `axis`.
Tensor* quantize_math(NodeContext& n, Tensor* x, Tensor* scale, Tensor* zp, DataType to,
                      const std::string& name);
Tensor* dequantized(NodeContext& n, int q, int scale, int zp, int axis, const std::string& what);

// Spatial attributes of the convolutions and the pools (conv_ops.cpp), one entry per spatial axis.
struct Window {
  std::vector<int64_t> kernel, stride, dilation, pre, post;
};
// Reads strides, dilations and pads (explicit or auto_pad SAME_*/VALID) for `kernel`; auto_pad
// SAME needs static spatial dims of `x`.
Window window(const NodeView& n, Tensor* x, std::vector<int64_t> kernel);

// A node-level check run by the check pass: a reason when the node cannot be converted.
using CheckFn = std::function<std::optional<std::string>(const NodeView&)>;
using ConvertFn = std::function<void(NodeContext&)>;

struct OpConverter {
  ConvertFn convert;
  CheckFn check;  // optional
  // Inputs whose values the converter may need when the network is built (axes, shapes, k, pads,
  // ...): an initializer, a Constant output, a value folded while importing (Note [Import-time
  // folding]) or a graph input bound through ImportOptions::input_values; where the layers can
  // take it at run time, a shape tensor computed in the graph.
  std::vector<int> build_time_inputs = {};
};

using Registry = std::map<std::string, OpConverter, std::less<>>;
const Registry& registry();

// Registration, one function per op family (explicit calls: a static library drops unused
// self-registering objects).
void register_elementwise_ops(Registry& r);
void register_activation_ops(Registry& r);
void register_quantize_ops(Registry& r);
void register_select_ops(Registry& r);
void register_cast_ops(Registry& r);
void register_shape_ops(Registry& r);
void register_tensor_ops(Registry& r);
void register_conv_ops(Registry& r);
void register_pool_ops(Registry& r);
void register_normalization_ops(Registry& r);
void register_matmul_ops(Registry& r);
void register_reduce_ops(Registry& r);
void register_resize_ops(Registry& r);
void register_loss_ops(Registry& r);
void register_index_ops(Registry& r);
void register_rnn_ops(Registry& r);
void register_control_flow_ops(Registry& r);

}  // namespace layerkit::onnx::detail
