// The CUDA backend's kernel interface: device tensors, the launch context and per-kind lists.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "layerkit/core/data_type.h"
#include "layerkit/core/dims.h"
#include "layerkit/core/error.h"
#include "layerkit/network/layers.h"

namespace layerkit::cuda {

// A tensor in device memory, in the element representation of Note [Host element
// representation] (sub-byte types one element per byte), so host and device copies are plain
// memcpy and the CPU reference kernels can run on a downloaded copy.
struct DeviceTensor {
  DataType type = DataType::kFLOAT;
  Dims dims;
  void* data = nullptr;
  int64_t numel() const { return dims.volume(); }
  int64_t bytes() const;
  template <typename T>
  T* as() const {
    return static_cast<T*>(data);
  }
};

// Library handles and scratch memory shared by the kernels of one executor (one stream).
struct Libraries;

// Stream-ordered scratch memory a kernel needs for one launch (released after it on the stream).
class Scratch {
 public:
  virtual ~Scratch() = default;
  virtual void* allocate(size_t bytes) = 0;
};

class LaunchCtx;

// Note [Run-time checks]
// A kernel that finds bad data on the device (an out-of-range index, an integer division by
// zero) raises a flag in device memory: ctx.check_flag() gives the launch a zeroed flag, and
// ctx.check(flag, report) calls report when it was raised. Outside CUDA graphs check reads the
// flag at once (the stream is waited for). While the executor records or replays a graph nothing
// may wait mid-run, so the executor defers the check to the end of the run, where report is
// called with a copy of the launch's context (its tensors are still in place: graph runs keep
// every buffer). Either way the run ends in the error; only the moment differs. A report may read
// inputs (downloading them) but not host_input or scratch.
class RunChecks {
 public:
  virtual ~RunChecks() = default;
  virtual int* flag(const LaunchCtx& ctx) = 0;  // zeroed on the stream
  virtual bool deferred() const = 0;
  virtual void defer(const LaunchCtx& ctx, int* flag,
                     std::function<void(const LaunchCtx&)> report) = 0;
};

class LaunchCtx {
 public:
  LaunchCtx(std::string_view layer_name, LayerKind kind, std::span<const DeviceTensor* const> ins,
            std::span<DeviceTensor* const> outs, cudaStream_t stream, Libraries* libs,
            Scratch* scratch, std::function<const void*(int)> host_input = {},
            RunChecks* checks = nullptr)
      : name_(layer_name),
        kind_(kind),
        inputs_(ins),
        outputs_(outs),
        stream_(stream),
        libs_(libs),
        scratch_(scratch),
        host_input_(std::move(host_input)),
        checks_(checks) {}
  // Note [Run-time checks]: a zeroed device flag for this launch, and the check of it.
  int* check_flag() const;
  void check(int* flag, std::function<void(const LaunchCtx&)> report) const;
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  bool has_input(int i) const { return i < num_inputs() && inputs_[static_cast<size_t>(i)]; }
  const DeviceTensor& input(int i) const;
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  const DeviceTensor& output(int i) const;
  cudaStream_t stream() const { return stream_; }
  Libraries& libraries() const { return *libs_; }
  void* scratch(size_t bytes) const { return scratch_->allocate(bytes); }
  std::string_view layer_name() const { return name_; }
  LayerKind kind() const { return kind_; }
  // Input i's elements on the host (copied there, waiting for the stream, if it was only on the
  // device): for the small parameter tensors (slice starts, fill values) a kernel reads itself.
  const void* host_input(int i) const { return host_input_ ? host_input_(i) : nullptr; }

