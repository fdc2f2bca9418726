// ONNX converters for data-movement ops: Reshape, Flatten, Transpose, Concat, Squeeze,
// Unsqueeze, Slice, Split, ConstantOfShape, Range, Size, DepthToSpace, SpaceToDepth, Pad,
// EyeLike, NonZero, Dropout and CastLike.
#include <algorithm>
#include <limits>

#include "layerkit/impl/arange.h"
#include "layerkit/impl/cast.h"
#include "layerkit/impl/cat.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/full.h"
#include "layerkit/impl/pad.h"
#include "layerkit/impl/permutation.h"
#include "layerkit/impl/select.h"
#include "layerkit/impl/shape.h"
#include "layerkit/impl/shuffle.h"
#include "layerkit/impl/slice.h"
#include "layerkit/impl/split.h"
#include "layerkit/impl/window.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

// Axes from the attribute (before `input_since`) or input 1 (from then on), normalized against
// `rank`, sorted, without repeats.
std::vector<int64_t> sorted_axes(const NodeView& n, const std::vector<int64_t>& axes,
                                 int64_t rank) {
  std::vector<int64_t> out;
  for (int64_t a : axes) out.push_back(n.normalize_axis(a, rank, "axis"));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    n.fail(ErrorCode::kINVALID_ARGUMENT, "axes repeat an axis");
  return out;
}

void reshape_op(NodeContext& n) {
  Tensor* x = n.input(0);
  ShuffleAttrs s;
  s.zero_is_placeholder = n.attr_int("allowzero", 0) == 0;
  if (n.opset() < 5) {
    auto shape = n.attr_ints("shape");
    if (!shape) n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'shape' is missing");
    s.reshape_dims = Dims(std::span<const int64_t>(*shape));
    n.set_output(0, named(n, n.net().add_shuffle(x, s)));
    return;
  }
  Tensor* shape = n.input(1);
  if (shape->dims().rank() != 1 || !is_integer(shape->type()))
    n.fail(ErrorCode::kINVALID_ARGUMENT,
           "input 1 (shape) must be a 1-D integer tensor, got " + describe(*shape));
  // ONNX's Reshape is TensorRT's Shuffle: 0 copies the input dim unless allowzero, one -1.
  const KnownValues& known = shape->known_values();
  const bool all_known = !known.empty() && std::all_of(known.begin(), known.end(),
                                                       [](const auto& v) { return v.has_value(); });
  if (all_known) {
    std::vector<int64_t> dims;
    for (const auto& v : known) dims.push_back(*v);
    s.reshape_dims = Dims(std::span<const int64_t>(dims));
    n.set_output(0, named(n, n.net().add_shuffle(x, s)));
    return;
  }
  n.set_output(0, named(n, n.net().add_shuffle(x, s, shape)));
}

void flatten_op(NodeContext& n) {
  Tensor* x = n.input(0);
  const int64_t rank = x->dims().rank();
  int64_t axis = n.attr_int("axis", 1);
  if (axis < -rank || axis > rank)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'axis' is " + std::to_string(axis) +
                                             ", outside [" + std::to_string(-rank) + ", " +
                                             std::to_string(rank) + "]");
  if (axis < 0) axis += rank;
  std::vector<std::vector<int>> groups(2);
  for (int d = 0; d < rank; ++d) groups[d < axis ? 0 : 1].push_back(d);
  n.set_output(0, impl::reshape_groups(n.ctx(), x, groups, n.op_type(), kONNX, n.name()));
}

void squeeze_op(NodeContext& n) {
  Tensor* x = n.input(0);
  const Dims& d = x->dims();
  const int rank = d.rank();
  auto axes = n.attr_or_input_ints("axes", 1, 13, "the axes decide the output's rank");
  std::vector<int64_t> drop;
  if (axes) {
    drop = sorted_axes(n, *axes, rank);
  } else {
    for (int i = 0; i < rank; ++i) {
      if (d[i] == 1) drop.push_back(i);
      if (d[i] < 0)
        n.fail(ErrorCode::kUNSUPPORTED, "Squeeze without axes on input " + describe(*x) +
                                            ": whether dynamic dim " + std::to_string(i) +
                                            " is 1 is unknown at build time");
    }
  }
  for (int64_t a : drop)
    if (d[a] > 1 || d[a] == 0)
      n.fail(ErrorCode::kINVALID_ARGUMENT, "axis " + std::to_string(a) + " of input " +
                                               describe(*x) + " has size " + std::to_string(d[a]) +
                                               ", not 1");
  // Dropped (size-1) dims join a neighbouring group, so a dynamic one is checked at run time by
  // the Shuffle's volume check.
  std::vector<std::vector<int>> groups;
  std::vector<int> pending;
  for (int i = 0; i < rank; ++i) {
    if (std::binary_search(drop.begin(), drop.end(), i)) {
      if (groups.empty())
        pending.push_back(i);
      else
        groups.back().push_back(i);
      continue;
    }
    groups.push_back(pending);
    pending.clear();
    groups.back().push_back(i);
  }
  n.set_output(0, impl::reshape_groups(n.ctx(), x, groups, n.op_type(), kONNX, n.name()));
}

