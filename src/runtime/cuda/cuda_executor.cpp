// The CUDA executor: resolves shapes on the host, runs each layer's CUDA kernel on one stream.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "core/element.h"
#include "layerkit/core/size.h"
#include "layerkit/network/network.h"
#include "layerkit/runtime/backend.h"
#include "network/infer.h"
#include "runtime/cpu/kernel.h"
#include "runtime/cuda/kernel.h"
#include "runtime/cuda/libraries.h"
#include "runtime/plan.h"

namespace layerkit::cuda {

int64_t DeviceTensor::bytes() const {
  return numel() * element_size(type);
}

const DeviceTensor& LaunchCtx::input(int i) const {
  if (!has_input(i))
    LK_FAIL(kINTERNAL, layer_kind_name(kind_), " layer '", name_, "': input ", i, " is missing");
  return *inputs_[static_cast<size_t>(i)];
}

const DeviceTensor& LaunchCtx::output(int i) const {
  LK_ASSERT(i < num_outputs(), "layer '", name_, "': output ", i, " does not exist");
  return *outputs_[static_cast<size_t>(i)];
}

int* LaunchCtx::check_flag() const {
  if (checks_) return checks_->flag(*this);
  auto* f = static_cast<int*>(scratch(sizeof(int)));
  LK_CUDA(cudaMemsetAsync(f, 0, sizeof(int), stream_), name_);
  return f;
}

void LaunchCtx::check(int* flag, std::function<void(const LaunchCtx&)> report) const {
  if (checks_ && checks_->deferred()) {
    checks_->defer(*this, flag, std::move(report));
    return;
  }
  int raised = 0;
  LK_CUDA(cudaMemcpyAsync(&raised, flag, sizeof(int), cudaMemcpyDeviceToHost, stream_), name_);
  LK_CUDA(cudaStreamSynchronize(stream_), name_);
  if (raised) report(*this);
}

void check_cuda(cudaError_t err, const char* call, std::string_view layer, size_t bytes) {
  if (err == cudaSuccess) return;
  cudaGetLastError();  // clears a non-sticky error so the context stays usable
  const std::string where = layer.empty() ? std::string() : detail::cat("layer '", layer, "': ");
  if (err == cudaErrorMemoryAllocation) {
    size_t free_bytes = 0, total = 0;
    cudaMemGetInfo(&free_bytes, &total);
    LK_FAIL(kOUT_OF_MEMORY, where, call, " failed: out of device memory (asked for ", bytes,
            " bytes; ", free_bytes, " of ", total, " bytes free)");
  }
  LK_FAIL(kRUNTIME, where, call, " failed: ", cudaGetErrorName(err), " (", cudaGetErrorString(err),
          ")");
}

void check_cublas(cublasStatus_t status, const char* call, std::string_view layer) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  // (cublasGetStatusName lives in libcublas, which the backend does not otherwise need.)
  LK_FAIL(kRUNTIME, "layer '", layer, "': ", call, " failed: cublasStatus_t ",
          static_cast<int>(status));
}

void check_cudnn(cudnnStatus_t status, const char* call, std::string_view layer) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  char detail_msg[512] = {};
  cudnnGetLastErrorString(detail_msg, sizeof detail_msg);
  LK_FAIL(kRUNTIME, "layer '", layer, "': ", call, " failed: ", cudnnGetErrorString(status),
          detail_msg[0] ? detail::cat(" (", detail_msg, ")") : std::string());
}

std::span<const KernelEntry> kernels(LayerKind kind) {
  static const auto lists = [] {
    std::array<std::vector<KernelEntry>, kNumLayerKinds> l;
    for (int k = 0; k < kNumLayerKinds; ++k) {
      const auto kind_k = static_cast<LayerKind>(k);
      auto& v = l[static_cast<size_t>(k)];
      for (auto* family : {&dnn_kernels, &matmul_kernels, &reduce_kernels, &copy_kernels,
                           &gather_kernels, &resize_kernels, &pointwise_kernels, &fill_kernels,
                           &collective_kernels, &quantize_kernels})
        for (const KernelEntry& e : (*family)(kind_k)) v.push_back(e);
    }
    return l;
  }();
  return lists[static_cast<size_t>(kind)];
}

namespace {

// Stream-ordered scratch for one launch, returned to the pool when the launch is enqueued.
class StreamScratch final : public Scratch {
 public:
  StreamScratch(cudaStream_t s, std::string_view layer) : stream_(s), layer_(layer) {}
  ~StreamScratch() override {
    for (void* p : blocks_) cudaFreeAsync(p, stream_);
  }
  void* allocate(size_t bytes) override {
    void* p = nullptr;
    check_cuda(cudaMallocAsync(&p, std::max<size_t>(bytes, 1), stream_), "cudaMallocAsync", layer_,
               bytes);
    blocks_.push_back(p);
    return p;
  }

 private:
  cudaStream_t stream_;
  std::string_view layer_;
  std::vector<void*> blocks_;
};

// A Constant layer's value, made once per engine (Note [Engine state]): its elements on the host
// and, once a kernel reads them there, on the device.
struct SharedConstant {
  DataType type = DataType::kFLOAT;
  Dims dims;
  // The elements in the host representation: the network's own bytes, or for sub-byte types
  // (unpacked one per byte) `storage`.
  const uint8_t* data = nullptr;
  size_t bytes = 0;
  std::vector<uint8_t> storage;
  void* dev = nullptr;  // uploaded by the first context that needs it, under the state's lock
};

// Note [Pinned staging]
// The host copies of the engine's inputs and outputs (the convenience path: host tensors in,
// host tensors out) live in page-locked memory (cudaMallocHost), kept from run to run and grown
// when a shape needs more. A copy from pageable memory is staged by the driver through its own
// page-locked buffers and returns only once the source is read; from page-locked memory it runs
// at the bus's rate and the host goes on. Such a buffer is rewritten only by the next run's
// bind_input (after finish_pending waited for the previous run) or by to_host (which waits for
// the stream), so no copy in flight reads bytes being rewritten; the destructor synchronizes
// before freeing. Other slots (shape-program values, host-fallback results) stay pageable.
class HostBuffer {
 public:
  HostBuffer() = default;
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  HostBuffer(HostBuffer&& o) noexcept { *this = std::move(o); }
  HostBuffer& operator=(HostBuffer&& o) noexcept {
    if (this != &o) {
      free_pinned();
      pinned_ = o.pinned_;
      pageable_ = std::move(o.pageable_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
  }
  ~HostBuffer() { free_pinned(); }

  void set_pinned() { pinned_ = true; }
  bool pinned() const { return pinned_; }
  uint8_t* data() { return pinned_ ? data_ : pageable_.data(); }
  const uint8_t* data() const { return pinned_ ? data_ : pageable_.data(); }
  size_t size() const { return pinned_ ? size_ : pageable_.size(); }
  size_t capacity() const { return pinned_ ? capacity_ : pageable_.capacity(); }
  bool empty() const { return size() == 0; }

  // The first min(old, n) bytes are kept.
  void resize(size_t n) {
    if (!pinned_) return pageable_.resize(n);
    if (n > capacity_) {
      void* p = nullptr;
      const cudaError_t err = cudaMallocHost(&p, n);
      if (err != cudaSuccess) {
        cudaGetLastError();
        LK_FAIL(kOUT_OF_MEMORY, "cudaMallocHost failed: ", cudaGetErrorName(err), " (",
                cudaGetErrorString(err), ") for ", n, " bytes of page-locked host memory");
      }
      if (size_ > 0) std::memcpy(p, data_, size_);
      free_pinned();
      data_ = static_cast<uint8_t*>(p);
      capacity_ = n;
    }
    size_ = n;
  }
  void assign(size_t n, uint8_t value) {
    resize(n);
    if (n > 0) std::memset(data(), value, n);
  }
  // Pageable bytes go back to the heap; page-locked ones stay for the next run.
  void release() {
    if (pinned_) {
      size_ = 0;
    } else {
      pageable_.clear();
      pageable_.shrink_to_fit();
    }
  }

 private:
  void free_pinned() {
    if (data_) cudaFreeHost(data_);
    data_ = nullptr;
    size_ = capacity_ = 0;
  }

  bool pinned_ = false;
  std::vector<uint8_t> pageable_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0, capacity_ = 0;
};

// One tensor of the network at run time: its copy on the host (the shape program's values,
// constants, host-fallback results) and/or on the device. Whichever is valid is the value.
struct Slot {
  DataType type = DataType::kFLOAT;
  Dims dims;
  HostBuffer host;  // Note [Pinned staging]
  bool host_valid = false;
  DeviceTensor dev;
  bool dev_valid = false;
  bool dev_owned = false;  // false: the caller's input buffer, a constant, or the caller's arena
  bool constant = false;
  const SharedConstant* shared = nullptr;  // a constant's value (host holds nothing then)
  // Computed on the host by the shape program (or a Constant): layers whose inputs are all such
  // values join the shape program. Engine inputs are not, even when bound from host memory.
  bool program = false;
  detail::ValueDesc desc;
  const uint8_t* host_data() const { return shared ? shared->data : host.data(); }
};

// The kernel a layer runs at one set of resolved dims and types (inputs, then outputs).
struct LayerChoice {
  std::vector<Dims> dims;
  std::vector<DataType> types;
  std::string_view name = "host reference";
  std::shared_ptr<const Kernel> kernel;  // null: runs on the host
};

// A context's view of one layer: the kernel it ran last (the state's choice, with its shapes) and
// the implementation's name for the profile.
struct LayerState {
  LayerChoice current;
  bool chosen = false;
  std::string last;
};

// A softmax that runs the ElementWise chain before it (Note [Softmax prologue]).
struct SoftmaxFusion {
  std::vector<const Tensor*> operands;  // 0: the chain's root, then the side tensors
  SoftmaxChain chain;
  std::shared_ptr<const Kernel> kernel;
  std::string label;  // the fused layers' names
};

// An attention run as one kernel (Note [Fused attention]), keyed by the head-merge transpose,
// where it runs.
struct AttentionFusion {
  const Tensor* q = nullptr;  // [B, S, H, D] before the transposes
  const Tensor* k = nullptr;
  const Tensor* v = nullptr;
  std::vector<const Tensor*> sides;  // the softmax chain's side tensors
  std::vector<int> members;          // the fused layers in order (the chain's steps run in the
                                     // softmax: its fusion when run one by one)
  std::shared_ptr<const Kernel> kernel;
  std::string label;
};

// A MatrixMultiply run with the sums after it in one cuBLASLt call (Note [MatMul epilogue]),
// keyed by the last fused sum, where the call runs.
struct MatmulFusion {
  int matmul = 0;                    // the MatrixMultiply layer
  int bias_sum = 0;                  // the ElementWise layer that adds the bias
  const Tensor* bias = nullptr;      // a Constant's output
  const Tensor* residual = nullptr;  // null: no residual sum (bias_sum is the last layer)
  std::string label;                 // the fused layers' names
};

// A layer whose every output is a small integer tensor (a shape tensor: dims, indices of dims)
// computed from values already on the host runs on the host: that is the shape program, and it
// keeps the values that later layers' inference needs where inference runs.
bool is_small_integer(const detail::ValueDesc& d) {
  return (is_integer(d.type) || d.type == DataType::kBOOL) && d.dims.is_static() &&
         d.dims.volume() <= detail::kMaxKnownValues;
}

// The CUDA engine state (Note [Engine state]): the network's analysis (tensor slots, softmax
// fusions, lifetimes, the arena plan), the constants with their device copies, and the kernels
// chosen per layer and shape with what they uploaded. Contexts read the analysis freely (it is
// immutable once made); constants' device copies and kernel choices are made under mutex_.
class CudaState final : public EngineState, public std::enable_shared_from_this<CudaState> {
 public:
  CudaState(const Network& net, const ExecutorOptions& options)
      : net_(net),
        options_(options),
        fused_into_(static_cast<size_t>(net.num_layers()), -1),
        choices_(static_cast<size_t>(net.num_layers())) {
    for (int i = 0; i < net.num_layers(); ++i)
      for (Tensor* t : net.layer(i)->outputs()) index_[t] = static_cast<int>(index_.size());
    output_of_.assign(index_.size(), -1);
    for (int k = 0; k < net.num_outputs(); ++k) {
      int& o = output_of_[static_cast<size_t>(index_.at(net.output(k)))];
      if (o < 0) o = k;
    }
    if (!options.reference_kernels_only) {
      find_softmax_chains();
      find_attention();
      find_matmul_epilogues();
    }
    plan_lifetimes();
    plan_arena();
    materialise_constants();
  }

  ~CudaState() override {
    cudaSetDevice(options_.device_index);
    for (const std::unique_ptr<SharedConstant>& c : constants_)
      if (c && c->dev) cudaFree(c->dev);
  }

  std::unique_ptr<Executor> make_executor() const override;

  uint64_t weights_bytes() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    uint64_t bytes = 0;
    for (const std::unique_ptr<SharedConstant>& c : constants_)
      if (c) bytes += c->storage.size() + (c->dev ? c->bytes : 0);
    for (const std::vector<LayerChoice>& v : choices_)
      for (const LayerChoice& c : v)
        if (c.kernel) bytes += c.kernel->prepared_bytes();
    for (const auto& [layer, f] : softmax_fusions_) bytes += f.kernel->prepared_bytes();
    return bytes;
  }

  uint64_t arena_bytes() const override { return arena_size_; }

  // The device copy of constant slot `b`, uploaded by the first context that asks (the copy is
  // complete when this returns, so any stream may read it).
  void* device_constant(int b, std::string_view layer) const {
    SharedConstant& c = *constants_[static_cast<size_t>(b)];
    std::lock_guard<std::mutex> lock(mutex_);
    if (c.dev || c.bytes == 0) return c.dev;
    void* p = nullptr;
    check_cuda(cudaMalloc(&p, c.bytes), "cudaMalloc", layer, c.bytes);
    const cudaError_t err = cudaMemcpy(p, c.data, c.bytes, cudaMemcpyHostToDevice);
    if (err != cudaSuccess) {
      cudaFree(p);
      check_cuda(err, "cudaMemcpy (constant to device)", layer);
    }
    c.dev = p;
    return p;
  }

  // The kernel of layer `index` for the problem's dims and types (`dims`/`types`: inputs, then
  // outputs): a cached choice, else the first entry of the kind's list that takes it, made under
  // the lock with the calling context's libraries (their handles only serve the kernel's set-up).
  LayerChoice choose(int index, std::vector<Dims> dims, std::vector<DataType> types,
                     const Problem& p) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<LayerChoice>& v = choices_[static_cast<size_t>(index)];
    for (const LayerChoice& c : v)
      if (c.dims == dims && c.types == types) return c;
    LayerChoice c;
    c.dims = std::move(dims);
    c.types = std::move(types);
    if (!options_.reference_kernels_only) {
      for (const KernelEntry& e : kernels(net_.layer(index)->kind())) {
        if (std::unique_ptr<Kernel> k = e.create(p)) {
          c.name = e.name;
          c.kernel = std::move(k);
          break;
        }
      }
    }
    // A context's graph may still hold an evicted kernel (it keeps a reference of its own).
    if (v.size() >= kMaxChoices) v.erase(v.begin());
    v.push_back(c);
    return c;
  }

