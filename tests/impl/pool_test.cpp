// Pooling building blocks against at::avg_pool/max_pool/adaptive_*_pool{1,2,3}d: ceil_mode,
// count_include_pad, divisor_override, dilation, unbatched inputs, non-divisible adaptive sizes,
// dtypes, dynamic shapes, errors, names; pool_nd (explicit pre/post padding) against ATen on
// an explicitly padded input.
#include "layerkit/impl/pool.h"

#include <cmath>
#include <limits>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace pl = layerkit::impl::pool;

const Target kTarget("pool");

// ATen 1.13 lacks several fp16 CPU pooling kernels; its kernels compute 16-bit inputs in fp32
// and round once, which this does explicitly.
at::Tensor reference(const std::function<at::Tensor(const at::Tensor&)>& f, const at::Tensor& x) {
  if (x.scalar_type() == at::kFloat) return f(x);
  return f(x.to(at::kFloat)).to(x.scalar_type());
}

int64_t volume(const std::vector<int64_t>& v) {
  int64_t k = 1;
  for (int64_t e : v) k *= e;
  return k;
}

struct AvgCase {
  std::string what;
  std::vector<int64_t> x, kernel, stride, padding;
  bool ceil_mode, count_include_pad;
  std::optional<int64_t> divisor;
};

at::Tensor aten_avg(const AvgCase& c, const at::Tensor& x) {
  switch (c.kernel.size()) {
    case 1:
      LK_CHECK(!c.divisor, "avg_pool1d has no divisor_override");
      return at::avg_pool1d(x, c.kernel, c.stride, c.padding, c.ceil_mode, c.count_include_pad);
    case 2:
      return at::avg_pool2d(x, c.kernel, c.stride, c.padding, c.ceil_mode, c.count_include_pad,
                            c.divisor ? c10::optional<int64_t>(*c.divisor) : c10::nullopt);
    default:
      return at::avg_pool3d(x, c.kernel, c.stride, c.padding, c.ceil_mode, c.count_include_pad,
                            c.divisor ? c10::optional<int64_t>(*c.divisor) : c10::nullopt);
  }
}

TEST(ImplPool, AvgPoolMatchesAten) {
  std::vector<AvgCase> cases = {
      {"1d", {2, 3, 9}, {3}, {2}, {1}, false, true, {}},
      {"1d ceil drops last window", {1, 2, 5}, {2}, {2}, {1}, true, true, {}},
      {"1d ceil exclude pad", {1, 2, 5}, {2}, {2}, {1}, true, false, {}},
      {"2d ceil clipped divisor", {1, 2, 6, 7}, {3, 2}, {2, 2}, {1, 1}, true, true, {}},
      {"2d ceil exclude pad", {2, 3, 6, 7}, {3, 2}, {2, 2}, {1, 0}, true, false, {}},
      {"2d stride > kernel", {1, 2, 9, 8}, {2, 3}, {4, 5}, {0, 1}, false, true, {}},
      {"2d stride > kernel ceil", {1, 2, 9, 8}, {2, 3}, {4, 5}, {0, 1}, true, false, {}},
      {"2d size-1 dims", {1, 1, 1, 5}, {1, 2}, {1, 1}, {0, 1}, false, false, {}},
      {"2d empty stride", {1, 2, 6, 6}, {2, 3}, {}, {0, 0}, false, true, {}},
      {"2d divisor", {1, 2, 5, 6}, {3, 2}, {2, 2}, {1, 1}, false, true, 5},
      {"2d divisor ceil", {2, 2, 6, 7}, {2, 3}, {2, 2}, {1, 1}, true, false, 4},
      {"3d", {1, 2, 4, 5, 6}, {2, 3, 2}, {2, 1, 2}, {1, 1, 0}, true, true, {}},
      {"3d divisor", {1, 1, 4, 4, 5}, {2, 2, 3}, {1, 2, 2}, {0, 1, 1}, false, true, -3},
      {"2d unbatched", {3, 7, 5}, {3, 3}, {2, 2}, {1, 1}, true, false, {}},
  };
  uint64_t seed = 1;
  for (const AvgCase& c : cases) {
    for (DataType t : kFloatTypes) {
      at::Tensor x = random(t, c.x, seed++);
      at::Tensor expected = reference([&](const at::Tensor& xx) { return aten_avg(c, xx); }, x);
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pl::avg_pool(ctx, kTarget, SourceIR::kATEN, "avg", in[0], c.kernel, c.stride,
                            c.padding, c.ceil_mode, c.count_include_pad, c.divisor);
      });
      // Sums over the kernel volume.
      expect_close(got, expected, std::sqrt(static_cast<double>(volume(c.kernel))),
                   c.what + " " + std::string(data_type_name(t)));
    }
  }
}

