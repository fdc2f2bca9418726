// Normalization building blocks against ATen: batch/layer/group/instance/RMS norm, softmax and
// log_softmax over the float types, dynamic shapes, errors and layer names.
#include "layerkit/impl/normalization.h"

#include <cmath>
#include <tuple>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace nm = layerkit::impl::normalization;

const Target kTarget("test.op");

HostConstant host(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return HostConstant::of(dims_of(c),
                          Weights::copy(from_aten(c.scalar_type()), c.data_ptr(), c.numel()));
}

// ATen 1.13 lacks some fp16/bf16 CPU kernels; then the reference computes in fp32 and rounds
// once, which is what ATen's kernels do where they exist.
at::Tensor reference(const std::function<at::Tensor(const at::Tensor&)>& f, const at::Tensor& x) {
  if (x.scalar_type() == at::kHalf || x.scalar_type() == at::kBFloat16)
    return f(x.to(at::kFloat)).to(x.scalar_type());
  return f(x);
}

std::string tname(DataType t) {
  return std::string(data_type_name(t));
}

TEST(ImplNormalization, BatchNormConstantStatsFoldIntoOneScaleLayer) {
  uint64_t seed = 1;
  for (DataType t : kFloatTypes) {
    for (std::vector<int64_t> shape :
         {std::vector<int64_t>{2, 3, 4, 5}, {3, 5}, {2, 7, 3}, {1, 3, 2, 3, 2}}) {
      int64_t c = shape[1];
      at::Tensor x = random(t, shape, seed++, -3, 3);
      at::Tensor w = random(DataType::kFLOAT, {c}, seed++, 0.5, 2);
      at::Tensor b = random(DataType::kFLOAT, {c}, seed++);
      at::Tensor m = random(DataType::kFLOAT, {c}, seed++);
      at::Tensor v = random(DataType::kFLOAT, {c}, seed++, 0.1, 3);
      Network* seen = nullptr;
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        seen = &ctx.net();
        Tensor* y = nm::batch_norm(ctx, kTarget, SourceIR::kATEN, "bn", in[0], host(w), host(b),
                                   host(m), host(v), false, 0.1, 1e-3);
        EXPECT_EQ(ctx.net().num_layers(), 2) << ctx.net().to_string();  // input and Scale
        EXPECT_EQ(y->producer()->kind(), LayerKind::kSCALE);
        return y;
      });
      at::Tensor want = reference(
          [&](const at::Tensor& xf) {
            return at::batch_norm(xf, w, b, m, v, false, 0.1, 1e-3, false);
          },
          x);
      expect_close(got, want, 1.0, "batch_norm " + tname(t));
    }
  }
}

TEST(ImplNormalization, BatchNormConstantLayerStatsAlsoFold) {
  at::Tensor x = random(DataType::kFLOAT, {2, 4, 3}, 11);
  at::Tensor m = random(DataType::kFLOAT, {4}, 12);
  at::Tensor v = random(DataType::kFLOAT, {4}, 13, 0.2, 2);
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    Tensor* tm = constant(ctx.net(), m);
    Tensor* tv = constant(ctx.net(), v);
    Tensor* y = nm::batch_norm(ctx, kTarget, SourceIR::kATEN, "bn", in[0], std::nullopt,
                               std::nullopt, tm, tv);
    EXPECT_EQ(y->producer()->kind(), LayerKind::kSCALE);
    return y;
  });
  expect_close(got, at::batch_norm(x, {}, {}, m, v, false, 0.1, 1e-5, false));
}

TEST(ImplNormalization, BatchNormRunTimeStatsUseTheComposite) {
  uint64_t seed = 100;
  for (DataType t : kFloatTypes) {
    for (bool affine : {true, false}) {
      at::Tensor x = random(t, {2, 3, 5}, seed++, -3, 3);
      at::Tensor w = random(t, {3}, seed++, 0.5, 2);
      at::Tensor b = random(t, {3}, seed++);
      at::Tensor m = random(t, {3}, seed++);
      at::Tensor v = random(t, {3}, seed++, 0.1, 3);
      at::Tensor got =
          run_block({x, w, b, m, v}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            std::optional<Operand> wo, bo;
            if (affine) wo = in[1], bo = in[2];
            Tensor* y = nm::batch_norm(ctx, kTarget, SourceIR::kATEN, "bn", in[0], wo, bo, in[3],
                                       in[4], false, 0.1, 1e-4);
            EXPECT_NE(y->producer()->kind(), LayerKind::kSCALE);
            return y;
          });
      auto f = [](const at::Tensor& a) {
        return a.scalar_type() == at::kFloat ? a : a.to(at::kFloat);
      };
      at::Tensor want = reference(
          [&](const at::Tensor& xf) {
            return at::batch_norm(xf, affine ? f(w) : at::Tensor(), affine ? f(b) : at::Tensor(),
                                  f(m), f(v), false, 0.1, 1e-4, false);
          },
          x);
      expect_close(got, want, 1.0, "batch_norm composite " + tname(t));
    }
  }
}

