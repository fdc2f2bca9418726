// Test helpers: ATen interop, running networks on the CPU engine, per-dtype comparison.
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "layerkit/builder/builder.h"
#include "layerkit/network/network.h"
#include "layerkit/runtime/engine.h"

namespace lktest {

using namespace layerkit;

// ATen's type for a layerkit type (fails the test for types ATen 1.13 lacks: FP8, FP4, INT4,
// E8M0).
at::ScalarType to_aten(DataType t);
DataType from_aten(at::ScalarType t);
Dims dims_of(const at::Tensor& t);

// A deterministic random tensor: floats uniform in [lo, hi), integers in [lo, hi], bools 0/1.
at::Tensor random(DataType t, const std::vector<int64_t>& shape, uint64_t seed, double lo = -2.0,
                  double hi = 2.0);

// Adds a Constant layer holding a copy of `t` (contiguous) and returns its output.
Tensor* constant(Network& net, const at::Tensor& t);

// Builds `net` with `config` and runs it once per input set (network input order); returns the
// outputs (network output order) as ATen tensors.
// The optimization level comes from `level` when given, else from the environment variable
// LAYERKIT_TEST_OPT_LEVEL when set (so the whole suite can run with and without the builder
// passes), else from `config`.
class Runner {
 public:
  explicit Runner(const Network& net, BuilderConfig config = {},
                  std::optional<int> level = std::nullopt);
  std::vector<at::Tensor> run(const std::vector<at::Tensor>& inputs);
  ExecutionContext& context() { return *ctx_; }

 private:
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ExecutionContext> ctx_;
};
std::vector<at::Tensor> run(const Network& net, const std::vector<at::Tensor>& inputs,
                            BuilderConfig config = {});
// As run, at exactly optimization level `level` (the environment variable does not apply).
std::vector<at::Tensor> run_at_level(const Network& net, const std::vector<at::Tensor>& inputs,
                                     int level, BuilderConfig config = {});
// Shortcut for single-output networks.
at::Tensor run1(const Network& net, const std::vector<at::Tensor>& inputs,
                BuilderConfig config = {});

// Per-dtype tolerances, torch.testing's defaults: fp32 rtol 1.3e-6 atol 1e-5; fp16 rtol 1e-3 atol
// 1e-5; bf16 rtol 1.6e-2 atol 1e-5; integers and bool exact. `scale` multiplies both (for ops
// that accumulate over K elements tests pass sqrt(K) and say so).
struct Tolerance {
  double rtol, atol;
};
Tolerance tolerance_for(DataType t, double scale = 1.0);
// Expects equal dtype and shape and every element within tolerance (NaN matches NaN).
void expect_close(const at::Tensor& actual, const at::Tensor& expected, double scale = 1.0,
                  const std::string& what = "");

// Expects `f` to throw layerkit::Error whose message contains every one of `fragments`, and
// the network's text form to be unchanged by the attempt.
void expect_error_unchanged(Network& net, const std::function<void()>& f,
                            const std::vector<std::string>& fragments);
// Expects `f` to throw layerkit::Error whose message contains every one of `fragments`.
void expect_error(const std::function<void()>& f, const std::vector<std::string>& fragments,
                  ErrorCode code = ErrorCode::kINVALID_ARGUMENT);

// Float types most kinds accept, as a list for typed sweeps.
inline const std::vector<DataType> kFloatTypes = {DataType::kFLOAT, DataType::kHALF,
                                                  DataType::kBF16};

}  // namespace lktest
