#include "runtime/cuda/kernel.h"
namespace layerkit::cuda {
std::vector<KernelEntry> copy_kernels(LayerKind) { return {}; }
std::vector<KernelEntry> reduce_kernels(LayerKind) { return {}; }
std::vector<KernelEntry> matmul_kernels(LayerKind) { return {}; }
std::vector<KernelEntry> dnn_kernels(LayerKind) { return {}; }
}
