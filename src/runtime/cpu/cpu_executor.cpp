// The CPU executor: resolves shapes layer by layer at run time and runs each layer's kernel.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "layerkit/core/size.h"
#include "layerkit/network/network.h"
#include "layerkit/runtime/backend.h"
#include "network/infer.h"
#include "runtime/cpu/fusion.h"
#include "runtime/cpu/impl_list.h"
#include "runtime/cpu/kernel.h"

namespace layerkit {
namespace cpu {
namespace {

struct Buffer {
  HostTensor tensor;
  std::vector<uint8_t> storage;
  detail::ValueDesc desc;  // what inference of later layers sees
};

// The implementations chosen for one layer, one per set of resolved dims and types it ran with,
// so a dynamic shape seen again reuses its choice (and its pre-packed weights).
struct LayerChoices {
  struct Choice {
    std::vector<Dims> dims;  // inputs then outputs (absent inputs: rank 0)
    std::vector<DataType> types;
    std::string_view name;
    std::unique_ptr<LayerImpl> impl;
  };
  // Bounded so a long stream of distinct shapes does not grow memory without limit.
  static constexpr size_t kMaxChoices = 8;
  std::vector<Choice> choices;  // most recently made last
  // What ran the layer in the latest run: the implementation, and for a fusion group's anchor
  // the layers fused into it; "fused into '<anchor>'" for a step. Empty before a run.
  std::string last;
};

// Fills `desc.known` from the data for small integer tensors, so shape inputs resolve at run time.
void describe(Buffer& b) {
  b.desc.type = b.tensor.type;
  b.desc.dims = b.tensor.dims;
  b.desc.host_data = b.tensor.data;
  b.desc.known.clear();
  DataType t = b.tensor.type;
  int64_t n = b.tensor.numel();
  if ((is_integer(t) || t == DataType::kBOOL) && n <= detail::kMaxKnownValues) {
    for (int64_t i = 0; i < n; ++i) b.desc.known.emplace_back(load_i(b.tensor, i));
  }
}

// Storage of released activation buffers, handed out again by size (best fit), so a run touches
// memory that recent layers left in cache and the resident size follows the live tensors rather
// than all of them.
class StoragePool {
 public:
  std::vector<uint8_t> take(size_t bytes) {
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if (it->capacity() >= bytes && (best == free_.end() || it->capacity() < best->capacity()))
        best = it;
    if (best == free_.end()) return {};
    std::vector<uint8_t> v = std::move(*best);
    free_.erase(best);
    return v;
  }
  void give(std::vector<uint8_t>&& v) {
    if (v.capacity() > 0) free_.push_back(std::move(v));
  }

 private:
  std::vector<std::vector<uint8_t>> free_;
};

// Kernel inputs of a fused anchor: the layer's inputs, absent ones up to this count (so kernels
// that test has_input(i) see the layer's own inputs only), then the post-ops' side operands.
constexpr size_t kSideInputBase = 3;

class CpuExecutor final : public Executor {
 public:
  CpuExecutor(const Network& net, const ExecutorOptions& options)
      : net_(net),
        options_(options),
        choices_(static_cast<size_t>(net.num_layers())),
        deferred_(static_cast<size_t>(net.num_layers()), false),
        group_at_(static_cast<size_t>(net.num_layers()), -1),
        release_at_(static_cast<size_t>(net.num_layers())) {
    LK_CHECK(options.num_threads >= 1, "CPU executor: num_threads is ", options.num_threads,
             "; it must be at least 1");
    for (int i = 0; i < net.num_layers(); ++i) {
      layer_index_[net.layer(i)] = i;
      for (Tensor* t : net.layer(i)->outputs()) {
        constant_.push_back(net.layer(i)->kind() == LayerKind::kCONSTANT);
        index_[t] = static_cast<int>(index_.size());
      }
    }
    buffers_.resize(index_.size());
    if (!options.reference_kernels_only) plan_groups();
    plan_lifetimes();
    set_threads();
    // Constants are materialised once.
    for (int i = 0; i < net.num_layers(); ++i) {
      const Layer* l = net.layer(i);
      if (l->kind() != LayerKind::kCONSTANT) continue;
      run_layer(*l);
    }
  }

