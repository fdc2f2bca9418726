// The CPU kernel interface: the tensors kernels see, element access, and one reference kernel per
// kind.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/element.h"
#include "layerkit/core/data_type.h"
#include "layerkit/core/dims.h"
#include "layerkit/core/error.h"
#include "layerkit/network/layers.h"
#include "layerkit/runtime/communicator.h"

namespace layerkit::cpu {

using ::layerkit::element_size;
using ::layerkit::load_f;
using ::layerkit::load_i;
using ::layerkit::pack;
using ::layerkit::store_f;
using ::layerkit::store_i;
using ::layerkit::unpack;

// A tensor as a CPU kernel sees it: dims, type and host memory holding whole-byte elements
// (sub-byte types are unpacked before a kernel runs; docs/data_types.md).
struct KernelTensor {
  DataType type = DataType::kFLOAT;
  Dims dims;
  void* data = nullptr;
  int64_t numel() const { return dims.volume(); }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data);
  }
};

inline float load_f(const KernelTensor& x, int64_t i) {
  return load_f(x.type, x.data, i);
}
inline void store_f(const KernelTensor& x, int64_t i, float v) {
  store_f(x.type, x.data, i, v);
}
inline int64_t load_i(const KernelTensor& x, int64_t i) {
  return load_i(x.type, x.data, i);
}
inline void store_i(const KernelTensor& x, int64_t i, int64_t v) {
  store_i(x.type, x.data, i, v);
}

// Multi-index helpers for row-major tensors.
// Offset of the element at `idx` in a tensor of `dims`, where a dim of size 1 broadcasts
// (its index contributes 0) — for operands broadcast per Note [Broadcasting].
int64_t broadcast_offset(const Dims& dims, std::span<const int64_t> idx);
// Advances `idx` to the next index of `dims` (last axis fastest); false after the last one.
bool next_index(const Dims& dims, std::vector<int64_t>& idx);

class KernelCtx {
 public:
  KernelCtx(std::string_view layer_name, LayerKind kind,
            std::span<const KernelTensor* const> inputs, std::span<KernelTensor* const> outputs,
            int num_threads, Communicator* comm)
      : name_(layer_name),
        kind_(kind),
        inputs_(inputs),
        outputs_(outputs),
        num_threads_(num_threads),
        comm_(comm) {}

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  bool has_input(int i) const { return i < num_inputs() && inputs_[static_cast<size_t>(i)]; }
  const KernelTensor& input(int i) const;
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  const KernelTensor& output(int i) const;
  int num_threads() const { return num_threads_; }
  Communicator* communicator() const { return comm_; }
  std::string_view layer_name() const { return name_; }

  // Throws kRUNTIME naming the layer (data-dependent failures such as out-of-range indices).
  template <typename... Args>
  [[noreturn]] void fail(const Args&... args) const {
    throw_with(::layerkit::detail::cat(args...));
  }

 private:
  [[noreturn]] void throw_with(const std::string& message) const;
  std::string_view name_;
  LayerKind kind_;
  std::span<const KernelTensor* const> inputs_;
  std::span<KernelTensor* const> outputs_;
  int num_threads_;
  Communicator* comm_;
};

// The reference kernel of each kind, defined in src/runtime/cpu/<family>.cpp. Output tensors are
// allocated with the dims inference gave; kernels fill every element.
#define LK_LAYER_KIND(e, name, attrs) void run_reference(const attrs& a, KernelCtx& ctx);
#include "layerkit/network/layer_kinds.def"
#undef LK_LAYER_KIND

}  // namespace layerkit::cpu
