// Fuzz target: ONNX model bytes through the check pass, the importer, the builder, an engine plan
// round trip and (at small shapes) one run. Structure-aware: the custom mutator edits the parsed
// ModelProto (op types, attributes, dims, initializers, names) so mutants reach the converters.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "layerkit/onnx/importer.h"

namespace {

using layerkit::Error;
using layerkit::ErrorCode;

// A layerkit::Error is the expected way to reject a model; kINTERNAL is a broken invariant.
void accept(const Error& e) {
  if (e.code() == ErrorCode::kINTERNAL) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    std::abort();
  }
}

void exercise(std::string_view bytes) {
  layerkit::onnx::ImportOptions options;
  options.default_dynamic_dim = 2;
  try {
    layerkit::onnx::check_model_from_bytes(bytes, options);
  } catch (const Error& e) {
    accept(e);
  }
  try {
    // External data is looked up in a folder that does not exist: nothing outside the input.
    layerkit::onnx::ImportResult r =
        layerkit::onnx::import_model_from_bytes(bytes, options, "/nonexistent/fuzz");
    layerkit::BuilderConfig config = r.builder_config();
    // Odd sizes build the reference engine, even ones the optimized engine.
    if (bytes.size() % 2) {
      config.optimization_level = 0;
      config.reference_kernels_only = true;
    }
    std::unique_ptr<layerkit::Engine> engine = layerkit::Builder::build(*r.network, config);
    const std::vector<uint8_t> plan = engine->serialize();
    std::unique_ptr<layerkit::Engine> loaded = layerkit::Engine::deserialize(plan);
    if (loaded->serialize() != plan) {
      std::fprintf(stderr, "serialize(deserialize(plan)) differs from the plan\n");
      std::abort();
    }
    layerkit::fuzz::run_small(*engine);
  } catch (const Error& e) {
    accept(e);
  }
}

#ifdef LAYERKIT_LIBFUZZER

// Attribute names the converters read, so that added attributes are ones they look at.
const char* const kAttributeNames[] = {"axis",
                                       "axes",
                                       "perm",
                                       "kernel_shape",
                                       "pads",
                                       "strides",
                                       "dilations",
                                       "group",
                                       "keepdims",
                                       "transA",
                                       "transB",
                                       "alpha",
                                       "beta",
                                       "epsilon",
                                       "mode",
                                       "to",
                                       "k",
                                       "largest",
                                       "sorted",
                                       "auto_pad",
                                       "ceil_mode",
                                       "value",
                                       "split",
                                       "starts",
                                       "ends",
                                       "shape",
                                       "exclusive",
                                       "reverse",
                                       "blocksize",
                                       "output_padding",
                                       "count_include_pad",
                                       "batch_dims",
                                       "allowzero",
                                       "direction"};

int64_t interesting_int(std::mt19937& rng) {
  static const int64_t kValues[] = {0,
                                    1,
                                    2,
                                    3,
                                    -1,
                                    -2,
                                    4,
                                    7,
                                    64,
                                    1 << 16,
                                    int64_t{1} << 31,
                                    int64_t{1} << 40,
                                    -(int64_t{1} << 31)};
  if (rng() % 4 == 0) return static_cast<int64_t>(rng() % 9) - 4;
  return kValues[rng() % (sizeof kValues / sizeof kValues[0])];
}

// A name already used in the graph (so rewiring makes valid-looking edges), or a fresh one.
std::string some_name(const onnx::GraphProto& g, std::mt19937& rng) {
  std::vector<std::string> names;
  for (const auto& i : g.input()) names.push_back(i.name());
  for (const auto& n : g.node())
    for (const auto& o : n.output()) names.push_back(o);
  for (const auto& t : g.initializer()) names.push_back(t.name());
  if (names.empty() || rng() % 8 == 0) return rng() % 2 ? "" : "fuzz_" + std::to_string(rng() % 4);
  return names[rng() % names.size()];
}

