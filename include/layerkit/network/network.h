// Network: a strongly typed graph of TensorRT-style layers with shape/type inference at add time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "layerkit/core/data_type.h"
#include "layerkit/core/dims.h"
#include "layerkit/core/error.h"
#include "layerkit/core/weights.h"
#include "layerkit/network/layers.h"

namespace layerkit {

// Element values of a small integer tensor known when the network is built (shape tensors and
// their arithmetic, small integer constants); one entry per element, nullopt where unknown.
using KnownValues = std::vector<std::optional<int64_t>>;

class Tensor {
 public:
  const std::string& name() const { return name_; }
  // Renames the tensor; throws if another tensor of the network has that name.
  void set_name(std::string_view name);
  DataType type() const { return type_; }
  const Dims& dims() const { return dims_; }
  Layer* producer() const { return producer_; }
  int producer_output() const { return producer_output_; }
  bool is_network_input() const;
  bool is_network_output() const;
  // Values known at build time (see KnownValues); empty when not tracked.
  const KnownValues& known_values() const { return known_; }
  // True for int32/int64 tensors of rank <= 1 whose values feed shape-like inputs.
  bool is_shape_tensor() const;

  // INT8 dynamic range [min, max], propagated by building blocks (issue of quantization).
  void set_dynamic_range(float min, float max);
  std::optional<std::pair<float, float>> dynamic_range() const { return dynamic_range_; }

 private:
  friend class Network;
  Tensor() = default;
  Network* network_ = nullptr;
  std::string name_;
  DataType type_ = DataType::kFLOAT;
  Dims dims_;
  Layer* producer_ = nullptr;
  int producer_output_ = 0;
  KnownValues known_;
  std::optional<std::pair<float, float>> dynamic_range_;
};

// Optional tensor inputs of Slice, in TensorRT's input order.
struct SliceInputs {
  Tensor* start = nullptr;
  Tensor* size = nullptr;
  Tensor* stride = nullptr;
  Tensor* fill_value = nullptr;
  Tensor* axes = nullptr;
};
struct FillInputs {
  Tensor* shape = nullptr;
  Tensor* alpha = nullptr;
  Tensor* beta = nullptr;
};

// A point to return to: everything added after it can be removed again (see Network::rollback).
struct NetworkMark {
  size_t num_layers = 0;
  size_t num_tensors = 0;
  size_t num_inputs = 0;
  std::vector<Tensor*> outputs;
  int64_t next_id = 0;
};

class Network {
 public:
  Network();
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // A deep copy (layers, tensors, names, outputs); weights are shared, not copied.
  std::unique_ptr<Network> clone() const;

  Tensor* add_input(std::string_view name, DataType type, const Dims& dims);
  void mark_output(Tensor* tensor);
  void unmark_output(Tensor* tensor);

  Layer* add_constant(const Dims& dims, const Weights& weights);
  Layer* add_identity(Tensor* input);
  Layer* add_cast(Tensor* input, DataType to_type);
  Layer* add_elementwise(Tensor* input1, Tensor* input2, ElementWiseOperation op);
  Layer* add_unary(Tensor* input, UnaryOperation op);
  Layer* add_activation(Tensor* input, ActivationType type, float alpha = 0.0f, float beta = 0.0f);
  Layer* add_shuffle(Tensor* input, const ShuffleAttrs& attrs = {},
                     Tensor* reshape_shape = nullptr);
  Layer* add_slice(Tensor* input, const Dims& start, const Dims& size, const Dims& stride,
                   SampleMode mode = SampleMode::kSTRICT_BOUNDS, const SliceInputs& tensors = {});
  Layer* add_concatenation(std::span<Tensor* const> inputs, int32_t axis = 0);
  Layer* add_gather(Tensor* data, Tensor* indices, int32_t axis,
                    GatherMode mode = GatherMode::kDEFAULT, int32_t num_elementwise_dims = 0);
  Layer* add_scatter(Tensor* data, Tensor* indices, Tensor* updates, ScatterMode mode,
                     int32_t axis = 0, ScatterReduction reduction = ScatterReduction::kNONE);
  Layer* add_fill(const FillAttrs& attrs, const FillInputs& tensors = {});
  Layer* add_shape(Tensor* input);
  Layer* add_matrix_multiply(Tensor* input0, MatrixOperation op0, Tensor* input1,
                             MatrixOperation op1);
  Layer* add_convolution_nd(Tensor* input, const ConvolutionAttrs& attrs, Tensor* kernel = nullptr,
                            Tensor* bias = nullptr);
  Layer* add_deconvolution_nd(Tensor* input, const DeconvolutionAttrs& attrs,
                              Tensor* kernel = nullptr, Tensor* bias = nullptr);
  Layer* add_pooling_nd(Tensor* input, const PoolingAttrs& attrs);
  Layer* add_reduce(Tensor* input, ReduceOperation op, AxesMask axes, bool keep_dims);
  Layer* add_topk(Tensor* input, TopKOperation op, int64_t k, AxesMask axes,
                  DataType indices_type = DataType::kINT32, Tensor* k_tensor = nullptr);
  Layer* add_cumulative(Tensor* input, CumulativeOperation op, int32_t axis, bool exclusive = false,
                        bool reverse = false);
  Layer* add_softmax(Tensor* input, AxesMask axes = 0);
  Layer* add_resize(Tensor* input, const ResizeAttrs& attrs, Tensor* shape_or_scales = nullptr);
  Layer* add_grid_sample(Tensor* input, Tensor* grid, const GridSampleAttrs& attrs = {});
  Layer* add_padding_nd(Tensor* input, const Dims& pre_padding, const Dims& post_padding);
  Layer* add_scale_nd(Tensor* input, const ScaleAttrs& attrs);
  Layer* add_normalization(Tensor* input, Tensor* scale, Tensor* bias,
                           const NormalizationAttrs& attrs);
  Layer* add_select(Tensor* condition, Tensor* then_input, Tensor* else_input);
  Layer* add_parametric_relu(Tensor* input, Tensor* slope);
  Layer* add_quantize(Tensor* input, Tensor* scale, const QuantizeAttrs& attrs = {},
                      Tensor* zero_point = nullptr);
  Layer* add_dequantize(Tensor* input, Tensor* scale, const DequantizeAttrs& attrs = {},
                        Tensor* zero_point = nullptr);
  Layer* add_dynamic_quantize(Tensor* input, Tensor* global_scale,
                              const DynamicQuantizeAttrs& attrs);
  Layer* add_collective(Tensor* input, const CollectiveAttrs& attrs);
  Layer* add_non_zero(Tensor* input);
  // Note [Control-flow bodies] in layers.h: `inputs` are the values the bodies read.
  Layer* add_conditional(Tensor* condition, std::shared_ptr<const Network> then_body,
                         std::shared_ptr<const Network> else_body, std::span<Tensor* const> inputs);
  // Inputs in LoopAttrs' order: trip limit and condition (null: absent), the initial carried
  // values, the scan inputs, the invariants.
  Layer* add_loop(const LoopAttrs& attrs, Tensor* trip_limit, Tensor* condition,
                  std::span<Tensor* const> carried, std::span<Tensor* const> scan_inputs,
                  std::span<Tensor* const> invariants);

