// Engine and ExecutionContext: input binding, profile checks and output access.
#include "layerkit/runtime/engine.h"

#include "layerkit/runtime/backend.h"
#include "runtime/plan.h"

namespace layerkit {

Engine::Engine(std::unique_ptr<Network> network, BuilderConfig config, BuildReport report,
               MemoryPlan memory_plan)
    : network_(std::move(network)),
      config_(std::move(config)),
      report_(std::move(report)),
      memory_plan_(std::move(memory_plan)) {}
Engine::~Engine() = default;

int Engine::num_io_tensors() const {
  return network_->num_inputs() + network_->num_outputs();
}

std::string Engine::io_tensor_name(int i) const {
  LK_CHECK(i >= 0 && i < num_io_tensors(), "io_tensor_name: index ", i, " outside 0..",
           num_io_tensors() - 1);
  return i < network_->num_inputs() ? network_->input(i)->name()
                                    : network_->output(i - network_->num_inputs())->name();
}

bool Engine::is_input(std::string_view name) const {
  for (int i = 0; i < network_->num_inputs(); ++i)
    if (network_->input(i)->name() == name) return true;
  return false;
}

std::unique_ptr<ExecutionContext> Engine::create_execution_context() const {
  return make_context(true);
}

std::unique_ptr<ExecutionContext> Engine::create_execution_context_without_device_memory() const {
  return make_context(false);
}

std::unique_ptr<ExecutionContext> Engine::make_context(bool own_memory) const {
  return std::make_unique<ExecutionContext>(*this, own_memory);
}

const EngineState& Engine::state() const {
  std::lock_guard<std::mutex> lock(state_mutex_);
  if (!state_) {
    ExecutorOptions options;
    options.num_threads = config_.num_threads;
    options.reference_kernels_only = config_.reference_kernels_only;
    options.communicator = config_.communicator;
    options.device_index = config_.device_index;
    options.use_cuda_graph = config_.use_cuda_graph;
    for (const OptimizationProfile& p : config_.profiles)
      options.arena_dims.push_back(
          plan::infer_network(*network_, plan::profile_dims(*network_, p, 2)));
    const Backend& b = backend(config_.device);
    if (std::string why = b.unavailable_reason(config_.device_index); !why.empty())
      LK_FAIL(kUNSUPPORTED, "cannot run on ", b.name(), ":", config_.device_index, ": ", why);
    state_ = b.compile(*network_, options);
  }
  return *state_;
}

uint64_t Engine::device_memory_size() const {
  return state().arena_bytes();
}

uint64_t Engine::weights_bytes() const {
  return state().weights_bytes();
}

ExecutionContext::ExecutionContext(const Engine& engine, bool own_memory)
    : engine_(engine), has_memory_(own_memory) {
  executor_ = engine.state().make_executor();
  const Network& net = engine.network();
  for (int i = 0; i < net.num_inputs(); ++i) {
    input_dims_.push_back(net.input(i)->dims());
    input_data_.push_back(nullptr);
    input_device_.push_back(DeviceType::kCPU);
  }
  bound_.resize(static_cast<size_t>(net.num_outputs()));
  outputs_.resize(static_cast<size_t>(net.num_outputs()));
  for (int k = 0; k < net.num_outputs(); ++k) {
    outputs_[static_cast<size_t>(k)].type = net.output(k)->type();
    owned_.push_back(std::make_unique<OwnedTensorAllocator>(outputs_[static_cast<size_t>(k)]));
  }
}

ExecutionContext::~ExecutionContext() = default;

int ExecutionContext::output_index(std::string_view name) const {
  const Network& net = engine_.network();
  for (int k = 0; k < net.num_outputs(); ++k)
    if (net.output(k)->name() == name) return k;
  return -1;
}

int ExecutionContext::input_index(std::string_view name) const {
  const Network& net = engine_.network();
  for (int i = 0; i < net.num_inputs(); ++i)
    if (net.input(i)->name() == name) return i;
  std::string names;
  for (int i = 0; i < net.num_inputs(); ++i)
    names += detail::cat(i ? ", " : "", net.input(i)->name());
  LK_FAIL(kINVALID_ARGUMENT, "no engine input named '", name, "' (inputs: ", names, ")");
}

void ExecutionContext::set_optimization_profile(int index) {
  int n = static_cast<int>(engine_.config().profiles.size());
  LK_CHECK(index >= 0 && index < std::max(n, 1), "set_optimization_profile: profile ", index,
           " does not exist (the engine has ", n, ")");
  profile_ = index;
}

void ExecutionContext::set_input_shape(std::string_view name, const Dims& dims) {
  int i = input_index(name);
  const Dims& decl = engine_.network().input(i)->dims();
  LK_CHECK(dims.rank() == decl.rank(), "set_input_shape('", name, "'): rank ", dims.rank(),
           " but the input has rank ", decl.rank(), " ", decl.to_string());
  LK_CHECK(dims.is_static(), "set_input_shape('", name, "'): ", dims.to_string(),
           " has dynamic entries; give concrete sizes");
  for (int d = 0; d < decl.rank(); ++d)
    LK_CHECK(decl[d] < 0 || decl[d] == dims[d], "set_input_shape('", name, "'): ", dims.to_string(),
             " differs from the static dims ", decl.to_string(), " at axis ", d);
  if (!decl.is_static()) {
    const auto& profiles = engine_.config().profiles;
    LK_ASSERT(profile_ < static_cast<int>(profiles.size()));
    const ProfileDims* p = profiles[static_cast<size_t>(profile_)].dimensions(name);
    LK_ASSERT(p != nullptr);
    for (int d = 0; d < decl.rank(); ++d)
      LK_CHECK(dims[d] >= p->min[d] && dims[d] <= p->max[d], "set_input_shape('", name,
               "'): ", dims.to_string(), " is outside optimization profile ", profile_, " (min ",
               p->min.to_string(), ", max ", p->max.to_string(), ") at axis ", d);
  }
  input_dims_[static_cast<size_t>(i)] = dims;
  inferred_.clear();
  run_dims_ = false;
}

Dims ExecutionContext::get_tensor_shape(std::string_view name) const {
  const Network& net = engine_.network();
  for (int i = 0; i < net.num_inputs(); ++i)
    if (net.input(i)->name() == name) return input_dims_[static_cast<size_t>(i)];
  const int k = output_index(name);
  LK_CHECK(k >= 0, "get_tensor_shape: no engine input or output named '", name, "'");
  // After a run at the current input shapes: what it produced (data-dependent dims resolved).
  if (run_dims_) return executor_->output_dims().at(static_cast<size_t>(k));
  return inferred_shape(k);
}

Dims ExecutionContext::inferred_shape(int k) const {
  const Network& net = engine_.network();
  for (const Dims& d : input_dims_)
    if (!d.is_static()) return net.output(k)->dims();  // an input shape is not set yet
  if (inferred_.empty()) {
    std::map<const Tensor*, Dims> in;
    for (int i = 0; i < net.num_inputs(); ++i)
      in[net.input(i)] = input_dims_[static_cast<size_t>(i)];
    const std::map<const Tensor*, Dims> all = plan::infer_network(net, in);
    for (int o = 0; o < net.num_outputs(); ++o) inferred_.push_back(all.at(net.output(o)));
  }
  return inferred_[static_cast<size_t>(k)];
}

void ExecutionContext::set_input(std::string_view name, const void* data, DeviceType device) {
  int i = input_index(name);
  // Host buffers serve every engine (staged to the device by its executor); device buffers only
  // the engine of that device.
  LK_CHECK(device == DeviceType::kCPU || device == engine_.device(), "set_input('", name,
           "'): buffer is on ", device_type_name(device), " but the engine runs on ",
           device_type_name(engine_.device()));
  input_data_[static_cast<size_t>(i)] = data;
  input_device_[static_cast<size_t>(i)] = device;
}

namespace {

// A context holds one run's buffers and bindings: a second thread entering enqueue or execute
// would share them. It is refused instead of racing; the flag is released however the run
// leaves.
class RunGuard {
 public:
  RunGuard(std::atomic<bool>& in_use, const char* what) : in_use_(in_use) {
    LK_CHECK(!in_use_.exchange(true, std::memory_order_acquire), what,
             ": the execution context is already running on another thread; create one "
             "context per thread (Engine::create_execution_context)");
  }
  ~RunGuard() { in_use_.store(false, std::memory_order_release); }
  RunGuard(const RunGuard&) = delete;
  RunGuard& operator=(const RunGuard&) = delete;

