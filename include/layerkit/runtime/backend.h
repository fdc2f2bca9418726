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

// Note [Engine state]
// What depends only on the engine is made once per Engine and shared, read-only, by all of its
// execution contexts: the network's analysis (fusion groups, buffer lifetimes), the materialised
// constants, and the kernel chosen per layer and shape together with what it prepared (packed
// weights on the CPU, uploaded weights and library plans on CUDA, the timing of convolution
// layouts). Kernels are made on first use of a shape, by whichever context meets it first, under
// the state's lock; once made they are immutable (run() is const) and may run in several
// contexts at once, on different threads. A context (its Executor) holds only per-run state:
// activation buffers, bound addresses, profiling records, on CUDA its stream, library handles
// and CUDA graphs. The executor keeps its state alive (shared_ptr), so an executor may outlive
// the Engine object that made the state, not the network.
class EngineState {
 public:
  virtual ~EngineState() = default;
  // A new context's executor over this state.
  virtual std::unique_ptr<Executor> make_executor() const = 0;
  // Bytes the state holds: materialised constants and the memory kernels prepared (packed or
  // uploaded weights, workspaces); grows as kernels are made for new shapes.
  virtual uint64_t weights_bytes() const = 0;
  // The activation arena a context needs at the profiles' max shapes (Engine::device_memory_size).
  virtual uint64_t arena_bytes() const = 0;
};

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
  // The engine state of `network` (which must outlive it): Note [Engine state].
  virtual std::shared_ptr<const EngineState> compile(const Network& network,
                                                     const ExecutorOptions& options) const = 0;
  // Whether `ptr` is memory of this backend's device `device_index` (for the CPU: not memory of
  // any other backend). Used to reject a buffer bound to the wrong engine.
  virtual bool owns_memory(const void* ptr, int device_index) const = 0;
};

// The backend of `device`; kUNSUPPORTED naming the device when this build has none.
const Backend& backend(DeviceType device);
// Every backend of this build (the CPU first); src/backends.cpp, in the umbrella library, lists
// them, so the runtime depends on none.
std::vector<const Backend*> backends();

}  // namespace layerkit
