// Builder passes: the Pass interface, the pipeline that runs them, and each pass's factory.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "layerkit/builder/builder.h"
#include "layerkit/network/network.h"

namespace layerkit::passes {

// A rewrite of a network in place. Passes keep the network's inputs (names, order) and outputs
// (names, order, types, dims) and what it computes, within the per-dtype float tolerances the
// tests hold every engine to (torch.testing's defaults, tests/test_util.h); anything else they
// may change.
class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string_view name() const = 0;
  // Rewrites `net`; true when anything changed. Afterwards the layers are in topological order.
  bool run(Network& net);
  // The rewrites made since the last call, oldest first.
  std::vector<PassRecord> take_records() { return std::move(records_); }

 protected:
  virtual bool rewrite(Network& net) = 0;
  void record(std::string layer, std::string detail);

 private:
  std::vector<PassRecord> records_;
};

// Runs passes in order and repeats the sequence while one changes the network, since one
// rewrite exposes others (folding makes constants a bias fusion needs; fusions leave dead layers).
class Pipeline {
 public:
  void add(std::unique_ptr<Pass> pass);
  void run(Network& net, int max_rounds = 4);
  // One entry per pass, in pipeline order, summed over the rounds.
  const std::vector<PassStatistics>& statistics() const { return stats_; }
  const std::vector<PassRecord>& records() const { return records_; }

 private:
  std::vector<std::unique_ptr<Pass>> passes_;
  std::vector<PassStatistics> stats_;
  std::vector<PassRecord> records_;
};

// The passes of `BuilderConfig::optimization_level` (none at level 0).
Pipeline make_pipeline(int optimization_level);

// ---- the passes (one file each in src/builder/passes/) ----

// fold.cpp: layers whose inputs are all constants (and Shape of a static tensor) become Constant
// layers holding their outputs, evaluated once by the CPU executor (layerkit/builder/evaluate.h).
// The default bound (32M elements) admits weight transposes of large fully connected layers
// (ResNet-50's 2048x1000 Gemm), which otherwise run on every inference.
std::unique_ptr<Pass> make_fold_constants(int64_t max_elements = int64_t{1} << 25);
// eliminate.cpp: removes layers that no network output depends on (Input layers stay).
std::unique_ptr<Pass> make_eliminate_dead_layers();
// eliminate.cpp: removes layers that return their input: Identity, Cast to the same type, Shuffle
// and Slice that keep every element in place, ElementWise x + 0, x - 0, x * 1, x / 1.
std::unique_ptr<Pass> make_eliminate_no_ops();
// shuffle.cpp: two consecutive Shuffles become one where that one can express both; a transpose
// followed by its inverse disappears.
std::unique_ptr<Pass> make_merge_shuffles();
// conv.cpp: Convolution/Deconvolution followed by the addition of a constant per-channel bias,
// or a Convolution followed by a per-channel Scale (folded batch norm), become one convolution.
std::unique_ptr<Pass> make_fuse_conv_bias();
// patterns.cpp: subgraphs that frontends expand, recognised and replaced by one layer:
// layer norm -> Normalization, erf GELU -> Activation kGELU_ERF, exp(x - max) / sum -> SoftMax.
std::unique_ptr<Pass> make_recognize_patterns();

// precision.cpp: in a weakly typed reduced-precision build, every layer that may (see
// may_reduce) and has fp32 inputs runs in `target` instead (or in its own set_precision type),
// reading converted constants and Casts of its other inputs, with Casts back to fp32 where fp32
// layers and the engine's outputs read it. Leaves unread layers for dead-layer elimination.
std::unique_ptr<Pass> make_reduce_precision(std::optional<DataType> target);

}  // namespace layerkit::passes