 private:
  std::atomic<bool>& in_use_;
};

}  // namespace

// Note [Output binding]
// A layer's output that is an engine output is allocated straight in the memory bound to it
// (set_tensor_address, or what its OutputAllocator returns when the layer's dims are resolved),
// so the kernel (or a fusion group's last step) writes the final result there: no copy. Outputs
// no layer writes are copied into their memory after the run: an engine input or a constant
// marked as output, and outputs of sub-byte types (INT4, FP4), which executors hold one element
// per byte and pack on the way out. On CUDA, so are outputs the host computes (the shape
// program, layers without a CUDA kernel) and outputs bound to host memory (the simple path).

void ExecutionContext::check_address(std::string_view name, const void* ptr) const {
  LK_CHECK(ptr != nullptr, "set_tensor_address('", name, "'): the address is null");
  const Backend& b = backend(engine_.device());
  LK_CHECK(b.owns_memory(ptr, engine_.config().device_index), "set_tensor_address('", name,
           "'): the buffer at ", ptr, " is not ", b.name(), " memory",
           engine_.device() == DeviceType::kCUDA
               ? detail::cat(" of GPU ", engine_.config().device_index)
               : std::string(" (it is device memory)"),
           "; the engine runs on ", device_type_name(engine_.device()));
}

void ExecutionContext::set_tensor_address(std::string_view name, void* ptr) {
  set_tensor_address(name, ptr, OutputBinding::kUnknownCapacity);
}

void ExecutionContext::set_tensor_address(std::string_view name, void* ptr, uint64_t bytes) {
  const int k = output_index(name);
  if (k < 0 && !engine_.is_input(name)) {
    std::string names;
    for (int i = 0; i < engine_.num_io_tensors(); ++i)
      names += detail::cat(i ? ", " : "", engine_.io_tensor_name(i));
    LK_FAIL(kINVALID_ARGUMENT, "set_tensor_address: no engine input or output named '", name,
            "' (tensors: ", names, ")");
  }
  check_address(name, ptr);
  if (k < 0) {
    const int i = input_index(name);
    input_data_[static_cast<size_t>(i)] = ptr;
    input_device_[static_cast<size_t>(i)] = engine_.device();
    return;
  }
  bound_[static_cast<size_t>(k)] = {ptr, bytes, nullptr};
}

void* ExecutionContext::get_tensor_address(std::string_view name) const {
  if (const int k = output_index(name); k >= 0) return bound_[static_cast<size_t>(k)].data;
  return const_cast<void*>(input_data_[static_cast<size_t>(input_index(name))]);
}

void ExecutionContext::set_output_allocator(std::string_view name, OutputAllocator* allocator) {
  const int k = output_index(name);
  LK_CHECK(k >= 0, "set_output_allocator: no engine output named '", name, "'");
  LK_CHECK(allocator != nullptr, "set_output_allocator('", name, "'): the allocator is null");
  bound_[static_cast<size_t>(k)] = {nullptr, OutputBinding::kUnknownCapacity, allocator};
}

OutputAllocator* ExecutionContext::get_output_allocator(std::string_view name) const {
  const int k = output_index(name);
  LK_CHECK(k >= 0, "get_output_allocator: no engine output named '", name, "'");
  return bound_[static_cast<size_t>(k)].allocator;
}

void ExecutionContext::set_device_memory(void* ptr, uint64_t bytes) {
  LK_CHECK(ptr != nullptr, "set_device_memory: the address is null");
  const uint64_t need = engine_.device_memory_size();
  LK_CHECK(bytes >= need, "set_device_memory: ", bytes, " bytes is less than the ", need,
           " bytes the engine needs (Engine::device_memory_size)");
  executor_->set_arena(ptr, bytes);
  has_memory_ = true;
}

uint64_t ExecutionContext::memory_bytes() const {
  return executor_->memory_bytes();
}

void ExecutionContext::run(const std::vector<OutputBinding>& outputs, void* stream) {
  LK_CHECK(has_memory_,
           "enqueue: the context was made without device memory; call "
           "set_device_memory with ",
           engine_.device_memory_size(), " bytes first");
  const Network& net = engine_.network();
  std::vector<TensorView> views;
  for (int i = 0; i < net.num_inputs(); ++i) {
    const Tensor* t = net.input(i);
    const Dims& d = input_dims_[static_cast<size_t>(i)];
    LK_CHECK(d.is_static(), "execute: input '", t->name(), "' has dynamic dims ",
             t->dims().to_string(), "; call set_input_shape first");
    LK_CHECK(input_data_[static_cast<size_t>(i)] != nullptr || d.volume() == 0, "execute: input '",
             t->name(), "' has no buffer; call set_tensor_address or set_input first");
    views.push_back(
        {t->type(), d, input_data_[static_cast<size_t>(i)], input_device_[static_cast<size_t>(i)]});
  }
  // Outputs whose size is known before the run are checked against their buffers now.
  for (int k = 0; k < net.num_outputs(); ++k) {
    const OutputBinding& o = outputs[static_cast<size_t>(k)];
    if (o.data == nullptr) continue;
    // Inferred, not the last run's: a data-dependent size may differ in this run.
    const Dims d = inferred_shape(k);
    if (!d.is_static()) {
      LK_CHECK(o.capacity != OutputBinding::kUnknownCapacity, "enqueue: output '",
               net.output(k)->name(), "' has the data-dependent shape ", d.to_string(),
               "; bind it with set_output_allocator, or give set_tensor_address its size");
      continue;
    }
    const auto need = static_cast<uint64_t>(packed_bytes(net.output(k)->type(), d.volume()));
    LK_CHECK(o.capacity == OutputBinding::kUnknownCapacity || o.capacity >= need,
             "enqueue: output '", net.output(k)->name(), "' has shape ", d.to_string(), " (",
             data_type_name(net.output(k)->type()), ": ", need, " bytes) but its buffer holds ",
             o.capacity, " bytes");
  }
  run_dims_ = false;
  executor_->enqueue(views, outputs, stream);
  run_dims_ = true;
}

void ExecutionContext::enqueue(void* stream) {
  const RunGuard guard(in_use_, "enqueue");
  const Network& net = engine_.network();
  std::vector<OutputBinding> outputs;
  for (int k = 0; k < net.num_outputs(); ++k) {
    const Bound& b = bound_[static_cast<size_t>(k)];
    LK_CHECK(b.data != nullptr || b.allocator != nullptr, "enqueue: output '",
             net.output(k)->name(),
             "' is not bound; call set_tensor_address or set_output_allocator (or use execute)");
    outputs.push_back({b.data, b.bytes, b.allocator, engine_.device()});
  }
  ran_ = false;
  run(outputs, stream);
}

void ExecutionContext::synchronize() {
  executor_->synchronize();
}

void ExecutionContext::execute() {
  const RunGuard guard(in_use_, "execute");
  const Network& net = engine_.network();
  std::vector<OutputBinding> outputs;
  for (int k = 0; k < net.num_outputs(); ++k) {
    const Bound& b = bound_[static_cast<size_t>(k)];
    if (b.data != nullptr || b.allocator != nullptr)
      outputs.push_back({b.data, b.bytes, b.allocator, engine_.device()});
    else
      outputs.push_back({nullptr, OutputBinding::kUnknownCapacity,
                         owned_[static_cast<size_t>(k)].get(), DeviceType::kCPU});
  }
  ran_ = false;
  run(outputs, nullptr);
  executor_->synchronize();
  ran_ = true;
}

const OwnedTensor& ExecutionContext::output(std::string_view name) const {
  const int k = output_index(name);
  LK_CHECK(k >= 0, "output: no engine output named '", name, "'");
  const Bound& b = bound_[static_cast<size_t>(k)];
  LK_CHECK(b.data == nullptr && b.allocator == nullptr, "output('", name,
           "'): the output is bound by set_tensor_address or set_output_allocator; read it there");
  LK_CHECK(ran_, "output('", name, "'): execute has not run yet");
  return outputs_[static_cast<size_t>(k)];
}

void ExecutionContext::set_profiling(bool on) {
  executor_->set_profiling(on);
}

RunTimes ExecutionContext::last_run_times() const {
  return executor_->last_run_times();
}

std::vector<LayerProfile> ExecutionContext::profile() const {
  return executor_->profile();
}

std::string ExecutionContext::layer_implementation(std::string_view layer_name) const {
  const Network& net = engine_.network();
  for (int i = 0; i < net.num_layers(); ++i)
    if (net.layer(i)->name() == layer_name) return std::string(executor_->implementation(i));
  LK_FAIL(kINVALID_ARGUMENT, "layer_implementation: the engine has no layer '", layer_name, "'");
}

}  // namespace layerkit