  DeviceType device() const override { return DeviceType::kCPU; }

  std::vector<OwnedTensor> execute(std::span<const TensorView> inputs) override {
    LK_CHECK(static_cast<int>(inputs.size()) == net_.num_inputs(), "execute: expected ",
             net_.num_inputs(), " inputs, got ", inputs.size());
    set_threads();
    for (int i = 0; i < net_.num_inputs(); ++i) {
      const TensorView& v = inputs[static_cast<size_t>(i)];
      const Tensor* t = net_.input(i);
      LK_CHECK(v.device == DeviceType::kCPU, "input '", t->name(), "' is on ",
               device_type_name(v.device), "; the CPU engine takes host buffers");
      LK_CHECK(v.type == t->type(), "input '", t->name(), "' has type ", data_type_name(v.type),
               ", the network declares ", data_type_name(t->type()));
      LK_CHECK(v.dims.is_static(), "input '", t->name(), "' has unresolved dims ",
               v.dims.to_string());
      Buffer& b = buffers_[static_cast<size_t>(index_.at(t))];
      allocate(b, v.type, v.dims, t);
      LK_CHECK(v.data != nullptr || v.dims.volume() == 0, "input '", t->name(), "' has no data");
      unpack(v.type, v.data, b.tensor.data, v.dims.volume());
      describe(b);
    }
    for (int i = 0; i < net_.num_layers(); ++i) {
      const Layer* l = net_.layer(i);
      const auto u = static_cast<size_t>(i);
      if (deferred_[u]) continue;
      if (l->kind() != LayerKind::kINPUT && l->kind() != LayerKind::kCONSTANT) {
        const int g = group_at_[u];
        if (g >= 0) {
          run_group(groups_[static_cast<size_t>(g)]);
        } else {
          run_timed(i);
        }
      }
      for (int b : release_at_[u]) release(buffers_[static_cast<size_t>(b)]);
    }
    std::vector<OwnedTensor> outs;
    for (int i = 0; i < net_.num_outputs(); ++i) {
      const Buffer& b = buffers_[static_cast<size_t>(index_.at(net_.output(i)))];
      OwnedTensor o;
      o.type = b.tensor.type;
      o.dims = b.tensor.dims;
      allocate_host(o.data, packed_bytes(o.type, o.dims.volume()),
                    detail::cat("output '", net_.output(i)->name(), "'"));
      pack(o.type, b.tensor.data, o.data.data(), o.dims.volume());
      outs.push_back(std::move(o));
    }
    return outs;
  }

  void set_profiling(bool on) override {
    if (on && !profiling_) {
      records_.assign(static_cast<size_t>(net_.num_layers()), {});
      for (int i = 0; i < net_.num_layers(); ++i) {
        records_[static_cast<size_t>(i)].name = net_.layer(i)->name();
        records_[static_cast<size_t>(i)].kind = net_.layer(i)->kind();
      }
    }
    profiling_ = on;
  }

  std::vector<LayerProfile> profile() const override {
    std::vector<LayerProfile> out;
    for (const LayerProfile& r : records_)
      if (r.calls > 0) out.push_back(r);
    return out;
  }

  std::string_view implementation(int layer) const override {
    LK_CHECK(layer >= 0 && layer < net_.num_layers(), "implementation: layer index ", layer,
             " is out of range [0, ", net_.num_layers(), ")");
    return choices_[static_cast<size_t>(layer)].last;
  }

 private:
  Buffer& buffer(const Tensor* t) { return buffers_[static_cast<size_t>(index_.at(t))]; }

  // The layer's input tensors (null for absent ones).
  std::vector<const HostTensor*> inputs_of(const Layer& l) {
    std::vector<const HostTensor*> ins;
    for (Tensor* t : l.inputs()) ins.push_back(t ? &buffer(t).tensor : nullptr);
    return ins;
  }