void unsqueeze_op(NodeContext& n) {
  Tensor* x = n.input(0);
  const int rank = x->dims().rank();
  auto axes = n.attr_or_input_ints("axes", 1, 13, "the axes decide the output's rank");
  if (!axes) n.fail(ErrorCode::kINVALID_ARGUMENT, "axes are missing");
  const int out_rank = rank + static_cast<int>(axes->size());
  std::vector<int64_t> add = sorted_axes(n, *axes, out_rank);
  std::vector<std::vector<int>> groups;
  int next = 0;
  for (int o = 0; o < out_rank; ++o) {
    if (std::binary_search(add.begin(), add.end(), o))
      groups.push_back({});
    else
      groups.push_back({next++});
  }
  n.set_output(0, impl::reshape_groups(n.ctx(), x, groups, n.op_type(), kONNX, n.name()));
}

void transpose_op(NodeContext& n) {
  Tensor* x = n.input(0);
  std::vector<int64_t> perm;
  if (auto p = n.attr_ints("perm")) {
    perm = *p;
  } else {
    for (int i = x->dims().rank() - 1; i >= 0; --i) perm.push_back(i);
  }
  n.set_output(0, impl::permutation::permute(n.ctx(), n.op_type(), kONNX, n.name(), x, perm));
}

void concat_op(NodeContext& n) {
  std::vector<impl::Operand> ins;
  for (int i = 0; i < n.num_inputs(); ++i) ins.push_back(n.input(i));
  if (ins.empty()) n.fail(ErrorCode::kINVALID_ARGUMENT, "Concat needs at least one input");
  if (!n.attr("axis")) n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'axis' is missing");
  n.set_output(0,
               impl::cat::cat(n.ctx(), n.op_type(), kONNX, n.name(), ins, n.attr_int("axis", 0)));
}

// ONNX clamps starts/ends per the sign of the step; a Slice layer needs start/size/stride.
struct SliceRange {
  int64_t start, size;
};
SliceRange clamp_slice(int64_t start, int64_t end, int64_t step, int64_t dim) {
  auto wrap = [dim](int64_t v) {
    return v < 0 ? std::max<int64_t>(v, -dim - 1) + dim : std::min<int64_t>(v, dim);
  };
  start = wrap(start);
  end = wrap(end);
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    return {start, std::max<int64_t>(0, (end - start + step - 1) / step)};
  }
  start = std::clamp<int64_t>(start, 0, dim - 1);
  end = std::clamp<int64_t>(end, -1, dim - 1);
  return {start, std::max<int64_t>(0, (start - end + (-step) - 1) / (-step))};
}

// Entry i of a 1-D integer tensor as a one-element int64 tensor (a per-axis run-time value).
impl::Operand entry(NodeContext& n, Tensor* t, int64_t i, const std::string& what) {
  Tensor* e = impl::slice::slice(n.ctx(), n.op_type(), kONNX, sub(n, what), t, 0, impl::Operand(i),
                                 impl::Operand(i + 1));
  return impl::cast::cast(n.ctx(), n.op_type(), kONNX, sub(n, what + "_i64"), e, DataType::kINT64);
}

