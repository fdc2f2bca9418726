// `layerkit run`: import an ONNX model, build it, run it and report latency (trtexec's flags).
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "cli.h"
#include "core/element.h"
#include "layerkit/core/size.h"
#include "layerkit/onnx/importer.h"
#include "layerkit/runtime/engine.h"

namespace layerkit::cli {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

void progress(const std::string& step) {
  if (isatty(fileno(stderr))) std::cerr << "[layerkit] " << step << "...\n";
}

// Deterministic inputs in [-1, 1] for floats, {0..3} for integers, {0,1} for bool.
// Note [Size arithmetic]: the byte count is checked and the buffer allocated naming the input.
std::vector<uint8_t> random_input(const std::string& name, DataType type, const Dims& dims) {
  const std::string what =
      "input '" + name + "' " + std::string(data_type_name(type)) + dims.to_string();
  const int64_t n = dims.volume();
  std::vector<uint8_t> out;
  allocate_host(out, tensor_bytes(type, dims, what), what);
  std::mt19937 gen(42);
  for (int64_t i = 0; i < n; ++i) {
    const float f = std::uniform_real_distribution<float>(-1.f, 1.f)(gen);
    const int64_t k = static_cast<int64_t>(gen() % 4);
    switch (type) {
      case DataType::kFLOAT:
        std::memcpy(out.data() + i * 4, &f, 4);
        break;
      case DataType::kHALF: {
        uint16_t h = float_to_half_bits(f);
        std::memcpy(out.data() + i * 2, &h, 2);
        break;
      }
      case DataType::kBF16: {
        uint16_t h = float_to_bf16_bits(f);
        std::memcpy(out.data() + i * 2, &h, 2);
        break;
      }
      case DataType::kINT32: {
        int32_t v = static_cast<int32_t>(k);
        std::memcpy(out.data() + i * 4, &v, 4);
        break;
      }
      case DataType::kINT64:
        std::memcpy(out.data() + i * 8, &k, 8);
        break;
      case DataType::kBOOL:
        out[static_cast<size_t>(i)] = static_cast<uint8_t>(k & 1);
        break;
      default:
        out[static_cast<size_t>(i)] = static_cast<uint8_t>(k);
        break;
    }
  }
  return out;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5));
  return v[i];
}

void export_json(const std::string& path, const Engine& engine, const ExecutionContext& ctx) {
  std::ofstream f(path);
  if (!f) throw Error(ErrorCode::kIO, "cannot write '" + path + "'");
  const Network& net = engine.network();
  f << "[\n";
  for (int o = 0; o < net.num_outputs(); ++o) {
    const std::string name = net.output(o)->name();
    const OwnedTensor& t = ctx.output(name);
    f << "  { \"name\" : \"" << name << "\", \"dimensions\" : \"";
    for (int d = 0; d < t.dims.rank(); ++d) f << (d ? "x" : "") << t.dims[d];
    f << "\", \"values\" : [ ";
    int64_t n = 1;
    for (int64_t d : t.dims) n *= d;
    for (int64_t i = 0; i < n; ++i) {
      if (i) f << ", ";
      switch (t.type) {
        case DataType::kFLOAT:
          f << reinterpret_cast<const float*>(t.data.data())[i];
          break;
        case DataType::kHALF:
          f << half_bits_to_float(reinterpret_cast<const uint16_t*>(t.data.data())[i]);
          break;
        case DataType::kBF16:
          f << bf16_bits_to_float(reinterpret_cast<const uint16_t*>(t.data.data())[i]);
          break;
        case DataType::kINT32:
          f << reinterpret_cast<const int32_t*>(t.data.data())[i];
          break;
        case DataType::kINT64:
          f << reinterpret_cast<const int64_t*>(t.data.data())[i];
          break;
        case DataType::kINT8:
          f << int(reinterpret_cast<const int8_t*>(t.data.data())[i]);
          break;
        default:
          f << int(t.data[static_cast<size_t>(i)]);
          break;
      }
    }
    f << " ] }" << (o + 1 < net.num_outputs() ? "," : "") << "\n";
  }
  f << "]\n";
}