  // The fused kernel of the matmul fusion at layer `index` (Note [MatMul epilogue]) for these
  // dims and types (the MatrixMultiply's inputs, then its output): cached like choose(); a null
  // kernel where the fused call does not take them.
  LayerChoice choose_epilogue(int index, std::vector<Dims> dims, std::vector<DataType> types,
                              const Problem& p, const MatmulEpilogue& e) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<LayerChoice>& v = epilogue_choices_[index];
    for (const LayerChoice& c : v)
      if (c.dims == dims && c.types == types) return c;
    LayerChoice c;
    c.dims = std::move(dims);
    c.types = std::move(types);
    c.name = "cublaslt epilogue";
    c.kernel = make_matmul_epilogue_kernel(p, e);
    if (v.size() >= kMaxChoices) v.erase(v.begin());
    v.push_back(c);
    return c;
  }

  static constexpr size_t kMaxChoices = 8;  // per layer: shapes whose kernels are kept

  const Network& net_;
  const ExecutorOptions options_;
  std::map<const Tensor*, int> index_;  // the slot of each tensor
  std::vector<int> output_of_;          // per slot: the engine output it is (first), or -1
  // Note [Softmax prologue]: per layer, the softmax it runs inside (-1: none), and per such
  // softmax its chain.
  std::vector<int> fused_into_;
  std::map<int, SoftmaxFusion> softmax_fusions_;
  // Note [MatMul epilogue]: per last fused sum, its fusion (its layers' fused_into_ name it).
  std::map<int, MatmulFusion> matmul_fusions_;
  // Note [Fused attention]: per head-merge transpose, its fusion.
  std::map<int, AttentionFusion> attention_fusions_;
  std::vector<std::vector<int>> release_at_;  // per layer: slots released after it
  // Per slot, for a context with a caller's arena (set_device_memory): its offset there, or -1
  // where the slot never lives in the arena (inputs, constants, sizes unknown at build time),
  // and the bytes planned for it.
  std::vector<int64_t> arena_offset_, arena_planned_;
  uint64_t arena_size_ = 0;
  std::vector<std::unique_ptr<SharedConstant>> constants_;  // per slot; set for constants only

 private:
  // Note [Softmax prologue] (kernel.h): finds each last-axis float SoftMax whose input chain of
  // ElementWise layers can run inside the softmax kernel.
  void find_softmax_chains();
  // Note [MatMul epilogue] (kernel.h): finds each MatrixMultiply whose bias sum, and residual sum
  // after it, can run in its cuBLASLt call.
  void find_matmul_epilogues();
  // Note [Fused attention] (kernel.h): finds each fp16/bf16 attention that runs as one kernel.
  void find_attention();
  // The layer where layer i runs: itself, or (through fusions of fusions) the fusion's layer.
  int runs_at(int i) const {
    while (fused_into_[static_cast<size_t>(i)] >= 0) i = fused_into_[static_cast<size_t>(i)];
    return i;
  }
  // The only reader of `t`, when it has exactly one and is no engine output; else null.
  const Layer* sole_reader(const Tensor* t) const {
    if (output_of_[static_cast<size_t>(index_.at(t))] >= 0) return nullptr;
    const std::vector<Layer*> readers = net_.consumers(t);
    return readers.size() == 1 ? readers[0] : nullptr;
  }
  // Each slot is released after the last layer that reads it; outputs and constants are kept.
  void plan_lifetimes();
  // The caller's arena: the memory plan (plan::plan_memory) over the executor's schedule
  // (a fused layer runs where its fusion does) at the largest dims each tensor has at any profile's
  // max shapes, every slot aligned to 256 bytes as cudaMalloc's blocks are.
  void plan_arena();
  // Constants are made once, with their reference kernel, on the host.
  void materialise_constants();

  mutable std::mutex mutex_;  // guards choices_ and the constants' device copies
  mutable std::vector<std::vector<LayerChoice>> choices_;             // per layer
  mutable std::map<int, std::vector<LayerChoice>> epilogue_choices_;  // per matmul fusion
};