  // Output descriptions of `l` at run time; input `replaced` (if any) is described by `with`.
  std::vector<detail::ValueDesc> infer(const Layer& l, int replaced = -1,
                                       const detail::ValueDesc* with = nullptr) {
    std::vector<const detail::ValueDesc*> descs;
    for (size_t k = 0; k < l.inputs().size(); ++k) {
      const Tensor* t = l.inputs()[k];
      descs.push_back(static_cast<int>(k) == replaced ? with : t ? &buffer(t).desc : nullptr);
    }
    std::vector<detail::ValueDesc> outs = detail::infer_layer(l.attrs(), l.name(), descs, true);
    LK_ASSERT(static_cast<int>(outs.size()) == l.num_outputs());
    return outs;
  }

  // Storage for tensor `t` (Note [Size arithmetic]: inference checked that its bytes are
  // representable; a request beyond the host's memory is kOUT_OF_MEMORY naming `t`).
  void allocate(Buffer& b, DataType type, const Dims& dims, const Tensor* t) {
    b.tensor.type = type;
    b.tensor.dims = dims;
    const int64_t n = dims.volume();
    LK_ASSERT(n >= 0, "unresolved dims ", dims.to_string(), " at run time");
    const auto bytes = static_cast<size_t>(n * element_size(type));
    if (b.storage.capacity() < bytes) {
      pool_.give(std::move(b.storage));
      b.storage = pool_.take(bytes);
    }
    if (b.storage.capacity() < bytes) {
      const std::string what =
          detail::cat("tensor '", t->name(), "' ", data_type_name(type), dims.to_string());
      check_host_allocation(static_cast<int64_t>(bytes), what);
      try {
        b.storage.assign(bytes, 0);
      } catch (const std::bad_alloc&) {
        throw_out_of_memory(static_cast<int64_t>(bytes), what);
      }
    } else {
      b.storage.assign(bytes, 0);
    }
    b.tensor.data = b.storage.data();
  }

  void release(Buffer& b) {
    pool_.give(std::move(b.storage));
    b.storage = {};
    b.tensor.data = nullptr;
    b.desc.host_data = nullptr;
  }

  // Runs layer i, adding its time to its profile record when profiling.
  void run_timed(int i) {
    const auto start = std::chrono::steady_clock::now();
    run_layer(*net_.layer(i));
    if (profiling_) record(i, start);
  }

  // A fused group's time and implementation go to its anchor's record.
  void record(int layer, std::chrono::steady_clock::time_point start) {
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    LayerProfile& rec = records_[static_cast<size_t>(layer)];
    rec.total_ms += took.count();
    ++rec.calls;
    rec.implementation = choices_[static_cast<size_t>(layer)].last;
  }

  void run_layer(const Layer& l) {
    std::vector<const HostTensor*> ins = inputs_of(l);
    std::vector<detail::ValueDesc> outs = infer(l);
    std::vector<HostTensor*> out_tensors;
    for (int k = 0; k < l.num_outputs(); ++k) {
      Buffer& b = buffers_[static_cast<size_t>(index_.at(l.output(k)))];
      allocate(b, outs[static_cast<size_t>(k)].type, outs[static_cast<size_t>(k)].dims,
               l.output(k));
      out_tensors.push_back(&b.tensor);
    }
    KernelCtx ctx(l.name(), l.kind(), ins, out_tensors, options_.num_threads,
                  options_.communicator.get());
    LayerChoices& lc = choices_[static_cast<size_t>(layer_index_.at(&l))];
    LayerImpl& impl = choose(l, lc, ins, out_tensors, {});
    impl.run(ctx);
    for (int k = 0; k < l.num_outputs(); ++k)
      describe(buffers_[static_cast<size_t>(index_.at(l.output(k)))]);
  }