// trtexec's --exportTimes layout: one object per timed run, times in ms from the first run's start.
void export_times(const std::string& path, const std::vector<std::pair<double, double>>& runs) {
  std::ofstream f(path);
  if (!f) throw Error(ErrorCode::kIO, "cannot write '" + path + "'");
  f.precision(6);
  f << std::fixed << "[\n";
  const double origin = runs.empty() ? 0.0 : runs.front().first;
  for (size_t i = 0; i < runs.size(); ++i)
    f << "  { \"startMs\" : " << runs[i].first - origin
      << ", \"endMs\" : " << runs[i].second - origin
      << ", \"latencyMs\" : " << runs[i].second - runs[i].first << " }"
      << (i + 1 < runs.size() ? "," : "") << "\n";
  f << "]\n";
}

// trtexec's --dumpProfile table: one row per layer, slowest first, then the total; the last
// column names the kernel (a fusion group is one row, on its first layer).
void print_profile(std::vector<LayerProfile> prof) {
  std::stable_sort(prof.begin(), prof.end(), [](const LayerProfile& a, const LayerProfile& b) {
    return a.total_ms > b.total_ms;
  });
  double total_ms = 0, total_avg = 0;
  size_t name_w = std::string("layer").size(), kind_w = std::string("kind").size();
  for (const LayerProfile& r : prof) {
    total_ms += r.total_ms;
    total_avg += r.total_ms / static_cast<double>(r.calls);
    name_w = std::max(name_w, r.name.size());
    kind_w = std::max(kind_w, layer_kind_name(r.kind).size());
  }
  const int nw = static_cast<int>(name_w), kw = static_cast<int>(kind_w);
  std::printf("=== Profile (%zu layers, average over the timed runs) ===\n", prof.size());
  std::printf("%-*s  %-*s  %12s  %10s  %s\n", nw, "layer", kw, "kind", "avg ms/run", "% of total",
              "kernel");
  for (const LayerProfile& r : prof) {
    const std::string kind(layer_kind_name(r.kind));
    std::printf("%-*s  %-*s  %12.4f  %10.1f  %s\n", nw, r.name.c_str(), kw, kind.c_str(),
                r.total_ms / static_cast<double>(r.calls),
                total_ms > 0 ? 100.0 * r.total_ms / total_ms : 0.0, r.implementation.c_str());
  }
  std::printf("%-*s  %-*s  %12.4f  %10.1f\n", nw, "total", kw, "", total_avg,
              prof.empty() ? 0.0 : 100.0);
}

// The engine plan in `path`, read back: kIO when the file cannot be read, the plan's own message
// (naming the file) when its bytes are no valid plan.
std::unique_ptr<Engine> load_engine(const std::string& path, double* load_ms, size_t* bytes) {
  const auto t0 = Clock::now();
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw Error(ErrorCode::kIO, "--loadEngine: '" + path + "' is no file");
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw Error(ErrorCode::kIO, "--loadEngine: cannot open '" + path + "'");
  const std::streamoff size = f.tellg();
  std::vector<uint8_t> plan(static_cast<size_t>(std::max<std::streamoff>(size, 0)));
  f.seekg(0);
  if (size < 0 || !f.read(reinterpret_cast<char*>(plan.data()), size))
    throw Error(ErrorCode::kIO, "--loadEngine: cannot read '" + path + "'");
  try {
    std::unique_ptr<Engine> engine = Engine::deserialize(plan);
    *load_ms = ms_since(t0);
    *bytes = plan.size();
    return engine;
  } catch (const Error& e) {
    throw Error(e.code(), "--loadEngine '" + path + "': " + e.what());
  }
}

void save_engine(const Engine& engine, const std::string& path, double* save_ms, size_t* bytes) {
  const auto t0 = Clock::now();
  const std::vector<uint8_t> plan = engine.serialize();
  std::ofstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::kIO, "--saveEngine: cannot write '" + path + "'");
  f.write(reinterpret_cast<const char*>(plan.data()), static_cast<std::streamsize>(plan.size()));
  f.close();
  if (!f) throw Error(ErrorCode::kIO, "--saveEngine: writing '" + path + "' failed");
  *save_ms = ms_since(t0);
  *bytes = plan.size();
}

}  // namespace

