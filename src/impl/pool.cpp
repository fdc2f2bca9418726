// Pooling building blocks: avg/max pooling on one Pooling layer with ATen's output sizes, sum
// pooling (divisor_override) through a ones-kernel Convolution, adaptive pooling composed from
// Gather + Reduce per spatial axis.
#include "layerkit/impl/pool.h"

#include <algorithm>

#include "impl/shape_math.h"
#include "impl/spatial_util.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::pool {

namespace {

using E = ElementWiseOperation;
namespace sm = shape_math;

struct Window {
  int n = 0;
  std::vector<int64_t> kernel, stride, padding, dilation;
  bool ceil_mode = false;
};

Window make_window(const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride,
                   const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation,
                   bool ceil_mode) {
  Window w;
  LK_CHECK(kernel.size() >= 1 && kernel.size() <= 3, "kernel ", spatial::list(kernel),
           " must have 1 to 3 entries (one per spatial axis)");
  w.n = static_cast<int>(kernel.size());
  w.kernel = kernel;
  w.stride = spatial::expand(stride.empty() ? kernel : stride, w.n, std::nullopt, "stride");
  w.padding = spatial::expand(padding, w.n, 0, "padding");
  w.dilation = spatial::expand(dilation, w.n, 1, "dilation");
  w.ceil_mode = ceil_mode;
  for (int i = 0; i < w.n; ++i) {
    LK_CHECK(w.kernel[i] >= 1, "kernel ", spatial::list(w.kernel), " must be >= 1");
    LK_CHECK(w.stride[i] >= 1, "stride ", spatial::list(w.stride), " must be >= 1");
    LK_CHECK(w.dilation[i] >= 1, "dilation ", spatial::list(w.dilation), " must be >= 1");
    LK_CHECK(w.padding[i] >= 0, "negative padding ", spatial::list(w.padding),
             " is not supported (as torch)");
    LK_CHECK(w.padding[i] <= w.kernel[i] / 2, "padding ", spatial::list(w.padding),
             " must be at most half the kernel ", spatial::list(w.kernel), " (as torch)");
  }
  return w;
}

int64_t extent(const Window& w, int i) {
  return w.dilation[i] * (w.kernel[i] - 1) + 1;
}

// ATen's pooling_output_shape.
int64_t aten_output_size(const Window& w, int i, int64_t in) {
  int64_t num = in + 2 * w.padding[i] - extent(w, i) + (w.ceil_mode ? w.stride[i] - 1 : 0);
  int64_t out = (num >= 0 ? num / w.stride[i] : -((-num + w.stride[i] - 1) / w.stride[i])) + 1;
  if (w.ceil_mode && (out - 1) * w.stride[i] >= in + w.padding[i]) --out;
  return out;
}

// Validates the spatial sizes known at build time, as ATen does.
void check_sizes(const Window& w, const Tensor* input, const Dims& xd) {
  for (int i = 0; i < w.n; ++i) {
    int64_t in = xd[2 + i];
    if (in == -1) continue;
    LK_CHECK(in + 2 * w.padding[i] >= extent(w, i), "kernel ", spatial::list(w.kernel),
             " (dilation ", spatial::list(w.dilation), ") is larger than the padded input ",
             input->dims().to_string(), " + padding ", spatial::list(w.padding),
             " on spatial axis ", i);
    int64_t out = aten_output_size(w, i, in);
    LK_CHECK(out >= 1, "output size ", out, " on spatial axis ", i, " is too small (input ",
             input->dims().to_string(), ")");
  }
}

// The layer's kEXPLICIT_ROUND_UP keeps a last window that starts in the right padding; ATen
// drops it. Crops that window where it can occur (statically known or via shape arithmetic).
Tensor* crop_ceil_overhang(ConversionContext& ctx, const Target& target,
                           std::optional<SourceIR> source_ir, std::string_view name,
                           const Window& w, Tensor* x, Tensor* y) {
  if (!w.ceil_mode) return y;
  std::vector<int64_t> axes;
  std::vector<std::optional<int64_t>> sizes;
  for (int i = 0; i < w.n; ++i) {
    int64_t in = x->dims()[2 + i];
    if (in != -1) {
      if (aten_output_size(w, i, in) < y->dims()[2 + i]) {
        axes.push_back(2 + i);
        sizes.push_back(aten_output_size(w, i, in));
      }
    } else if (w.stride[i] > extent(w, i) - w.padding[i]) {
      // A drop needs (O-1)*S >= I + p with (O-1)*S < I + 2p - DK + S: only possible here.
      axes.push_back(2 + i);
      sizes.push_back(std::nullopt);
    }
  }
  if (axes.empty()) return y;
  std::string crop = sub_name(name, "ceil_crop");
  Dims start = Dims::of_rank(static_cast<int>(axes.size()), 0);
  Dims stride = Dims::of_rank(static_cast<int>(axes.size()), 1);
  Dims size = Dims::of_rank(static_cast<int>(axes.size()), 0);
  bool all_static = std::all_of(sizes.begin(), sizes.end(), [](auto& s) { return s.has_value(); });
  Tensor* axes_c =
      named_output(ctx,
                   ctx.net().add_constant({static_cast<int64_t>(axes.size())},
                                          Weights::from_vector(DataType::kINT64, axes)),
                   target, source_ir, sub_name(crop, "axes"));
  SliceInputs in;
  in.axes = axes_c;
  if (all_static) {
    for (size_t j = 0; j < sizes.size(); ++j) size[static_cast<int>(j)] = *sizes[j];
  } else {
    std::vector<Tensor*> parts;
    for (size_t j = 0; j < axes.size(); ++j) {
      int i = static_cast<int>(axes[j]) - 2;
      std::string ax = sub_name(crop, detail::cat("axis", i));
      if (sizes[j]) {
        parts.push_back(sm::i64_const(ctx, {*sizes[j]}, target, source_ir, sub_name(ax, "size")));
        continue;
      }
      // O = O_up - ((O_up - 1) * S > I + p - 1)
      Tensor* in_dim = sm::dim_size(ctx, x, 2 + i, target, source_ir, sub_name(ax, "input_size"));
      Tensor* up = sm::dim_size(ctx, y, 2 + i, target, source_ir, sub_name(ax, "round_up"));
      Tensor* one = sm::i64_const(ctx, {1}, target, source_ir, sub_name(ax, "one"));
      Tensor* s = sm::i64_const(ctx, {w.stride[i]}, target, source_ir, sub_name(ax, "stride"));
      Tensor* last = sm::binary(
          ctx, sm::binary(ctx, up, one, E::kSUB, target, source_ir, sub_name(ax, "last")), s,
          E::kPROD, target, source_ir, sub_name(ax, "last_start"));
      Tensor* p1 = sm::i64_const(ctx, {w.padding[i] - 1}, target, source_ir, sub_name(ax, "pad"));
      Tensor* lim = sm::binary(ctx, in_dim, p1, E::kSUM, target, source_ir, sub_name(ax, "limit"));
      Tensor* drop =
          sm::binary(ctx, last, lim, E::kGREATER, target, source_ir, sub_name(ax, "drops"));
      drop = cast_to(ctx, drop, DataType::kINT64, target, source_ir, sub_name(ax, "drops_int"));
      parts.push_back(sm::binary(ctx, up, drop, E::kSUB, target, source_ir, sub_name(ax, "size")));
    }
    in.size = named_output(ctx, ctx.net().add_concatenation(parts, 0), target, source_ir,
                           sub_name(crop, "sizes"));
    size = Dims::of_rank(static_cast<int>(axes.size()), 1);  // replaced by the size tensor
  }
  return named_output(ctx,
                      ctx.net().add_slice(y, start, size, stride, SampleMode::kSTRICT_BOUNDS, in),
                      target, source_ir, crop);
}

void check_input(const Tensor* input, int n, std::string_view what) {
  LK_CHECK(input != nullptr, "input is a null tensor");
  DataType t = input->type();
  LK_CHECK(t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16, "input is ",
           data_type_name(t), "; ", what, " takes float32, float16 or bfloat16");
  int rank = input->dims().rank();
  LK_CHECK(rank == n + 2 || rank == n + 1, "input ", input->dims().to_string(), " has rank ", rank,
           "; ", n, "D ", what, " takes rank ", n + 2, " (or ", n + 1, " unbatched)");
  for (int i = 0; i < rank; ++i)
    LK_CHECK(input->dims()[i] != 0 || (rank == n + 2 && i == 0), "input ",
             input->dims().to_string(), " has an empty non-batch dim");
}

// The Pooling layer over per-axis windows; pre and post padding may differ.
Layer* add_pooling(ConversionContext& ctx, Tensor* x, PoolingType type,
                   const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride,
                   const std::vector<int64_t>& pre, const std::vector<int64_t>& post,
                   const std::vector<int64_t>& dilation, bool ceil_mode, bool count_include_pad) {
  auto dims = [](const std::vector<int64_t>& v) { return Dims(std::span<const int64_t>(v)); };
  PoolingAttrs a;
  a.type = type;
  a.window = dims(kernel);
  a.stride = dims(stride);
  a.pre_padding = dims(pre);
  a.post_padding = dims(post);
  if (type == PoolingType::kMAX) a.dilation = dims(dilation);
  a.padding_mode = ceil_mode ? PaddingMode::kEXPLICIT_ROUND_UP : PaddingMode::kEXPLICIT_ROUND_DOWN;
  a.average_count_excludes_padding = !count_include_pad;
  return ctx.net().add_pooling_nd(x, a);
}

Tensor* pooling_layer(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Tensor* x,
                      const Window& w, PoolingType type, bool count_include_pad) {
  // With post padding = p, the layer's count_include_pad divisor is the window clipped to
  // [-p, I + p), ATen's rule.
  Layer* l = add_pooling(ctx, x, type, w.kernel, w.stride, w.padding, w.padding, w.dilation,
                         w.ceil_mode, count_include_pad);
  Tensor* pooled = named_output(ctx, l, target, source_ir, name);
  return crop_ceil_overhang(ctx, target, source_ir, name, w, x, pooled);
}

// sum(window) / divisor: each (n, c) plane convolved with a ones kernel (padding reads 0), in
// fp32 (Note [Precision policy]).
Tensor* sum_pool(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* x, const Window& w, int64_t divisor) {
  DataType t = x->type();
  Tensor* xf = cast_to(ctx, x, DataType::kFLOAT, target, source_ir, sub_name(name, "upcast"));
  int rank = w.n + 2;
  ShuffleAttrs planes;
  Dims pd = Dims::of_rank(rank, 0);
  pd[0] = -1;
  pd[1] = 1;
  planes.reshape_dims = pd;
  planes.zero_is_placeholder = true;
  Tensor* sp = named_output(ctx, ctx.net().add_shuffle(xf, planes), target, source_ir,
                            sub_name(name, "planes"));
  ConvolutionAttrs a;
  a.num_output_maps = 1;
  a.kernel_size = Dims::of_rank(w.n);
  a.stride = Dims::of_rank(w.n);
  a.pre_padding = Dims::of_rank(w.n);
  a.post_padding = Dims::of_rank(w.n);
  int64_t count = 1;
  for (int i = 0; i < w.n; ++i) {
    a.kernel_size[i] = w.kernel[i];
    a.stride[i] = w.stride[i];
    a.pre_padding[i] = a.post_padding[i] = w.padding[i];
    count *= w.kernel[i];
  }
  a.padding_mode =
      w.ceil_mode ? PaddingMode::kEXPLICIT_ROUND_UP : PaddingMode::kEXPLICIT_ROUND_DOWN;
  a.kernel = Weights::from_vector(DataType::kFLOAT, std::vector<float>(count, 1.0f));
  Tensor* conv = named_output(ctx, ctx.net().add_convolution_nd(sp, a), target, source_ir,
                              sub_name(name, "sum"));
  Tensor* s = crop_ceil_overhang(ctx, target, source_ir, sub_name(name, "sum"), w, sp, conv);
  Tensor* d = scalar_constant(ctx, static_cast<double>(divisor), DataType::kFLOAT,
                              Dims::of_rank(rank, 1), target, source_ir, sub_name(name, "divisor"));
  Tensor* div = named_output(ctx, ctx.net().add_elementwise(s, d, E::kDIV), target, source_ir,
                             sub_name(name, "divide"));
  // Back to [N, C, O...]: N and C from the input, O from the result (placeholders).
  const Dims& xd = x->dims();
  Layer* back = nullptr;
  if (xd[0] != -1 || xd[1] != -1) {
    ShuffleAttrs r;
    Dims rd = Dims::of_rank(rank, 0);
    rd[0] = xd[0];
    rd[1] = xd[1];
    r.reshape_dims = rd;
    r.zero_is_placeholder = true;
    back = ctx.net().add_shuffle(div, r);
  } else {
    Tensor* xs =
        named_output(ctx, ctx.net().add_shape(x), target, source_ir, sub_name(name, "input_shape"));
    Tensor* nc = named_output(ctx, ctx.net().add_slice(xs, {0}, {2}, {1}), target, source_ir,
                              sub_name(name, "batch_channels"));
    Tensor* ys = named_output(ctx, ctx.net().add_shape(div), target, source_ir,
                              sub_name(name, "output_shape"));
    Tensor* o = named_output(ctx, ctx.net().add_slice(ys, {2}, {w.n}, {1}), target, source_ir,
                             sub_name(name, "output_sizes"));
    std::vector<Tensor*> parts{nc, o};
    Tensor* cat = named_output(ctx, ctx.net().add_concatenation(parts, 0), target, source_ir,
                               sub_name(name, "shape"));
    back = ctx.net().add_shuffle(div, {}, cat);
  }
  set_layer_name(ctx, back, target, source_ir, sub_name(name, "unplanes"));
  return cast_to(ctx, back->output(0), t, target, source_ir, name);
}

Tensor* pool_impl(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Tensor* input, const Window& w, PoolingType type,
                  bool count_include_pad, std::optional<int64_t> divisor_override,
                  std::string_view what) {
  check_input(input, w.n, what);
  bool unbatched = input->dims().rank() == w.n + 1;
  Tensor* x = unbatched ? spatial::add_batch(ctx, input, target, source_ir, name) : input;
  check_sizes(w, input, x->dims());
  Tensor* y = divisor_override
                  ? sum_pool(ctx, target, source_ir, name, x, w, *divisor_override)
                  : pooling_layer(ctx, target, source_ir, name, x, w, type, count_include_pad);
  return unbatched ? spatial::remove_batch(ctx, y, target, source_ir, name) : y;
}

// Adaptive pooling, axis by axis (both reductions are separable over a product window): gather
// each cell's window [floor(i*I/O), ceil((i+1)*I/O)) as a row of L = max length indices, then
// reduce the row. Short windows repeat their last index (max) or point at an appended zero
// (sum); the sums are divided by the window volumes at the end.
Tensor* adaptive_impl(ConversionContext& ctx, const Target& target,
                      std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                      const std::vector<int64_t>& output_size, bool is_max) {
  LK_CHECK(output_size.size() >= 1 && output_size.size() <= 3, "output_size ",
           spatial::list(output_size), " must have 1 to 3 entries");
  int n = static_cast<int>(output_size.size());
  check_input(input, n, is_max ? "adaptive max pooling" : "adaptive average pooling");
  for (int64_t o : output_size)
    LK_CHECK(o >= 1, "output_size ", spatial::list(output_size), " must be >= 1");
  DataType t = input->type();
  int rank = input->dims().rank();
  Tensor* x =
      is_max ? input
             : cast_to(ctx, input, DataType::kFLOAT, target, source_ir, sub_name(name, "upcast"));
  std::vector<std::vector<int64_t>> lengths(static_cast<size_t>(n));
  bool any_sum = false;
  for (int i = 0; i < n; ++i) {
    int axis = rank - n + i;
    int64_t in = input->dims()[axis], out = output_size[static_cast<size_t>(i)];
    std::string ax = sub_name(name, detail::cat("axis", i));
    auto& len = lengths[static_cast<size_t>(i)];
    if (out == 1) {  // the whole axis: works for dynamic sizes too
      x = named_output(
          ctx,
          ctx.net().add_reduce(x, is_max ? ReduceOperation::kMAX : ReduceOperation::kAVG,
                               AxesMask{1} << axis, true),
          target, source_ir, ax);
      len.assign(1, 1);
      continue;
    }
    LK_CHECK(in != -1, "input ", input->dims().to_string(), " spatial axis ", i,
             " must be known at build time for output size ", out,
             " (only output size 1 is supported for dynamic sizes)");
    if (in == out) {
      len.assign(static_cast<size_t>(out), 1);
      continue;
    }
    int64_t max_len = 0;
    for (int64_t o = 0; o < out; ++o) {
      int64_t start = o * in / out, end = ((o + 1) * in + out - 1) / out;
      len.push_back(end - start);
      max_len = std::max(max_len, end - start);
    }
    bool ragged =
        !is_max && std::any_of(len.begin(), len.end(), [&](int64_t l) { return l != max_len; });
    std::vector<int32_t> idx;
    for (int64_t o = 0; o < out; ++o) {
      int64_t start = o * in / out;
      for (int64_t j = 0; j < max_len; ++j)
        idx.push_back(static_cast<int32_t>(j < len[static_cast<size_t>(o)] ? start + j
                                           : ragged                        ? in
                                                    : start + len[static_cast<size_t>(o)] - 1));
    }
    Tensor* data = x;
    if (ragged) {
      Dims pre = Dims::of_rank(rank - axis, 0), post = Dims::of_rank(rank - axis, 0);
      post[0] = 1;
      data = named_output(ctx, ctx.net().add_padding_nd(x, pre, post), target, source_ir,
                          sub_name(ax, "zero"));
    }
    Tensor* ic = named_output(
        ctx, ctx.net().add_constant({out, max_len}, Weights::from_vector(DataType::kINT32, idx)),
        target, source_ir, sub_name(ax, "indices"));
    Tensor* g = named_output(ctx, ctx.net().add_gather(data, ic, axis), target, source_ir,
                             sub_name(ax, "windows"));
    x = named_output(ctx,
                     ctx.net().add_reduce(g, is_max ? ReduceOperation::kMAX : ReduceOperation::kSUM,
                                          AxesMask{1} << (axis + 1), false),
                     target, source_ir, ax);
    any_sum = any_sum || !is_max;
  }
  if (any_sum) {
    // Window volumes, one per output cell, broadcast over the leading dims.
    Dims vd = Dims::of_rank(rank, 1);
    int64_t cells = 1;
    for (int i = 0; i < n; ++i) cells *= output_size[static_cast<size_t>(i)];
    for (int i = 0; i < n; ++i) vd[rank - n + i] = output_size[static_cast<size_t>(i)];
    std::vector<float> vol(static_cast<size_t>(cells));
    for (int64_t c = 0; c < cells; ++c) {
      int64_t rest = c, v = 1;
      for (int i = n - 1; i >= 0; --i) {
        int64_t o = output_size[static_cast<size_t>(i)];
        v *= lengths[static_cast<size_t>(i)][static_cast<size_t>(o == 1 ? 0 : rest % o)];
        rest /= o;
      }
      vol[static_cast<size_t>(c)] = static_cast<float>(v);
    }
    Tensor* vc =
        named_output(ctx, ctx.net().add_constant(vd, Weights::from_vector(DataType::kFLOAT, vol)),
                     target, source_ir, sub_name(name, "volumes"));
    x = named_output(ctx, ctx.net().add_elementwise(x, vc, E::kDIV), target, source_ir,
                     t == DataType::kFLOAT ? name : sub_name(name, "divide"));
  }
  x = is_max ? x : cast_to(ctx, x, t, target, source_ir, name);
  if (x == input) {  // output size equals the input size: still one named layer
    x = named_output(ctx, ctx.net().add_identity(x), target, source_ir, name);
  }
  return x;
}

}  // namespace