TEST(ImplNormalization, LayerNormOverTrailingDims) {
  uint64_t seed = 200;
  struct Case {
    std::vector<int64_t> shape, normalized;
    bool affine;
  };
  std::vector<Case> cases = {
      {{2, 3, 7}, {7}, true}, {{2, 3, 7}, {3, 7}, true}, {{5, 13}, {13}, false}, {{9}, {9}, true}};
  for (DataType t : kFloatTypes) {
    for (const Case& c : cases) {
      at::Tensor x = random(t, c.shape, seed++, -3, 3);
      at::Tensor w = random(t, c.normalized, seed++, 0.5, 2);
      at::Tensor b = random(t, c.normalized, seed++);
      at::Tensor got =
          run_block({x, w, b}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            std::optional<Operand> wo, bo;
            if (c.affine) wo = in[1], bo = in[2];
            return nm::layer_norm(ctx, kTarget, SourceIR::kATEN, "ln", in[0], c.normalized, wo, bo,
                                  1e-5);
          });
      at::Tensor want = reference(
          [&](const at::Tensor& xf) {
            at::Tensor wf = c.affine ? w.to(at::kFloat) : at::Tensor();
            at::Tensor bf = c.affine ? b.to(at::kFloat) : at::Tensor();
            return at::layer_norm(xf, c.normalized, wf, bf, 1e-5);
          },
          x);
      int64_t k = 1;
      for (int64_t d : c.normalized) k *= d;
      // The statistics accumulate over k elements.
      expect_close(got, want, std::sqrt(static_cast<double>(k)), "layer_norm " + tname(t));
    }
  }
}

TEST(ImplNormalization, GroupNormEveryGroupCount) {
  uint64_t seed = 300;
  for (DataType t : kFloatTypes) {
    for (std::vector<int64_t> shape : {std::vector<int64_t>{2, 6, 3, 5}, {3, 6}, {2, 6, 7}}) {
      for (int64_t g : {1, 2, 3, 6}) {
        // Groups of one element normalize to 0 * x / sqrt(eps): ATen's folded x * scale + shift
        // then cancels in fp32, so it is no oracle there.
        if (shape.size() == 2 && g == 6) continue;
        at::Tensor x = random(t, shape, seed++, -3, 3);
        at::Tensor w = random(t, {6}, seed++, 0.5, 2);
        at::Tensor b = random(t, {6}, seed++);
        at::Tensor got = run_block({x, w, b}, [&](ConversionContext& ctx,
                                                  const std::vector<Tensor*>& in) {
          return nm::group_norm(ctx, kTarget, SourceIR::kATEN, "gn", in[0], g, in[1], in[2], 1e-5);
        });
        at::Tensor want = reference(
            [&](const at::Tensor& xf) {
              return at::group_norm(xf, g, w.to(at::kFloat), b.to(at::kFloat), 1e-5);
            },
            x);
        int64_t k = x.numel() / shape[0] / g;  // elements per group statistic
        expect_close(got, want, std::sqrt(static_cast<double>(k)),
                     "group_norm G=" + std::to_string(g) + " " + tname(t));
      }
    }
  }
  // Without weight and bias.
  at::Tensor x = random(DataType::kFLOAT, {2, 4, 3}, 390);
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return nm::group_norm(ctx, kTarget, SourceIR::kATEN, "gn", in[0], 2);
  });
  expect_close(got, at::group_norm(x, 2), std::sqrt(6.0), "group_norm without affine");
}