  // The generic form behind every add_*: validates, infers outputs, and commits only on success.
  // Absent optional inputs are null.
  Layer* add_layer(LayerAttrs attrs, std::vector<Tensor*> inputs);

  // Removes every layer, tensor and input added since `mark` and restores the output list, so
  // a composite that fails half-way leaves the network as it was (building blocks use this).
  NetworkMark mark() const;
  void rollback(const NetworkMark& mark);

  // ---- rewriting (builder passes; they work on a clone, never on the user's network) ----

  // Whether replace_uses(from, to) is allowed: same type, `to`'s dims equal to `from`'s (or more
  // known where `from` has -1), `to` does not depend on `from`, and when `from` is a network
  // output, `to` is neither a network input nor another output.
  bool can_replace_uses(const Tensor* from, const Tensor* to) const;
  // Every layer input reading `from` reads `to` instead. When `from` is a network output, `to`
  // takes its place in the output list and its name (engine I/O names never change); `from` is
  // renamed to a fresh name. Throws kINTERNAL when !can_replace_uses(from, to).
  void replace_uses(Tensor* from, Tensor* to);
  // Removes `layers` and their output tensors. None of those outputs may be read by a layer that
  // stays or be a network output, and Input layers cannot be removed (input order is part of the
  // engine's interface).
  void remove_layers(std::span<Layer* const> layers);
  // Reorders the layers so each comes after the producers of its inputs (layers added by a
  // rewrite are appended at the end); layers already in order keep their relative order.
  void sort_layers();
  // The layers reading `t` (in layer order, one entry per reading layer).
  std::vector<Layer*> consumers(const Tensor* t) const;
  // Makes `t`'s dims and known values less specific: each dim equal to the current one or -1,
  // each value equal or unknown (an empty list: none tracked). A tensor keeps what inference
  // knew when its layer was added, and rewiring its inputs later (replace_uses) does not update
  // it; a network read back from an engine plan (Engine::deserialize) is rebuilt layer by layer
  // and restores each tensor as it was recorded. kINVALID_ARGUMENT when `dims` or `known` says
  // more than, or contradicts, what `t` holds.
  void relax_tensor(Tensor* t, const Dims& dims, const KnownValues& known);

  int num_layers() const { return static_cast<int>(layers_.size()); }
  Layer* layer(int i) const { return layers_.at(static_cast<size_t>(i)).get(); }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  Tensor* input(int i) const { return inputs_.at(static_cast<size_t>(i)); }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  Tensor* output(int i) const { return outputs_.at(static_cast<size_t>(i)); }
  Tensor* find_tensor(std::string_view name) const;
  Layer* find_layer(std::string_view name) const;

  // Stable text form: one line per layer, then one line listing the outputs.
  std::string to_string() const;
  // Graphviz DOT.
  std::string to_dot() const;
  // True when `t` is a tensor of this network (null is not).
  bool owns(const Tensor* t) const;

 private:
  friend class Tensor;
  friend class Layer;
  std::string fresh_name(std::string_view base, bool for_tensor) const;

  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<std::unique_ptr<Tensor>> tensors_;
  std::vector<Tensor*> inputs_;
  std::vector<Tensor*> outputs_;
  std::map<std::string, Tensor*, std::less<>> tensor_names_;
  std::map<std::string, Layer*, std::less<>> layer_names_;
  int64_t next_id_ = 0;
};

// "name:float32[1,3,-1]"
std::string describe(const Tensor& t);

}  // namespace layerkit
