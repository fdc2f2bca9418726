// Engine plans: the constants and helpers of the byte format Engine::serialize writes.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace layerkit::plan {

// A plan is: the magic, the format version (u32), the layerkit version (u32 length + bytes),
// the payload length (u64), the payload, and the checksum (u64) of every byte before it. All
// integers are little-endian; docs/design.md#engine-plans lists the payload's sections.
inline constexpr std::array<uint8_t, 8> kMagic = {'L', 'K', 'E', 'N', 'G', 'I', 'N', 'E'};
// Raised whenever the payload's layout changes; a plan of another format version is rejected.
inline constexpr uint32_t kFormatVersion = 1;

// The version of this layerkit (CMake's project version), recorded in every plan it writes.
std::string_view library_version();

// 64-bit FNV-1a of `bytes`. Every byte change alters it: each step (xor a byte, multiply by an
// odd prime) is a bijection of the state, so a single flipped bit is always detected.
uint64_t checksum(std::span<const uint8_t> bytes);

// Rewrites the trailing checksum of `plan` to match its other bytes, for tests and tools that
// edit a plan on purpose. kINVALID_ARGUMENT when `plan` is shorter than a checksum.
void reseal(std::span<uint8_t> plan);

}  // namespace layerkit::plan
