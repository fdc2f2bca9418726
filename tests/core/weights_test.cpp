// Weights' typed factories and views: the element type is deduced or checked, never reinterpreted;
// from_floats rounds into narrower float types.
#include "layerkit/core/weights.h"

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include "test_util.h"

namespace lktest {
namespace {

TEST(Weights, FromVectorDeducesTheType) {
  EXPECT_EQ(Weights::from_vector(std::vector<float>{1, 2}).type(), DataType::kFLOAT);
  EXPECT_EQ(Weights::from_vector(std::vector<int32_t>{1}).type(), DataType::kINT32);
  EXPECT_EQ(Weights::from_vector(std::vector<int64_t>{1}).type(), DataType::kINT64);
  EXPECT_EQ(Weights::from_vector(std::vector<int8_t>{1}).type(), DataType::kINT8);
  EXPECT_EQ(Weights::from_vector(std::vector<uint8_t>{1}).type(), DataType::kUINT8);
  Weights b = Weights::from_vector(std::vector<bool>{true, false, true});
  EXPECT_EQ(b.type(), DataType::kBOOL);
  ASSERT_EQ(b.count(), 3);
  EXPECT_EQ(b.as<uint8_t>()[0], 1);
  EXPECT_EQ(b.as<uint8_t>()[1], 0);
  EXPECT_EQ(b.as<uint8_t>()[2], 1);
  Weights w = Weights::from_vector(std::vector<int64_t>{-7, 1LL << 40});
  EXPECT_EQ(w.span<int64_t>()[1], int64_t{1} << 40);
}

// The trap: std::vector<float>{1, 2, 3, 4} declared as kHALF used to copy the first 8 bytes and
// read as 0 1.875 0 2. It is now an error that names the fix.
TEST(Weights, FloatVectorDeclaredHalfIsAnErrorNotReinterpreted) {
  std::vector<float> v{1, 2, 3, 4};
  expect_error([&] { Weights::from_vector(DataType::kHALF, v); },
               {"std::vector<float>", "float16", "from_floats"});
  expect_error([&] { Weights::from_vector(DataType::kBF16, v); }, {"bfloat16", "from_floats"});
  expect_error(
      [&] {
        Weights::from_vector(DataType::kINT32, std::vector<int64_t>{1, 2});
      },
      {"std::vector<int64_t>", "int32"});
  expect_error([&] { Weights::from_vector(DataType::kFLOAT, std::vector<int32_t>{1}); },
               {"std::vector<int32_t>", "float32"});
  expect_error([&] { Weights::from_vector(DataType::kFLOAT, std::vector<double>{1.0}); },
               {"std::vector<double>"});
  expect_error(
      [&] {
        Weights::from_vector(DataType::kINT4, std::vector<int8_t>{1, 2});
      },
      {"packed two per byte"});
  expect_error([&] { Weights::from_vector(DataType::kINT32, std::vector<bool>{true}); },
               {"std::vector<bool>", "int32"});
}

TEST(Weights, MatchingTypesAndRawBitsAreAccepted) {
  Weights f = Weights::from_vector(DataType::kFLOAT, std::vector<float>{1.5f, -2});
  EXPECT_EQ(f.span<float>()[0], 1.5f);
  uint16_t one = c10::Half(1.0f).x;
  Weights h = Weights::from_vector(DataType::kHALF, std::vector<uint16_t>{one, one});
  EXPECT_EQ(h.type(), DataType::kHALF);
  EXPECT_EQ(h.span<uint16_t>()[1], one);
  Weights b = Weights::from_vector(DataType::kBOOL, std::vector<uint8_t>{1, 0});
  EXPECT_EQ(b.type(), DataType::kBOOL);
  Weights e = Weights::from_vector(DataType::kFP8, std::vector<uint8_t>{0x38});
  EXPECT_EQ(e.count(), 1);
  // A typed span checks the element type too.
  expect_error([&] { (void)h.span<float>(); }, {"float16"});
  expect_error([&] { (void)f.span<int32_t>(); }, {"float32"});
}

TEST(Weights, FromFloatsRoundsAsTheScalarConversions) {
  std::vector<float> v{1, 2, 3, 4, 0.1f, -65504.0f};
  Weights h = Weights::from_floats(DataType::kHALF, v);
  ASSERT_EQ(h.type(), DataType::kHALF);
  ASSERT_EQ(h.count(), 6);
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(h.span<uint16_t>()[i], c10::Half(v[i]).x) << i;
  EXPECT_EQ(half_bits_to_float(h.span<uint16_t>()[3]), 4.0f);
  Weights b = Weights::from_floats(DataType::kBF16, v);
  for (size_t i = 0; i < v.size(); ++i)
    EXPECT_EQ(b.span<uint16_t>()[i], c10::BFloat16(v[i]).x) << i;
  // FP4 packs two per byte: 1.0 is code 2, 2.0 code 4 (element 0 in the low nibble).
  Weights f4 = Weights::from_floats(DataType::kFP4, std::vector<float>{1.0f, 2.0f, 3.0f});
  ASSERT_EQ(f4.bytes(), 2);
  EXPECT_EQ(f4.as<uint8_t>()[0], 0x42);
  EXPECT_EQ(f4.as<uint8_t>()[1] & 0x0f, 5);
  expect_error([&] { Weights::from_floats(DataType::kINT32, v); }, {"int32", "not a floating"});
}

}  // namespace
}  // namespace lktest
