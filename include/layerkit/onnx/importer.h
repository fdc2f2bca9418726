// The ONNX importer: ModelProto -> Network through the building blocks, plus the check pass.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "layerkit/builder/builder.h"
#include "layerkit/impl/context.h"
#include "layerkit/network/network.h"
#include "layerkit/runtime/executor.h"

namespace layerkit::onnx {

// Opsets of the default domain ("" / "ai.onnx") the importer accepts.
inline constexpr int64_t kMinOpset = 1;
inline constexpr int64_t kMaxOpset = 21;

struct ImportOptions {
  // Graph-input dims that are symbolic (dim_param) or unknown become -1. The default profile
  // gives each such dim min 1 and opt = max = the value below, or dim_params[symbol] when the
  // symbol is listed there. Users override whole inputs with ImportResult::set_input_profile.
  int64_t default_dynamic_dim = 1;
  std::map<std::string, int64_t, std::less<>> dim_params;
  impl::ConversionSettings conversion;
  // Values for graph inputs that an op needs when the network is built (axes, shapes, k, pads,
  // scales, ...; CheckReport::build_time_inputs lists them). Each named input becomes a constant
  // of this value, as a TensorRT shape-tensor input whose profile has min = opt = max values.
  std::map<std::string, OwnedTensor, std::less<>> input_values;
};

// One node the importer cannot convert, and why.
struct UnsupportedNode {
  int index = 0;  // -1: a graph input (op_type "graph input"), not a node
  std::string name;
  std::string op_type;
  std::string reason;
};

// Where the value of an input that an op needs when the network is built comes from.
enum class BuildTimeSource : int32_t {
  kCONSTANT,      // an initializer or a Constant output
  kFOLDED,        // computed while importing from constants and static dims
  kBOUND,         // a graph input bound through ImportOptions::input_values
  kSHAPE_TENSOR,  // depends on a dynamic dim: a shape tensor evaluated at run time
};
std::string_view build_time_source_name(BuildTimeSource s);  // "constant", "folded", ...

struct BuildTimeValue {
  int node = 0;
  std::string node_name;
  std::string op_type;
  int input = 0;
  std::string tensor;
  BuildTimeSource source = BuildTimeSource::kCONSTANT;
};

struct CheckReport {
  int64_t opset = 0;
  int num_nodes = 0;
  std::vector<UnsupportedNode> unsupported;
  // The graph's runtime inputs in order (initializers excluded, bound inputs included).
  std::vector<std::string> graph_inputs;
  // Graph inputs whose values are needed at build time and are not bound yet.
  std::vector<std::string> build_time_inputs;
  // When every node passes its checks, check_model also converts the model (without building
  // it): one entry per build-time input of each node, saying how its value is obtained. A
  // converter that refuses a value (one no layer can take at run time) is an unsupported entry.
  std::vector<BuildTimeValue> build_time_values;
  bool ok() const { return unsupported.empty(); }
  // "all 12 nodes supported" or one line per unsupported node:
  // "  node 3 'conv1' (Conv): no converter for Conv"; then the build-time values that are not
  // plain constants: "  node 5 'slice' (Slice) input 2 ('end'): shape tensor (...)".
  std::string to_string() const;
};

struct ImportResult {
  std::unique_ptr<Network> network;
  // One profile covering every dynamic input (see ImportOptions); empty profiles are dropped
  // by nobody: a static network gets one empty profile, which the builder accepts.
  std::vector<OptimizationProfile> profiles;
  std::map<std::string, Weights> weights;  // initializers and constants by ONNX name
  std::vector<std::string> warnings;
  int64_t opset = 0;

  // Replaces the default profile entry of one input.
  void set_input_profile(std::string_view input, const Dims& min, const Dims& opt, const Dims& max);
  // A BuilderConfig with these profiles.
  BuilderConfig builder_config() const;
};

// Throws Error: kIO (unreadable file, missing external data), kINVALID_ARGUMENT (malformed
// model, bad attribute, naming the node), kUNSUPPORTED (unknown opset domain or version, or
// unsupported nodes: the message is the whole check report).
ImportResult import_model(const std::string& path, const ImportOptions& options = {});
// `base_dir` is where external data files are looked up.
ImportResult import_model_from_bytes(std::string_view bytes, const ImportOptions& options = {},
                                     const std::string& base_dir = ".");

// The check pass alone: every node without a converter or with unsupported attributes/inputs.
// Still throws for files that cannot be parsed at all.
CheckReport check_model(const std::string& path, const ImportOptions& options = {});
CheckReport check_model_from_bytes(std::string_view bytes, const ImportOptions& options = {});

// The op types that have a converter, sorted.
std::vector<std::string> supported_ops();

// Reads a serialized TensorProto file (the backend tests' input_N.pb / output_N.pb) into a host
// tensor; `name` receives the TensorProto's name when not null. uint16_as_bf16 reads UINT16
// data as bfloat16 bit patterns (how the ONNX 1.12 backend tests store bfloat16 tensors).
OwnedTensor read_tensor_proto(const std::string& path, std::string* name = nullptr,
                              bool uint16_as_bf16 = false);

}  // namespace layerkit::onnx