// x[start:end:step] along `axis` for a step < 0 with bounds known when the network is built.
// ONNX reads a negative bound as dim + bound, then clamps start to [0, dim-1] and end to
// [-1, dim-1]; the size is ceil((start - end) / -step). With a static dim that is clamp_slice;
// with a dynamic one (torch.flip on a dynamic axis) the same clamps are int64 shape
// arithmetic on the run-time dim, fed to one Slice layer cutting only `axis`.
Tensor* negative_step_slice(NodeContext& n, Tensor* x, int64_t axis, int64_t start, int64_t end,
                            int64_t step, const std::string& name) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  auto part = [&](std::string_view what) { return impl::sub_name(name, what); };
  SliceInputs in;
  in.axes = impl::named_output(
      c, n.net().add_constant(Dims{1}, Weights::from_vector(std::vector<int64_t>{axis})), t, kONNX,
      part("axes"));
  // Assigned, not listed: a Dims initializer list refuses entries below -1.
  Dims stride = Dims::of_rank(1, 1);
  stride[0] = step;
  const int64_t dim = x->dims()[axis];
  if (dim >= 0) {
    const SliceRange r = clamp_slice(start, end, step, dim);
    return impl::named_output(
        c,
        n.net().add_slice(x, Dims{r.start}, Dims{r.size}, stride, SampleMode::kSTRICT_BOUNDS, in),
        t, kONNX, name);
  }
  namespace ew = impl::elementwise;
  Tensor* shape = impl::shape::shape(c, t, kONNX, part("shape"), x);
  Tensor* d = impl::slice::slice(c, t, kONNX, part("dim"), shape, 0, impl::Operand(axis),
                                 impl::Operand(axis + 1));
  Tensor* last = ew::sub(c, t, kONNX, part("last"), d, int64_t{1});
  // start: dim + start (or start) at least 0 and at most dim - 1 (-1 for an empty dim, whose
  // size below is then 0).
  impl::Operand s0 =
      start < 0 ? impl::Operand(ew::max(c, t, kONNX, part("start_lo"),
                                        ew::add(c, t, kONNX, part("start_wrapped"), d, start),
                                        int64_t{0}))
                : impl::Operand(start);
  Tensor* s = ew::min(c, t, kONNX, part("start"), s0, last);
  // end: dim + end at least -1 (it is below dim then), or end at most dim - 1.
  Tensor* e = end < 0 ? ew::max(c, t, kONNX, part("end"),
                                ew::add(c, t, kONNX, part("end_wrapped"), d, end), int64_t{-1})
                      : ew::min(c, t, kONNX, part("end"), end, last);
  Tensor* span = ew::sub(c, t, kONNX, part("span"), s, e);
  if (step < -1)
    span = ew::floor_div(c, t, kONNX, part("steps"),
                         ew::add(c, t, kONNX, part("span_up"), span, -step - 1), -step);
  in.start = s;
  in.size = ew::max(c, t, kONNX, part("size"), span, int64_t{0});
  return impl::named_output(
      c, n.net().add_slice(x, Dims{0}, Dims{0}, stride, SampleMode::kSTRICT_BOUNDS, in), t, kONNX,
      name);
}

