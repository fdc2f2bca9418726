// Tests of the checked size arithmetic (Note [Size arithmetic]) and the host-memory check.
#include "layerkit/core/size.h"

#include <gtest/gtest.h>

#include <vector>

#include "layerkit/core/error.h"
#include "test_util.h"

namespace lktest {
namespace {

constexpr int64_t k2p62 = int64_t{1} << 62;

TEST(SizeArithmetic, CheckedMultiplyAndAddRefuseOverflow) {
  EXPECT_EQ(checked_mul(int64_t{1} << 31, int64_t{1} << 31, "x"), k2p62);
  EXPECT_EQ(checked_add(k2p62, k2p62 - 1, "x"), INT64_MAX);
  expect_error([] { checked_mul(k2p62, 2, "bytes of 'w'"); },
               {"bytes of 'w'", "4611686018427387904 x 2", "overflows int64"});
  expect_error([] { checked_add(k2p62, k2p62, "arena"); }, {"arena", "overflows int64"});
  EXPECT_FALSE(try_mul(INT64_MAX, 2).has_value());
  EXPECT_EQ(try_mul(0, INT64_MAX).value(), 0);
}

TEST(SizeArithmetic, VolumeAndStridesAreChecked) {
  EXPECT_EQ((Dims{1 << 20, 1 << 20, 1 << 22}).volume(), k2p62);
  // 2^62 * 2 wraps to a negative number, 2^32 * 2^32 to zero: both must be refused.
  expect_error([] { (Dims{k2p62, 2}).volume(); }, {"[4611686018427387904,2]", "int64"});
  expect_error(
      [] {
        (Dims{int64_t{1} << 32, int64_t{1} << 32}).volume();
      },
      {"[4294967296,4294967296]"});
  // A dynamic entry makes the volume unknown, whatever the other entries.
  EXPECT_EQ((Dims{k2p62, -1, 4}).volume(), -1);
  // An extent of 0 anywhere gives 0 elements; the product is never wrapped first.
  EXPECT_EQ((Dims{0, k2p62, 4}).volume(), 0);
  EXPECT_EQ((Dims{k2p62, 1}).strides(), (std::vector<int64_t>{1, 1}));
  expect_error([] { (Dims{2, k2p62, 4}).strides(); }, {"strides of [2,4611686018427387904,4]"});
}

TEST(SizeArithmetic, ByteCountsAreChecked) {
  EXPECT_EQ(packed_bytes(DataType::kFLOAT, (int64_t{1} << 61) - 1), INT64_MAX - 3);
  expect_error([] { packed_bytes(DataType::kFLOAT, int64_t{1} << 61); },
               {"bytes of 2305843009213693952 float32", "overflows int64"});
  expect_error([] { packed_bytes(DataType::kFLOAT, -1); }, {"negative element count -1"});
  // Sub-byte types never overflow: half a byte per element.
  EXPECT_EQ(packed_bytes(DataType::kINT4, INT64_MAX), k2p62);
  EXPECT_EQ(packed_bytes(DataType::kFP4, 7), 4);
  EXPECT_EQ(tensor_bytes(DataType::kHALF, {3, 5}, "t"), 30);
  // 2^62 elements fit int64, their 2^64 bytes do not; 3 x 2^62 elements do not either.
  expect_error([] { tensor_bytes(DataType::kFLOAT, {k2p62}, "input 'x'"); },
               {"input 'x'", "float32[4611686018427387904]", "more bytes than int64 counts"});
  expect_error(
      [] {
        tensor_bytes(DataType::kINT8, {3, k2p62}, "input 'i'");
      },
      {"input 'i'", "dims [3,4611686018427387904]", "more elements"});
  expect_error(
      [] {
        tensor_bytes(DataType::kINT8, {-1, 2}, "input 'd'");
      },
      {"input 'd'", "static dims"});
}

TEST(SizeArithmetic, AllocationsBeyondAvailableMemoryAreOutOfMemory) {
  const std::optional<int64_t> avail = host_memory_available();
  ASSERT_TRUE(avail.has_value()) << "/proc/meminfo has no MemAvailable";
  EXPECT_GT(*avail, 0);
  // Small requests are not checked (they cost a read of /proc/meminfo otherwise).
  check_host_allocation(kCheckedAllocationBytes - 1, "small");
  const int64_t too_much = *avail + (int64_t{1} << 40);
  expect_error([&] { check_host_allocation(too_much, "tensor 'y' float32[2,3]"); },
               {"tensor 'y' float32[2,3]", "out of memory", std::to_string(too_much) + " bytes",
                "available"},
               ErrorCode::kOUT_OF_MEMORY);
  std::vector<float> buffer;
  expect_error([&] { allocate_host(buffer, too_much / 4, "output 'z'"); },
               {"output 'z'", "out of memory"}, ErrorCode::kOUT_OF_MEMORY);
  EXPECT_TRUE(buffer.empty());
  allocate_host(buffer, 1000, "output 'z'");
  EXPECT_EQ(buffer.size(), 1000u);
  // The element size is part of the request: a count whose bytes overflow is refused as such.
  expect_error([&] { allocate_host(buffer, k2p62, "output 'z'"); }, {"output 'z'", "overflows"});
}

}  // namespace
}  // namespace lktest