class CudaExecutor final : public Executor, private RunChecks {
 public:
  explicit CudaExecutor(std::shared_ptr<const CudaState> state)
      : state_(std::move(state)),
        s_(*state_),
        net_(s_.net_),
        options_(s_.options_),
        index_(s_.index_),
        output_of_(s_.output_of_),
        fused_into_(s_.fused_into_),
        softmax_fusions_(s_.softmax_fusions_),
        matmul_fusions_(s_.matmul_fusions_),
        attention_fusions_(s_.attention_fusions_),
        release_at_(s_.release_at_),
        slots_(index_.size()),
        states_(static_cast<size_t>(net_.num_layers())) {
    check_cuda(cudaSetDevice(options_.device_index), "cudaSetDevice");
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    // Freed blocks stay in the device's pool between runs instead of going back to the driver.
    cudaMemPool_t pool = nullptr;
    check_cuda(cudaDeviceGetDefaultMemPool(&pool, options_.device_index),
               "cudaDeviceGetDefaultMemPool");
    uint64_t keep = UINT64_MAX;
    check_cuda(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep),
               "cudaMemPoolSetAttribute");
    libs_.stream = stream_;
    bound_.resize(static_cast<size_t>(net_.num_outputs()));
    placed_.assign(bound_.size(), nullptr);
    allocated_.assign(bound_.size(), nullptr);
    const size_t flag_bytes = sizeof(int) * static_cast<size_t>(std::max(1, net_.num_layers()));
    check_cuda(cudaMalloc(reinterpret_cast<void**>(&check_flags_), flag_bytes), "cudaMalloc", "",
               flag_bytes);
    // Note [Pinned staging].
    for (int i = 0; i < net_.num_inputs(); ++i) slot(net_.input(i)).host.set_pinned();
    for (int k = 0; k < net_.num_outputs(); ++k) slot(net_.output(k)).host.set_pinned();
    // Constants are the engine's: a slot only points at the shared value.
    for (size_t b = 0; b < slots_.size(); ++b) {
      const SharedConstant* c = s_.constants_[b].get();
      if (!c) continue;
      Slot& sl = slots_[b];
      sl.type = c->type;
      sl.dims = c->dims;
      sl.shared = c;
      sl.host_valid = true;
      sl.constant = sl.program = true;
      describe(sl);
    }
  }

  ~CudaExecutor() override {
    cudaSetDevice(options_.device_index);
    cudaStreamSynchronize(stream_);
    if (graph_) cudaGraphExecDestroy(graph_);
    if (check_flags_) cudaFree(check_flags_);
    for (Slot& s : slots_)
      if (s.dev_owned && s.dev.data) cudaFree(s.dev.data);
    if (libs_.lt_workspace) cudaFree(libs_.lt_workspace);
    if (libs_.lt) cublasLtDestroy(libs_.lt);
    if (libs_.dnn) cudnnDestroy(libs_.dnn);
    cudaStreamDestroy(stream_);
  }

  DeviceType device() const override { return DeviceType::kCUDA; }
  const Network& network() const override { return net_; }
  std::vector<Dims> output_dims() const override { return output_dims_; }
  uint64_t memory_bytes() const override {
    uint64_t bytes = libs_.lt_workspace_bytes;
    for (const Slot& s : slots_) {
      bytes += s.host.capacity();
      if (s.dev_owned && s.dev.data) bytes += static_cast<uint64_t>(s.dev.bytes());
    }
    return bytes;
  }
  // Note [CUDA arena]
  // With a caller's arena (ExecutionContext::set_device_memory), every activation whose size the
  // arena plan knows (CudaState::plan_arena: its dims at the profiles' max shapes) lives at its
  // planned offset there, shared over time with tensors whose lifetimes do not overlap; nothing
  // of it is freed. What the plan cannot know stays in the device's stream-ordered pool: data-
  // dependent sizes (NonZero's outputs), the device copies of inputs bound from host memory,
  // kernels' per-launch scratch and cuBLASLt's workspace.
  void set_arena(void* base, uint64_t bytes) override {
    check_cuda(cudaSetDevice(options_.device_index), "cudaSetDevice");
    if (base) {
      LK_CHECK(bytes >= s_.arena_size_, "set_device_memory: ", bytes, " bytes is less than the ",
               s_.arena_size_, " bytes the engine needs");
      cudaPointerAttributes attr{};
      const cudaError_t err = cudaPointerGetAttributes(&attr, base);
      if (err != cudaSuccess) cudaGetLastError();
      LK_CHECK(err == cudaSuccess && attr.type == cudaMemoryTypeDevice &&
                   attr.device == options_.device_index,
               "set_device_memory: the memory at ", base, " is not device memory of GPU ",
               options_.device_index);
      LK_CHECK(reinterpret_cast<uintptr_t>(base) % kArenaAlignment == 0,
               "set_device_memory: the address ", base, " is not aligned to ", kArenaAlignment,
               " bytes");
    }
    // The latest run may still use the old memory, and a captured graph holds its addresses.
    cudaStreamSynchronize(stream_);
    finish_pending();
    drop_graph();
    have_unsafe_ = false;
    for (Slot& sl : slots_)
      if (!sl.constant && !sl.dev_owned) sl.dev = {}, sl.dev_valid = false;
    arena_ = static_cast<uint8_t*>(base);
  }

  // Note [Asynchronous enqueue]
  // Runs on the context's stream; a caller's stream is ordered around it by events (the run
  // waits for work already on `stream`, later work on `stream` waits for the run). enqueue
  // returns once the run is on the stream, without waiting for the device, unless the run needs
  // device values on the host: outputs bound to host memory, a host fallback or a data-dependent
  // shape (Note [CUDA graphs] lists them), or a run-time check outside a graph. What a finished
  // run tells the host (the phase times, the per-layer profile, a check a graph run deferred) is
  // read by synchronize(), or by the next enqueue, which first finishes the previous run.
  void enqueue(std::span<const TensorView> inputs, std::span<const OutputBinding> outputs,
               void* stream) override {
    LK_CHECK(static_cast<int>(outputs.size()) == net_.num_outputs(), "execute: expected ",
             net_.num_outputs(), " output bindings, got ", outputs.size());
    for (size_t k = 0; k < outputs.size(); ++k)
      LK_CHECK(outputs[k].data != nullptr || outputs[k].allocator != nullptr, "output '",
               net_.output(static_cast<int>(k))->name(), "' has neither memory nor an allocator");
    check_cuda(cudaSetDevice(options_.device_index), "cudaSetDevice");
    auto user = static_cast<cudaStream_t>(stream);
    if (user) {
      check_cuda(cudaEventRecord(order_[0], user), "cudaEventRecord");
      check_cuda(cudaStreamWaitEvent(stream_, order_[0], 0), "cudaStreamWaitEvent");
    }
    for (size_t k = 0; k < outputs.size(); ++k)
      if (outputs[k].allocator != bound_[k].allocator) allocated_[k] = nullptr;
    bound_.assign(outputs.begin(), outputs.end());
    placed_.assign(bound_.size(), nullptr);
    output_dims_.clear();
    execute_bound(inputs);
    if (user) {
      check_cuda(cudaEventRecord(order_[1], stream_), "cudaEventRecord");
      check_cuda(cudaStreamWaitEvent(user, order_[1], 0), "cudaStreamWaitEvent");
    }
  }

  void execute_bound(std::span<const TensorView> inputs) {
    // Note: one context runs one execute at a time; a second thread entering gets an Error.
    bool expected = false;
    LK_CHECK(busy_.compare_exchange_strong(expected, true),
             "execute: this execution context is already running on another thread; create one "
             "context per thread");
    struct Release {
      std::atomic<bool>& b;
      ~Release() { b = false; }
    } release_busy{busy_};
    check_cuda(cudaSetDevice(options_.device_index), "cudaSetDevice");
    try {
      finish_pending();
      run(inputs);
      notify_shapes();
    } catch (...) {
      // Leave nothing in flight that could write into buffers after the error.
      cudaStreamSynchronize(stream_);
      cudaGetLastError();
      throw;
    }
  }

  void synchronize() override {
    bool expected = false;
    LK_CHECK(busy_.compare_exchange_strong(expected, true),
             "synchronize: this execution context is running on another thread");
    struct Release {
      std::atomic<bool>& b;
      ~Release() { b = false; }
    } release_busy{busy_};
    check_cuda(cudaSetDevice(options_.device_index), "cudaSetDevice");
    finish_pending();
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

  RunTimes last_run_times() const override { return times_; }

  std::string_view implementation(int layer) const override {
    LK_CHECK(layer >= 0 && layer < net_.num_layers(), "implementation: layer index ", layer,
             " is out of range [0, ", net_.num_layers(), ")");
    return states_[static_cast<size_t>(layer)].last;
  }

 private:
  Slot& slot(const Tensor* t) { return slots_[static_cast<size_t>(index_.at(t))]; }

  // Note [CUDA graphs]
  // With use_cuda_graph, a run whose input dims (and device input addresses) match the previous
  // run's replays that run's kernels as one CUDA graph. The first run with new dims runs layer by
  // layer as usual, recording each kernel launch, and keeps every buffer it allocated (graph mode
  // releases nothing, so the captured addresses stay valid); the launches are then captured. A
  // run that had to wait for the device (a host fallback, a data-dependent shape, a kernel reading
  // device values on the host) is not captured, and its dims are remembered so later runs with
  // them skip recording. The shape program's values depend only on the input dims, so a replay
  // needs none of its host work: the device copies it uploaded are still in place.
  struct Signature {
    std::vector<Dims> dims;
    std::vector<const void*> device_inputs;   // null for inputs bound from host memory
    std::vector<const void*> device_outputs;  // null for outputs bound to host memory
    bool operator==(const Signature&) const = default;
  };
  struct Launch {
    int layer;
    std::shared_ptr<const Kernel> kernel;  // kept even if the state evicts the choice
    std::vector<DeviceTensor> ins, outs;
    std::vector<bool> present;  // per input: false where the optional input is absent
  };

  Signature signature(std::span<const TensorView> inputs) const {
    Signature sig;
    for (const TensorView& v : inputs) {
      sig.dims.push_back(v.dims);
      sig.device_inputs.push_back(v.device == DeviceType::kCUDA ? v.data : nullptr);
    }
    for (const OutputBinding& b : bound_)
      sig.device_outputs.push_back(b.device == DeviceType::kCUDA ? b.data : nullptr);
    return sig;
  }

  void drop_graph() {
    if (graph_) cudaGraphExecDestroy(graph_);
    graph_ = nullptr;
    launches_.clear();
    deferred_.clear();
  }

  // RunChecks (Note [Run-time checks]): one flag per layer in check_flags_.
  int* flag(const LaunchCtx& ctx) override {
    int* f = check_flags_ + current_layer_;
    check_cuda(cudaMemsetAsync(f, 0, sizeof(int), stream_), "cudaMemsetAsync", ctx.layer_name());
    return f;
  }
  bool deferred() const override { return keep_buffers_; }
  void defer(const LaunchCtx& ctx, int* f, std::function<void(const LaunchCtx&)> report) override {
    if (capturing_) return;  // the recording run registered it, with the same tensors
    Deferred d;
    d.layer = current_layer_;
    d.flag = f;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      d.present.push_back(ctx.has_input(i));
      d.ins.push_back(ctx.has_input(i) ? ctx.input(i) : DeviceTensor{});
    }
    for (int i = 0; i < ctx.num_outputs(); ++i) d.outs.push_back(ctx.output(i));
    d.report = std::move(report);
    deferred_.push_back(std::move(d));
  }
  // After a graph run has completed: the reports of the raised flags (the first one throws).
  void run_deferred_checks() {
    if (deferred_.empty()) return;
    std::vector<int> raised(static_cast<size_t>(std::max(1, net_.num_layers())));
    check_cuda(cudaMemcpy(raised.data(), check_flags_, raised.size() * sizeof(int),
                          cudaMemcpyDeviceToHost),
               "cudaMemcpy");
    for (Deferred& d : deferred_) {
      if (!raised[static_cast<size_t>(d.layer)]) continue;
      const Layer& l = *net_.layer(d.layer);
      std::vector<const DeviceTensor*> ins;
      for (size_t k = 0; k < d.ins.size(); ++k) ins.push_back(d.present[k] ? &d.ins[k] : nullptr);
      std::vector<DeviceTensor*> outs;
      for (DeviceTensor& t : d.outs) outs.push_back(&t);
      LaunchCtx ctx(l.name(), l.kind(), ins, outs, stream_, &libs_, nullptr);
      d.report(ctx);
    }
  }

  // Captures the launches recorded by the run that just ended; false when capture fails (the
  // run's results are unaffected: capture executes nothing).
  bool capture() {
    cudaGraph_t g = nullptr;
    check_cuda(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal),
               "cudaStreamBeginCapture");
    capturing_ = true;
    try {
      for (Launch& launch : launches_) replay_launch(launch);
      capturing_ = false;
    } catch (const Error&) {
      capturing_ = false;
      cudaStreamEndCapture(stream_, &g);
      if (g) cudaGraphDestroy(g);
      cudaGetLastError();
      return false;
    }
    if (cudaStreamEndCapture(stream_, &g) != cudaSuccess || !g) {
      cudaGetLastError();
      return false;
    }
    const cudaError_t err = cudaGraphInstantiate(&graph_, g, 0);
    cudaGraphDestroy(g);
    if (err != cudaSuccess) {
      cudaGetLastError();
      graph_ = nullptr;
      return false;
    }
    return true;
  }

  void replay_launch(Launch& launch) {
    const Layer& l = *net_.layer(launch.layer);
    std::vector<const DeviceTensor*> ins;
    for (size_t k = 0; k < launch.ins.size(); ++k)
      ins.push_back(launch.present[k] ? &launch.ins[k] : nullptr);
    std::vector<DeviceTensor*> outs;
    for (DeviceTensor& t : launch.outs) outs.push_back(&t);
    StreamScratch scratch(stream_, l.name());
    current_layer_ = launch.layer;
    LaunchCtx ctx(
        l.name(), l.kind(), ins, outs, stream_, &libs_, &scratch,
        [&](int k) -> const void* {
          const Tensor* t = l.input(k);
          if (!t) return nullptr;
          Slot& s = slot(t);
          // Recorded runs only read host values the shape program made.
          LK_ASSERT(s.host_valid, "layer '", l.name(), "': input ", k,
                    " is not on the host in a graph replay");
          return s.host_data();
        },
        this);
    launch.kernel->run(ctx);
  }

  void run(std::span<const TensorView> inputs) {
    LK_CHECK(static_cast<int>(inputs.size()) == net_.num_inputs(), "execute: expected ",
             net_.num_inputs(), " inputs, got ", inputs.size());
    const bool graphs = options_.use_cuda_graph && !profiling_;
    const Signature sig = graphs ? signature(inputs) : Signature{};
    const bool replay = graphs && graph_ && sig == graph_sig_;
    if (!replay) drop_graph();
    recording_ = graphs && !replay && !(have_unsafe_ && sig == unsafe_sig_);
    keep_buffers_ = replay || recording_;
    if (recording_) deferred_.clear();
    graph_safe_ = true;
    // Events split the run as trtexec does: host-to-device copies of the inputs, the layers
    // (GPU compute), and the device-to-host copies of the outputs.
    record(phase_[0]);
    for (int i = 0; i < net_.num_inputs(); ++i) {
      bind_input(*net_.input(i), inputs[static_cast<size_t>(i)]);
      Slot& s = slot(net_.input(i));
      to_device(s, net_.input(i)->name());
    }
    record(phase_[1]);
    if (replay) {
      finish_replay();
      return;
    }
    if (profiling_) layer_events_.resize(static_cast<size_t>(net_.num_layers()));
    std::vector<int> timed;
    for (int i = 0; i < net_.num_layers(); ++i) {
      const Layer* l = net_.layer(i);
      if (l->kind() != LayerKind::kINPUT && l->kind() != LayerKind::kCONSTANT) {
        if (profiling_) record(layer_events_[static_cast<size_t>(i)].first);
        const auto start = std::chrono::steady_clock::now();
        in_compute_ = true;
        run_layer(i);
        in_compute_ = false;
        if (profiling_) {
          record(layer_events_[static_cast<size_t>(i)].second);
          host_ms_[static_cast<size_t>(i)] =
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count();
          timed.push_back(i);
        }
      }
      if (!keep_buffers_)
        for (int b : release_at_[static_cast<size_t>(i)]) release(slots_[static_cast<size_t>(b)]);
    }
    record(phase_[2]);
    deliver_outputs();
    record(phase_[3]);
    // Inputs bound by pointer are the caller's; forget them so nothing reads them later (a
    // device copy of a host input is freed in stream order, after the run has read it).
    if (!keep_buffers_)
      for (int i = 0; i < net_.num_inputs(); ++i) release(slot(net_.input(i)));
    bool captured = false;
    if (recording_) {
      // Capture records the launches; it waits for nothing and runs nothing.
      if (!graph_safe_ || !capture()) {
        have_unsafe_ = true;
        unsafe_sig_ = sig;
        launches_.clear();
      } else {
        graph_sig_ = sig;
        captured = true;
      }
    }
    recording_ = false;
    pending_ = {true, false, keep_buffers_, captured};
    timed_ = std::move(timed);
  }

  // The compute phase of a run whose inputs were just uploaded: the captured graph.
  void finish_replay() {
    check_cuda(cudaGraphLaunch(graph_, stream_), "cudaGraphLaunch");
    record(phase_[2]);
    for (int i = 0; i < net_.num_outputs(); ++i) {
      Slot& s = slot(net_.output(i));
      if (!s.program) s.host_valid = false;  // the graph wrote the device copy
    }
    deliver_outputs();
    record(phase_[3]);
    pending_ = {true, true, true, false};
    timed_.clear();
  }

  // Note [Asynchronous enqueue]: the end of the latest run, once the device has finished it.
  void finish_pending() {
    if (!pending_.active) return;
    const Pending p = pending_;
    pending_ = {};
    check_cuda(cudaEventSynchronize(phase_[3]), "cudaEventSynchronize");
    float ms[3] = {};
    for (int k = 0; k < 3; ++k)
      check_cuda(cudaEventElapsedTime(&ms[k], phase_[k], phase_[k + 1]), "cudaEventElapsedTime");
    times_ = {ms[0], ms[1], ms[2], p.graph};
    if (p.keep) {
      try {
        run_deferred_checks();
      } catch (const Error&) {
        // A graph captured from the failed run is not replayed; a replayed graph stays (the
        // next run with good inputs replays it and checks again).
        if (p.captured) drop_graph();
        if (!p.graph) deferred_.clear();
        throw;
      }
    }
    // Per-layer GPU time between its events; a layer that ran on the host (shape program or
    // fallback) has no GPU work between them, so its host time counts.
    for (int i : timed_) {
      float t = 0;
      const auto& [a, b] = layer_events_[static_cast<size_t>(i)];
      check_cuda(cudaEventElapsedTime(&t, a, b), "cudaEventElapsedTime");
      LayerProfile& rec = records_[static_cast<size_t>(i)];
      const std::string& impl = states_[static_cast<size_t>(i)].last;
      rec.total_ms += impl.rfind("host", 0) == 0
                          ? std::max<double>(t, host_ms_[static_cast<size_t>(i)])
                          : static_cast<double>(t);
      ++rec.calls;
      rec.implementation = impl;
    }
    timed_.clear();
  }

  void bind_input(const Tensor& t, const TensorView& v) {
    LK_CHECK(v.type == t.type(), "input '", t.name(), "' has type ", data_type_name(v.type),
             ", the network declares ", data_type_name(t.type()));
    LK_CHECK(v.dims.is_static(), "input '", t.name(), "' has unresolved dims ", v.dims.to_string());
    const int64_t n = v.dims.volume();
    LK_CHECK(v.data != nullptr || n == 0, "input '", t.name(), "' has no data");
    Slot& s = slot(&t);
    if (keep_buffers_ && s.dev_owned && s.type == v.type && s.dims == v.dims) {
      s.dev_valid = false;  // the buffer stays where a captured graph reads it
      s.host_valid = false;
    } else {
      release(s);
    }
    s.type = v.type;
    s.dims = v.dims;
    if (v.device == DeviceType::kCUDA && !is_sub_byte(v.type)) {
      cudaPointerAttributes attr{};
      check_cuda(cudaPointerGetAttributes(&attr, v.data), "cudaPointerGetAttributes", t.name());
      LK_CHECK(
          n == 0 || (attr.type == cudaMemoryTypeDevice && attr.device == options_.device_index),
          "input '", t.name(), "': the buffer at ", v.data, " is not device memory of GPU ",
          options_.device_index, " (bind host buffers with DeviceType::kCPU)");
      LK_CHECK(
          reinterpret_cast<uintptr_t>(v.data) % static_cast<uintptr_t>(element_size(v.type)) == 0,
          "input '", t.name(), "': device address ", v.data, " is not aligned to its ",
          element_size(v.type), "-byte elements");
      s.dev = {v.type, v.dims, const_cast<void*>(v.data)};
      s.dev_valid = true;
      s.dev_owned = false;
    } else {
      s.host.resize(static_cast<size_t>(n * element_size(v.type)));
      if (v.device == DeviceType::kCUDA) {  // packed sub-byte elements on the device
        std::vector<uint8_t> packed(static_cast<size_t>(packed_bytes(v.type, n)));
        check_cuda(cudaMemcpy(packed.data(), v.data, packed.size(), cudaMemcpyDeviceToHost),
                   "cudaMemcpy", t.name());
        unpack(v.type, packed.data(), s.host.data(), n);
      } else {
        unpack(v.type, v.data, s.host.data(), n);
      }
      s.host_valid = true;
    }
    describe(s);
  }

  // Output k's memory at `dims`: the caller's buffer (checked against its capacity) or what its
  // allocator returns (a run with device memory from an allocator is not captured in a graph).
  void* place(int k, DataType type, const Dims& dims) {
    const OutputBinding& o = bound_[static_cast<size_t>(k)];
    const std::string& name = net_.output(k)->name();
    const auto bytes = static_cast<uint64_t>(packed_bytes(type, dims.volume()));
    const uint64_t align = o.device == DeviceType::kCUDA ? 256 : 16;
    void* p = o.data;
    if (o.allocator) {
      p = o.allocator->reallocate_output(name, allocated_[static_cast<size_t>(k)], bytes, align);
      if (p == nullptr && bytes > 0)
        LK_FAIL(kOUT_OF_MEMORY, "output '", name, "': the output allocator returned no memory for ",
                bytes, " bytes (", data_type_name(type), dims.to_string(), ")");
      allocated_[static_cast<size_t>(k)] = p;
      if (o.device == DeviceType::kCUDA) graph_safe_ = false;
    } else {
      LK_CHECK(o.capacity == OutputBinding::kUnknownCapacity || o.capacity >= bytes, "output '",
               name, "': this run's shape ", dims.to_string(), " (", data_type_name(type),
               ") needs ", bytes, " bytes but its buffer holds ", o.capacity);
    }
    placed_[static_cast<size_t>(k)] = p;
    return p;
  }

  // After the layers: every output into its memory. Outputs a kernel wrote in place are done;
  // the rest are copied (Note [Output binding]).
  void deliver_outputs() {
    for (int k = 0; k < net_.num_outputs(); ++k) {
      Slot& s = slot(net_.output(k));
      const OutputBinding& o = bound_[static_cast<size_t>(k)];
      const int64_t n = s.dims.volume();
      if (o.device == DeviceType::kCPU) {
        to_host(s, "");
        void* dst = place(k, s.type, s.dims);
        if (n > 0) pack(s.type, s.host_data(), dst, n);
      } else if (!(s.dev_valid && s.dev.data != nullptr &&
                   s.dev.data == placed_[static_cast<size_t>(k)])) {
        void* dst = place(k, s.type, s.dims);
        const auto bytes = static_cast<size_t>(packed_bytes(s.type, n));
        if (is_sub_byte(s.type)) {
          to_host(s, "");
          std::vector<uint8_t> packed(bytes);
          if (n > 0) pack(s.type, s.host_data(), packed.data(), n);
          if (bytes > 0)
            check_cuda(cudaMemcpy(dst, packed.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy",
                       net_.output(k)->name());
        } else if (s.dev_valid) {
          if (bytes > 0)
            check_cuda(cudaMemcpyAsync(dst, s.dev.data, bytes, cudaMemcpyDeviceToDevice, stream_),
                       "cudaMemcpyAsync (device to device)", net_.output(k)->name());
        } else {
          to_host(s, "");
          if (bytes > 0)
            check_cuda(cudaMemcpyAsync(dst, s.host_data(), bytes, cudaMemcpyHostToDevice, stream_),
                       "cudaMemcpyAsync (host to device)", net_.output(k)->name());
        }
      }
      output_dims_.push_back(s.dims);
    }
  }

  void notify_shapes() {
    for (int k = 0; k < net_.num_outputs(); ++k)
      if (OutputAllocator* a = bound_[static_cast<size_t>(k)].allocator)
        a->notify_shape(net_.output(k)->name(), output_dims_.at(static_cast<size_t>(k)));
  }

  // What inference sees of a slot: dims, type, and its values when they are on the host.
  void describe(Slot& s) {
    s.desc.type = s.type;
    s.desc.dims = s.dims;
    s.desc.known.clear();
    s.desc.host_data = s.host_valid ? s.host_data() : nullptr;
    if (!s.host_valid) return;
    const int64_t n = s.dims.volume();
    if ((is_integer(s.type) || s.type == DataType::kBOOL) && n <= detail::kMaxKnownValues)
      for (int64_t i = 0; i < n; ++i) s.desc.known.emplace_back(load_i(s.type, s.host_data(), i));
  }

  void allocate_device(Slot& s, std::string_view layer) {
    const auto bytes = static_cast<size_t>(s.dims.volume() * element_size(s.type));
    // Note [Output binding] (src/runtime/engine.cpp): an engine output bound to device memory
    // is written there in place.
    const int k = output_of_[static_cast<size_t>(&s - slots_.data())];
    if (k >= 0 && bound_[static_cast<size_t>(k)].device == DeviceType::kCUDA &&
        !is_sub_byte(s.type)) {
      free_device(s);
      s.dev = {s.type, s.dims, place(k, s.type, s.dims)};
      s.dev_owned = false;
      return;
    }
    if (s.dev_owned && s.dev.data && s.dev.type == s.type && s.dev.dims == s.dims) return;
    free_device(s);
    // Note [CUDA arena].
    const size_t b = static_cast<size_t>(&s - slots_.data());
    if (arena_ && s_.arena_offset_[b] >= 0 && static_cast<int64_t>(bytes) <= s_.arena_planned_[b]) {
      s.dev = {s.type, s.dims, arena_ + s_.arena_offset_[b]};
      return;
    }
    void* p = nullptr;
    if (bytes > 0) check_cuda(cudaMallocAsync(&p, bytes, stream_), "cudaMallocAsync", layer, bytes);
    s.dev = {s.type, s.dims, p};
    s.dev_owned = true;
  }

  void free_device(Slot& s) {
    if (s.dev_owned && s.dev.data) cudaFreeAsync(s.dev.data, stream_);
    s.dev = {};
    s.dev_owned = false;
    s.dev_valid = false;
  }

  void release(Slot& s) {
    if (s.constant) return;
    free_device(s);
    s.host.release();
    s.host_valid = false;
    s.desc.host_data = nullptr;
    s.desc.known.clear();
  }

  void to_device(Slot& s, std::string_view layer) {
    if (s.dev_valid) return;
    if (s.shared) {  // the engine's copy, uploaded once for every context
      s.dev = {s.type, s.dims, s_.device_constant(static_cast<int>(&s - slots_.data()), layer)};
      s.dev_owned = false;
      s.dev_valid = true;
      return;
    }
    LK_ASSERT(s.host_valid, "layer '", layer, "': an input is on neither the host nor the device");
    allocate_device(s, layer);
    if (!s.host.empty())
      check_cuda(cudaMemcpyAsync(s.dev.data, s.host.data(), s.host.size(), cudaMemcpyHostToDevice,
                                 stream_),
                 "cudaMemcpyAsync (host to device)", layer);
    // Note [Pinned staging]: the bytes stay unchanged until the run has finished.
    s.dev_valid = true;
  }

  void to_host(Slot& s, std::string_view layer) {
    if (s.host_valid) return;
    LK_ASSERT(s.dev_valid, "layer '", layer, "': a tensor is on neither the host nor the device");
    if (in_compute_) graph_safe_ = false;  // the run waits for the device mid-way
    s.host.resize(static_cast<size_t>(s.dims.volume() * element_size(s.type)));
    if (!s.host.empty()) {
      check_cuda(cudaMemcpyAsync(s.host.data(), s.dev.data, s.host.size(), cudaMemcpyDeviceToHost,
                                 stream_),
                 "cudaMemcpyAsync (device to host)", layer);
      check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize", layer);
    }
    s.host_valid = true;
    describe(s);
  }

  std::vector<detail::ValueDesc> infer(const Layer& l) {
    std::vector<const detail::ValueDesc*> descs;
    for (const Tensor* t : l.inputs()) descs.push_back(t ? &slot(t).desc : nullptr);
    return detail::infer_layer(l.attrs(), l.name(), descs, true);
  }

  void run_layer(int index) {
    const Layer& l = *net_.layer(index);
    LayerState& st = states_[static_cast<size_t>(index)];
    std::vector<detail::ValueDesc> outs = infer(l);
    if (const int into = fused_into_[static_cast<size_t>(index)]; into >= 0) {
      // Runs inside a later softmax's kernel (Note [Softmax prologue]) or matrix multiply's call
      // (Note [MatMul epilogue]): only its output's description is made, for the layers after
      // it to infer from.
      for (int k = 0; k < l.num_outputs(); ++k) set_output(l, k, outs[static_cast<size_t>(k)]);
      st.last = (matmul_fusions_.count(into) ? "in the cublaslt call of '" : "fused into '") +
                net_.layer(into)->name() + "'";
      return;
    }
    if (auto f = softmax_fusions_.find(index); f != softmax_fusions_.end()) {
      run_softmax_fusion(index, st, outs, f->second);
      return;
    }
    if (auto f = attention_fusions_.find(index); f != attention_fusions_.end()) {
      if (run_attention(index, st, outs, f->second)) return;
      // Shapes the kernel does not take: the fused layers one by one, then this one.
      for (int m : f->second.members) {
        const Layer& ml = *net_.layer(m);
        if (auto sf = softmax_fusions_.find(m); sf != softmax_fusions_.end())
          run_softmax_fusion(m, states_[static_cast<size_t>(m)], infer(ml), sf->second);
        else
          run_unfused(m, infer(ml));
      }
    }
    if (auto f = matmul_fusions_.find(index); f != matmul_fusions_.end()) {
      if (run_matmul_fusion(index, st, outs, f->second)) return;
      // Shapes the fused call does not take: the fused layers one by one, then this one.
      const MatmulFusion& m = f->second;
      run_unfused(m.matmul, infer(*net_.layer(m.matmul)));
      if (m.residual) run_unfused(m.bias_sum, infer(*net_.layer(m.bias_sum)));
    }
    run_unfused(index, std::move(outs));
  }

  // Runs layer `index`, whose outputs `outs` were just inferred, with its own kernel.
  void run_unfused(int index, std::vector<detail::ValueDesc> outs) {
    const Layer& l = *net_.layer(index);
    LayerState& st = states_[static_cast<size_t>(index)];
    bool resolved = std::all_of(outs.begin(), outs.end(),
                                [](const detail::ValueDesc& d) { return d.dims.is_static(); });
    if (!resolved && l.kind() == LayerKind::kNON_ZERO && !options_.reference_kernels_only) {
      // NonZero of a tensor on the device: the count is taken there and only it comes back
      // (the one place such a run waits for the device); the input stays on the device.
      Slot& x = slot(l.input(0));
      if (x.dev_valid && !x.host_valid && x.dims.is_static() && counts_nonzero_on_device(x.type) &&
          outs[0].dims.rank() == 2) {
        outs[0].dims[1] = count_nonzero(x.dev, stream_, l.name());
        resolved = true;
        graph_safe_ = false;  // the count's value decides the shapes: no graph replays it
      }
    }
    if (!resolved) {
      graph_safe_ = false;
      // A data-dependent shape (NonZero on the host path, or a shape input computed on the
      // device): its inputs' values are needed on the host, the one place a run waits for the
      // device.
      for (const Tensor* t : l.inputs())
        if (t) to_host(slot(t), l.name());
      outs = infer(l);
    }
    bool inputs_on_host = true;
    for (const Tensor* t : l.inputs())
      if (t && !(slot(t).host_valid && slot(t).program)) inputs_on_host = false;
    const bool shape_program =
        l.kind() == LayerKind::kSHAPE ||
        (inputs_on_host && std::all_of(outs.begin(), outs.end(), is_small_integer));
    if (shape_program) {
      for (int k = 0; k < l.num_outputs(); ++k) set_output(l, k, outs[static_cast<size_t>(k)]);
      run_on_host(l, l.kind() != LayerKind::kSHAPE);
      for (Tensor* t : l.outputs()) slot(t).program = true;
      st.last = "host (shape program)";
      return;
    }
    for (int k = 0; k < l.num_outputs(); ++k) set_output(l, k, outs[static_cast<size_t>(k)]);
    const LayerChoice& c = choose(index, l, st);
    if (!c.kernel) {
      graph_safe_ = false;
      st.last = "host reference (no CUDA kernel)";
      run_on_host(l, true);
      for (Tensor* t : l.outputs()) to_device(slot(t), l.name());
      return;
    }
    std::vector<const DeviceTensor*> ins;
    std::vector<DeviceTensor> unread(l.inputs().size());
    for (size_t k = 0; k < l.inputs().size(); ++k) {
      const Tensor* t = l.inputs()[k];
      if (!t) {
        ins.push_back(nullptr);
        continue;
      }
      Slot& s = slot(t);
      if (s.constant && !c.kernel->reads_input(static_cast<int>(k))) {
        // The kernel holds its own copy: the constant's device copy is not made for it.
        unread[k] = {s.type, s.dims, nullptr};
        ins.push_back(&unread[k]);
        continue;
      }
      to_device(s, l.name());
      ins.push_back(&s.dev);
    }
    std::vector<DeviceTensor*> out_tensors;
    for (Tensor* t : l.outputs()) {
      Slot& s = slot(t);
      allocate_device(s, l.name());
      s.dev_valid = true;
      out_tensors.push_back(&s.dev);
    }
    StreamScratch scratch(stream_, l.name());
    current_layer_ = index;
    LaunchCtx ctx(
        l.name(), l.kind(), ins, out_tensors, stream_, &libs_, &scratch,
        [&](int k) -> const void* {
          const Tensor* t = l.input(k);
          if (!t) return nullptr;
          Slot& s = slot(t);
          to_host(s, l.name());
          return s.host_data();
        },
        this);
    // Named before it runs, so a run that fails (a bad index) still says which kernel failed.
    st.last = c.name;
    c.kernel->run(ctx);
    record_launch(index, c.kernel, ins, out_tensors);
  }

  // While a run is recorded for a CUDA graph: the launch, with the tensors it used.
  void record_launch(int index, const std::shared_ptr<const Kernel>& kernel,
                     const std::vector<const DeviceTensor*>& ins,
                     const std::vector<DeviceTensor*>& outs) {
    if (!recording_) return;
    Launch launch{index, kernel, {}, {}, {}};
    for (const DeviceTensor* t : ins) {
      launch.ins.push_back(t ? *t : DeviceTensor{});
      launch.present.push_back(t != nullptr);
    }
    for (const DeviceTensor* t : outs) launch.outs.push_back(*t);
    launches_.push_back(std::move(launch));
  }

  // Runs a fusion's kernel at layer `index` (the fusion's last layer, whose one output `out` is
  // the kernel's) on the device copies of `operands`, named `label` in the profile.
  void launch_fused(int index, LayerState& st, const detail::ValueDesc& out,
                    const std::vector<const Tensor*>& operands,
                    const std::shared_ptr<const Kernel>& kernel, std::string label) {
    const Layer& l = *net_.layer(index);
    set_output(l, 0, out);
    std::vector<const DeviceTensor*> ins;
    for (const Tensor* t : operands) {
      Slot& s = slot(t);
      to_device(s, l.name());
      ins.push_back(&s.dev);
    }
    Slot& o = slot(l.output(0));
    allocate_device(o, l.name());
    o.dev_valid = true;
    std::vector<DeviceTensor*> out_tensors{&o.dev};
    StreamScratch scratch(stream_, l.name());
    LaunchCtx ctx(
        l.name(), l.kind(), ins, out_tensors, stream_, &libs_, &scratch,
        [](int) -> const void* { return nullptr; }, this);
    st.last = std::move(label);
    current_layer_ = index;
    kernel->run(ctx);
    record_launch(index, kernel, ins, out_tensors);
  }

  void run_softmax_fusion(int index, LayerState& st, const std::vector<detail::ValueDesc>& outs,
                          const SoftmaxFusion& f) {
    launch_fused(index, st, outs[0], f.operands, f.kernel,
                 "row softmax with " + f.label + " fused");
  }

  // Note [Fused attention]: false (nothing run) where the kernel does not take the shapes.
  bool run_attention(int index, LayerState& st, const std::vector<detail::ValueDesc>& outs,
                     const AttentionFusion& f) {
    Slot& q = slot(f.q);
    Slot& k = slot(f.k);
    Slot& v = slot(f.v);
    if (q.type != k.type || q.type != v.type || outs[0].type != q.type || outs[0].dims != q.dims ||
        !fused_attention_takes(q.type, q.dims, k.dims, v.dims))
      return false;
    std::vector<const Tensor*> operands{f.q, f.k, f.v};
    operands.insert(operands.end(), f.sides.begin(), f.sides.end());
    launch_fused(index, st, outs[0], operands, f.kernel, "fused attention of " + f.label);
    return true;
  }

  // Note [MatMul epilogue]: false (nothing run) where the fused call does not take the shapes.
  bool run_matmul_fusion(int index, LayerState& st, const std::vector<detail::ValueDesc>& outs,
                         const MatmulFusion& f) {
    const Layer& mm = *net_.layer(f.matmul);
    Slot& a = slot(mm.input(0));
    Slot& b = slot(mm.input(1));
    const Slot& product = slot(mm.output(0));  // described at its own position
    if (outs[0].dims != product.dims || (f.residual && slot(f.residual).dims != product.dims))
      return false;
    std::vector<Dims> dims{a.dims, b.dims, product.dims};
    std::vector<DataType> types{a.type, b.type, product.type};
    ensure_libraries();
    const DeviceTensor a_desc{a.type, a.dims, nullptr}, b_desc{b.type, b.dims, nullptr},
        out_desc{product.type, product.dims, nullptr};
    const std::vector<const DeviceTensor*> ins_desc{&a_desc, &b_desc}, outs_desc{&out_desc};
    const std::vector<const void*> host_constant{a.constant ? a.host_data() : nullptr,
                                                 b.constant ? b.host_data() : nullptr};
    Problem p;
    p.layer_name = mm.name();
    p.attrs = &mm.attrs();
    p.inputs = ins_desc;
    p.host_constant = host_constant;
    p.outputs = outs_desc;
    p.libraries = &libs_;
    MatmulEpilogue e;
    e.residual = f.residual != nullptr;
    const LayerChoice c = s_.choose_epilogue(index, std::move(dims), std::move(types), p, e);
    if (!c.kernel) return false;
    std::vector<const Tensor*> operands{mm.input(0), mm.input(1), f.bias};
    if (f.residual) operands.push_back(f.residual);
    launch_fused(index, st, outs[0], operands, c.kernel,
                 "cublaslt with " + f.label + " fused (" +
                     (f.residual ? "bias and residual" : "bias") + " epilogue)");
    return true;
  }

  void set_output(const Layer& l, int k, const detail::ValueDesc& d) {
    Slot& s = slot(l.output(k));
    if (s.dev_owned && (s.type != d.type || s.dims != d.dims)) free_device(s);
    s.type = d.type;
    s.dims = d.dims;
    s.host_valid = false;
    s.dev_valid = false;
    s.program = false;
    s.desc = {d.type, d.dims, {}, nullptr};
  }

  // Runs the layer's CPU reference kernel on host copies of its inputs (downloading them).
  // `need_data` false: only the inputs' dims are read (Shape).
  void run_on_host(const Layer& l, bool need_data) {
    std::vector<cpu::KernelTensor> in_t(l.inputs().size());
    std::vector<const cpu::KernelTensor*> ins;
    for (size_t k = 0; k < l.inputs().size(); ++k) {
      const Tensor* t = l.inputs()[k];
      if (!t) {
        ins.push_back(nullptr);
        continue;
      }
      Slot& s = slot(t);
      if (need_data) to_host(s, l.name());
      in_t[k] = {s.type, s.dims, s.host_valid ? const_cast<uint8_t*>(s.host_data()) : nullptr};
      ins.push_back(&in_t[k]);
    }
    std::vector<cpu::KernelTensor> out_t(static_cast<size_t>(l.num_outputs()));
    std::vector<cpu::KernelTensor*> outs;
    for (int k = 0; k < l.num_outputs(); ++k) {
      Slot& s = slot(l.output(k));
      s.host.assign(static_cast<size_t>(s.dims.volume() * element_size(s.type)), 0);
      out_t[static_cast<size_t>(k)] = {s.type, s.dims, s.host.data()};
      outs.push_back(&out_t[static_cast<size_t>(k)]);
    }
    cpu::KernelCtx ctx(l.name(), l.kind(), ins, outs, 1, options_.communicator.get());
    std::visit(
        [&]<typename A>(const A& a) {
          if constexpr (std::is_same_v<A, std::monostate>) {
            LK_FAIL(kINTERNAL, "layer '", l.name(), "' has no attributes");
          } else {
            cpu::run_reference(a, ctx);
          }
        },
        l.attrs());
    for (int k = 0; k < l.num_outputs(); ++k) {
      Slot& s = slot(l.output(k));
      s.host_valid = true;
      s.dev_valid = false;
      describe(s);
    }
  }

  // The layer's kernel at its inputs' and outputs' current dims and types: the context's last
  // choice when they match, else the engine state's (made there on first use).
  const LayerChoice& choose(int index, const Layer& l, LayerState& st) {
    std::vector<Dims> dims;
    std::vector<DataType> types;
    for (const Tensor* t : l.inputs()) {
      dims.push_back(t ? slot(t).dims : Dims{});
      types.push_back(t ? slot(t).type : DataType::kBOOL);
    }
    for (const Tensor* t : l.outputs()) {
      dims.push_back(slot(t).dims);
      types.push_back(slot(t).type);
    }
    if (st.chosen && st.current.dims == dims && st.current.types == types) return st.current;
    ensure_libraries();
    std::vector<DeviceTensor> in_desc, out_desc;
    in_desc.reserve(l.inputs().size());
    out_desc.reserve(l.outputs().size());
    std::vector<const DeviceTensor*> ins, outs;
    std::vector<const void*> host_constant;
    for (const Tensor* t : l.inputs()) {
      if (!t) {
        ins.push_back(nullptr);
        host_constant.push_back(nullptr);
        continue;
      }
      Slot& s = slot(t);
      in_desc.push_back({s.type, s.dims, nullptr});
      ins.push_back(&in_desc.back());
      host_constant.push_back(s.constant ? s.host_data() : nullptr);
    }
    for (const Tensor* t : l.outputs()) {
      out_desc.push_back({slot(t).type, slot(t).dims, nullptr});
      outs.push_back(&out_desc.back());
    }
    Problem p;
    p.layer_name = l.name();
    p.attrs = &l.attrs();
    p.inputs = ins;
    p.host_constant = host_constant;
    p.outputs = outs;
    p.libraries = &libs_;
    st.current = s_.choose(index, std::move(dims), std::move(types), p);
    st.chosen = true;
    return st.current;
  }

  void ensure_libraries() {
    if (libs_.lt) return;
    LK_CUBLAS(cublasLtCreate(&libs_.lt), "");
    LK_CUDNN(cudnnCreate(&libs_.dnn), "");
    LK_CUDNN(cudnnSetStream(libs_.dnn, stream_), "");
    libs_.lt_workspace_bytes = size_t{32} << 20;
    check_cuda(cudaMalloc(&libs_.lt_workspace, libs_.lt_workspace_bytes), "cudaMalloc", "",
               libs_.lt_workspace_bytes);
  }

  static constexpr uintptr_t kArenaAlignment = 256;

  std::shared_ptr<const CudaState> state_;
  const CudaState& s_;
  const Network& net_;
  const ExecutorOptions& options_;
  // The engine's analysis, read-only (Note [Engine state]).
  const std::map<const Tensor*, int>& index_;
  const std::vector<int>& output_of_;
  const std::vector<int>& fused_into_;
  const std::map<int, SoftmaxFusion>& softmax_fusions_;
  const std::map<int, MatmulFusion>& matmul_fusions_;
  const std::map<int, AttentionFusion>& attention_fusions_;
  const std::vector<std::vector<int>>& release_at_;
  std::vector<OutputBinding> bound_;  // this run's output bindings
  std::vector<void*> placed_;         // per output: the memory this run gave it
  std::vector<void*> allocated_;      // per output: what its allocator returned last
  std::vector<Dims> output_dims_;
  cudaStream_t stream_ = nullptr;
  Libraries libs_;
  std::vector<Slot> slots_;
  std::vector<LayerState> states_;
  uint8_t* arena_ = nullptr;  // the caller's arena (Note [CUDA arena]), or null
  std::atomic<bool> busy_{false};
  bool profiling_ = false;
  std::vector<LayerProfile> records_;
  // Timing events, made once: the four phase boundaries of a run, and a pair per layer.
  struct Event {
    cudaEvent_t e = nullptr;
    Event() { check_cuda(cudaEventCreate(&e), "cudaEventCreate"); }
    Event(Event&& o) noexcept : e(o.e) { o.e = nullptr; }
    Event(const Event&) = delete;
    ~Event() {
      if (e) cudaEventDestroy(e);
    }
    operator cudaEvent_t() const { return e; }
  };
  void record(const Event& ev) { check_cuda(cudaEventRecord(ev, stream_), "cudaEventRecord"); }
  std::array<Event, 4> phase_;
  // Note [Asynchronous enqueue]: the run whose end is still to be read, and its timed layers.
  struct Pending {
    bool active = false;
    bool graph = false;     // a graph replay
    bool keep = false;      // deferred checks to read
    bool captured = false;  // the run was captured as the graph
  } pending_;
  std::vector<int> timed_;
  std::array<Event, 2> order_;  // orders a run after and before work on a caller's stream
  std::vector<std::pair<Event, Event>> layer_events_;
  std::vector<double> host_ms_ = std::vector<double>(static_cast<size_t>(net_.num_layers()));
  RunTimes times_;
  // Note [CUDA graphs] state.
  cudaGraphExec_t graph_ = nullptr;
  Signature graph_sig_;
  bool have_unsafe_ = false;
  Signature unsafe_sig_;
  std::vector<Launch> launches_;
  bool keep_buffers_ = false;
  bool recording_ = false;
  bool graph_safe_ = true;
  bool in_compute_ = false;
  bool capturing_ = false;
  // Note [Run-time checks] state.
  struct Deferred {
    int layer;
    int* flag;
    std::vector<DeviceTensor> ins, outs;
    std::vector<bool> present;
    std::function<void(const LaunchCtx&)> report;
  };
  int* check_flags_ = nullptr;
  int current_layer_ = 0;
  std::vector<Deferred> deferred_;
};

