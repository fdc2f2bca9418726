// Executor: the device-specific part of an engine; a CUDA executor plugs in beside the CPU one.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "layerkit/core/data_type.h"
#include "layerkit/core/dims.h"
#include "layerkit/core/element_type.h"
#include "layerkit/network/layers.h"

namespace layerkit {

class Network;
class Tensor;
class Communicator;

enum class DeviceType : int32_t { kCPU, kCUDA };
std::string_view device_type_name(DeviceType d);

// A non-owning view of a buffer on a device. Sub-byte types are packed (two per byte).
struct TensorView {
  DataType type = DataType::kFLOAT;
  Dims dims;
  const void* data = nullptr;
  DeviceType device = DeviceType::kCPU;
};

// An owned buffer; `data` holds the packed bytes on `device` (host memory for kCPU).
struct OwnedTensor {
  DataType type = DataType::kFLOAT;
  Dims dims;
  std::vector<uint8_t> data;
  DeviceType device = DeviceType::kCPU;
  TensorView view() const { return {type, dims, data.data(), device}; }

  // The elements as a typed span over host memory: T must hold `type` (holds_bits_of in
  // core/element_type.h: float for kFLOAT, int64_t for kINT64, uint16_t for the bits of kHALF and
  // kBF16, ...); otherwise, or for device memory or sub-byte types, kINVALID_ARGUMENT.
  template <typename T>
  std::span<const T> as() const {
    check_typed_view(cpp_type_name<T>(), holds_bits_of<T>(type));
    return {reinterpret_cast<const T*>(data.data()), static_cast<size_t>(dims.volume())};
  }
  template <typename T>
  std::span<T> as() {
    check_typed_view(cpp_type_name<T>(), holds_bits_of<T>(type));
    return {reinterpret_cast<T*>(data.data()), static_cast<size_t>(dims.volume())};
  }
  // Every element converted to float (any type but sub-byte integers are exact up to 2^24;
  // 16-bit and 8-bit floats widen exactly), for reading outputs of any float type.
  std::vector<float> to_floats() const;

