// The `layerkit` command line: run, check, inspect and conformance subcommands.
#include <fstream>
#include <iostream>

#include "cli.h"
#include "layerkit/builder/builder.h"
#include "layerkit/runtime/engine.h"

namespace layerkit::cli {
namespace {

constexpr const char* kUsage =
    "usage: layerkit <command> [options]\n"
    "commands:\n"
    "  run [MODEL.onnx]      import, build and time a model (trtexec's flag names)\n"
    "  check [MODEL.onnx]    list every node the importer cannot convert (exit 1 if any)\n"
    "  inspect [MODEL.onnx]  print the imported network (--dot FILE writes Graphviz,\n"
    "                        --engine the network the optimizing builder makes of it)\n"
    "  conformance DIR       run the ONNX backend node tests under DIR\n"
    "Without MODEL, run, check and inspect use the built-in default model, a small ResNet-style\n"
    "CNN (models/default_cnn.onnx: input 'input' [batch,3,32,32], 10 classes).\n"
    "'layerkit <command> --help' describes a command.\n";

constexpr const char* kRunHelp =
    "usage: layerkit run [MODEL.onnx] [options]\n"
    "Without MODEL runs the built-in default model (a small ResNet-style CNN) at batch 1.\n"
    "  --shapes=SPEC          run shapes, fixing min = opt = max (SPEC: name:1x3x224x224,...)\n"
    "  --minShapes=SPEC --optShapes=SPEC --maxShapes=SPEC\n"
    "                         the optimization profile; runs at the opt shapes\n"
    "                         (default: dynamic dims min 1, opt = max = 1)\n"
    "  --loadInputs=name:file[,name:file]  raw little-endian input data (default: random)\n"
    "  --inputValues=name:1x-1x2[,...]  values of graph inputs needed when the network is\n"
    "                         built (axes, shapes, k, pads; 'layerkit check' lists them)\n"
    "  --exportOutput=FILE    write the outputs as JSON (trtexec's layout)\n"
    "  --checkAgainst=cpu     also run the CPU engine on the same inputs and print, per output,\n"
    "                         the cosine similarity and max |error| / max |reference|\n"
    "  --exportTimes=FILE     write each timed run's start, end and latency in ms as JSON\n"
    "  --saveEngine=FILE      after building, write the engine plan to FILE and print its size\n"
    "  --loadEngine=FILE      run the engine plan in FILE (from --saveEngine) instead of\n"
    "                         importing and building a model, and print the load time; MODEL,\n"
    "                         --min/opt/maxShapes, --inputValues, --threads and the engine\n"
    "                         flags below are fixed in the plan; --shapes picks run shapes\n"
    "                         within its profile (default: the opt shapes)\n"
    "  --iterations=N         timed runs (default 10)\n"
    "  --warmUp=MS            warm-up time in milliseconds (default 200; 0: no warm-up)\n"
    "  --threads=N            executor threads (default 1)\n"
    "  --dumpLayerInfo        print the network's layers\n"
    "  --dumpProfile          per-layer times over the timed runs: average ms per run and\n"
    "                         share of the total, slowest first\n";

constexpr const char* kCheckHelp =
    "usage: layerkit check [MODEL.onnx]\n"
    "Lists every unsupported node (index, name, op type, reason). Exit 0 when all nodes are\n"
    "supported, 1 otherwise.\n";

constexpr const char* kInspectHelp =
    "usage: layerkit inspect [MODEL.onnx] [--dot FILE] [--engine]\n"
    "Imports the model and prints the network's text form; --dot also writes Graphviz DOT.\n"
    "--engine builds it (optimization level 1, the default profile) and prints instead the\n"
    "engine's network, each builder pass's rewrite count, one line per rewrite naming the\n"
    "layer of the imported network it changed, the activation memory plan, and the kernel\n"
    "of each layer after one run on zeros at the opt shapes (fusion groups show on their\n"
    "first layer, '<kernel> fused with ...'; the layers fused into it say 'fused into ...').\n";

// Runs the engine once on zeros at the first profile's opt shapes and lists, per layer, the
// kernel that ran it: fusion groups show on their anchor ("... fused with ...") and each fused
// layer names its anchor.
std::string kernel_table(const Engine& engine, const BuilderConfig& config) {
  const Network& net = engine.network();
  std::vector<std::vector<uint8_t>> data;
  try {
    auto ctx = engine.create_execution_context();
    for (int i = 0; i < net.num_inputs(); ++i) {
      const Tensor* t = net.input(i);
      Dims d = t->dims();
      if (!d.is_static()) {
        const ProfileDims* pd = config.profiles.at(0).dimensions(t->name());
        d = pd->opt;
        ctx->set_input_shape(t->name(), d);
      }
      data.emplace_back(static_cast<size_t>(packed_bytes(t->type(), d.volume())), 0);
      ctx->set_input(t->name(), data.back().data());
    }
    ctx->execute();
    std::string out;
    for (int i = 0; i < net.num_layers(); ++i) {
      const Layer* l = net.layer(i);
      if (l->kind() == LayerKind::kINPUT || l->kind() == LayerKind::kCONSTANT) continue;
      out += l->name() + " (" + std::string(layer_kind_name(l->kind())) +
             "): " + ctx->layer_implementation(l->name()) + "\n";
    }
    return out;
  } catch (const Error& e) {
    return std::string("not run: ") + e.what() + "\n";
  }
}

constexpr const char* kConformanceHelp =
    "usage: layerkit conformance DIR [--skipList FILE] [--verbose] [--roundTrip]\n"
    "                            [--metric=elementwise|cosine]\n"
    "Runs every test case under DIR (model.onnx + test_data_set_*/input_N.pb, output_N.pb),\n"
    "compares with rtol 1e-3, atol 1e-7, prints each failure and ends with\n"
    "'N passed, M failed, K skipped'. Skips come only from the skip list (default: the\n"
    "checked-in tools/layerkit/conformance_skip.txt), one 'name: reason' per line.\n"
    "Graph inputs an op needs at build time (axes, shapes, k, ...) are bound from each data set.\n"
    "Exit 1 when a case fails whose ops all have converters, or when fewer than\n"
    "--minPassPercent=P (default 0) percent of all cases pass; else 0.\n"
    "--roundTrip serializes each built engine and runs the engine deserialized from those\n"
    "bytes instead (a case also fails when serializing that engine gives other bytes).\n"
    "--metric=cosine compares each floating output as a whole, as fits a real model: it prints\n"
    "the cosine similarity and max|error|/max|reference| of every output and passes at\n"
    "cosine >= 0.9999 and <= 1e-4 (integers and bool stay exact).\n";

int dispatch(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  if (cmd == "run") {
    std::vector<std::string> values = {"shapes",     "minShapes",   "optShapes",    "maxShapes",
                                       "loadInputs", "inputValues", "exportOutput", "exportTimes",
                                       "iterations", "warmUp",      "threads",      "checkAgainst",
                                       "saveEngine", "loadEngine"};
    std::vector<std::string> bools = {"dumpLayerInfo", "dumpProfile"};
    values.insert(values.end(), kEngineValueFlags.begin(), kEngineValueFlags.end());
    bools.insert(bools.end(), kEngineBoolFlags.begin(), kEngineBoolFlags.end());
    Args a = parse_args(argc, argv, 2, values, bools);
    if (a.help) return std::cout << kRunHelp << kEngineFlagsHelp, 0;
    return run_command(a);
  }
  if (cmd == "check") {
    Args a = parse_args(argc, argv, 2, {}, {});
    if (a.help) return std::cout << kCheckHelp, 0;
    onnx::CheckReport r = model_arg(a, "check").check();
    std::cout << r.to_string();
    return r.ok() ? 0 : 1;
  }
  if (cmd == "inspect") {
    Args a = parse_args(argc, argv, 2, {"dot"}, {"engine"});
    if (a.help) return std::cout << kInspectHelp, 0;
    onnx::ImportResult r = model_arg(a, "inspect").import();
    if (a.get("engine")) {
      std::unique_ptr<Engine> engine = Builder::build(*r.network, r.builder_config());
      const MemoryPlan& plan = engine->memory_plan();
      std::cout << "opset " << r.opset << "\n=== Engine network\n"
                << engine->network().to_string() << "=== Builder passes\n"
                << engine->build_report().to_string() << "=== Memory plan\n"
                << "activations: " << plan.peak_bytes_unplanned << " bytes unplanned, "
                << plan.peak_bytes_planned << " bytes planned (buffers reused by lifetime)\n"
                << "=== Kernels (one run at the opt shapes, inputs zero)\n"
                << kernel_table(*engine, r.builder_config());
    } else {
      std::cout << "opset " << r.opset << "\n" << r.network->to_string();
    }
    for (const auto& w : r.warnings) std::cout << "warning: " << w << "\n";
    if (auto dot = a.get("dot")) {
      std::ofstream f(*dot);
      if (!f) throw Error(ErrorCode::kIO, "cannot write '" + *dot + "'");
      f << r.network->to_dot();
    }
    return 0;
  }
  if (cmd == "conformance") {
    std::vector<std::string> values = {"skipList", "minPassPercent", "metric"};
    std::vector<std::string> bools = {"verbose", "roundTrip"};
    values.insert(values.end(), kEngineValueFlags.begin(), kEngineValueFlags.end());
    bools.insert(bools.end(), kEngineBoolFlags.begin(), kEngineBoolFlags.end());
    Args a = parse_args(argc, argv, 2, values, bools);
    if (a.help) return std::cout << kConformanceHelp << kEngineFlagsHelp, 0;
    return conformance_command(a);
  }
  throw UsageError("unknown command '" + cmd + "' (run, check, inspect, conformance)");
}

}  // namespace
}  // namespace layerkit::cli

int main(int argc, char** argv) {
  try {
    return layerkit::cli::dispatch(argc, argv);
  } catch (const layerkit::cli::UsageError& e) {
    std::cerr << "layerkit: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "layerkit: error: " << e.what() << "\n";
    return 1;
  }
}
