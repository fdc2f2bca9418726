// The backends this build carries, in the umbrella library: the one place that names them all, so
// the runtime's registry (layerkit/runtime/backend.h) depends on no backend.
#include "layerkit/runtime/backend.h"

namespace layerkit {

namespace cpu {
const Backend& cpu_backend();
}
#ifdef LAYERKIT_WITH_CUDA
namespace cuda {
const Backend& cuda_backend();
}
#endif

std::vector<const Backend*> backends() {
  std::vector<const Backend*> all{&cpu::cpu_backend()};
#ifdef LAYERKIT_WITH_CUDA
  all.push_back(&cuda::cuda_backend());
#endif
  return all;
}

}  // namespace layerkit
