// The kernel names tests expect where a build may lack oneDNN (LAYERKIT_WITH_ONEDNN).
#pragma once

#include <string>

namespace lktest {

// Note [Kernel names without oneDNN]
// A test that names the kernel a layer ran with expects "onednn" only in a build with oneDNN;
// without it (-DLAYERKIT_WITH_ONEDNN=OFF) the same case runs the kernel `without` names. CMake
// defines LAYERKIT_WITH_ONEDNN for the programs in LAYERKIT_KERNEL_NAME_TESTS, so a program that
// includes this header must be listed there.
inline std::string onednn_or(const std::string& without) {
#ifdef LAYERKIT_WITH_ONEDNN
  (void)without;
  return "onednn";
#else
  return without;
#endif
}

}  // namespace lktest
