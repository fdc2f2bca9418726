// Block-quantization building blocks against the NVFP4, MXFP8 and FP8 definitions.
#include "layerkit/impl/dynamic_block_quantize.h"

#include <cmath>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace dbq = layerkit::impl::dynamic_block_quantize;
using dbq::BlockFormat;

// Nearest value of a finite non-negative grid (ties to the even index), saturating at its end.
float round_to_grid(const std::vector<float>& grid, float v) {
  float a = std::fabs(v);
  if (a >= grid.back()) return std::copysign(grid.back(), v);
  size_t best = 0;
  for (size_t c = 1; c < grid.size(); ++c) {
    float d = std::fabs(grid[c] - a), db = std::fabs(grid[best] - a);
    if (d < db || (d == db && c % 2 == 0)) best = c;
  }
  return std::copysign(grid[best], v);
}
// FP8 E4M3 non-negative finite values by code (subnormals 2^-6 * m/8); FP4 E2M1 likewise.
const std::vector<float>& fp8_grid() {
  static const std::vector<float> g = [] {
    std::vector<float> t;
    for (int code = 0; code < 0x7f; ++code) {
      int e = code >> 3, m = code & 7;
      t.push_back(e == 0 ? std::ldexp(m / 8.0f, -6) : std::ldexp(1.0f + m / 8.0f, e - 7));
    }
    return t;
  }();
  return g;
}
const std::vector<float>& fp4_grid() {
  static const std::vector<float> g = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  return g;
}

// dequant(quant(x)) by the format definitions, blocks along the last axis of a [rows, cols] x.
at::Tensor reference(const at::Tensor& x, BlockFormat f, int block, float g) {
  at::Tensor out = at::empty_like(x);
  const float* p = x.data_ptr<float>();
  float* o = out.data_ptr<float>();
  int64_t n = x.numel();
  for (int64_t b0 = 0; b0 < n; b0 += block) {
    float amax = 0;
    for (int64_t i = b0; i < b0 + block; ++i) amax = std::max(amax, std::fabs(p[i]));
    float s = 0;  // the stored block scale
    if (f == BlockFormat::kNVFP4) s = round_to_grid(fp8_grid(), amax / 6.0f / g);
    if (f == BlockFormat::kFP8) s = amax / 448.0f / g;
    if (f == BlockFormat::kMXFP8)
      s = amax == 0 ? std::ldexp(1.0f, -127)
                    : std::ldexp(1.0f, static_cast<int>(std::ceil(std::log2(amax / 448.0f))));
    float full = f == BlockFormat::kMXFP8 ? s : s * g;
    for (int64_t i = b0; i < b0 + block; ++i) {
      float q = 0;
      if (full != 0)
        q = round_to_grid(f == BlockFormat::kNVFP4 ? fp4_grid() : fp8_grid(), p[i] / full);
      o[i] = q * full;
    }
  }
  return out;
}

struct Case {
  BlockFormat format;
  int block;
  float global;
};
const std::vector<Case> kCases = {{BlockFormat::kNVFP4, 16, 0.02f},
                                  {BlockFormat::kMXFP8, 32, 1.0f},
                                  {BlockFormat::kFP8, 8, 0.5f}};

Tensor* round_trip(ConversionContext& ctx, Tensor* x, const Case& c) {
  std::optional<Operand> g;
  if (c.format != BlockFormat::kMXFP8) g = Operand(static_cast<double>(c.global));
  dbq::Quantized q = dbq::quantize(ctx, "dbq", SourceIR::kATEN, "q", x, c.format, c.block, g);
  return dbq::dequantize(ctx, "dbq", SourceIR::kATEN, "dq", q, c.format, g);
}

