// oneDNN implementations (fp32) of Convolution, MatrixMultiply and Pooling, with constant weights
// reordered once into the layout the chosen primitive prefers.
#include <dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>
#include <span>
#include <string_view>

#include "network/layers/conv_geometry.h"
#include "network/layers/matmul_shape.h"
#include "runtime/cpu/kernel_list.h"

namespace layerkit::cpu {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

memory::dims to_dnnl(const Dims& d) {
  return memory::dims(d.begin(), d.end());
}

// Row-major strides of `dims`.
memory::dims dense_strides(const memory::dims& dims) {
  memory::dims s(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

memory::desc plain_desc(const memory::dims& dims) {
  return memory::desc(dims, memory::data_type::f32, dense_strides(dims));
}

bool is_f32(const KernelTensor& t) {
  return t.type == DataType::kFLOAT;
}

// Scratch memory of the calling thread, one buffer per use (0, 1: blocked activations of a
// convolution, 2: a primitive's scratchpad), shared by every primitive the thread runs (layers
// run one at a time), so it costs no memory per layer or per context.
void* scratch(int which, size_t bytes) {
  static thread_local std::vector<uint8_t> buffers[3];
  std::vector<uint8_t>& b = buffers[which];
  if (b.size() < bytes) b.resize(bytes);
  return b.data();
}

// Note [oneDNN scratchpads]: a primitive is shared by every context of an engine and may run on
// several threads at once (Note [Engine state]). oneDNN's default scratchpad (its library mode)
// lets a primitive run only on the thread that made it, so every primitive here is made with
// the user mode and gets the calling thread's scratchpad at each execution.
dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// Runs `prim` and waits for it, so outputs are complete when the layer's step ends.
void execute(const dnnl::primitive& prim, std::unordered_map<int, memory> args) {
  const dnnl_memory_desc_t* md =
      dnnl_primitive_desc_query_md(prim.get_primitive_desc(), dnnl_query_scratchpad_md, 0);
  if (md != nullptr) {
    const memory::desc pad(*md);
    if (const size_t bytes = pad.get_size(); bytes > 0)
      args[DNNL_ARG_SCRATCHPAD] = memory(pad, cpu_engine(), scratch(2, bytes));
  }
  dnnl::stream stream(cpu_engine());
  prim.execute(stream, args);
  stream.wait();
}

memory wrap(const memory::desc& md, const void* data) {
  // oneDNN takes a non-const handle; sources are only read.
  return memory(md, cpu_engine(), const_cast<void*>(data));
}

// Weights and bias of a Convolution: from the tensor inputs when present, else from the layer's
// Weights, which must then be fp32.
struct ConvOperand {
  int input = -1;              // tensor input index, or -1 when it comes from the attributes
  const void* data = nullptr;  // the attributes' data (input == -1)
  bool constant = true;
};

std::optional<ConvOperand> conv_operand(const KernelProblem& p, int input, const Weights& w) {
  ConvOperand op;
  if (p.has_input(input)) {
    if (!is_f32(p.input(input))) return std::nullopt;
    op.input = input;
    op.constant = p.is_constant(input);
    op.data = p.input(input).data;
    return op;
  }
  if (w.empty()) return op;
  if (w.type() != DataType::kFLOAT) return std::nullopt;
  op.data = w.data();
  return op;
}

// ---- Post-ops -----------------------------------------------------------------------------------

// oneDNN's form of fused post-ops (Note [Fusion groups]) on a destination of `dst` dims: the
// attribute and, per binary op, its post-op index, kernel input and descriptor.
struct DnnlPostOps {
  dnnl::primitive_attr attr = user_scratchpad();  // Note [oneDNN scratchpads]
  struct Binary {
    int index = 0;
    int input = 0;
    memory::desc md;
  };
  std::vector<Binary> binaries;
  int count = 0;  // the post-ops (a prefix) this attribute applies; 0: the plain primitive
};

std::optional<dnnl::algorithm> eltwise_algorithm(const ActivationAttrs& a, float* alpha) {
  *alpha = 0.0f;
  switch (a.type) {
    case ActivationType::kRELU:
      return dnnl::algorithm::eltwise_relu;
    case ActivationType::kLEAKY_RELU:
      *alpha = a.alpha;
      return dnnl::algorithm::eltwise_relu;
    case ActivationType::kSIGMOID:
      return dnnl::algorithm::eltwise_logistic;
    case ActivationType::kTANH:
      return dnnl::algorithm::eltwise_tanh;
    case ActivationType::kGELU_ERF:
      return dnnl::algorithm::eltwise_gelu_erf;
    case ActivationType::kGELU_TANH:
      return dnnl::algorithm::eltwise_gelu_tanh;
    default:
      return std::nullopt;
  }
}

std::optional<dnnl::algorithm> binary_algorithm(const PostOp& op) {
  // oneDNN computes dst OP side: side - dst and side / dst have no form.
  switch (op.op) {
    case ElementWiseOperation::kSUM:
      return dnnl::algorithm::binary_add;
    case ElementWiseOperation::kPROD:
      return dnnl::algorithm::binary_mul;
    case ElementWiseOperation::kSUB:
      return op.chain_is_lhs ? std::optional(dnnl::algorithm::binary_sub) : std::nullopt;
    case ElementWiseOperation::kDIV:
      return op.chain_is_lhs ? std::optional(dnnl::algorithm::binary_div) : std::nullopt;
    default:
      return std::nullopt;
  }
}

// The dims of a binary post-op's side operand against a destination of `dst` dims: rank-aligned,
// or, for a destination with fewer axes than the layer's output (a matmul run as an inner product
// on [rows, N]), one value, one per column, or the whole output.
std::optional<memory::dims> side_dims(const PostOp& op, const memory::dims& dst) {
  const Dims& side = op.side->dims;
  const int lead = static_cast<int>(dst.size()) - side.rank();
  if (lead >= 0) {
    memory::dims sd(dst.size(), 1);
    for (int d = 0; d < side.rank(); ++d) sd[static_cast<size_t>(lead + d)] = side[d];
    return sd;
  }
  const BroadcastView& v = op.view;
  if (dst.size() != 2) return std::nullopt;
  if (v.mid == 1) return memory::dims{1, 1};
  if (v.inner == 1 && v.mid == dst[1]) return memory::dims{1, dst[1]};
  if (v.outer == 1 && v.inner == 1) return dst;
  return std::nullopt;
}

// The longest prefix of `ops` with a oneDNN form, binary ops included only with `binary`.
DnnlPostOps dnnl_post_ops(std::span<const PostOp> ops, const memory::dims& dst, bool binary) {
  dnnl::post_ops po;
  DnnlPostOps out;
  std::vector<std::pair<dnnl::algorithm, float>> eltwise;  // those appended so far
  for (size_t k = 0; k < ops.size(); ++k, ++out.count) {
    const PostOp& op = ops[k];
    if (op.kind == PostOp::Kind::kACTIVATION) {
      float alpha = 0.0f;
      const std::optional<dnnl::algorithm> alg = eltwise_algorithm(op.activation, &alpha);
      if (!alg) break;
      // Debian's oneDNN 2.x convolutions apply a second eltwise post-op of one algorithm with
      // the first one's alpha (leaky ReLU then ReLU gave negative values; random_networks found
      // it, Fusion.ConvolutionWithLeakyReluThenRelu pins it): such an op ends the prefix and the
      // vectorized chain applies it.
      const bool clash = std::any_of(eltwise.begin(), eltwise.end(), [&](const auto& e) {
        return e.first == *alg && e.second != alpha;
      });
      if (clash) break;
      eltwise.emplace_back(*alg, alpha);
      po.append_eltwise(1.0f, *alg, alpha, 0.0f);
      continue;
    }
    const std::optional<dnnl::algorithm> alg = binary_algorithm(op);
    const std::optional<memory::dims> sd = side_dims(op, dst);
    if (!binary || !alg || !sd) break;
    const memory::desc md = plain_desc(*sd);
    po.append_binary(*alg, md);
    out.binaries.push_back({static_cast<int>(k), op.input, md});
  }
  out.attr.set_post_ops(po);
  return out;
}

// The post-op attempts for a primitive, most fused first: the longest prefix of the ops oneDNN
// can express, then the longest without binary ops (gemm-based convolutions apply binary post-ops
// element by element, several times slower than the vectorized chain), then none.
std::vector<DnnlPostOps> post_op_attempts(const KernelProblem& p, const memory::dims& dst) {
  std::vector<DnnlPostOps> attempts;
  for (bool binary : {true, false}) {
    DnnlPostOps a = dnnl_post_ops(p.post_ops, dst, binary);
    if (a.count > 0 && (attempts.empty() || a.count < attempts.back().count))
      attempts.push_back(std::move(a));
  }
  attempts.emplace_back();
  return attempts;
}

bool has_binary(const DnnlPostOps& post) {
  return !post.binaries.empty();
}

void add_post_op_args(const DnnlPostOps& post, KernelCtx& ctx,
                      std::unordered_map<int, memory>& args) {
  for (const DnnlPostOps::Binary& b : post.binaries)
    args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(b.index) | DNNL_ARG_SRC_1] =
        wrap(b.md, ctx.input(b.input).data);
}

// ---- Convolution --------------------------------------------------------------------------------

class DnnlConvolution final : public Kernel {
 public:
  // `user_src`/`user_dst` are the plain layouts of the layer's tensors; where the primitive chose
  // blocked ones, run() reorders into and out of them.
  DnnlConvolution(dnnl::convolution_forward::primitive_desc pd, memory::desc user_src,
                  memory::desc user_dst, memory::desc user_weights, ConvOperand weights,
                  ConvOperand bias, bool has_bias, DnnlPostOps post)
      : pd_(std::move(pd)),
        prim_(pd_),
        user_src_(user_src),
        user_dst_(user_dst),
        user_weights_(user_weights),
        weights_(weights),
        bias_(bias),
        has_bias_(has_bias),
        post_(std::move(post)) {
    // Constant weights are reordered once; the reorder is kept for weights that change per run.
    if (weights_.constant) packed_weights_ = prepare_weights(weights_.data);
    if (pd_.src_desc() != user_src_)
      to_blocked_ = dnnl::reorder(dnnl::reorder::primitive_desc(
          cpu_engine(), user_src_, cpu_engine(), pd_.src_desc(), user_scratchpad()));
    if (pd_.dst_desc() != user_dst_)
      from_blocked_ = dnnl::reorder(dnnl::reorder::primitive_desc(
          cpu_engine(), pd_.dst_desc(), cpu_engine(), user_dst_, user_scratchpad()));
  }

  bool blocked() const { return to_blocked_ || from_blocked_; }

  void run(KernelCtx& ctx) const override {
    std::unordered_map<int, memory> args;
    memory src = wrap(user_src_, ctx.input(0).data);
    memory dst = wrap(user_dst_, ctx.output(0).data), user_dst = dst;
    if (to_blocked_) {
      memory b(pd_.src_desc(), cpu_engine(), scratch(0, pd_.src_desc().get_size()));
      execute(*to_blocked_, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, b}});
      src = b;
    }
    if (from_blocked_)
      dst = memory(pd_.dst_desc(), cpu_engine(), scratch(1, pd_.dst_desc().get_size()));
    args[DNNL_ARG_SRC] = src;
    args[DNNL_ARG_DST] = dst;
    args[DNNL_ARG_WEIGHTS] =
        weights_.constant ? packed_weights_ : prepare_weights(ctx.input(weights_.input).data);
    if (has_bias_)
      args[DNNL_ARG_BIAS] =
          wrap(pd_.bias_desc(), bias_.input >= 0 ? ctx.input(bias_.input).data : bias_.data);
    add_post_op_args(post_, ctx, args);
    execute(prim_, args);
    if (from_blocked_) execute(*from_blocked_, {{DNNL_ARG_FROM, dst}, {DNNL_ARG_TO, user_dst}});
  }
  int post_ops_handled() const override { return post_.count; }
  uint64_t prepared_bytes() const override {
    return weights_.constant && pd_.weights_desc() != user_weights_ ? pd_.weights_desc().get_size()
                                                                    : 0;
  }

