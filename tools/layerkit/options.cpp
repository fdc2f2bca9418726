// Flag and shape-string parsing for the `layerkit` command line.
#include <algorithm>
#include <charconv>
#include <sstream>

#include "cli.h"

namespace layerkit::cli {

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = flags.find(name);
  if (it == flags.end()) return std::nullopt;
  return it->second;
}

int64_t Args::get_int(const std::string& name, int64_t fallback, int64_t min_value) const {
  auto v = get(name);
  if (!v) return fallback;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size() || out < min_value)
    throw UsageError("--" + name + " expects an integer >= " + std::to_string(min_value) +
                     ", got '" + *v + "'");
  return out;
}

Args parse_args(int argc, char** argv, int first, const std::vector<std::string>& value_flags,
                const std::vector<std::string>& bool_flags) {
  Args a;
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--help" || s == "-h") {
      a.help = true;
      continue;
    }
    if (s.rfind("--", 0) != 0) {
      a.positional.push_back(s);
      continue;
    }
    std::string name = s.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (has(value_flags, name)) {
      if (!has_value) {
        if (i + 1 >= argc) throw UsageError("--" + name + " needs a value");
        value = argv[++i];
      }
      a.flags[name] = value;
    } else if (has(bool_flags, name)) {
      if (has_value) throw UsageError("--" + name + " takes no value");
      a.flags[name] = "";
    } else {
      throw UsageError("unknown flag --" + name + " (see --help)");
    }
  }
  return a;
}

void apply_engine_flags(const Args& args, BuilderConfig& config) {
  const int64_t level = args.get_int("builderOptimizationLevel", config.optimization_level, 0);
  if (level > 1) throw UsageError("--builderOptimizationLevel must be 0 or 1");
  config.optimization_level = static_cast<int>(level);
  if (args.get("referenceKernels")) config.reference_kernels_only = true;
  if (args.get("fp16")) config.set_flag(BuilderFlag::kFP16);
  if (args.get("bf16")) config.set_flag(BuilderFlag::kBF16);
  if (args.get("stronglyTyped")) config.set_flag(BuilderFlag::kSTRONGLY_TYPED);
  if (args.get("stronglyTyped") && (args.get("fp16") || args.get("bf16")))
    throw UsageError(
        "--stronglyTyped keeps the model's types; it cannot be combined with --fp16 "
        "or --bf16");
  if (args.get("useCudaGraph") && args.get("noCudaGraph"))
    throw UsageError("--useCudaGraph and --noCudaGraph contradict each other");
  if (std::optional<std::string> d = args.get("device")) {
    // cpu, cuda or cuda:N
    if (*d == "cpu") {
      config.device = DeviceType::kCPU;
    } else if (d->rfind("cuda", 0) == 0) {
      config.device = DeviceType::kCUDA;
      if (d->size() > 4) {
        const std::string n = d->substr(5);
        if ((*d)[4] != ':' || n.empty() || n.find_first_not_of("0123456789") != std::string::npos ||
            n.size() > 4)
          throw UsageError("--device must be cpu, cuda or cuda:N, not '" + *d + "'");
        config.device_index = std::stoi(n);
      }
    } else {
      throw UsageError("--device must be cpu, cuda or cuda:N, not '" + *d + "'");
    }
  }
  config.use_cuda_graph = config.device == DeviceType::kCUDA && !args.get("noCudaGraph");
}

ModelArg model_arg(const Args& args, const std::string& command) {
  if (args.positional.size() > 1)
    throw UsageError(command + ": one MODEL.onnx at most (none runs the built-in default model)");
  ModelArg m;
  if (!args.positional.empty()) m.path = args.positional[0];
  return m;
}

onnx::ImportResult ModelArg::import(const onnx::ImportOptions& options) const {
  if (path) return onnx::import_model(*path, options);
  return onnx::import_model_from_bytes(default_model_bytes(), options);
}

onnx::CheckReport ModelArg::check() const {
  return path ? onnx::check_model(*path) : onnx::check_model_from_bytes(default_model_bytes());
}

std::map<std::string, Dims> parse_shapes(const std::string& spec, const std::string& flag) {
  std::map<std::string, Dims> out;
  auto bad = [&](const std::string& why) -> UsageError {
    return UsageError("--" + flag + ": bad shape string '" + spec + "': " + why +
                      " (expected name:1x3x224x224[,name2:...])");
  };
  size_t pos = 0;
  while (pos < spec.size()) {
    std::string name;
    if (spec[pos] == '\'') {
      size_t close = spec.find('\'', pos + 1);
      if (close == std::string::npos) throw bad("unclosed quote");
      name = spec.substr(pos + 1, close - pos - 1);
      pos = close + 1;
      if (pos >= spec.size() || spec[pos] != ':') throw bad("':' expected after a quoted name");
    } else {
      size_t colon = spec.rfind(
          ':', spec.find(',', pos) == std::string::npos ? spec.size() - 1 : spec.find(',', pos));
      if (colon == std::string::npos || colon < pos) throw bad("missing ':'");
      name = spec.substr(pos, colon - pos);
      pos = colon;
    }
    ++pos;  // ':'
    size_t end = spec.find(',', pos);
    if (end == std::string::npos) end = spec.size();
    std::string dims_str = spec.substr(pos, end - pos);
    if (name.empty()) throw bad("empty input name");
    std::vector<int64_t> dims;
    size_t p = 0;
    while (p <= dims_str.size() && !dims_str.empty()) {
      size_t x = dims_str.find('x', p);
      if (x == std::string::npos) x = dims_str.size();
      const std::string part = dims_str.substr(p, x - p);
      int64_t v = 0;
      auto [q, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
      if (part.empty() || ec != std::errc() || q != part.data() + part.size() || v < 0)
        throw bad("'" + part + "' is not a dim");
      dims.push_back(v);
      p = x + 1;
      if (x == dims_str.size()) break;
    }
    if (dims.size() > static_cast<size_t>(kMaxDims)) throw bad("too many dims");
    out[name] = Dims(std::span<const int64_t>(dims));
    pos = end + 1;
  }
  if (out.empty()) throw bad("no shapes");
  return out;
}

std::map<std::string, std::vector<int64_t>> parse_values(const std::string& spec) {
  std::map<std::string, std::vector<int64_t>> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto c = item.rfind(':');
    if (c == std::string::npos || c == 0 || c + 1 == item.size())
      throw UsageError("--inputValues: expected name:v1xv2[,name:...], got '" + item + "'");
    std::vector<int64_t>& v = out[item.substr(0, c)];
    std::stringstream vs(item.substr(c + 1));
    std::string part;
    while (std::getline(vs, part, 'x')) {
      int64_t x = 0;
      auto [q, ec] = std::from_chars(part.data(), part.data() + part.size(), x);
      if (part.empty() || ec != std::errc() || q != part.data() + part.size())
        throw UsageError("--inputValues: '" + part + "' is not an integer");
      v.push_back(x);
    }
  }
  return out;
}

}  // namespace layerkit::cli