void slice_op(NodeContext& n) {
  Tensor* x = n.input(0);
  const Dims& d = x->dims();
  const int rank = d.rank();
  std::vector<int64_t> starts, ends, axes, steps;
  // Starts and ends known only at run time (a dynamic dim, Note [Import-time folding]) feed the
  // slice block's shape arithmetic; axes and steps decide which dims are sliced and how the
  // bounds clamp, so they are needed when the network is built.
  Tensor* start_t = nullptr;
  Tensor* end_t = nullptr;
  if (n.opset() < 10) {
    starts = n.attr_ints("starts").value_or(std::vector<int64_t>{});
    ends = n.attr_ints("ends").value_or(std::vector<int64_t>{});
    axes = n.attr_ints("axes").value_or(std::vector<int64_t>{});
  } else {
    auto bounds = [&](int i, std::string_view what, std::vector<int64_t>& known, Tensor*& t) {
      if (n.constant_input(i)) {
        known = n.ints_input(i, what);
        return;
      }
      t = n.input(i);
      if (t->dims().rank() != 1 || t->dims()[0] < 0 || !is_integer(t->type()))
        n.fail(ErrorCode::kINVALID_ARGUMENT, "input " + std::to_string(i) + " (" +
                                                 std::string(what) +
                                                 ") must be a 1-D integer tensor of static "
                                                 "length, got " +
                                                 describe(*t));
      known.assign(static_cast<size_t>(t->dims()[0]), 0);
    };
    bounds(1, "starts", starts, start_t);
    bounds(2, "ends", ends, end_t);
    if (n.has_input(3))
      axes = n.ints_input(3, "axes", "they decide which dims the Slice layer cuts");
    if (n.has_input(4)) steps = n.ints_input(4, "steps", "their signs decide how the bounds clamp");
  }
  if (starts.size() != ends.size())
    n.fail(ErrorCode::kINVALID_ARGUMENT,
           std::to_string(starts.size()) + " starts but " + std::to_string(ends.size()) + " ends");
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size())
    n.fail(ErrorCode::kINVALID_ARGUMENT, "starts, ends, axes and steps differ in length");
  std::vector<int64_t> norm;
  for (int64_t a : axes) norm.push_back(n.normalize_axis(a, rank, "axis"));
  for (size_t i = 0; i < steps.size(); ++i)
    if (steps[i] == 0) n.fail(ErrorCode::kINVALID_ARGUMENT, "step " + std::to_string(i) + " is 0");
  {
    auto sorted = norm;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      n.fail(ErrorCode::kINVALID_ARGUMENT, "axes repeat an axis");
  }
  const bool run_time_bounds = start_t || end_t;
  if (d.is_static() && !run_time_bounds) {
    // One Slice layer over every axis.
    Dims start = Dims::of_rank(rank, 0), size = d, stride = Dims::of_rank(rank, 1);
    for (size_t i = 0; i < norm.size(); ++i) {
      const int a = static_cast<int>(norm[i]);
      SliceRange r = clamp_slice(starts[i], ends[i], steps[i], d[a]);
      start[a] = r.start;
      size[a] = r.size;
      stride[a] = steps[i];
    }
    n.set_output(0, named(n, n.net().add_slice(x, start, size, stride)));
    return;
  }
  // Dynamic dims or run-time bounds: one slice per axis (torch's clamping equals ONNX's for
  // positive steps; negative steps clamp as negative_step_slice says).
  Tensor* y = x;
  for (size_t i = 0; i < norm.size(); ++i) {
    const std::string idx = std::to_string(i);
    const std::string step_name = i + 1 == norm.size() ? n.name() : sub(n, idx);
    if (steps[i] < 0) {
      if (run_time_bounds)
        n.fail(ErrorCode::kUNSUPPORTED,
               "a negative step needs bounds known when the network is built, got " + describe(*x) +
                   " with bounds known only at run time");
      y = negative_step_slice(n, y, norm[i], starts[i], ends[i], steps[i], step_name);
      continue;
    }
    impl::Operand lo = start_t ? entry(n, start_t, static_cast<int64_t>(i), "start" + idx)
                               : impl::Operand(starts[i]);
    impl::Operand hi =
        end_t ? entry(n, end_t, static_cast<int64_t>(i), "end" + idx) : impl::Operand(ends[i]);
    y = impl::slice::slice(n.ctx(), n.op_type(), kONNX, step_name, y, norm[i], lo, hi, steps[i]);
  }
  n.set_output(0, y == x ? named(n, n.net().add_identity(x)) : y);
}

void split_op(NodeContext& n) {
  Tensor* x = n.input(0);
  const int rank = x->dims().rank();
  const int64_t axis = n.axis_attr("axis", 0, rank);
  const int64_t dim = x->dims()[axis];
  std::vector<int64_t> sizes;
  if (auto s = n.attr_or_input_ints("split", 1, 13,
                                    "the split block cuts at offsets known when it is built"))
    sizes = *s;
  const int outputs = n.node().output_size();
  if (sizes.empty()) {
    if (dim < 0)
      n.fail(ErrorCode::kUNSUPPORTED, "splitting dynamic axis " + std::to_string(axis) + " of " +
                                          describe(*x) + " into equal parts");
    const int64_t parts = n.opset() >= 18 ? n.attr_int("num_outputs", outputs) : outputs;
    if (parts <= 0) n.fail(ErrorCode::kINVALID_ARGUMENT, "no outputs to split into");
    if (n.opset() < 18 && dim % parts != 0)
      n.fail(ErrorCode::kINVALID_ARGUMENT, "axis " + std::to_string(axis) + " of size " +
                                               std::to_string(dim) + " does not split into " +
                                               std::to_string(parts) + " equal parts");
    const int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t left = dim; left > 0; left -= chunk) sizes.push_back(std::min(chunk, left));
    while (static_cast<int64_t>(sizes.size()) < parts) sizes.push_back(0);
  }
  if (static_cast<int>(sizes.size()) != outputs)
    n.fail(ErrorCode::kINVALID_ARGUMENT, std::to_string(sizes.size()) + " split sizes for " +
                                             std::to_string(outputs) + " outputs");
  auto parts = impl::split::split_with_sizes(n.ctx(), n.op_type(), kONNX, n.name(), x, sizes, axis);
  for (int i = 0; i < outputs; ++i) n.set_output(i, parts[i]);
}

// The scalar value of a ConstantOfShape / EyeLike-style attribute tensor.
impl::Operand value_operand(const HostTensor& v) {
  if (is_floating(v.type)) return impl::Operand(v.doubles().at(0));
  if (v.type == DataType::kBOOL) return impl::Operand(v.ints().at(0) != 0);
  return impl::Operand(v.ints().at(0));
}