std::unique_ptr<Executor> CudaState::make_executor() const {
  return std::make_unique<CudaExecutor>(shared_from_this());
}

// Each slot is released after the last layer that reads it; outputs and constants are kept.
// Note [Softmax prologue] (kernel.h): finds each last-axis float SoftMax whose input chain of
// ElementWise layers can run inside the softmax kernel.
void CudaState::find_softmax_chains() {
  std::map<const Layer*, int> position;
  for (int i = 0; i < net_.num_layers(); ++i) position[net_.layer(i)] = i;
  auto is_float = [](DataType t) {
    return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
  };
  for (int i = 0; i < net_.num_layers(); ++i) {
    const Layer* sm = net_.layer(i);
    if (sm->kind() != LayerKind::kSOFTMAX) continue;
    const Tensor* x = sm->input(0);
    const DataType type = x->type();
    const int rank = x->dims().rank();
    if (!is_float(type) || sm->output(0)->type() != type || rank < 1) continue;
    int axis = rank - 1;
    for (int d = 0; d < rank; ++d)
      if (sm->attrs<SoftMaxAttrs>().axes & (1u << d)) axis = d;
    if (axis != rank - 1) continue;
    struct Found {
      const Layer* layer;
      SoftmaxStep step;
      const Tensor* side;  // null: a scalar
    };
    std::vector<Found> steps;  // the last step first
    const Tensor* cur = x;
    while (steps.size() < 2) {
      const Layer* e = cur->producer();
      if (!e || e->kind() != LayerKind::kELEMENTWISE) break;
      const ElementWiseOperation op = e->attrs<ElementWiseAttrs>().op;
      if (op != ElementWiseOperation::kSUM && op != ElementWiseOperation::kSUB &&
          op != ElementWiseOperation::kPROD && op != ElementWiseOperation::kDIV)
        break;
      if (net_.consumers(cur).size() != 1 || output_of_[static_cast<size_t>(index_.at(cur))] >= 0)
        break;
      const Tensor* a = e->input(0);
      const Tensor* b = e->input(1);
      if (a->type() != type || b->type() != type || a->dims().rank() != rank ||
          b->dims().rank() != rank)
        break;
      // The chain goes on through the operand that no Constant layer makes (input 0 when
      // neither or both are constants); the other is the step's side operand.
      auto scalar_of = [](const Tensor* t) -> std::optional<float> {
        const Layer* p = t->producer();
        if (!p || p->kind() != LayerKind::kCONSTANT) return std::nullopt;
        const Weights& w = p->attrs<ConstantAttrs>().weights;
        if (w.count() != 1) return std::nullopt;
        return load_f(w.type(), w.data(), 0);
      };
      auto from_constant = [](const Tensor* t) {
        return t->producer() && t->producer()->kind() == LayerKind::kCONSTANT;
      };
      const bool side_first = from_constant(a) && !from_constant(b);
      const Tensor* side = side_first ? a : b;
      SoftmaxStep st;
      st.op = op;
      st.side_first = side_first;
      if (std::optional<float> v = scalar_of(side)) {
        st.scalar = true;
        st.value = *v;
        side = nullptr;
      }
      steps.push_back({e, st, side});
      cur = side_first ? b : a;
      // x * x: the chain's next tensor is also this step's side operand, so it must be
      // computed; the chain ends with it as the root.
      if (a == b) break;
    }
    if (steps.empty()) continue;
    SoftmaxFusion f;
    f.operands.push_back(cur);
    f.chain.steps = static_cast<int>(steps.size());
    // Steps in application order (the first applied is the last found).
    for (size_t k = 0; k < steps.size(); ++k) {
      const Found& found = steps[steps.size() - 1 - k];
      SoftmaxStep st = found.step;
      if (found.side) {
        st.input = static_cast<int>(f.operands.size());
        f.operands.push_back(found.side);
      }
      f.chain.step[k] = st;
      fused_into_[static_cast<size_t>(position.at(found.layer))] = i;
      f.label += (f.label.empty() ? "" : ", ") + std::string("'") + found.layer->name() + "'";
    }
    f.kernel = make_softmax_chain_kernel(f.chain);
    softmax_fusions_.emplace(i, std::move(f));
  }
}

