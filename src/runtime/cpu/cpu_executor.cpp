// The CPU engine state and executor: the state (one per engine) holds the network's analysis,
// the constants and the kernels chosen per layer and shape; each context's executor resolves
// shapes layer by layer at run time and runs the shared kernels (Note [Engine state]).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>

#include "layerkit/core/size.h"
#include "layerkit/network/network.h"
#include "layerkit/runtime/backend.h"
#include "network/infer.h"
#include "runtime/cpu/control_flow.h"
#include "runtime/cpu/fusion.h"
#include "runtime/cpu/kernel.h"
#include "runtime/cpu/kernel_list.h"
#include "runtime/plan.h"

namespace layerkit {
namespace cpu {
namespace {

struct Buffer {
  KernelTensor tensor;
  std::vector<uint8_t> storage;
  detail::ValueDesc desc;  // what inference of later layers sees
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
  uint64_t bytes() const {
    uint64_t n = 0;
    for (const std::vector<uint8_t>& v : free_) n += v.capacity();
    return n;
  }

 private:
  std::vector<std::vector<uint8_t>> free_;
};

// Kernel inputs of a fused anchor: the layer's inputs, absent ones up to this count (so kernels
// that test has_input(i) see the layer's own inputs only), then the post-ops' side operands.
constexpr size_t kSideInputBase = 3;

// Outputs handed to the caller's memory are aligned at least this much (what std::vector gives,
// as the executor's own buffers).
constexpr uint64_t kOutputAlignment = 16;

// The kernels chosen for one layer, one per set of resolved dims and types it ran with, so a
// dynamic shape seen again reuses its choice (and its pre-packed weights). Shared by every
// context of the engine (Note [Engine state]); a choice is held by shared_ptr, so one evicted
// while another context runs it stays alive until that run ends.
struct LayerChoices {
  struct Choice {
    std::vector<Dims> dims;  // inputs then outputs (absent inputs: rank 0)
    std::vector<DataType> types;
    std::string_view name;
    std::shared_ptr<const Kernel> kernel;
  };
  // Bounded so a long stream of distinct shapes does not grow memory without limit.
  static constexpr size_t kMaxChoices = 8;
  std::vector<Choice> choices;  // most recently made last
};

// One chosen kernel, as a context holds it while it runs the layer.
struct Chosen {
  std::string_view name;
  std::shared_ptr<const Kernel> kernel;
};

class CpuState final : public EngineState, public std::enable_shared_from_this<CpuState> {
 public:
  CpuState(const Network& net, const ExecutorOptions& options)
      : net_(net),
        options_(options),
        deferred_(static_cast<size_t>(net.num_layers()), false),
        group_at_(static_cast<size_t>(net.num_layers()), -1),
        release_at_(static_cast<size_t>(net.num_layers())) {
    LK_CHECK(options.num_threads >= 1 && options.num_threads <= kMaxNumThreads,
             "CPU executor: num_threads is ", options.num_threads, "; it must be between 1 and ",
             kMaxNumThreads, " (kMaxNumThreads)");
    for (int i = 0; i < net.num_layers(); ++i) {
      layer_index_[net.layer(i)] = i;
      for (Tensor* t : net.layer(i)->outputs()) {
        constant_.push_back(net.layer(i)->kind() == LayerKind::kCONSTANT);
        index_[t] = static_cast<int>(index_.size());
      }
    }
    output_of_.assign(index_.size(), -1);
    for (int k = 0; k < net.num_outputs(); ++k) {
      int& o = output_of_[static_cast<size_t>(index_.at(net.output(k)))];
      if (o < 0) o = k;
    }
    if (!options.reference_kernels_only) plan_groups();
    plan_lifetimes();
    plan_arena();
    materialise_constants();
  }

  std::unique_ptr<Executor> make_executor() const override;

  uint64_t arena_bytes() const override { return arena_size_; }

