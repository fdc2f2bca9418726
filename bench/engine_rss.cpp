// Builds the default model's engine many times over and reports the resident memory before and
// after: flat when an engine frees everything it holds. Exits 1 when the growth reaches a tenth of
// what leaking one engine per build would add (the engine's size is measured first).
// Usage: engine_rss [--builds=N] [--model=PATH] [--leak]
//   default: 10000 builds of models/default_cnn.onnx; --leak keeps every engine (the check's test).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "layerkit/onnx/importer.h"
#include "layerkit/runtime/engine.h"

namespace {

// Resident set size in bytes, from /proc/self/statm (pages).
int64_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  int64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

double mib(int64_t b) {
  return static_cast<double>(b) / (1 << 20);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t builds = 10000;
  std::string model = LAYERKIT_DEFAULT_MODEL_PATH;
  bool leak = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--builds=", 9) == 0) {
      builds = std::stoll(argv[i] + 9);
    } else if (std::strcmp(argv[i], "--leak") == 0) {
      leak = true;
    } else if (std::strncmp(argv[i], "--model=", 8) == 0) {
      model = argv[i] + 8;
    } else {
      std::fprintf(stderr, "usage: engine_rss [--builds=N] [--model=PATH] [--leak]\n");
      return 2;
    }
  }
  try {
    using namespace layerkit;
    const onnx::ImportResult imported = onnx::import_model(model);
    const BuilderConfig config = imported.builder_config();
    // What one engine holds: the RSS growth while kHeld engines stay alive, per engine (measured
    // first, while the allocator has no freed memory to hand back).
    constexpr int kHeld = 200;
    const int64_t before_held = rss_bytes();
    int64_t engine_bytes = 0;
    {
      std::vector<std::unique_ptr<Engine>> held;
      for (int i = 0; i < kHeld; ++i) held.push_back(Builder::build(*imported.network, config));
      engine_bytes = std::max<int64_t>((rss_bytes() - before_held) / kHeld, 1);
    }
    // Warm-up builds settle the allocator's pools before the measured loop.
    for (int i = 0; i < 100; ++i) Builder::build(*imported.network, config);
    const int64_t before = rss_bytes();
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < builds; ++i) {
      std::unique_ptr<Engine> e = Builder::build(*imported.network, config);
      if (leak) e.release();  // what the check must catch (the engine_rss_catches_leak test)
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const int64_t after = rss_bytes();
    const int64_t growth = after - before;
    const int64_t leak_bound = builds * engine_bytes / 10;
    std::printf("model: %s\nbuilds: %lld in %.1f s (%.3f ms each)\n", model.c_str(),
                static_cast<long long>(builds), secs, secs * 1000 / static_cast<double>(builds));
    std::printf("engine size: %lld bytes (RSS growth while %d engines are alive, per engine)\n",
                static_cast<long long>(engine_bytes), kHeld);
    std::printf("RSS before: %.2f MiB, after: %.2f MiB, growth: %lld bytes\n", mib(before),
                mib(after), static_cast<long long>(growth));
    std::printf("bound: %lld bytes (a tenth of one engine per build)\n",
                static_cast<long long>(leak_bound));
    if (growth >= leak_bound) {
      std::printf("FAIL: RSS grew by %lld bytes, at least %lld\n", static_cast<long long>(growth),
                  static_cast<long long>(leak_bound));
      return 1;
    }
    std::printf("OK: RSS flat within the bound\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "engine_rss: error: %s\n", e.what());
    return 1;
  }
}