 private:
  std::string_view name_;
  LayerKind kind_;
  std::span<const DeviceTensor* const> inputs_;
  std::span<DeviceTensor* const> outputs_;
  cudaStream_t stream_;
  Libraries* libs_;
  Scratch* scratch_;
  std::function<const void*(int)> host_input_;
  RunChecks* checks_;
};

// One layer's kernel, made for one set of resolved input/output dims and types. Kernels belong
// to the engine and are shared by its contexts (Note [Engine state] in layerkit/runtime/
// backend.h): run() is const and may run on several streams at once, taking everything that
// belongs to one run (stream, library handles, scratch, tensors) from the launch context.
class Kernel {
 public:
  virtual ~Kernel() = default;
  // Enqueues the layer on ctx.stream(). Failures of CUDA calls throw through check_cuda.
  virtual void run(LaunchCtx& ctx) const = 0;
  // Device bytes the kernel prepared when it was made (uploaded weights), for
  // Engine::weights_bytes.
  virtual uint64_t prepared_bytes() const { return 0; }
  // Whether run() reads input i's device tensor. False for a constant the kernel uploaded in a
  // form of its own (convolution weights in the layer's type): the executor then leaves the
  // constant's device copy unmade and passes the input's description without data.
  virtual bool reads_input(int i) const {
    (void)i;
    return true;
  }
};

// What a kernel entry may look at when deciding whether it takes a layer. Input and output
// tensors carry dims and types (and for inputs produced by Constant layers, host_constant points
// at their elements on the host, so weights can be uploaded or repacked once).
struct Problem {
  std::string_view layer_name;
  const LayerAttrs* attrs = nullptr;
  std::span<const DeviceTensor* const> inputs;  // null entries: absent optional inputs
  std::span<const void* const> host_constant;   // per input: host elements of a constant, or null
  std::span<const DeviceTensor* const> outputs;
  Libraries* libraries = nullptr;
  bool has_input(int i) const {
    return i < static_cast<int>(inputs.size()) && inputs[static_cast<size_t>(i)] != nullptr;
  }
  const DeviceTensor& input(int i) const { return *inputs[static_cast<size_t>(i)]; }
  const DeviceTensor& output(int i) const { return *outputs[static_cast<size_t>(i)]; }
  template <typename A>
  const A& as() const {
    return std::get<A>(*attrs);
  }
};

// One entry of a kind's list: `create` returns null when it does not take the problem
// ("unimplemented here": the next entry is tried; after the last, the host fallback runs it).
struct KernelEntry {
  std::string_view name;
  std::unique_ptr<Kernel> (*create)(const Problem& problem);
};

// The kind's entries, fastest first (may be empty: the kind runs on the host fallback).
std::span<const KernelEntry> kernels(LayerKind kind);

// The entries each family contributes (defined beside their kernels).
std::vector<KernelEntry> pointwise_kernels(LayerKind kind);
std::vector<KernelEntry> copy_kernels(LayerKind kind);
std::vector<KernelEntry> reduce_kernels(LayerKind kind);
std::vector<KernelEntry> matmul_kernels(LayerKind kind);
std::vector<KernelEntry> dnn_kernels(LayerKind kind);
std::vector<KernelEntry> gather_kernels(LayerKind kind);
std::vector<KernelEntry> resize_kernels(LayerKind kind);
std::vector<KernelEntry> fill_kernels(LayerKind kind);
std::vector<KernelEntry> collective_kernels(LayerKind kind);
std::vector<KernelEntry> quantize_kernels(LayerKind kind);

// Note [Softmax prologue]
// A last-axis SoftMax whose input is made by a chain of up to two ElementWise layers (attention's
// scale and additive mask: scores * c + mask) runs as one kernel that applies the chain while it
// loads each row, instead of three passes over the score tensor. The executor fuses a chain only
// when every intermediate has the softmax chain as its only reader and is no engine output, and
// every operand has the softmax's float type; each step is computed as its own layer would
// (rounded to that type after each step, no FMA contraction), so the fused result is the
// unfused one, bit for bit. Operands broadcast as ElementWise's do.
struct SoftmaxStep {
  ElementWiseOperation op = ElementWiseOperation::kSUM;
  bool side_first = false;  // the side operand is the layer's input 0 (matters for kSUB, kDIV)
  bool scalar = false;      // the side operand is a one-element constant: `value`
  float value = 0.0f;
  int input = -1;  // otherwise: its index among the kernel's inputs (0 is the chain's root)
};
struct SoftmaxChain {
  int steps = 0;
  SoftmaxStep step[2];
};
// Inputs: 0 the chain's root, then the side tensors; output: the softmax's.
std::unique_ptr<Kernel> make_softmax_chain_kernel(const SoftmaxChain& chain);

// Note [Fused attention]
// Attention as exported models spell it: Q, K and V in [B, S, H, D] (a linear layer's output with
// its heads split by a reshape), each transposed to [B, H, S, D] (K to [B, H, D, S], or to
// [B, H, S, D] read transposed by the product), scores = Q K^T, a softmax prologue chain (Note
// [Softmax prologue]: the scale, an additive mask), the last-axis softmax, P V, and the transpose
// back to [B, Sq, H, D]. In fp16 and bf16 this runs as one kernel that reads Q, K and V in their
// [B, S, H, D] layout, keeps a head's keys and values in shared memory, multiplies on tensor cores
// (fp32 accumulation) and writes the merged layout: no transposed copies, no score tensor in
// memory. Each value is rounded as the layers round theirs (the scores to the type, each chain
// step, the probabilities), so what differs from the layers run one by one is the summation
// order of the products and of the softmax's sum, and the probabilities taken as exponentials
// times the sum's reciprocal (within an fp32 rounding of the quotient, before the rounding to T).
// The executor fuses the chain when every intermediate has one reader and is no engine output; at
// shapes the kernel does not take (head size other than 32, 64 or 128, more than 256 keys, or
// shared memory beyond the device's) the layers run one by one. Whether the kernel takes Q dims [B,
// Sq, H, D], K and V dims [B, Sk, H, D] of type t.
bool fused_attention_takes(DataType t, const Dims& q, const Dims& k, const Dims& v);
// Inputs: Q, K, V ([B, S, H, D]), then the chain's side tensors (its operands 1 and 2, as
// the softmax chain numbers them); output [B, Sq, H, D].
std::unique_ptr<Kernel> make_fused_attention_kernel(const SoftmaxChain& chain);

// Note [MatMul epilogue]
// A MatrixMultiply whose only reader is an ElementWise kSUM with a bias (a constant of one value
// per element of the output's last axis), and optionally that sum's only reader another kSUM with
// a residual of the output's dims (a linear layer, and a transformer's residual connection), runs
// as one cuBLASLt call: D = A B + C + bias, the residual as C (beta 1) and the bias in the
// epilogue, instead of a GEMM and one or two passes over its output. The executor fuses them when
// the intermediates have no other reader and are no engine outputs and every tensor has the
// MatrixMultiply's float type; it runs the layers one by one at shapes the fused call does not
// take (a batch that is no single GEMM, a residual that broadcasts). Unlike the softmax
// prologue this changes rounding: the sum is rounded once, in fp32 arithmetic, where the layers
// round the product and each sum to the type (the results are closer to exact, not equal).
struct MatmulEpilogue {
  bool bias = false;  // set by make_matmul_epilogue_kernel
  bool residual = false;
};
// `matmul`: the MatrixMultiply's problem (its inputs, its output's dims). The kernel's inputs are
// the two factors, the bias, then the residual when there is one; its output is the last fused
// layer's. Null when cuBLASLt does not take the problem as one call.
std::unique_ptr<Kernel> make_matmul_epilogue_kernel(const Problem& matmul,
                                                    const MatmulEpilogue& epilogue);

// NonZero's data-dependent output dims: whether the device counts elements of type `t`, and the
// number of nonzero elements of `x`, counted on the device and copied back (the host waits for
// the stream: the count is the output's shape, needed before the layer and everything after it
// can be set up).
bool counts_nonzero_on_device(DataType t);
int64_t count_nonzero(const DeviceTensor& x, cudaStream_t stream, std::string_view layer);

// Throws a layerkit::Error for a failed CUDA runtime call: kOUT_OF_MEMORY for allocation
// failures (with `bytes` asked for and the device's free memory), else kRUNTIME; the message
// names the layer (when given) and the call.
void check_cuda(cudaError_t err, const char* call, std::string_view layer = {}, size_t bytes = 0);

}  // namespace layerkit::cuda

#define LK_CUDA(call, layer) ::layerkit::cuda::check_cuda((call), #call, (layer))
