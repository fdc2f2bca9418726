// CUDA kernel for the Collective kind at world size 1, where every operation is the identity.
// Larger worlds take the host reference, which stages the data through the engine's
// communicator (and fails as the CPU engine does when there is none); NCCL is not wired in yet.
#include <vector>

#include "runtime/cuda/kernel.h"

namespace layerkit::cuda {
namespace {

class SingleRankCollective final : public Kernel {
 public:
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x = ctx.input(0);
    const DeviceTensor& y = ctx.output(0);
    if (y.bytes() == 0) return;
    LK_CUDA(cudaMemcpyAsync(y.data, x.data, static_cast<size_t>(y.bytes()),
                            cudaMemcpyDeviceToDevice, ctx.stream()),
            ctx.layer_name());
  }
};

}  // namespace

std::vector<KernelEntry> collective_kernels(LayerKind kind) {
  if (kind == LayerKind::kCOLLECTIVE)
    return {{"single-rank copy", [](const Problem& p) -> std::unique_ptr<Kernel> {
               if (p.as<CollectiveAttrs>().world_size != 1) return nullptr;
               return std::make_unique<SingleRankCollective>();
             }}};
  return {};
}

}  // namespace layerkit::cuda
