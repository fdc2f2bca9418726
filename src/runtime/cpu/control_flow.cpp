// Reference kernels for the Conditional and Loop kinds: each body runs on a CPU executor of its
// own, once (a taken branch) or per iteration (Note [Body evaluation], Note [Body kernels]).
#include "runtime/cpu/control_flow.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "layerkit/network/network.h"
#include "layerkit/runtime/executor.h"
#include "network/infer.h"
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

namespace {

thread_local bool t_reference_only = false;

// One value crossing a body boundary (whole-byte elements: inference refuses sub-byte types there).
struct Value {
  DataType type = DataType::kFLOAT;
  Dims dims;
  const void* data = nullptr;
  int64_t bytes() const { return dims.volume() * static_cast<int64_t>(element_size(type)); }
};

template <typename... Args>
[[noreturn]] void fail(LayerKind kind, std::string_view layer, const Args&... args) {
  throw Error(ErrorCode::kRUNTIME,
              detail::cat(layer_kind_name(kind), " layer '", layer, "': ", args...));
}

// A body's executor, kept per thread for the bodies run last: its engine state holds the body's
// constants, packed weights and kernel choices, which a fresh executor per run would make again
// (a Loop layer of 8 matmul iterations took 1.8x its unrolled form that way; docs/onnx.md). The
// entry holds the body, so a cached executor never outlives its network; callers hold the
// executor while it runs, so an entry evicted meanwhile (by a nested body) stays alive.
std::shared_ptr<Executor> body_executor(const std::shared_ptr<const Network>& body) {
  struct Entry {
    std::shared_ptr<const Network> body;
    bool reference_only = false;
    int num_threads = 1;
    std::shared_ptr<Executor> executor;
  };
  constexpr size_t kMaxEntries = 8;
  thread_local std::vector<Entry> cache;
  ExecutorOptions o;
  // The thread count the engine running the layer set for this thread (set_threads).
  o.num_threads = std::clamp(omp_get_max_threads(), 1, kMaxNumThreads);
  o.reference_kernels_only = BodyKernelsScope::reference_only();
  for (size_t i = 0; i < cache.size(); ++i) {
    if (cache[i].body != body || cache[i].reference_only != o.reference_kernels_only ||
        cache[i].num_threads != o.num_threads)
      continue;
    std::rotate(cache.begin() + static_cast<std::ptrdiff_t>(i),
                cache.begin() + static_cast<std::ptrdiff_t>(i) + 1, cache.end());
    return cache.back().executor;
  }
  std::shared_ptr<Executor> e = make_executor(DeviceType::kCPU, *body, o);
  if (cache.size() >= kMaxEntries) cache.erase(cache.begin());
  cache.push_back({body, o.reference_kernels_only, o.num_threads, e});
  return e;
}

TensorView view(const Value& v) {
  return TensorView{v.type, v.dims, v.data, DeviceType::kCPU};
}
TensorView view(const OwnedTensor& t) {
  return t.view();
}

OwnedTensor scalar(DataType type, int64_t v) {
  OwnedTensor t;
  t.type = type;
  t.dims = Dims{};
  t.data.assign(element_size(type), 0);
  store_i(type, t.data.data(), 0, v);
  return t;
}

bool truth(const Value& v) {
  return load_i(v.type, v.data, 0) != 0;
}

// Checks a value against the body input it feeds (as inference does when the network is built,
// now with this run's dims).
void check_fits(LayerKind kind, std::string_view layer, std::string_view what, const Dims& dims,
                const Tensor& declared) {
  bool ok = dims.rank() == declared.dims().rank();
  for (int d = 0; ok && d < dims.rank(); ++d)
    ok = declared.dims()[d] == kDynamic || declared.dims()[d] == dims[d];
  if (!ok)
    fail(kind, layer, what, " has dims ", dims.to_string(), " but body input '", declared.name(),
         "' is declared ", declared.dims().to_string());
}

std::vector<OwnedTensor> run_conditional(const ConditionalAttrs& a, std::string_view layer,
                                         std::span<const Value> in) {
  const bool taken = truth(in[0]);
  const std::shared_ptr<const Network>& chosen = taken ? a.then_body : a.else_body;
  const Network& body = *chosen;
  std::vector<TensorView> views;
  for (size_t i = 1; i < in.size(); ++i) {
    check_fits(LayerKind::kCONDITIONAL, layer, detail::cat("input ", i), in[i].dims,
               *body.input(static_cast<int>(i - 1)));
    views.push_back(view(in[i]));
  }
  return body_executor(chosen)->execute(views);
}

// Copies slice `j` of `x` along `axis` (the axis removed) into `out`.
void take_slice(const Value& x, int axis, int64_t j, OwnedTensor& out) {
  const int64_t len = x.dims[axis];
  int64_t outer = 1, inner = static_cast<int64_t>(element_size(x.type));
  Dims d = Dims::of_rank(x.dims.rank() - 1);
  for (int k = 0, o = 0; k < x.dims.rank(); ++k) {
    if (k == axis) continue;
    d[o++] = x.dims[k];
    (k < axis ? outer : inner) *= x.dims[k];
  }
  out.type = x.type;
  out.dims = d;
  out.data.resize(static_cast<size_t>(outer * inner));
  const auto* src = static_cast<const uint8_t*>(x.data);
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(out.data.data() + o * inner, src + (o * len + j) * inner,
                static_cast<size_t>(inner));
}

// Stacks one tensor per iteration along `axis`, last iteration first when `reverse`.
OwnedTensor stack(LayerKind kind, std::string_view layer, int r, const Tensor& declared,
                  std::vector<OwnedTensor>& parts, int axis, bool reverse) {
  OwnedTensor out;
  out.type = declared.type();
  const auto n = static_cast<int64_t>(parts.size());
  Dims item = declared.dims();
  if (n > 0) {
    item = parts[0].dims;
  } else {
    for (int d = 0; d < item.rank(); ++d) item[d] = std::max<int64_t>(item[d], 0);
  }
  for (int64_t t = 1; t < n; ++t)
    if (parts[static_cast<size_t>(t)].dims != item)
      fail(kind, layer, "scan output ", r, " ('", declared.name(), "') has dims ", item.to_string(),
           " in iteration 0 but ", parts[static_cast<size_t>(t)].dims.to_string(), " in iteration ",
           t, "; a scan output keeps its dims across iterations");
  out.dims = Dims::of_rank(item.rank() + 1);
  int64_t outer = 1, inner = static_cast<int64_t>(element_size(out.type));
  for (int d = 0, o = 0; d < out.dims.rank(); ++d) {
    if (d == axis) {
      out.dims[d] = n;
      continue;
    }
    out.dims[d] = item[o];
    (d < axis ? outer : inner) *= item[o];
    ++o;
  }
  out.data.resize(static_cast<size_t>(outer * inner * n));
  for (int64_t t = 0; t < n; ++t) {
    const int64_t p = reverse ? n - 1 - t : t;
    const uint8_t* src = parts[static_cast<size_t>(t)].data.data();
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(out.data.data() + (o * n + p) * inner, src + o * inner,
                  static_cast<size_t>(inner));
  }
  return out;
}

std::vector<OwnedTensor> run_loop(const LoopAttrs& a, std::string_view layer,
                                  std::span<const Value> in) {
  constexpr LayerKind kLoop = LayerKind::kLOOP;
  const Network& body = *a.body;
  const int c = a.num_carried;
  const int s = static_cast<int>(a.scan_input_axes.size());
  const int k = static_cast<int>(in.size()) - 2 - c - s;
  const int r = body.num_outputs() - 1 - c;
  int64_t trips = in[0].data ? std::max<int64_t>(load_i(in[0].type, in[0].data, 0), 0) : INT64_MAX;
  bool cond = in[1].data ? truth(in[1]) : true;
  for (int i = 0; i < s; ++i) {
    const Value& x = in[static_cast<size_t>(2 + c + i)];
    trips = std::min(trips, x.dims[a.scan_input_axes[static_cast<size_t>(i)]]);
  }
  std::vector<OwnedTensor> carried;
  for (int i = 0; i < c; ++i) {
    const Value& v = in[static_cast<size_t>(2 + i)];
    OwnedTensor t;
    t.type = v.type;
    t.dims = v.dims;
    const auto* p = static_cast<const uint8_t*>(v.data);
    t.data.assign(p, p + v.bytes());
    carried.push_back(std::move(t));
  }
  std::vector<std::vector<OwnedTensor>> scans(static_cast<size_t>(r));
  std::shared_ptr<Executor> exec;
  std::vector<OwnedTensor> slices(static_cast<size_t>(s));
  for (int64_t t = 0; t < trips && cond; ++t) {
    if (!exec) exec = body_executor(a.body);
    const OwnedTensor iteration = scalar(DataType::kINT64, t);
    const OwnedTensor condition = scalar(DataType::kBOOL, 1);
    std::vector<TensorView> views{view(iteration), view(condition)};
    for (int i = 0; i < c; ++i) {
      check_fits(kLoop, layer, detail::cat("iteration ", t, ": carried value ", i),
                 carried[static_cast<size_t>(i)].dims, *body.input(2 + i));
      views.push_back(view(carried[static_cast<size_t>(i)]));
    }
    for (int i = 0; i < s; ++i) {
      const Value& x = in[static_cast<size_t>(2 + c + i)];
      const int axis = a.scan_input_axes[static_cast<size_t>(i)];
      const bool reverse =
          !a.scan_input_reverse.empty() && a.scan_input_reverse[static_cast<size_t>(i)];
      take_slice(x, axis, reverse ? x.dims[axis] - 1 - t : t, slices[static_cast<size_t>(i)]);
      views.push_back(view(slices[static_cast<size_t>(i)]));
    }
    for (int i = 0; i < k; ++i) views.push_back(view(in[static_cast<size_t>(2 + c + s + i)]));
    std::vector<OwnedTensor> outs = exec->execute(views);
    if (outs[0].dims.volume() != 1)
      fail(kLoop, layer, "iteration ", t, ": the body's condition (output 0, '",
           body.output(0)->name(), "') has dims ", outs[0].dims.to_string(),
           "; it must hold one element");
    cond = load_i(outs[0].type, outs[0].data.data(), 0) != 0;
    for (int i = 0; i < c; ++i)
      carried[static_cast<size_t>(i)] = std::move(outs[static_cast<size_t>(1 + i)]);
    for (int i = 0; i < r; ++i)
      scans[static_cast<size_t>(i)].push_back(std::move(outs[static_cast<size_t>(1 + c + i)]));
  }
  std::vector<OwnedTensor> result = std::move(carried);
  for (int i = 0; i < r; ++i) {
    const int axis = a.scan_output_axes.empty() ? 0 : a.scan_output_axes[static_cast<size_t>(i)];
    const bool reverse =
        !a.scan_output_reverse.empty() && a.scan_output_reverse[static_cast<size_t>(i)];
    result.push_back(stack(kLoop, layer, i, *body.output(1 + c + i), scans[static_cast<size_t>(i)],
                           axis, reverse));
  }
  return result;
}

std::vector<OwnedTensor> run(const LayerAttrs& attrs, std::string_view layer,
                             std::span<const Value> in) {
  if (const auto* c = std::get_if<ConditionalAttrs>(&attrs)) return run_conditional(*c, layer, in);
  return run_loop(std::get<LoopAttrs>(attrs), layer, in);
}

// Note [Body evaluation]: inference at run time computes the outputs; the kernel that follows it
// on the same thread takes them instead of running the bodies again. The key is the layer's
// bodies and name and each input's type, dims and bytes (a hash), so a stale entry never matches
// other inputs.
struct Key {
  std::vector<const Network*> bodies;
  std::string layer;
  std::vector<DataType> types;
  std::vector<Dims> dims;
  uint64_t hash = 0;
  bool operator==(const Key&) const = default;
};

Key make_key(const LayerAttrs& attrs, std::string_view layer, std::span<const Value> in) {
  Key key;
  for (const auto& [label, body] : detail::bodies_of(attrs)) key.bodies.push_back(body);
  key.layer = std::string(layer);
  uint64_t h = 0xcbf29ce484222325ull;
  for (const Value& v : in) {
    key.types.push_back(v.type);
    key.dims.push_back(v.dims);
    const auto* p = static_cast<const uint8_t*>(v.data);
    for (int64_t i = 0, n = v.data ? v.bytes() : 0; i < n; ++i) {
      h ^= p[i];
      h *= 0x100000001b3ull;
    }
    h ^= 0xff;  // separates the inputs
    h *= 0x100000001b3ull;
  }
  key.hash = h;
  return key;
}

struct Cached {
  Key key;
  std::vector<OwnedTensor> values;
};
thread_local std::optional<Cached> t_cached;

std::vector<detail::ValueDesc> evaluate(const LayerAttrs& attrs, std::string_view layer,
                                        std::span<const detail::ValueDesc* const> inputs) {
  std::vector<Value> in;
  for (const detail::ValueDesc* d : inputs)
    in.push_back(d ? Value{d->type, d->dims, d->host_data} : Value{});
  Key key = make_key(attrs, layer, in);
  std::vector<OwnedTensor> values = run(attrs, layer, in);
  std::vector<detail::ValueDesc> descs;
  for (const OwnedTensor& v : values) {
    detail::ValueDesc d{v.type, v.dims, {}, nullptr};
    if ((is_integer(v.type) || v.type == DataType::kBOOL) &&
        v.dims.volume() <= detail::kMaxKnownValues)
      for (int64_t i = 0; i < v.dims.volume(); ++i)
        d.known.emplace_back(load_i(v.type, v.data.data(), i));
    descs.push_back(std::move(d));
  }
  t_cached = Cached{std::move(key), std::move(values)};
  return descs;
}

const bool kEvaluatorRegistered = (detail::set_control_flow_evaluator(&evaluate), true);

void run_kernel(const LayerAttrs& attrs, KernelCtx& ctx) {
  std::vector<Value> in;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) {
      in.emplace_back();
      continue;
    }
    const KernelTensor& t = ctx.input(i);
    in.push_back(Value{t.type, t.dims, t.data});
  }
  Key key = make_key(attrs, ctx.layer_name(), in);
  std::vector<OwnedTensor> values;
  if (t_cached && t_cached->key == key) {
    values = std::move(t_cached->values);
    t_cached.reset();
  } else {
    values = run(attrs, ctx.layer_name(), in);
  }
  LK_ASSERT(static_cast<int>(values.size()) == ctx.num_outputs(), "layer '", ctx.layer_name(),
            "': the bodies gave ", values.size(), " values for ", ctx.num_outputs(), " outputs");
  for (int k = 0; k < ctx.num_outputs(); ++k) {
    const KernelTensor& out = ctx.output(k);
    const OwnedTensor& v = values[static_cast<size_t>(k)];
    if (out.dims != v.dims || out.type != v.type)
      ctx.fail("output ", k, " was sized ", data_type_name(out.type), out.dims.to_string(),
               " but the bodies gave ", data_type_name(v.type), v.dims.to_string());
    if (!v.data.empty()) std::memcpy(out.data, v.data.data(), v.data.size());
  }
}

}  // namespace

BodyKernelsScope::BodyKernelsScope(bool reference_only) : saved_(t_reference_only) {
  t_reference_only = reference_only;
}
BodyKernelsScope::~BodyKernelsScope() {
  t_reference_only = saved_;
}
bool BodyKernelsScope::reference_only() {
  return t_reference_only;
}

void run_reference(const ConditionalAttrs& a, KernelCtx& ctx) {
  (void)kEvaluatorRegistered;
  run_kernel(a, ctx);
}
void run_reference(const LoopAttrs& a, KernelCtx& ctx) {
  run_kernel(a, ctx);
}

}  // namespace layerkit::cpu