void CudaState::find_matmul_epilogues() {
  std::map<const Layer*, int> position;
  for (int i = 0; i < net_.num_layers(); ++i) position[net_.layer(i)] = i;
  // The other operand of `e` when it is an ElementWise kSUM of `chain` and a distinct tensor, all
  // of `type`, and no other fusion has it; else null.
  auto sum_with = [&](const Layer* e, const Tensor* chain, DataType type) -> const Tensor* {
    if (!e || e->kind() != LayerKind::kELEMENTWISE ||
        e->attrs<ElementWiseAttrs>().op != ElementWiseOperation::kSUM)
      return nullptr;
    const int at = position.at(e);
    if (fused_into_[static_cast<size_t>(at)] >= 0 || softmax_fusions_.count(at)) return nullptr;
    const Tensor* a = e->input(0);
    const Tensor* b = e->input(1);
    if (a == b) return nullptr;
    const Tensor* other = a == chain ? b : a;
    if (other->type() != type || e->output(0)->type() != type ||
        other->dims().rank() != chain->dims().rank())
      return nullptr;
    return other;
  };
  for (int i = 0; i < net_.num_layers(); ++i) {
    const Layer* mm = net_.layer(i);
    if (mm->kind() != LayerKind::kMATRIX_MULTIPLY || fused_into_[static_cast<size_t>(i)] >= 0)
      continue;
    const Tensor* y = mm->output(0);
    const DataType type = y->type();
    if ((type != DataType::kFLOAT && type != DataType::kHALF && type != DataType::kBF16) ||
        mm->input(0)->type() != type || mm->input(1)->type() != type)
      continue;
    const int rank = y->dims().rank();
    if (rank < 1 || y->dims()[rank - 1] <= 0) continue;
    const int64_t n = y->dims()[rank - 1];
    const Layer* bias_sum = sole_reader(y);
    const Tensor* bias = sum_with(bias_sum, y, type);
    // The bias: a Constant of one value per element of the last axis (the other axes 1).
    if (!bias || !bias->producer() || bias->producer()->kind() != LayerKind::kCONSTANT ||
        !bias->dims().is_static() || bias->dims()[rank - 1] != n || bias->dims().volume() != n)
      continue;
    MatmulFusion f;
    f.matmul = i;
    f.bias_sum = position.at(bias_sum);
    f.bias = bias;
    f.label = "'" + mm->name() + "'";
    int last = f.bias_sum;
    const Layer* residual_sum = sole_reader(bias_sum->output(0));
    if (const Tensor* r = sum_with(residual_sum, bias_sum->output(0), type)) {
      f.residual = r;
      f.label += ", '" + bias_sum->name() + "'";
      last = position.at(residual_sum);
      fused_into_[static_cast<size_t>(f.bias_sum)] = last;
    }
    fused_into_[static_cast<size_t>(i)] = last;
    matmul_fusions_.emplace(last, std::move(f));
  }
}