Tensor* avg_pool(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, std::vector<int64_t> kernel,
                 std::vector<int64_t> stride, std::vector<int64_t> padding, bool ceil_mode,
                 bool count_include_pad, std::optional<int64_t> divisor_override) {
  Operand in(input);
  return guarded(ctx, "pool::avg_pool", target, name, {&in}, [&] {
    Window w = make_window(kernel, stride, padding, {}, ceil_mode);
    LK_CHECK(!divisor_override || *divisor_override != 0, "divisor_override must be non-zero");
    return pool_impl(ctx, target, source_ir, name, input, w, PoolingType::kAVERAGE,
                     count_include_pad, divisor_override, "average pooling");
  });
}

Tensor* max_pool(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, std::vector<int64_t> kernel,
                 std::vector<int64_t> stride, std::vector<int64_t> padding,
                 std::vector<int64_t> dilation, bool ceil_mode) {
  Operand in(input);
  return guarded(ctx, "pool::max_pool", target, name, {&in}, [&] {
    Window w = make_window(kernel, stride, padding, dilation, ceil_mode);
    return pool_impl(ctx, target, source_ir, name, input, w, PoolingType::kMAX, false, std::nullopt,
                     "max pooling");
  });
}

Tensor* adaptive_avg_pool(ConversionContext& ctx, const Target& target,
                          std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                          std::vector<int64_t> output_size) {
  Operand in(input);
  return guarded(ctx, "pool::adaptive_avg_pool", target, name, {&in}, [&] {
    return adaptive_impl(ctx, target, source_ir, name, input, output_size, false);
  });
}