struct MaxCase {
  std::string what;
  std::vector<int64_t> x, kernel, stride, padding, dilation;
  bool ceil_mode;
};

TEST(ImplPool, MaxPoolMatchesAten) {
  std::vector<MaxCase> cases = {
      {"1d", {2, 3, 10}, {3}, {2}, {1}, {1}, false},
      {"1d ceil drops last window", {1, 2, 5}, {2}, {2}, {1}, {1}, true},
      {"1d dilated", {1, 2, 11}, {3}, {1}, {1}, {3}, false},
      {"2d non-square ceil", {2, 2, 7, 6}, {3, 2}, {2, 2}, {1, 1}, {1, 1}, true},
      {"2d dilated ceil", {1, 3, 9, 10}, {3, 2}, {2, 3}, {1, 0}, {2, 3}, true},
      {"2d stride > kernel", {1, 2, 8, 9}, {2, 2}, {3, 4}, {0, 1}, {1, 1}, false},
      {"2d size-1 dims", {1, 1, 1, 4}, {1, 3}, {1, 1}, {0, 1}, {1, 1}, false},
      {"3d", {1, 2, 5, 4, 6}, {2, 2, 3}, {2, 1, 2}, {1, 0, 1}, {1, 2, 1}, true},
      {"2d unbatched", {2, 5, 5}, {2, 2}, {}, {1, 1}, {1, 1}, true},
  };
  uint64_t seed = 500;
  for (const MaxCase& c : cases) {
    for (DataType t : kFloatTypes) {
      at::Tensor x = random(t, c.x, seed++);
      at::Tensor expected = reference(
          [&](const at::Tensor& xx) {
            switch (c.kernel.size()) {
              case 1:
                return at::max_pool1d(xx, c.kernel, c.stride, c.padding, c.dilation, c.ceil_mode);
              case 2:
                return at::max_pool2d(xx, c.kernel, c.stride, c.padding, c.dilation, c.ceil_mode);
              default:
                return at::max_pool3d(xx, c.kernel, c.stride, c.padding, c.dilation, c.ceil_mode);
            }
          },
          x);
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pl::max_pool(ctx, kTarget, SourceIR::kATEN, "max", in[0], c.kernel, c.stride,
                            c.padding, c.dilation, c.ceil_mode);
      });
      expect_close(got, expected, 1.0, c.what + " " + std::string(data_type_name(t)));
    }
  }
}

// pool_nd: explicit pre/post padding. The reference pads with at::constant_pad_nd (-inf for max,
// 0 for average) and pools the padded input without padding; an average that excludes padding is
// the zero-padded average over the zero-padded average of ones (the window sizes cancel).
struct PoolNdCase {
  std::string what;
  PoolingType type;
  std::vector<int64_t> x, kernel, stride, pre, post, dilation;
  bool ceil_mode, count_include_pad;
};

at::Tensor aten_pool_nd(const PoolNdCase& c, const at::Tensor& x) {
  std::vector<int64_t> pad;  // last axis first, as constant_pad_nd takes it
  for (size_t i = c.kernel.size(); i-- > 0;) {
    pad.push_back(c.pre[i]);
    pad.push_back(c.post[i]);
  }
  std::vector<int64_t> none(c.kernel.size(), 0);
  auto pool = [&](const at::Tensor& t) {
    if (c.type == PoolingType::kMAX) {
      return c.kernel.size() == 1
                 ? at::max_pool1d(t, c.kernel, c.stride, none, c.dilation, c.ceil_mode)
                 : at::max_pool2d(t, c.kernel, c.stride, none, c.dilation, c.ceil_mode);
    }
    return c.kernel.size() == 2 ? at::avg_pool2d(t, c.kernel, c.stride, none, c.ceil_mode, true)
                                : at::avg_pool3d(t, c.kernel, c.stride, none, c.ceil_mode, true);
  };
  if (c.type == PoolingType::kMAX)
    return pool(at::constant_pad_nd(x, pad, -std::numeric_limits<double>::infinity()));
  at::Tensor sum = pool(at::constant_pad_nd(x, pad, 0));
  if (c.count_include_pad) return sum;
  return sum / pool(at::constant_pad_nd(at::ones_like(x), pad, 0));
}

