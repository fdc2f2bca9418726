// Fuzz target: the `layerkit run` command line (tools/layerkit/options.cpp): flag parsing, integer
// flags, shape strings, --inputValues and the engine flags, then the parsed shapes as an
// optimization profile of the built-in default model, validated as the builder does.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "layerkit/onnx/importer.h"
#include "layerkit/runtime/engine.h"

namespace {

using layerkit::Error;
using layerkit::ErrorCode;
namespace cli = layerkit::cli;

// The flags of `layerkit run` (tools/layerkit/main.cpp).
const std::vector<std::string> kValueFlags = {
    "shapes",      "minShapes",    "optShapes",   "maxShapes",  "loadInputs",
    "inputValues", "exportOutput", "exportTimes", "iterations", "warmUp",
    "threads",     "checkAgainst", "saveEngine",  "loadEngine", "builderOptimizationLevel",
    "device"};
const std::vector<std::string> kBoolFlags = {"dumpLayerInfo", "dumpProfile", "referenceKernels",
                                             "fp16",          "bf16",        "stronglyTyped",
                                             "useCudaGraph",  "noCudaGraph"};

layerkit::onnx::ImportResult& default_model() {
  static layerkit::onnx::ImportResult r =
      layerkit::onnx::import_model_from_bytes(cli::default_model_bytes());
  return r;
}

void exercise(const std::string& text) {
  // One argument per line, after "layerkit run".
  std::vector<std::string> words = {"layerkit", "run"};
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    words.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  cli::Args args =
      cli::parse_args(static_cast<int>(words.size()), argv.data(), 2, kValueFlags, kBoolFlags);
  args.get_int("iterations", 10, 1);
  args.get_int("warmUp", 0, 0);
  const int64_t threads = args.get_int("threads", 1, 1);
  layerkit::onnx::ImportResult& model = default_model();
  const std::vector<layerkit::OptimizationProfile> saved = model.profiles;
  try {
    std::map<std::string, layerkit::Dims> shapes, min_s, opt_s, max_s;
    if (auto s = args.get("shapes")) shapes = cli::parse_shapes(*s, "shapes");
    if (auto s = args.get("minShapes")) min_s = cli::parse_shapes(*s, "minShapes");
    if (auto s = args.get("optShapes")) opt_s = cli::parse_shapes(*s, "optShapes");
    if (auto s = args.get("maxShapes")) max_s = cli::parse_shapes(*s, "maxShapes");
    if (auto s = args.get("inputValues")) cli::parse_values(*s);
    for (const auto& [name, d] : shapes) model.set_input_profile(name, d, d, d);
    for (const auto& [name, d] : opt_s)
      if (min_s.count(name) && max_s.count(name))
        model.set_input_profile(name, min_s[name], d, max_s[name]);
    layerkit::BuilderConfig config = model.builder_config();
    config.num_threads = static_cast<int>(std::min<int64_t>(threads, 64));
    cli::apply_engine_flags(args, config);
    layerkit::Builder::validate(*model.network, config);
  } catch (...) {
    model.profiles = saved;
    throw;
  }
  model.profiles = saved;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    exercise(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const cli::UsageError&) {
    // A usage error is the expected answer to a bad command line.
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kINTERNAL) {
      std::fprintf(stderr, "internal error: %s\n", e.what());
      std::abort();
    }
  }
  return 0;
}
