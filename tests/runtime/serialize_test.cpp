// Engine plans: round trips of networks using every layer kind, and corrupt plans rejected.
#include "layerkit/runtime/serialize.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include "layerkit/runtime/communicator.h"
#include "test_util.h"

namespace lktest {
namespace {

// ---- networks that together use every layer kind ----

// NOTE: the CPU executor chooses a convolution's layout when a context is created, by timing
// two candidates whenever the kernel is constant, and the two round differently; so two contexts
// of one engine may differ in the last bits. A plan does not record that choice (it is made per
// context). Bit-for-bit comparisons of the fast kernels therefore give the convolution its kernel
// as a network input (`kernel_weights` false), which is never timed; the reference engine, which
// has no such choice, reads it from the layer's Weights.
struct NetCase {
  std::string name;
  std::function<void(Network&, bool kernel_weights)> build;
  // Dynamic inputs: min/opt/max (the engines run at each).
  std::map<std::string, ProfileDims> profile;
};

Tensor* floats(Network& n, const Dims& d, float start, float step) {
  std::vector<float> v(static_cast<size_t>(d.volume()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = start + step * static_cast<float>(i % 7);
  return n.add_constant(d, Weights::from_vector(DataType::kFLOAT, v))->output(0);
}
Weights float_weights(int64_t count, float start, float step) {
  std::vector<float> v(static_cast<size_t>(count));
  for (size_t i = 0; i < v.size(); ++i) v[i] = start + step * static_cast<float>(i % 5);
  return Weights::from_vector(DataType::kFLOAT, v);
}

std::vector<NetCase> cases() {
  std::vector<NetCase> cs;
  const ProfileDims batch4{{1, 3, 8, 8}, {2, 3, 8, 8}, {3, 3, 8, 8}};
  // Convolutional kinds, a dynamic batch.
  cs.push_back(
      {"conv",
       [](Network& n, bool kernel_weights) {
         Tensor* x = n.add_input("x", DataType::kFLOAT, {-1, 3, 8, 8});
         Tensor* g = n.add_input("g", DataType::kFLOAT, {-1, 5, 5, 2});
         ConvolutionAttrs c;
         c.num_output_maps = 4;
         c.kernel_size = {3, 3};
         if (kernel_weights) c.kernel = float_weights(4 * 3 * 3 * 3, -0.4f, 0.2f);
         c.bias = float_weights(4, 0.1f, 0.05f);
         c.stride = {1, 1};
         c.pre_padding = {1, 1};
         c.post_padding = {1, 1};
         c.dilation = {1, 1};
         Tensor* w = kernel_weights ? nullptr : n.add_input("w", DataType::kFLOAT, {4, 3, 3, 3});
         Tensor* y = n.add_convolution_nd(x, c, w)->output(0);
         y = n.add_activation(y, ActivationType::kLEAKY_RELU, 0.1f)->output(0);
         PoolingAttrs p;
         p.type = PoolingType::kAVERAGE;
         p.window = {2, 2};
         p.stride = {2, 2};
         p.average_count_excludes_padding = false;
         y = n.add_pooling_nd(y, p)->output(0);  // [-1,4,4,4]
         ScaleAttrs s;
         s.mode = ScaleMode::kCHANNEL;
         s.scale = float_weights(4, 0.5f, 0.25f);
         s.shift = float_weights(4, -0.1f, 0.1f);
         y = n.add_scale_nd(y, s)->output(0);
         DeconvolutionAttrs d;
         d.num_output_maps = 2;
         d.kernel_size = {2, 2};
         d.stride = {2, 2};
         d.kernel = float_weights(4 * 2 * 2 * 2, -0.3f, 0.15f);
         d.bias = float_weights(2, 0.2f, -0.1f);
         y = n.add_deconvolution_nd(y, d)->output(0);  // [-1,2,8,8]
         NormalizationAttrs na;
         na.axes = 12;
         na.epsilon = 1e-3f;
         y = n.add_normalization(y, floats(n, {1, 2, 1, 1}, 0.9f, 0.1f),
                                 floats(n, {1, 2, 1, 1}, -0.2f, 0.3f), na)
                 ->output(0);
         y = n.add_padding_nd(y, {1, 0}, {0, 1})->output(0);  // [-1,2,9,9]
         ResizeAttrs ra;
         ra.scales = {1.0, 1.0, 2.0, 2.0};
         ra.resize_mode = InterpolationMode::kLINEAR;
         ra.coordinate_transformation = ResizeCoordinateTransformation::kHALF_PIXEL;
         Tensor* big = n.add_resize(y, ra)->output(0);  // [-1,2,18,18]
         big->set_name("resized");
         GridSampleAttrs ga;
         ga.align_corners = true;
         y = n.add_grid_sample(y, g, ga)->output(0);  // [-1,2,5,5]
         y = n.add_softmax(y, 2)->output(0);
         y = n.add_reduce(y, ReduceOperation::kSUM, 12, false)->output(0);  // [-1,2]
         y = n.add_matrix_multiply(y, MatrixOperation::kNONE, floats(n, {2, 3}, -1, 0.5f),
                                   MatrixOperation::kNONE)
                 ->output(0);  // [-1,3]
         y = n.add_unary(y, UnaryOperation::kABS)->output(0);
         y = n.add_cast(y, DataType::kHALF)->output(0);
         y = n.add_identity(y)->output(0);
         y = n.add_cast(y, DataType::kFLOAT)->output(0);
         y = n.add_elementwise(y, floats(n, {1, 3}, 1, 0.5f), ElementWiseOperation::kPROD)
                 ->output(0);
         ShuffleAttrs sh;
         sh.first_transpose = {1, 0};
         y = n.add_shuffle(y, sh)->output(0);  // [3,-1]
         y->set_name("out");
         n.mark_output(y);
         n.mark_output(big);
       },
       {{"x", batch4}, {"g", {{1, 5, 5, 2}, {2, 5, 5, 2}, {3, 5, 5, 2}}}}});
  // Indexing and data-dependent kinds, a dynamic batch.
  cs.push_back(
      {"index",
       [](Network& n, bool) {
         Tensor* d = n.add_input("d", DataType::kFLOAT, {-1, 6});
         Tensor* i = n.add_input("i", DataType::kINT32, {-1, 2});
         Tensor* gathered = n.add_gather(d, i, 1)->output(0);
         Tensor* s1 = n.add_slice(d, {0, 1}, {1, 3}, {1, 2})->output(0);
         Tensor* s2 = n.add_slice(d, {0, 4}, {1, 3}, {1, 1}, SampleMode::kWRAP)->output(0);
         Tensor* parts[] = {s1, s2};
         Tensor* cat = n.add_concatenation(parts, 1)->output(0);  // [1,6]
         std::vector<int32_t> idx{0, 5};
         Tensor* ind =
             n.add_constant({1, 2}, Weights::from_vector(DataType::kINT32, idx))->output(0);
         Tensor* sc = n.add_scatter(cat, ind, floats(n, {1, 2}, 2, 1), ScatterMode::kELEMENT, 1,
                                    ScatterReduction::kSUM)
                          ->output(0);
         FillAttrs fa;
         fa.dims = {1, 6};
         fa.alpha = 0.5;
         fa.beta = {0.25, -1.0};
         Tensor* fill = n.add_fill(fa)->output(0);
         Tensor* filled = n.add_elementwise(sc, fill, ElementWiseOperation::kSUM)->output(0);
         Tensor* shape = n.add_shape(d)->output(0);
         Layer* topk = n.add_topk(d, TopKOperation::kMAX, 2, 2);
         Tensor* cum = n.add_cumulative(d, CumulativeOperation::kSUM, 1, true, true)->output(0);
         Tensor* cond =
             n.add_elementwise(d, floats(n, {1, 6}, -0.5f, 0.2f), ElementWiseOperation::kGREATER)
                 ->output(0);
         Tensor* sel = n.add_select(cond, d, cum)->output(0);
         Tensor* prelu = n.add_parametric_relu(sel, floats(n, {1, 6}, 0.1f, 0.1f))->output(0);
         Tensor* nz = n.add_non_zero(cond)->output(0);
         for (Tensor* t : {gathered, filled, shape, topk->output(0), topk->output(1), prelu, nz})
           n.mark_output(t);
       },
       {{"d", {{1, 6}, {2, 6}, {4, 6}}}, {"i", {{1, 2}, {2, 2}, {4, 2}}}}});
  // Quantization, collectives and packed types, static shapes.
  cs.push_back(
      {"quant",
       [](Network& n, bool) {
         Tensor* x = n.add_input("x", DataType::kFLOAT, {2, 32});
         x->set_dynamic_range(-2.0f, 2.0f);
         std::vector<float> s{0.05f}, one{1.0f};
         Tensor* scale = n.add_constant({}, Weights::from_vector(DataType::kFLOAT, s))->output(0);
         Tensor* q = n.add_quantize(x, scale)->output(0);
         Tensor* dq = n.add_dequantize(q, scale)->output(0);
         Tensor* all = n.add_collective(dq, {})->output(0);
         Tensor* gs = n.add_constant({}, Weights::from_vector(DataType::kFLOAT, one))->output(0);
         Layer* dyn = n.add_dynamic_quantize(x, gs, {});
         std::vector<uint8_t> nibbles{0x21, 0x43, 0x05};  // five INT4 values
         Tensor* i4 =
             n.add_constant({5}, Weights::copy(DataType::kINT4, nibbles.data(), 5))->output(0);
         for (Tensor* t : {all, dyn->output(0), dyn->output(1), n.add_identity(i4)->output(0)})
           n.mark_output(t);
       },
       {}});
  // Control flow: a conditional on a run-time value and a data-dependent loop over a scan input;
  // the bodies (with their own constants) are written inside their layers.
  cs.push_back(
      {"control_flow",
       [](Network& n, bool) {
         Tensor* x = n.add_input("x", DataType::kFLOAT, {-1, 3});
         ShuffleAttrs scalar;
         scalar.reshape_dims = Dims{};
         auto sum_of = [&](Network& net, Tensor* t, AxesMask axes) {
           return net
               .add_shuffle(net.add_reduce(t, ReduceOperation::kSUM, axes, false)->output(0),
                            scalar)
               ->output(0);
         };
         auto then_body = std::make_shared<Network>();
         Tensor* tx = then_body->add_input("x", DataType::kFLOAT, {-1, 3});
         then_body->mark_output(then_body
                                    ->add_elementwise(tx, floats(*then_body, {1, 1}, 2.0f, 0.0f),
                                                      ElementWiseOperation::kPROD)
                                    ->output(0));
         auto else_body = std::make_shared<Network>();
         Tensor* ex = else_body->add_input("x", DataType::kFLOAT, {-1, 3});
         else_body->mark_output(
             else_body->add_concatenation(std::vector<Tensor*>{ex, ex}, 1)->output(0));
         Tensor* positive = n.add_elementwise(sum_of(n, x, 3), floats(n, {}, 0.0f, 0.0f),
                                              ElementWiseOperation::kGREATER)
                                ->output(0);
         Tensor* branch =
             n.add_conditional(positive, then_body, else_body, std::vector<Tensor*>{x})->output(0);
         auto body = std::make_shared<Network>();
         body->add_input("i", DataType::kINT64, Dims{});
         body->add_input("cond", DataType::kBOOL, Dims{});
         Tensor* acc = body->add_input("acc", DataType::kFLOAT, {3});
         Tensor* row = body->add_input("row", DataType::kFLOAT, {3});
         Tensor* next = body->add_elementwise(acc, row, ElementWiseOperation::kSUM)->output(0);
         body->mark_output(body->add_elementwise(sum_of(*body, next, 1),
                                                 floats(*body, {}, 3.0f, 0.0f),
                                                 ElementWiseOperation::kLESS)
                               ->output(0));
         body->mark_output(next);
         body->mark_output(body->add_identity(next)->output(0));
         LoopAttrs la;
         la.body = body;
         la.scan_input_axes = {0};
         std::vector<int64_t> ten{10};
         Tensor* limit = n.add_constant({}, Weights::from_vector(DataType::kINT64, ten))->output(0);
         Layer* loop =
             n.add_loop(la, limit, nullptr, std::vector<Tensor*>{floats(n, {3}, 0.0f, 0.0f)},
                        std::vector<Tensor*>{x}, {});
         for (Tensor* t : {branch, loop->output(0), loop->output(1)}) n.mark_output(t);
       },
       {{"x", {{1, 3}, {2, 3}, {4, 3}}}}});
  return cs;
}

struct Built {
  std::unique_ptr<Network> net;
  BuilderConfig config;
  std::unique_ptr<Engine> engine;
};

Built build(const NetCase& c, int level, bool reference) {
  Built b;
  b.net = std::make_unique<Network>();
  c.build(*b.net, /*kernel_weights=*/reference);
  b.config.optimization_level = level;
  b.config.reference_kernels_only = reference;
  OptimizationProfile p;
  for (const auto& [name, pd] : c.profile) p.set_dimensions(name, pd.min, pd.opt, pd.max);
  if (!c.profile.empty()) b.config.profiles.push_back(p);
  b.engine = Builder::build(*b.net, b.config);
  return b;
}

// Deterministic inputs: floats in [-2, 2), integers in [0, 2] (valid indices), bools 0/1.
std::vector<uint8_t> input_bytes(DataType t, const Dims& d, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t n = d.volume();
  std::vector<uint8_t> out(static_cast<size_t>(packed_bytes(t, n)));
  for (int64_t i = 0; i < n; ++i) {
    const auto u = static_cast<size_t>(i);
    switch (t) {
      case DataType::kFLOAT: {
        const float f = std::uniform_real_distribution<float>(-2.f, 2.f)(rng);
        std::memcpy(out.data() + 4 * u, &f, 4);
        break;
      }
      case DataType::kINT32: {
        const auto v = static_cast<int32_t>(rng() % 3);
        std::memcpy(out.data() + 4 * u, &v, 4);
        break;
      }
      default:
        ADD_FAILURE() << "no input generator for " << data_type_name(t);
    }
  }
  return out;
}

// The input dims of `net` at min (0), opt (1) or max (2) of `c`'s profile.
std::vector<Dims> shapes_at(const Network& net, const NetCase& c, int which) {
  std::vector<Dims> dims;
  for (int i = 0; i < net.num_inputs(); ++i) {
    const Tensor* t = net.input(i);
    auto it = c.profile.find(t->name());
    dims.push_back(it == c.profile.end() ? t->dims()
                                         : (which == 0   ? it->second.min
                                            : which == 1 ? it->second.opt
                                                         : it->second.max));
  }
  return dims;
}

std::vector<OwnedTensor> run(const Engine& e, const std::vector<Dims>& dims,
                             const std::vector<std::vector<uint8_t>>& data) {
  auto ctx = e.create_execution_context();
  const Network& net = e.network();
  for (int i = 0; i < net.num_inputs(); ++i) {
    const std::string& name = net.input(i)->name();
    if (!net.input(i)->dims().is_static()) ctx->set_input_shape(name, dims[static_cast<size_t>(i)]);
    ctx->set_input(name, data[static_cast<size_t>(i)].data());
  }
  ctx->execute();
  std::vector<OwnedTensor> outs;
  for (int i = 0; i < net.num_outputs(); ++i) outs.push_back(ctx->output(net.output(i)->name()));
  return outs;
}

void expect_same_engine(const Engine& a, const Engine& b) {
  EXPECT_EQ(a.network().to_string(), b.network().to_string());
  EXPECT_EQ(a.build_report().to_string(), b.build_report().to_string());
  const MemoryPlan &ma = a.memory_plan(), &mb = b.memory_plan();
  EXPECT_EQ(ma.peak_bytes_planned, mb.peak_bytes_planned);
  EXPECT_EQ(ma.peak_bytes_unplanned, mb.peak_bytes_unplanned);
  ASSERT_EQ(ma.assignments.size(), mb.assignments.size());
  for (size_t i = 0; i < ma.assignments.size(); ++i) {
    EXPECT_EQ(ma.assignments[i].tensor, mb.assignments[i].tensor);
    EXPECT_EQ(ma.assignments[i].slot, mb.assignments[i].slot);
    EXPECT_EQ(ma.assignments[i].offset, mb.assignments[i].offset);
    EXPECT_EQ(ma.assignments[i].bytes, mb.assignments[i].bytes);
  }
  const BuilderConfig &ca = a.config(), &cb = b.config();
  EXPECT_EQ(ca.device, cb.device);
  EXPECT_EQ(ca.device_index, cb.device_index);
  EXPECT_EQ(ca.num_threads, cb.num_threads);
  EXPECT_EQ(ca.reference_kernels_only, cb.reference_kernels_only);
  EXPECT_EQ(ca.memory_budget_bytes, cb.memory_budget_bytes);
  EXPECT_EQ(ca.optimization_level, cb.optimization_level);
  EXPECT_EQ(ca.flags, cb.flags);
  EXPECT_EQ(ca.use_cuda_graph, cb.use_cuda_graph);
  ASSERT_EQ(ca.profiles.size(), cb.profiles.size());
  for (size_t p = 0; p < ca.profiles.size(); ++p) {
    ASSERT_EQ(ca.profiles[p].all().size(), cb.profiles[p].all().size());
    for (const auto& [name, pd] : ca.profiles[p].all()) {
      const ProfileDims* q = cb.profiles[p].dimensions(name);
      ASSERT_NE(q, nullptr) << name;
      EXPECT_EQ(pd.min, q->min);
      EXPECT_EQ(pd.opt, q->opt);
      EXPECT_EQ(pd.max, q->max);
    }
  }
  for (int i = 0; i < a.network().num_layers(); ++i)
    EXPECT_EQ(a.network().layer(i)->precision(), b.network().layer(i)->precision());
  for (int i = 0; i < a.network().num_layers(); ++i)
    for (int k = 0; k < a.network().layer(i)->num_outputs(); ++k) {
      const Tensor* ta = a.network().layer(i)->output(k);
      const Tensor* tb = b.network().layer(i)->output(k);
      EXPECT_EQ(ta->known_values(), tb->known_values()) << ta->name();
      EXPECT_EQ(ta->dynamic_range(), tb->dynamic_range()) << ta->name();
    }
}

// The configurations the round trips cover: the reference engine (the network as built,
// reference kernels) and the default engine (builder passes, fast kernels, fusion).
struct Mode {
  const char* name;
  int level;
  bool reference;
};
constexpr Mode kModes[] = {{"reference", 0, true}, {"default", 1, false}};

TEST(EnginePlan, TheRoundTripNetworksUseEveryLayerKind) {
  std::set<LayerKind> seen;
  for (const NetCase& c : cases()) {
    Built b = build(c, 0, true);
    for (int i = 0; i < b.engine->network().num_layers(); ++i)
      seen.insert(b.engine->network().layer(i)->kind());
  }
  for (int k = 0; k < kNumLayerKinds; ++k)
    EXPECT_TRUE(seen.contains(static_cast<LayerKind>(k)))
        << layer_kind_name(static_cast<LayerKind>(k)) << " is in no round-trip network";
}

TEST(EnginePlan, RoundTripGivesTheSameEngineAndBitIdenticalOutputs) {
  for (const NetCase& c : cases())
    for (const Mode& m : kModes) {
      SCOPED_TRACE(std::string(c.name) + ", " + m.name + " engine");
      Built b = build(c, m.level, m.reference);
      const std::vector<uint8_t> bytes = b.engine->serialize();
      std::unique_ptr<Engine> loaded = Engine::deserialize(bytes);
      expect_same_engine(*b.engine, *loaded);
      EXPECT_EQ(loaded->serialize(), bytes) << "serialize(deserialize(plan)) differs from plan";
      const int runs = c.profile.empty() ? 1 : 3;  // min, opt, max
      for (int w = 0; w < runs; ++w) {
        SCOPED_TRACE(w == 0 ? "min" : w == 1 ? "opt" : "max");
        const std::vector<Dims> dims = shapes_at(*b.net, c, w);
        std::vector<std::vector<uint8_t>> data;
        for (int i = 0; i < b.net->num_inputs(); ++i)
          data.push_back(input_bytes(b.net->input(i)->type(), dims[static_cast<size_t>(i)],
                                     static_cast<uint32_t>(17 * w + i)));
        const std::vector<OwnedTensor> want = run(*b.engine, dims, data);
        const std::vector<OwnedTensor> got = run(*loaded, dims, data);
        ASSERT_EQ(got.size(), want.size());
        for (size_t o = 0; o < want.size(); ++o) {
          const std::string& name = b.net->output(static_cast<int>(o))->name();
          EXPECT_EQ(got[o].type, want[o].type) << name;
          EXPECT_EQ(got[o].dims, want[o].dims) << name;
          EXPECT_TRUE(got[o].data == want[o].data) << "output '" << name << "' differs";
        }
      }
    }
}

// ---- corrupt plans ----

std::vector<uint8_t> small_plan() {
  Network n;
  Tensor* x = n.add_input("x", DataType::kFLOAT, {-1, 16});
  Layer* relu = n.add_activation(x, ActivationType::kRELU);
  relu->set_name("relu");
  relu->output(0)->set_name("y");
  n.mark_output(relu->output(0));
  BuilderConfig config;
  OptimizationProfile p;
  p.set_dimensions("x", {1, 16}, {8, 16}, {32, 16});
  config.profiles.push_back(p);
  return Builder::build(n, config)->serialize();
}

// The offset just past the `nth` (1, 2, ...) length-prefixed string `s` in `plan`.
size_t after_string(const std::vector<uint8_t>& plan, const std::string& s, int nth = 1) {
  std::vector<uint8_t> needle(4 + s.size());
  const auto n = static_cast<uint32_t>(s.size());
  for (int i = 0; i < 4; ++i) needle[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(needle.data() + 4, s.data(), s.size());
  auto it = plan.begin();
  for (int k = 0; k < nth; ++k) {
    if (k) it += 1;
    it = std::search(it, plan.end(), needle.begin(), needle.end());
    if (it == plan.end()) {
      ADD_FAILURE() << "'" << s << "' is not " << nth << " times in the plan";
      return 0;
    }
  }
  return static_cast<size_t>(it - plan.begin()) + needle.size();
}

void put_u32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}
void put_i64(std::vector<uint8_t>& b, size_t at, int64_t v) {
  for (int i = 0; i < 8; ++i)
    b[at + static_cast<size_t>(i)] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i));
}

// The message deserialize throws for `plan` (failing the test when it throws nothing or
// something other than a kINVALID_ARGUMENT layerkit::Error).
std::string rejection(std::span<const uint8_t> plan) {
  try {
    Engine::deserialize(plan);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kINVALID_ARGUMENT) << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a layerkit::Error: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "a plan of " << plan.size() << " bytes was accepted";
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(EnginePlan, EveryTruncationIsRejected) {
  const std::vector<uint8_t> plan = small_plan();
  ASSERT_GT(plan.size(), 100u);
  for (size_t len = 0; len < plan.size(); ++len) {
    const std::string why = rejection(std::span(plan).first(len));
    EXPECT_TRUE(contains(why, "truncated")) << len << " bytes: " << why;
    EXPECT_TRUE(contains(why, "at byte")) << len << " bytes: " << why;
  }
  std::vector<uint8_t> longer = plan;
  longer.push_back(0);
  EXPECT_TRUE(contains(rejection(longer), "1 bytes follow the checksum"));
}

TEST(EnginePlan, SingleBitFlipsAreRejected) {
  Built b = build(cases()[0], 1, false);
  const std::vector<uint8_t> plan = b.engine->serialize();
  ASSERT_GT(plan.size(), 1000u);
  const size_t version_end = after_string(plan, std::string(plan::library_version()));
  std::mt19937 rng(2024);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> bad = plan;
    const size_t at = rng() % bad.size();
    const int bit = static_cast<int>(rng() % 8);
    bad[at] ^= static_cast<uint8_t>(1u << bit);
    const std::string why = rejection(bad);
    SCOPED_TRACE(::testing::Message() << "bit " << bit << " of byte " << at << ": " << why);
    if (at < 8)
      EXPECT_TRUE(contains(why, "bad magic"));
    else if (at < 12)
      EXPECT_TRUE(contains(why, "format version"));
    else if (at < version_end + 8)  // the version's length, the version, the payload length
      EXPECT_TRUE(contains(why, "checksum mismatch") || contains(why, "truncated") ||
                  contains(why, "bytes follow the checksum") ||
                  contains(why, "layerkit version's length"));
    else  // the payload and the checksum itself
      EXPECT_TRUE(contains(why, "checksum mismatch"));
  }
}

TEST(EnginePlan, WrongMagicAndFormatVersionAreNamed) {
  std::vector<uint8_t> plan = small_plan();
  EXPECT_EQ(std::string(plan.begin(), plan.begin() + 8), "LKENGINE");
  std::vector<uint8_t> bad = plan;
  bad[0] = 'X';
  EXPECT_TRUE(contains(rejection(bad), "bad magic: this is not a layerkit engine plan"));
  const std::string text = "not a plan at all, just some text";
  EXPECT_TRUE(
      contains(rejection(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())),
               "bad magic"));
  bad = plan;
  put_u32(bad, 8, plan::kFormatVersion + 1);
  plan::reseal(bad);
  const std::string why = rejection(bad);
  EXPECT_TRUE(contains(why, "format version 2 is not 1")) << why;
  EXPECT_TRUE(contains(why, "at byte 8")) << why;
  // The layerkit version is recorded after the format version.
  EXPECT_EQ(after_string(plan, std::string(plan::library_version())),
            12 + 4 + plan::library_version().size());
}

// Edits made on purpose and resealed (a valid checksum): the content checks must catch them.
TEST(EnginePlan, InconsistentContentIsRejectedWithItsOffset) {
  const std::vector<uint8_t> plan = small_plan();
  ASSERT_NO_THROW(Engine::deserialize(plan));
  // The Activation layer's record: name "relu", kind, attributes (type, alpha, beta), input
  // count and index, output count and the output tensor.
  const size_t kind_at = after_string(plan, "relu");
  const size_t type_at = kind_at + 4;
  const size_t input_at = type_at + 12 + 1 + 4;  // after the precision flag and input count
  auto edited = [&](auto edit) {
    std::vector<uint8_t> b = plan;
    edit(b);
    plan::reseal(b);
    return rejection(b);
  };
  auto at = [](size_t offset) { return "(at byte " + std::to_string(offset) + ")"; };
  std::string why = edited([&](auto& b) { put_u32(b, kind_at, 999); });
  EXPECT_TRUE(contains(why, "layer 1 'relu': kind: unknown value 999 " + at(kind_at))) << why;
  why = edited([&](auto& b) { put_u32(b, type_at, 77); });
  EXPECT_TRUE(contains(why, "(Activation): type: unknown value 77 " + at(type_at))) << why;
  why = edited([&](auto& b) { put_u32(b, input_at, 5); });
  EXPECT_TRUE(contains(
      why, "tensor index 5 is out of range (1 tensors are defined before it) " + at(input_at)))
      << why;
  // The string's length runs past the end; nothing is allocated for it.
  why = edited([&](auto& b) { put_u32(b, kind_at - 8, 0xfffffff0u); });
  EXPECT_TRUE(contains(why, "layer 1: layer name: a length of 4294967280 bytes runs past the end"))
      << why;
  EXPECT_TRUE(contains(why, at(kind_at - 8))) << why;
  // The input's dims in its Input layer record ("x": kind, type, rank, then the dims).
  const size_t input_dims = after_string(plan, "x", 2) + 4 + 4 + 4;
  why = edited([&](auto& b) { put_i64(b, input_dims, -5); });
  EXPECT_TRUE(contains(why, "[-5,16]: negative extent at axis 0")) << why;
  why = edited([&](auto& b) {
    put_i64(b, input_dims, int64_t{1} << 40);
    put_i64(b, input_dims + 8, int64_t{1} << 40);
  });
  EXPECT_TRUE(contains(why, "the element count overflows int64")) << why;
  // A layer count that cannot fit: rejected before anything is reserved for it.
  const size_t layers_at = after_string(plan, "x", 2) - 1 - 4 - 4;
  why = edited([&](auto& b) { put_u32(b, layers_at, 0x7fffffff); });
  EXPECT_TRUE(
      contains(why, "layers: 2147483647 entries of at least 16 bytes each run past the end"))
      << why;
  // The ReLU's recorded output dims disagree with what inference makes of its input (tensor
  // "y": type, rank, then the dims).
  const size_t y_dims = after_string(plan, "y") + 4 + 4;
  why = edited([&](auto& b) { put_i64(b, y_dims + 8, 17); });
  EXPECT_TRUE(contains(why, "output 0: tensor 'y': dims [-1,17] are not [-1,16]")) << why;
  // A bool that is neither 0 nor 1 (reference_kernels_only, the 13th byte of the config).
  const size_t config_at = 12 + 4 + plan::library_version().size() + 8;
  why = edited([&](auto& b) { b[config_at + 12] = 2; });
  EXPECT_TRUE(
      contains(why, "config: reference_kernels_only: 2 is neither 0 nor 1 " + at(config_at + 12)))
      << why;
  // An engine output that is a network input is refused as mark_output refuses it (the output
  // list is the payload's last tensor index before the build report).
  const size_t outputs_at = after_string(plan, "y") + 4 + 4 + 16 + 4 + 1 + 4 + 4 + 4;
  why = edited([&](auto& b) { put_u32(b, outputs_at, 0); });
  EXPECT_TRUE(contains(why, "network outputs: mark_output: tensor 'x' is a network input")) << why;
}

// Random edits of a few bytes, resealed so that the checksum does not catch them: whatever the
// content checks make of them, the result is a deserialized engine or a layerkit::Error.
TEST(EnginePlan, ResealedRandomEditsNeverCrash) {
  Built b = build(cases()[1], 1, false);
  const std::vector<uint8_t> plan = b.engine->serialize();
  const size_t payload_at = 12 + 4 + plan::library_version().size() + 8;
  std::mt19937 rng(7);
  int accepted = 0;
  for (int i = 0; i < 1500; ++i) {
    std::vector<uint8_t> bad = plan;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e)
      bad[payload_at + rng() % (plan.size() - payload_at - 8)] = static_cast<uint8_t>(rng());
    plan::reseal(bad);
    try {
      std::unique_ptr<Engine> e = Engine::deserialize(bad);
      ++accepted;  // an edit the content allows (a float, a name): it must stay readable
      EXPECT_NO_THROW(Engine::deserialize(e->serialize()));
    } catch (const Error& e) {
      EXPECT_TRUE(contains(e.what(), "engine plan: ")) << e.what();
      EXPECT_TRUE(contains(e.what(), "(at byte ")) << e.what();
    }
  }
  EXPECT_LT(accepted, 1500);
}

