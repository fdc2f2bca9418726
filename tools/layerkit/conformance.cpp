// `layerkit conformance DIR`: runs the ONNX backend node test cases under DIR.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include "cli.h"
#include "layerkit/onnx/importer.h"
#include "layerkit/runtime/engine.h"

namespace fs = std::filesystem;

namespace layerkit::cli {
namespace {

// "test_name: reason" per line; '#' starts a comment. An entry without a reason is an error.
std::map<std::string, std::string> load_skip_list(const std::string& path) {
  std::map<std::string, std::string> skips;
  std::ifstream f(path);
  if (!f) throw Error(ErrorCode::kIO, "cannot open skip list '" + path + "'");
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    ++n;
    if (auto h = line.find('#'); h != std::string::npos) line = line.substr(0, h);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    auto c = line.find(':');
    std::string name = line.substr(0, c), reason = c == std::string::npos ? "" : line.substr(c + 1);
    auto trim = [](std::string& s) {
      s.erase(0, s.find_first_not_of(" \t"));
      s.erase(s.find_last_not_of(" \t") + 1);
    };
    trim(name);
    trim(reason);
    if (reason.empty())
      throw Error(ErrorCode::kINVALID_ARGUMENT, "skip list '" + path + "' line " +
                                                    std::to_string(n) + ": entry '" + name +
                                                    "' has no reason (write 'name: reason')");
    skips[name] = reason;
  }
  return skips;
}

double value_at(const OwnedTensor& t, int64_t i) {
  const uint8_t* p = t.data.data();
  switch (t.type) {
    case DataType::kFLOAT:
      return reinterpret_cast<const float*>(p)[i];
    case DataType::kHALF:
      return half_bits_to_float(reinterpret_cast<const uint16_t*>(p)[i]);
    case DataType::kBF16:
      return bf16_bits_to_float(reinterpret_cast<const uint16_t*>(p)[i]);
    case DataType::kINT32:
      return reinterpret_cast<const int32_t*>(p)[i];
    case DataType::kINT64:
      return static_cast<double>(reinterpret_cast<const int64_t*>(p)[i]);
    case DataType::kINT8:
      return reinterpret_cast<const int8_t*>(p)[i];
    default:
      return p[i];
  }
}

// How outputs are compared (--metric).
enum class Metric { kELEMENTWISE, kCOSINE };

// Note [Cosine metric]
// A real model accumulates rounding over many layers, so per-element tolerances made for one op
// (rtol 1e-3, atol 1e-7) reject correct results where the reference is near zero. --metric=cosine
// compares each floating output as a whole: it passes at cosine similarity >= 0.9999 and
// max|error| / max|reference| <= 1e-4 (NaN must match NaN; integers and bool stay exact).
constexpr double kMinCosine = 0.9999;
constexpr double kMaxRelativeError = 1e-4;

struct CosineResult {
  double cosine = 1.0;
  double relative_error = 0.0;  // max|got - want| / max|want|
  bool nan_mismatch = false;
};

CosineResult cosine_of(const OwnedTensor& got, const OwnedTensor& want, int64_t n) {
  CosineResult r;
  double dot = 0, gg = 0, ww = 0, max_err = 0, max_ref = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double g = value_at(got, i), w = value_at(want, i);
    if (std::isnan(g) || std::isnan(w)) {
      r.nan_mismatch = r.nan_mismatch || std::isnan(g) != std::isnan(w);
      continue;
    }
    dot += g * w;
    gg += g * g;
    ww += w * w;
    max_err = std::max(max_err, std::abs(g - w));
    max_ref = std::max(max_ref, std::abs(w));
  }
  // Two zero vectors are equal; one zero vector against another is not similar at all.
  if (gg == 0 || ww == 0)
    r.cosine = gg == ww ? 1.0 : 0.0;
  else
    r.cosine = dot / (std::sqrt(gg) * std::sqrt(ww));
  r.relative_error = max_ref > 0 ? max_err / max_ref
                                 : (max_err > 0 ? std::numeric_limits<double>::infinity() : 0.0);
  return r;
}

