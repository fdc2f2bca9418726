// Engine (a built network) and ExecutionContext (per-run state: input shapes, buffers, outputs).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "layerkit/network/network.h"
#include "layerkit/runtime/backend.h"
#include "layerkit/runtime/engine_config.h"
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
  // Planned activation memory at the first profile's opt shapes over the layer order (the build
  // report's figure; device_memory_size() is the arena a context needs).
  const MemoryPlan& memory_plan() const { return memory_plan_; }

  const Network& network() const { return *network_; }
  const BuilderConfig& config() const { return config_; }
  DeviceType device() const { return config_.device; }

  int num_io_tensors() const;
  std::string io_tensor_name(int i) const;  // inputs first, then outputs
  bool is_input(std::string_view name) const;

  // A context with activation memory of its own (grown as runs need it).
  std::unique_ptr<ExecutionContext> create_execution_context() const;
  // A context that runs only once set_device_memory gave it an arena of device_memory_size()
  // bytes (TensorRT's createExecutionContextWithoutDeviceMemory).
  std::unique_ptr<ExecutionContext> create_execution_context_without_device_memory() const;

  // The activation arena one context needs at the profiles' max shapes: the memory plan
  // (plan::plan_memory) over the executor's schedule, without the engine's inputs and outputs
  // (the caller's memory) and constants (the engine's). Bytes in the engine's device memory.
  uint64_t device_memory_size() const;
  // Bytes the engine state shared by all contexts holds (Note [Engine state] in
  // layerkit/runtime/backend.h): constants and the weights kernels prepared for the shapes run
  // so far. A second context adds only its own activation memory (ExecutionContext::memory_bytes).
  uint64_t weights_bytes() const;
  // The engine state, made on first use (the first context) and shared by every context.
  const EngineState& state() const;

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
  mutable std::mutex state_mutex_;
  mutable std::shared_ptr<const EngineState> state_;
  std::unique_ptr<ExecutionContext> make_context(bool own_memory) const;
};

// Two ways to run (both on one context):
// - the simple path: set_input_shape, set_input, execute, output;
// - TensorRT's I/O model: set_input_shape, set_tensor_address for every input and output (or
//   set_output_allocator for an output whose size depends on data), get_tensor_shape of outputs
//   before the run, enqueue(stream), synchronize. Outputs are written where they are bound.
// One context runs one enqueue at a time; contexts of one engine may run at once on different
// threads (they share the engine state read-only).
class ExecutionContext {
 public:
  ExecutionContext(const Engine& engine, bool own_memory = true);
  ~ExecutionContext();

  // Selects the optimization profile shapes are checked against (default 0).
  void set_optimization_profile(int index);
  // Sets a dynamic input's run-time shape; it must lie within the active profile.
  void set_input_shape(std::string_view name, const Dims& dims);
  // Input dims as set (or static); for outputs the dims inferred from the input shapes (-1
  // where they depend on data).
  Dims get_tensor_shape(std::string_view name) const;
  // Binds an input buffer (packed for sub-byte types); it must stay valid until enqueue or
  // execute returns. Host buffers serve every engine: a device engine has copied them (into
  // page-locked staging) by the time enqueue returns, so the caller may reuse them then.
  void set_input(std::string_view name, const void* data, DeviceType device = DeviceType::kCPU);

  // Binds caller-owned memory in the engine's device memory (host memory for the CPU engine,
  // device memory of its GPU for CUDA) to an input or output, for enqueue and execute. An
  // output is written there in place by the layer that produces it (Note [Output binding] in
  // src/runtime/engine.cpp says which outputs are copied instead). With `bytes`, the run checks
  // that the output fits; without, the buffer must hold the output at the run's shape
  // (get_tensor_shape). Unknown names, null pointers and memory of another device are errors.
  void set_tensor_address(std::string_view name, void* ptr);
  void set_tensor_address(std::string_view name, void* ptr, uint64_t bytes);
  // The address bound to `name` (null when none).
  void* get_tensor_address(std::string_view name) const;
  // Output `name` goes to memory `allocator` hands out once its dims are known during the run
  // (TensorRT's IOutputAllocator), for data-dependent shapes; replaces a bound address. The
  // allocator must outlive the runs that use it.
  void set_output_allocator(std::string_view name, OutputAllocator* allocator);
  OutputAllocator* get_output_allocator(std::string_view name) const;
  // Runs the engine on the bound tensors: every input needs its shape and an address, every
  // output an address or an allocator. The CPU engine runs before returning (stream must be
  // null); CUDA orders the run on `stream` (a cudaStream_t; null: the context's own stream) and
  // returns without waiting for the device where the run allows it (device-bound inputs and
  // outputs; Note [Asynchronous enqueue] in src/runtime/cuda/cuda_executor.cpp).
  void enqueue(void* stream = nullptr);
  // Waits for the latest enqueue (a no-op on the CPU) and reports a failure the device found in
  // it (an out-of-range index in a CUDA graph run); last_run_times and profile are then current.
  void synchronize();
  // The arena activations live in (at least engine.device_memory_size() bytes, in the engine's
  // device memory), owned by the caller; it must stay valid while the context runs.
  void set_device_memory(void* ptr, uint64_t bytes);
  // Bytes this context holds of its own (activation buffers, scratch); not the shared engine
  // state (Engine::weights_bytes) and not a caller's arena.
  uint64_t memory_bytes() const;

  // Runs the engine (enqueue + synchronize): outputs without an address or allocator go to
  // buffers the context owns, read with output(). Throws an Error naming the problem (missing
  // input, shape out of profile, run-time shape mismatch); the context stays usable. A context
  // runs one enqueue or execute at a time: entering it while another thread is inside throws
  // kINVALID_ARGUMENT (give each thread its own context; the engine is shared safely).
  void execute();
  // The output of the last execute; valid until the next one. For an output bound with
  // set_tensor_address or set_output_allocator, read that memory instead.
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
  struct Bound {  // a caller's output binding
    void* data = nullptr;
    uint64_t bytes = OutputBinding::kUnknownCapacity;
    OutputAllocator* allocator = nullptr;
  };
  const Engine& engine_;
  std::unique_ptr<Executor> executor_;
  bool has_memory_;  // false until set_device_memory, for a context made without memory
  int profile_ = 0;
  std::vector<Dims> input_dims_;
  std::vector<const void*> input_data_;
  std::vector<DeviceType> input_device_;
  std::vector<Bound> bound_;          // per output
  std::vector<OwnedTensor> outputs_;  // the simple path's outputs
  std::vector<std::unique_ptr<OwnedTensorAllocator>> owned_;
  bool ran_ = false;                    // outputs_ hold the latest execute's outputs
  bool run_dims_ = false;               // executor_->output_dims() are for the current input shapes
  mutable std::vector<Dims> inferred_;  // output dims inferred from the input shapes (cache)
  std::atomic<bool> in_use_{false};     // set while enqueue or execute runs (see enter_run)
  int input_index(std::string_view name) const;
  int output_index(std::string_view name) const;  // -1: not an output
  Dims inferred_shape(int output) const;          // from the input shapes alone
  void check_address(std::string_view name, const void* ptr) const;
  void run(const std::vector<OutputBinding>& outputs, void* stream);
};

}  // namespace layerkit
