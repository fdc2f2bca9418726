// Random-network differential testing: random valid networks composed of the building blocks,
// built at optimization level 1 and compared with the reference engine (level 0, reference
// kernels only). A failing network is minimized and written as a recipe that --replay rebuilds.
//
//   random_networks --seed S --count N [--exclude OP]... [--save-dir DIR] [--verbose]
//   random_networks --replay FILE_OR_DIR...
//
// Note [Recipes]: a network is a recipe, a list of steps (an op code, two operand picks and two
// parameters) applied to one or two inputs. Each step calls a building block whose arguments
// follow from its operands' shapes and its parameters; a step whose call is rejected (the block
// throws layerkit::Error and leaves the network unchanged) is skipped. So every recipe gives a
// valid network, dropping any step gives another (that is how failures are minimized), and a
// step's constants come from its own parameter, so they survive the removal of other steps.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/element.h"
#include "layerkit/builder/builder.h"
#include "layerkit/core/error.h"
#include "layerkit/impl/activation.h"
#include "layerkit/impl/cast.h"
#include "layerkit/impl/cat.h"
#include "layerkit/impl/context.h"
#include "layerkit/impl/conv.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/linear.h"
#include "layerkit/impl/matmul.h"
#include "layerkit/impl/normalization.h"
#include "layerkit/impl/permutation.h"
#include "layerkit/impl/pool.h"
#include "layerkit/impl/reduce.h"
#include "layerkit/impl/shuffle.h"
#include "layerkit/impl/slice.h"
#include "layerkit/impl/squeeze.h"
#include "layerkit/network/network.h"
#include "layerkit/runtime/engine.h"

namespace layerkit {
namespace {

namespace fs = std::filesystem;
using impl::HostConstant;

// The op codes of a step (Note [Recipes]); kNUM_OPS is the count.
enum Op : int {
  kCONV,
  kLINEAR,
  kBIAS,
  kBINARY,
  kACTIVATION,
  kUNARY,
  kPERMUTE,
  kSLICE,
  kFLATTEN,
  kUNSQUEEZE,
  kCAT,
  kREDUCE,
  kSOFTMAX,
  kLAYER_NORM,
  kCAST,
  kPOOL,
  kCHANNEL_SCALE,
  kBATCH_NORM,
  kCLAMP,
  kMATMUL,
  kCHANNEL_BIAS,
  kLAYER_NORM_OPS,
  kGELU_OPS,
  kSOFTMAX_OPS,
  kNUM_OPS
};
const char* const kOpNames[kNUM_OPS] = {
    "conv",    "linear",     "bias",         "binary",         "activation",    "unary",
    "permute", "slice",      "flatten",      "unsqueeze",      "cat",           "reduce",
    "softmax", "layer_norm", "cast",         "pool",           "channel_scale", "batch_norm",
    "clamp",   "matmul",     "channel_bias", "layer_norm_ops", "gelu_ops",      "softmax_ops"};

int op_code(const std::string& name) {
  const auto* it = std::find_if(std::begin(kOpNames), std::end(kOpNames),
                                [&](const char* n) { return name == n; });
  LK_CHECK(it != std::end(kOpNames), "unknown op '", name, "'");
  return static_cast<int>(it - std::begin(kOpNames));
}

struct Step {
  int op = 0;
  uint32_t a = 0, b = 0;    // operand picks
  uint32_t p0 = 0, p1 = 0;  // parameters (p0 also seeds the step's constants)
};

struct Recipe {
  int dtype = 0;         // 0 fp32, 1 fp16, 2 int32
  bool dynamic = false;  // the first dim of the inputs is dynamic
  bool second_input = false;
  uint32_t extra_output = 0;  // 0: only the last value is an output
  std::vector<int64_t> dims;
  std::vector<Step> steps;