void constant_of_shape_op(NodeContext& n) {
  Tensor* shape = n.input(0);
  DataType type = DataType::kFLOAT;
  impl::Operand value(0.0);
  if (const auto* a = n.attr("value"); a && a->has_t()) {
    HostTensor v = decode_tensor(a->t(), ".", n.ctx().settings().doubles, nullptr);
    if (v.count() != 1)
      n.fail(ErrorCode::kINVALID_ARGUMENT,
             "attribute 'value' must hold one element, holds " + std::to_string(v.count()));
    type = v.type;
    value = value_operand(v);
  }
  if (shape->dims().rank() != 1 || shape->dims()[0] == 0) {
    // An empty shape gives a 0-D tensor.
    n.set_output(0, impl::full::full(n.ctx(), n.op_type(), kONNX, n.name(), std::vector<int64_t>{},
                                     value, type));
    return;
  }
  n.set_output(0, impl::full::full(n.ctx(), n.op_type(), kONNX, n.name(), shape, value, type));
}

void range_op(NodeContext& n) {
  Tensor* start = n.input(0);
  n.set_output(0, impl::arange::arange(n.ctx(), n.op_type(), kONNX, n.name(), start, n.input(1),
                                       n.input(2), start->type()));
}

// DepthToSpace / SpaceToDepth: reshape, transpose, reshape with static C, H, W.
void depth_space_op(NodeContext& n, bool to_space) {
  Tensor* x = n.input(0);
  const Dims& d = x->dims();
  if (d.rank() != 4)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "input 0 must be 4-D [N, C, H, W], got " + describe(*x));
  for (int i = 1; i < 4; ++i)
    if (d[i] < 0)
      n.fail(ErrorCode::kUNSUPPORTED, "input 0 " + describe(*x) + " needs static C, H and W");
  const int64_t b = n.attr_int("blocksize", 0);
  if (b <= 0) n.fail(ErrorCode::kINVALID_ARGUMENT, "attribute 'blocksize' is " + std::to_string(b));
  const int64_t N = d[0] < 0 ? -1 : d[0], C = d[1], H = d[2], W = d[3];
  std::vector<int64_t> first, perm, last;
  if (to_space) {
    if (C % (b * b) != 0)
      n.fail(ErrorCode::kINVALID_ARGUMENT,
             "channels " + std::to_string(C) +
                 " are not a multiple of blocksize^2 = " + std::to_string(b * b));
    if (n.attr_string("mode", "DCR") == "DCR") {
      first = {N, b, b, C / (b * b), H, W};
      perm = {0, 3, 4, 1, 5, 2};
    } else {
      first = {N, C / (b * b), b, b, H, W};
      perm = {0, 1, 4, 2, 5, 3};
    }
    last = {N, C / (b * b), H * b, W * b};
  } else {
    if (H % b != 0 || W % b != 0)
      n.fail(ErrorCode::kINVALID_ARGUMENT,
             "H " + std::to_string(H) + " and W " + std::to_string(W) +
                 " must be multiples of blocksize " + std::to_string(b));
    first = {N, C, H / b, b, W / b, b};
    perm = {0, 3, 5, 1, 2, 4};
    last = {N, C * b * b, H / b, W / b};
  }
  Tensor* y = impl::shuffle::reshape(n.ctx(), n.op_type(), kONNX, sub(n, "split"), x, first);
  y = impl::permutation::permute(n.ctx(), n.op_type(), kONNX, sub(n, "permute"), y, perm);
  n.set_output(0, impl::shuffle::reshape(n.ctx(), n.op_type(), kONNX, n.name(), y, last));
}

