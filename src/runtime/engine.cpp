// Engine and ExecutionContext: input binding, profile checks and output access.
#include "layerkit/runtime/engine.h"

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
  return std::make_unique<ExecutionContext>(*this);
}

ExecutionContext::ExecutionContext(const Engine& engine) : engine_(engine) {
  ExecutorOptions options;
  options.num_threads = engine.config().num_threads;
  options.reference_kernels_only = engine.config().reference_kernels_only;
  options.communicator = engine.config().communicator;
  options.device_index = engine.config().device_index;
  options.use_cuda_graph = engine.config().use_cuda_graph;
  executor_ = make_executor(engine.device(), engine.network(), options);
  const Network& net = engine.network();
  for (int i = 0; i < net.num_inputs(); ++i) {
    input_dims_.push_back(net.input(i)->dims());
    input_data_.push_back(nullptr);
    input_device_.push_back(DeviceType::kCPU);
  }
}

ExecutionContext::~ExecutionContext() = default;

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
}

Dims ExecutionContext::get_tensor_shape(std::string_view name) const {
  const Network& net = engine_.network();
  for (int i = 0; i < net.num_inputs(); ++i)
    if (net.input(i)->name() == name) return input_dims_[static_cast<size_t>(i)];
  for (int i = 0; i < net.num_outputs(); ++i) {
    if (net.output(i)->name() != name) continue;
    if (static_cast<size_t>(i) < outputs_.size()) return outputs_[static_cast<size_t>(i)].dims;
    return net.output(i)->dims();
  }
  LK_FAIL(kINVALID_ARGUMENT, "get_tensor_shape: no engine input or output named '", name, "'");
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

void ExecutionContext::execute() {
  // A context holds one run's buffers: a second thread entering it would share them. It is
  // refused instead of racing (the flag is released however execute leaves).
  LK_CHECK(!in_use_.exchange(true, std::memory_order_acquire),
           "execute: the execution context is already running on another thread; create one "
           "context per thread (Engine::create_execution_context)");
  struct Release {
    std::atomic<bool>& flag;
    ~Release() { flag.store(false, std::memory_order_release); }
  } release{in_use_};
  const Network& net = engine_.network();
  std::vector<TensorView> views;
  for (int i = 0; i < net.num_inputs(); ++i) {
    const Tensor* t = net.input(i);
    const Dims& d = input_dims_[static_cast<size_t>(i)];
    LK_CHECK(d.is_static(), "execute: input '", t->name(), "' has dynamic dims ",
             t->dims().to_string(), "; call set_input_shape first");
    LK_CHECK(input_data_[static_cast<size_t>(i)] != nullptr || d.volume() == 0, "execute: input '",
             t->name(), "' has no buffer; call set_input first");
    views.push_back({t->type(), d, input_data_[static_cast<size_t>(i)],
                     input_device_[static_cast<size_t>(i)]});
  }
  outputs_ = executor_->execute(views);
}

const OwnedTensor& ExecutionContext::output(std::string_view name) const {
  const Network& net = engine_.network();
  for (int i = 0; i < net.num_outputs(); ++i) {
    if (net.output(i)->name() != name) continue;
    LK_CHECK(static_cast<size_t>(i) < outputs_.size(), "output('", name,
             "'): execute has not run yet");
    return outputs_[static_cast<size_t>(i)];
  }
  LK_FAIL(kINVALID_ARGUMENT, "output: no engine output named '", name, "'");
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
