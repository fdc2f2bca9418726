// Layer kinds, their attribute structs (TensorRT's layer parameters) and the Layer class.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "layerkit/core/data_type.h"
#include "layerkit/core/dims.h"
#include "layerkit/core/weights.h"

namespace layerkit {

class Tensor;
class Network;

enum class LayerKind : int32_t {
#define LK_LAYER_KIND(e, name, attrs) e,
#include "layerkit/network/layer_kinds.def"
#undef LK_LAYER_KIND
};

inline constexpr int kNumLayerKinds = 0
#define LK_LAYER_KIND(e, name, attrs) +1
#include "layerkit/network/layer_kinds.def"
#undef LK_LAYER_KIND
    ;

std::string_view layer_kind_name(LayerKind k);  // "Convolution"
// TensorRT's LayerType spelling without the k: "CONVOLUTION", "MATRIX_MULTIPLY".
std::string_view layer_kind_upper_name(LayerKind k);

// ---- enums (values spelled as TensorRT spells them) ----

enum class ElementWiseOperation : int32_t {
  kSUM,
  kPROD,
  kMAX,
  kMIN,
  kSUB,
  kDIV,
  kPOW,
  kFLOOR_DIV,
  kAND,
  kOR,
  kXOR,
  kEQUAL,
  kGREATER,
  kLESS,
  // layerkit extensions (no TensorRT counterpart): bitwise operations on integers and bools.
  kBITWISE_AND,
  kBITWISE_OR,
  kBITWISE_XOR,
};
enum class UnaryOperation : int32_t {
  kEXP,
  kLOG,
  kSQRT,
  kRECIP,
  kABS,
  kNEG,
  kSIN,
  kCOS,
  kTAN,
  kSINH,
  kCOSH,
  kASIN,
  kACOS,
  kATAN,
  kASINH,
  kACOSH,
  kATANH,
  kCEIL,
  kFLOOR,
  kERF,
  kNOT,
  kSIGN,
  kROUND,
  kISINF,
  kISNAN,
};
enum class ActivationType : int32_t {
  kRELU,
  kSIGMOID,
  kTANH,
  kLEAKY_RELU,
  kELU,
  kSELU,
  kSOFTSIGN,
  kSOFTPLUS,
  kCLIP,
  kHARD_SIGMOID,
  kSCALED_TANH,
  kTHRESHOLDED_RELU,
  kGELU_ERF,
  kGELU_TANH,
};
enum class SampleMode : int32_t { kSTRICT_BOUNDS, kWRAP, kCLAMP, kFILL, kREFLECT };
enum class GatherMode : int32_t { kDEFAULT, kELEMENT, kND };
enum class ScatterMode : int32_t { kELEMENT, kND };
// layerkit extension (TensorRT's IScatterLayer has no reduction): how updates combine with the
// data, as ONNX ScatterElements/ScatterND `reduction` and at::scatter_reduce (include_self).
enum class ScatterReduction : int32_t { kNONE, kSUM, kPROD, kMAX, kMIN };
enum class FillOperation : int32_t { kLINSPACE, kRANDOM_UNIFORM, kRANDOM_NORMAL };
enum class MatrixOperation : int32_t { kNONE, kTRANSPOSE, kVECTOR };
enum class PaddingMode : int32_t {
  kEXPLICIT_ROUND_DOWN,
  kEXPLICIT_ROUND_UP,
  kSAME_UPPER,
  kSAME_LOWER,
};
enum class PoolingType : int32_t { kMAX, kAVERAGE, kMAX_AVERAGE_BLEND };
enum class ReduceOperation : int32_t { kSUM, kPROD, kMAX, kMIN, kAVG };
enum class TopKOperation : int32_t { kMAX, kMIN };
enum class CumulativeOperation : int32_t { kSUM };
enum class InterpolationMode : int32_t { kNEAREST, kLINEAR, kCUBIC };
enum class ResizeCoordinateTransformation : int32_t { kALIGN_CORNERS, kASYMMETRIC, kHALF_PIXEL };
enum class ResizeSelector : int32_t { kFORMULA, kUPPER };
enum class ResizeRoundMode : int32_t { kHALF_UP, kHALF_DOWN, kFLOOR, kCEIL };
enum class ScaleMode : int32_t { kUNIFORM, kCHANNEL, kELEMENTWISE };
enum class CollectiveOperation : int32_t { kALL_GATHER, kREDUCE_SCATTER, kALL_REDUCE };

std::string_view enum_name(ElementWiseOperation v);
std::string_view enum_name(UnaryOperation v);
std::string_view enum_name(ActivationType v);
std::string_view enum_name(SampleMode v);
std::string_view enum_name(GatherMode v);
std::string_view enum_name(ScatterMode v);
std::string_view enum_name(ScatterReduction v);
std::string_view enum_name(FillOperation v);
std::string_view enum_name(MatrixOperation v);
std::string_view enum_name(PaddingMode v);
std::string_view enum_name(PoolingType v);
std::string_view enum_name(ReduceOperation v);
std::string_view enum_name(TopKOperation v);
std::string_view enum_name(CumulativeOperation v);
std::string_view enum_name(InterpolationMode v);
std::string_view enum_name(ResizeCoordinateTransformation v);
std::string_view enum_name(ResizeSelector v);
std::string_view enum_name(ResizeRoundMode v);
std::string_view enum_name(ScaleMode v);
std::string_view enum_name(CollectiveOperation v);

// Axis-set bitmask as TensorRT uses it (bit i selects axis i).
using AxesMask = uint32_t;

// ---- attribute structs, one per kind (inputs are documented beside each) ----

// No inputs; the output is the network input tensor.
struct InputAttrs {
  DataType type = DataType::kFLOAT;
  Dims dims;
};
// No inputs. Output dims `dims`, type weights.type().
struct ConstantAttrs {
  Dims dims;
  Weights weights;
};
// Input 0: any type. Output: same type and dims.
struct IdentityAttrs {};
// Input 0: any type but sub-byte. Output: `to_type`, same dims.
struct CastAttrs {
  DataType to_type = DataType::kFLOAT;
};
// Inputs 0, 1: same type and rank; each dim equal or one of them 1 (broadcast).
struct ElementWiseAttrs {
  ElementWiseOperation op = ElementWiseOperation::kSUM;
};
struct UnaryAttrs {
  UnaryOperation op = UnaryOperation::kEXP;
};
struct ActivationAttrs {
  ActivationType type = ActivationType::kRELU;
  float alpha = 0.0f;
  float beta = 0.0f;
};
// Input 0: data. Input 1 (optional): int64 1-D reshape shape tensor (replaces reshape_dims).
// Output = second_transpose(reshape(first_transpose(x))). Empty permutations are identities.
struct ShuffleAttrs {
  std::vector<int32_t> first_transpose;
  std::optional<Dims> reshape_dims;
  std::vector<int32_t> second_transpose;
  bool zero_is_placeholder = true;
};
// Input 0: data; optional 1: start, 2: size, 3: stride (int32/int64 1-D shape tensors),
// 4: fill value (0-D, kFILL), 5: axes (1-D, which axes start/size/stride refer to).
struct SliceAttrs {
  Dims start;
  Dims size;
  Dims stride;
  SampleMode mode = SampleMode::kSTRICT_BOUNDS;
};
// Inputs: one or more tensors of the same type and rank, equal except on `axis`.
struct ConcatenationAttrs {
  int32_t axis = 0;
};
// Input 0: data, 1: int32/int64 indices.
struct GatherAttrs {
  int32_t axis = 0;
  GatherMode mode = GatherMode::kDEFAULT;
  int32_t num_elementwise_dims = 0;
};
// Input 0: data, 1: int32/int64 indices, 2: updates. `reduction` (a layerkit extension) combines
// each update with the element it targets instead of overwriting it; duplicate targets then
// accumulate in row-major order of the updates. kNONE: later duplicates win.
struct ScatterAttrs {
  ScatterMode mode = ScatterMode::kELEMENT;
  int32_t axis = 0;
  ScatterReduction reduction = ScatterReduction::kNONE;
};
// Optional inputs 0: int64 1-D shape tensor (replaces dims), 1: alpha (0-D), 2: beta (1-D for
// LINSPACE, one delta per output axis; 0-D for the random operations).
// LINSPACE: out[i...] = alpha + sum_k beta[k] * i_k. RANDOM_UNIFORM: in [alpha, beta).
// RANDOM_NORMAL: mean alpha, standard deviation beta. `seed` makes random fills reproducible.
struct FillAttrs {
  FillOperation op = FillOperation::kLINSPACE;
  Dims dims;
  double alpha = 0.0;
  std::vector<double> beta;
  DataType output_type = DataType::kFLOAT;
  uint64_t seed = 0;
};
// Input 0: any tensor. Output: int64 1-D [rank], its shape (a shape tensor).
struct ShapeAttrs {};
// Inputs 0, 1; kVECTOR marks a 1-D (per batch) vector operand, kTRANSPOSE swaps its last two dims.
struct MatrixMultiplyAttrs {
  MatrixOperation op0 = MatrixOperation::kNONE;
  MatrixOperation op1 = MatrixOperation::kNONE;
};
// Input 0: [N, C, spatial...] with 1 to 3 spatial dims; optional 1: kernel tensor (replaces
// `kernel`), 2: bias tensor (replaces `bias`). Kernel layout [K, C/groups, kernel_size...].
struct ConvolutionAttrs {
  int64_t num_output_maps = 0;
  Dims kernel_size;
  Weights kernel;
  Weights bias;  // empty: no bias
  Dims stride;   // rank 0: all 1
  Dims pre_padding;
  Dims post_padding;
  Dims dilation;  // rank 0: all 1
  PaddingMode padding_mode = PaddingMode::kEXPLICIT_ROUND_DOWN;
  int64_t num_groups = 1;
};
// As convolution; kernel layout [C, K/groups, kernel_size...].
struct DeconvolutionAttrs {
  int64_t num_output_maps = 0;
  Dims kernel_size;
  Weights kernel;
  Weights bias;
  Dims stride;
  Dims pre_padding;
  Dims post_padding;
  Dims dilation;
  PaddingMode padding_mode = PaddingMode::kEXPLICIT_ROUND_DOWN;
  int64_t num_groups = 1;
};
// Input 0: [N, C, spatial...]. `dilation` (max pooling only) extends TensorRT.
struct PoolingAttrs {
  PoolingType type = PoolingType::kMAX;
  Dims window;
  Dims stride;  // rank 0: equal to window
  Dims pre_padding;
  Dims post_padding;
  Dims dilation;  // rank 0: all 1
  PaddingMode padding_mode = PaddingMode::kEXPLICIT_ROUND_DOWN;
  bool average_count_excludes_padding = true;
  float blend_factor = 0.0f;
};
struct ReduceAttrs {
  ReduceOperation op = ReduceOperation::kSUM;
  AxesMask axes = 0;
  bool keep_dims = false;
};
// Input 0: data; optional 1: k as a 0-D int32/int64 tensor. Outputs: values, indices.
struct TopKAttrs {
  TopKOperation op = TopKOperation::kMAX;
  int64_t k = 1;
  AxesMask axes = 0;
  DataType indices_type = DataType::kINT32;
};
// Input 0: data (float32, float16, bfloat16, int32, int64; rank >= 1). Output: same type and dims,
// the running `op` along `axis` (TensorRT's ICumulativeLayer, whose axis is a build-time
// constant): exclusive leaves each element out of its own sum, reverse runs from the end.
// Integers wrap in their type.
struct CumulativeAttrs {
  CumulativeOperation op = CumulativeOperation::kSUM;
  int32_t axis = 0;
  bool exclusive = false;
  bool reverse = false;
};
// axes: exactly one bit; 0 means the last axis.
struct SoftMaxAttrs {
  AxesMask axes = 0;
};
// Input 0: data; optional 1: output shape (int64 1-D) or scales (float 1-D).
struct ResizeAttrs {
  std::optional<Dims> output_dims;
  // One per axis; used when output_dims is unset. Double, as PyTorch passes scale factors: the
  // coordinate ratio is float(1 / scale), bit-for-bit what ATen uses.
  std::vector<double> scales;
  InterpolationMode resize_mode = InterpolationMode::kNEAREST;
  ResizeCoordinateTransformation coordinate_transformation =
      ResizeCoordinateTransformation::kASYMMETRIC;
  ResizeSelector selector_for_single_pixel = ResizeSelector::kFORMULA;
  ResizeRoundMode nearest_rounding = ResizeRoundMode::kFLOOR;
  float cubic_coeff = -0.75f;
  bool exclude_outside = false;
};
// Input 0: [N, C, H, W]; 1: grid [N, H_out, W_out, 2] (x, y in [-1, 1]).
struct GridSampleAttrs {
  InterpolationMode interpolation_mode = InterpolationMode::kLINEAR;
  bool align_corners = false;
  SampleMode sample_mode = SampleMode::kFILL;
};
// Pads (negative: crops) the trailing pre_padding.rank() dims with zeros.
struct PaddingAttrs {
  Dims pre_padding;
  Dims post_padding;
};
// out = (x * scale + shift) ^ power, per tensor, per channel (on channel_axis) or per element.
struct ScaleAttrs {
  ScaleMode mode = ScaleMode::kUNIFORM;
  Weights shift;
  Weights scale;
  Weights power;
  int32_t channel_axis = 1;
};
// Inputs 0: data, 1: scale, 2: bias (broadcastable to the data). Normalizes over `axes`;
// with num_groups > 1, axis 1 is split into groups (group normalization).
struct NormalizationAttrs {
  float epsilon = 1e-5f;
  AxesMask axes = 0;
  int64_t num_groups = 1;
  DataType compute_precision = DataType::kFLOAT;
};
// Inputs 0: bool condition, 1: then, 2: else (broadcast as ElementWise).
struct SelectAttrs {};
// Inputs 0: data, 1: slope (broadcastable).
struct ParametricReLUAttrs {};
// Inputs 0: data, 1: scale (0-D/1-element per tensor, 1-D on `axis`, or same rank for blocks),
// optional 2: zero point. out = saturate(round_even(x / scale) + zero_point).
struct QuantizeAttrs {
  int32_t axis = -1;
  DataType output_type = DataType::kINT8;
};
// Inputs as Quantize. out = (x - zero_point) * scale.
struct DequantizeAttrs {
  int32_t axis = -1;
  DataType to_type = DataType::kFLOAT;
};
// Input 0: data, 1: global (double-quantization) scale, 0-D fp32. Outputs: quantized data,
// per-block scales (block along `axis`).
struct DynamicQuantizeAttrs {
  int32_t axis = -1;
  int32_t block_size = 16;
  DataType output_type = DataType::kFP4;
  DataType scale_type = DataType::kFP8;
};
struct CollectiveAttrs {
  CollectiveOperation op = CollectiveOperation::kALL_REDUCE;
  ReduceOperation reduce_op = ReduceOperation::kSUM;
  int32_t rank = 0;
  int32_t world_size = 1;
  int32_t axis = 0;  // gather/scatter axis
};
// Output: int64 [rank(input), count], indices of nonzero elements (count known at run time).
struct NonZeroAttrs {};

// Note [Control-flow bodies]
// A Conditional or Loop layer holds its bodies as networks of their own (immutable, shared by
// clones of the layer), closed over every value they read: an outer value a body uses is a layer
// input and a body input, in the same position. So the outer network stays a graph without back
// edges that every pass and executor handles as it handles any layer, and a body is a network
// that any executor runs (docs/design.md, "Control flow").

// Input 0: bool condition (one element); inputs 1..n: the values the bodies read. Both bodies take
// n inputs (types equal to the layer's inputs, dims equal or -1 in the body) and give the same
// number of outputs, output i of the same type and rank in both; the layer's output i is the
// taken body's, its dims the two bodies' agreement (-1 where they differ, resolved at run time).
struct ConditionalAttrs {
  std::shared_ptr<const Network> then_body;
  std::shared_ptr<const Network> else_body;
};
// TensorRT's ILoopLayer with its trip limit, recurrences, iterators and loop outputs, in one
// layer (Note [Control-flow bodies]). Inputs: 0 trip limit (int32/int64, one element, optional),
// 1 initial condition (bool, one element, optional), then num_carried initial values of the
// loop-carried values, then one tensor per scan input (scan_input_axes), then the invariant values
// the body reads. Body inputs: the iteration (int64 0-D, from 0), the condition (bool 0-D), the
// carried values, one slice per scan input (its dims without the scan axis), the invariants.
// Body outputs: the condition for the next iteration (bool, one element), the carried values,
// then the scan outputs. The body runs while iteration < trip limit, iteration < every scan
// input's length, and the condition holds (checked before each iteration). Layer outputs: the
// final carried values, then each scan output's values of every iteration, stacked along
// scan_output_axes[k] (0 when empty); *_reverse (0/1 per entry, empty: none) runs a scan input
// from its end, or stacks a scan output last iteration first.
struct LoopAttrs {
  std::shared_ptr<const Network> body;
  int32_t num_carried = 0;
  std::vector<int32_t> scan_input_axes;
  std::vector<int32_t> scan_input_reverse;
  std::vector<int32_t> scan_output_axes;
  std::vector<int32_t> scan_output_reverse;
};

using LayerAttrs = std::variant<
#define LK_LAYER_KIND(e, name, attrs) attrs,
#include "layerkit/network/layer_kinds.def"
#undef LK_LAYER_KIND
    std::monostate>;

// Maps an attribute struct to its kind.
template <typename A>
constexpr LayerKind kind_of();
#define LK_LAYER_KIND(e, name, attrs)    \
  template <>                            \
  constexpr LayerKind kind_of<attrs>() { \
    return LayerKind::e;                 \
  }
#include "layerkit/network/layer_kinds.def"
#undef LK_LAYER_KIND

class Layer {
 public:
  LayerKind kind() const { return static_cast<LayerKind>(attrs_.index()); }
  const std::string& name() const { return name_; }
  // Renames the layer; throws if another layer of the network has that name.
  void set_name(std::string_view name);

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  Tensor* input(int i) const { return inputs_.at(static_cast<size_t>(i)); }  // null: absent
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  Tensor* output(int i) const { return outputs_.at(static_cast<size_t>(i)); }
  const std::vector<Tensor*>& inputs() const { return inputs_; }
  const std::vector<Tensor*>& outputs() const { return outputs_; }

