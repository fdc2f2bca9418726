// The engine's build record: optimization profiles, the config checks and the build report's text.
#include "layerkit/runtime/engine_config.h"

#include <sstream>

#include "layerkit/core/error.h"
#include "layerkit/network/network.h"
#include "runtime/plan.h"

namespace layerkit {

using plan::infer_network;
using plan::profile_dims;

void OptimizationProfile::set_dimensions(std::string_view input, const Dims& min, const Dims& opt,
                                         const Dims& max) {
  LK_CHECK(min.rank() == opt.rank() && opt.rank() == max.rank(), "profile for '", input, "': min ",
           min.to_string(), ", opt ", opt.to_string(), ", max ", max.to_string(),
           " have different ranks");
  for (int d = 0; d < min.rank(); ++d) {
    LK_CHECK(min[d] >= 0 && opt[d] >= 0 && max[d] >= 0, "profile for '", input,
             "': dims must be concrete (no -1): min ", min.to_string(), ", opt ", opt.to_string(),
             ", max ", max.to_string());
    LK_CHECK(min[d] <= opt[d] && opt[d] <= max[d], "profile for '", input,
             "': need min <= opt <= max at axis ", d, " but got min ", min.to_string(), ", opt ",
             opt.to_string(), ", max ", max.to_string());
  }
  dims_[std::string(input)] = ProfileDims{min, opt, max};
}

const ProfileDims* OptimizationProfile::dimensions(std::string_view input) const {
  auto it = dims_.find(input);
  return it == dims_.end() ? nullptr : &it->second;
}

void check_build_config(const Network& network, const BuilderConfig& config) {
  LK_CHECK(network.num_outputs() > 0, "build: the network has no outputs; call mark_output");
  LK_CHECK(config.num_threads >= 1 && config.num_threads <= kMaxNumThreads,
           "build: num_threads is ", config.num_threads, "; it must be between 1 and ",
           kMaxNumThreads, " (kMaxNumThreads)");
  std::vector<const Tensor*> dynamic;
  for (int i = 0; i < network.num_inputs(); ++i)
    if (!network.input(i)->dims().is_static()) dynamic.push_back(network.input(i));
  LK_CHECK(dynamic.empty() || !config.profiles.empty(), "build: input '",
           dynamic.empty() ? "" : dynamic.front()->name(), "' has dynamic dims ",
           dynamic.empty() ? "" : dynamic.front()->dims().to_string(),
           " but the config has no optimization profile; add one with set_dimensions");
  for (size_t p = 0; p < config.profiles.size(); ++p) {
    const auto& profile = config.profiles[p];
    for (const auto& [name, pd] : profile.all()) {
      const Tensor* t = network.find_tensor(name);
      LK_CHECK(t && t->is_network_input(), "build: profile ", p, " names '", name,
               "', which is not a network input");
      const Dims& decl = t->dims();
      LK_CHECK(pd.min.rank() == decl.rank(), "build: profile ", p, " gives '", name, "' rank ",
               pd.min.rank(), " but the input is ", decl.to_string());
      for (int d = 0; d < decl.rank(); ++d)
        LK_CHECK(decl[d] < 0 || (pd.min[d] == decl[d] && pd.max[d] == decl[d]), "build: profile ",
                 p, " for '", name, "' (min ", pd.min.to_string(), ", max ", pd.max.to_string(),
                 ") contradicts the static dim ", decl[d], " at axis ", d);
    }
    for (const Tensor* t : dynamic)
      LK_CHECK(profile.dimensions(t->name()) != nullptr, "build: input '", t->name(),
               "' has dynamic dims ", t->dims().to_string(), " but profile ", p,
               " gives it no min/opt/max");
    const char* which[] = {"min", "opt", "max"};
    for (int w = 0; w < 3; ++w) {
      try {
        infer_network(network, profile_dims(network, profile, w));
      } catch (const Error& e) {
        LK_FAIL(kINVALID_ARGUMENT, "build: the network is invalid at the ", which[w],
                " shapes of profile ", p, ": ", e.what());
      }
    }
  }
  LK_CHECK(config.memory_budget_bytes >= 0, "build: memory_budget_bytes is ",
           config.memory_budget_bytes, "; use 0 (unlimited) or a positive byte count");
  LK_CHECK(config.optimization_level >= 0 && config.optimization_level <= 1,
           "build: optimization_level is ", config.optimization_level,
           "; use 0 (no passes) or 1 (all passes)");
  const bool fp16 = config.get_flag(BuilderFlag::kFP16);
  const bool bf16 = config.get_flag(BuilderFlag::kBF16);
  LK_CHECK(!(config.get_flag(BuilderFlag::kSTRONGLY_TYPED) && (fp16 || bf16)),
           "build: kSTRONGLY_TYPED keeps the network's declared types; it cannot be combined with ",
           fp16 ? "kFP16" : "kBF16");
  LK_CHECK(config.flags >> 3 == 0, "build: flags ", config.flags,
           " set bits that are not a BuilderFlag");
}

std::string BuildReport::to_string() const {
  std::ostringstream os;
  os << "optimization level " << optimization_level << "\n";
  for (const PassStatistics& p : passes)
    os << "pass " << p.pass << ": " << p.rewrites << " rewrites in " << p.runs << " runs\n";
  for (const PassRecord& r : records) os << r.pass << ": " << r.layer << ": " << r.detail << "\n";
  return os.str();
}

}  // namespace layerkit