  // The implementation for the layer's current dims and types: a cached choice, else the first
  // entry of the kind's list that accepts them.
  // With post-ops, `ins` holds the layer's inputs only; the side operands are the ops' own.
  LayerImpl& choose(const Layer& l, LayerChoices& lc, std::span<const HostTensor* const> ins,
                    std::span<HostTensor* const> outs, std::span<const PostOp> post_ops) {
    std::vector<Dims> dims;
    std::vector<DataType> types;
    for (const HostTensor* t : ins) {
      dims.push_back(t ? t->dims : Dims{});
      types.push_back(t ? t->type : DataType::kBOOL);
    }
    for (const HostTensor* t : outs) {
      dims.push_back(t->dims);
      types.push_back(t->type);
    }
    // Post-ops are fixed per layer; what varies is whether the layer ran fused and the sides' dims.
    types.push_back(post_ops.empty() ? DataType::kBOOL : DataType::kFLOAT);
    for (const PostOp& op : post_ops) dims.push_back(op.side ? op.side->dims : Dims{});
    for (LayerChoices::Choice& c : lc.choices)
      if (c.dims == dims && c.types == types) {
        lc.last = c.name;
        return *c.impl;
      }
    // A plain array, since vector<bool> has no contiguous storage for the span.
    const size_t n_in = l.inputs().size();
    std::unique_ptr<bool[]> constant(new bool[n_in]);
    for (size_t k = 0; k < n_in; ++k) {
      const Tensor* t = l.inputs()[k];
      constant[k] = t && constant_[static_cast<size_t>(index_.at(t))];
    }
    ImplProblem p;
    p.layer_name = l.name();
    p.attrs = &l.attrs();
    p.inputs = ins;
    p.constant_inputs = std::span<const bool>(constant.get(), n_in);
    p.outputs = outs;
    p.num_threads = options_.num_threads;
    p.post_ops = post_ops;
    for (const ImplEntry& e : implementations(l.kind(), options_.reference_kernels_only)) {
      std::unique_ptr<LayerImpl> impl = e.create(p);
      if (!impl) continue;
      if (lc.choices.size() >= LayerChoices::kMaxChoices) lc.choices.erase(lc.choices.begin());
      lc.choices.push_back({std::move(dims), std::move(types), e.name, std::move(impl)});
      lc.last = e.name;
      return *lc.choices.back().impl;
    }
    LK_FAIL(kINTERNAL, "layer '", l.name(), "': no CPU implementation accepted it");
  }

  // Note [Fusion groups]: the anchor and every step but the last are deferred to the last step's
  // position, where the group runs.
  void plan_groups() {
    groups_ = plan_fusion(net_);
    for (size_t g = 0; g < groups_.size(); ++g) {
      const FusionGroup& fg = groups_[g];
      deferred_[static_cast<size_t>(fg.anchor)] = true;
      for (size_t k = 0; k + 1 < fg.steps.size(); ++k)
        deferred_[static_cast<size_t>(fg.steps[k].layer)] = true;
      group_at_[static_cast<size_t>(fg.steps.back().layer)] = static_cast<int>(g);
      std::string label = " fused with";
      for (size_t k = 0; k < fg.steps.size(); ++k)
        label += (k ? ", '" : " '") + net_.layer(fg.steps[k].layer)->name() + "'";
      group_labels_.push_back(std::move(label));
      step_labels_.push_back("fused into '" + net_.layer(fg.anchor)->name() + "'");
    }
  }