TEST(ImplNormalization, InstanceNormWithAndWithoutInputStats) {
  uint64_t seed = 400;
  for (DataType t : kFloatTypes) {
    for (std::vector<int64_t> shape : {std::vector<int64_t>{2, 3, 4, 5}, {2, 3, 7}}) {
      at::Tensor x = random(t, shape, seed++, -3, 3);
      at::Tensor w = random(DataType::kFLOAT, {3}, seed++, 0.5, 2);
      at::Tensor b = random(DataType::kFLOAT, {3}, seed++);
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return nm::instance_norm(ctx, kTarget, SourceIR::kATEN, "in", in[0], host(w), host(b));
      });
      at::Tensor want = reference(
          [&](const at::Tensor& xf) {
            return at::instance_norm(xf, w, b, {}, {}, true, 0.1, 1e-5, false);
          },
          x);
      int64_t k = x.numel() / shape[0] / shape[1];
      expect_close(got, want, std::sqrt(static_cast<double>(k)), "instance_norm " + tname(t));
    }
  }
  at::Tensor x = random(DataType::kFLOAT, {2, 3, 4}, 480);
  at::Tensor m = random(DataType::kFLOAT, {3}, 481), v = random(DataType::kFLOAT, {3}, 482, 0.1, 2);
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return nm::instance_norm(ctx, kTarget, SourceIR::kATEN, "in", in[0], std::nullopt, std::nullopt,
                             host(m), host(v), false);
  });
  expect_close(got, at::instance_norm(x, {}, {}, m, v, false, 0.1, 1e-5, false), 1.0,
               "instance_norm with running stats");
}

// torch.nn.functional.rms_norm (not in ATen 1.13), written with ATen ops in fp32.
at::Tensor rms_reference(const at::Tensor& x, int64_t k, const at::Tensor& w, double eps) {
  at::Tensor xf = x.to(at::kFloat);
  std::vector<int64_t> dims;
  for (int64_t i = x.dim() - k; i < x.dim(); ++i) dims.push_back(i);
  at::Tensor r = xf * at::rsqrt(at::mean(xf * xf, dims, true) + eps);
  if (w.defined()) r = r * w.to(at::kFloat);
  return r.to(x.scalar_type());
}

TEST(ImplNormalization, RmsNormMatchesTheFormula) {
  uint64_t seed = 500;
  for (DataType t : kFloatTypes) {
    for (int64_t k : {1, 2}) {
      for (bool with_weight : {true, false}) {
        at::Tensor x = random(t, {3, 5, 7}, seed++, -3, 3);
        std::vector<int64_t> ns(x.sizes().end() - k, x.sizes().end());
        at::Tensor w = random(t, ns, seed++, 0.5, 2);
        at::Tensor got =
            run_block({x, w}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              std::optional<Operand> wo;
              if (with_weight) wo = in[1];
              return nm::rms_norm(ctx, kTarget, SourceIR::kATEN, "rms", in[0], ns, wo, 1e-6);
            });
        int64_t n = k == 1 ? 7 : 35;
        expect_close(got, rms_reference(x, k, with_weight ? w : at::Tensor(), 1e-6),
                     std::sqrt(static_cast<double>(n)), "rms_norm " + tname(t));
      }
    }
  }
  // eps=None: the type's machine epsilon, visible on a tiny input.
  at::Tensor x = at::full({2, 4}, 1e-3, at::kFloat);
  at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return nm::rms_norm(ctx, kTarget, SourceIR::kATEN, "rms", in[0], {4});
  });
  expect_close(got, rms_reference(x, 1, {}, 1.1920928955078125e-07), 1.0, "default eps");
}

TEST(ImplNormalization, SoftmaxAndLogSoftmaxOnEveryDim) {
  uint64_t seed = 600;
  for (DataType t : kFloatTypes) {
    for (int64_t dim : {0, 1, 2, -1, -2, -3}) {
      at::Tensor x = random(t, {3, 5, 6}, seed++, -6, 6);
      int64_t n = x.size(dim);
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return nm::softmax(ctx, kTarget, SourceIR::kATEN, "sm", in[0], dim);
      });
      // The normalizing sum accumulates n terms.
      double scale = std::sqrt(static_cast<double>(n));
      expect_close(got, reference([&](const at::Tensor& a) { return at::softmax(a, dim); }, x),
                   scale, "softmax " + tname(t) + " dim " + std::to_string(dim));
      got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return nm::log_softmax(ctx, kTarget, SourceIR::kATEN, "lsm", in[0], dim);
      });
      expect_close(got, reference([&](const at::Tensor& a) { return at::log_softmax(a, dim); }, x),
                   scale, "log_softmax " + tname(t) + " dim " + std::to_string(dim));
    }
  }
}

