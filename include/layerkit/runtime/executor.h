// Executor: the device-specific part of an engine; a CUDA executor plugs in beside the CPU one.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "layerkit/core/data_type.h"
#include "layerkit/core/dims.h"
#include "layerkit/core/element_type.h"
#include "layerkit/network/layers.h"

namespace layerkit {

class Network;
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

struct ExecutorOptions {
  int num_threads = 1;
  // Runs every layer with its reference kernel (the last entry of each implementation list), the
  // definition of correctness that fast kernels are tested against.
  bool reference_kernels_only = false;
  std::shared_ptr<Communicator> communicator;  // null: collectives need world_size 1
  int device_index = 0;                        // which GPU, for the CUDA backend
  bool use_cuda_graph = false;                 // see BuilderConfig::use_cuda_graph
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual DeviceType device() const = 0;
  // Runs the network once. `inputs` follow the network's input order with their run-time dims;
  // the result follows its output order.
  virtual std::vector<OwnedTensor> execute(std::span<const TensorView> inputs) = 0;
  // Per-layer timing, off by default. Switching it on clears earlier records; switching it off
  // keeps them for profile(). While off, execute() reads no clock.
  virtual void set_profiling(bool on) = 0;
  // One record per layer that ran while profiling was on, in execution order.
  virtual std::vector<LayerProfile> profile() const = 0;
  // The implementation that ran layer `layer` (network order) in the latest execute; empty
  // before its first run. Chosen per layer and resolved input dims.
  virtual std::string_view implementation(int layer) const = 0;
  virtual RunTimes last_run_times() const { return {}; }
};

// The executor for `device` over `network` (which must outlive it), from the backend registry
// (layerkit/runtime/backend.h); kUNSUPPORTED when the backend is absent or cannot run here.
std::unique_ptr<Executor> make_executor(DeviceType device, const Network& network,
                                        const ExecutorOptions& options);

}  // namespace layerkit
