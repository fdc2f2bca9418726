// The backend registry: a device's backend among those this build carries, and make_executor and
// the simple run path on top of them.
#include "layerkit/runtime/backend.h"

#include "layerkit/core/error.h"
#include "layerkit/network/network.h"

namespace layerkit {

// backends() is defined with the list of this build's backends in src/backends.cpp.

const Backend& backend(DeviceType device) {
  for (const Backend* b : backends())
    if (b->device() == device) return *b;
  LK_FAIL(kUNSUPPORTED, "this build of layerkit has no ", device_type_name(device),
          " backend (configure with -DLAYERKIT_WITH_CUDA=ON where the CUDA toolkit is installed)");
}

std::unique_ptr<Executor> make_executor(DeviceType device, const Network& network,
                                        const ExecutorOptions& options) {
  const Backend& b = backend(device);
  if (std::string why = b.unavailable_reason(options.device_index); !why.empty())
    LK_FAIL(kUNSUPPORTED, "cannot run on ", b.name(), ":", options.device_index, ": ", why);
  return b.compile(network, options)->make_executor();
}

std::vector<OwnedTensor> Executor::execute(std::span<const TensorView> inputs) {
  const Network& net = network();
  std::vector<OwnedTensor> outs(static_cast<size_t>(net.num_outputs()));
  for (int i = 0; i < net.num_outputs(); ++i)
    outs[static_cast<size_t>(i)].type = net.output(i)->type();
  std::vector<OwnedTensorAllocator> allocators;
  allocators.reserve(outs.size());
  std::vector<OutputBinding> bindings;
  for (OwnedTensor& o : outs) {
    allocators.emplace_back(o);
    OutputBinding b;
    b.allocator = &allocators.back();
    b.device = DeviceType::kCPU;
    bindings.push_back(b);
  }
  enqueue(inputs, bindings, nullptr);
  synchronize();
  return outs;
}

std::string_view device_type_name(DeviceType d) {
  switch (d) {
    case DeviceType::kCPU:
      return "cpu";
    case DeviceType::kCUDA:
      return "cuda";
  }
  return "?";
}

}  // namespace layerkit
