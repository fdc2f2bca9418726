// Overflow-checked size arithmetic (element counts, byte counts, offsets) and the host-memory
// check.
#pragma once

#include <cstdint>
#include <new>
#include <optional>
#include <string>
#include <string_view>

#include "layerkit/core/data_type.h"
#include "layerkit/core/dims.h"

namespace layerkit {

// Note [Size arithmetic]
// Every element count, byte count, stride, offset and arena size is an int64_t that must not
// overflow: a model may declare any extent (an input of 2^62 floats is 2^64 bytes), and a wrapped
// product would size a buffer too small for the kernel that then writes it. So sizes are computed
// only through the helpers below, which throw a kINVALID_ARGUMENT Error naming what was being
// sized instead of wrapping:
//   - Dims::volume() and Dims::strides() multiply through checked_mul;
//   - packed_bytes() (core/data_type.h) and tensor_bytes() give byte counts;
//   - inference checks that every layer output's bytes are representable (infer_layer), so an
//     impossible size fails when the layer is added, when the builder infers the profile shapes
//     and when a run resolves its shapes, naming the layer, before anything is allocated;
//   - sums (concatenated extents, arena sizes, totals) use checked_add.
// A representable size may still be more than the machine has: host allocations of many bytes
// first call check_host_allocation, which fails with kOUT_OF_MEMORY (naming the tensor and the
// bytes) when the request exceeds the memory the kernel reports available, and an allocation that
// throws std::bad_alloc is turned into the same error where it happens (see allocate_host).

// a * b, or nullopt when the product does not fit int64 (operands are >= 0).
inline std::optional<int64_t> try_mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}
inline std::optional<int64_t> try_add(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// a * b and a + b; on overflow a kINVALID_ARGUMENT Error "<what>: <a> x <b> overflows int64".
int64_t checked_mul(int64_t a, int64_t b, std::string_view what);
int64_t checked_add(int64_t a, int64_t b, std::string_view what);

// Bytes of a tensor of `type` and static `dims` as the executor holds it (packed for sub-byte
// types); throws naming `what` (a tensor) and the dims when the count or the bytes overflow.
int64_t tensor_bytes(DataType type, const Dims& dims, std::string_view what);

// Bytes the kernel reports available (MemAvailable of /proc/meminfo); nullopt where unknown.
std::optional<int64_t> host_memory_available();

// Requests of at least this many bytes are checked against host_memory_available() first
// (reading /proc/meminfo costs microseconds, under 0.1% of touching 64 MiB).
inline constexpr int64_t kCheckedAllocationBytes = int64_t{64} << 20;

// Throws kOUT_OF_MEMORY "<what>: allocating <bytes> bytes (<GiB>) exceeds the <avail> bytes of
// memory available" when `bytes` >= kCheckedAllocationBytes and more than is available.
void check_host_allocation(int64_t bytes, std::string_view what);

// The kOUT_OF_MEMORY Error for a failed allocation of `bytes` for `what`.
[[noreturn]] void throw_out_of_memory(int64_t bytes, std::string_view what);

// Resizes `buffer` (a std::vector of bytes or elements) to `count` elements for `what`, checking
// the request first and turning std::bad_alloc into kOUT_OF_MEMORY.
template <typename Vector>
void allocate_host(Vector& buffer, int64_t count, std::string_view what) {
  const int64_t bytes =
      checked_mul(count, static_cast<int64_t>(sizeof(typename Vector::value_type)), what);
  check_host_allocation(bytes, what);
  try {
    buffer.resize(static_cast<size_t>(count));
  } catch (const std::bad_alloc&) {
    throw_out_of_memory(bytes, what);
  }
}

}  // namespace layerkit
