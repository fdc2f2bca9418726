// Imports an ONNX model with layerkit::onnx, builds it and prints its inputs, outputs and layer
// count: the importer as a library consumer sees it.
#include <cstdio>
#include <exception>

#include "layerkit/builder/builder.h"
#include "layerkit/onnx/importer.h"
#include "layerkit/runtime/engine.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: onnx_inspect MODEL.onnx\n");
    return 2;
  }
  try {
    layerkit::onnx::ImportResult r = layerkit::onnx::import_model(argv[1]);
    const layerkit::Network& net = *r.network;
    std::printf("%s: opset %lld, %d layers\n", argv[1], static_cast<long long>(r.opset),
                net.num_layers());
    for (int i = 0; i < net.num_inputs(); ++i)
      std::printf("  input  %s\n", layerkit::describe(*net.input(i)).c_str());
    for (int i = 0; i < net.num_outputs(); ++i)
      std::printf("  output %s\n", layerkit::describe(*net.output(i)).c_str());
    auto engine = layerkit::Builder::build(net, r.builder_config());
    std::printf("  built: %d engine I/O tensors\n", engine->num_io_tensors());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "onnx_inspect: %s\n", e.what());
    return 1;
  }
  return 0;
}
