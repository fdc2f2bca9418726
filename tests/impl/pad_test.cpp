// Padding building blocks against ATen: constant, reflection, replication and circular padding
// over dtypes, ranks, crops, dynamic shapes, errors and layer names.
#include "layerkit/impl/pad.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace pd = layerkit::impl::pad;

const Target kTarget("pad.default");

const std::vector<DataType> kTypes = {DataType::kFLOAT, DataType::kHALF, DataType::kBF16,
                                      DataType::kINT32, DataType::kINT64};

// Runs `fn` in ATen; where ATen 1.13 has no CPU kernel for the type, computes in fp32 and rounds
// back (exact for the small values the tests use).
at::Tensor aten_or_float(const std::function<at::Tensor(const at::Tensor&)>& fn,
                         const at::Tensor& x) {
  try {
    return fn(x);
  } catch (const c10::Error&) {
    return fn(x.to(at::kFloat)).to(x.scalar_type());
  }
}

// An independent oracle for any rank: pads one dim at a time with a 1-D ATen op on [M, 1, d].
at::Tensor per_dim(const at::Tensor& x, const std::vector<int64_t>& pad,
                   const std::function<at::Tensor(const at::Tensor&, at::IntArrayRef)>& op1d) {
  at::Tensor y = x;
  int64_t rank = x.dim();
  for (size_t j = 0; j * 2 < pad.size(); ++j) {
    int64_t axis = rank - 1 - static_cast<int64_t>(j);
    at::Tensor moved = y.movedim(axis, -1).contiguous();
    std::vector<int64_t> lead(moved.sizes().begin(), moved.sizes().end() - 1);
    at::Tensor flat = moved.reshape({-1, 1, moved.size(-1)});
    at::Tensor p = aten_or_float(
        [&](const at::Tensor& t) {
          return op1d(t, {pad[2 * j], pad[2 * j + 1]});
        },
        flat);
    lead.push_back(p.size(-1));
    y = p.reshape(lead).movedim(-1, axis).contiguous();
  }
  return y;
}

struct Case {
  std::vector<int64_t> shape;
  std::vector<int64_t> pad;
};

TEST(ImplPad, ConstantMatchesAtenForEveryTypeRankAndCrop) {
  const std::vector<Case> cases = {
      {{5}, {2, 3}},
      {{3, 7}, {1, 0, 2, 2}},
      {{2, 3, 5}, {0, 2}},
      {{2, 3, 5, 4}, {-1, 2, 3, -2}},
      {{2, 1, 3, 5, 3}, {1, 1, -1, 0, 2, 1}},
      {{2, 3, 5, 4}, {1, 2, 1, 1, 1, 0, 2, 1}},  // every dim of a 4-D tensor
  };
  uint64_t seed = 100;
  for (DataType t : kTypes) {
    for (const Case& c : cases) {
      for (double value : {0.0, 2.0}) {
        at::Tensor x = random(t, c.shape, seed++, -5, 5);
        at::Tensor got =
            run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return pd::constant_pad(ctx, kTarget, SourceIR::kATEN, "p", in[0], c.pad, value);
            });
        at::Tensor expected = aten_or_float(
            [&](const at::Tensor& a) { return at::constant_pad_nd(a, c.pad, value); }, x);
        expect_close(got, expected, 1.0,
                     std::string(data_type_name(t)) + " " + dims_of(x).to_string());
      }
    }
  }
  // Bool tensors pad with false or true; a fractional value truncates for integers as in torch.
  at::Tensor b = random(DataType::kBOOL, {3, 4}, 7);
  for (double value : {0.0, 1.0}) {
    at::Tensor got = run_block({b}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return pd::constant_pad(ctx, kTarget, SourceIR::kATEN, "p", in[0], {1, 2, 0, 1}, value);
    });
    expect_close(got, at::constant_pad_nd(b, {1, 2, 0, 1}, value), 1.0, "bool");
  }
  at::Tensor i = random(DataType::kINT32, {3, 4}, 8, -5, 5);
  at::Tensor got = run_block({i}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return pd::constant_pad(ctx, kTarget, SourceIR::kATEN, "p", in[0], {1, 1}, -2.7);
  });
  expect_close(got, at::constant_pad_nd(i, {1, 1}, -2.7), 1.0, "int32 fractional value");
}