void CudaState::find_attention() {
  std::map<const Layer*, int> position;
  for (int i = 0; i < net_.num_layers(); ++i) position[net_.layer(i)] = i;
  auto unfused = [&](const Layer* l) {
    return l && fused_into_[static_cast<size_t>(position.at(l))] < 0;
  };
  // The input of the Shuffle that makes `t` when that Shuffle only transposes by `perm` and `t`
  // has no other reader; else null.
  auto transposed = [&](const Tensor* t, std::vector<int32_t> perm) -> const Tensor* {
    const Layer* s = t->producer();
    if (!s || s->kind() != LayerKind::kSHUFFLE || !unfused(s) || !sole_reader(t)) return nullptr;
    const ShuffleAttrs& a = s->attrs<ShuffleAttrs>();
    if (a.first_transpose != perm || a.reshape_dims || !a.second_transpose.empty()) return nullptr;
    for (size_t k = 1; k < s->inputs().size(); ++k)
      if (s->inputs()[k]) return nullptr;
    return s->input(0);
  };
  auto plain_product = [&](const Layer* l) {
    return l && l->kind() == LayerKind::kMATRIX_MULTIPLY && unfused(l) &&
           l->attrs<MatrixMultiplyAttrs>().op0 == MatrixOperation::kNONE;
  };
  const std::vector<int32_t> heads{0, 2, 1, 3};
  for (int i = 0; i < net_.num_layers(); ++i) {
    const Layer* sm = net_.layer(i);
    if (sm->kind() != LayerKind::kSOFTMAX || !unfused(sm)) continue;
    const DataType type = sm->output(0)->type();
    if ((type != DataType::kHALF && type != DataType::kBF16) || sm->input(0)->type() != type ||
        sm->input(0)->dims().rank() != 4 || sm->attrs<SoftMaxAttrs>().axes != (1u << 3))
      continue;
    auto chain = softmax_fusions_.find(i);
    const Tensor* scores =
        chain != softmax_fusions_.end() ? chain->second.operands[0] : sm->input(0);
    const Layer* qk = scores->producer();
    if (!plain_product(qk) || !sole_reader(scores)) continue;
    const Tensor* q = transposed(qk->input(0), heads);
    const MatrixOperation op1 = qk->attrs<MatrixMultiplyAttrs>().op1;
    const Tensor* k = op1 == MatrixOperation::kNONE        ? transposed(qk->input(1), {0, 2, 3, 1})
                      : op1 == MatrixOperation::kTRANSPOSE ? transposed(qk->input(1), heads)
                                                           : nullptr;
    const Layer* pv = sole_reader(sm->output(0));
    if (!q || !k || !plain_product(pv) || pv->input(0) != sm->output(0) ||
        pv->attrs<MatrixMultiplyAttrs>().op1 != MatrixOperation::kNONE)
      continue;
    const Tensor* v = transposed(pv->input(1), heads);
    const Layer* merge = sole_reader(pv->output(0));
    if (!v || !merge || merge->kind() != LayerKind::kSHUFFLE || !unfused(merge)) continue;
    const ShuffleAttrs& ma = merge->attrs<ShuffleAttrs>();
    bool merge_only =
        ma.first_transpose == heads && !ma.reshape_dims && ma.second_transpose.empty();
    for (size_t n = 1; n < merge->inputs().size(); ++n)
      merge_only = merge_only && !merge->inputs()[n];
    if (!merge_only) continue;
    bool typed = true;
    for (const Tensor* t :
         std::initializer_list<const Tensor*>{q, k, v, scores, pv->output(0), merge->output(0)})
      typed = typed && t->type() == type;
    if (!typed) continue;
    AttentionFusion f;
    f.q = q;
    f.k = k;
    f.v = v;
    SoftmaxChain steps;
    if (chain != softmax_fusions_.end()) {
      steps = chain->second.chain;
      f.sides.assign(chain->second.operands.begin() + 1, chain->second.operands.end());
    }
    f.members = {position.at(qk->input(0)->producer()),
                 position.at(qk->input(1)->producer()),
                 position.at(pv->input(1)->producer()),
                 position.at(qk),
                 i,
                 position.at(pv)};
    std::sort(f.members.begin(), f.members.end());
    const int at = position.at(merge);
    for (int m : f.members) fused_into_[static_cast<size_t>(m)] = at;
    f.label = "'" + qk->name() + "', '" + sm->name() + "', '" + pv->name() + "'";
    f.kernel = make_fused_attention_kernel(steps);
    attention_fusions_.emplace(at, std::move(f));
  }
}