TEST(ImplPool, PoolNdWithExplicitPaddingMatchesPaddedAten) {
  const PoolingType kMax = PoolingType::kMAX, kAvg = PoolingType::kAVERAGE;
  std::vector<PoolNdCase> cases = {
      {"max 2d asymmetric",
       kMax,
       {2, 3, 7, 6},
       {3, 3},
       {2, 1},
       {0, 2},
       {1, 0},
       {1, 1},
       false,
       false},
      {"max 2d padding beyond half the kernel",
       kMax,
       {1, 2, 5, 5},
       {3, 2},
       {1, 1},
       {2, 1},
       {0, 1},
       {1, 1},
       false,
       false},
      {"max 1d dilated ceil", kMax, {1, 2, 10}, {3}, {2}, {2}, {0}, {2}, true, false},
      {"avg 2d include pad ceil",
       kAvg,
       {1, 2, 6, 7},
       {3, 2},
       {2, 2},
       {1, 0},
       {0, 1},
       {1, 1},
       true,
       true},
      {"avg 2d exclude pad",
       kAvg,
       {2, 2, 5, 6},
       {3, 3},
       {1, 2},
       {2, 0},
       {1, 2},
       {1, 1},
       false,
       false},
      {"avg 3d exclude pad ceil",
       kAvg,
       {1, 2, 4, 5, 6},
       {2, 3, 2},
       {2, 1, 2},
       {1, 0, 1},
       {0, 2, 0},
       {1, 1, 1},
       true,
       false},
  };
  uint64_t seed = 900;
  for (const PoolNdCase& c : cases) {
    for (DataType t : kFloatTypes) {
      at::Tensor x = random(t, c.x, seed++);
      at::Tensor expected = reference([&](const at::Tensor& xx) { return aten_pool_nd(c, xx); }, x);
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        pl::PoolNdOptions o;
        o.type = c.type;
        o.kernel_size = c.kernel;
        o.stride = c.stride;
        o.pre_padding = c.pre;
        o.post_padding = c.post;
        o.dilation = c.dilation;
        o.ceil_mode = c.ceil_mode;
        o.count_include_pad = c.count_include_pad;
        return pl::pool_nd(ctx, kTarget, SourceIR::kONNX, "pool", in[0], o);
      });
      expect_close(got, expected, std::sqrt(static_cast<double>(volume(c.kernel))),
                   c.what + " " + std::string(data_type_name(t)));
    }
  }
}

struct AdaptiveCase {
  std::string what;
  std::vector<int64_t> x, out;
};

TEST(ImplPool, AdaptivePoolsMatchAten) {
  std::vector<AdaptiveCase> cases = {
      {"1d non-divisible", {2, 3, 7}, {3}},
      {"1d upsampling", {1, 2, 3}, {5}},
      {"1d global", {2, 2, 6}, {1}},
      {"2d non-divisible", {1, 2, 7, 5}, {3, 3}},
      {"2d divisible and same", {2, 3, 6, 4}, {2, 4}},
      {"2d size-1 dims", {1, 1, 1, 9}, {1, 4}},
      {"2d unbatched", {3, 5, 8}, {2, 3}},
      {"3d", {1, 2, 5, 4, 7}, {2, 3, 4}},
  };
  uint64_t seed = 900;
  for (const AdaptiveCase& c : cases) {
    for (DataType t : kFloatTypes) {
      at::Tensor x = random(t, c.x, seed++);
      std::string what = c.what + " " + std::string(data_type_name(t));
      at::Tensor avg = reference(
          [&](const at::Tensor& xx) {
            switch (c.out.size()) {
              case 1:
                return at::adaptive_avg_pool1d(xx, c.out);
              case 2:
                return at::adaptive_avg_pool2d(xx, c.out);
              default:
                return at::adaptive_avg_pool3d(xx, c.out);
            }
          },
          x);
      at::Tensor mx = reference(
          [&](const at::Tensor& xx) {
            switch (c.out.size()) {
              case 1:
                return std::get<0>(at::adaptive_max_pool1d(xx, c.out));
              case 2:
                return std::get<0>(at::adaptive_max_pool2d(xx, c.out));
              default:
                return std::get<0>(at::adaptive_max_pool3d(xx, c.out));
            }
          },
          x);
      // Average: sums over the largest window volume.
      int64_t window = 1;
      for (size_t i = 0; i < c.out.size(); ++i) {
        int64_t in = c.x[c.x.size() - c.out.size() + i];
        window *= (in + c.out[i] - 1) / c.out[i] + 1;
      }
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pl::adaptive_avg_pool(ctx, kTarget, SourceIR::kATEN, "aavg", in[0], c.out);
      });
      expect_close(got, avg, std::sqrt(static_cast<double>(window)), "adaptive avg " + what);
      got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pl::adaptive_max_pool(ctx, kTarget, SourceIR::kATEN, "amax", in[0], c.out);
      });
      expect_close(got, mx, 1.0, "adaptive max " + what);
    }
  }
}