 private:
  void check_typed_view(const char* element, bool holds) const;
};

// One layer's time over the runs made while profiling was on. `total_ms` covers the layer's whole
// step in a run: resolving its run-time shapes, allocating its outputs and its kernel.
struct LayerProfile {
  std::string name;
  LayerKind kind = LayerKind::kIDENTITY;
  double total_ms = 0;
  int64_t calls = 0;
  std::string implementation;  // the kernel that ran it last (e.g. "onednn", "reference")
};

// Where the latest run's time went on a device backend (trtexec's H2D, GPU compute, D2H), from
// device events; all zero on the CPU, whose run has no copies.
struct RunTimes {
  double h2d_ms = 0;
  double compute_ms = 0;
  double d2h_ms = 0;
  bool cuda_graph = false;  // the compute phase replayed a captured CUDA graph
};

// The most threads an engine may ask for (BuilderConfig/ExecutorOptions::num_threads). OpenMP sets
// up a team of the requested size at the first parallel region, per-thread state allocated before
// any thread starts (a plan asking for 2^22 threads made the first oneDNN convolution grow past
// 2 GiB), and threads beyond a host's cores only oversubscribe it.
inline constexpr int kMaxNumThreads = 1024;

struct ExecutorOptions {
  int num_threads = 1;  // 1 to kMaxNumThreads
  // Runs every layer with its reference kernel (the last entry of each implementation list), the
  // definition of correctness that fast kernels are tested against.
  bool reference_kernels_only = false;
  std::shared_ptr<Communicator> communicator;  // null: collectives need world_size 1
  int device_index = 0;                        // which GPU, for the CUDA backend
  bool use_cuda_graph = false;                 // see BuilderConfig::use_cuda_graph
  // The tensors' dims at each optimization profile's max shapes, which size the activation arena
  // (EngineState::arena_bytes); empty: the network's own dims.
  std::vector<std::map<const Tensor*, Dims>> arena_dims;
};

// TensorRT's IOutputAllocator: memory for an output whose size is known only while the engine
// runs (a data-dependent shape such as NonZero's), set with ExecutionContext::set_output_allocator.
// The run calls reallocate_output once per run, when the output's dims are resolved, before the
// output is written; notify_shape follows with the final dims before enqueue returns (on a device
// backend the elements are complete once the run is: synchronize or the stream).
class OutputAllocator {
 public:
  virtual ~OutputAllocator() = default;
  // A buffer of at least `size` bytes aligned to `alignment` in the engine's device memory (host
  // memory for the CPU engine); `current` is what it returned for this output last time (null
  // the first time), so it may be returned again when large enough. Null with size > 0 fails the
  // run with kOUT_OF_MEMORY naming the output.
  virtual void* reallocate_output(std::string_view name, void* current, uint64_t size,
                                  uint64_t alignment) = 0;
  virtual void notify_shape(std::string_view name, const Dims& dims) = 0;
};

// Where a run writes one engine output: caller memory at `data` (`capacity` bytes, or
// kUnknownCapacity when the caller did not say), or memory `allocator` hands out. `device` is
// where that memory lies: the executor's device (written in place) or, on a device backend, the
// host (the output is copied there after the run).
struct OutputBinding {
  static constexpr uint64_t kUnknownCapacity = UINT64_MAX;
  void* data = nullptr;
  uint64_t capacity = kUnknownCapacity;
  OutputAllocator* allocator = nullptr;
  DeviceType device = DeviceType::kCPU;
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual DeviceType device() const = 0;
  virtual const Network& network() const = 0;
  // Runs the network once. `inputs` follow the network's input order with their run-time dims;
  // `outputs` its output order, each with memory (data or allocator). The CPU runs before
  // returning; a device backend enqueues on `stream` (null: its own) and may return before the
  // device is done (synchronize() waits). The outputs' dims are output_dims() afterwards.
  virtual void enqueue(std::span<const TensorView> inputs, std::span<const OutputBinding> outputs,
                       void* stream) = 0;
  // Waits for the latest enqueue to complete (and reports a failure the device found in it).
  virtual void synchronize() {}
  // The dims each output had in the latest run (network output order); empty before one.
  virtual std::vector<Dims> output_dims() const = 0;
  // Runs the network once into buffers it returns (the simple path; enqueue underneath).
  std::vector<OwnedTensor> execute(std::span<const TensorView> inputs);
  // Per-layer timing, off by default. Switching it on clears earlier records; switching it off
  // keeps them for profile(). While off, execute() reads no clock.
  virtual void set_profiling(bool on) = 0;
  // One record per layer that ran while profiling was on, in execution order.
  virtual std::vector<LayerProfile> profile() const = 0;
  // The implementation that ran layer `layer` (network order) in the latest execute; empty
  // before its first run. Chosen per layer and resolved input dims.
  virtual std::string_view implementation(int layer) const = 0;
  virtual RunTimes last_run_times() const { return {}; }
  // Bytes this executor (one context) holds of its own: activation buffers and scratch, not the
  // engine state it shares with the engine's other contexts.
  virtual uint64_t memory_bytes() const = 0;
  // Activations go to the caller's arena at `base` (at least EngineState::arena_bytes(); null:
  // back to memory of the executor's own). kINVALID_ARGUMENT when it is too small.
  virtual void set_arena(void* base, uint64_t bytes) = 0;
};

// An OutputAllocator that puts one output into an OwnedTensor in host memory (the simple path:
// Executor::execute, ExecutionContext::execute without a bound output).
class OwnedTensorAllocator final : public OutputAllocator {
 public:
  explicit OwnedTensorAllocator(OwnedTensor& tensor) : tensor_(tensor) {}
  void* reallocate_output(std::string_view name, void* current, uint64_t size,
                          uint64_t alignment) override;
  void notify_shape(std::string_view name, const Dims& dims) override;

 private:
  OwnedTensor& tensor_;
};

// The executor for `device` over `network` (which must outlive it), from the backend registry
// (layerkit/runtime/backend.h); kUNSUPPORTED when the backend is absent or cannot run here.
std::unique_ptr<Executor> make_executor(DeviceType device, const Network& network,
                                        const ExecutorOptions& options);

}  // namespace layerkit