TEST(ImplNormalization, SoftmaxEdgeCases) {
  // log_softmax stays finite where softmax underflows to 0.
  at::Tensor x = at::tensor({0.0f, -200.0f, 50.0f, -1000.0f}).reshape({1, 4});
  at::Tensor got = run_block({x}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return nm::log_softmax(ctx, kTarget, SourceIR::kATEN, "lsm", in[0], 1);
  });
  expect_close(got, at::log_softmax(x, 1), 2.0, "large range");  // 4 terms: sqrt(4)
  // 0-d input.
  at::Tensor s = at::tensor(2.5f).reshape({});
  for (bool log : {false, true}) {
    got = run_block({s}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
      return log ? nm::log_softmax(ctx, kTarget, SourceIR::kATEN, "s", in[0], -1)
                 : nm::softmax(ctx, kTarget, SourceIR::kATEN, "s", in[0], 0);
    });
    expect_close(got, log ? at::log_softmax(s, -1) : at::softmax(s, 0), 1.0, "0-d");
  }
  // An integer input with a float dtype.
  at::Tensor i = random(DataType::kINT32, {2, 5}, 7, -4, 4);
  got = run_block({i}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return nm::softmax(ctx, kTarget, SourceIR::kATEN, "sm", in[0], 1, DataType::kFLOAT);
  });
  expect_close(got, at::softmax(i, 1, at::kFloat), std::sqrt(5.0), "int32 with dtype float32");
}

TEST(ImplNormalization, DynamicShapesAtMinOptMax) {
  auto sets = [](std::vector<std::vector<int64_t>> shapes, uint64_t seed) {
    std::vector<std::vector<at::Tensor>> out;
    for (auto& s : shapes) out.push_back({random(DataType::kFLOAT, s, seed++, -3, 3)});
    return out;
  };
  at::Tensor w = random(DataType::kFLOAT, {8}, 1, 0.5, 2), b = random(DataType::kFLOAT, {8}, 2);
  // Dynamic batch and sequence length; the normalized dim stays 8.
  run_block_dynamic(
      sets({{1, 1, 8}, {2, 5, 8}, {4, 9, 8}}, 10),
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return nm::layer_norm(ctx, kTarget, SourceIR::kATEN, "ln", in[0], {8}, host(w), host(b));
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::layer_norm(in[0], {8}, w, b), std::sqrt(8.0), "layer_norm dynamic");
      });
  run_block_dynamic(
      sets({{1, 1, 8}, {2, 5, 8}, {4, 9, 8}}, 20),
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return nm::rms_norm(ctx, kTarget, SourceIR::kATEN, "rms", in[0], {8}, host(w), 1e-5);
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, rms_reference(in[0], 1, w, 1e-5), std::sqrt(8.0), "rms_norm dynamic");
      });
  // Dynamic batch and spatial size; C = 8 comes from the parameters.
  at::Tensor m = random(DataType::kFLOAT, {8}, 3), v = random(DataType::kFLOAT, {8}, 4, 0.1, 2);
  run_block_dynamic(
      sets({{1, 8, 1, 1}, {2, 8, 3, 5}, {3, 8, 6, 7}}, 30),
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return nm::batch_norm(ctx, kTarget, SourceIR::kATEN, "bn", in[0], host(w), host(b), host(m),
                              host(v));
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::batch_norm(in[0], w, b, m, v, false, 0.1, 1e-5, false), 1.0,
                     "batch_norm dynamic");
      });
  run_block_dynamic(
      sets({{1, 8, 1, 1}, {2, 8, 3, 5}, {3, 8, 6, 7}}, 40),
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return nm::group_norm(ctx, kTarget, SourceIR::kATEN, "gn", in[0], 4, host(w), host(b));
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        double k = static_cast<double>(in[0].numel() / in[0].size(0) / 4);
        expect_close(out, at::group_norm(in[0], 4, w, b), std::sqrt(k), "group_norm dynamic");
      });
  run_block_dynamic(
      sets({{1, 8, 1, 2}, {2, 8, 3, 5}, {3, 8, 6, 7}}, 50),
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return nm::instance_norm(ctx, kTarget, SourceIR::kATEN, "in", in[0], host(w), host(b));
      },
      [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        double k = static_cast<double>(in[0].size(2) * in[0].size(3));
        expect_close(out, at::instance_norm(in[0], w, b, {}, {}, true, 0.1, 1e-5, false),
                     std::sqrt(k), "instance_norm dynamic");
      });
  for (bool log : {false, true}) {
    run_block_dynamic(
        sets({{1, 1}, {3, 6}, {5, 11}}, 60),
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return log ? nm::log_softmax(ctx, kTarget, SourceIR::kATEN, "s", in[0], -1)
                     : nm::softmax(ctx, kTarget, SourceIR::kATEN, "s", in[0], -1);
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          double k = static_cast<double>(in[0].size(1));
          expect_close(out, log ? at::log_softmax(in[0], -1) : at::softmax(in[0], -1), std::sqrt(k),
                       log ? "log_softmax dynamic" : "softmax dynamic");
        });
  }
}

