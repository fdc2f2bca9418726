// libtorch_bench: runs a benchmark model (bench/gen_models.py) with ATen ops on its ONNX weights.
//
// The ONNX file supplies only the initializers, read by name; the computation is written here
// with ATen, as an eager PyTorch program would run it, so the benchmark compares layerkit with
// libtorch's kernels rather than with another ONNX importer. Prints one JSON line with the
// latencies; --output writes the result as raw float32 for the harness to compare.
//
// usage: libtorch_bench --model resnet50|bert_base|mlp --onnx FILE --batch B [--threads T]
//          [--iterations N] [--warmUp MS] [--input FILE] [--output FILE]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <onnx/onnx_pb.h>
#include <torch/version.h>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& msg) {
  throw std::runtime_error(msg);
}

// The model's initializers by name, as CPU tensors that own their data.
class Initializers {
 public:
  explicit Initializers(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail("cannot open '" + path + "'");
    std::ostringstream ss;
    ss << f.rdbuf();
    const std::string bytes = ss.str();
    onnx::ModelProto model;
    if (!model.ParseFromString(bytes)) fail("'" + path + "' is not an ONNX model");
    for (const onnx::TensorProto& t : model.graph().initializer()) tensors_[t.name()] = convert(t);
  }

  const at::Tensor& operator[](const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) fail("the model has no initializer '" + name + "'");
    return it->second;
  }

 private:
  static at::Tensor convert(const onnx::TensorProto& t) {
    std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
    at::ScalarType type;
    size_t elem = 0;
    const void* typed = nullptr;
    int typed_count = 0;
    switch (t.data_type()) {
      case onnx::TensorProto::FLOAT:
        type = at::kFloat, elem = 4, typed = t.float_data().data(),
        typed_count = t.float_data_size();
        break;
      case onnx::TensorProto::INT64:
        type = at::kLong, elem = 8, typed = t.int64_data().data(),
        typed_count = t.int64_data_size();
        break;
      default:
        fail("initializer '" + t.name() + "': only float and int64 are read");
    }
    at::Tensor out = at::empty(dims, at::TensorOptions().dtype(type));
    const size_t nbytes = static_cast<size_t>(out.numel()) * elem;
    if (t.has_raw_data()) {
      if (t.raw_data().size() != nbytes) fail("initializer '" + t.name() + "': wrong size");
      std::memcpy(out.data_ptr(), t.raw_data().data(), nbytes);
    } else {
      if (static_cast<int64_t>(typed_count) != out.numel())
        fail("initializer '" + t.name() + "': wrong element count");
      std::memcpy(out.data_ptr(), typed, nbytes);
    }
    return out;
  }

  std::map<std::string, at::Tensor> tensors_;
};

using Forward = std::function<at::Tensor(const at::Tensor&)>;

// ---- ResNet-50 -------------------------------------------------------------------------------

// A Conv followed by its BatchNormalization, folded into one conv's weight and bias at load
// time (w * gamma / sqrt(var + eps), beta - mean * gamma / sqrt(var + eps)), as inference
// deployments of PyTorch (torch.jit.freeze, torch.fx fusion) do and as onnxruntime does.
struct ConvBn {
  at::Tensor weight, bias;
  int64_t stride = 1, pad = 0;
  at::Tensor operator()(const at::Tensor& x) const {
    return at::conv2d(x, weight, bias, {stride, stride}, {pad, pad});
  }
};

ConvBn conv_bn(const Initializers& w, const std::string& conv, const std::string& bn,
               int64_t stride) {
  const at::Tensor& cw = w[conv + ".weight"];
  const at::Tensor inv_std = (w[bn + ".var"] + 1e-5).rsqrt();
  const at::Tensor gamma = w[bn + ".scale"] * inv_std;
  ConvBn out;
  out.weight = (cw * gamma.view({-1, 1, 1, 1})).contiguous();
  out.bias = (w[bn + ".bias"] - w[bn + ".mean"] * gamma).contiguous();
  out.stride = stride;
  out.pad = cw.size(2) / 2;
  return out;
}

Forward resnet50(const Initializers& w) {
  struct Block {
    ConvBn c1, c2, c3;
    bool has_downsample = false;
    ConvBn down;
  };
  ConvBn stem = conv_bn(w, "conv1", "bn1", 2);
  std::vector<Block> blocks;
  const int counts[] = {3, 4, 6, 3};
  for (int stage = 1; stage <= 4; ++stage) {
    for (int i = 0; i < counts[stage - 1]; ++i) {
      const std::string p = "layer" + std::to_string(stage) + "." + std::to_string(i);
      const int64_t stride = (i == 0 && stage > 1) ? 2 : 1;
      Block b;
      b.c1 = conv_bn(w, p + "/conv1", p + "/bn1", 1);
      b.c2 = conv_bn(w, p + "/conv2", p + "/bn2", stride);
      b.c3 = conv_bn(w, p + "/conv3", p + "/bn3", 1);
      b.has_downsample = i == 0;
      if (b.has_downsample) b.down = conv_bn(w, p + "/downsample", p + "/downsample_bn", stride);
      blocks.push_back(std::move(b));
    }
  }
  at::Tensor fc_w = w["fc.weight"], fc_b = w["fc.bias"];
  return [=](const at::Tensor& input) {
    at::Tensor x = at::relu(stem(input));
    x = at::max_pool2d(x, {3, 3}, {2, 2}, {1, 1});
    for (const Block& b : blocks) {
      at::Tensor y = at::relu(b.c1(x));
      y = at::relu(b.c2(y));
      y = b.c3(y);
      x = at::relu(y + (b.has_downsample ? b.down(x) : x));
    }
    x = at::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    return at::linear(x, fc_w, fc_b);
  };
}