 private:
  memory prepare_weights(const void* data) const {
    memory user = wrap(user_weights_, data);
    if (pd_.weights_desc() == user_weights_) return user;
    memory packed(pd_.weights_desc(), cpu_engine());
    execute(dnnl::reorder(user, packed), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, packed}});
    return packed;
  }

  dnnl::convolution_forward::primitive_desc pd_;
  dnnl::convolution_forward prim_;
  memory::desc user_src_, user_dst_, user_weights_;
  std::optional<dnnl::reorder> to_blocked_, from_blocked_;
  ConvOperand weights_, bias_;
  bool has_bias_;
  DnnlPostOps post_;
  memory packed_weights_;
};

// Per-axis padding oneDNN needs to produce exactly the output size inference gave: the right
// padding is whatever makes (in + pre + post - extent) / stride + 1 == out hold exactly. For
// kEXPLICIT_ROUND_UP it exceeds the layer's (extra zeros), for kEXPLICIT_ROUND_DOWN it may fall
// below it (the trailing input no window reads).
struct SpatialParams {
  memory::dims stride, dilation, pre, post;  // dilation as oneDNN counts it (0: dense)
  std::vector<int64_t> layer_post;           // the layer's own post padding, resolved
};

template <typename A>
SpatialParams spatial(const A& a, const Dims& window, const Dims& stride_attr,
                      const KernelTensor& x, const KernelTensor& y) {
  const int axes = window.rank();
  std::vector<int64_t> stride = stride_attr.rank() == 0 && std::is_same_v<A, PoolingAttrs>
                                    ? window.to_vector()
                                    : detail::per_axis(stride_attr, axes, 1);
  std::vector<int64_t> dil = detail::per_axis(a.dilation, axes, 1);
  std::vector<int64_t> pre = detail::per_axis(a.pre_padding, axes, 0);
  std::vector<int64_t> post = detail::per_axis(a.post_padding, axes, 0);
  SpatialParams s;
  for (int i = 0; i < axes; ++i) {
    const auto u = static_cast<size_t>(i);
    const int64_t in = x.dims[i + 2], out = y.dims[i + 2];
    const int64_t ext = detail::dilated_extent(window[i], dil[u]);
    detail::AxisGeometry g =
        detail::forward_axis(in, ext, stride[u], pre[u], post[u], a.padding_mode);
    s.stride.push_back(stride[u]);
    s.dilation.push_back(dil[u] - 1);
    s.pre.push_back(g.pre);
    s.post.push_back((out - 1) * stride[u] + ext - in - g.pre);
    s.layer_post.push_back(g.post);
  }
  return s;
}