void CudaState::plan_lifetimes() {
  release_at_.assign(static_cast<size_t>(net_.num_layers()), {});
  std::vector<int> last_use(index_.size(), -1);
  for (int i = 0; i < net_.num_layers(); ++i) {
    const Layer* l = net_.layer(i);
    for (const Tensor* t : l->outputs()) last_use[static_cast<size_t>(index_.at(t))] = i;
    // A layer fused into a later one reads its inputs when that one runs.
    const int reads_at = std::max(i, runs_at(i));
    for (const Tensor* t : l->inputs())
      if (t) {
        int& u = last_use[static_cast<size_t>(index_.at(t))];
        u = std::max(u, reads_at);
      }
  }
  for (int i = 0; i < net_.num_outputs(); ++i)
    last_use[static_cast<size_t>(index_.at(net_.output(i)))] = -1;
  for (int i = 0; i < net_.num_inputs(); ++i)
    last_use[static_cast<size_t>(index_.at(net_.input(i)))] = -1;  // released after the run
  for (size_t b = 0; b < index_.size(); ++b)
    if (last_use[b] >= 0)
      release_at_[static_cast<size_t>(last_use[b])].push_back(static_cast<int>(b));
}

void CudaState::plan_arena() {
  std::map<const Tensor*, Dims> largest;
  for (const std::map<const Tensor*, Dims>& dims : options_.arena_dims)
    for (const auto& [t, d] : dims) {
      auto it = largest.find(t);
      if (it == largest.end() || (d.is_static() && d.volume() > it->second.volume()))
        largest[t] = d;
    }
  std::vector<int> position(static_cast<size_t>(net_.num_layers()));
  for (int i = 0; i < net_.num_layers(); ++i) {
    const int into = fused_into_[static_cast<size_t>(i)];
    position[static_cast<size_t>(i)] = runs_at(i);
    // A layer run inside another layer's kernel has no output buffer.
    if (into >= 0)
      for (const Tensor* t : net_.layer(i)->outputs()) largest[t] = Dims{0};
  }
  const MemoryPlan plan = plan::plan_memory(net_, largest, position);
  std::map<int, int64_t> slot_bytes, slot_offset;
  for (const MemoryPlan::Assignment& a : plan.assignments)
    slot_bytes[a.slot] = std::max(slot_bytes[a.slot], a.bytes);
  int64_t total = 0;
  for (const auto& [k, bytes] : slot_bytes) {
    slot_offset[k] = total;
    const int64_t aligned =
        checked_add(bytes, int64_t{255}, "CUDA activation arena size") / 256 * 256;
    total = checked_add(total, aligned, "CUDA activation arena size");
  }
  std::map<std::string_view, const MemoryPlan::Assignment*> by_name;
  for (const MemoryPlan::Assignment& a : plan.assignments) by_name[a.tensor] = &a;
  arena_offset_.assign(index_.size(), -1);
  arena_planned_.assign(index_.size(), 0);
  for (const auto& [t, b] : index_) {
    auto it = by_name.find(t->name());
    if (it == by_name.end() || it->second->bytes <= 0) continue;
    arena_offset_[static_cast<size_t>(b)] = slot_offset.at(it->second->slot);
    arena_planned_[static_cast<size_t>(b)] = slot_bytes.at(it->second->slot);
  }
  arena_size_ = static_cast<uint64_t>(total);
}

