// Backends: the executors an engine can run on, one per device type, found through one registry.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "layerkit/runtime/executor.h"

namespace layerkit {

// Whether a backend runs a layer with a kernel of its own. kUNIMPLEMENTED is not "invalid": the
// layer is valid (inference accepted it) and the backend still runs it, through its fallback
// (the CUDA backend runs such a layer with the CPU reference kernel on the host).
enum class Support : int32_t { kSUPPORTED, kUNIMPLEMENTED };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual DeviceType device() const = 0;
  // "cpu", "cuda".
  virtual std::string_view name() const = 0;
  // Empty when the backend can run here; otherwise why not (e.g. "no CUDA device: ..."), so an
  // engine build fails with that reason instead of a crash at run time.
  virtual std::string unavailable_reason(int device_index) const = 0;
  // Whether a kernel of the backend's own takes `kind` with these input types.
  virtual Support supports(LayerKind kind, std::span<const DataType> input_types) const = 0;
  // An executor over `network` (which must outlive it).
  virtual std::unique_ptr<Executor> make_executor(const Network& network,
                                                  const ExecutorOptions& options) const = 0;
};

// The backend of `device`; kUNSUPPORTED naming the device when this build has none.
const Backend& backend(DeviceType device);
// Every backend of this build (the CPU first).
std::vector<const Backend*> backends();

}  // namespace layerkit