// Times two candidates for `p` on zero-filled tensors of its dims (one warm-up, then the better of
// two runs, each with the post-ops it leaves to the executor) and returns the faster; a tie keeps
// the first. This is the creation-time tactic choice; it runs once per layer and shape.
std::unique_ptr<Kernel> faster(const KernelProblem& p, std::unique_ptr<Kernel> first,
                               std::unique_ptr<Kernel> second) {
  const KernelTensor& x = p.input(0);
  const KernelTensor& y = p.output(0);
  std::vector<float> xs(static_cast<size_t>(x.numel()), 0.0f), ys(static_cast<size_t>(y.numel()));
  KernelTensor xt{x.type, x.dims, xs.data()}, yt{y.type, y.dims, ys.data()};
  // Kernel inputs as the executor passes them: the layer's, then the post-ops' side operands.
  std::vector<const KernelTensor*> ins(p.inputs.begin(), p.inputs.end());
  ins[0] = &xt;
  for (const PostOp& op : p.post_ops) {
    if (!op.side) continue;
    if (ins.size() <= static_cast<size_t>(op.input)) ins.resize(static_cast<size_t>(op.input) + 1);
    ins[static_cast<size_t>(op.input)] = op.side;
  }
  std::vector<KernelTensor*> outs{&yt};
  KernelCtx ctx(p.layer_name, LayerKind::kCONVOLUTION, ins, outs, p.num_threads, nullptr);
  auto time = [&](Kernel& kernel) {
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < 3; ++i) {
      const auto start = std::chrono::steady_clock::now();
      kernel.run(ctx);
      const auto done = static_cast<size_t>(kernel.post_ops_handled());
      if (done < p.post_ops.size())
        apply_post_ops(ys.data(), ys.data(), y.numel(), p.post_ops.subspan(done), p.num_threads);
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      if (i > 0) best = std::min(best, took.count());
    }
    return best;
  };
  return time(*second) < time(*first) ? std::move(second) : std::move(first);
}