TEST(ImplNormalization, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {2, 6, 4}, 1);
  at::Tensor xi = random(DataType::kINT32, {2, 6, 4}, 2, -3, 3);
  at::Tensor c6 = random(DataType::kFLOAT, {6}, 3, 0.5, 2);
  at::Tensor c5 = random(DataType::kFLOAT, {5}, 4, 0.5, 2);
  using In = const std::vector<Tensor*>&;
  expect_block_error({x},
                     [&](ConversionContext& ctx, In in) {
                       return nm::batch_norm(ctx, kTarget, SourceIR::kATEN, "bn", in[0], host(c6),
                                             host(c6), host(c6), host(c6), true);
                     },
                     {"normalization::batch_norm", "'bn'", "training=true"});
  expect_block_error({x},
                     [&](ConversionContext& ctx, In in) {
                       return nm::batch_norm(ctx, kTarget, SourceIR::kATEN, "bn", in[0], host(c5),
                                             std::nullopt, host(c6), host(c6));
                     },
                     {"weight has 5 elements", "C = 6"});
  expect_block_error({x, c6},
                     [&](ConversionContext& ctx, In in) {
                       // The composite path: the error comes after nothing was added.
                       return nm::batch_norm(ctx, kTarget, SourceIR::kATEN, "bn", in[0],
                                             std::nullopt, std::nullopt, in[1], host(c5));
                     },
                     {"running_var has 5 elements"});
  expect_block_error(
      {x},
      [&](ConversionContext& ctx, In in) {
        return nm::layer_norm(ctx, kTarget, SourceIR::kATEN, "ln", in[0], {5});
      },
      {"normalization::layer_norm", "normalized_shape [5]", "trailing dims", "[2,6,4]"});
  expect_block_error(
      {x},
      [&](ConversionContext& ctx, In in) {
        return nm::layer_norm(ctx, kTarget, SourceIR::kATEN, "ln", in[0], {3, 2, 6, 4});
      },
      {"more dims"});
  expect_block_error({x},
                     [&](ConversionContext& ctx, In in) {
                       return nm::layer_norm(ctx, kTarget, SourceIR::kATEN, "ln", in[0], {4},
                                             host(c6));
                     },
                     {"weight must have shape normalized_shape [4]", "[6]"});
  expect_block_error({x},
                     [&](ConversionContext& ctx, In in) {
                       return nm::group_norm(ctx, kTarget, SourceIR::kATEN, "gn", in[0], 4);
                     },
                     {"normalization::group_norm", "num_groups 4", "C = 6"});
  expect_block_error({x},
                     [&](ConversionContext& ctx, In in) {
                       return nm::group_norm(ctx, kTarget, SourceIR::kATEN, "gn", in[0], 3,
                                             host(c5));
                     },
                     {"weight has 5 elements", "C = 6"});
  expect_block_error({random(DataType::kFLOAT, {2, 6}, 5)},
                     [&](ConversionContext& ctx, In in) {
                       return nm::instance_norm(ctx, kTarget, SourceIR::kATEN, "in", in[0]);
                     },
                     {"rank >= 3", "[2,6]"});
  expect_block_error({x},
                     [&](ConversionContext& ctx, In in) {
                       return nm::rms_norm(ctx, kTarget, SourceIR::kATEN, "rms", in[0], {6, 5});
                     },
                     {"normalized_shape [6,5]"});
  expect_block_error({xi},
                     [&](ConversionContext& ctx, In in) {
                       return nm::softmax(ctx, kTarget, SourceIR::kATEN, "sm", in[0], 1);
                     },
                     {"normalization::softmax", "int32"});
  expect_block_error({x},
                     [&](ConversionContext& ctx, In in) {
                       return nm::log_softmax(ctx, kTarget, SourceIR::kATEN, "sm", in[0], -4);
                     },
                     {"dim -4", "-3..2"});
  expect_block_error({x},
                     [&](ConversionContext& ctx, In in) {
                       return nm::layer_norm(ctx, kTarget, SourceIR::kATEN, "ln", in[0], {4},
                                             std::nullopt, std::nullopt, -1.0);
                     },
                     {"eps", "-1"});
}