  uint64_t weights_bytes() const override {
    uint64_t bytes = 0;
    for (const Buffer& b : constants_) bytes += b.storage.size();
    std::lock_guard<std::mutex> lock(mutex_);
    for (const LayerChoices& lc : choices_)
      for (const LayerChoices::Choice& c : lc.choices) bytes += c.kernel->prepared_bytes();
    return bytes;
  }

  // The kernel for `l` at the dims and types of `ins`/`outs` (and `post_ops`): a cached choice,
  // else the first entry of the kind's list that accepts them, made under the lock.
  Chosen choose(const Layer& l, std::span<const KernelTensor* const> ins,
                std::span<KernelTensor* const> outs, std::span<const PostOp> post_ops) const {
    std::vector<Dims> dims;
    std::vector<DataType> types;
    for (const KernelTensor* t : ins) {
      dims.push_back(t ? t->dims : Dims{});
      types.push_back(t ? t->type : DataType::kBOOL);
    }
    for (const KernelTensor* t : outs) {
      dims.push_back(t->dims);
      types.push_back(t->type);
    }
    // Post-ops are fixed per layer; what varies is whether the layer ran fused and the sides' dims.
    types.push_back(post_ops.empty() ? DataType::kBOOL : DataType::kFLOAT);
    for (const PostOp& op : post_ops) dims.push_back(op.side ? op.side->dims : Dims{});
    std::lock_guard<std::mutex> lock(mutex_);
    LayerChoices& lc = choices_[static_cast<size_t>(layer_index_.at(&l))];
    for (const LayerChoices::Choice& c : lc.choices)
      if (c.dims == dims && c.types == types) return {c.name, c.kernel};
    // A plain array, since vector<bool> has no contiguous storage for the span.
    const size_t n_in = l.inputs().size();
    std::unique_ptr<bool[]> constant(new bool[n_in]);
    for (size_t k = 0; k < n_in; ++k) {
      const Tensor* t = l.inputs()[k];
      constant[k] = t && constant_[static_cast<size_t>(index_.at(t))];
    }
    KernelProblem p;
    p.layer_name = l.name();
    p.attrs = &l.attrs();
    p.inputs = ins;
    p.constant_inputs = std::span<const bool>(constant.get(), n_in);
    p.outputs = outs;
    p.num_threads = options_.num_threads;
    p.post_ops = post_ops;
    for (const KernelEntry& e : kernels(l.kind(), options_.reference_kernels_only)) {
      std::unique_ptr<Kernel> kernel = e.create(p);
      if (!kernel) continue;
      if (lc.choices.size() >= LayerChoices::kMaxChoices) lc.choices.erase(lc.choices.begin());
      lc.choices.push_back({std::move(dims), std::move(types), e.name, std::move(kernel)});
      return {e.name, lc.choices.back().kernel};
    }
    LK_FAIL(kINTERNAL, "layer '", l.name(), "': no CPU implementation accepted it");
  }

  const Network& net_;
  const ExecutorOptions options_;
  std::map<const Layer*, int> layer_index_;
  std::map<const Tensor*, int> index_;  // buffer of each tensor
  std::vector<bool> constant_;          // per buffer: produced by a Constant layer
  std::vector<int> output_of_;          // per buffer: the engine output it is (first), or -1
  std::vector<FusionGroup> groups_;
  // Per group, built once: the anchor's label suffix (" fused with '<step>', ...") and the steps'.
  std::vector<std::string> group_labels_, step_labels_;
  std::vector<bool> deferred_;                // per layer: runs later, with its fusion group
  std::vector<int> group_at_;                 // per layer: the group that runs at it, or -1
  std::vector<std::vector<int>> release_at_;  // per layer: buffers to release after it
  std::vector<int> position_;                 // per layer: where it runs
  // Per buffer: its offset and planned bytes in a context's arena (Engine::device_memory_size);
  // -1 for buffers that never live there (inputs, constants, engine outputs).
  std::vector<int64_t> arena_offset_, arena_bytes_;
  uint64_t arena_size_ = 0;
  std::vector<Buffer> constants_;  // per buffer; filled for constants only