std::unique_ptr<Kernel> make_convolution(const KernelProblem& p) {
  const auto& a = p.as<ConvolutionAttrs>();
  const KernelTensor& x = p.input(0);
  const KernelTensor& y = p.output(0);
  if (!is_f32(x) || !is_f32(y) || x.numel() == 0 || y.numel() == 0) return nullptr;
  std::optional<ConvOperand> w = conv_operand(p, 1, a.kernel);
  std::optional<ConvOperand> b = conv_operand(p, 2, a.bias);
  if (!w || !b || !w->data) return nullptr;
  const bool has_bias = b->input >= 0 || b->data != nullptr;
  // Non-constant tensor inputs are read at run time; their creation-time data is not used.
  if (w->input >= 0 && !w->constant) w->data = nullptr;

  SpatialParams s = spatial(a, a.kernel_size, a.stride, x, y);
  const int64_t groups = a.num_groups, c = x.dims[1], k = a.num_output_maps;
  memory::dims wdims;
  if (groups > 1) wdims.push_back(groups);
  wdims.push_back(k / groups);
  wdims.push_back(c / groups);
  for (int i = 0; i < a.kernel_size.rank(); ++i) wdims.push_back(a.kernel_size[i]);
  // TensorRT's [K, C/groups, k...] is oneDNN's goi... / oi... in the same memory order.
  const memory::desc user_w = plain_desc(wdims);
  const memory::desc src = plain_desc(to_dnnl(x.dims));
  const memory::desc dst = plain_desc(to_dnnl(y.dims));
  const memory::desc any_w(wdims, memory::data_type::f32, Tag::any);
  const memory::desc bias_md = has_bias ? plain_desc({k}) : memory::desc();
  // Two candidates, as a tactic choice: the primitive on the plain layouts, and the one oneDNN
  // prefers on layouts of its choosing (blocked channels) with reorders around it. Binary post-ops
  // stay with the plain candidate (oneDNN applies them to a blocked destination element-wise).
  auto make = [&](bool plain_layout,
                  std::vector<DnnlPostOps> attempts) -> std::unique_ptr<DnnlConvolution> {
    for (DnnlPostOps& post : attempts) {
      if (!plain_layout && has_binary(post)) continue;
      try {
        const memory::desc any_src(src.dims(), memory::data_type::f32, Tag::any);
        const memory::desc any_dst(dst.dims(), memory::data_type::f32, Tag::any);
        dnnl::convolution_forward::desc d(
            dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
            plain_layout ? src : any_src, any_w, bias_md, plain_layout ? dst : any_dst, s.stride,
            s.dilation, s.pre, s.post);
        dnnl::convolution_forward::primitive_desc pd(d, post.attr, cpu_engine());
        if (has_binary(post) &&
            std::string_view(pd.impl_info_str()).find("gemm") != std::string_view::npos)
          continue;
        return std::make_unique<DnnlConvolution>(std::move(pd), src, dst, user_w, *w, *b, has_bias,
                                                 std::move(post));
      } catch (const dnnl::error&) {
        // Not implemented by this oneDNN build: try the next attempt.
      }
    }
    return nullptr;
  };
  std::unique_ptr<DnnlConvolution> plain = make(true, post_op_attempts(p, to_dnnl(y.dims)));
  // Timing needs the weights and bias at creation: constant ones only.
  if (!w->constant || (b->input >= 0 && !b->constant)) return plain;
  std::unique_ptr<DnnlConvolution> blocked = make(false, post_op_attempts(p, to_dnnl(y.dims)));
  if (!blocked || !blocked->blocked()) return plain;
  if (!plain) return blocked;
  return faster(p, std::move(plain), std::move(blocked));
}