// Empty when equal within rtol 1e-3 / atol 1e-7 (exact for integers and bool), or with
// kCOSINE by Note [Cosine metric]; `report` receives the cosine line of a floating output.
std::string compare(const std::string& name, const OwnedTensor& got, const OwnedTensor& want,
                    Metric metric = Metric::kELEMENTWISE, std::string* report = nullptr) {
  if (got.type != want.type)
    return "output '" + name + "' has type " + std::string(data_type_name(got.type)) +
           ", expected " + std::string(data_type_name(want.type));
  if (got.dims != want.dims)
    return "output '" + name + "' has dims " + got.dims.to_string() + ", expected " +
           want.dims.to_string();
  int64_t n = 1;
  for (int64_t d : want.dims) n *= d;
  const bool fl = is_floating(want.type);
  if (fl && metric == Metric::kCOSINE) {
    const CosineResult c = cosine_of(got, want, n);
    std::ostringstream os;
    os.precision(8);
    os << "output '" << name << "': cosine " << c.cosine;
    os.precision(3);
    os << ", max|error|/max|reference| " << c.relative_error;
    if (report) *report = os.str();
    if (c.nan_mismatch) return "output '" + name + "': NaN where the reference has none, or not";
    if (c.cosine < kMinCosine || !(c.relative_error <= kMaxRelativeError))
      return os.str() + " (needs cosine >= 0.9999 and <= 1e-4)";
    return "";
  }
  for (int64_t i = 0; i < n; ++i) {
    const double g = value_at(got, i), w = value_at(want, i);
    if (fl && std::isnan(w) && std::isnan(g)) continue;
    const bool ok = g == w || (fl && std::abs(g - w) <= 1e-7 + 1e-3 * std::abs(w));
    if (!ok) {
      std::ostringstream os;
      os << "output '" << name << "' element " << i << " is " << g << ", expected " << w;
      return os.str();
    }
  }
  return "";
}

// Empty on success, else the reason. Graph inputs whose values an op needs at build time (axes,
// shapes, k, ...) are bound from the data set, as trtexec binds shape-tensor inputs; `bound` is
// set when that happened.
std::string run_case(const fs::path& dir, const BuilderConfig& base, bool round_trip, bool* bound,
                     bool* unconverted, Metric metric, std::vector<std::string>* reports) {
  const std::string model = (dir / "model.onnx").string();
  const onnx::CheckReport pre = onnx::check_model(model);
  // Unsupported nodes and graph-input types fail before any data is read (bound inputs aside).
  bool only_bindable = true;
  for (const auto& u : pre.unsupported)
    only_bindable = only_bindable &&
                    u.reason.find("is a graph input whose value is needed") != std::string::npos;
  if (!only_bindable) {
    for (const auto& u : pre.unsupported)
      *unconverted = *unconverted || u.reason.rfind("no converter for ", 0) == 0;
    return "unsupported: " + pre.to_string();
  }
  // The suite stores bfloat16 tensors as UINT16 bit patterns.
  auto read = [](const fs::path& p) {
    try {
      return onnx::read_tensor_proto(p.string());
    } catch (const Error&) {
      return onnx::read_tensor_proto(p.string(), nullptr, true);
    }
  };
  std::vector<fs::path> sets;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) return "no test_data_set_* directory";
  for (const auto& set : sets) {
    std::vector<OwnedTensor> inputs, outputs;
    for (int i = 0;; ++i) {
      fs::path p = set / ("input_" + std::to_string(i) + ".pb");
      if (!fs::exists(p)) break;
      inputs.push_back(read(p));
    }
    for (int i = 0;; ++i) {
      fs::path p = set / ("output_" + std::to_string(i) + ".pb");
      if (!fs::exists(p)) break;
      outputs.push_back(read(p));
    }
    if (inputs.size() != pre.graph_inputs.size())
      return set.filename().string() + ": " + std::to_string(inputs.size()) + " input files for " +
             std::to_string(pre.graph_inputs.size()) + " graph inputs";
    onnx::ImportOptions options;
    std::map<std::string, const OwnedTensor*> runtime;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string& name = pre.graph_inputs[i];
      if (std::find(pre.build_time_inputs.begin(), pre.build_time_inputs.end(), name) !=
          pre.build_time_inputs.end()) {
        options.input_values[name] = inputs[i];
        *bound = true;
      } else {
        runtime[name] = &inputs[i];
      }
    }
    onnx::ImportResult imported = onnx::import_model(model, options);
    const Network& net = *imported.network;
    // One profile fixed at this data set's shapes.
    BuilderConfig config = base;
    OptimizationProfile profile;
    for (int i = 0; i < net.num_inputs(); ++i) {
      const std::string& name = net.input(i)->name();
      if (!runtime.count(name)) return "network input '" + name + "' has no data";
      if (!net.input(i)->dims().is_static())
        profile.set_dimensions(name, runtime[name]->dims, runtime[name]->dims, runtime[name]->dims);
    }
    config.profiles.push_back(profile);
    auto engine = Builder::build(net, config);
    if (round_trip) {
      const std::vector<uint8_t> plan = engine->serialize();
      engine = Engine::deserialize(plan);
      if (engine->serialize() != plan)
        return set.filename().string() + ": the deserialized engine serializes to other bytes";
    }
    auto ctx = engine->create_execution_context();
    for (int i = 0; i < net.num_inputs(); ++i) {
      const std::string& name = net.input(i)->name();
      ctx->set_input_shape(name, runtime[name]->dims);
      ctx->set_input(name, runtime[name]->data.data());
    }
    ctx->execute();
    if (static_cast<int>(outputs.size()) != net.num_outputs())
      return set.filename().string() + ": " + std::to_string(outputs.size()) +
             " output files for " + std::to_string(net.num_outputs()) + " network outputs";
    for (int o = 0; o < net.num_outputs(); ++o) {
      const std::string name = net.output(o)->name();
      std::string line;
      std::string why = compare(name, ctx->output(name), outputs[o], metric, &line);
      if (!line.empty()) reports->push_back(set.filename().string() + " " + line);
      if (!why.empty()) return set.filename().string() + ": " + why;
    }
  }
  return "";
}

}  // namespace