  // Each buffer is released after the position (a layer, or the group it belongs to) that reads
  // it last; network outputs and constants are kept.
  void plan_lifetimes() {
    std::vector<int> position(static_cast<size_t>(net_.num_layers()));
    for (int i = 0; i < net_.num_layers(); ++i) position[static_cast<size_t>(i)] = i;
    for (const FusionGroup& g : groups_) {
      position[static_cast<size_t>(g.anchor)] = g.steps.back().layer;
      for (const FusedStep& s : g.steps)
        position[static_cast<size_t>(s.layer)] = g.steps.back().layer;
    }
    std::vector<int> last_use(buffers_.size(), -1);
    for (int i = 0; i < net_.num_layers(); ++i) {
      const Layer* l = net_.layer(i);
      const int pos = position[static_cast<size_t>(i)];
      for (const Tensor* t : l->outputs()) {
        int& u = last_use[static_cast<size_t>(index_.at(t))];
        u = std::max(u, pos);
      }
      for (const Tensor* t : l->inputs())
        if (t) {
          int& u = last_use[static_cast<size_t>(index_.at(t))];
          u = std::max(u, pos);
        }
    }
    for (int i = 0; i < net_.num_outputs(); ++i)
      last_use[static_cast<size_t>(index_.at(net_.output(i)))] = -1;
    for (size_t b = 0; b < buffers_.size(); ++b)
      if (last_use[b] >= 0 && !constant_[b])
        release_at_[static_cast<size_t>(last_use[b])].push_back(static_cast<int>(b));
  }

  // Runs a fusion group as one kernel (the anchor with post-ops, or for a pointwise anchor the
  // whole chain blockwise); when this run's shapes do not allow it, runs its layers one by one.
  void run_group(const FusionGroup& g) {
    const auto start = std::chrono::steady_clock::now();
    const Layer& a = *net_.layer(g.anchor);
    detail::ValueDesc chain = infer(a).at(0);
    const Dims dims = chain.dims;
    bool fusable = chain.type == DataType::kFLOAT;
    std::vector<const HostTensor*> ins = inputs_of(a);
    const size_t num_layer_inputs = ins.size();
    ins.resize(std::max(ins.size(), kSideInputBase), nullptr);
    std::vector<PostOp> ops;
    for (const FusedStep& s : g.steps) {
      const Layer& l = *net_.layer(s.layer);
      detail::ValueDesc out = infer(l, s.chain_input, &chain).at(0);
      fusable = fusable && out.type == DataType::kFLOAT && out.dims == dims;
      PostOp op;
      if (l.kind() == LayerKind::kACTIVATION) {
        op.activation = l.attrs<ActivationAttrs>();
      } else {
        const HostTensor& side = buffer(l.input(1 - s.chain_input)).tensor;
        std::optional<BroadcastView> view = one_sided(side.dims, dims);
        fusable = fusable && view && side.type == DataType::kFLOAT;
        op.kind = PostOp::Kind::kBINARY;
        op.op = l.attrs<ElementWiseAttrs>().op;
        op.chain_is_lhs = s.chain_input == 0;
        op.side = &side;
        op.view = view.value_or(BroadcastView{});
        op.input = static_cast<int>(ins.size());
        ins.push_back(&side);
      }
      ops.push_back(op);
      chain = std::move(out);
    }
    if (!fusable) {  // each layer is timed (and recorded) on its own
      run_timed(g.anchor);
      for (const FusedStep& s : g.steps) run_timed(s.layer);
      return;
    }
    const Tensor* out_tensor = net_.layer(g.steps.back().layer)->output(0);
    Buffer& out = buffer(out_tensor);
    allocate(out, DataType::kFLOAT, dims, out_tensor);
    float* y = out.tensor.as<float>();
    const int64_t n = dims.volume();
    LayerChoices& lc = choices_[static_cast<size_t>(g.anchor)];
    if (std::optional<PostOp> first = pointwise_anchor_op(a, ins, dims)) {
      // Source: the activation's input, or the ElementWise operand that covers the output.
      const int src = first->kind == PostOp::Kind::kACTIVATION ? 0 : first->chain_is_lhs ? 0 : 1;
      ops.insert(ops.begin(), *first);
      apply_post_ops(ins[static_cast<size_t>(src)]->as<float>(), y, n, ops, options_.num_threads);
      lc.last = "vectorized chain";
    } else {
      std::vector<HostTensor*> outs{&out.tensor};
      KernelCtx ctx(a.name(), a.kind(), ins, outs, options_.num_threads,
                    options_.communicator.get());
      LayerImpl& impl = choose(
          a, lc, std::span<const HostTensor* const>(ins.data(), num_layer_inputs), outs, ops);
      impl.run(ctx);
      if (const auto done = static_cast<size_t>(impl.post_ops_handled()); done < ops.size()) {
        apply_post_ops(y, y, n, std::span<const PostOp>(ops).subspan(done), options_.num_threads);
        lc.last += " + vectorized chain";
      }
    }
    lc.last += group_labels_[static_cast<size_t>(&g - groups_.data())];
    for (const FusedStep& s : g.steps)
      choices_[static_cast<size_t>(s.layer)].last =
          step_labels_[static_cast<size_t>(&g - groups_.data())];
    describe(out);
    if (profiling_) record(g.anchor, start);
  }

