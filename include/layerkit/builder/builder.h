// Builder and BuilderConfig: optimization profiles and device choice; build() makes an Engine.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "layerkit/core/dims.h"
#include "layerkit/runtime/executor.h"

namespace layerkit {

class Network;
class Engine;

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

struct BuilderConfig {
  DeviceType device = DeviceType::kCPU;
  std::vector<OptimizationProfile> profiles;
  int num_threads = 1;
  bool reference_kernels_only = false;  // see ExecutorOptions
  int64_t memory_budget_bytes = 0;      // 0: unlimited
  std::shared_ptr<Communicator> communicator;
};

class Builder {
 public:
  // Validates the network against the config (every dynamic input has a profile entry with
  // min <= opt <= max, static dims agree, the network infers at min, opt and max) and builds it.
  static std::unique_ptr<Engine> build(const Network& network, const BuilderConfig& config);
};

}  // namespace layerkit