int conformance_command(const Args& args) {
  if (args.positional.size() != 1) throw UsageError("conformance: exactly one DIR is required");
  const fs::path root = args.positional[0];
  if (!fs::is_directory(root))
    throw UsageError("conformance: '" + root.string() + "' is no directory");
  const auto skips = load_skip_list(args.get("skipList").value_or(LAYERKIT_CONFORMANCE_SKIP_LIST));
  const bool verbose = args.get("verbose").has_value();
  const bool round_trip = args.get("roundTrip").has_value();
  Metric metric = Metric::kELEMENTWISE;
  if (auto m = args.get("metric")) {
    if (*m == "cosine")
      metric = Metric::kCOSINE;
    else if (*m != "elementwise")
      throw UsageError("--metric must be elementwise or cosine, got '" + *m + "'");
  }
  BuilderConfig base;
  apply_engine_flags(args, base);
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(root))
    if (fs::exists(e.path() / "model.onnx")) cases.push_back(e.path());
  std::sort(cases.begin(), cases.end());
  int passed = 0, failed = 0, skipped = 0, bound_passed = 0, failed_converted = 0;
  int64_t min_pass_percent = args.get_int("minPassPercent", 0, 0);
  if (min_pass_percent > 100) throw UsageError("--minPassPercent must be at most 100");
  for (const auto& c : cases) {
    const std::string name = c.filename().string();
    if (skips.count(name)) {
      ++skipped;
      continue;
    }
    std::string why;
    bool bound = false, unconverted = false;
    std::vector<std::string> reports;
    try {
      why = run_case(c, base, round_trip, &bound, &unconverted, metric, &reports);
    } catch (const std::exception& e) {
      why = e.what();
    }
    for (const auto& r : reports) std::cout << "  " << name << " " << r << "\n";
    std::replace(why.begin(), why.end(), '\n', ' ');
    if (why.empty()) {
      ++passed;
      if (bound) ++bound_passed;
      if (verbose) std::cout << "PASS " << name << "\n";
    } else {
      ++failed;
      if (!unconverted) ++failed_converted;
      std::cout << "FAIL " << name << ": " << why << "\n";
    }
  }
  if (bound_passed > 0)
    std::cout << "(" << bound_passed
              << " passing cases bound graph inputs needed at build time from their data)\n";
  const int total = passed + failed + skipped;
  const bool enough = int64_t{passed} * 100 >= min_pass_percent * total;
  if (failed_converted > 0)
    std::cout << failed_converted
              << " failures are in cases whose ops all have converters (not in the skip list)\n";
  if (!enough)
    std::cout << "fewer than " << min_pass_percent << "% of " << total << " cases passed\n";
  std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
  return failed_converted == 0 && enough ? 0 : 1;
}

}  // namespace layerkit::cli