// Pad with pads known only at run time (they depend on a dynamic dim): one Slice layer whose
// start (-pre) and size (dims + pre + post) are shape tensors, in the sample mode of the pad mode
// (out-of-bounds reads give the fill value, mirror, repeat the edge or wrap around).
Tensor* run_time_pad(NodeContext& n, Tensor* x, Tensor* pads, const std::vector<int64_t>& axes,
                     const std::string& mode, double value) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  const int rank = x->dims().rank();
  const int64_t k = static_cast<int64_t>(axes.size());
  if (pads->dims().rank() != 1 || pads->dims()[0] != 2 * k || !is_integer(pads->type()))
    n.fail(ErrorCode::kINVALID_ARGUMENT, "input 1 (pads) must be a 1-D integer tensor of " +
                                             std::to_string(2 * k) + " entries, got " +
                                             describe(*pads));
  SampleMode sample = SampleMode::kFILL;
  if (mode == "reflect")
    sample = SampleMode::kREFLECT;
  else if (mode == "edge")
    sample = SampleMode::kCLAMP;
  else if (mode == "wrap")
    sample = SampleMode::kWRAP;
  else if (mode != "constant")
    n.fail(ErrorCode::kINVALID_ARGUMENT,
           "attribute 'mode' is '" + mode + "'; expected constant, reflect, edge or wrap");
  // pads followed by a 0 that the axes without padding read.
  Tensor* p64 = impl::cast::cast(c, t, kONNX, sub(n, "pads_i64"), pads, DataType::kINT64);
  Tensor* zero = named(
      n, n.net().add_constant(Dims{1}, Weights::from_vector(std::vector<int64_t>{0})), "zero");
  Tensor* padz = impl::cat::cat(c, t, kONNX, sub(n, "pads_and_zero"),
                                std::vector<impl::Operand>{p64, zero}, 0);
  std::vector<int64_t> pre_idx(rank, 2 * k), post_idx(rank, 2 * k);
  for (int64_t i = 0; i < k; ++i) {
    pre_idx[axes[i]] = i;
    post_idx[axes[i]] = i + k;
  }
  auto pick = [&](const std::vector<int64_t>& idx, const char* what) {
    Tensor* ix = named(n, n.net().add_constant(Dims{rank}, Weights::from_vector(idx)),
                       std::string(what) + "_index");
    return named(n, n.net().add_gather(padz, ix, 0), what);
  };
  Tensor* pre = pick(pre_idx, "pre");
  Tensor* post = pick(post_idx, "post");
  Tensor* start = impl::elementwise::neg(c, t, kONNX, sub(n, "start"), pre);
  Tensor* shape = impl::shape::shape(c, t, kONNX, sub(n, "shape"), x);
  Tensor* size = impl::elementwise::add(
      c, t, kONNX, sub(n, "size"), impl::elementwise::add(c, t, kONNX, sub(n, "grown"), shape, pre),
      post);
  SliceInputs in;
  in.start = start;
  in.size = size;
  if (sample == SampleMode::kFILL) {
    Weights v = is_floating(x->type())
                    ? Weights::from_floats(x->type(), std::vector<float>{static_cast<float>(value)})
                    : Weights::from_vector(std::vector<int64_t>{static_cast<int64_t>(value)});
    Tensor* fill = named(n, n.net().add_constant(Dims{}, v), "value");
    if (fill->type() != x->type())
      fill = impl::cast::cast(c, t, kONNX, sub(n, "value_cast"), fill, x->type());
    in.fill_value = fill;
  }
  return named(n, n.net().add_slice(x, Dims::of_rank(rank, 0), Dims::of_rank(rank, 1),
                                    Dims::of_rank(rank, 1), sample, in));
}

void pad_op(NodeContext& n) {
  Tensor* x = n.input(0);
  const int rank = x->dims().rank();
  std::vector<int64_t> pads;
  double value = 0.0;
  if (n.opset() < 11) {
    pads = n.attr_ints("pads").value_or(n.attr_ints("paddings").value_or(std::vector<int64_t>{}));
    value = n.attr_float("value", 0.0f);
  } else {
    if (n.constant_input(1)) pads = n.ints_input(1, "pads");
    if (n.has_input(2)) {
      const HostTensor* v = n.constant_input(2);
      if (!v) n.fail(ErrorCode::kUNSUPPORTED, "input 2 (constant_value) must be a constant");
      if (v->count() != 1)
        n.fail(ErrorCode::kINVALID_ARGUMENT, "input 2 (constant_value) must hold one value");
      value = v->doubles()[0];
    }
  }
  std::vector<int64_t> axes;
  if (n.opset() >= 18 && n.has_input(3)) {
    for (int64_t a : n.ints_input(3, "axes", "they decide which dims are padded"))
      axes.push_back(n.normalize_axis(a, rank, "axis"));
  } else {
    for (int i = 0; i < rank; ++i) axes.push_back(i);
  }
  const size_t k = axes.size();
  if (n.opset() >= 11 && !n.constant_input(1)) {
    n.set_output(0, run_time_pad(n, x, n.input(1), axes, n.attr_string("mode", "constant"), value));
    return;
  }
  if (pads.size() != 2 * k)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "pads has " + std::to_string(pads.size()) +
                                             " entries; expected " + std::to_string(2 * k));
  // torch's pad list runs from the last dim backwards: (begin, end) per dim.
  std::vector<int64_t> begin(rank, 0), end(rank, 0);
  for (size_t i = 0; i < k; ++i) {
    begin[axes[i]] = pads[i];
    end[axes[i]] = pads[i + k];
  }
  int first = 0;
  while (first < rank && begin[first] == 0 && end[first] == 0) ++first;
  std::vector<int64_t> tp;
  for (int dd = rank - 1; dd >= first; --dd) {
    tp.push_back(begin[dd]);
    tp.push_back(end[dd]);
  }
  if (tp.empty()) {
    n.set_output(0, named(n, n.net().add_identity(x)));
    return;
  }
  const std::string mode = n.attr_string("mode", "constant");
  Tensor* y = nullptr;
  if (mode == "constant")
    y = impl::pad::constant_pad(n.ctx(), n.op_type(), kONNX, n.name(), x, tp, value);
  else if (mode == "reflect")
    y = impl::pad::reflection_pad(n.ctx(), n.op_type(), kONNX, n.name(), x, tp);
  else if (mode == "edge")
    y = impl::pad::replication_pad(n.ctx(), n.op_type(), kONNX, n.name(), x, tp);
  else if (mode == "wrap")
    y = impl::pad::circular_pad(n.ctx(), n.op_type(), kONNX, n.name(), x, tp);
  else
    n.fail(ErrorCode::kINVALID_ARGUMENT,
           "attribute 'mode' is '" + mode + "'; expected constant, reflect, edge or wrap");
  n.set_output(0, y);
}