  std::string to_text() const {
    std::ostringstream os;
    os << "network " << dtype << " " << dynamic << " " << second_input << " " << extra_output;
    for (int64_t d : dims) os << " " << d;
    os << "\n";
    for (const Step& s : steps)
      os << "step " << kOpNames[s.op] << " " << s.a << " " << s.b << " " << s.p0 << " " << s.p1
         << "\n";
    return os.str();
  }
  static Recipe from_text(const std::string& text) {
    Recipe r;
    std::istringstream is(text);
    std::string line;
    while (std::getline(is, line)) {
      std::istringstream ls(line);
      std::string word;
      ls >> word;
      if (word == "network") {
        int dyn = 0, second = 0;
        ls >> r.dtype >> dyn >> second >> r.extra_output;
        r.dynamic = dyn;
        r.second_input = second;
        int64_t d;
        while (ls >> d) r.dims.push_back(d);
      } else if (word == "step") {
        Step s;
        std::string op;
        ls >> op >> s.a >> s.b >> s.p0 >> s.p1;
        s.op = op_code(op);
        r.steps.push_back(s);
      }
    }
    LK_CHECK(!r.dims.empty(), "recipe: no 'network' line");
    return r;
  }
};

DataType dtype_of(int code) {
  return code == 1 ? DataType::kHALF : code == 2 ? DataType::kINT32 : DataType::kFLOAT;
}

Recipe random_recipe(std::mt19937& rng, const std::set<int>& excluded) {
  Recipe r;
  const int k = static_cast<int>(rng() % 10);
  r.dtype = k < 6 ? 0 : k < 8 ? 1 : 2;
  r.dynamic = rng() % 3 == 0;
  r.second_input = rng() % 3 == 0;
  r.extra_output = rng() % 3 == 0 ? 1 + rng() % 8 : 0;
  // Rank 4 half the time (convolution, pooling and the channel ops need it).
  const int rank = rng() % 2 ? 4 : 2 + static_cast<int>(rng() % 3);
  for (int i = 0; i < rank; ++i) r.dims.push_back(1 + static_cast<int64_t>(rng() % 8));
  const int steps = 1 + static_cast<int>(rng() % 12);
  for (int i = 0; i < steps; ++i) {
    Step s;
    // Fusion-prone ops (conv, linear, bias, residual, activation) twice as often as the rest.
    s.op = static_cast<int>(rng() % (kNUM_OPS + 5));
    if (s.op >= kNUM_OPS) s.op -= kNUM_OPS;
    while (excluded.count(s.op)) s.op = (s.op + 1) % kNUM_OPS;
    s.a = static_cast<uint32_t>(rng());
    s.b = static_cast<uint32_t>(rng());
    s.p0 = static_cast<uint32_t>(rng());
    s.p1 = static_cast<uint32_t>(rng());
    r.steps.push_back(s);
  }
  return r;
}

// A network built from a recipe: the profile of its dynamic inputs and the accumulation length
// of each output's tolerance (as in tests/test_util.h, ops accumulating over K scale it by sqrt(K);
// the network's K is the sum over its accumulating layers).
struct Built {
  std::unique_ptr<Network> net;
  std::map<std::string, ProfileDims> profile;
  double accumulate = 1;
  int skipped = 0;  // steps whose building block rejected its arguments
};

// Constants of a step: floats in [-1, 1] scaled by `scale`, in multiples of 1/64 (exact in
// fp16), or integers in [-3, 3].
HostConstant constant(std::mt19937& rng, DataType type, const Dims& dims, float scale) {
  const int64_t n = dims.volume();
  if (type == DataType::kINT32) {
    std::vector<int32_t> v(static_cast<size_t>(n));
    for (auto& x : v) x = static_cast<int32_t>(rng() % 7) - 3;
    return HostConstant::of(dims, v);
  }
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = std::round((static_cast<float>(rng() % 129) - 64.0f) * scale) / 64.0f;
  return HostConstant::of(dims, type, v);
}

// `widen`: fp16 becomes fp32 everywhere (inputs and casts), for Note [fp16 networks].
Built build_recipe(const Recipe& r, bool widen = false) {
  Built b;
  b.net = std::make_unique<Network>();
  Network& net = *b.net;
  impl::ConversionContext ctx(net);
  const DataType type = dtype_of(widen && r.dtype == 1 ? 0 : r.dtype);
  Dims decl(std::span<const int64_t>(r.dims));
  if (r.dynamic) {
    Dims min = decl, max = decl;
    min[0] = 1;
    max[0] = decl[0] + 2;
    b.profile["x"] = {min, decl, max};
    decl[0] = -1;
  }
  std::vector<Tensor*> values = {net.add_input("x", type, decl)};
  std::vector<bool> exact = {true};  // values that hold the inputs' exact values
  if (r.second_input) {
    // A second input broadcastable against the first: its leading dim is 1.
    Dims d2(std::span<const int64_t>(r.dims));
    d2[0] = 1;
    values.push_back(net.add_input("y", type, d2));
    exact.push_back(true);
  }
  const auto ir = impl::SourceIR::kUNKNOWN;
  for (size_t i = 0; i < r.steps.size(); ++i) {
    const Step& s = r.steps[i];
    std::mt19937 rng(s.p0);
    const std::string name = "s" + std::to_string(i);
    // Mostly the latest value (chains), sometimes an older one.
    const size_t ia = values.size() - 1 - (s.a % 8 < 5 ? 0 : s.a % values.size());
    Tensor* a = values[ia];
    const Dims& ad = a->dims();
    const int rank = ad.rank();
    const DataType at = a->type();
    const bool is_float = at == DataType::kFLOAT || at == DataType::kHALF;
    // A second operand of the same dims when there is one (a residual), else any value.
    Tensor* other = values[s.b % values.size()];
    for (size_t j = values.size(); j-- > 0;)
      if (j != ia && values[j]->dims() == ad && values[j]->type() == at && s.b % 4 != 0) {
        other = values[j];
        break;
      }
    const auto axis = [&](uint32_t p) { return rank ? static_cast<int64_t>(p % rank) : 0; };
    double k = 0;
    bool keeps_exact = false;
    try {
      Tensor* out = nullptr;
      switch (static_cast<Op>(s.op)) {
        case kCONV: {
          if (rank != 4 || ad[1] < 0 || !is_float) break;
          const int64_t c = ad[1], kh = s.p1 % 2 ? 3 : 1, kw = (s.p1 >> 1) % 2 ? 3 : 1;
          const bool depthwise = (s.p1 >> 2) % 4 == 0;
          const int64_t groups = depthwise ? c : 1;
          const int64_t cout = depthwise ? c : 1 + (s.p1 >> 4) % 6;
          const int64_t stride = (s.p1 >> 7) % 3 == 0 ? 2 : 1, pad = (s.p1 >> 9) % 2;
          const float scale = 1.0f / std::sqrt(static_cast<float>(c / groups * kh * kw));
          std::optional<impl::Operand> bias;
          if ((s.p1 >> 10) % 2) bias = constant(rng, at, Dims{cout}, 1.0f);
          out = impl::conv::convolution(
              ctx, "conv", ir, name, a, constant(rng, at, Dims{cout, c / groups, kh, kw}, scale),
              bias, {stride, stride}, {pad, pad}, {1, 1}, false, {0, 0}, groups);
          k = static_cast<double>(c / groups * kh * kw);
          break;
        }
        case kLINEAR: {
          if (rank < 1 || ad[rank - 1] < 0 || at == DataType::kINT32) break;
          const int64_t kk = ad[rank - 1], n = 1 + s.p1 % 8;
          std::optional<impl::Operand> bias;
          if ((s.p1 >> 3) % 2) bias = constant(rng, at, Dims{n}, 1.0f);
          out = impl::linear::linear(
              ctx, "linear", ir, name, a,
              constant(rng, at, Dims{n, kk}, 1.0f / std::sqrt(static_cast<float>(kk))), bias);
          k = static_cast<double>(kk);
          break;
        }
        case kBIAS: {
          if (rank < 1 || ad[rank - 1] < 0) break;
          out = impl::elementwise::add(ctx, "add", ir, name, a,
                                       constant(rng, at, Dims{ad[rank - 1]}, 1.0f));
          keeps_exact = at == DataType::kINT32 && exact[ia];
          break;
        }
        case kBINARY: {
          switch (s.p1 % 5) {
            case 0:
              out = impl::elementwise::add(ctx, "add", ir, name, a, other);
              break;
            case 1:
              out = impl::elementwise::sub(ctx, "sub", ir, name, a, other);
              break;
            case 2:
              out = impl::elementwise::mul(ctx, "mul", ir, name, a, other);
              break;
            case 3:
              out = impl::elementwise::max(ctx, "max", ir, name, a, other);
              break;
            default:
              out = impl::elementwise::min(ctx, "min", ir, name, a, other);
              break;
          }
          break;
        }
        case kACTIVATION: {
          if (!is_float && s.p1 % 8 != 0) break;
          switch (s.p1 % 8) {
            case 0:
              out = impl::activation::relu(ctx, "relu", ir, name, a);
              break;
            case 1:
              out = impl::activation::sigmoid(ctx, "sigmoid", ir, name, a);
              break;
            case 2:
              out = impl::activation::tanh(ctx, "tanh", ir, name, a);
              break;
            case 3:
              out = impl::activation::leaky_relu(ctx, "leaky_relu", ir, name, a, 0.125);
              break;
            case 4:
              out = impl::activation::elu(ctx, "elu", ir, name, a);
              break;
            case 5:
              out =
                  impl::activation::gelu(ctx, "gelu", ir, name, a, s.p1 % 16 < 8 ? "none" : "tanh");
              break;
            case 6:
              out = impl::activation::hard_swish(ctx, "hard_swish", ir, name, a);
              break;
            default:
              out = impl::activation::softplus(ctx, "softplus", ir, name, a);
              break;
          }
          break;
        }
        case kUNARY: {
          static const UnaryOperation kOps[] = {UnaryOperation::kABS, UnaryOperation::kNEG,
                                                UnaryOperation::kSIN, UnaryOperation::kCOS};
          out = net.add_unary(a, kOps[s.p1 % 4])->output(0);
          keeps_exact = at == DataType::kINT32 && exact[ia];
          break;
        }
        case kPERMUTE: {
          std::vector<int64_t> perm(static_cast<size_t>(rank));
          std::iota(perm.begin(), perm.end(), 0);
          std::shuffle(perm.begin(), perm.end(), rng);
          out = impl::permutation::permute(ctx, "permute", ir, name, a, perm);
          keeps_exact = exact[ia];
          break;
        }
        case kSLICE: {
          const int64_t ax = axis(s.p1);
          if (rank == 0 || ad[ax] < 2) break;
          const int64_t start = (s.p1 >> 4) % ad[ax];
          const int64_t step = (s.p1 >> 8) % 3 == 0 ? 2 : 1;
          const int64_t stop = start + 1 + static_cast<int64_t>((s.p1 >> 10) % (ad[ax] - start));
          out = impl::slice::slice(ctx, "slice", ir, name, a, ax, start, stop, step);
          keeps_exact = exact[ia];
          break;
        }
        case kFLATTEN: {
          if (rank < 2) break;
          const int64_t start = static_cast<int64_t>(s.p1 % (rank - 1));
          const int64_t end = start + 1 + static_cast<int64_t>((s.p1 >> 4) % (rank - start - 1));
          out = impl::shuffle::flatten(ctx, "flatten", ir, name, a, start, end);
          keeps_exact = exact[ia];
          break;
        }
        case kUNSQUEEZE: {
          if (rank >= 5) {
            out = impl::squeeze::squeeze(ctx, "squeeze", ir, name, a);
          } else {
            out = impl::squeeze::unsqueeze(ctx, "unsqueeze", ir, name, a,
                                           static_cast<int64_t>(s.p1 % (rank + 1)));
          }
          keeps_exact = exact[ia];
          break;
        }
        case kCAT: {
          const int64_t ax = axis(s.p1);
          out = impl::cat::cat(ctx, "cat", ir, name, {a, s.p1 % 2 ? other : a}, ax);
          keeps_exact = exact[ia];
          break;
        }
        case kREDUCE: {
          if (rank == 0) break;
          const int64_t ax = axis(s.p1);
          const bool keep = (s.p1 >> 4) % 2;
          switch ((s.p1 >> 5) % 3) {
            case 0:
              out = impl::reduce::sum(ctx, "sum", ir, name, a, std::vector<int64_t>{ax}, keep, at);
              k = static_cast<double>(std::max<int64_t>(ad[ax], 1));
              break;
            case 1:
              if (!is_float) break;
              out = impl::reduce::mean(ctx, "mean", ir, name, a, std::vector<int64_t>{ax}, keep);
              k = static_cast<double>(std::max<int64_t>(ad[ax], 1));
              break;
            default:
              out = impl::reduce::max(ctx, "amax", ir, name, a, std::vector<int64_t>{ax}, keep);
              keeps_exact = exact[ia];
              break;
          }
          break;
        }
        case kSOFTMAX:
          if (!is_float || rank == 0) break;
          out = impl::normalization::softmax(ctx, "softmax", ir, name, a, axis(s.p1));
          k = static_cast<double>(std::max<int64_t>(ad[axis(s.p1)], 1));
          break;
        case kLAYER_NORM: {
          if (!is_float || rank == 0 || ad[rank - 1] < 0) break;
          const int64_t n = ad[rank - 1];
          out = impl::normalization::layer_norm(ctx, "layer_norm", ir, name, a, {n},
                                                constant(rng, at, Dims{n}, 1.0f),
                                                constant(rng, at, Dims{n}, 1.0f));
          k = static_cast<double>(n);
          break;
        }
        case kCAST: {
          static const DataType kTo[] = {DataType::kFLOAT, DataType::kHALF, DataType::kINT32};
          const DataType to = widen && s.p1 % 3 == 1 ? DataType::kFLOAT : kTo[s.p1 % 3];
          // Float to int only from exact values: a last-bit difference upstream must not
          // become a whole unit.
          if (to == DataType::kINT32 && is_float && !exact[ia]) break;
          out = impl::cast::cast(ctx, "cast", ir, name, a, to);
          keeps_exact = exact[ia];
          break;
        }
        case kPOOL: {
          if (rank != 4 || !is_float) break;
          const int64_t kk = 1 + s.p1 % 3, stride = 1 + (s.p1 >> 2) % 2;
          const int64_t pad = kk > 1 ? (s.p1 >> 3) % 2 : 0;
          if ((s.p1 >> 4) % 2) {
            out = impl::pool::max_pool(ctx, "max_pool", ir, name, a, {kk, kk}, {stride, stride},
                                       {pad, pad});
          } else {
            out = impl::pool::avg_pool(ctx, "avg_pool", ir, name, a, {kk, kk}, {stride, stride},
                                       {pad, pad});
            k = static_cast<double>(kk * kk);
          }
          break;
        }
        case kCHANNEL_SCALE: {
          if (rank < 2 || ad[1] < 0) break;
          std::vector<int64_t> d(static_cast<size_t>(rank - 1), 1);
          d[0] = ad[1];
          out = impl::elementwise::mul(ctx, "mul", ir, name, a,
                                       constant(rng, at, Dims(std::span<const int64_t>(d)), 1.0f));
          keeps_exact = at == DataType::kINT32 && exact[ia];
          break;
        }
        case kBATCH_NORM: {
          if (rank != 4 || ad[1] < 0 || !is_float) break;
          const Dims c{ad[1]};
          std::vector<float> vv(static_cast<size_t>(ad[1]));
          for (auto& x : vv) x = 0.25f + static_cast<float>(rng() % 64) / 32.0f;
          const HostConstant var = HostConstant::of(c, at, vv);
          out = impl::normalization::batch_norm(
              ctx, "batch_norm", ir, name, a, constant(rng, at, c, 1.0f),
              constant(rng, at, c, 1.0f), constant(rng, at, c, 1.0f), var);
          break;
        }
        case kCLAMP: {
          const double lo = -static_cast<double>(s.p1 % 4) / 2, hi = lo + 0.5 + (s.p1 >> 2) % 4;
          if (at == DataType::kINT32)
            out = impl::elementwise::clamp(ctx, "clamp", ir, name, a,
                                           static_cast<int64_t>(std::floor(lo)),
                                           static_cast<int64_t>(std::ceil(hi)));
          else
            out = impl::elementwise::clamp(ctx, "clamp", ir, name, a, lo, hi);
          keeps_exact = at == DataType::kINT32 && exact[ia];
          break;
        }
        case kMATMUL: {
          if (rank < 2 || ad[rank - 1] < 0 || at == DataType::kINT32) break;
          // a @ other^T: other's last dim must match (the block checks the rest).
          Tensor* bt = impl::permutation::transpose(ctx, "transpose", ir, name + "_t",
                                                    s.p1 % 2 ? a : other, -1, -2);
          out = impl::matmul::matrix_multiply(ctx, "matmul", ir, name, a, bt);
          k = static_cast<double>(ad[rank - 1]);
          break;
        }
        case kCHANNEL_BIAS: {
          // A per-channel constant added after a convolution: what the conv pass folds.
          if (rank != 4 || ad[1] < 0) break;
          out = impl::elementwise::add(ctx, "add", ir, name, a,
                                       constant(rng, at, Dims{1, ad[1], 1, 1}, 1.0f));
          keeps_exact = at == DataType::kINT32 && exact[ia];
          break;
        }
        case kLAYER_NORM_OPS: {
          // Layer norm op by op, as frontends write it out (the patterns pass recognizes it).
          if (!is_float || rank == 0 || ad[rank - 1] < 0) break;
          namespace ew = impl::elementwise;
          const std::vector<int64_t> last = {-1};
          Tensor* m = impl::reduce::mean(ctx, "mean", ir, name + "_mean", a, last, true);
          Tensor* d = ew::sub(ctx, "sub", ir, name + "_d", a, m);
          Tensor* sq = s.p1 % 2 ? ew::mul(ctx, "mul", ir, name + "_sq", d, d)
                                : ew::pow(ctx, "pow", ir, name + "_sq", d, 2.0);
          Tensor* v = impl::reduce::mean(ctx, "mean", ir, name + "_var", sq, last, true);
          Tensor* ve = ew::add(ctx, "add", ir, name + "_eps", v, 1e-5);
          Tensor* sd = net.add_unary(ve, UnaryOperation::kSQRT)->output(0);
          out = ew::div(ctx, "div", ir, name, d, sd);
          if ((s.p1 >> 1) % 2) {
            const Dims n{ad[rank - 1]};
            out = ew::mul(ctx, "mul", ir, name + "_gamma", out, constant(rng, at, n, 1.0f));
            out = ew::add(ctx, "add", ir, name + "_beta", out, constant(rng, at, n, 1.0f));
          }
          k = static_cast<double>(ad[rank - 1]);
          break;
        }
        case kGELU_OPS: {
          // x * 0.5 * (1 + erf(x / sqrt(2))), in one of its groupings.
          if (!is_float) break;
          namespace ew = impl::elementwise;
          Tensor* t = ew::div(ctx, "div", ir, name + "_scaled", a, 1.4142135623730951);
          Tensor* e = net.add_unary(t, UnaryOperation::kERF)->output(0);
          Tensor* o = ew::add(ctx, "add", ir, name + "_one", e, 1.0);
          if (s.p1 % 2) {
            out = ew::mul(ctx, "mul", ir, name, ew::mul(ctx, "mul", ir, name + "_half", a, 0.5), o);
          } else {
            out = ew::mul(ctx, "mul", ir, name, ew::mul(ctx, "mul", ir, name + "_x", a, o), 0.5);
          }
          break;
        }
        case kSOFTMAX_OPS: {
          // exp(x - max(x)) / sum(exp(x - max(x))) over one axis, or without the max.
          if (!is_float || rank == 0) break;
          namespace ew = impl::elementwise;
          const std::vector<int64_t> ax = {axis(s.p1)};
          Tensor* d = a;
          if ((s.p1 >> 4) % 2)
            d = ew::sub(ctx, "sub", ir, name + "_d", a,
                        impl::reduce::max(ctx, "amax", ir, name + "_max", a, ax, true));
          Tensor* e = net.add_unary(d, UnaryOperation::kEXP)->output(0);
          out = ew::div(ctx, "div", ir, name, e,
                        impl::reduce::sum(ctx, "sum", ir, name + "_sum", e, ax, true));
          k = static_cast<double>(std::max<int64_t>(ad[ax[0]], 1));
          break;
        }
        case kNUM_OPS:
          break;
      }
      if (!out) {
        ++b.skipped;
        continue;
      }
      values.push_back(out);
      exact.push_back(keeps_exact);
      b.accumulate += k;
    } catch (const Error&) {
      ++b.skipped;
    }
  }
  Tensor* last = values.back();
  if (last->is_network_input()) last = net.add_identity(last)->output(0);
  net.mark_output(last);
  if (r.extra_output) {
    Tensor* e = values[r.extra_output % values.size()];
    if (e != values.back() && !e->is_network_input()) net.mark_output(e);
  }
  return b;
}

struct Tolerance {
  double rtol, atol;
};
// torch.testing's default per-dtype tolerances (as tests/test_util.h); integers and bool exact.
Tolerance tolerance(DataType t) {
  switch (t) {
    case DataType::kFLOAT:
      return {1.3e-6, 1e-5};
    case DataType::kHALF:
      return {1e-3, 1e-5};
    case DataType::kBF16:
      return {1.6e-2, 1e-5};
    default:
      return {0, 0};
  }
}

// Empty when equal within tolerance, else the first difference.
//
// Note [fp16 networks]: an fp16 network's reference engine rounds every intermediate to fp16,
// while a rewrite into one layer that computes in fp32 (a recognized layer norm or softmax, a
// fused chain) skips those roundings; a later layer that divides by a small spread (a layer norm
// over near-equal values) amplifies the difference past the fp16 tolerance although neither
// engine is wrong (op-by-op fp16 layer norm alone differs from fp32 by up to 3% on inputs like
// these). So with `truth` (the same recipe in fp32 on the reference engine) an element outside
// the tolerance is a "precision difference", counted apart, while the optimized engine's error
// against fp32 stays within ten times the reference engine's error plus the tolerance (and a
// reference that overflows to NaN where fp32 is finite is no reference); beyond that it is a
// mismatch.
// `tolerance_of`: the type whose tolerance applies (an fp32 output computed from fp16 values
// carries fp16's error).
std::string compare(const OwnedTensor& ref, const OwnedTensor& got, double k,
                    const OwnedTensor* truth = nullptr, bool* precision_difference = nullptr,
                    bool* overflow_difference = nullptr,
                    std::optional<DataType> tolerance_of = std::nullopt) {
  if (ref.type != got.type || ref.dims != got.dims)
    return "output " + std::string(data_type_name(got.type)) + got.dims.to_string() +
           ", reference " + std::string(data_type_name(ref.type)) + ref.dims.to_string();
  const int64_t n = ref.dims.volume();
  const Tolerance tol =
      tolerance(is_floating(ref.type) ? tolerance_of.value_or(ref.type) : ref.type);
  const double scale = std::sqrt(std::max(1.0, k));
  for (int64_t i = 0; i < n; ++i) {
    if (is_floating(ref.type)) {
      const double x = load_f(ref.type, ref.data.data(), i);
      const double y = load_f(got.type, got.data.data(), i);
      if ((std::isnan(x) && std::isnan(y)) || x == y) continue;
      // Note [Overflow rewrites]: exp(x) / sum(exp(x)) without the max subtracted overflows to
      // NaN for large x as the network is written (in fp32 as in fp16), while the SoftMax that
      // recognize_patterns makes of it is finite. Counted apart, not as a mismatch.
      if (!std::isfinite(x) && std::isfinite(y) && overflow_difference) {
        *overflow_difference = true;
        continue;
      }
      const double bound = (tol.atol + tol.rtol * std::fabs(x)) * scale;
      if (std::fabs(x - y) <= bound) continue;
      double t = NAN;
      if (truth && truth->dims == ref.dims && is_floating(truth->type)) {
        t = load_f(truth->type, truth->data.data(), i);
        const double own = (tol.atol + tol.rtol * std::fabs(t)) * scale;
        const bool close = std::isnan(x) ? std::fabs(y - t) <= own
                                         : std::fabs(y - t) <= 10 * (std::fabs(x - t) + bound);
        if (close) {
          if (precision_difference) *precision_difference = true;
          continue;
        }
      }
      char buf[200];
      std::snprintf(buf, sizeof buf, "element %lld: %.9g, reference %.9g%s",
                    static_cast<long long>(i), y, x,
                    std::isnan(t) ? "" : (", fp32 " + std::to_string(t)).c_str());
      return buf;
    }
    const int64_t x = load_i(ref.type, ref.data.data(), i);
    const int64_t y = load_i(got.type, got.data.data(), i);
    if (x != y)
      return "element " + std::to_string(i) + ": " + std::to_string(y) + ", reference " +
             std::to_string(x);
  }
  return {};
}

// Inputs: floats in [-2, 2] in multiples of 1/32 (exact in fp16), integers in [-4, 4].
std::vector<uint8_t> random_input(DataType t, const Dims& d, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t n = d.volume();
  std::vector<uint8_t> out(static_cast<size_t>(packed_bytes(t, n)));
  for (int64_t i = 0; i < n; ++i) {
    const float f = (static_cast<float>(rng() % 129) - 64.0f) / 32.0f;
    if (t == DataType::kFLOAT) {
      std::memcpy(out.data() + i * 4, &f, 4);
    } else if (t == DataType::kHALF) {
      const uint16_t h = float_to_half_bits(f);
      std::memcpy(out.data() + i * 2, &h, 2);
    } else {
      const int32_t v = static_cast<int32_t>(rng() % 9) - 4;
      std::memcpy(out.data() + i * 4, &v, 4);
    }
  }
  return out;
}

// The outcome of one network: empty when both engines agree (or both reject it), else what
// differs. `valid` is false when both engines rejected the network.
struct Outcome {
  std::string problem;
  bool valid = true;
  int layers = 0;
  int rewrites = 0;                   // builder-pass rewrites of the optimized build
  bool identical = false;             // every output bit for bit equal to the reference
  bool precision_difference = false;  // Note [fp16 networks]
  bool overflow_difference = false;   // Note [Overflow rewrites]
  std::set<std::string> passes;       // the passes that rewrote something
};

std::vector<std::vector<OwnedTensor>> run_at_shapes(
    const Engine& engine, const Built& b, const std::vector<std::map<std::string, Dims>>& shapes) {
  std::vector<std::vector<OwnedTensor>> all;
  std::unique_ptr<ExecutionContext> ctx = engine.create_execution_context();
  const Network& net = engine.network();
  for (size_t s = 0; s < shapes.size(); ++s) {
    std::vector<std::vector<uint8_t>> buffers;
    for (int i = 0; i < net.num_inputs(); ++i) {
      const Tensor* in = net.input(i);
      auto it = shapes[s].find(in->name());
      const Dims d = it != shapes[s].end() ? it->second : in->dims();
      buffers.push_back(random_input(in->type(), d, static_cast<uint32_t>(17 * s + i)));
      ctx->set_input_shape(in->name(), d);
      ctx->set_input(in->name(), buffers.back().data());
    }
    ctx->execute();
    std::vector<OwnedTensor> outs;
    for (int o = 0; o < b.net->num_outputs(); ++o)
      outs.push_back(ctx->output(b.net->output(o)->name()));
    all.push_back(std::move(outs));
  }
  return all;
}

Outcome check_recipe(const Recipe& r) {
  Outcome result;
  Built b = build_recipe(r);
  result.layers = b.net->num_layers();
  BuilderConfig opt, ref;
  ref.optimization_level = 0;
  ref.reference_kernels_only = true;
  std::vector<std::map<std::string, Dims>> shapes(1);
  if (!b.profile.empty()) {
    OptimizationProfile p;
    shapes.assign(3, {});
    for (const auto& [name, pd] : b.profile) {
      p.set_dimensions(name, pd.min, pd.opt, pd.max);
      shapes[0][name] = pd.min;
      shapes[1][name] = pd.opt;
      shapes[2][name] = pd.max;
    }
    opt.profiles = {p};
    ref.profiles = {p};
  }
  std::vector<std::vector<OwnedTensor>> want, got;
  std::string ref_error, opt_error;
  try {
    want = run_at_shapes(*Builder::build(*b.net, ref), b, shapes);
  } catch (const Error& e) {
    ref_error = e.what();
  }
  try {
    std::unique_ptr<Engine> engine = Builder::build(*b.net, opt);
    result.rewrites = static_cast<int>(engine->build_report().records.size());
    for (const PassRecord& rec : engine->build_report().records) result.passes.insert(rec.pass);
    got = run_at_shapes(*engine, b, shapes);
  } catch (const Error& e) {
    opt_error = e.what();
  }
  // Note [fp16 networks]: the same recipe in fp32, on the reference engine.
  std::vector<std::vector<OwnedTensor>> truth;
  bool has_half = false;
  for (int l = 0; l < b.net->num_layers(); ++l)
    for (const Tensor* t : b.net->layer(l)->outputs()) has_half |= t->type() == DataType::kHALF;
  has_half |= r.dtype == 1;
  if (has_half && ref_error.empty() && opt_error.empty()) {
    Built b32 = build_recipe(r, /*widen=*/true);
    try {
      if (b32.net->num_outputs() == b.net->num_outputs())
        truth = run_at_shapes(*Builder::build(*b32.net, ref), b32, shapes);
    } catch (const Error&) {
      truth.clear();
    }
  }
  if (!ref_error.empty() && !opt_error.empty()) {
    result.valid = false;
    return result;
  }
  if (!ref_error.empty())
    return result.problem = "the reference engine failed: " + ref_error, result;
  if (!opt_error.empty())
    return result.problem = "the optimized engine failed: " + opt_error, result;
  result.identical = true;
  for (size_t s = 0; s < want.size(); ++s)
    for (size_t o = 0; o < want[s].size(); ++o) {
      result.identical = result.identical && want[s][o].data == got[s][o].data;
      const std::string p =
          compare(want[s][o], got[s][o], b.accumulate, truth.empty() ? nullptr : &truth[s][o],
                  &result.precision_difference, &result.overflow_difference,
                  has_half ? std::optional<DataType>(DataType::kHALF) : std::nullopt);
      if (!p.empty()) {
        result.problem = "output '" + b.net->output(static_cast<int>(o))->name() + "' at " +
                         want[s][o].dims.to_string() + ": " + p;
        return result;
      }
    }
  return result;
}

// Drops steps (and simplifications of the inputs) while the recipe still fails.
Recipe minimize(Recipe r) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t i = r.steps.size(); i-- > 0;) {
      Recipe t = r;
      t.steps.erase(t.steps.begin() + static_cast<std::ptrdiff_t>(i));
      if (!check_recipe(t).problem.empty()) {
        r = std::move(t);
        changed = true;
      }
    }
    for (int variant = 0; variant < 3; ++variant) {
      Recipe t = r;
      if (variant == 0 && t.dynamic)
        t.dynamic = false;
      else if (variant == 1 && t.second_input)
        t.second_input = false;
      else if (variant == 2 && t.extra_output)
        t.extra_output = 0;
      else
        continue;
      if (!check_recipe(t).problem.empty()) {
        r = std::move(t);
        changed = true;
      }
    }
  }
  return r;
}

