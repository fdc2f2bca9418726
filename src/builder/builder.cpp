// Builder: validates profiles and the network's shapes at min/opt/max, then creates the Engine.
#include "layerkit/builder/builder.h"

#include <map>
#include <set>
#include <sstream>

#include "builder/passes/pass.h"
#include "layerkit/core/size.h"
#include "layerkit/network/network.h"
#include "layerkit/runtime/backend.h"
#include "layerkit/runtime/engine.h"
#include "network/infer.h"

namespace layerkit {

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

namespace passes {

std::map<const Tensor*, Dims> infer_network(const Network& net,
                                            const std::map<const Tensor*, Dims>& input_dims) {
  std::map<const Tensor*, detail::ValueDesc> descs;
  for (int i = 0; i < net.num_layers(); ++i) {
    const Layer* l = net.layer(i);
    if (l->kind() == LayerKind::kINPUT) {
      const Tensor* t = l->output(0);
      auto it = input_dims.find(t);
      descs[t] = detail::ValueDesc{
          t->type(), it == input_dims.end() ? t->dims() : it->second, {}, nullptr};
      // Note [Size arithmetic]: a profile shape int64 cannot size fails by the input's name.
      if (descs[t].dims.is_static())
        tensor_bytes(t->type(), descs[t].dims, "input '" + t->name() + "'");
      continue;
    }
    std::vector<const detail::ValueDesc*> ins;
    for (Tensor* t : l->inputs()) ins.push_back(t ? &descs.at(t) : nullptr);
    auto outs = detail::infer_layer(l->attrs(), l->name(), ins, /*runtime=*/false);
    for (int k = 0; k < l->num_outputs(); ++k) {
      auto& d = outs[static_cast<size_t>(k)];
      if (l->kind() == LayerKind::kCONSTANT && !is_sub_byte(d.type))
        d.host_data = l->attrs<ConstantAttrs>().weights.data();
      descs[l->output(k)] = std::move(d);
    }
  }
  std::map<const Tensor*, Dims> dims;
  for (const auto& [t, d] : descs) dims[t] = d.dims;
  return dims;
}

// Input dims of `net` at profile `p`'s min (0), opt (1) or max (2).
std::map<const Tensor*, Dims> profile_dims(const Network& net, const OptimizationProfile& p,
                                           int which) {
  std::map<const Tensor*, Dims> dims;
  for (int i = 0; i < net.num_inputs(); ++i) {
    const Tensor* t = net.input(i);
    if (t->dims().is_static()) continue;
    const ProfileDims* pd = p.dimensions(t->name());
    dims[t] = which == 0 ? pd->min : (which == 1 ? pd->opt : pd->max);
  }
  return dims;
}

}  // namespace passes

using passes::infer_network;
using passes::profile_dims;

namespace {

// Bytes of every distinct weights buffer the layers hold (layers of a clone share buffers).
int64_t weight_bytes(const Network& net) {
  std::set<const void*> seen;
  int64_t total = 0;
  auto add = [&](const Weights& w) {
    if (w.empty() || !seen.insert(w.data()).second) return;
    total = checked_add(total, w.bytes(), "weight bytes of the network");
  };
  // The kinds whose attributes hold Weights (include/layerkit/network/layers.h).
  for (int i = 0; i < net.num_layers(); ++i) {
    const Layer* l = net.layer(i);
    if (l->kind() == LayerKind::kCONSTANT) add(l->attrs<ConstantAttrs>().weights);
    if (l->kind() == LayerKind::kCONVOLUTION) {
      add(l->attrs<ConvolutionAttrs>().kernel);
      add(l->attrs<ConvolutionAttrs>().bias);
    }
    if (l->kind() == LayerKind::kDECONVOLUTION) {
      add(l->attrs<DeconvolutionAttrs>().kernel);
      add(l->attrs<DeconvolutionAttrs>().bias);
    }
    if (l->kind() == LayerKind::kSCALE) {
      add(l->attrs<ScaleAttrs>().shift);
      add(l->attrs<ScaleAttrs>().scale);
      add(l->attrs<ScaleAttrs>().power);
    }
  }
  return total;
}

// BuilderConfig::memory_budget_bytes: the arena at the largest shapes of any profile plus the
// weights must fit, else the build fails with the figures.
void check_memory_budget(const Network& net, const BuilderConfig& config) {
  if (config.memory_budget_bytes == 0) return;
  int64_t arena = 0;
  int at_profile = -1;
  if (config.profiles.empty()) {
    arena = passes::plan_memory(net, infer_network(net, {})).peak_bytes_planned;
  } else {
    for (size_t p = 0; p < config.profiles.size(); ++p) {
      const int64_t a =
          passes::plan_memory(net, infer_network(net, profile_dims(net, config.profiles[p], 2)))
              .peak_bytes_planned;
      if (a > arena || at_profile < 0) {
        arena = a;
        at_profile = static_cast<int>(p);
      }
    }
  }
  const int64_t weights = weight_bytes(net);
  const int64_t total = checked_add(arena, weights, "engine memory");
  if (total > config.memory_budget_bytes)
    LK_FAIL(kOUT_OF_MEMORY, "build: the engine needs ", total, " bytes (activation arena ", arena,
            " bytes at the max shapes",
            at_profile >= 0 ? detail::cat(" of profile ", at_profile) : std::string(),
            " + weights ", weights, " bytes), more than memory_budget_bytes ",
            config.memory_budget_bytes);
}

}  // namespace

void Builder::validate(const Network& network, const BuilderConfig& config) {
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

std::unique_ptr<Engine> Builder::build(const Network& network, const BuilderConfig& config) {
  // A device that cannot run (no driver, no GPU, a build without its backend) fails the build.
  {
    const Backend& b = backend(config.device);
    if (std::string why = b.unavailable_reason(config.device_index); !why.empty())
      LK_FAIL(kUNSUPPORTED, "build: cannot build for ", b.name(), ":", config.device_index, ": ",
              why);
  }
  validate(network, config);

  const bool fp16 = config.get_flag(BuilderFlag::kFP16);
  const bool bf16 = config.get_flag(BuilderFlag::kBF16);

  std::unique_ptr<Network> net = network.clone();
  BuildReport report;
  report.optimization_level = config.optimization_level;
  passes::Pipeline pipeline = passes::make_pipeline(config.optimization_level);
  // Precision comes after the other rewrites, which match fp32 patterns (batch norm into
  // convolution weights, layer norm, GELU); it runs once, then unread layers go.
  if (fp16 || bf16) {
    pipeline.run(*net);
    passes::Pipeline precision;
    precision.add(passes::make_reduce_precision(fp16 ? DataType::kHALF : DataType::kBF16));
    precision.add(passes::make_eliminate_dead_layers());
    precision.run(*net, 1);
    report.passes = pipeline.statistics();
    report.records = pipeline.records();
    for (const PassStatistics& st : precision.statistics()) report.passes.push_back(st);
    for (const PassRecord& r : precision.records()) report.records.push_back(r);
  } else {
    pipeline.run(*net);
    report.passes = pipeline.statistics();
    report.records = pipeline.records();
  }
  // The passes must keep the engine's interface and a network valid at every profile shape; a
  // failure here is a bug in a pass, reported with what it did.
  LK_ASSERT(
      net->num_inputs() == network.num_inputs() && net->num_outputs() == network.num_outputs(),
      "build: the builder passes changed the network's inputs or outputs");
  for (int i = 0; i < net->num_outputs(); ++i)
    LK_ASSERT(net->output(i)->name() == network.output(i)->name() &&
                  net->output(i)->type() == network.output(i)->type(),
              "build: the builder passes changed output '", network.output(i)->name(), "'");
  if (!report.records.empty()) {
    for (size_t p = 0; p < config.profiles.size(); ++p)
      for (int w = 0; w < 3; ++w) {
        try {
          infer_network(*net, profile_dims(*net, config.profiles[p], w));
        } catch (const Error& e) {
          LK_FAIL(kINTERNAL, "build: the network the builder passes made is invalid at profile ", p,
                  ": ", e.what(), "\n", report.to_string());
        }
      }
  }
  check_memory_budget(*net, config);
  MemoryPlan plan = passes::plan_memory(
      *net, infer_network(*net, config.profiles.empty()
                                    ? std::map<const Tensor*, Dims>{}
                                    : profile_dims(*net, config.profiles.front(), 1)));
  return std::make_unique<Engine>(std::move(net), config, std::move(report), std::move(plan));
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