void eye_like_op(NodeContext& n) {
  Tensor* x = n.input(0);
  const Dims& d = x->dims();
  if (d.rank() != 2 || !d.is_static())
    n.fail(ErrorCode::kUNSUPPORTED, "input 0 must be 2-D with static dims, got " + describe(*x));
  DataType type = x->type();
  if (const auto* a = n.attr("dtype")) {
    auto t = a->i() == pb::TensorProto::DOUBLE ? std::optional<DataType>(DataType::kFLOAT)
                                               : to_data_type(static_cast<int32_t>(a->i()));
    if (!t)
      n.fail(ErrorCode::kUNSUPPORTED, "attribute 'dtype' is " +
                                          onnx_type_name(static_cast<int32_t>(a->i())) +
                                          ", which layerkit does not support");
    type = *t;
  }
  const int64_t k = n.attr_int("k", 0);
  std::vector<double> values(static_cast<size_t>(d[0] * d[1]), 0.0);
  for (int64_t r = 0; r < d[0]; ++r)
    if (r + k >= 0 && r + k < d[1]) values[r * d[1] + r + k] = 1.0;
  // The output depends only on the (static) shape: a constant, cast to the requested type.
  Tensor* eye = named(
      n,
      n.net().add_constant(
          d,
          Weights::from_vector(DataType::kFLOAT, std::vector<float>(values.begin(), values.end()))),
      "values");
  n.set_output(0, impl::cast::cast(n.ctx(), n.op_type(), kONNX, n.name(), eye, type));
}

void dropout_op(NodeContext& n) {
  Tensor* x = n.input(0);
  bool training = false;
  if (n.opset() >= 12 && n.has_input(2)) {
    const HostTensor* mode = n.constant_input(2);
    if (!mode) n.fail(ErrorCode::kUNSUPPORTED, "input 2 (training_mode) must be a constant");
    training = mode->ints().at(0) != 0;
  }
  if (n.opset() < 7 && n.attr_int("is_test", 0) == 0) training = true;
  double ratio = n.opset() >= 12 ? 0.5 : n.attr_float("ratio", 0.5f);
  if (n.opset() >= 12 && n.has_input(1)) ratio = n.double_input(1, "ratio");
  if (training && ratio != 0.0)
    n.fail(ErrorCode::kUNSUPPORTED,
           "training-mode Dropout with ratio " + std::to_string(ratio) + " has random output");
  n.set_output(0, named(n, n.net().add_identity(x)));
  if (n.node().output_size() > 1 && !n.node().output(1).empty()) {
    Tensor* shape = impl::shape::shape(n.ctx(), n.op_type(), kONNX, sub(n, "shape"), x);
    n.set_output(
        1, impl::full::ones(n.ctx(), n.op_type(), kONNX, sub(n, "mask"), shape, DataType::kBOOL));
  }
}