 private:
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
    position_.resize(static_cast<size_t>(net_.num_layers()));
    for (int i = 0; i < net_.num_layers(); ++i) position_[static_cast<size_t>(i)] = i;
    for (const FusionGroup& g : groups_) {
      position_[static_cast<size_t>(g.anchor)] = g.steps.back().layer;
      for (const FusedStep& s : g.steps)
        position_[static_cast<size_t>(s.layer)] = g.steps.back().layer;
    }
    std::vector<int> last_use(index_.size(), -1);
    for (int i = 0; i < net_.num_layers(); ++i) {
      const Layer* l = net_.layer(i);
      const int pos = position_[static_cast<size_t>(i)];
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
    for (size_t b = 0; b < index_.size(); ++b)
      if (last_use[b] >= 0 && !constant_[b])
        release_at_[static_cast<size_t>(last_use[b])].push_back(static_cast<int>(b));
  }

  // The arena: the memory plan (plan::plan_memory, with this executor's positions) at the
  // largest dims each tensor has at any profile's max shapes. Engine inputs and outputs live in
  // the caller's memory and constants in this state, so they take no room.
  void plan_arena() {
    std::map<const Tensor*, Dims> largest;
    for (const std::map<const Tensor*, Dims>& dims : options_.arena_dims)
      for (const auto& [t, d] : dims) {
        auto it = largest.find(t);
        if (it == largest.end() || (d.is_static() && d.volume() > it->second.volume()))
          largest[t] = d;
      }
    for (int i = 0; i < net_.num_layers(); ++i)
      for (const Tensor* t : net_.layer(i)->outputs())
        if (t->is_network_output()) largest[t] = Dims{0};
    const MemoryPlan plan = plan::plan_memory(net_, largest, position_);
    arena_offset_.assign(index_.size(), -1);
    arena_bytes_.assign(index_.size(), 0);
    std::map<std::string_view, const MemoryPlan::Assignment*> by_name;
    for (const MemoryPlan::Assignment& a : plan.assignments) by_name[a.tensor] = &a;
    for (const auto& [t, b] : index_) {
      auto it = by_name.find(t->name());
      if (it == by_name.end() || it->second->bytes <= 0) continue;
      arena_offset_[static_cast<size_t>(b)] = it->second->offset;
      arena_bytes_[static_cast<size_t>(b)] = it->second->bytes;
    }
    arena_size_ = static_cast<uint64_t>(plan.peak_bytes_planned);
  }

  // Constants are materialised once, with their reference kernel, for every context.
  void materialise_constants() {
    constants_.resize(index_.size());
    for (int i = 0; i < net_.num_layers(); ++i) {
      const Layer& l = *net_.layer(i);
      if (l.kind() != LayerKind::kCONSTANT) continue;
      std::vector<detail::ValueDesc> outs = detail::infer_layer(l.attrs(), l.name(), {}, true);
      Buffer& b = constants_[static_cast<size_t>(index_.at(l.output(0)))];
      b.tensor.type = outs.at(0).type;
      b.tensor.dims = outs.at(0).dims;
      const Weights& w = l.attrs<ConstantAttrs>().weights;
      if (!is_sub_byte(w.type())) {
        // The network's bytes are already the host representation: read them where they are
        // (the engine keeps its network alive for as long as its state), no second copy.
        b.tensor.data = const_cast<void*>(w.data());
        describe(b);
        continue;
      }
      // Note [Size arithmetic]: a constant beyond the host's memory is kOUT_OF_MEMORY naming it.
      allocate_host(b.storage, b.tensor.numel() * element_size(b.tensor.type),
                    detail::cat("constant '", l.output(0)->name(), "' ",
                                data_type_name(b.tensor.type), b.tensor.dims.to_string()));
      b.tensor.data = b.storage.data();
      std::vector<KernelTensor*> out_tensors{&b.tensor};
      KernelCtx ctx(l.name(), l.kind(), {}, out_tensors, 1, nullptr);
      run_reference(l.attrs<ConstantAttrs>(), ctx);
      describe(b);
    }
  }