// ---- Pooling ------------------------------------------------------------------------------------

class DnnlPooling final : public Kernel {
 public:
  DnnlPooling(const PoolingAttrs& attrs, dnnl::pooling_v2_forward::primitive_desc pd)
      : attrs_(attrs), pd_(std::move(pd)), prim_(pd_) {}
  void run(KernelCtx& ctx) const override {
    const KernelTensor& x = ctx.input(0);
    // oneDNN's max skips NaN where the reference (as ATen) propagates it; an input with a NaN,
    // rare and found by a cheap scan, runs the reference instead.
    if (attrs_.type == PoolingType::kMAX && has_nan(x.as<float>(), x.numel())) {
      run_reference(attrs_, ctx);
      return;
    }
    execute(prim_, {{DNNL_ARG_SRC, wrap(pd_.src_desc(), x.data)},
                    {DNNL_ARG_DST, wrap(pd_.dst_desc(), ctx.output(0).data)}});
  }

 private:
  static bool has_nan(const float* x, int64_t n) {
    bool any = false;
    for (int64_t i = 0; i < n; ++i) any |= x[i] != x[i];
    return any;
  }

  const PoolingAttrs& attrs_;  // the layer's, which outlives the executor's implementations
  dnnl::pooling_v2_forward::primitive_desc pd_;
  dnnl::pooling_v2_forward prim_;
};