// Compress: the entries of `axis` (or of the flattened input) where condition is true.
void compress_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* x = n.input(0);
  Tensor* cond = n.input(1);
  if (cond->dims().rank() != 1)
    n.fail(ErrorCode::kINVALID_ARGUMENT, "input 1 (condition) must be 1-D, got " + describe(*cond));
  int64_t axis = 0;
  if (n.attr("axis")) {
    axis = n.axis_attr("axis", 0, x->dims().rank());
  } else {
    x = impl::shuffle::flatten(c, t, kONNX, sub(n, "flat"), x);
  }
  Tensor* where = named(n, n.net().add_non_zero(cond), "nonzero");
  Tensor* idx =
      impl::shuffle::reshape(c, t, kONNX, sub(n, "indices"), where, std::vector<int64_t>{-1});
  n.set_output(0, impl::select::index_select(c, t, kONNX, n.name(), x, axis, idx));
}

// HannWindow, HammingWindow, BlackmanWindow: the size is needed at build time.
template <typename Fn>
OpConverter window_op(Fn fn) {
  return {[fn](NodeContext& n) {
            const int64_t size =
                n.int_input(0, "size", "the window is computed when the network is built");
            const bool periodic = n.attr_int("periodic", 1) != 0;
            const int64_t onnx_type = n.attr_int("output_datatype", pb::TensorProto::FLOAT);
            auto type = onnx_type == pb::TensorProto::DOUBLE
                            ? std::optional<DataType>(DataType::kFLOAT)
                            : to_data_type(static_cast<int32_t>(onnx_type));
            if (!type)
              n.fail(ErrorCode::kUNSUPPORTED,
                     "output_datatype " + onnx_type_name(static_cast<int32_t>(onnx_type)));
            Tensor* w = fn(n, size, periodic, is_floating(*type) ? *type : DataType::kFLOAT);
            if (!is_floating(*type))
              w = impl::cast::cast(n.ctx(), n.op_type(), kONNX, sub(n, "cast"), w, *type);
            n.set_output(0, w);
          },
          nullptr,
          {0}};
}

}  // namespace

void register_tensor_ops(Registry& r) {
  r["Compress"] = {compress_op, nullptr};
  r["HannWindow"] = window_op([](NodeContext& n, int64_t size, bool periodic, DataType type) {
    return impl::window::hann_window(n.ctx(), n.op_type(), kONNX, n.name(), size, periodic, type);
  });
  r["HammingWindow"] = window_op([](NodeContext& n, int64_t size, bool periodic, DataType type) {
    return impl::window::hamming_window(n.ctx(), n.op_type(), kONNX, n.name(), size, periodic,
                                        25.0 / 46.0, 21.0 / 46.0, type);
  });
  r["BlackmanWindow"] = window_op([](NodeContext& n, int64_t size, bool periodic, DataType type) {
    return impl::window::blackman_window(n.ctx(), n.op_type(), kONNX, n.name(), size, periodic,
                                         type);
  });
  r["Reshape"] = {reshape_op, nullptr};
  r["Flatten"] = {flatten_op, nullptr};
  r["Squeeze"] = {squeeze_op, nullptr, {1}};
  r["Unsqueeze"] = {unsqueeze_op, nullptr, {1}};
  r["Transpose"] = {transpose_op, nullptr};
  r["Concat"] = {concat_op, nullptr};
  r["Slice"] = {slice_op, nullptr, {1, 2, 3, 4}};
  r["Split"] = {split_op, nullptr, {1}};
  r["ConstantOfShape"] = {constant_of_shape_op, nullptr};
  r["Range"] = {range_op, nullptr};
  r["Size"] = {[](NodeContext& n) {
                 n.set_output(
                     0, impl::shape::numel(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0)));
               },
               nullptr};
  r["DepthToSpace"] = {[](NodeContext& n) { depth_space_op(n, true); }, nullptr};
  r["SpaceToDepth"] = {[](NodeContext& n) { depth_space_op(n, false); }, nullptr};
  r["Pad"] = {pad_op, nullptr, {1, 2, 3}};
  r["EyeLike"] = {eye_like_op, nullptr};
  r["NonZero"] = {
      [](NodeContext& n) { n.set_output(0, named(n, n.net().add_non_zero(n.input(0)))); }, nullptr};
  r["Dropout"] = {dropout_op, nullptr, {1, 2}};
  r["CastLike"] = {[](NodeContext& n) {
                     n.set_output(0, impl::cast::cast(n.ctx(), n.op_type(), kONNX, n.name(),
                                                      n.input(0), n.input(1)->type()));
                   },
                   nullptr};
}

}  // namespace layerkit::onnx::detail