TEST(ImplPool, DynamicBatchAndSpatialSizesAtMinOptMax) {
  auto set = [](int64_t n, int64_t h, int64_t w, uint64_t s) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, 2, h, w}, s)};
  };
  // Kernel 2, stride 2, padding 1 in ceil mode: whether the last window is dropped depends on
  // the run-time size (5 drops it, 6 does not), so the crop is computed from shape tensors.
  std::vector<std::vector<at::Tensor>> sets = {set(1, 2, 1, 10), set(2, 5, 6, 11),
                                               set(3, 9, 8, 12)};
  run_block_dynamic(
      sets,
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pl::avg_pool(ctx, kTarget, SourceIR::kATEN, "avg", in[0], {2, 2}, {2, 2}, {1, 1},
                            true, true);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::avg_pool2d(in[0], 2, 2, 1, true, true), 2.0,
                     "dynamic avg ceil");  // sqrt(4) for the 2x2 window sums
      });
  run_block_dynamic(
      sets,
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pl::max_pool(ctx, kTarget, SourceIR::kATEN, "max", in[0], {2, 2}, {2, 2}, {1, 1},
                            {1, 1}, true);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::max_pool2d(in[0], 2, 2, 1, 1, true), 1.0, "dynamic max ceil");
      });
  run_block_dynamic(
      sets,
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pl::avg_pool(ctx, kTarget, SourceIR::kATEN, "sum", in[0], {2, 2}, {2, 2}, {1, 1},
                            true, true, 3);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::avg_pool2d(in[0], 2, 2, 1, true, true, 3), 2.0,
                     "dynamic divisor_override");  // sqrt(4): 2x2 window sums
      });
  run_block_dynamic(
      sets,
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pl::adaptive_avg_pool(ctx, kTarget, SourceIR::kATEN, "gap", in[0], {1, 1});
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        // Global average over up to 72 elements.
        expect_close(out, at::adaptive_avg_pool2d(in[0], {1, 1}), std::sqrt(72.0),
                     "dynamic global average");
      });
}

TEST(ImplPool, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {1, 2, 5, 5}, 1);
  auto avg = [](std::vector<int64_t> k, std::vector<int64_t> s, std::vector<int64_t> p,
                std::optional<int64_t> div = std::nullopt) {
    return [=](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return pl::avg_pool(ctx, kTarget, SourceIR::kATEN, "bad", in[0], k, s, p, false, true, div);
    };
  };
  expect_block_error({random(DataType::kFLOAT, {5}, 2)}, avg({2, 2}, {}, {0}),
                     {"pool::avg_pool", "'bad'", "rank 1", "takes rank 4 (or 3 unbatched)"});
  expect_block_error({x}, avg({6, 2}, {}, {0}),
                     {"larger than the padded input", "[1,2,5,5]", "[6,2]"});
  expect_block_error({x}, avg({3, 3}, {}, {-1}), {"negative padding", "[-1,-1]"});
  expect_block_error({x}, avg({3, 3}, {}, {2}), {"padding [2,2]", "half the kernel [3,3]"});
  expect_block_error({x}, avg({3, 3}, {0, 1}, {0}), {"stride [0,1]"});
  expect_block_error({x}, avg({3, 3}, {}, {0}, 0), {"divisor_override"});
  expect_block_error({x}, avg({}, {}, {0}), {"kernel []", "1 to 3 entries"});
  expect_block_error({random(DataType::kINT32, {1, 2, 5, 5}, 3, 0, 5)}, avg({2, 2}, {}, {0}),
                     {"int32", "float32, float16 or bfloat16"});
  expect_block_error(
      {x},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pl::max_pool(ctx, kTarget, SourceIR::kATEN, "bad", in[0], {3, 3}, {1}, {0}, {3, 1});
      },
      {"pool::max_pool", "larger than the padded input", "dilation [3,1]"});
  expect_block_error(
      {x},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pl::adaptive_avg_pool(ctx, kTarget, SourceIR::kATEN, "bad", in[0], {0, 2});
      },
      {"pool::adaptive_avg_pool", "output_size [0,2]"});
  expect_block_error(
      {x},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pl::adaptive_max_pool(ctx, kTarget, SourceIR::kATEN, "bad", in[0], {2, 2, 2, 2});
      },
      {"pool::adaptive_max_pool", "1 to 3 entries"});
  auto nd = [](PoolingType type, std::vector<int64_t> k, std::vector<int64_t> pre,
               std::vector<int64_t> dilation) {
    return [=](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      pl::PoolNdOptions o;
      o.type = type;
      o.kernel_size = k;
      o.pre_padding = pre;
      o.dilation = dilation;
      return pl::pool_nd(ctx, kTarget, SourceIR::kONNX, "bad", in[0], o);
    };
  };
  expect_block_error({x}, nd(PoolingType::kMAX, {2}, {}, {}),
                     {"pool::pool_nd", "'bad'", "rank 4", "1D pooling takes rank 3"});
  expect_block_error({x}, nd(PoolingType::kAVERAGE, {2, 2}, {}, {2, 1}),
                     {"pool::pool_nd", "dilation [2,1]", "max pooling only"});
  expect_block_error({x}, nd(PoolingType::kMAX, {2, 2}, {0, 0, 0}, {}),
                     {"pool::pool_nd", "pre_padding must have 1 or 2 entries"});
  expect_block_error({x}, nd(PoolingType::kMAX, {2, 2}, {2, 0}, {}),
                     {"pool::pool_nd", "padding 2 + 0", "smaller than the window extent 2"});
}

