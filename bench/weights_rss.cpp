// Resident memory and time at each step from an ONNX file to running engines: import, build, a
// first and a second context (each run once), serialize, load the plan in a fresh engine.
// Usage: weights_rss MODEL [--shapes=name:1x128,...] [--device=cpu|cuda] [--threads=N]
//   Dynamic inputs are fixed to the given shapes (min = opt = max); every input is zero-filled.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "layerkit/onnx/importer.h"
#include "layerkit/runtime/engine.h"

namespace {

using namespace layerkit;

// Resident set size in bytes, from /proc/self/statm (pages).
int64_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  int64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// The resident peak so far (VmHWM of /proc/self/status), in bytes.
int64_t peak_rss_bytes() {
  std::ifstream f("/proc/self/status");
  std::string key;
  while (f >> key) {
    if (key == "VmHWM:") {
      int64_t kb = 0;
      f >> kb;
      return kb * 1024;
    }
    std::getline(f, key);
  }
  return 0;
}

double mib(int64_t b) {
  return static_cast<double>(b) / (1 << 20);
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::map<std::string, Dims> parse_shapes(const std::string& spec) {
  std::map<std::string, Dims> out;
  size_t at = 0;
  while (at < spec.size()) {
    size_t end = spec.find(',', at);
    if (end == std::string::npos) end = spec.size();
    const std::string item = spec.substr(at, end - at);
    const size_t colon = item.rfind(':');
    if (colon == std::string::npos) throw Error(ErrorCode::kINVALID_ARGUMENT, "bad shape " + item);
    std::vector<int64_t> d;
    size_t p = colon + 1;
    while (p <= item.size()) {
      size_t x = item.find('x', p);
      if (x == std::string::npos) x = item.size();
      d.push_back(std::stoll(item.substr(p, x - p)));
      p = x + 1;
    }
    out[item.substr(0, colon)] = Dims(d);
    at = end + 1;
  }
  return out;
}

// One run of `ctx` on zero-filled inputs (the buffers stay alive in `keep`).
void run_once(const Engine& engine, ExecutionContext& ctx,
              const std::map<std::string, Dims>& shapes, std::vector<std::vector<uint8_t>>& keep) {
  const Network& net = engine.network();
  for (int i = 0; i < net.num_inputs(); ++i) {
    const Tensor* t = net.input(i);
    Dims d = t->dims();
    if (auto it = shapes.find(t->name()); it != shapes.end()) d = it->second;
    ctx.set_input_shape(t->name(), d);
    keep.emplace_back(static_cast<size_t>(packed_bytes(t->type(), d.volume())), 0);
    ctx.set_input(t->name(), keep.back().data());
  }
  ctx.execute();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: weights_rss MODEL [--shapes=name:1x128,...] [--device=cpu|cuda] "
                 "[--threads=N]\n");
    return 2;
  }
  try {
    const std::string model = argv[1];
    std::map<std::string, Dims> shapes;
    DeviceType device = DeviceType::kCPU;
    int threads = 1;
    for (int i = 2; i < argc; ++i) {
      if (std::strncmp(argv[i], "--shapes=", 9) == 0) {
        shapes = parse_shapes(argv[i] + 9);
      } else if (std::strcmp(argv[i], "--device=cuda") == 0) {
        device = DeviceType::kCUDA;
      } else if (std::strcmp(argv[i], "--device=cpu") == 0) {
        device = DeviceType::kCPU;
      } else if (std::strncmp(argv[i], "--threads=", 10) == 0) {
        threads = std::stoi(argv[i] + 10);
      } else {
        std::fprintf(stderr, "weights_rss: unknown option %s\n", argv[i]);
        return 2;
      }
    }
    const int64_t start = rss_bytes();
    auto t0 = std::chrono::steady_clock::now();
    onnx::ImportResult imported = onnx::import_model(model);
    const double import_ms = ms_since(t0);
    int64_t initializer_bytes = 0;
    for (const auto& [name, w] : imported.weights) initializer_bytes += w.bytes();
    for (const auto& [name, d] : shapes) imported.set_input_profile(name, d, d, d);
    BuilderConfig config = imported.builder_config();
    config.device = device;
    config.num_threads = threads;
    // The network's Constant layers: distinct buffers, and how many of their bytes are the
    // initializers' own (shared, not copied).
    std::set<const void*> initializer_data, seen;
    for (const auto& [name, w] : imported.weights) initializer_data.insert(w.data());
    int64_t constant_bytes = 0, shared_bytes = 0;
    for (int i = 0; i < imported.network->num_layers(); ++i) {
      const Layer* l = imported.network->layer(i);
      if (l->kind() != LayerKind::kCONSTANT) continue;
      const Weights& w = l->attrs<ConstantAttrs>().weights;
      if (w.empty() || !seen.insert(w.data()).second) continue;
      constant_bytes += w.bytes();
      if (initializer_data.count(w.data())) shared_bytes += w.bytes();
    }
    std::printf(
        "model: %s (initializers %.1f MiB; the network's constants %.1f MiB, %.1f MiB of "
        "them the initializers' buffers)\n",
        model.c_str(), mib(initializer_bytes), mib(constant_bytes), mib(shared_bytes));
    std::printf("%-34s %10s %10s %10s\n", "step", "RSS (MiB)", "peak (MiB)", "time (ms)");
    auto line = [](const char* step, double ms) {
      std::printf("%-34s %10.1f %10.1f %10.1f\n", step, mib(rss_bytes()), mib(peak_rss_bytes()),
                  ms);
    };
    std::printf("%-34s %10.1f %10.1f\n", "start", mib(start), mib(peak_rss_bytes()));
    line("import", import_ms);
    t0 = std::chrono::steady_clock::now();
    std::unique_ptr<Engine> engine = Builder::build(*imported.network, config);
    line("build", ms_since(t0));
    std::vector<std::vector<uint8_t>> keep;
    t0 = std::chrono::steady_clock::now();
    auto c1 = engine->create_execution_context();
    run_once(*engine, *c1, shapes, keep);
    line("first context, first run", ms_since(t0));
    t0 = std::chrono::steady_clock::now();
    auto c2 = engine->create_execution_context();
    run_once(*engine, *c2, shapes, keep);
    line("second context, first run", ms_since(t0));
    std::printf("engine state %.1f MiB; contexts %.1f and %.1f MiB of their own\n",
                mib(static_cast<int64_t>(engine->weights_bytes())),
                mib(static_cast<int64_t>(c1->memory_bytes())),
                mib(static_cast<int64_t>(c2->memory_bytes())));
    t0 = std::chrono::steady_clock::now();
    const std::vector<uint8_t> plan = engine->serialize();
    line("serialize", ms_since(t0));
    c1.reset();
    c2.reset();
    engine.reset();
    imported = {};
    line("engine and model released", 0);
    t0 = std::chrono::steady_clock::now();
    std::unique_ptr<Engine> loaded = Engine::deserialize(plan);
    line("load the plan (deserialize)", ms_since(t0));
    t0 = std::chrono::steady_clock::now();
    auto c3 = loaded->create_execution_context();
    run_once(*loaded, *c3, shapes, keep);
    line("loaded engine, first run", ms_since(t0));
    std::printf("plan %.1f MiB\n", mib(static_cast<int64_t>(plan.size())));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weights_rss: error: %s\n", e.what());
    return 1;
  }
}