// ---- BERT-base encoder -----------------------------------------------------------------------

constexpr int64_t kSeq = 128, kHidden = 768, kHeads = 12, kHeadDim = kHidden / kHeads;

struct Linear {
  at::Tensor weight, bias;  // weight [out, in], as at::linear takes it
  at::Tensor operator()(const at::Tensor& x) const { return at::linear(x, weight, bias); }
};

// The ONNX model stores MatMul weights [in, out]; at::linear wants [out, in], transposed once.
Linear linear(const Initializers& w, const std::string& name) {
  return {w[name + ".weight"].t().contiguous(), w[name + ".bias"]};
}

struct LayerNorm {
  at::Tensor weight, bias;
  at::Tensor operator()(const at::Tensor& x) const {
    return at::layer_norm(x, {kHidden}, weight, bias, 1e-12);
  }
};

LayerNorm layer_norm(const Initializers& w, const std::string& name) {
  return {w[name + ".weight"], w[name + ".bias"]};
}

Forward bert_base(const Initializers& w) {
  struct Layer {
    Linear q, k, v, attn_out, ffn_in, ffn_out;
    LayerNorm ln_attn, ln_out;
  };
  const at::Tensor word = w["embeddings.word"], pos = w["embeddings.position"];
  const at::Tensor tok = w["embeddings.token_type"];
  const at::Tensor pos_ids = w["embeddings.position_ids"];
  const at::Tensor tok_ids = w["embeddings.token_type_ids"];
  const LayerNorm ln_emb = layer_norm(w, "embeddings/layer_norm");
  std::vector<Layer> layers;
  for (int i = 0; i < 12; ++i) {
    const std::string p = "encoder." + std::to_string(i);
    layers.push_back({linear(w, p + "/query"), linear(w, p + "/key"), linear(w, p + "/value"),
                      linear(w, p + "/attention_output"), linear(w, p + "/intermediate"),
                      linear(w, p + "/output"), layer_norm(w, p + "/attention_layer_norm"),
                      layer_norm(w, p + "/output_layer_norm")});
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(kHeadDim));
  return [=](const at::Tensor& ids) {
    const int64_t batch = ids.size(0);
    at::Tensor x =
        at::embedding(word, ids) + at::embedding(pos, pos_ids) + at::embedding(tok, tok_ids);
    x = ln_emb(x);
    for (const Layer& l : layers) {
      auto heads = [&](const at::Tensor& t) { return t.view({batch, kSeq, kHeads, kHeadDim}); };
      const at::Tensor q = heads(l.q(x)).permute({0, 2, 1, 3});
      const at::Tensor k = heads(l.k(x)).permute({0, 2, 3, 1});
      const at::Tensor v = heads(l.v(x)).permute({0, 2, 1, 3});
      const at::Tensor probs = at::softmax(at::matmul(q, k) * scale, -1);
      const at::Tensor ctx =
          at::matmul(probs, v).permute({0, 2, 1, 3}).reshape({batch, kSeq, kHidden});
      x = l.ln_attn(l.attn_out(ctx) + x);
      x = l.ln_out(l.ffn_out(at::gelu(l.ffn_in(x))) + x);  // erf GELU, as the ONNX graph spells
    }
    return x;
  };
}

// ---- MLP -------------------------------------------------------------------------------------

Forward mlp(const Initializers& w) {
  std::vector<Linear> fc;  // Gemm with transB=1: the weights are [out, in] already
  for (int i = 0; i < 4; ++i) {
    const std::string p = "fc" + std::to_string(i);
    fc.push_back({w[p + ".weight"], w[p + ".bias"]});
  }
  return [=](const at::Tensor& input) {
    at::Tensor x = input;
    for (const Linear& l : fc) x = at::relu(l(x));
    return x;
  };
}

// ---- Driver ----------------------------------------------------------------------------------

std::map<std::string, std::string> parse_flags(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) fail("unexpected argument '" + a + "'");
    a = a.substr(2);
    if (auto eq = a.find('='); eq != std::string::npos) {
      flags[a.substr(0, eq)] = a.substr(eq + 1);
    } else {
      if (i + 1 >= argc) fail("--" + a + " needs a value");
      flags[a] = argv[++i];
    }
  }
  return flags;
}

