// The CPU executor: resolves shapes layer by layer at run time and runs each layer's kernel.
#include <omp.h>

#include <chrono>
#include <map>

#include "layerkit/network/network.h"
#include "layerkit/runtime/executor.h"
#include "network/infer.h"
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
  std::string_view last;        // the implementation of the latest run; empty before one
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

void allocate(Buffer& b, DataType type, const Dims& dims) {
  b.tensor.type = type;
  b.tensor.dims = dims;
  int64_t n = dims.volume();
  LK_ASSERT(n >= 0, "unresolved dims ", dims.to_string(), " at run time");
  b.storage.assign(static_cast<size_t>(n * element_size(type)), 0);
  b.tensor.data = b.storage.data();
}

class CpuExecutor final : public Executor {
 public:
  CpuExecutor(const Network& net, const ExecutorOptions& options)
      : net_(net), options_(options), choices_(static_cast<size_t>(net.num_layers())) {
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
      allocate(b, v.type, v.dims);
      LK_CHECK(v.data != nullptr || v.dims.volume() == 0, "input '", t->name(), "' has no data");
      unpack(v.type, v.data, b.tensor.data, v.dims.volume());
      describe(b);
    }
    for (int i = 0; i < net_.num_layers(); ++i) {
      const Layer* l = net_.layer(i);
      if (l->kind() == LayerKind::kINPUT || l->kind() == LayerKind::kCONSTANT) continue;
      if (!profiling_) {
        run_layer(*l);
        continue;
      }
      const auto start = std::chrono::steady_clock::now();
      run_layer(*l);
      const std::chrono::duration<double, std::milli> took =
          std::chrono::steady_clock::now() - start;
      LayerProfile& rec = records_[static_cast<size_t>(i)];
      rec.total_ms += took.count();
      ++rec.calls;
      rec.implementation = choices_[static_cast<size_t>(i)].last;
    }
    std::vector<OwnedTensor> outs;
    for (int i = 0; i < net_.num_outputs(); ++i) {
      const Buffer& b = buffers_[static_cast<size_t>(index_.at(net_.output(i)))];
      OwnedTensor o;
      o.type = b.tensor.type;
      o.dims = b.tensor.dims;
      o.data.resize(static_cast<size_t>(packed_bytes(o.type, o.dims.volume())));
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
  void run_layer(const Layer& l) {
    std::vector<const detail::ValueDesc*> descs;
    std::vector<const HostTensor*> ins;
    for (Tensor* t : l.inputs()) {
      if (!t) {
        descs.push_back(nullptr);
        ins.push_back(nullptr);
        continue;
      }
      const Buffer& b = buffers_[static_cast<size_t>(index_.at(t))];
      descs.push_back(&b.desc);
      ins.push_back(&b.tensor);
    }
    std::vector<detail::ValueDesc> outs = detail::infer_layer(l.attrs(), l.name(), descs, true);
    LK_ASSERT(static_cast<int>(outs.size()) == l.num_outputs());
    std::vector<HostTensor*> out_tensors;
    for (int k = 0; k < l.num_outputs(); ++k) {
      Buffer& b = buffers_[static_cast<size_t>(index_.at(l.output(k)))];
      allocate(b, outs[static_cast<size_t>(k)].type, outs[static_cast<size_t>(k)].dims);
      out_tensors.push_back(&b.tensor);
    }
    KernelCtx ctx(l.name(), l.kind(), ins, out_tensors, options_.num_threads,
                  options_.communicator.get());
    LayerChoices& lc = choices_[static_cast<size_t>(layer_index_.at(&l))];
    LayerImpl& impl = choose(l, lc, ins, out_tensors);
    impl.run(ctx);
    for (int k = 0; k < l.num_outputs(); ++k)
      describe(buffers_[static_cast<size_t>(index_.at(l.output(k)))]);
  }

  // The implementation for the layer's current dims and types: a cached choice, else the first
  // entry of the kind's list that accepts them.
  LayerImpl& choose(const Layer& l, LayerChoices& lc, std::span<const HostTensor* const> ins,
                    std::span<HostTensor* const> outs) {
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
  bool profiling_ = false;
  std::vector<LayerProfile> records_;  // indexed like the network's layers
};

}  // namespace
}  // namespace cpu

std::string_view device_type_name(DeviceType d) {
  switch (d) {
    case DeviceType::kCPU:
      return "cpu";
    case DeviceType::kCUDA:
      return "cuda";
  }
  return "?";
}

std::unique_ptr<Executor> make_executor(DeviceType device, const Network& network,
                                        const ExecutorOptions& options) {
  switch (device) {
    case DeviceType::kCPU:
      return std::make_unique<cpu::CpuExecutor>(network, options);
    case DeviceType::kCUDA:
      break;
  }
  LK_FAIL(kUNSUPPORTED, "no executor for device ", device_type_name(device),
          " in this build; use DeviceType::kCPU");
}

}  // namespace layerkit
