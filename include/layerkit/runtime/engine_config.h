// What an engine carries from its build: the config (profiles, device, threads, precision flags),
// the builder's report and its memory plan; the runtime reads these without the builder.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "layerkit/core/dims.h"
#include "layerkit/runtime/executor.h"

namespace layerkit {

class Network;

struct ProfileDims {
  Dims min, opt, max;
};

// Per dynamic input: the smallest, typical and largest shapes an engine must accept.
class OptimizationProfile {
 public:
  void set_dimensions(std::string_view input, const Dims& min, const Dims& opt, const Dims& max);
  const ProfileDims* dimensions(std::string_view input) const;
  const std::map<std::string, ProfileDims, std::less<>>& all() const { return dims_; }

 private:
  std::map<std::string, ProfileDims, std::less<>> dims_;
};

// Precision choices of a build, as TensorRT's BuilderFlag (see Note [Layer precision]).
// kFP16 / kBF16: the network is weakly typed; the builder may run any fp32 layer in that type
// (softmax, normalization statistics, reductions and matmul/convolution accumulation stay fp32
// inside the kernels; sums and products over an axis keep fp32 outputs). With both, fp16 wins.
// kSTRONGLY_TYPED: every tensor keeps the type the network declares; combined with kFP16/kBF16
// it is an error, as in TensorRT.
enum class BuilderFlag : int32_t { kFP16, kBF16, kSTRONGLY_TYPED };

struct BuilderConfig {
  DeviceType device = DeviceType::kCPU;
  int device_index = 0;  // which GPU when device is kCUDA
  std::vector<OptimizationProfile> profiles;
  int num_threads = 1;
  bool reference_kernels_only = false;  // see ExecutorOptions
  // 0: unlimited. Otherwise the build fails (kOUT_OF_MEMORY, with the figures) when the activation
  // arena at the largest shapes of the profiles (MemoryPlan::peak_bytes_planned at each profile's
  // max) plus the bytes of the weights exceeds it.
  int64_t memory_budget_bytes = 0;
  std::shared_ptr<Communicator> communicator;
  // 0: the engine runs the network as given. 1 (default): the builder passes run on a copy of it
  // (src/builder/passes/: folding, elimination, merging, fusion, pattern recognition).
  int optimization_level = 1;
  uint32_t flags = 0;  // bits of BuilderFlag
  // CUDA: capture each context's run per input shape into a CUDA graph on its first run with that
  // shape and replay the graph afterwards (networks that must wait for the device mid-run, e.g.
  // for a data-dependent shape, run without one). Ignored on the CPU.
  bool use_cuda_graph = false;

  void set_flag(BuilderFlag f) { flags |= 1u << static_cast<int>(f); }
  void clear_flag(BuilderFlag f) { flags &= ~(1u << static_cast<int>(f)); }
  bool get_flag(BuilderFlag f) const { return (flags >> static_cast<int>(f)) & 1u; }
};

// What one builder pass did over a build: how often it ran and how many rewrites it made.
struct PassStatistics {
  std::string pass;
  int runs = 0;
  int rewrites = 0;
  double milliseconds = 0;
};

// One rewrite: `layer` names the layer of the network as the pass found it (usually a layer of
// the user's network), `detail` says what became of it ("folded into Convolution 'conv1' bias").
struct PassRecord {
  std::string pass;
  std::string layer;
  std::string detail;
};

// Activation memory at the first profile's opt shapes (or the static dims): the sum of every
// activation tensor's bytes, and the peak when buffers are reused once their last reader ran.
// Constants and engine inputs are not counted.
struct MemoryPlan {
  int64_t peak_bytes_planned = 0;
  int64_t peak_bytes_unplanned = 0;
  // One entry per activation tensor: its slot (tensors sharing a slot never live at once), the
  // slot's byte offset in one arena of peak_bytes_planned bytes, and its bytes.
  struct Assignment {
    std::string tensor;
    int slot = 0;
    int64_t offset = 0;
    int64_t bytes = 0;
  };
  std::vector<Assignment> assignments;
};

// How the builder turned the network into the engine's network.
struct BuildReport {
  int optimization_level = 0;
  std::vector<PassStatistics> passes;  // in pipeline order
  std::vector<PassRecord> records;     // in the order the rewrites happened
  // Text form listing per pass its runs and rewrites, then every record.
  std::string to_string() const;
};

// The checks Builder::build makes before it optimizes (outputs, thread count, optimization level,
// flags, every profile against the inputs, inference at every profile's min, opt and max),
// without the device's availability. Engine::deserialize makes them on the network it read.
void check_build_config(const Network& network, const BuilderConfig& config);

}  // namespace layerkit
