// The CPU executor: resolves shapes layer by layer at run time and runs each layer's kernel.
#include <chrono>
#include <map>

#include "layerkit/network/network.h"
#include "layerkit/runtime/executor.h"
#include "network/infer.h"
#include "runtime/cpu/kernel.h"

namespace layerkit {
namespace cpu {
namespace {

struct Buffer {
  HostTensor tensor;
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
  CpuExecutor(const Network& net, const ExecutorOptions& options) : net_(net), options_(options) {
    for (int i = 0; i < net.num_layers(); ++i)
      for (Tensor* t : net.layer(i)->outputs()) index_[t] = static_cast<int>(index_.size());
    buffers_.resize(index_.size());
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
    std::visit(
        [&](const auto& a) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(a)>, std::monostate>)
            run_reference(a, ctx);
        },
        l.attrs());
    for (int k = 0; k < l.num_outputs(); ++k)
      describe(buffers_[static_cast<size_t>(index_.at(l.output(k)))]);
  }

  const Network& net_;
  ExecutorOptions options_;
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