void mutate_attribute(onnx::AttributeProto& a, std::mt19937& rng) {
  switch (rng() % 6) {
    case 0:
      a.set_i(interesting_int(rng));
      if (!a.has_type() || rng() % 2) a.set_type(onnx::AttributeProto::INT);
      break;
    case 1:
      if (a.ints_size() > 0 && rng() % 2)
        a.set_ints(static_cast<int>(rng() % a.ints_size()), interesting_int(rng));
      else if (a.ints_size() > 0 && rng() % 2)
        a.mutable_ints()->RemoveLast();
      else
        a.add_ints(interesting_int(rng));
      a.set_type(onnx::AttributeProto::INTS);
      break;
    case 2: {
      static const float kFloats[] = {0.f, 1.f, -1.f, 0.5f, 1e-30f, 1e30f, NAN, INFINITY};
      a.set_f(kFloats[rng() % 8]);
      a.set_type(onnx::AttributeProto::FLOAT);
      break;
    }
    case 3: {
      static const char* const kStrings[] = {
          "",        "NOTSET", "SAME_UPPER", "VALID", "linear",  "nearest",      "constant",
          "reflect", "edge",   "DCR",        "CRD",   "forward", "bidirectional"};
      a.set_s(kStrings[rng() % (sizeof kStrings / sizeof kStrings[0])]);
      a.set_type(onnx::AttributeProto::STRING);
      break;
    }
    case 4:
      a.set_type(static_cast<onnx::AttributeProto::AttributeType>(rng() % 14));
      break;
    default:
      a.set_name(kAttributeNames[rng() % (sizeof kAttributeNames / sizeof kAttributeNames[0])]);
      break;
  }
}

void mutate_shape(onnx::TensorShapeProto& s, std::mt19937& rng) {
  const int choice = static_cast<int>(rng() % 4);
  if (choice == 0 || s.dim_size() == 0) {
    s.add_dim()->set_dim_value(interesting_int(rng));
  } else if (choice == 1) {
    s.mutable_dim()->RemoveLast();
  } else if (choice == 2) {
    s.mutable_dim(static_cast<int>(rng() % s.dim_size()))->set_dim_value(interesting_int(rng));
  } else {
    s.mutable_dim(static_cast<int>(rng() % s.dim_size()))->set_dim_param(rng() % 2 ? "N" : "M");
  }
}

void mutate_tensor(onnx::TensorProto& t, std::mt19937& rng) {
  switch (rng() % 7) {
    case 0:
      if (t.dims_size() > 0 && rng() % 2)
        t.set_dims(static_cast<int>(rng() % t.dims_size()), interesting_int(rng));
      else if (t.dims_size() > 0 && rng() % 2)
        t.mutable_dims()->RemoveLast();
      else
        t.add_dims(interesting_int(rng));
      break;
    case 1:
      t.set_data_type(static_cast<int32_t>(rng() % 24));
      break;
    case 2:
      if (!t.raw_data().empty()) {
        std::string* raw = t.mutable_raw_data();
        if (rng() % 2)
          raw->resize(rng() % (raw->size() + 1));
        else
          (*raw)[rng() % raw->size()] = static_cast<char>(rng());
      } else {
        t.add_int64_data(interesting_int(rng));
      }
      break;
    case 3:
      t.add_float_data(static_cast<float>(interesting_int(rng)));
      break;
    case 4:
      t.add_int32_data(static_cast<int32_t>(interesting_int(rng)));
      break;
    case 5: {
      // External data: the entries a model file may hold, well-formed or not.
      static const char* const kKeys[] = {"location", "offset", "length", "checksum"};
      static const char* const kValues[] = {"weights.bin",          "0",    "-1",  "abc", "",
                                            "99999999999999999999", "../x", "4096"};
      t.set_data_location(onnx::TensorProto::EXTERNAL);
      onnx::StringStringEntryProto* e = t.add_external_data();
      e->set_key(kKeys[rng() % 4]);
      e->set_value(kValues[rng() % 8]);
      break;
    }
    default:
      t.clear_raw_data();
      break;
  }
}