  mutable std::mutex mutex_;                    // guards choices_
  mutable std::vector<LayerChoices> choices_ =  // indexed like the network's layers
      std::vector<LayerChoices>(static_cast<size_t>(net_.num_layers()));
};

class CpuExecutor final : public Executor {
 public:
  explicit CpuExecutor(std::shared_ptr<const CpuState> state)
      : state_(std::move(state)),
        s_(*state_),
        net_(s_.net_),
        options_(s_.options_),
        buffers_(s_.index_.size()),
        last_(static_cast<size_t>(net_.num_layers())),
        bound_(static_cast<size_t>(net_.num_outputs())),
        allocated_(static_cast<size_t>(net_.num_outputs()), nullptr) {
    // Constants are the state's: a context reads them where they are.
    for (size_t b = 0; b < buffers_.size(); ++b)
      if (s_.constant_[b]) {
        buffers_[b].tensor = s_.constants_[b].tensor;
        buffers_[b].desc = s_.constants_[b].desc;
      }
  }

  DeviceType device() const override { return DeviceType::kCPU; }
  const Network& network() const override { return net_; }

  void enqueue(std::span<const TensorView> inputs, std::span<const OutputBinding> outputs,
               void* stream) override {
    LK_CHECK(stream == nullptr,
             "enqueue: the CPU engine runs on the calling thread and takes no "
             "stream (got ",
             stream, ")");
    LK_CHECK(static_cast<int>(inputs.size()) == net_.num_inputs(), "execute: expected ",
             net_.num_inputs(), " inputs, got ", inputs.size());
    LK_CHECK(static_cast<int>(outputs.size()) == net_.num_outputs(), "execute: expected ",
             net_.num_outputs(), " output bindings, got ", outputs.size());
    for (size_t k = 0; k < outputs.size(); ++k) {
      const OutputBinding& o = outputs[k];
      LK_CHECK(o.data != nullptr || o.allocator != nullptr, "output '",
               net_.output(static_cast<int>(k))->name(), "' has neither memory nor an allocator");
      LK_CHECK(o.device == DeviceType::kCPU, "output '", net_.output(static_cast<int>(k))->name(),
               "' is bound to ", device_type_name(o.device),
               " memory; the CPU engine writes host memory");
    }
    for (size_t k = 0; k < outputs.size(); ++k)
      if (outputs[k].allocator != bound_[k].allocator) allocated_[k] = nullptr;  // a new allocator
    bound_.assign(outputs.begin(), outputs.end());
    placed_.assign(bound_.size(), nullptr);
    output_dims_.clear();
    set_threads();
    const BodyKernelsScope body_kernels(options_.reference_kernels_only);
    for (int i = 0; i < net_.num_inputs(); ++i) {
      const TensorView& v = inputs[static_cast<size_t>(i)];
      const Tensor* t = net_.input(i);
      LK_CHECK(v.device == DeviceType::kCPU, "input '", t->name(), "' is on ",
               device_type_name(v.device), "; the CPU engine takes host buffers");
      LK_CHECK(v.type == t->type(), "input '", t->name(), "' has type ", data_type_name(v.type),
               ", the network declares ", data_type_name(t->type()));
      LK_CHECK(v.dims.is_static(), "input '", t->name(), "' has unresolved dims ",
               v.dims.to_string());
      LK_CHECK(v.data != nullptr || v.dims.volume() == 0, "input '", t->name(), "' has no data");
      Buffer& b = buffers_[static_cast<size_t>(s_.index_.at(t))];
      if (is_sub_byte(v.type)) {
        allocate_owned(b, v.type, v.dims, t);
        unpack(v.type, v.data, b.tensor.data, v.dims.volume());
      } else {
        // Whole-byte elements are read where the caller keeps them (kernels never write their
        // inputs).
        pool_.give(std::move(b.storage));
        b.storage = {};
        b.tensor = {v.type, v.dims, const_cast<void*>(v.data)};
      }
      describe(b);
    }
    if (!arena_) check_run_memory(inputs);
    for (int i = 0; i < net_.num_layers(); ++i) {
      const Layer* l = net_.layer(i);
      const auto u = static_cast<size_t>(i);
      if (s_.deferred_[u]) continue;
      if (l->kind() != LayerKind::kINPUT && l->kind() != LayerKind::kCONSTANT) {
        const int g = s_.group_at_[u];
        if (g >= 0) {
          run_group(s_.groups_[static_cast<size_t>(g)]);
        } else {
          run_timed(i);
        }
      }
      for (int b : s_.release_at_[u]) release(buffers_[static_cast<size_t>(b)]);
    }
    // Outputs a layer wrote went straight into their memory (allocate); the others (an engine
    // input or a constant marked as output, sub-byte elements, which the executor holds one per
    // byte) are copied (packed) there now.
    for (int k = 0; k < net_.num_outputs(); ++k) {
      const Buffer& b = buffers_[static_cast<size_t>(s_.index_.at(net_.output(k)))];
      const OutputBinding& o = bound_[static_cast<size_t>(k)];
      if (!(b.tensor.data != nullptr && b.tensor.data == placed(k))) {
        void* dst = place(k, b.tensor.type, b.tensor.dims);
        if (b.tensor.numel() > 0) pack(b.tensor.type, b.tensor.data, dst, b.tensor.numel());
      }
      output_dims_.push_back(b.tensor.dims);
      if (o.allocator) o.allocator->notify_shape(net_.output(k)->name(), b.tensor.dims);
    }
  }

