// Index helpers and KernelCtx for CPU kernels.
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

int64_t broadcast_offset(const Dims& dims, std::span<const int64_t> idx) {
  int64_t off = 0;
  for (int d = 0; d < dims.rank(); ++d) {
    int64_t n = dims[d];
    off = off * n + (n == 1 ? 0 : idx[static_cast<size_t>(d)]);
  }
  return off;
}

bool next_index(const Dims& dims, std::vector<int64_t>& idx) {
  for (int d = dims.rank() - 1; d >= 0; --d) {
    auto& v = idx[static_cast<size_t>(d)];
    if (++v < dims[d]) return true;
    v = 0;
  }
  return false;
}

const KernelTensor& KernelCtx::input(int i) const {
  if (!has_input(i)) fail("input ", i, " is missing");
  return *inputs_[static_cast<size_t>(i)];
}

const KernelTensor& KernelCtx::output(int i) const {
  if (i >= num_outputs()) fail("output ", i, " does not exist");
  return *outputs_[static_cast<size_t>(i)];
}

void KernelCtx::throw_with(const std::string& message) const {
  throw Error(ErrorCode::kRUNTIME,
              detail::cat(layer_kind_name(kind_), " layer '", name_, "': ", message));
}

}  // namespace layerkit::cpu
