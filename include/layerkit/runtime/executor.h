// Executor: the device-specific part of an engine; a CUDA executor plugs in beside the CPU one.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "layerkit/core/data_type.h"
#include "layerkit/core/dims.h"

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
};

struct ExecutorOptions {
  int num_threads = 1;
  std::shared_ptr<Communicator> communicator;  // null: collectives need world_size 1
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual DeviceType device() const = 0;
  // Runs the network once. `inputs` follow the network's input order with their run-time dims;
  // the result follows its output order.
  virtual std::vector<OwnedTensor> execute(std::span<const TensorView> inputs) = 0;
};

// The executor for `device` over `network` (which must outlive it).
std::unique_ptr<Executor> make_executor(DeviceType device, const Network& network,
                                        const ExecutorOptions& options);

}  // namespace layerkit