void mutate_model(onnx::ModelProto& m, std::mt19937& rng) {
  static const std::vector<std::string> kOps = layerkit::onnx::supported_ops();
  onnx::GraphProto& g = *m.mutable_graph();
  const int nodes = g.node_size();
  onnx::NodeProto* node = nodes > 0 ? g.mutable_node(static_cast<int>(rng() % nodes)) : nullptr;
  switch (rng() % 12) {
    case 0:
      if (node) node->set_op_type(kOps[rng() % kOps.size()]);
      break;
    case 1:
    case 2:
      if (node && node->attribute_size() > 0)
        mutate_attribute(*node->mutable_attribute(static_cast<int>(rng() % node->attribute_size())),
                         rng);
      else if (node)
        mutate_attribute(*node->add_attribute(), rng);
      break;
    case 3:
      if (node) {
        onnx::AttributeProto* a = node->add_attribute();
        a->set_name(kAttributeNames[rng() % (sizeof kAttributeNames / sizeof kAttributeNames[0])]);
        mutate_attribute(*a, rng);
      }
      break;
    case 4: {
      auto* vis = rng() % 2 ? g.mutable_input() : g.mutable_output();
      if (vis->size() > 0) {
        onnx::ValueInfoProto& v = *vis->Mutable(static_cast<int>(rng() % vis->size()));
        if (rng() % 4 == 0)
          v.mutable_type()->mutable_tensor_type()->set_elem_type(static_cast<int32_t>(rng() % 17));
        else
          mutate_shape(*v.mutable_type()->mutable_tensor_type()->mutable_shape(), rng);
      }
      break;
    }
    case 5:
      if (g.initializer_size() > 0)
        mutate_tensor(*g.mutable_initializer(static_cast<int>(rng() % g.initializer_size())), rng);
      break;
    case 6:
      if (node && node->input_size() > 0 && rng() % 2)
        node->set_input(static_cast<int>(rng() % node->input_size()), some_name(g, rng));
      else if (node && rng() % 2)
        node->add_input(some_name(g, rng));
      else if (node && node->input_size() > 0)
        node->mutable_input()->RemoveLast();
      break;
    case 7:
      if (node && node->output_size() > 0)
        node->set_output(static_cast<int>(rng() % node->output_size()), some_name(g, rng));
      else if (g.output_size() > 0)
        g.mutable_output(static_cast<int>(rng() % g.output_size()))->set_name(some_name(g, rng));
      break;
    case 8:
      if (node) *g.add_node() = *node;  // a duplicate (outputs collide unless renamed later)
      break;
    case 9:
      if (nodes > 1) {
        g.mutable_node()->SwapElements(static_cast<int>(rng() % nodes), nodes - 1);
        g.mutable_node()->RemoveLast();
      }
      break;
    case 10:
      if (m.opset_import_size() > 0)
        m.mutable_opset_import(0)->set_version(static_cast<int64_t>(rng() % 24));
      break;
    default:
      // A constant-producing node's value: its tensor attribute.
      if (node)
        for (auto& a : *node->mutable_attribute())
          if (a.has_t()) {
            mutate_tensor(*a.mutable_t(), rng);
            break;
          }
      break;
  }
}

#endif  // LAYERKIT_LIBFUZZER

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  exercise(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#ifdef LAYERKIT_LIBFUZZER
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  std::mt19937 rng(seed);
  onnx::ModelProto m;
  // One mutation in eight stays byte-level, so the parser's own corners are reached too.
  if (rng() % 8 == 0 || !m.ParseFromArray(data, static_cast<int>(size)))
    return LLVMFuzzerMutate(data, size, max_size);
  const int steps = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < steps; ++i) mutate_model(m, rng);
  std::string out;
  if (!m.SerializeToString(&out) || out.size() > max_size)
    return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}
#endif
