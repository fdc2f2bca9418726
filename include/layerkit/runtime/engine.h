// Engine (a built network) and ExecutionContext (per-run state: input shapes, buffers, outputs).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "layerkit/builder/builder.h"
#include "layerkit/network/network.h"
#include "layerkit/runtime/executor.h"

namespace layerkit {

class ExecutionContext;

// What a plan does not hold: the communicator is a live object of the process that loads the
// plan (the plan keeps only each Collective layer's rank and world size).
struct DeserializeOptions {
  std::shared_ptr<Communicator> communicator;  // becomes BuilderConfig::communicator
};

class Engine {
 public:
  Engine(std::unique_ptr<Network> network, BuilderConfig config, BuildReport report = {},
         MemoryPlan memory_plan = {});
  ~Engine();

  // What the builder passes did (empty at optimization level 0).
  const BuildReport& build_report() const { return report_; }
  // Planned activation memory; the executor allocates per tensor for now (see MemoryPlan).
  const MemoryPlan& memory_plan() const { return memory_plan_; }

  const Network& network() const { return *network_; }
  const BuilderConfig& config() const { return config_; }
  DeviceType device() const { return config_.device; }

  int num_io_tensors() const;
  std::string io_tensor_name(int i) const;  // inputs first, then outputs
  bool is_input(std::string_view name) const;

  std::unique_ptr<ExecutionContext> create_execution_context() const;

  // The engine as bytes (an engine plan, format in docs/design.md#engine-plans): the network
  // with its weights, the config without the communicator, the build report and the memory plan.
  std::vector<uint8_t> serialize() const;
  // The engine serialize() wrote, without rebuilding: the network is rebuilt layer by layer
  // (every layer validated and inferred again, as when it was added) and checked as build()
  // checks it. A wrong magic or format version, truncated or altered bytes (checksum), or
  // inconsistent content throws kINVALID_ARGUMENT naming the problem and its byte offset.
  static std::unique_ptr<Engine> deserialize(std::span<const uint8_t> plan,
                                             const DeserializeOptions& options = {});

 private:
  std::unique_ptr<Network> network_;
  BuilderConfig config_;
  BuildReport report_;
  MemoryPlan memory_plan_;
};

class ExecutionContext {
 public:
  explicit ExecutionContext(const Engine& engine);
  ~ExecutionContext();

  // Selects the optimization profile shapes are checked against (default 0).
  void set_optimization_profile(int index);
  // Sets a dynamic input's run-time shape; it must lie within the active profile.
  void set_input_shape(std::string_view name, const Dims& dims);
  // Input dims as set (or static); for outputs the dims inferred from the input shapes (-1
  // where they depend on data).
  Dims get_tensor_shape(std::string_view name) const;
  // Binds an input buffer (packed for sub-byte types); it must stay valid until execute returns.
  void set_input(std::string_view name, const void* data, DeviceType device = DeviceType::kCPU);
  // Runs the engine. Throws an Error naming the problem (missing input, shape out of profile,
  // run-time shape mismatch); the context stays usable. A context runs one execute at a time:
  // entering it while another thread is inside throws kINVALID_ARGUMENT (give each thread its own
  // context; the engine is shared safely).
  void execute();
  // The output of the last execute; valid until the next one.
  const OwnedTensor& output(std::string_view name) const;
  // Per-layer timing of later execute calls (see Executor::set_profiling); off by default.
  void set_profiling(bool on);
  std::vector<LayerProfile> profile() const;
  // The latest execute's host-to-device, compute and device-to-host times (zero on the CPU).
  RunTimes last_run_times() const;
  // The implementation (e.g. "onednn", "reference") that ran layer `layer_name` in the latest
  // execute; empty before it ran. Throws kINVALID_ARGUMENT for an unknown layer.
  std::string layer_implementation(std::string_view layer_name) const;

 private:
  const Engine& engine_;
  std::unique_ptr<Executor> executor_;
  int profile_ = 0;
  std::vector<Dims> input_dims_;
  std::vector<const void*> input_data_;
  std::vector<DeviceType> input_device_;
  std::vector<OwnedTensor> outputs_;
  std::atomic<bool> in_use_{false};  // set while execute runs (see execute)
  int input_index(std::string_view name) const;
};

}  // namespace layerkit
