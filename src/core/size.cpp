// Checked size arithmetic and the host-memory check (Note [Size arithmetic] in core/size.h).
#include "layerkit/core/size.h"

#include <cstdio>
#include <cstring>

#include "layerkit/core/error.h"

namespace layerkit {

int64_t checked_mul(int64_t a, int64_t b, std::string_view what) {
  if (auto r = try_mul(a, b)) return *r;
  LK_FAIL(kINVALID_ARGUMENT, what, ": ", a, " x ", b, " overflows int64 (at most ", INT64_MAX, ")");
}

int64_t checked_add(int64_t a, int64_t b, std::string_view what) {
  if (auto r = try_add(a, b)) return *r;
  LK_FAIL(kINVALID_ARGUMENT, what, ": ", a, " + ", b, " overflows int64 (at most ", INT64_MAX, ")");
}

int64_t tensor_bytes(DataType type, const Dims& dims, std::string_view what) {
  int64_t count = 1;
  for (int64_t d : dims) {
    LK_CHECK(d >= 0, what, ": sizing needs static dims, got ", dims.to_string());
    auto next = try_mul(count, d);
    if (!next)
      LK_FAIL(kINVALID_ARGUMENT, what, ": dims ", dims.to_string(), " have more elements than ",
              "int64 counts (", INT64_MAX, ")");
    count = *next;
  }
  // Checked here too, since packed_bytes' own message names no tensor (sub-byte types take at
  // most a byte per element and cannot overflow).
  const int64_t bits = data_type_bits(type);
  if (bits % 8 == 0 && !try_mul(count, bits / 8))
    LK_FAIL(kINVALID_ARGUMENT, what, ": ", data_type_name(type), dims.to_string(), " is ", count,
            " elements of ", bits / 8, " bytes, more bytes than int64 counts (", INT64_MAX, ")");
  return packed_bytes(type, count);
}

std::optional<int64_t> host_memory_available() {
  std::FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return std::nullopt;
  char line[256];
  std::optional<int64_t> kib;
  while (std::fgets(line, sizeof line, f)) {
    long long v = 0;
    if (std::sscanf(line, "MemAvailable: %lld kB", &v) == 1) {
      kib = v;
      break;
    }
  }
  std::fclose(f);
  if (!kib) return std::nullopt;
  return *kib * 1024;
}

namespace {
std::string gib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1LL << 30));
  return buf;
}
}  // namespace

void check_host_allocation(int64_t bytes, std::string_view what) {
  if (bytes < kCheckedAllocationBytes) return;
  const std::optional<int64_t> avail = host_memory_available();
  if (avail && bytes > *avail)
    LK_FAIL(kOUT_OF_MEMORY, what, ": out of memory: allocating ", bytes, " bytes (", gib(bytes),
            ") exceeds the ", *avail, " bytes (", gib(*avail), ") of memory available");
}

void throw_out_of_memory(int64_t bytes, std::string_view what) {
  LK_FAIL(kOUT_OF_MEMORY, what, ": out of memory: allocating ", bytes, " bytes (", gib(bytes),
          ") failed");
}

}  // namespace layerkit
