// Helpers for builder-pass tests: naming layers for readable text forms, applying one pass, and
// comparing an optimized engine's outputs with the unoptimized one's.
#pragma once

#include <string>

#include "builder/passes/pass.h"
#include "test_util.h"

namespace lktest {

// Names layer `l` and its output `n`, so the text forms in tests read like the spec.
inline Tensor* named(Layer* l, const std::string& n) {
  l->set_name(n);
  l->output(0)->set_name(n);
  return l->output(0);
}

// A named constant holding `t`.
inline Tensor* named_constant(Network& net, const std::string& n, const at::Tensor& t) {
  return named(constant(net, t)->producer(), n);
}

// A constant of dims `dims` with every element `v` (float32).
inline Tensor* splat(Network& net, const std::string& n, std::vector<int64_t> dims, float v) {
  return named_constant(net, n, at::full(dims, v, at::kFloat));
}

// The text form of `net` after `pass` ran on a copy of it; `changed` receives run()'s result.
inline std::string after_pass(std::unique_ptr<passes::Pass> pass, const Network& net,
                              bool* changed = nullptr) {
  std::unique_ptr<Network> copy = net.clone();
  bool c = pass->run(*copy);
  if (changed) *changed = c;
  return copy->to_string();
}

// Builds `net` at optimization levels 0 and 1 and expects the same outputs on `inputs` (the
// float tolerance times `scale`, for accumulations the rewrite reorders).
inline void expect_optimized_matches(const Network& net, const std::vector<at::Tensor>& inputs,
                                     double scale = 1.0, BuilderConfig config = {}) {
  std::vector<at::Tensor> ref = run_at_level(net, inputs, 0, config);
  std::vector<at::Tensor> opt = run_at_level(net, inputs, 1, config);
  ASSERT_EQ(ref.size(), opt.size());
  for (size_t i = 0; i < ref.size(); ++i)
    expect_close(opt[i], ref[i], scale, "output " + std::to_string(i));
}

}  // namespace lktest