  std::vector<Dims> output_dims() const override { return output_dims_; }

  void set_arena(void* base, uint64_t bytes) override {
    LK_CHECK(base == nullptr || bytes >= s_.arena_size_, "set_device_memory: ", bytes,
             " bytes is less than the ", s_.arena_size_, " bytes the engine needs");
    arena_ = static_cast<uint8_t*>(base);
  }

  uint64_t memory_bytes() const override {
    uint64_t bytes = pool_.bytes();
    for (size_t b = 0; b < buffers_.size(); ++b) bytes += buffers_[b].storage.capacity();
    return bytes;
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
    return last_[static_cast<size_t>(layer)];
  }

 private:
  Buffer& buffer(const Tensor* t) { return buffers_[static_cast<size_t>(s_.index_.at(t))]; }
  int buffer_index(const Tensor* t) const { return s_.index_.at(t); }

  // The layer's input tensors (null for absent ones).
  std::vector<const KernelTensor*> inputs_of(const Layer& l) {
    std::vector<const KernelTensor*> ins;
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

  // The memory output `k` was given in this run (null before place()).
  void* placed(int k) const { return placed_[static_cast<size_t>(k)]; }

  // Output k's memory for `dims`: the caller's buffer (checked against its capacity) or what its
  // allocator returns.
  void* place(int k, DataType type, const Dims& dims) {
    const OutputBinding& o = bound_[static_cast<size_t>(k)];
    const std::string& name = net_.output(k)->name();
    const auto bytes = static_cast<uint64_t>(packed_bytes(type, dims.volume()));
    void* p = o.data;
    if (o.allocator) {
      // Every allocator of the CPU engine hands out host memory: a size beyond it fails here,
      // naming the tensor and its shape, before the allocator is asked (Note [Size arithmetic]).
      check_host_allocation(
          static_cast<int64_t>(bytes),
          detail::cat("tensor '", name, "' ", data_type_name(type), dims.to_string()));
      p = o.allocator->reallocate_output(name, allocated_[static_cast<size_t>(k)], bytes,
                                         kOutputAlignment);
      if (p == nullptr && bytes > 0)
        LK_FAIL(kOUT_OF_MEMORY, "output '", name, "': the output allocator returned no memory for ",
                bytes, " bytes (", data_type_name(type), dims.to_string(), ")");
      LK_CHECK(reinterpret_cast<uintptr_t>(p) % kOutputAlignment == 0, "output '", name,
               "': the output allocator returned ", p, ", not aligned to ", kOutputAlignment,
               " bytes");
      allocated_[static_cast<size_t>(k)] = p;
    } else {
      LK_CHECK(o.capacity == OutputBinding::kUnknownCapacity || o.capacity >= bytes, "output '",
               name, "': this run's shape ", dims.to_string(), " (", data_type_name(type),
               ") needs ", bytes, " bytes but its buffer holds ", o.capacity);
    }
    placed_[static_cast<size_t>(k)] = p;
    return p;
  }

  // Storage for buffer `index` (tensor `t`) at `dims`: an engine output goes straight into its
  // memory, an activation into its arena slot when the context has an arena and the slot holds
  // it, anything else into storage of the context's own (the pool).
  void allocate(int index, DataType type, const Dims& dims, const Tensor* t) {
    Buffer& b = buffers_[static_cast<size_t>(index)];
    const int64_t n = dims.volume();
    LK_ASSERT(n >= 0, "unresolved dims ", dims.to_string(), " at run time");
    const auto bytes = static_cast<size_t>(n * element_size(type));
    const int k = s_.output_of_[static_cast<size_t>(index)];
    void* external = nullptr;
    if (k >= 0 && !is_sub_byte(type)) {
      external = place(k, type, dims);
    } else if (arena_ && s_.arena_offset_[static_cast<size_t>(index)] >= 0 &&
               static_cast<int64_t>(bytes) <= s_.arena_bytes_[static_cast<size_t>(index)]) {
      external = arena_ + s_.arena_offset_[static_cast<size_t>(index)];
    }
    if (external == nullptr) {
      allocate_owned(b, type, dims, t);
      return;
    }
    pool_.give(std::move(b.storage));
    b.storage = {};
    b.tensor = {type, dims, external};
    // Kernels see zeroed outputs, as with storage of the executor's own.
    if (bytes > 0) std::memset(external, 0, bytes);
  }

  // Storage of the context's own for tensor `t` (Note [Size arithmetic]: inference checked that
  // its bytes are representable; a request beyond the host's memory is kOUT_OF_MEMORY naming `t`).
  void allocate_owned(Buffer& b, DataType type, const Dims& dims, const Tensor* t) {
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
    run_layer(*net_.layer(i), i);
    if (profiling_) record(i, start);
  }

  // A fused group's time and implementation go to its anchor's record.
  void record(int layer, std::chrono::steady_clock::time_point start) {
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    LayerProfile& rec = records_[static_cast<size_t>(layer)];
    rec.total_ms += took.count();
    ++rec.calls;
    rec.implementation = last_[static_cast<size_t>(layer)];
  }

  void run_layer(const Layer& l, int index) {
    std::vector<const KernelTensor*> ins = inputs_of(l);
    std::vector<detail::ValueDesc> outs = infer(l);
    std::vector<KernelTensor*> out_tensors;
    for (int k = 0; k < l.num_outputs(); ++k) {
      const int b = buffer_index(l.output(k));
      allocate(b, outs[static_cast<size_t>(k)].type, outs[static_cast<size_t>(k)].dims,
               l.output(k));
      out_tensors.push_back(&buffers_[static_cast<size_t>(b)].tensor);
    }
    KernelCtx ctx(l.name(), l.kind(), ins, out_tensors, options_.num_threads,
                  options_.communicator.get());
    const Chosen c = s_.choose(l, ins, out_tensors, {});
    last_[static_cast<size_t>(index)] = c.name;
    c.kernel->run(ctx);
    for (int k = 0; k < l.num_outputs(); ++k) describe(buffer(l.output(k)));
  }

  // Runs a fusion group as one kernel (the anchor with post-ops, or for a pointwise anchor the
  // whole chain blockwise); when this run's shapes do not allow it, runs its layers one by one.
  void run_group(const FusionGroup& g) {
    const auto start = std::chrono::steady_clock::now();
    const Layer& a = *net_.layer(g.anchor);
    detail::ValueDesc chain = infer(a).at(0);
    const Dims dims = chain.dims;
    bool fusable = chain.type == DataType::kFLOAT;
    std::vector<const KernelTensor*> ins = inputs_of(a);
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
        const KernelTensor& side = buffer(l.input(1 - s.chain_input)).tensor;
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
    const int out_index = buffer_index(out_tensor);
    allocate(out_index, DataType::kFLOAT, dims, out_tensor);
    Buffer& out = buffers_[static_cast<size_t>(out_index)];
    float* y = out.tensor.as<float>();
    const int64_t n = dims.volume();
    std::string& label = last_[static_cast<size_t>(g.anchor)];
    if (std::optional<PostOp> first = pointwise_anchor_op(a, ins, dims)) {
      // Source: the activation's input, or the ElementWise operand that covers the output.
      const int src = first->kind == PostOp::Kind::kACTIVATION ? 0 : first->chain_is_lhs ? 0 : 1;
      ops.insert(ops.begin(), *first);
      apply_post_ops(ins[static_cast<size_t>(src)]->as<float>(), y, n, ops, options_.num_threads);
      label = "vectorized chain";
    } else {
      std::vector<KernelTensor*> outs{&out.tensor};
      KernelCtx ctx(a.name(), a.kind(), ins, outs, options_.num_threads,
                    options_.communicator.get());
      const Chosen c = s_.choose(
          a, std::span<const KernelTensor* const>(ins.data(), num_layer_inputs), outs, ops);
      c.kernel->run(ctx);
      label = c.name;
      if (const auto done = static_cast<size_t>(c.kernel->post_ops_handled()); done < ops.size()) {
        apply_post_ops(y, y, n, std::span<const PostOp>(ops).subspan(done), options_.num_threads);
        label += " + vectorized chain";
      }
    }
    const auto gi = static_cast<size_t>(&g - s_.groups_.data());
    label += s_.group_labels_[gi];
    for (const FusedStep& s : g.steps) last_[static_cast<size_t>(s.layer)] = s_.step_labels_[gi];
    describe(out);
    if (profiling_) record(g.anchor, start);
  }

  // A pointwise anchor as the first op of its chain: an Activation, or an arithmetic ElementWise
  // with one operand covering the output and the other broadcasting one-sidedly into it.
  static std::optional<PostOp> pointwise_anchor_op(const Layer& a,
                                                   std::span<const KernelTensor* const> ins,
                                                   const Dims& dims) {
    PostOp op;
    if (a.kind() == LayerKind::kACTIVATION) {
      op.activation = a.attrs<ActivationAttrs>();
      return op;
    }
    if (a.kind() != LayerKind::kELEMENTWISE) return std::nullopt;
    const int full = ins[0]->dims == dims ? 0 : ins[1]->dims == dims ? 1 : -1;
    if (full < 0) return std::nullopt;
    const KernelTensor& side = *ins[static_cast<size_t>(1 - full)];
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

  // Note [Size arithmetic] for a whole run: each allocation is checked against the memory
  // available when it is made, but allocations that each fit can together exceed it, and then
  // the OS kills the process midway. So before the first layer runs at new input shapes, the
  // activations' memory plan at those shapes (the arena an engine with set_device_memory would
  // need there: tensors alive at once never share a slot) is checked as one request.
  // Dims that only running can tell (data-dependent layers) count as empty; a network the
  // inference cannot follow is left to the per-allocation checks.
  void check_run_memory(std::span<const TensorView> inputs) {
    std::vector<Dims> dims;
    for (const TensorView& v : inputs) dims.push_back(v.dims);
    if (dims == checked_input_dims_) return;
    std::map<const Tensor*, Dims> in;
    for (int i = 0; i < net_.num_inputs(); ++i) in[net_.input(i)] = dims[static_cast<size_t>(i)];
    std::map<const Tensor*, Dims> all;
    try {
      all = plan::infer_network(net_, in);
    } catch (const Error&) {
      return;  // the layer that cannot run at these shapes reports it when it runs
    }
    // Engine outputs live in the caller's memory (as in plan_arena); dims only running can tell
    // already count as empty in the plan.
    for (auto& [t, d] : all)
      if (t->is_network_output()) d = Dims{0};
    const MemoryPlan plan = plan::plan_memory(net_, all, s_.position_);
    const MemoryPlan::Assignment* big = nullptr;
    for (const MemoryPlan::Assignment& x : plan.assignments)
      if (!big || x.bytes > big->bytes) big = &x;
    const Tensor* largest = nullptr;
    for (const auto& [t, d] : all)
      if (big && t->name() == big->tensor) largest = t;
    std::string shapes;
    for (int i = 0; i < net_.num_inputs(); ++i)
      shapes += detail::cat(i ? ", " : "", net_.input(i)->name(), " ",
                            dims[static_cast<size_t>(i)].to_string());
    check_host_allocation(plan.peak_bytes_planned,
                          detail::cat("the activations at input shapes ", shapes,
                                      " (largest: tensor '", largest ? largest->name() : "", "' ",
                                      largest ? data_type_name(largest->type()) : "",
                                      largest ? all.at(largest).to_string() : "", ", ",
                                      big ? big->bytes : 0, " bytes)"));
    checked_input_dims_ = std::move(dims);
  }

  std::shared_ptr<const CpuState> state_;
  const CpuState& s_;
  const Network& net_;
  const ExecutorOptions& options_;
  std::vector<Buffer> buffers_;
  StoragePool pool_;
  // What ran each layer in the latest run: the kernel, and for a fusion group's anchor the layers
  // fused into it; "fused into '<anchor>'" for a step. Empty before a run.
  std::vector<std::string> last_;
  std::vector<OutputBinding> bound_;  // this run's output bindings
  std::vector<void*> placed_;         // per output: the memory this run gave it
  std::vector<void*> allocated_;      // per output: what its allocator returned last
  std::vector<Dims> output_dims_;
  uint8_t* arena_ = nullptr;  // the caller's activation arena (set_device_memory), or null
  std::vector<Dims> checked_input_dims_;  // the input dims check_run_memory last passed
  bool profiling_ = false;
  std::vector<LayerProfile> records_;  // indexed like the network's layers
};

std::unique_ptr<Executor> CpuState::make_executor() const {
  return std::make_unique<CpuExecutor>(shared_from_this());
}

class CpuBackend final : public Backend {
 public:
  DeviceType device() const override { return DeviceType::kCPU; }
  std::string_view name() const override { return "cpu"; }
  std::string unavailable_reason(int) const override { return {}; }
  // Every kind has a CPU kernel (the reference at least).
  Support supports(LayerKind, std::span<const DataType>) const override {
    return Support::kSUPPORTED;
  }
  std::shared_ptr<const EngineState> compile(const Network& network,
                                             const ExecutorOptions& options) const override {
    return std::make_shared<CpuState>(network, options);
  }
  // Host memory is whatever no other backend claims.
  bool owns_memory(const void* ptr, int) const override {
    for (const Backend* b : backends())
      if (b != this && b->unavailable_reason(0).empty() && b->owns_memory(ptr, -1)) return false;
    return true;
  }
};

}  // namespace

const Backend& cpu_backend() {
  static const CpuBackend b;
  return b;
}

}  // namespace cpu
}  // namespace layerkit
