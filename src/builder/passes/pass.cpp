// The Pass base, the pipeline that repeats the passes until the network stops changing, and the
// pass list of each optimization level.
#include "builder/passes/pass.h"

#include <chrono>

namespace layerkit::passes {

bool Pass::run(Network& net) {
  bool changed = rewrite(net);
  if (changed) net.sort_layers();
  return changed;
}

void Pass::record(std::string layer, std::string detail) {
  records_.push_back(PassRecord{std::string(name()), std::move(layer), std::move(detail)});
}

void Pipeline::add(std::unique_ptr<Pass> pass) {
  stats_.push_back(PassStatistics{std::string(pass->name()), 0, 0, 0.0});
  passes_.push_back(std::move(pass));
}

void Pipeline::run(Network& net, int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    bool changed = false;
    for (size_t i = 0; i < passes_.size(); ++i) {
      const auto start = std::chrono::steady_clock::now();
      changed = passes_[i]->run(net) || changed;
      const std::chrono::duration<double, std::milli> took =
          std::chrono::steady_clock::now() - start;
      std::vector<PassRecord> recs = passes_[i]->take_records();
      stats_[i].runs += 1;
      stats_[i].rewrites += static_cast<int>(recs.size());
      stats_[i].milliseconds += took.count();
      for (auto& r : recs) records_.push_back(std::move(r));
    }
    if (!changed) break;
  }
}

Pipeline make_pipeline(int optimization_level) {
  Pipeline p;
  if (optimization_level <= 0) return p;
  // Dead layers first so no pass spends time on them; folding before the fusions that need
  // constant operands; no-op elimination after the rewrites that can leave identities behind.
  p.add(make_eliminate_dead_layers());
  p.add(make_fold_constants());
  p.add(make_eliminate_no_ops());
  p.add(make_merge_shuffles());
  p.add(make_recognize_patterns());
  p.add(make_fuse_conv_bias());
  return p;
}

}  // namespace layerkit::passes