int replay(const std::vector<std::string>& paths, bool print) {
  std::vector<fs::path> files;
  for (const std::string& p : paths) {
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p))
        if (e.path().extension() == ".txt") files.push_back(e.path());
    } else {
      files.emplace_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  int failed = 0;
  for (const fs::path& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    const Recipe r = Recipe::from_text(ss.str());
    if (print) std::printf("%s", build_recipe(r).net->to_string().c_str());
    const Outcome o = check_recipe(r);
    std::printf("%s: %s\n", f.filename().c_str(),
                !o.valid            ? "rejected by both engines"
                : o.problem.empty() ? "ok"
                                    : o.problem.c_str());
    if (!o.problem.empty() || !o.valid) ++failed;
  }
  std::printf("%zu replayed, %d failed\n", files.size(), failed);
  return failed ? 1 : 0;
}

int main_impl(int argc, char** argv) {
  uint64_t seed = 1, count = 100;
  std::string save_dir;
  bool verbose = false;
  std::vector<std::string> replays;
  std::set<int> excluded;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      LK_CHECK(i + 1 < argc, a, " needs a value");
      return argv[++i];
    };
    if (a == "--seed")
      seed = std::stoull(value());
    else if (a == "--count")
      count = std::stoull(value());
    else if (a == "--save-dir")
      save_dir = value();
    else if (a == "--verbose")
      verbose = true;
    else if (a == "--exclude")
      excluded.insert(op_code(value()));
    else if (a == "--replay")
      replays.push_back(value());
    else
      LK_FAIL(kINVALID_ARGUMENT, "unknown argument '", a,
              "' (--seed S --count N [--exclude OP]... [--save-dir DIR] [--verbose] | --replay "
              "FILE_OR_DIR)");
  }
  if (!replays.empty()) return replay(replays, verbose);
  uint64_t valid = 0, mismatches = 0, layers = 0, rewritten = 0, identical = 0, precision = 0,
           overflow = 0;
  std::map<std::string, uint64_t> by_pass;
  for (uint64_t n = 0; n < count; ++n) {
    // Each network has its own generator, so network N of seed S can be rerun alone.
    std::mt19937 rng(static_cast<uint32_t>(seed * 1000003u + n));
    const Recipe r = random_recipe(rng, excluded);
    const Outcome o = check_recipe(r);
    if (!o.valid) continue;
    ++valid;
    layers += static_cast<uint64_t>(o.layers);
    rewritten += o.rewrites > 0;
    identical += o.identical;
    precision += o.precision_difference;
    overflow += o.overflow_difference;
    for (const std::string& p : o.passes) ++by_pass[p];
    if (o.problem.empty()) {
      if (verbose)
        std::printf("network %llu: ok\n%s%s", static_cast<unsigned long long>(n),
                    r.to_text().c_str(), build_recipe(r).net->to_string().c_str());
      continue;
    }
    ++mismatches;
    const Recipe m = minimize(r);
    std::printf("network %llu (seed %llu): %s\nminimized (%s):\n%s",
                static_cast<unsigned long long>(n), static_cast<unsigned long long>(seed),
                o.problem.c_str(), check_recipe(m).problem.c_str(), m.to_text().c_str());
    if (!save_dir.empty()) {
      fs::create_directories(save_dir);
      std::ofstream(fs::path(save_dir) /
                    ("seed" + std::to_string(seed) + "_network" + std::to_string(n) + ".txt"))
          << m.to_text();
    }
    std::fflush(stdout);
  }
  // What the optimized builds did, so that a run shows the passes were exercised.
  std::string passes;
  for (const auto& [p, c] : by_pass) passes += " " + p + "=" + std::to_string(c);
  std::printf(
      "networks rewritten by the builder passes: %llu (per pass:%s); outputs bit-identical "
      "to the reference: %llu\n",
      static_cast<unsigned long long>(rewritten), passes.c_str(),
      static_cast<unsigned long long>(identical));
  std::printf(
      "fp16 networks with precision differences (Note [fp16 networks]): %llu; networks "
      "where the reference overflows and the optimized engine does not (Note [Overflow "
      "rewrites]): %llu\n",
      static_cast<unsigned long long>(precision), static_cast<unsigned long long>(overflow));
  std::printf("%llu networks (%llu valid, %llu layers), %llu mismatches\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(valid),
              static_cast<unsigned long long>(layers), static_cast<unsigned long long>(mismatches));
  return mismatches ? 1 : 0;
}

}  // namespace
}  // namespace layerkit

int main(int argc, char** argv) {
  try {
    return layerkit::main_impl(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "random_networks: %s\n", e.what());
    return 2;
  }
}