TEST(ImplNormalization, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kHALF, {2, 4, 3});
  at::Tensor c = random(DataType::kFLOAT, {4}, 1, 0.5, 2);
  Tensor* y = nm::batch_norm(ctx, "batch_norm", SourceIR::kATEN, "bn1", x, host(c), host(c),
                             host(c), host(c));
  EXPECT_EQ(y->producer()->name(), "[SCALE]-[aten_ops.batch_norm]-[bn1]");
  EXPECT_EQ(ctx.weight_map().count("bn1_scale"), 1u);
  Tensor* l = nm::layer_norm(ctx, "layer_norm", SourceIR::kATEN, "ln", y, {3});
  EXPECT_EQ(l->producer()->name(), "[NORMALIZATION]-[aten_ops.layer_norm]-[ln]");
  EXPECT_NE(net.find_layer("[CONSTANT]-[aten_ops.layer_norm]-[ln_weight]"), nullptr)
      << net.to_string();
  EXPECT_NE(net.find_layer("[CONSTANT]-[aten_ops.layer_norm]-[ln_bias]"), nullptr);
  // A 16-bit composite ends in the cast back, which carries the name.
  Tensor* s = nm::log_softmax(ctx, "_log_softmax", std::nullopt, "lsm", l, -1);
  EXPECT_EQ(s->producer()->name(), "[CAST]-[unknown_ops._log_softmax]-[lsm]");
  EXPECT_NE(net.find_layer("[REDUCE]-[unknown_ops._log_softmax]-[lsm_max]"), nullptr);
  EXPECT_NE(net.find_layer("[ELEMENTWISE]-[unknown_ops._log_softmax]-[lsm_sub]"), nullptr);
  Tensor* s2 = nm::softmax(ctx, "_softmax", SourceIR::kATEN, "lsm", s, 1);
  EXPECT_EQ(s2->producer()->name(), "[SOFTMAX]-[aten_ops._softmax]-[lsm]");
}

// ---- native_layer_norm / native_group_norm: output, mean, rstd ----

// Builds the block over network inputs shaped like `inputs` (dims -1 where `dynamic`), marks
// its three outputs and runs them on each input set.
using NativeFn = std::function<nm::NormOutputs(ConversionContext&, const std::vector<Tensor*>&)>;
std::vector<std::vector<at::Tensor>> run_native(const std::vector<std::vector<at::Tensor>>& sets,
                                                const NativeFn& fn, bool dynamic) {
  Network net;
  ConversionContext ctx(net);
  std::vector<Tensor*> ins;
  OptimizationProfile profile;
  for (size_t i = 0; i < sets[0].size(); ++i) {
    std::string n = "in" + std::to_string(i);
    Dims d = dims_of(sets[0][i]);
    if (dynamic && i == 0) {
      d = Dims::of_rank(d.rank(), -1);
      profile.set_dimensions(n, dims_of(sets[0][i]), dims_of(sets[sets.size() / 2][i]),
                             dims_of(sets.back()[i]));
    }
    ins.push_back(net.add_input(n, from_aten(sets[0][i].scalar_type()), d));
  }
  nm::NormOutputs o = fn(ctx, ins);
  for (Tensor* t : {o.output, o.mean, o.rstd}) net.mark_output(t);
  BuilderConfig config;
  if (dynamic) config.profiles.push_back(profile);
  Runner runner(net, config);
  std::vector<std::vector<at::Tensor>> outs;
  for (const auto& in : sets) outs.push_back(runner.run(in));
  return outs;
}