// True when some window of the axis reads no input element (only padding): the reference gives
// -inf (max) or 0 (average) there, oneDNN the lowest float or a division by zero.
bool has_empty_window(int64_t in, int64_t out, int64_t window, int64_t stride, int64_t dil,
                      int64_t pre) {
  for (int64_t o = 0; o < out; ++o) {
    bool any = false;
    for (int64_t k = 0; k < window && !any; ++k) {
      const int64_t pos = o * stride - pre + k * dil;
      any = pos >= 0 && pos < in;
    }
    if (!any) return true;
  }
  return false;
}

std::unique_ptr<Kernel> make_pooling(const KernelProblem& p) {
  const auto& a = p.as<PoolingAttrs>();
  const KernelTensor& x = p.input(0);
  const KernelTensor& y = p.output(0);
  if (!is_f32(x) || !is_f32(y) || x.numel() == 0 || y.numel() == 0) return nullptr;
  if (a.type == PoolingType::kMAX_AVERAGE_BLEND) return nullptr;
  SpatialParams s = spatial(a, a.window, a.stride, x, y);
  const int axes = a.window.rank();
  for (int i = 0; i < axes; ++i) {
    const auto u = static_cast<size_t>(i);
    if (has_empty_window(x.dims[i + 2], y.dims[i + 2], a.window[i], s.stride[u], s.dilation[u] + 1,
                         s.pre[u]))
      return nullptr;
    // Counting padding, the reference divides by the window clipped to the layer's padded
    // extent while oneDNN divides by the whole window: equal only when no window passes the
    // layer's own post padding.
    if (a.type == PoolingType::kAVERAGE && !a.average_count_excludes_padding &&
        s.post[u] > s.layer_post[u])
      return nullptr;
  }
  const dnnl::algorithm alg = a.type == PoolingType::kMAX ? dnnl::algorithm::pooling_max
                              : a.average_count_excludes_padding
                                  ? dnnl::algorithm::pooling_avg_exclude_padding
                                  : dnnl::algorithm::pooling_avg_include_padding;
  try {
    dnnl::pooling_v2_forward::desc d(dnnl::prop_kind::forward_inference, alg,
                                     plain_desc(to_dnnl(x.dims)), plain_desc(to_dnnl(y.dims)),
                                     s.stride, to_dnnl(a.window), s.dilation, s.pre, s.post);
    return std::make_unique<DnnlPooling>(
        a, dnnl::pooling_v2_forward::primitive_desc(d, user_scratchpad(), cpu_engine()));
  } catch (const dnnl::error&) {
    return nullptr;
  }
}

// ---- MatrixMultiply -----------------------------------------------------------------------------