Tensor* adaptive_max_pool(ConversionContext& ctx, const Target& target,
                          std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                          std::vector<int64_t> output_size) {
  Operand in(input);
  return guarded(ctx, "pool::adaptive_max_pool", target, name, {&in}, [&] {
    return adaptive_impl(ctx, target, source_ir, name, input, output_size, true);
  });
}

Tensor* pool_nd(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, const PoolNdOptions& o) {
  Operand in(input);
  return guarded(ctx, "pool::pool_nd", target, name, {&in}, [&] {
    const std::vector<int64_t>& k = o.kernel_size;
    LK_CHECK(k.size() >= 1 && k.size() <= 3, "kernel ", spatial::list(k),
             " must have 1 to 3 entries (one per spatial axis)");
    int n = static_cast<int>(k.size());
    LK_CHECK(input != nullptr, "input is a null tensor");
    LK_CHECK(input->dims().rank() == n + 2, "input ", input->dims().to_string(), " has rank ",
             input->dims().rank(), "; ", n, "D pooling takes rank ", n + 2, " [N, C, spatial...]");
    std::vector<int64_t> dilation = spatial::expand(o.dilation, n, 1, "dilation");
    LK_CHECK(o.type == PoolingType::kMAX ||
                 std::all_of(dilation.begin(), dilation.end(), [](int64_t d) { return d == 1; }),
             "dilation ", spatial::list(dilation), " is supported for max pooling only");
    // The layer checks the values (windows >= 1, padding below the window extent, ...).
    Layer* l = add_pooling(ctx, input, o.type, k, spatial::expand(o.stride, n, 1, "stride"),
                           spatial::expand(o.pre_padding, n, 0, "pre_padding"),
                           spatial::expand(o.post_padding, n, 0, "post_padding"), dilation,
                           o.ceil_mode, o.count_include_pad);
    return named_output(ctx, l, target, source_ir, name);
  });
}

Tensor* avg_pool(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, const AvgPoolOptions& o) {
  return avg_pool(ctx, target, source_ir, name, input, o.kernel_size, o.stride, o.padding,
                  o.ceil_mode, o.count_include_pad, o.divisor_override);
}

Tensor* max_pool(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                 std::string_view name, Tensor* input, const MaxPoolOptions& o) {
  return max_pool(ctx, target, source_ir, name, input, o.kernel_size, o.stride, o.padding,
                  o.dilation, o.ceil_mode);
}

}  // namespace layerkit::impl::pool