TEST(ImplPad, ReflectionAndReplicationMatchAten) {
  // The ranks ATen's reflection/replication_pad{1,2,3}d take, batched and unbatched.
  const std::vector<Case> cases = {
      {{3, 7}, {2, 3}},
      {{2, 3, 5}, {4, 0}},
      {{3, 4, 5}, {1, 2, 3, 0}},
      {{2, 3, 5, 4}, {3, 3, 1, 2}},
      {{2, 3, 4, 5}, {1, 1, 2, 0, 2, 1}},
      {{2, 1, 3, 5, 3}, {2, 1, 0, 4, 1, 2}},
  };
  uint64_t seed = 200;
  for (DataType t : kTypes) {
    for (const Case& c : cases) {
      at::Tensor x = random(t, c.shape, seed++, -5, 5);
      size_t k = c.pad.size() / 2;
      auto reflect = [&](const at::Tensor& a) {
        return k == 1   ? at::reflection_pad1d(a, c.pad)
               : k == 2 ? at::reflection_pad2d(a, c.pad)
                        : at::reflection_pad3d(a, c.pad);
      };
      auto replicate = [&](const at::Tensor& a) {
        return k == 1   ? at::replication_pad1d(a, c.pad)
               : k == 2 ? at::replication_pad2d(a, c.pad)
                        : at::replication_pad3d(a, c.pad);
      };
      std::string what = std::string(data_type_name(t)) + " " + dims_of(x).to_string();
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pd::reflection_pad(ctx, kTarget, SourceIR::kATEN, "r", in[0], c.pad);
      });
      expect_close(got, aten_or_float(reflect, x), 1.0, "reflection " + what);
      got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pd::replication_pad(ctx, kTarget, SourceIR::kATEN, "r", in[0], c.pad);
      });
      expect_close(got, aten_or_float(replicate, x), 1.0, "replication " + what);
    }
  }
}

TEST(ImplPad, BeyondAtenRanksMatchPerDimPadding) {
  // Padded-dim counts ATen's kernels do not take (1 dim of a 5-D tensor, 4 dims, a 1-D tensor),
  // checked against the 1-D ATen op applied one dim at a time.
  const std::vector<Case> cases = {
      {{2, 2, 3, 2, 5}, {2, 3}},
      {{2, 3, 4, 5}, {1, 2, 2, 1, 0, 2, 1, 1}},
      {{6}, {3, 5}},
  };
  uint64_t seed = 300;
  for (const Case& c : cases) {
    at::Tensor x = random(DataType::kFLOAT, c.shape, seed++);
    at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return pd::reflection_pad(ctx, kTarget, SourceIR::kATEN, "r", in[0], c.pad);
    });
    expect_close(
        got,
        per_dim(x, c.pad,
                [](const at::Tensor& a, at::IntArrayRef p) { return at::reflection_pad1d(a, p); }),
        1.0, "reflection " + dims_of(x).to_string());
    got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return pd::replication_pad(ctx, kTarget, SourceIR::kATEN, "r", in[0], c.pad);
    });
    expect_close(
        got,
        per_dim(x, c.pad,
                [](const at::Tensor& a, at::IntArrayRef p) { return at::replication_pad1d(a, p); }),
        1.0, "replication " + dims_of(x).to_string());
    got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return pd::circular_pad(ctx, kTarget, SourceIR::kATEN, "r", in[0], c.pad);
    });
    expect_close(
        got,
        per_dim(x, c.pad,
                [](const at::Tensor& a, at::IntArrayRef p) { return at::pad(a, p, "circular"); }),
        1.0, "circular " + dims_of(x).to_string());
  }
}

TEST(ImplPad, CircularMatchesAtenIncludingCrops) {
  const std::vector<Case> cases = {
      {{2, 3, 5}, {2, 3}},
      {{2, 3, 5}, {5, 5}},   // wraps exactly once
      {{2, 3, 5}, {-1, 2}},  // crop left, then wrap the cropped tensor
      {{2, 3, 5, 4}, {1, 2, -2, 3}},
      {{2, 3, 4, 5}, {-2, -1, 1, 1}},
      {{1, 2, 3, 4, 5}, {1, 0, 2, 3, 3, 1}},
  };
  uint64_t seed = 400;
  for (DataType t : kTypes) {
    for (const Case& c : cases) {
      at::Tensor x = random(t, c.shape, seed++, -5, 5);
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pd::circular_pad(ctx, kTarget, SourceIR::kATEN, "c", in[0], c.pad);
      });
      at::Tensor expected =
          aten_or_float([&](const at::Tensor& a) { return at::pad(a, c.pad, "circular"); }, x);
      expect_close(got, expected, 1.0,
                   std::string(data_type_name(t)) + " " + dims_of(x).to_string());
    }
  }
}

TEST(ImplPad, CircularOracleAgreesWithConcatenation) {
  // at::pad's circular mode checked once against an at::cat construction, so the oracle above is
  // not taken on trust.
  at::Tensor x = random(DataType::kFLOAT, {2, 3, 5}, 9);
  at::Tensor cat = at::cat({x.narrow(2, 3, 2), x, x.narrow(2, 0, 3)}, 2);
  EXPECT_TRUE(at::equal(at::pad(x, {2, 3}, "circular"), cat));
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return pd::circular_pad(ctx, kTarget, SourceIR::kATEN, "c", in[0], {2, 3});
  });
  expect_close(got, cat, 1.0, "circular vs cat");
}

