// The kernels a Conditional's or Loop's bodies run with (Note [Body kernels]).
#pragma once

namespace layerkit::cpu {

// Note [Body kernels]
// A body runs on a CPU executor of its own (src/runtime/cpu/control_flow.cpp). It takes the
// kernels of the engine that runs the layer: a CPU executor marks its runs with this scope, so a
// reference engine (BuilderConfig::reference_kernels_only) runs its bodies on reference kernels
// too; elsewhere (the CUDA backend's host fallback) bodies take the CPU engine's default list.
class BodyKernelsScope {
 public:
  explicit BodyKernelsScope(bool reference_only);
  ~BodyKernelsScope();
  BodyKernelsScope(const BodyKernelsScope&) = delete;
  BodyKernelsScope& operator=(const BodyKernelsScope&) = delete;
  // Whether bodies run on the calling thread now take the reference kernels only.
  static bool reference_only();

 private:
  bool saved_;
};

}  // namespace layerkit::cpu
