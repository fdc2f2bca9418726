// The CUDA libraries' handles one executor's kernels share (created once, bound to its stream).
#pragma once

#include <cublasLt.h>
#include <cudnn.h>

#include <cstddef>

#include "runtime/cuda/kernel.h"

namespace layerkit::cuda {

struct Libraries {
  cudaStream_t stream = nullptr;
  cublasLtHandle_t lt = nullptr;
  cudnnHandle_t dnn = nullptr;
  // cuBLASLt's workspace (its heuristics assume one; 32 MiB as NVIDIA recommends for Hopper).
  void* lt_workspace = nullptr;
  size_t lt_workspace_bytes = 0;
};

// Throw a layerkit::Error naming the layer and the call for a failed cuBLAS / cuDNN status.
void check_cublas(cublasStatus_t status, const char* call, std::string_view layer);
void check_cudnn(cudnnStatus_t status, const char* call, std::string_view layer);

}  // namespace layerkit::cuda

#define LK_CUBLAS(call, layer) ::layerkit::cuda::check_cublas((call), #call, (layer))
#define LK_CUDNN(call, layer) ::layerkit::cuda::check_cudnn((call), #call, (layer))