TEST(ImplPad, DynamicShapesAtMinOptMax) {
  auto set = [](int64_t n, int64_t h, int64_t w, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, 2, h, w}, seed)};
  };
  const std::vector<std::vector<at::Tensor>> sets = {set(1, 4, 4, 1), set(2, 5, 7, 2),
                                                     set(3, 9, 11, 3)};
  const std::vector<int64_t> pad = {1, 3, 2, 0};
  run_block_dynamic(
      sets,
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pd::constant_pad(ctx, kTarget, SourceIR::kATEN, "p", in[0], {1, -1, 2, 0}, 1.5);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::constant_pad_nd(in[0], {1, -1, 2, 0}, 1.5), 1.0, "constant");
      });
  run_block_dynamic(
      sets,
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pd::reflection_pad(ctx, kTarget, SourceIR::kATEN, "p", in[0], pad);
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::reflection_pad2d(in[0], pad), 1.0, "reflection");
      });
  run_block_dynamic(
      sets,
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pd::replication_pad(ctx, kTarget, SourceIR::kATEN, "p", in[0], pad);
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::replication_pad2d(in[0], pad), 1.0, "replication");
      });
  run_block_dynamic(
      sets,
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pd::circular_pad(ctx, kTarget, SourceIR::kATEN, "p", in[0], {-1, 2, 3, 1});
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::pad(in[0], {-1, 2, 3, 1}, "circular"), 1.0, "circular");
      });
}

BlockFn constant(std::vector<int64_t> pad) {
  return [pad](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return pd::constant_pad(ctx, kTarget, SourceIR::kATEN, "p", in[0], pad, 1.0);
  };
}

TEST(ImplPad, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {2, 3, 4}, 1);
  expect_block_error({x}, constant({1, 2, 3}),
                     {"pad::constant_pad", "pad.default", "'p'", "divisible by 2", "[1,2,3]"});
  expect_block_error({x}, constant({1, 1, 1, 1, 1, 1, 1, 1}), {"too large", "rank 3", "length 8"});
  expect_block_error({x}, constant({-3, -2}), {"negative output size", "-1", "size 4"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return pd::reflection_pad(ctx, kTarget, SourceIR::kATEN, "r", in[0], {1, 4});
                     },
                     {"pad::reflection_pad", "less than", "padding 1 and 4 of dim 2", "size 4"});
  expect_block_error(
      {x},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pd::replication_pad(ctx, kTarget, SourceIR::kATEN, "r", in[0], {1, -1});
      },
      {"pad::replication_pad", "non-negative", "-1"});
  expect_block_error(
      {x},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return pd::circular_pad(ctx, kTarget, SourceIR::kATEN, "c", in[0], {0, 0, 4, 0});
      },
      {"pad::circular_pad", "more than once", "padding 4 and 0 of dim 1", "size 3"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>&) {
                       return pd::constant_pad(ctx, kTarget, SourceIR::kATEN, "p", nullptr, {1, 1});
                     },
                     {"null tensor"});
}

TEST(ImplPad, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 3, 4});
  Tensor* y = pd::constant_pad(ctx, "constant_pad_nd", SourceIR::kATEN, "pad_1", x, {1, 1}, 2.0);
  EXPECT_EQ(y->producer()->name(), "[SLICE]-[aten_ops.constant_pad_nd]-[pad_1]");
  EXPECT_NE(net.find_layer("[CONSTANT]-[aten_ops.constant_pad_nd]-[pad_1_value_scalar]"), nullptr)
      << net.to_string();
  Tensor* z = pd::circular_pad(ctx, "pad", std::nullopt, "c", y, {-1, 2});
  EXPECT_EQ(z->producer()->name(), "[SLICE]-[unknown_ops.pad]-[c]");
  EXPECT_NE(net.find_layer("[SLICE]-[unknown_ops.pad]-[c_crop]"), nullptr) << net.to_string();

  Tensor* d = net.add_input("d", DataType::kFLOAT, {-1, 3});
  Tensor* w = pd::replication_pad(ctx, "replication_pad1d", SourceIR::kATEN, "rp", d, {0, 0, 1, 1});
  EXPECT_EQ(w->producer()->name(), "[SLICE]-[aten_ops.replication_pad1d]-[rp]");
  for (const char* n : {"[SHAPE]-[aten_ops.replication_pad1d]-[rp_shape]",
                        "[CONSTANT]-[aten_ops.replication_pad1d]-[rp_delta]",
                        "[ELEMENTWISE]-[aten_ops.replication_pad1d]-[rp_size]"})
    EXPECT_NE(net.find_layer(n), nullptr) << n << "\n" << net.to_string();
}

}  // namespace
}  // namespace lktest