TEST(ImplPool, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {1, 2, 5, 5});
  Tensor* y =
      pl::avg_pool(ctx, "avg_pool2d", SourceIR::kATEN, "p", x, {2, 2}, {2, 2}, {1, 1}, true);
  // ROUND_UP gives 4 windows per axis; ATen drops the one starting in the right padding.
  EXPECT_EQ(y->dims(), Dims({1, 2, 3, 3}));
  EXPECT_NE(net.find_layer("[POOLING]-[aten_ops.avg_pool2d]-[p]"), nullptr) << net.to_string();
  EXPECT_EQ(y->producer()->name(), "[SLICE]-[aten_ops.avg_pool2d]-[p_ceil_crop]");
  Tensor* z = pl::adaptive_max_pool(ctx, "adaptive_max_pool2d", SourceIR::kATEN, "a", y, {2, 1});
  EXPECT_EQ(z->dims(), Dims({1, 2, 2, 1}));
  EXPECT_NE(net.find_layer("[GATHER]-[aten_ops.adaptive_max_pool2d]-[a_axis0_windows]"), nullptr)
      << net.to_string();
  EXPECT_EQ(z->producer()->name(), "[REDUCE]-[aten_ops.adaptive_max_pool2d]-[a_axis1]");
}

TEST(ImplPool, OptionStructsWithDesignatedInitializers) {
  const Dims d{2, 3, 9, 8};
  expect_same_network(
      {{DataType::kFLOAT, d}},
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return pl::avg_pool(ctx, kTarget, SourceIR::kATEN, "p", in[0], {3, 3}, {2, 2}, {1, 1}, true,
                            false, std::nullopt);
      },
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return pl::avg_pool(ctx, kTarget, SourceIR::kATEN, "p", in[0],
                            {.kernel_size = {3, 3},
                             .stride = {2, 2},
                             .padding = {1, 1},
                             .ceil_mode = true,
                             .count_include_pad = false});
      });
  expect_same_network(
      {{DataType::kFLOAT, d}},
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return pl::max_pool(ctx, kTarget, SourceIR::kATEN, "p", in[0], {2, 3}, {}, {0, 1}, {2, 1});
      },
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return pl::max_pool(ctx, kTarget, SourceIR::kATEN, "p", in[0],
                            {.kernel_size = {2, 3}, .padding = {0, 1}, .dilation = {2, 1}});
      });
  at::Tensor x = random(DataType::kFLOAT, {2, 3, 9, 8}, 5);
  at::Tensor got = run_block({x}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return pl::avg_pool(ctx, kTarget, SourceIR::kATEN, "p", in[0],
                        {.kernel_size = {3, 3}, .stride = {2, 2}, .divisor_override = 4});
  });
  expect_close(got, at::avg_pool2d(x, {3, 3}, {2, 2}, {0, 0}, false, true, 4), 1.0,
               "options avg_pool");
}

}  // namespace
}  // namespace lktest