int run_command(const Args& args) {
  const std::optional<std::string> load_path = args.get("loadEngine");
  if (load_path) {
    // The plan holds the built engine: what shaped the build cannot change when it runs.
    if (!args.positional.empty())
      throw UsageError("--loadEngine runs the engine in its file; give no MODEL");
    std::vector<std::string> fixed = {"minShapes", "optShapes", "maxShapes", "inputValues",
                                      "threads"};
    fixed.insert(fixed.end(), kEngineValueFlags.begin(), kEngineValueFlags.end());
    fixed.insert(fixed.end(), kEngineBoolFlags.begin(), kEngineBoolFlags.end());
    for (const std::string& f : fixed)
      if (args.get(f))
        throw UsageError("--" + f +
                         " is fixed when the engine is built; it cannot be combined with "
                         "--loadEngine");
  }
  const ModelArg model = model_arg(args, "run");
  const int64_t iterations = args.get_int("iterations", 10, 1);
  const int64_t warmup_ms = args.get_int("warmUp", 200, 0);
  const int64_t threads = args.get_int("threads", 1, 1);
  // Checked here, before it narrows to the builder's int: 2^32 + 1 must not become 1.
  if (threads > kMaxNumThreads)
    throw UsageError("--threads must be at most " + std::to_string(kMaxNumThreads) + ", not " +
                     std::to_string(threads));
  std::map<std::string, Dims> shapes, min_s, opt_s, max_s;
  if (auto s = args.get("shapes")) shapes = parse_shapes(*s, "shapes");
  if (auto s = args.get("minShapes")) min_s = parse_shapes(*s, "minShapes");
  if (auto s = args.get("optShapes")) opt_s = parse_shapes(*s, "optShapes");
  if (auto s = args.get("maxShapes")) max_s = parse_shapes(*s, "maxShapes");
  std::map<std::string, std::string> load;
  if (auto s = args.get("loadInputs")) {
    std::stringstream ss(*s);
    std::string item;
    while (std::getline(ss, item, ',')) {
      auto c = item.rfind(':');
      if (c == std::string::npos || c == 0 || c + 1 == item.size())
        throw UsageError("--loadInputs: expected name:file[,name:file], got '" + item + "'");
      load[item.substr(0, c)] = item.substr(c + 1);
    }
  }

  std::unique_ptr<onnx::ImportResult> imported;
  std::unique_ptr<Engine> engine;
  double import_ms = 0, build_ms = 0, load_ms = 0;
  size_t loaded_bytes = 0;
  if (load_path) {
    progress("loading " + *load_path);
    engine = load_engine(*load_path, &load_ms, &loaded_bytes);
  } else {
    // Graph inputs whose values an op needs at build time (axes, shapes, k, ...) are bound from
    // --inputValues, as trtexec takes the values of shape-tensor inputs.
    onnx::ImportOptions options;
    std::map<std::string, std::vector<int64_t>> values;
    if (auto s = args.get("inputValues")) values = parse_values(*s);
    const onnx::CheckReport pre = model.check();
    for (const auto& name : pre.build_time_inputs) {
      auto it = values.find(name);
      if (it == values.end())
        throw UsageError("input '" + name +
                         "' is needed when the network is built: give its values with "
                         "--inputValues=" +
                         name + ":v1xv2x...");
      OwnedTensor t;
      t.type = DataType::kINT64;
      t.dims = Dims{static_cast<int64_t>(it->second.size())};
      t.data.resize(it->second.size() * sizeof(int64_t));
      std::memcpy(t.data.data(), it->second.data(), t.data.size());
      options.input_values[name] = std::move(t);
      values.erase(it);
    }
    if (!values.empty())
      throw UsageError("--inputValues: '" + values.begin()->first +
                       "' is no graph input whose value is needed at build time");

    progress("importing " + model.label());
    auto t0 = Clock::now();
    imported = std::make_unique<onnx::ImportResult>(model.import(options));
    import_ms = ms_since(t0);
    const Network& imported_net = *imported->network;
    // --shapes fixes min = opt = max; --min/opt/maxShapes set a range (all three per input).
    for (const auto& [name, d] : shapes) imported->set_input_profile(name, d, d, d);
    for (const auto& [name, d] : opt_s) {
      if (!min_s.count(name) || !max_s.count(name))
        throw UsageError("--optShapes for '" + name + "' needs --minShapes and --maxShapes too");
      imported->set_input_profile(name, min_s[name], d, max_s[name]);
    }
    for (const auto& [name, d] : shapes)
      if (!imported_net.find_tensor(name) || !imported_net.find_tensor(name)->is_network_input())
        throw UsageError("--shapes: the model has no input '" + name + "'");
    BuilderConfig build_config = imported->builder_config();
    build_config.num_threads = static_cast<int>(threads);
    apply_engine_flags(args, build_config);

    progress("building");
    t0 = Clock::now();
    engine = Builder::build(imported_net, build_config);
    build_ms = ms_since(t0);
  }
  // The imported network when there is one (--dumpLayerInfo prints it), else the engine's; both
  // have the same inputs and outputs.
  const Network& net = imported ? *imported->network : engine->network();
  const BuilderConfig& config = engine->config();
  if (load_path)
    for (const auto& [name, d] : shapes)
      if (!net.find_tensor(name) || !net.find_tensor(name)->is_network_input())
        throw UsageError("--shapes: the engine has no input '" + name + "'");
  double save_ms = 0;
  size_t saved_bytes = 0;
  if (auto out = args.get("saveEngine")) save_engine(*engine, *out, &save_ms, &saved_bytes);
  auto ctx = engine->create_execution_context();

  std::vector<std::vector<uint8_t>> buffers;
  for (int i = 0; i < net.num_inputs(); ++i) {
    Tensor* in = net.input(i);
    Dims d = in->dims();
    if (const ProfileDims* p =
            config.profiles.empty() ? nullptr : config.profiles[0].dimensions(in->name()))
      d = p->opt;
    // A loaded engine runs at --shapes where given (within its profile).
    if (auto it = shapes.find(in->name()); load_path && it != shapes.end()) d = it->second;
    ctx->set_input_shape(in->name(), d);
    const int64_t n = d.volume();
    if (auto it = load.find(in->name()); it != load.end()) {
      std::ifstream f(it->second, std::ios::binary);
      if (!f) throw Error(ErrorCode::kIO, "--loadInputs: cannot open '" + it->second + "'");
      std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), {});
      if (static_cast<int64_t>(bytes.size()) != packed_bytes(in->type(), n))
        throw Error(ErrorCode::kIO, "--loadInputs: '" + it->second + "' has " +
                                        std::to_string(bytes.size()) + " bytes; input '" +
                                        in->name() + "' " + d.to_string() + " needs " +
                                        std::to_string(packed_bytes(in->type(), n)));
      buffers.push_back(std::move(bytes));
    } else {
      buffers.push_back(random_input(in->name(), in->type(), d));
    }
    ctx->set_input(in->name(), buffers.back().data());
  }

  progress("warming up");
  auto t0 = Clock::now();
  // As in trtexec, --warmUp=0 means no warm-up run (a model whose run takes minutes on the
  // reference kernels is timed from its first run).
  while (ms_since(t0) < static_cast<double>(warmup_ms)) ctx->execute();
  const bool profiling = args.get("dumpProfile").has_value();
  // Only the timed runs are profiled, so the table's averages describe the reported latency.
  if (profiling) ctx->set_profiling(true);
  progress("running " + std::to_string(iterations) + " iterations");
  std::vector<double> times, h2d, compute, d2h;
  std::vector<std::pair<double, double>> spans;  // start and end of each run, from run_start
  const auto run_start = Clock::now();
  for (int64_t i = 0; i < iterations; ++i) {
    const double start = ms_since(run_start);
    ctx->execute();
    const double end = ms_since(run_start);
    times.push_back(end - start);
    spans.emplace_back(start, end);
    const RunTimes rt = ctx->last_run_times();
    h2d.push_back(rt.h2d_ms);
    compute.push_back(rt.compute_ms);
    d2h.push_back(rt.d2h_ms);
  }
  const double total_ms = ms_since(run_start);

  if (args.get("dumpLayerInfo")) std::cout << "=== Layer information ===\n" << net.to_string();
  double mean = 0;
  for (double t : times) mean += t;
  mean /= static_cast<double>(times.size());
  if (load_path)
    std::printf("engine: %s (%zu bytes)\nload time: %.3f ms\n", load_path->c_str(), loaded_bytes,
                load_ms);
  else
    std::printf("model: %s\nimport time: %.3f ms\nbuild time: %.3f ms\n", model.label().c_str(),
                import_ms, build_ms);
  if (auto out = args.get("saveEngine"))
    std::printf("saved engine: %s (%zu bytes, %.3f MiB; serialized and written in %.3f ms)\n",
                out->c_str(), saved_bytes, static_cast<double>(saved_bytes) / (1 << 20), save_ms);
  const MemoryPlan& plan = engine->memory_plan();
  std::printf(
      "activation memory: %.3f MiB planned (buffers reused by lifetime), %.3f MiB unplanned (one "
      "buffer per tensor)\n",
      static_cast<double>(plan.peak_bytes_planned) / (1 << 20),
      static_cast<double>(plan.peak_bytes_unplanned) / (1 << 20));
  std::printf(
      "latency: min = %.4f ms, median = %.4f ms, mean = %.4f ms, p90 = %.4f ms, max = %.4f ms "
      "(%zu iterations)\nthroughput: %.2f qps\n",
      percentile(times, 0), percentile(times, 50), mean, percentile(times, 90),
      percentile(times, 100), times.size(), 1000.0 * static_cast<double>(times.size()) / total_ms);
  if (config.device != DeviceType::kCPU)
    std::printf(
        "device times (median of the timed runs, from device events): H2D = %.4f ms, GPU compute "
        "= %.4f ms, D2H = %.4f ms\n",
        percentile(h2d, 50), percentile(compute, 50), percentile(d2h, 50));
  if (profiling) print_profile(ctx->profile());
  if (auto against = args.get("checkAgainst")) {
    if (*against != "cpu") throw UsageError("--checkAgainst takes cpu, not '" + *against + "'");
    BuilderConfig ref_config = config;
    ref_config.device = DeviceType::kCPU;
    auto ref_engine = Builder::build(net, ref_config);
    auto ref = ref_engine->create_execution_context();
    for (int i = 0; i < net.num_inputs(); ++i) {
      const Tensor* in = net.input(i);
      ref->set_input_shape(in->name(), ctx->get_tensor_shape(in->name()));
      ref->set_input(in->name(), buffers[static_cast<size_t>(i)].data());
    }
    ref->execute();
    for (int i = 0; i < net.num_outputs(); ++i) {
      const std::string& name = net.output(i)->name();
      const OwnedTensor& a = ref->output(name);
      const OwnedTensor& b = ctx->output(name);
      double dot = 0, na = 0, nb = 0, max_err = 0, max_ref = 0;
      const int64_t n = a.dims.volume();
      std::vector<uint8_t> ua(static_cast<size_t>(n * element_size(a.type))), ub(ua.size());
      unpack(a.type, a.data.data(), ua.data(), n);
      unpack(b.type, b.data.data(), ub.data(), n);
      for (int64_t k = 0; k < n; ++k) {
        const double x = load_f(a.type, ua.data(), k), y = load_f(b.type, ub.data(), k);
        dot += x * y;
        na += x * x;
        nb += y * y;
        max_err = std::max(max_err, std::fabs(x - y));
        max_ref = std::max(max_ref, std::fabs(x));
      }
      const double cosine = na == 0 && nb == 0 ? 1.0 : dot / std::sqrt(na * nb);
      std::printf("check against cpu: output '%s' %s: cosine %.9f, max |err| / max |ref| %.3g\n",
                  name.c_str(), a.dims.to_string().c_str(), cosine,
                  max_ref > 0 ? max_err / max_ref : max_err);
    }
  }
  if (auto out = args.get("exportOutput")) export_json(*out, *engine, *ctx);
  if (auto out = args.get("exportTimes")) export_times(*out, spans);
  return 0;
}

}  // namespace layerkit::cli