class DnnlMatmul final : public Kernel {
 public:
  DnnlMatmul(dnnl::matmul::primitive_desc pd, memory::desc user_a, memory::desc user_b,
             const void* constant_b, DnnlPostOps post)
      : pd_(std::move(pd)), prim_(pd_), user_a_(user_a), user_b_(user_b), post_(std::move(post)) {
    if (constant_b) {
      memory user = wrap(user_b_, constant_b);
      packed_b_ = memory(pd_.weights_desc(), cpu_engine());
      execute(dnnl::reorder(user, packed_b_), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, packed_b_}});
    }
  }
  void run(KernelCtx& ctx) const override {
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, wrap(user_a_, ctx.input(0).data)},
        {DNNL_ARG_WEIGHTS, packed_b_ ? packed_b_ : wrap(user_b_, ctx.input(1).data)},
        {DNNL_ARG_DST, wrap(pd_.dst_desc(), ctx.output(0).data)}};
    add_post_op_args(post_, ctx, args);
    execute(prim_, args);
  }
  int post_ops_handled() const override { return post_.count; }
  uint64_t prepared_bytes() const override { return packed_b_ ? pd_.weights_desc().get_size() : 0; }

 private:
  dnnl::matmul::primitive_desc pd_;
  dnnl::matmul prim_;
  memory::desc user_a_, user_b_;
  DnnlPostOps post_;
  memory packed_b_;  // empty unless B is constant
};

// The strided descriptor of an operand as oneDNN's [batch..., rows, cols] matrix, over its
// stored (possibly transposed, possibly vector) layout. `as_rhs` places a vector as a column.
memory::desc operand_desc(const detail::MatmulOperand& m, bool as_rhs) {
  memory::dims dims(m.batch.begin(), m.batch.end());
  // Stored sizes: a vector is [len], a matrix [rows, cols] or, transposed, [cols, rows].
  const int64_t rows = m.vector && as_rhs ? m.cols : m.rows;
  const int64_t cols = m.vector && as_rhs ? 1 : m.cols;
  const int64_t stored = m.vector ? m.cols : m.rows * m.cols;
  dims.push_back(rows);
  dims.push_back(cols);
  memory::dims strides(dims.size());
  int64_t batch_stride = stored;
  for (size_t i = m.batch.rank(); i-- > 0;) {
    strides[i] = batch_stride;
    batch_stride *= m.batch[static_cast<int>(i)];
  }
  const size_t r = dims.size() - 2;
  if (m.vector) {
    strides[r] = as_rhs ? 1 : m.cols;
    strides[r + 1] = 1;
  } else if (m.transposed) {
    strides[r] = 1;
    strides[r + 1] = m.rows;
  } else {
    strides[r] = m.cols;
    strides[r + 1] = 1;
  }
  return memory::desc(dims, memory::data_type::f32, strides);
}

// A matmul whose B is constant and unbatched, and whose A is plain: oneDNN's inner product on
// [rows of A over all its batches, K] x [N, K]^T, which pre-packs B once (its gemm-based matmul
// repacks B on every call: about half the speed at BERT's 128 rows).
class DnnlInnerProduct final : public Kernel {
 public:
  DnnlInnerProduct(dnnl::inner_product_forward::primitive_desc pd, memory::desc user_weights,
                   const void* weights, DnnlPostOps post)
      : pd_(std::move(pd)), prim_(pd_), post_(std::move(post)) {
    memory user = wrap(user_weights, weights);
    packed_ = memory(pd_.weights_desc(), cpu_engine());
    execute(dnnl::reorder(user, packed_), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, packed_}});
  }
  void run(KernelCtx& ctx) const override {
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, wrap(pd_.src_desc(), ctx.input(0).data)},
                                         {DNNL_ARG_WEIGHTS, packed_},
                                         {DNNL_ARG_DST, wrap(pd_.dst_desc(), ctx.output(0).data)}};
    add_post_op_args(post_, ctx, args);
    execute(prim_, args);
  }
  int post_ops_handled() const override { return post_.count; }
  uint64_t prepared_bytes() const override { return pd_.weights_desc().get_size(); }

 private:
  dnnl::inner_product_forward::primitive_desc pd_;
  dnnl::inner_product_forward prim_;
  DnnlPostOps post_;
  memory packed_;
};