// ATen's three outputs, rounded to the input type `st` (16-bit references are computed in fp32).
void expect_native(const std::vector<at::Tensor>& got,
                   std::tuple<at::Tensor, at::Tensor, at::Tensor> want, at::ScalarType st, double k,
                   const std::string& what) {
  auto [y, mean, rstd] = want;
  // Each statistic accumulates over k elements.
  expect_close(got[0], y.to(st), std::sqrt(k), what + " output");
  expect_close(got[1], mean.to(st), std::sqrt(k), what + " mean");
  expect_close(got[2], rstd.to(st), std::sqrt(k), what + " rstd");
}

TEST(ImplNormalization, NativeLayerNormReturnsMeanAndRstd) {
  uint64_t seed = 700;
  for (DataType t : kFloatTypes) {
    for (auto [shape, normalized] :
         std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>{
             {{2, 3, 7}, {7}}, {{2, 3, 7}, {3, 7}}, {{4, 16}, {16}}}) {
      at::Tensor x = random(t, shape, seed++, -3, 3);
      at::Tensor w = random(t, normalized, seed++, 0.5, 2), b = random(t, normalized, seed++);
      for (bool affine : {true, false}) {
        auto got = run_native(
            {{x, w, b}},
            [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              std::optional<Operand> wo, bo;
              if (affine) wo = in[1], bo = in[2];
              return nm::native_layer_norm(ctx, kTarget, SourceIR::kATEN, "ln", in[0], normalized,
                                           wo, bo, 1e-5);
            },
            false)[0];
        // 16-bit: fp32 and rounded once (Note [Precision policy]), as `reference` above.
        bool half = t != DataType::kFLOAT;
        at::Tensor xr = half ? x.to(at::kFloat) : x;
        c10::optional<at::Tensor> wr, br;
        if (affine) wr = half ? w.to(at::kFloat) : w, br = half ? b.to(at::kFloat) : b;
        int64_t k = 1;
        for (int64_t d : normalized) k *= d;
        expect_native(got, at::native_layer_norm(xr, normalized, wr, br, 1e-5), x.scalar_type(),
                      static_cast<double>(k), "native_layer_norm " + tname(t));
      }
    }
  }
  // Dynamic batch and length at min, opt and max.
  at::Tensor w = random(DataType::kFLOAT, {8}, 1, 0.5, 2), b = random(DataType::kFLOAT, {8}, 2);
  std::vector<std::vector<at::Tensor>> sets;
  for (auto s : {std::vector<int64_t>{1, 1, 8}, {2, 5, 8}, {4, 9, 8}})
    sets.push_back({random(DataType::kFLOAT, s, seed++, -3, 3)});
  auto outs = run_native(
      sets,
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return nm::native_layer_norm(ctx, kTarget, SourceIR::kATEN, "ln", in[0], {8}, host(w),
                                     host(b), 1e-5);
      },
      true);
  for (size_t i = 0; i < sets.size(); ++i)
    expect_native(outs[i], at::native_layer_norm(sets[i][0], {8}, w, b, 1e-5), at::kFloat, 8,
                  "native_layer_norm dynamic " + std::to_string(i));
}

