// Fuzz target: engine plan bytes through Engine::deserialize and (at small shapes) one run of the
// loaded engine. The checksum is resealed first, so mutants reach the content checks rather
// than stopping at the checksum.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fuzz_util.h"
#include "layerkit/runtime/serialize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> plan(data, data + size);
  try {
    if (plan.size() >= 8) layerkit::plan::reseal(plan);
    std::unique_ptr<layerkit::Engine> engine = layerkit::Engine::deserialize(plan);
    // A loaded engine's plan reads back to the same bytes (the input itself may differ, e.g. in
    // the informational version string it carries).
    const std::vector<uint8_t> again = engine->serialize();
    if (layerkit::Engine::deserialize(again)->serialize() != again) {
      std::fprintf(stderr, "serialize(deserialize(plan)) differs from the plan\n");
      std::abort();
    }
    layerkit::fuzz::run_small(*engine);
  } catch (const layerkit::Error& e) {
    if (e.code() == layerkit::ErrorCode::kINTERNAL) {
      std::fprintf(stderr, "internal error: %s\n", e.what());
      std::abort();
    }
  }
  return 0;
}