TEST(ImplDynamicBlockQuantize, RoundTripFollowsTheFormatDefinitions) {
  uint64_t seed = 1;
  for (const Case& c : kCases) {
    at::Tensor x = random(DataType::kFLOAT, {4, 64}, seed++, -5, 5);
    // One all-zero block and one block with a large outlier.
    x.slice(1, 0, c.block).select(0, 1).zero_();
    x.select(0, 2).data_ptr<float>()[3] = 900.0f;
    at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return round_trip(ctx, in[0], c);
    });
    expect_close(got, reference(x, c.format, c.block, c.global), 1.0,
                 "format " + std::to_string(static_cast<int>(c.format)));
  }
}

TEST(ImplDynamicBlockQuantize, HalfAndBf16InputsAndDynamicRows) {
  for (DataType t : {DataType::kHALF, DataType::kBF16}) {
    auto set = [&](int64_t rows) {
      return std::vector<at::Tensor>{random(t, {rows, 32}, static_cast<uint64_t>(rows), -3, 3)};
    };
    Case c = kCases[0];
    Network net;
    ConversionContext ctx(net);
    // Rows dynamic, the blocked axis static (as the layer requires).
    Tensor* x = net.add_input("x", t, {-1, 32});
    net.mark_output(round_trip(ctx, x, c));
    BuilderConfig config;
    OptimizationProfile p;
    p.set_dimensions("x", {1, 32}, {3, 32}, {6, 32});
    config.profiles.push_back(p);
    Runner r(net, config);
    for (int64_t rows : {1, 3, 6}) {
      at::Tensor in = set(rows)[0];
      at::Tensor expected = reference(in.to(at::kFloat), c.format, c.block, c.global);
      expect_close(r.run({in})[0], expected, 1.0, std::string(data_type_name(t)));
    }
  }
}

TEST(ImplDynamicBlockQuantize, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {2, 48}, 9);
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return dbq::quantize(ctx, "d", SourceIR::kATEN, "q", in[0],
                                            BlockFormat::kNVFP4, 32, 1.0)
                           .data;
                     },
                     {"dynamic_block_quantize::quantize", "NVFP4 uses blocks of 16, not 32"});
  expect_block_error(
      {x},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return dbq::quantize(ctx, "d", SourceIR::kATEN, "q", in[0], BlockFormat::kNVFP4, 16).data;
      },
      {"NVFP4 needs a global scale"});
  expect_block_error(
      {x},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return dbq::quantize(ctx, "d", SourceIR::kATEN, "q", in[0], BlockFormat::kMXFP8, 32).data;
      },
      {"DynamicQuantize layer", "48", "32"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return dbq::quantize(ctx, "d", SourceIR::kATEN, "q", in[0],
                                            BlockFormat::kFP8, 8, -1.0)
                           .data;
                     },
                     {"global scale -1 must be positive"});
}

TEST(ImplDynamicBlockQuantize, LayerNames) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 32});
  dbq::Quantized q =
      dbq::quantize(ctx, "dbq", SourceIR::kATEN, "nvfp4", x, BlockFormat::kNVFP4, 16, 1.0);
  EXPECT_EQ(q.data->producer()->name(), "[DYNAMIC_QUANTIZE]-[aten_ops.dbq]-[nvfp4]");
  EXPECT_EQ(q.data->name(), "[DYNAMIC_QUANTIZE]-[aten_ops.dbq]-[nvfp4]_output0");
  EXPECT_EQ(q.scales->name(), "[DYNAMIC_QUANTIZE]-[aten_ops.dbq]-[nvfp4]_output1");
  Tensor* x2 = dbq::dequantize(ctx, "dbq", SourceIR::kATEN, "deq", q, BlockFormat::kNVFP4, 1.0);
  EXPECT_EQ(x2->producer()->name(), "[SHUFFLE]-[aten_ops.dbq]-[deq]");
  Tensor* x3 = dbq::dequantize(ctx, "dbq", SourceIR::kATEN, "deq16", q, BlockFormat::kNVFP4, 1.0,
                               DataType::kHALF);
  EXPECT_EQ(x3->producer()->name(), "[CAST]-[aten_ops.dbq]-[deq16]");
}

}  // namespace
}  // namespace lktest