  const LayerAttrs& attrs() const { return attrs_; }
  template <typename A>
  const A& attrs() const {
    return std::get<A>(attrs_);
  }

  Network& network() const { return *network_; }

  // Note [Layer precision]
  // In a reduced-precision build (BuilderFlag::kFP16 / kBF16) the builder chooses per layer
  // whether it computes in fp32 or the reduced type. set_precision overrides that choice (as
  // TensorRT's ILayer::setPrecision): kFLOAT keeps the layer in fp32, kHALF / kBF16 run it in that
  // type even when the flag for it is off. Builds without those flags, and strongly typed builds,
  // run every layer in the types its inputs have, whatever is set here.
  void set_precision(DataType type);
  std::optional<DataType> precision() const { return precision_; }
  void reset_precision() { precision_.reset(); }

 private:
  friend class Network;
  Layer(Network* net, std::string name, LayerAttrs attrs, std::vector<Tensor*> inputs)
      : network_(net),
        name_(std::move(name)),
        attrs_(std::move(attrs)),
        inputs_(std::move(inputs)) {}

  Network* network_;
  std::string name_;
  LayerAttrs attrs_;
  std::vector<Tensor*> inputs_;
  std::vector<Tensor*> outputs_;
  std::optional<DataType> precision_;
};

}  // namespace layerkit