// A communicator of two ranks on which every rank holds the same data: all_reduce sums to 2x.
class TwinCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 2; }
  void all_reduce(const void* in, void* out, int64_t count, DataType type,
                  ReduceOperation op) override {
    if (type == DataType::kINT64) {  // the kernel's check that both ranks pass the same dims
      ASSERT_TRUE(op == ReduceOperation::kMIN || op == ReduceOperation::kMAX);
      std::memcpy(out, in, static_cast<size_t>(count) * 8);
      return;
    }
    ASSERT_EQ(type, DataType::kFLOAT);
    ASSERT_EQ(op, ReduceOperation::kSUM);
    for (int64_t i = 0; i < count; ++i)
      static_cast<float*>(out)[i] = 2 * static_cast<const float*>(in)[i];
  }
  void all_gather(const void*, void*, int64_t, DataType) override { FAIL(); }
  void reduce_scatter(const void*, void*, int64_t, DataType, ReduceOperation) override { FAIL(); }
  bool all_ok(bool ok) override { return ok; }
};

TEST(EnginePlan, TheCommunicatorComesWithTheDeserializeOptions) {
  Network n;
  Tensor* x = n.add_input("x", DataType::kFLOAT, {4});
  CollectiveAttrs a;
  a.world_size = 2;
  n.mark_output(n.add_collective(x, a)->output(0));
  BuilderConfig config;
  config.communicator = std::make_shared<TwinCommunicator>();
  const std::vector<uint8_t> plan = Builder::build(n, config)->serialize();
  const std::vector<float> in{1, 2, 3, -4};

  std::unique_ptr<Engine> alone = Engine::deserialize(plan);
  EXPECT_EQ(alone->config().communicator, nullptr);
  auto ctx = alone->create_execution_context();
  ctx->set_input("x", in.data());
  expect_error([&] { ctx->execute(); }, {"world_size is 2", "no communicator"},
               ErrorCode::kRUNTIME);

  DeserializeOptions options;
  options.communicator = std::make_shared<TwinCommunicator>();
  std::unique_ptr<Engine> joined = Engine::deserialize(plan, options);
  EXPECT_EQ(joined->config().communicator, options.communicator);
  ctx = joined->create_execution_context();
  ctx->set_input("x", in.data());
  ctx->execute();
  const OwnedTensor& y = ctx->output(n.output(0)->name());
  ASSERT_EQ(y.data.size(), 16u);
  EXPECT_EQ(reinterpret_cast<const float*>(y.data.data())[3], -8.0f);
}