TEST(ImplNormalization, NativeGroupNormReturnsMeanAndRstd) {
  uint64_t seed = 800;
  for (DataType t : kFloatTypes) {
    for (std::vector<int64_t> shape : {std::vector<int64_t>{2, 6, 3, 5}, {3, 6, 4}}) {
      for (int64_t g : {1, 2, 3}) {
        at::Tensor x = random(t, shape, seed++, -3, 3);
        at::Tensor w = random(t, {6}, seed++, 0.5, 2), b = random(t, {6}, seed++);
        int64_t n = shape[0], hxw = x.numel() / n / 6;
        auto got = run_native(
            {{x, w, b}},
            [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return nm::native_group_norm(ctx, kTarget, SourceIR::kATEN, "gn", in[0], in[1], in[2],
                                           n, 6, hxw, g, 1e-5);
            },
            false)[0];
        bool half = t != DataType::kFLOAT;
        auto up = [&](const at::Tensor& v) { return half ? v.to(at::kFloat) : v; };
        expect_native(got, at::native_group_norm(up(x), up(w), up(b), n, 6, hxw, g, 1e-5),
                      x.scalar_type(), static_cast<double>(6 / g * hxw),
                      "native_group_norm G=" + std::to_string(g) + " " + tname(t));
      }
    }
  }
  // Dynamic batch and spatial size at min, opt and max (N and HxW as ATen passes them: the
  // values of the run; the block checks only static dims).
  std::vector<std::vector<at::Tensor>> sets;
  for (auto s : {std::vector<int64_t>{1, 4, 1, 1}, {2, 4, 3, 5}, {3, 4, 6, 7}})
    sets.push_back({random(DataType::kFLOAT, s, seed++, -3, 3)});
  auto outs = run_native(
      sets,
      [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return nm::native_group_norm(ctx, kTarget, SourceIR::kATEN, "gn", in[0], std::nullopt,
                                     std::nullopt, 2, 4, 15, 2, 1e-5);
      },
      true);
  for (size_t i = 0; i < sets.size(); ++i) {
    const at::Tensor& x = sets[i][0];
    int64_t n = x.size(0), hxw = x.size(2) * x.size(3);
    expect_native(outs[i], at::native_group_norm(x, {}, {}, n, 4, hxw, 2, 1e-5), at::kFloat,
                  static_cast<double>(2 * hxw), "native_group_norm dynamic " + std::to_string(i));
  }
  // Errors: N, C, HxW that disagree with the input; a group count that does not divide C.
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 6, 3, 5});
  expect_error_unchanged(net,
                         [&] {
                           nm::native_group_norm(ctx, kTarget, SourceIR::kATEN, "gn", x, {}, {}, 3,
                                                 6, 15, 2, 1e-5);
                         },
                         {"normalization::native_group_norm", "N = 3"});
  expect_error_unchanged(net,
                         [&] {
                           nm::native_group_norm(ctx, kTarget, SourceIR::kATEN, "gn", x, {}, {}, 2,
                                                 6, 14, 2, 1e-5);
                         },
                         {"HxW = 14", "15"});
  expect_error_unchanged(net,
                         [&] {
                           nm::native_group_norm(ctx, kTarget, SourceIR::kATEN, "gn", x, {}, {}, 2,
                                                 6, 15, 4, 1e-5);
                         },
                         {"group = 4", "divide C = 6"});
  expect_error_unchanged(
      net,
      [&] { nm::native_layer_norm(ctx, kTarget, SourceIR::kATEN, "ln", x, {4}, {}, {}, 1e-5); },
      {"normalization::native_layer_norm", "normalized_shape"});
}

TEST(ImplNormalization, OptionStructsWithDesignatedInitializers) {
  const Dims d{2, 6, 5};
  expect_same_network(
      {{DataType::kFLOAT, d}, {DataType::kFLOAT, {6}}, {DataType::kFLOAT, {6}}},
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return nm::batch_norm(ctx, kTarget, SourceIR::kATEN, "bn", in[0], std::nullopt, in[1],
                              in[1], in[2], false, 0.1, 1e-3);
      },
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return nm::batch_norm(
            ctx, kTarget, SourceIR::kATEN, "bn", in[0],
            {.bias = in[1], .running_mean = in[1], .running_var = in[2], .eps = 1e-3});
      });
  expect_same_network(
      {{DataType::kFLOAT, d}, {DataType::kFLOAT, {5}}},
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return nm::layer_norm(ctx, kTarget, SourceIR::kATEN, "ln", in[0], {5}, in[1], std::nullopt,
                              1e-6);
      },
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return nm::layer_norm(ctx, kTarget, SourceIR::kATEN, "ln", in[0],
                              {.normalized_shape = {5}, .weight = in[1], .eps = 1e-6});
      });
  expect_same_network(
      {{DataType::kFLOAT, d}, {DataType::kFLOAT, {6}}},
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return nm::group_norm(ctx, kTarget, SourceIR::kATEN, "gn", in[0], 3, std::nullopt, in[1]);
      },
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return nm::group_norm(ctx, kTarget, SourceIR::kATEN, "gn", in[0],
                              {.num_groups = 3, .bias = in[1]});
      });
  // Training batch norm is still rejected through the struct.
  at::Tensor x = random(DataType::kFLOAT, {2, 6, 5}, 1),
             s = random(DataType::kFLOAT, {6}, 2, 0.5, 1);
  expect_block_error({x, s},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return nm::batch_norm(
                           ctx, kTarget, SourceIR::kATEN, "bn", in[0],
                           {.running_mean = in[1], .running_var = in[1], .training = true});
                     },
                     {"normalization::batch_norm", "training"});
}

}  // namespace
}  // namespace lktest