at::Tensor make_input(const std::string& model, int64_t batch, const std::string& path) {
  at::Tensor x;
  if (model == "resnet50") x = at::empty({batch, 3, 224, 224}, at::kFloat);
  if (model == "bert_base") x = at::empty({batch, kSeq}, at::kLong);
  if (model == "mlp") x = at::empty({batch, 4096}, at::kFloat);
  if (!x.defined()) fail("unknown model '" + model + "' (resnet50, bert_base, mlp)");
  const size_t nbytes = static_cast<size_t>(x.numel()) * x.element_size();
  if (!path.empty()) {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail("cannot open input '" + path + "'");
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), {});
    if (bytes.size() != nbytes)
      fail("input '" + path + "' has " + std::to_string(bytes.size()) + " bytes, expected " +
           std::to_string(nbytes));
    std::memcpy(x.data_ptr(), bytes.data(), nbytes);
    return x;
  }
  // No file: fixed-seed values, uniform in [-1, 1] or token ids in [0, vocab).
  std::mt19937 gen(42);
  if (x.scalar_type() == at::kLong) {
    int64_t* p = x.data_ptr<int64_t>();
    for (int64_t i = 0; i < x.numel(); ++i) p[i] = static_cast<int64_t>(gen() % 30522);
  } else {
    float* p = x.data_ptr<float>();
    for (int64_t i = 0; i < x.numel(); ++i)
      p[i] = std::uniform_real_distribution<float>(-1.f, 1.f)(gen);
  }
  return x;
}

// Which BLAS libtorch's matmuls went through: Debian's libtorch takes whatever provides
// libblas.so.3 (the reference BLAS is a hundred times slower than OpenBLAS), so the result says.
std::string blas_in_use() {
  std::ifstream maps("/proc/self/maps");
  std::string line, found = "unknown";
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find("libblas.so") != std::string::npos ||
        path.find("libopenblas") != std::string::npos) {
      found = path;
      if (path.find("openblas") != std::string::npos) break;
    }
  }
  // OpenBLAS picks its kernels per CPU at load time (OPENBLAS_CORETYPE overrides the choice).
  using CoreName = char* (*)();
  if (auto f = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename")))
    found += std::string(" (OpenBLAS core ") + f() + ")";
  return found;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5));
  return v[i];
}

int run(int argc, char** argv) {
  auto flags = parse_flags(argc, argv);
  auto get = [&](const std::string& k, const std::string& fallback) {
    auto it = flags.find(k);
    return it == flags.end() ? fallback : it->second;
  };
  const std::string model = get("model", ""), onnx_path = get("onnx", "");
  if (model.empty() || onnx_path.empty()) fail("--model and --onnx are required");
  const int64_t batch = std::stoll(get("batch", "1"));
  const int threads = std::stoi(get("threads", "1"));
  const int64_t iterations = std::stoll(get("iterations", "10"));
  const double warmup_ms = std::stod(get("warmUp", "200"));
  if (batch < 1 || threads < 1 || iterations < 1) fail("batch, threads, iterations must be >= 1");

  at::set_num_interop_threads(1);
  at::set_num_threads(threads);
  c10::InferenceMode guard;

  const Initializers weights(onnx_path);
  Forward forward;
  if (model == "resnet50") forward = resnet50(weights);
  if (model == "bert_base") forward = bert_base(weights);
  if (model == "mlp") forward = mlp(weights);
  const at::Tensor input = make_input(model, batch, get("input", ""));

  at::Tensor out;
  const auto warm_start = Clock::now();
  do out = forward(input);
  while (std::chrono::duration<double, std::milli>(Clock::now() - warm_start).count() < warmup_ms);
  std::vector<double> times;
  for (int64_t i = 0; i < iterations; ++i) {
    const auto s = Clock::now();
    out = forward(input);
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
  }
  if (auto path = get("output", ""); !path.empty()) {
    const at::Tensor o = out.contiguous();
    std::ofstream f(path, std::ios::binary);
    if (!f) fail("cannot write '" + path + "'");
    f.write(static_cast<const char*>(o.data_ptr()),
            static_cast<std::streamsize>(o.numel() * o.element_size()));
  }
  double mean = 0;
  for (double t : times) mean += t;
  mean /= static_cast<double>(times.size());
  std::string list;
  for (double t : times) list += (list.empty() ? "" : ", ") + std::to_string(t);
  std::printf(
      "{\"engine\": \"libtorch\", \"version\": \"%d.%d.%d\", \"model\": \"%s\", \"batch\": %lld, "
      "\"threads\": %d, \"iterations\": %lld, \"min_ms\": %.4f, \"median_ms\": %.4f, "
      "\"mean_ms\": %.4f, \"p90_ms\": %.4f, \"max_ms\": %.4f, \"blas\": \"%s\", "
      "\"times_ms\": [%s]}\n",
      TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH, model.c_str(),
      static_cast<long long>(batch), at::get_num_threads(), static_cast<long long>(iterations),
      percentile(times, 0), percentile(times, 50), mean, percentile(times, 90),
      percentile(times, 100), blas_in_use().c_str(), list.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "libtorch_bench: " << e.what() << "\n";
    return 1;
  }
}
