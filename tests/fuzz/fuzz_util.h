// Shared by the fuzz targets: running an engine once at small input shapes.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "layerkit/core/data_type.h"
#include "layerkit/core/error.h"
#include "layerkit/runtime/engine.h"

namespace layerkit::fuzz {

// Inputs larger than this are not run: a fuzzed model may legitimately ask for a huge tensor,
// and the point is to reach the kernels, not to measure the allocator.
inline constexpr int64_t kMaxRunElements = 1 << 14;
inline constexpr int64_t kMaxLayerElements = 1 << 22;

// `count` elements of value one in `type` (packed for sub-byte types): a valid index, shape
// entry, divisor and float wherever a kernel reads it.
inline std::vector<uint8_t> ones(DataType type, int64_t count) {
  std::vector<uint8_t> out(static_cast<size_t>(packed_bytes(type, count)) + 1, 0);
  auto fill = [&](auto value) {
    for (int64_t i = 0; i < count; ++i)
      std::memcpy(out.data() + i * static_cast<int64_t>(sizeof value), &value, sizeof value);
  };
  switch (type) {
    case DataType::kFLOAT:
      return fill(1.0f), out;
    case DataType::kHALF:
      return fill(float_to_half_bits(1.0f)), out;
    case DataType::kBF16:
      return fill(float_to_bf16_bits(1.0f)), out;
    case DataType::kINT32:
      return fill(int32_t{1}), out;
    case DataType::kINT64:
      return fill(int64_t{1}), out;
    case DataType::kINT8:
    case DataType::kUINT8:
    case DataType::kBOOL:
      return fill(uint8_t{1}), out;
    case DataType::kFP8:
    case DataType::kINT4:
    case DataType::kFP4:
    case DataType::kE8M0:
      return out;  // zero bits: zero in each of these encodings
  }
  return out;
}

// Runs `engine` once at the first profile's opt shapes (every input all ones) when every input
// is small enough.
// layerkit::Error is an accepted outcome; anything else propagates to the fuzzer.
inline void run_small(const Engine& engine) {
  const Network& net = engine.network();
  std::vector<Dims> dims;
  int64_t total = 0;
  for (int i = 0; i < net.num_inputs(); ++i) {
    const Tensor* in = net.input(i);
    Dims d = in->dims();
    if (!engine.config().profiles.empty())
      if (const ProfileDims* p = engine.config().profiles[0].dimensions(in->name())) d = p->opt;
    for (int64_t x : d)
      if (x < 0) return;
    const int64_t v = d.volume();
    if (v > kMaxRunElements) return;
    total += v;
    dims.push_back(d);
  }
  if (total > kMaxRunElements) return;
  // Nor when a layer's known output is large (a padding or an upsampling to millions of values
  // from a small input): a run of that size is legitimate but takes the fuzzer's time.
  for (int l = 0; l < net.num_layers(); ++l)
    for (const Tensor* t : net.layer(l)->outputs())
      if (t->dims().is_static() && t->dims().volume() > kMaxLayerElements) return;
  std::unique_ptr<ExecutionContext> ctx = engine.create_execution_context();
  std::vector<std::vector<uint8_t>> buffers;
  for (int i = 0; i < net.num_inputs(); ++i) {
    const Tensor* in = net.input(i);
    buffers.push_back(ones(in->type(), dims[i].volume()));
    ctx->set_input_shape(in->name(), dims[i]);
    ctx->set_input(in->name(), buffers.back().data());
  }
  ctx->execute();
}

}  // namespace layerkit::fuzz