std::unique_ptr<Kernel> make_inner_product(const KernelProblem& p, const detail::MatmulOperand& m0,
                                           const detail::MatmulOperand& m1) {
  if (!p.is_constant(1) || m0.vector || m0.transposed || m1.vector) return nullptr;
  for (int64_t d : m1.batch)
    if (d != 1) return nullptr;
  const int64_t rows = m0.batch.volume() * m0.rows, k = m0.cols, n = m1.cols;
  if (rows == 0 || k == 0 || n == 0) return nullptr;
  // B as the inner product's [N, K] weights over its stored layout.
  const memory::desc user_w({n, k}, memory::data_type::f32,
                            m1.transposed ? memory::dims{k, 1} : memory::dims{1, n});
  const memory::dims dst{rows, n};
  for (DnnlPostOps& post : post_op_attempts(p, dst)) {
    try {
      dnnl::inner_product_forward::desc d(dnnl::prop_kind::forward_inference, plain_desc({rows, k}),
                                          memory::desc({n, k}, memory::data_type::f32, Tag::any),
                                          plain_desc(dst));
      dnnl::inner_product_forward::primitive_desc pd(d, post.attr, cpu_engine());
      return std::make_unique<DnnlInnerProduct>(std::move(pd), user_w, p.input(1).data,
                                                std::move(post));
    } catch (const dnnl::error&) {
      // Not implemented by this oneDNN build: try the next attempt, then the matmul primitive.
    }
  }
  return nullptr;
}

std::unique_ptr<Kernel> make_matmul(const KernelProblem& p) {
  const auto& a = p.as<MatrixMultiplyAttrs>();
  const KernelTensor& x0 = p.input(0);
  const KernelTensor& x1 = p.input(1);
  const KernelTensor& y = p.output(0);
  if (!is_f32(x0) || !is_f32(x1) || !is_f32(y) || y.numel() == 0) return nullptr;
  const detail::MatmulOperand m0 = detail::split_operand(x0.dims, a.op0);
  const detail::MatmulOperand m1 = detail::split_operand(x1.dims, a.op1);
  const int nb = m0.batch.rank();
  if (m1.batch.rank() != nb || nb + 2 > DNNL_MAX_NDIMS || m0.cols == 0) return nullptr;
  if (std::unique_ptr<Kernel> ip = make_inner_product(p, m0, m1)) return ip;
  memory::dims dst_dims;
  for (int i = 0; i < nb; ++i) dst_dims.push_back(m0.batch[i] == 1 ? m1.batch[i] : m0.batch[i]);
  dst_dims.push_back(m0.rows);
  dst_dims.push_back(m1.vector ? 1 : m1.cols);
  const memory::desc user_a = operand_desc(m0, false);
  const memory::desc user_b = operand_desc(m1, true);
  const bool pack_b = p.is_constant(1);
  // A vector operand gives oneDNN a destination with an extra axis of 1; post-ops are fused only
  // where the destination is the layer's output as it is.
  std::vector<DnnlPostOps> attempts =
      dst_dims == to_dnnl(y.dims) ? post_op_attempts(p, dst_dims) : std::vector<DnnlPostOps>(1);
  for (DnnlPostOps& post : attempts) {
    try {
      const memory::desc b_md =
          pack_b ? memory::desc(user_b.dims(), memory::data_type::f32, Tag::any) : user_b;
      dnnl::matmul::desc d(user_a, b_md, plain_desc(dst_dims));
      dnnl::matmul::primitive_desc pd(d, post.attr, cpu_engine());
      return std::make_unique<DnnlMatmul>(std::move(pd), user_a, user_b, pack_b ? x1.data : nullptr,
                                          std::move(post));
    } catch (const dnnl::error&) {
      // Not implemented by this oneDNN build: try without post-ops, then the reference runs it.
    }
  }
  return nullptr;
}

}  // namespace

// Most kinds have no oneDNN entry, so this is a lookup rather than a switch over every kind.
std::vector<KernelEntry> onednn_kernels(LayerKind kind) {
  if (kind == LayerKind::kCONVOLUTION) return {{"onednn", &make_convolution}};
  if (kind == LayerKind::kPOOLING) return {{"onednn", &make_pooling}};
  if (kind == LayerKind::kMATRIX_MULTIPLY) return {{"onednn", &make_matmul}};
  return {};
}

}  // namespace layerkit::cpu