TEST(EnginePlan, TheDeviceIsKeptWithoutBeingAvailable) {
  // A plan for a GPU reads back on any machine; running it needs the device.
  Network n;
  n.mark_output(
      n.add_unary(n.add_input("x", DataType::kFLOAT, {3}), UnaryOperation::kEXP)->output(0));
  BuilderConfig config;
  config.device = DeviceType::kCUDA;
  config.device_index = 3;
  config.num_threads = 2;
  config.memory_budget_bytes = 1 << 20;
  Engine engine(n.clone(), config);
  std::unique_ptr<Engine> loaded = Engine::deserialize(engine.serialize());
  EXPECT_EQ(loaded->device(), DeviceType::kCUDA);
  EXPECT_EQ(loaded->config().device_index, 3);
  EXPECT_EQ(loaded->config().num_threads, 2);
  EXPECT_EQ(loaded->config().memory_budget_bytes, 1 << 20);
}

// A plan whose config asks for more threads than kMaxNumThreads (found by fuzz_engine_load with
// 4194305: OpenMP's team for the first convolution grew past 2 GiB) is refused at load, before
// anything runs, and an engine made with that config directly refuses to make a context.
TEST(EnginePlan, ThreadCountBeyondTheLimitIsRejected) {
  Network n;
  n.mark_output(
      n.add_unary(n.add_input("x", DataType::kFLOAT, {3}), UnaryOperation::kEXP)->output(0));
  BuilderConfig config;
  config.num_threads = (1 << 22) + 1;
  Engine engine(n.clone(), config);
  const std::string why = rejection(engine.serialize());
  EXPECT_TRUE(contains(why, "the network does not validate against its config")) << why;
  EXPECT_TRUE(contains(why, "num_threads is 4194305; it must be between 1 and 1024")) << why;
  expect_error([&] { engine.create_execution_context(); },
               {"CPU executor: num_threads is 4194305", "between 1 and 1024"});
}

}  // namespace
}  // namespace lktest
