// Builder: checks the config, runs the passes, plans memory, then creates the Engine.
#include "layerkit/builder/builder.h"

#include <map>
#include <set>

#include "builder/passes/pass.h"
#include "layerkit/core/size.h"
#include "layerkit/network/network.h"
#include "layerkit/runtime/backend.h"
#include "layerkit/runtime/engine.h"
#include "runtime/plan.h"

namespace layerkit {

using plan::infer_network;
using plan::profile_dims;

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
    arena = plan::plan_memory(net, infer_network(net, {})).peak_bytes_planned;
  } else {
    for (size_t p = 0; p < config.profiles.size(); ++p) {
      const int64_t a =
          plan::plan_memory(net, infer_network(net, profile_dims(net, config.profiles[p], 2)))
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
  check_build_config(network, config);
}

std::unique_ptr<Engine> Builder::build(const Network& network, const BuilderConfig& config) {
  // A device that cannot run (no driver, no GPU, a build without its backend) fails the build.
  {
    const Backend& b = backend(config.device);
    if (std::string why = b.unavailable_reason(config.device_index); !why.empty())
      LK_FAIL(kUNSUPPORTED, "build: cannot build for ", b.name(), ":", config.device_index, ": ",
              why);
  }
  check_build_config(network, config);

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
  MemoryPlan plan = plan::plan_memory(
      *net, infer_network(*net, config.profiles.empty()
                                    ? std::map<const Tensor*, Dims>{}
                                    : profile_dims(*net, config.profiles.front(), 1)));
  return std::make_unique<Engine>(std::move(net), config, std::move(report), std::move(plan));
}

}  // namespace layerkit