void CudaState::materialise_constants() {
  constants_.resize(index_.size());
  for (int i = 0; i < net_.num_layers(); ++i) {
    const Layer& l = *net_.layer(i);
    if (l.kind() != LayerKind::kCONSTANT) continue;
    const std::vector<detail::ValueDesc> outs = detail::infer_layer(l.attrs(), l.name(), {}, true);
    auto c = std::make_unique<SharedConstant>();
    c->type = outs.at(0).type;
    c->dims = outs.at(0).dims;
    c->bytes = static_cast<size_t>(c->dims.volume() * element_size(c->type));
    const Weights& w = l.attrs<ConstantAttrs>().weights;
    if (!is_sub_byte(w.type())) {  // already the host representation: no copy
      c->data = static_cast<const uint8_t*>(w.data());
      constants_[static_cast<size_t>(index_.at(l.output(0)))] = std::move(c);
      continue;
    }
    // Note [Size arithmetic]: a constant beyond the host's memory is kOUT_OF_MEMORY naming it.
    allocate_host(c->storage, static_cast<int64_t>(c->bytes),
                  detail::cat("constant '", l.output(0)->name(), "' ", data_type_name(c->type),
                              c->dims.to_string()));
    c->data = c->storage.data();
    cpu::KernelTensor out{c->type, c->dims, c->storage.data()};
    std::vector<cpu::KernelTensor*> out_tensors{&out};
    cpu::KernelCtx ctx(l.name(), l.kind(), {}, out_tensors, 1, nullptr);
    cpu::run_reference(l.attrs<ConstantAttrs>(), ctx);
    constants_[static_cast<size_t>(index_.at(l.output(0)))] = std::move(c);
  }
}

class CudaBackend final : public Backend {
 public:
  DeviceType device() const override { return DeviceType::kCUDA; }
  std::string_view name() const override { return "cuda"; }
  std::string unavailable_reason(int device_index) const override {
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
      cudaGetLastError();
      return detail::cat("no usable CUDA driver or device (cudaGetDeviceCount: ",
                         cudaGetErrorName(err), ", ", cudaGetErrorString(err), ")");
    }
    if (device_index < 0 || device_index >= count)
      return detail::cat("GPU ", device_index, " does not exist (", count, " CUDA device",
                         count == 1 ? "" : "s", " present)");
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, device_index) == cudaSuccess && prop.major < 9)
      return detail::cat("GPU ", device_index, " (", prop.name, ") has compute capability ",
                         prop.major, ".", prop.minor,
                         "; this build targets 9.0 (Hopper) and newer");
    return {};
  }
  Support supports(LayerKind kind, std::span<const DataType>) const override {
    return kernels(kind).empty() ? Support::kUNIMPLEMENTED : Support::kSUPPORTED;
  }
  std::shared_ptr<const EngineState> compile(const Network& network,
                                             const ExecutorOptions& options) const override {
    return std::make_shared<CudaState>(network, options);
  }
  // Device (or managed) memory of GPU `device_index`; any GPU for a negative index.
  bool owns_memory(const void* ptr, int device_index) const override {
    cudaPointerAttributes attr{};
    if (cudaPointerGetAttributes(&attr, ptr) != cudaSuccess) {
      cudaGetLastError();
      return false;
    }
    const bool device = attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged;
    return device && (device_index < 0 || attr.device == device_index);
  }
};

}  // namespace

const Backend& cuda_backend() {
  static const CudaBackend b;
  return b;
}

}  // namespace layerkit::cuda