  // A pointwise anchor as the first op of its chain: an Activation, or an arithmetic ElementWise
  // with one operand covering the output and the other broadcasting one-sidedly into it.
  static std::optional<PostOp> pointwise_anchor_op(const Layer& a,
                                                   std::span<const HostTensor* const> ins,
                                                   const Dims& dims) {
    PostOp op;
    if (a.kind() == LayerKind::kACTIVATION) {
      op.activation = a.attrs<ActivationAttrs>();
      return op;
    }
    if (a.kind() != LayerKind::kELEMENTWISE) return std::nullopt;
    const int full = ins[0]->dims == dims ? 0 : ins[1]->dims == dims ? 1 : -1;
    if (full < 0) return std::nullopt;
    const HostTensor& side = *ins[static_cast<size_t>(1 - full)];
    std::optional<BroadcastView> view = one_sided(side.dims, dims);
    if (!view) return std::nullopt;
    op.kind = PostOp::Kind::kBINARY;
    op.op = a.attrs<ElementWiseAttrs>().op;
    op.chain_is_lhs = full == 0;
    op.side = &side;
    op.view = *view;
    op.input = 1 - full;
    return op;
  }

  // oneDNN (built on OpenMP) and the OpenMP-parallel fast kernels read the calling thread's
  // OpenMP thread count, both when a primitive is made and when it runs.
  void set_threads() const { omp_set_num_threads(options_.num_threads); }

  const Network& net_;
  ExecutorOptions options_;
  std::vector<LayerChoices> choices_;  // indexed like the network's layers
  std::map<const Layer*, int> layer_index_;
  std::vector<bool> constant_;  // per buffer: produced by a Constant layer
  std::map<const Tensor*, int> index_;
  std::vector<Buffer> buffers_;
  StoragePool pool_;
  std::vector<FusionGroup> groups_;
  // Per group, built once: the anchor's label suffix (" fused with '<step>', ...") and the steps'.
  std::vector<std::string> group_labels_, step_labels_;
  std::vector<bool> deferred_;                // per layer: runs later, with its fusion group
  std::vector<int> group_at_;                 // per layer: the group that runs at it, or -1
  std::vector<std::vector<int>> release_at_;  // per layer: buffers to release after it
  bool profiling_ = false;
  std::vector<LayerProfile> records_;  // indexed like the network's layers
};

}  // namespace
}  // namespace cpu

namespace cpu {
namespace {

class CpuBackend final : public Backend {
 public:
  DeviceType device() const override { return DeviceType::kCPU; }
  std::string_view name() const override { return "cpu"; }
  std::string unavailable_reason(int) const override { return {}; }
  // Every kind has a CPU kernel (the reference at least).
  Support supports(LayerKind, std::span<const DataType>) const override {
    return Support::kSUPPORTED;
  }
  std::unique_ptr<Executor> make_executor(const Network& network,
                                          const ExecutorOptions& options) const override {
    return std::make_unique<CpuExecutor>(network, options);
  }
};

}  // namespace

const Backend& cpu_backend() {
  static const CpuBackend b;
  return b;
}

}  // namespace cpu
}  // namespace layerkit
