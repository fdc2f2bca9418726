// The built-in default model (models/default_cnn.onnx) imported and built with and without the
// builder passes: both engines compute the same class probabilities.
#include <cmath>
#include <string>

#include "builder/passes/pass_test_util.h"
#include "layerkit/onnx/importer.h"

namespace lktest {
namespace {

TEST(OnnxOptimize, DefaultCnnMatchesUnoptimized) {
  const std::string file = __FILE__;
  const std::string model = file.substr(0, file.rfind("/tests/")) + "/models/default_cnn.onnx";
  onnx::ImportResult r = onnx::import_model(model);
  BuilderConfig cfg = r.builder_config();
  auto engine = Builder::build(*r.network, cfg);
  EXPECT_LT(engine->network().num_layers(), r.network->num_layers())
      << engine->build_report().to_string();
  // Convolutions of up to 3x3 over up to 32 channels: tolerance scaled by sqrt(9 * 32) per
  // layer of the chain, bounded here by the 288-long accumulation.
  expect_optimized_matches(*r.network, {random(DataType::kFLOAT, {1, 3, 32, 32}, 1, -1, 1)},
                           std::sqrt(288.0), cfg);
}

}  // namespace
}  // namespace lktest
