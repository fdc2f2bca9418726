// Engine plans: Engine::serialize writes an engine as bytes, Engine::deserialize reads them back.
#include "layerkit/runtime/serialize.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <tuple>
#include <type_traits>
#include <utility>

#include "layerkit/runtime/engine.h"

#ifndef LAYERKIT_VERSION
#error "LAYERKIT_VERSION (the project version) is set by CMakeLists.txt"
#endif

namespace layerkit {
namespace plan {

std::string_view library_version() {
  return LAYERKIT_VERSION;
}

uint64_t checksum(std::span<const uint8_t> bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

void reseal(std::span<uint8_t> plan) {
  LK_CHECK(plan.size() >= 8, "reseal: ", plan.size(), " bytes hold no checksum");
  uint64_t h = checksum(plan.first(plan.size() - 8));
  for (size_t i = 0; i < 8; ++i) plan[plan.size() - 8 + i] = static_cast<uint8_t>(h >> (8 * i));
}

}  // namespace plan

namespace {

// Values every field must take to be read back: enums within their lists, bools 0 or 1.
template <typename E>
bool known_enum(E e) {
  if constexpr (std::is_same_v<E, DataType>)
    return static_cast<int32_t>(e) >= 0 && static_cast<int32_t>(e) < kNumDataTypes;
  else if constexpr (std::is_same_v<E, DeviceType>)
    return device_type_name(e) != "?";
  else if constexpr (std::is_same_v<E, LayerKind>)
    return static_cast<int32_t>(e) >= 0 && static_cast<int32_t>(e) < kNumLayerKinds;
  else
    return enum_name(e) != "?";
}

class Writer;
class Reader;
// A network's layers, inputs and outputs; a control-flow body is one inside its layer's fields.
void write_layers(Writer& w, const Network& net);
std::unique_ptr<Network> read_layers(Reader& r);

// ---- writing ------------------------------------------------------------------------------------

class Writer {
 public:
  static constexpr bool kWriting = true;

  std::vector<uint8_t>& bytes() { return out_; }
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u8(uint8_t v) { out_.push_back(v); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void i32(int32_t v) { le(static_cast<uint32_t>(v), 4); }
  void i64(int64_t v) { le(static_cast<uint64_t>(v), 8); }
  void count(size_t n, const char* what) {
    LK_CHECK(n <= UINT32_MAX, "serialize: ", n, " ", what, " exceed the format's 2^32 - 1");
    u32(static_cast<uint32_t>(n));
  }
  void str(std::string_view s) {
    count(s.size(), "bytes of a name");
    out_.insert(out_.end(), s.begin(), s.end());
  }
  void blob(const void* data, size_t n) {
    u64(n);
    const auto* p = static_cast<const uint8_t*>(data);
    if (n) out_.insert(out_.end(), p, p + n);
  }

  // Fields of the attribute structs (the name is for the reader's messages).
  void operator()(const int32_t& v, const char*) { i32(v); }
  void operator()(const int64_t& v, const char*) { i64(v); }
  void operator()(const uint32_t& v, const char*) { u32(v); }
  void operator()(const uint64_t& v, const char*) { u64(v); }
  void operator()(const bool& v, const char*) { u8(v ? 1 : 0); }
  void operator()(const float& v, const char*) { u32(std::bit_cast<uint32_t>(v)); }
  void operator()(const double& v, const char*) { u64(std::bit_cast<uint64_t>(v)); }
  template <typename E>
  requires std::is_enum_v<E>
  void operator()(const E& v, const char*) {
    static_assert(sizeof(E) == 4, "enums are written as 32-bit values");
    i32(static_cast<int32_t>(v));
  }
  void operator()(const Dims& d, const char*) {
    u32(static_cast<uint32_t>(d.rank()));
    for (int64_t v : d) i64(v);
  }
  // A tensor shape (entries >= -1); the reader checks more than for other Dims.
  void shape(const Dims& d, const char* what) { (*this)(d, what); }
  void operator()(const std::optional<Dims>& d, const char* what) {
    u8(d ? 1 : 0);
    if (d) (*this)(*d, what);
  }
  void operator()(const std::optional<DataType>& t, const char* what) {
    u8(t ? 1 : 0);
    if (t) (*this)(*t, what);
  }
  void operator()(const std::vector<int32_t>& v, const char* what) {
    count(v.size(), what);
    for (int32_t x : v) i32(x);
  }
  void operator()(const std::vector<double>& v, const char* what) {
    count(v.size(), what);
    for (double x : v) (*this)(x, what);
  }
  // Weights go to a table written before the layers, once per distinct buffer (the builder and
  // Network::clone share weights between layers).
  void operator()(const Weights& w, const char*) {
    auto key = std::make_tuple(w.data(), w.type(), w.count());
    auto [it, fresh] = weight_index_.emplace(key, static_cast<int32_t>(weights_.size()));
    if (fresh) weights_.push_back(w);
    i32(it->second);
  }
  // A body (Note [Control-flow bodies]) is written in place, its weights in the plan's one table.
  void operator()(const std::shared_ptr<const Network>& n, const char* what) {
    LK_CHECK(n != nullptr, "serialize: the ", what, " body is missing");
    write_layers(*this, *n);
  }
  const std::vector<Weights>& weights() const { return weights_; }

 private:
  std::vector<uint8_t> out_;
  std::vector<Weights> weights_;
  std::map<std::tuple<const void*, DataType, int64_t>, int32_t> weight_index_;
};

// ---- reading ------------------------------------------------------------------------------------

class Reader {
 public:
  static constexpr bool kWriting = false;

  // `bytes` start at byte `origin` of the plan (offsets in messages count from the plan's start).
  Reader(std::span<const uint8_t> bytes, size_t origin) : bytes_(bytes), origin_(origin) {}

  size_t offset() const { return origin_ + pos_; }
  size_t left() const { return bytes_.size() - pos_; }
  // What is being read, for messages ("layer 3 'conv1' (Convolution)").
  void set_where(std::string where) { where_ = std::move(where); }

  // Names in the message come from the plan: control bytes are escaped so that the message
  // stays one printable line whatever the plan holds.
  template <typename... A>
  [[noreturn]] void fail_at(size_t at, const A&... a) const {
    const std::string raw = detail::cat(where_, where_.empty() ? "" : ": ", a...);
    std::string clean;
    for (char c : raw) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x20 && u != 0x7f) {
        clean += c;
        continue;
      }
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      clean += buf;
    }
    LK_FAIL(kINVALID_ARGUMENT, "engine plan: ", clean, " (at byte ", at, ")");
  }

  const uint8_t* take(size_t n, const char* what) {
    if (n > left())
      fail_at(offset(), "truncated: ", what, " needs ", n, " bytes but ", left(), " are left");
    const uint8_t* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint64_t le(int n, const char* what) {
    const uint8_t* p = take(static_cast<size_t>(n), what);
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
  }
  uint8_t u8(const char* what) { return static_cast<uint8_t>(le(1, what)); }
  uint32_t u32(const char* what) { return static_cast<uint32_t>(le(4, what)); }
  uint64_t u64(const char* what) { return le(8, what); }
  int32_t i32(const char* what) { return static_cast<int32_t>(u32(what)); }
  int64_t i64(const char* what) { return static_cast<int64_t>(u64(what)); }
  // An entry count, checked against the bytes left before anything is allocated for it: each
  // entry takes at least `min_entry_bytes`.
  size_t count(size_t min_entry_bytes, const char* what) {
    const size_t at = offset();
    const uint64_t n = u32(what);
    if (n * min_entry_bytes > left())
      fail_at(at, what, ": ", n, " entries of at least ", min_entry_bytes,
              " bytes each run past the end (", left(), " bytes left)");
    return static_cast<size_t>(n);
  }
  std::string str(const char* what) {
    const size_t at = offset();
    const uint32_t n = u32(what);
    if (n > left())
      fail_at(at, what, ": a length of ", n, " bytes runs past the end (", left(), " bytes left)");
    const uint8_t* p = take(n, what);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  bool flag(const char* what) {
    const size_t at = offset();
    const uint8_t v = u8(what);
    if (v > 1) fail_at(at, what, ": ", int(v), " is neither 0 nor 1");
    return v == 1;
  }

  void operator()(int32_t& v, const char* f) { v = i32(f); }
  void operator()(int64_t& v, const char* f) { v = i64(f); }
  void operator()(uint32_t& v, const char* f) { v = u32(f); }
  void operator()(uint64_t& v, const char* f) { v = u64(f); }
  void operator()(bool& v, const char* f) { v = flag(f); }
  void operator()(float& v, const char* f) { v = std::bit_cast<float>(u32(f)); }
  void operator()(double& v, const char* f) { v = std::bit_cast<double>(u64(f)); }
  template <typename E>
  requires std::is_enum_v<E>
  void operator()(E& v, const char* f) {
    const size_t at = offset();
    const int32_t raw = i32(f);
    v = static_cast<E>(raw);
    if (!known_enum(v)) fail_at(at, f, ": unknown value ", raw);
  }
  void operator()(Dims& d, const char* f) {
    const size_t at = offset();
    const uint32_t rank = u32(f);
    if (rank > static_cast<uint32_t>(kMaxDims))
      fail_at(at, f, ": rank ", rank, " exceeds the largest rank, ", kMaxDims);
    d = Dims::of_rank(static_cast<int>(rank));
    for (uint32_t i = 0; i < rank; ++i) d[static_cast<int>(i)] = i64(f);
  }
  // Tensor shapes: each entry a size or -1 (dynamic), and the known sizes' product an int64.
  void shape(Dims& d, const char* f) {
    const size_t at = offset();
    (*this)(d, f);
    int64_t volume = 1;
    for (int i = 0; i < d.rank(); ++i) {
      if (d[i] < kDynamic) fail_at(at, f, " ", d.to_string(), ": negative extent at axis ", i);
      if (d[i] != kDynamic && __builtin_mul_overflow(volume, d[i], &volume))
        fail_at(at, f, " ", d.to_string(), ": the element count overflows int64");
    }
  }
  void operator()(std::optional<Dims>& d, const char* f) {
    d.reset();
    if (flag(f)) (*this)(d.emplace(), f);
  }
  void operator()(std::optional<DataType>& t, const char* f) {
    t.reset();
    if (flag(f)) (*this)(t.emplace(), f);
  }
  void operator()(std::vector<int32_t>& v, const char* f) {
    v.resize(count(4, f));
    for (int32_t& x : v) x = i32(f);
  }
  void operator()(std::vector<double>& v, const char* f) {
    v.resize(count(8, f));
    for (double& x : v) (*this)(x, f);
  }
  void operator()(Weights& w, const char* f) {
    const size_t at = offset();
    const int32_t i = i32(f);
    if (i < 0 || static_cast<size_t>(i) >= weights_.size())
      fail_at(at, f, ": weights index ", i, " is outside the plan's table of ", weights_.size());
    w = weights_[static_cast<size_t>(i)];
  }
  // Bodies nest at most this deep, so a crafted plan cannot exhaust the stack.
  static constexpr int kMaxBodyDepth = 16;
  void operator()(std::shared_ptr<const Network>& n, const char* f) {
    const size_t at = offset();
    if (depth_ >= kMaxBodyDepth)
      fail_at(at, f, ": bodies nest deeper than ", kMaxBodyDepth, " levels");
    const std::string where = where_;
    ++depth_;
    std::unique_ptr<Network> body = read_layers(*this);
    --depth_;
    n = std::move(body);
    where_ = where;
  }
  std::vector<Weights>& weights() { return weights_; }

 private:
  int depth_ = 0;
  std::span<const uint8_t> bytes_;
  size_t origin_;
  size_t pos_ = 0;
  std::string where_;
  std::vector<Weights> weights_;
};

// ---- the attribute structs, field by field
// -------------------------------------------------------- One overload per struct, used for
// writing (const) and reading. Each unpacks its struct with a structured binding, so a field added
// to a struct fails to compile here until it is written; a kind added to layer_kinds.def fails to
// compile in read_attrs/write_attrs until it has one.

template <typename Io, typename T>
using Field = std::conditional_t<Io::kWriting, const T, T>;

#define LK_FIELD(x) io(x, #x)

template <typename Io>
void fields(Io& io, Field<Io, InputAttrs>& a) {
  auto& [type, dims] = a;
  LK_FIELD(type);
  io.shape(dims, "dims");
}
template <typename Io>
void fields(Io& io, Field<Io, ConstantAttrs>& a) {
  auto& [dims, weights] = a;
  io.shape(dims, "dims");
  LK_FIELD(weights);
}
template <typename Io>
void fields(Io&, Field<Io, IdentityAttrs>&) {
  static_assert(std::is_empty_v<IdentityAttrs>);
}
template <typename Io>
void fields(Io& io, Field<Io, CastAttrs>& a) {
  auto& [to_type] = a;
  LK_FIELD(to_type);
}
template <typename Io>
void fields(Io& io, Field<Io, ElementWiseAttrs>& a) {
  auto& [op] = a;
  LK_FIELD(op);
}
template <typename Io>
void fields(Io& io, Field<Io, UnaryAttrs>& a) {
  auto& [op] = a;
  LK_FIELD(op);
}
template <typename Io>
void fields(Io& io, Field<Io, ActivationAttrs>& a) {
  auto& [type, alpha, beta] = a;
  LK_FIELD(type);
  LK_FIELD(alpha);
  LK_FIELD(beta);
}
template <typename Io>
void fields(Io& io, Field<Io, ShuffleAttrs>& a) {
  auto& [first_transpose, reshape_dims, second_transpose, zero_is_placeholder] = a;
  LK_FIELD(first_transpose);
  LK_FIELD(reshape_dims);
  LK_FIELD(second_transpose);
  LK_FIELD(zero_is_placeholder);
}
template <typename Io>
void fields(Io& io, Field<Io, SliceAttrs>& a) {
  auto& [start, size, stride, mode] = a;
  LK_FIELD(start);
  LK_FIELD(size);
  LK_FIELD(stride);
  LK_FIELD(mode);
}
template <typename Io>
void fields(Io& io, Field<Io, ConcatenationAttrs>& a) {
  auto& [axis] = a;
  LK_FIELD(axis);
}
template <typename Io>
void fields(Io& io, Field<Io, GatherAttrs>& a) {
  auto& [axis, mode, num_elementwise_dims] = a;
  LK_FIELD(axis);
  LK_FIELD(mode);
  LK_FIELD(num_elementwise_dims);
}
template <typename Io>
void fields(Io& io, Field<Io, ScatterAttrs>& a) {
  auto& [mode, axis, reduction] = a;
  LK_FIELD(mode);
  LK_FIELD(axis);
  LK_FIELD(reduction);
}
template <typename Io>
void fields(Io& io, Field<Io, FillAttrs>& a) {
  auto& [op, dims, alpha, beta, output_type, seed] = a;
  LK_FIELD(op);
  io.shape(dims, "dims");
  LK_FIELD(alpha);
  LK_FIELD(beta);
  LK_FIELD(output_type);
  LK_FIELD(seed);
}
template <typename Io>
void fields(Io&, Field<Io, ShapeAttrs>&) {
  static_assert(std::is_empty_v<ShapeAttrs>);
}
template <typename Io>
void fields(Io& io, Field<Io, MatrixMultiplyAttrs>& a) {
  auto& [op0, op1] = a;
  LK_FIELD(op0);
  LK_FIELD(op1);
}
template <typename Io>
void fields(Io& io, Field<Io, ConvolutionAttrs>& a) {
  auto& [num_output_maps, kernel_size, kernel, bias, stride, pre_padding, post_padding, dilation,
         padding_mode, num_groups] = a;
  LK_FIELD(num_output_maps);
  io.shape(kernel_size, "kernel_size");
  LK_FIELD(kernel);
  LK_FIELD(bias);
  LK_FIELD(stride);
  LK_FIELD(pre_padding);
  LK_FIELD(post_padding);
  LK_FIELD(dilation);
  LK_FIELD(padding_mode);
  LK_FIELD(num_groups);
}
template <typename Io>
void fields(Io& io, Field<Io, DeconvolutionAttrs>& a) {
  auto& [num_output_maps, kernel_size, kernel, bias, stride, pre_padding, post_padding, dilation,
         padding_mode, num_groups] = a;
  LK_FIELD(num_output_maps);
  io.shape(kernel_size, "kernel_size");
  LK_FIELD(kernel);
  LK_FIELD(bias);
  LK_FIELD(stride);
  LK_FIELD(pre_padding);
  LK_FIELD(post_padding);
  LK_FIELD(dilation);
  LK_FIELD(padding_mode);
  LK_FIELD(num_groups);
}
template <typename Io>
void fields(Io& io, Field<Io, PoolingAttrs>& a) {
  auto& [type, window, stride, pre_padding, post_padding, dilation, padding_mode,
         average_count_excludes_padding, blend_factor] = a;
  LK_FIELD(type);
  io.shape(window, "window");
  LK_FIELD(stride);
  LK_FIELD(pre_padding);
  LK_FIELD(post_padding);
  LK_FIELD(dilation);
  LK_FIELD(padding_mode);
  LK_FIELD(average_count_excludes_padding);
  LK_FIELD(blend_factor);
}
template <typename Io>
void fields(Io& io, Field<Io, ReduceAttrs>& a) {
  auto& [op, axes, keep_dims] = a;
  LK_FIELD(op);
  LK_FIELD(axes);
  LK_FIELD(keep_dims);
}
template <typename Io>
void fields(Io& io, Field<Io, TopKAttrs>& a) {
  auto& [op, k, axes, indices_type] = a;
  LK_FIELD(op);
  LK_FIELD(k);
  LK_FIELD(axes);
  LK_FIELD(indices_type);
}
template <typename Io>
void fields(Io& io, Field<Io, CumulativeAttrs>& a) {
  auto& [op, axis, exclusive, reverse] = a;
  LK_FIELD(op);
  LK_FIELD(axis);
  LK_FIELD(exclusive);
  LK_FIELD(reverse);
}
template <typename Io>
void fields(Io& io, Field<Io, SoftMaxAttrs>& a) {
  auto& [axes] = a;
  LK_FIELD(axes);
}
template <typename Io>
void fields(Io& io, Field<Io, ResizeAttrs>& a) {
  auto& [output_dims, scales, resize_mode, coordinate_transformation, selector_for_single_pixel,
         nearest_rounding, cubic_coeff, exclude_outside] = a;
  LK_FIELD(output_dims);
  LK_FIELD(scales);
  LK_FIELD(resize_mode);
  LK_FIELD(coordinate_transformation);
  LK_FIELD(selector_for_single_pixel);
  LK_FIELD(nearest_rounding);
  LK_FIELD(cubic_coeff);
  LK_FIELD(exclude_outside);
}
template <typename Io>
void fields(Io& io, Field<Io, GridSampleAttrs>& a) {
  auto& [interpolation_mode, align_corners, sample_mode] = a;
  LK_FIELD(interpolation_mode);
  LK_FIELD(align_corners);
  LK_FIELD(sample_mode);
}
template <typename Io>
void fields(Io& io, Field<Io, PaddingAttrs>& a) {
  auto& [pre_padding, post_padding] = a;
  LK_FIELD(pre_padding);
  LK_FIELD(post_padding);
}
template <typename Io>
void fields(Io& io, Field<Io, ScaleAttrs>& a) {
  auto& [mode, shift, scale, power, channel_axis] = a;
  LK_FIELD(mode);
  LK_FIELD(shift);
  LK_FIELD(scale);
  LK_FIELD(power);
  LK_FIELD(channel_axis);
}
template <typename Io>
void fields(Io& io, Field<Io, NormalizationAttrs>& a) {
  auto& [epsilon, axes, num_groups, compute_precision] = a;
  LK_FIELD(epsilon);
  LK_FIELD(axes);
  LK_FIELD(num_groups);
  LK_FIELD(compute_precision);
}
template <typename Io>
void fields(Io&, Field<Io, SelectAttrs>&) {
  static_assert(std::is_empty_v<SelectAttrs>);
}
template <typename Io>
void fields(Io&, Field<Io, ParametricReLUAttrs>&) {
  static_assert(std::is_empty_v<ParametricReLUAttrs>);
}
template <typename Io>
void fields(Io& io, Field<Io, QuantizeAttrs>& a) {
  auto& [axis, output_type] = a;
  LK_FIELD(axis);
  LK_FIELD(output_type);
}
template <typename Io>
void fields(Io& io, Field<Io, DequantizeAttrs>& a) {
  auto& [axis, to_type] = a;
  LK_FIELD(axis);
  LK_FIELD(to_type);
}
template <typename Io>
void fields(Io& io, Field<Io, DynamicQuantizeAttrs>& a) {
  auto& [axis, block_size, output_type, scale_type] = a;
  LK_FIELD(axis);
  LK_FIELD(block_size);
  LK_FIELD(output_type);
  LK_FIELD(scale_type);
}
template <typename Io>
void fields(Io& io, Field<Io, CollectiveAttrs>& a) {
  auto& [op, reduce_op, rank, world_size, axis] = a;
  LK_FIELD(op);
  LK_FIELD(reduce_op);
  LK_FIELD(rank);
  LK_FIELD(world_size);
  LK_FIELD(axis);
}
template <typename Io>
void fields(Io&, Field<Io, NonZeroAttrs>&) {
  static_assert(std::is_empty_v<NonZeroAttrs>);
}
template <typename Io>
void fields(Io& io, Field<Io, ConditionalAttrs>& a) {
  auto& [then_body, else_body] = a;
  LK_FIELD(then_body);
  LK_FIELD(else_body);
}
template <typename Io>
void fields(Io& io, Field<Io, LoopAttrs>& a) {
  auto& [body, num_carried, scan_input_axes, scan_input_reverse, scan_output_axes,
         scan_output_reverse] = a;
  LK_FIELD(body);
  LK_FIELD(num_carried);
  LK_FIELD(scan_input_axes);
  LK_FIELD(scan_input_reverse);
  LK_FIELD(scan_output_axes);
  LK_FIELD(scan_output_reverse);
}

#undef LK_FIELD

// The variant holds one struct per kind plus std::monostate (no layer has it).
static_assert(std::variant_size_v<LayerAttrs> == static_cast<size_t>(kNumLayerKinds) + 1);

void write_attrs(Writer& w, const LayerAttrs& attrs) {
  std::visit(
      [&](const auto& a) {
        if constexpr (std::is_same_v<std::decay_t<decltype(a)>, std::monostate>)
          LK_ASSERT(false, "serialize: a layer without attributes");
        else
          fields(w, a);
      },
      attrs);
}

LayerAttrs read_attrs(Reader& r, LayerKind kind) {
  // No default: the cases come from the kinds list, so every kind has one.
  switch (kind) {
#define LK_LAYER_KIND(e, name, attrs_type) \
  case LayerKind::e: {                     \
    attrs_type a;                          \
    fields(r, a);                          \
    return a;                              \
  }
#include "layerkit/network/layer_kinds.def"
#undef LK_LAYER_KIND
  }
  LK_ASSERT(false, "read_attrs: kind ", static_cast<int32_t>(kind), " passed the kind check");
}

// ---- the sections -------------------------------------------------------------------------------

void write_config(Writer& w, const BuilderConfig& c) {
  w(c.device, "device");
  w(c.device_index, "device_index");
  w(c.num_threads, "num_threads");
  w(c.reference_kernels_only, "reference_kernels_only");
  w(c.memory_budget_bytes, "memory_budget_bytes");
  w(c.optimization_level, "optimization_level");
  w(c.flags, "flags");
  w(c.use_cuda_graph, "use_cuda_graph");
  w.count(c.profiles.size(), "optimization profiles");
  for (const OptimizationProfile& p : c.profiles) {
    w.count(p.all().size(), "profile entries");
    for (const auto& [name, pd] : p.all()) {
      w.str(name);
      w.shape(pd.min, "min");
      w.shape(pd.opt, "opt");
      w.shape(pd.max, "max");
    }
  }
}

BuilderConfig read_config(Reader& r, const DeserializeOptions& options) {
  r.set_where("config");
  BuilderConfig c;
  r(c.device, "device");
  r(c.device_index, "device_index");
  r(c.num_threads, "num_threads");
  r(c.reference_kernels_only, "reference_kernels_only");
  r(c.memory_budget_bytes, "memory_budget_bytes");
  r(c.optimization_level, "optimization_level");
  r(c.flags, "flags");
  r(c.use_cuda_graph, "use_cuda_graph");
  c.communicator = options.communicator;
  const size_t n = r.count(4, "optimization profiles");
  for (size_t p = 0; p < n; ++p) {
    r.set_where(detail::cat("config: optimization profile ", p));
    OptimizationProfile profile;
    const size_t entries = r.count(16, "profile entries");
    for (size_t e = 0; e < entries; ++e) {
      const size_t at = r.offset();
      std::string name = r.str("input name");
      Dims min, opt, max;
      r.shape(min, "min");
      r.shape(opt, "opt");
      r.shape(max, "max");
      if (profile.dimensions(name)) r.fail_at(at, "input '", name, "' appears twice");
      try {
        profile.set_dimensions(name, min, opt, max);
      } catch (const Error& err) {
        r.fail_at(at, err.what());
      }
    }
    c.profiles.push_back(std::move(profile));
  }
  return c;
}

void write_tensor(Writer& w, const Tensor& t) {
  w.str(t.name());
  w(t.type(), "type");
  w.shape(t.dims(), "dims");
  w.count(t.known_values().size(), "known values");
  for (const std::optional<int64_t>& v : t.known_values()) {
    w.u8(v ? 1 : 0);
    if (v) w.i64(*v);
  }
  w(t.dynamic_range().has_value(), "dynamic range");
  if (t.dynamic_range()) {
    w(t.dynamic_range()->first, "dynamic range min");
    w(t.dynamic_range()->second, "dynamic range max");
  }
}

struct TensorRecord {
  size_t at = 0;
  std::string name;
  DataType type = DataType::kFLOAT;
  Dims dims;
  KnownValues known;
  std::optional<std::pair<float, float>> range;
};

TensorRecord read_tensor(Reader& r) {
  TensorRecord t;
  t.at = r.offset();
  t.name = r.str("tensor name");
  r(t.type, "type");
  r.shape(t.dims, "dims");
  t.known.resize(r.count(1, "known values"));
  for (std::optional<int64_t>& v : t.known)
    if (r.flag("known value")) v = r.i64("known value");
  if (r.flag("dynamic range")) {
    float lo = 0, hi = 0;
    r(lo, "dynamic range min");
    r(hi, "dynamic range max");
    t.range = std::make_pair(lo, hi);
  }
  return t;
}

void write_layers(Writer& body, const Network& net) {
  // Tensor indices count the layers' outputs in layer order; every tensor of a network is one.
  std::map<const Tensor*, int32_t> index;
  body.count(static_cast<size_t>(net.num_layers()), "layers");
  for (int i = 0; i < net.num_layers(); ++i) {
    const Layer* l = net.layer(i);
    body.str(l->name());
    body(l->kind(), "kind");
    write_attrs(body, l->attrs());
    body(l->precision(), "precision");
    body.count(l->inputs().size(), "layer inputs");
    for (const Tensor* t : l->inputs()) {
      auto it = t ? index.find(t) : index.end();
      LK_CHECK(!t || it != index.end(), "serialize: layer '", l->name(), "' reads '", t->name(),
               "' before the layer producing it");
      body.i32(t ? it->second : -1);
    }
    body.count(l->outputs().size(), "layer outputs");
    for (const Tensor* t : l->outputs()) {
      index.emplace(t, static_cast<int32_t>(index.size()));
      write_tensor(body, *t);
    }
  }
  body.count(static_cast<size_t>(net.num_inputs()), "network inputs");
  for (int i = 0; i < net.num_inputs(); ++i) body.i32(index.at(net.input(i)));
  body.count(static_cast<size_t>(net.num_outputs()), "network outputs");
  for (int i = 0; i < net.num_outputs(); ++i) body.i32(index.at(net.output(i)));
}

void write_network(Writer& w, const Network& net) {
  Writer body;
  write_layers(body, net);
  w.count(body.weights().size(), "weights");
  for (const Weights& x : body.weights()) {
    w(x.type(), "weights type");
    w.i64(x.count());
    w.blob(x.data(), static_cast<size_t>(x.bytes()));
  }
  w.bytes().insert(w.bytes().end(), body.bytes().begin(), body.bytes().end());
}

// The tensor an index names, for a layer input or the output list.
Tensor* tensor_at(Reader& r, const std::vector<Tensor*>& tensors, size_t at, int32_t i,
                  const char* what) {
  if (i < 0 || static_cast<size_t>(i) >= tensors.size())
    r.fail_at(at, what, ": tensor index ", i, " is out of range (", tensors.size(),
              " tensors are defined before it)");
  return tensors[static_cast<size_t>(i)];
}

void read_layer(Reader& r, Network& net, std::vector<Tensor*>& tensors, size_t i) {
  const size_t at = r.offset();
  r.set_where(detail::cat("layer ", i));
  std::string name = r.str("layer name");
  r.set_where(detail::cat("layer ", i, " '", name, "'"));
  LayerKind kind{};
  r(kind, "kind");
  r.set_where(detail::cat("layer ", i, " '", name, "' (", layer_kind_name(kind), ")"));
  LayerAttrs attrs = read_attrs(r, kind);
  const size_t precision_at = r.offset();
  std::optional<DataType> precision;
  r(precision, "precision");
  std::vector<Tensor*> inputs(r.count(4, "layer inputs"));
  for (size_t k = 0; k < inputs.size(); ++k) {
    const size_t in_at = r.offset();
    const int32_t t = r.i32("layer input");
    if (t != -1) inputs[k] = tensor_at(r, tensors, in_at, t, "input");
  }
  std::vector<TensorRecord> outs(r.count(17, "layer outputs"));
  for (TensorRecord& o : outs) o = read_tensor(r);

  // Added as a user adds it: validated and inferred again.
  Layer* layer = nullptr;
  try {
    if (kind == LayerKind::kINPUT) {
      if (!inputs.empty() || outs.size() != 1)
        r.fail_at(at, "an Input layer has no inputs and one output, not ", inputs.size(), " and ",
                  outs.size());
      const auto& a = std::get<InputAttrs>(attrs);
      layer = net.add_input(outs[0].name, a.type, a.dims)->producer();
    } else {
      layer = net.add_layer(std::move(attrs), std::move(inputs));
    }
  } catch (const Error& e) {
    if (std::string_view(e.what()).starts_with("engine plan:")) throw;
    r.fail_at(at, "does not validate: ", e.what());
  }
  if (static_cast<size_t>(layer->num_outputs()) != outs.size())
    r.fail_at(at, "the plan records ", outs.size(), " outputs but the layer has ",
              layer->num_outputs());
  for (size_t k = 0; k < outs.size(); ++k) {
    const TensorRecord& o = outs[k];
    Tensor* t = layer->output(static_cast<int>(k));
    if (t->type() != o.type)
      r.fail_at(o.at, "output ", k, " '", o.name, "' is recorded as ", data_type_name(o.type),
                " but the layer makes ", data_type_name(t->type()));
    try {
      // A later output of this layer may still hold the name (as inference named it).
      if (Tensor* other = net.find_tensor(o.name);
          other && other != t && other->producer() == layer) {
        std::string spare = o.name + "~";
        while (net.find_tensor(spare)) spare += "~";
        other->set_name(spare);
      }
      t->set_name(o.name);
      net.relax_tensor(t, o.dims, o.known);
      if (o.range) t->set_dynamic_range(o.range->first, o.range->second);
    } catch (const Error& e) {
      r.fail_at(o.at, "output ", k, ": ", e.what());
    }
    tensors.push_back(t);
  }
  try {
    layer->set_name(name);
  } catch (const Error& e) {
    r.fail_at(at, e.what());
  }
  try {
    if (precision) layer->set_precision(*precision);
  } catch (const Error& e) {
    r.fail_at(precision_at, e.what());
  }
}

std::unique_ptr<Network> read_network(Reader& r) {
  r.set_where("weights");
  const size_t nw = r.count(20, "weights");
  for (size_t i = 0; i < nw; ++i) {
    const size_t at = r.offset();
    DataType type{};
    r(type, "weights type");
    const int64_t count = r.i64("weights count");
    if (count < 0 || count > INT64_MAX / 8)
      r.fail_at(at, "weights ", i, ": element count ", count, " is out of range");
    const uint64_t bytes = r.u64("weights bytes");
    if (bytes != static_cast<uint64_t>(packed_bytes(type, count)))
      r.fail_at(at, "weights ", i, ": ", bytes, " bytes for ", count, " ", data_type_name(type),
                " elements, which take ", packed_bytes(type, count));
    const uint8_t* data = r.take(static_cast<size_t>(bytes), "weights data");
    r.weights().push_back(Weights::copy(type, data, count));
  }

  return read_layers(r);
}

std::unique_ptr<Network> read_layers(Reader& r) {
  auto net = std::make_unique<Network>();
  std::vector<Tensor*> tensors;
  r.set_where("network");
  const size_t layers = r.count(16, "layers");
  for (size_t i = 0; i < layers; ++i) read_layer(r, *net, tensors, i);

  r.set_where("network inputs");
  size_t at = r.offset();
  const size_t ni = r.count(4, "network inputs");
  if (static_cast<int>(ni) != net->num_inputs())
    r.fail_at(at, ni, " inputs listed but the network has ", net->num_inputs(), " Input layers");
  for (size_t i = 0; i < ni; ++i) {
    at = r.offset();
    Tensor* t = tensor_at(r, tensors, at, r.i32("network input"), "input");
    if (t != net->input(static_cast<int>(i)))
      r.fail_at(at, "input ", i, " is '", t->name(), "' but Input layer ", i, " makes '",
                net->input(static_cast<int>(i))->name(), "'");
  }
  r.set_where("network outputs");
  const size_t no = r.count(4, "network outputs");
  for (size_t i = 0; i < no; ++i) {
    at = r.offset();
    Tensor* t = tensor_at(r, tensors, at, r.i32("network output"), "output");
    if (t->is_network_output()) r.fail_at(at, "output '", t->name(), "' is listed twice");
    try {
      net->mark_output(t);
    } catch (const Error& e) {
      r.fail_at(at, e.what());
    }
  }
  return net;
}

void write_report(Writer& w, const BuildReport& b) {
  w(b.optimization_level, "optimization_level");
  w.count(b.passes.size(), "pass statistics");
  for (const PassStatistics& p : b.passes) {
    w.str(p.pass);
    w(p.runs, "runs");
    w(p.rewrites, "rewrites");
    w(p.milliseconds, "milliseconds");
  }
  w.count(b.records.size(), "pass records");
  for (const PassRecord& p : b.records) {
    w.str(p.pass);
    w.str(p.layer);
    w.str(p.detail);
  }
}

BuildReport read_report(Reader& r) {
  r.set_where("build report");
  BuildReport b;
  r(b.optimization_level, "optimization_level");
  b.passes.resize(r.count(20, "pass statistics"));
  for (PassStatistics& p : b.passes) {
    p.pass = r.str("pass");
    r(p.runs, "runs");
    r(p.rewrites, "rewrites");
    r(p.milliseconds, "milliseconds");
  }
  b.records.resize(r.count(12, "pass records"));
  for (PassRecord& p : b.records) {
    p.pass = r.str("pass");
    p.layer = r.str("layer");
    p.detail = r.str("detail");
  }
  return b;
}

void write_memory_plan(Writer& w, const MemoryPlan& m) {
  w(m.peak_bytes_planned, "peak_bytes_planned");
  w(m.peak_bytes_unplanned, "peak_bytes_unplanned");
  w.count(m.assignments.size(), "memory assignments");
  for (const MemoryPlan::Assignment& a : m.assignments) {
    w.str(a.tensor);
    w(a.slot, "slot");
    w(a.offset, "offset");
    w(a.bytes, "bytes");
  }
}

MemoryPlan read_memory_plan(Reader& r, const Network& net) {
  r.set_where("memory plan");
  MemoryPlan m;
  const size_t at = r.offset();
  r(m.peak_bytes_planned, "peak_bytes_planned");
  r(m.peak_bytes_unplanned, "peak_bytes_unplanned");
  if (m.peak_bytes_planned < 0 || m.peak_bytes_unplanned < 0)
    r.fail_at(at, "negative peak bytes ", m.peak_bytes_planned, " / ", m.peak_bytes_unplanned);
  m.assignments.resize(r.count(24, "memory assignments"));
  for (MemoryPlan::Assignment& a : m.assignments) {
    const size_t at = r.offset();
    a.tensor = r.str("tensor");
    r(a.slot, "slot");
    r(a.offset, "offset");
    r(a.bytes, "bytes");
    if (!net.find_tensor(a.tensor)) r.fail_at(at, "tensor '", a.tensor, "' is not in the network");
    if (a.slot < 0 || a.offset < 0 || a.bytes < 0 || a.offset > m.peak_bytes_planned - a.bytes)
      r.fail_at(at, "tensor '", a.tensor, "': slot ", a.slot, ", offset ", a.offset, ", ", a.bytes,
                " bytes lie outside the arena of ", m.peak_bytes_planned, " bytes");
  }
  return m;
}

std::string hex(uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// The header is the magic, the format version, the version string (length-prefixed, at most this
// many bytes) and the payload length.
constexpr size_t kMaxVersionBytes = 64;

}  // namespace

std::vector<uint8_t> Engine::serialize() const {
  // One buffer, header first: the payload length is patched in once the payload is written.
  Writer w;
  w.bytes().assign(plan::kMagic.begin(), plan::kMagic.end());
  w.u32(plan::kFormatVersion);
  w.str(plan::library_version());
  const size_t length_at = w.bytes().size();
  w.u64(0);
  write_config(w, config_);
  write_network(w, *network_);
  write_report(w, report_);
  write_memory_plan(w, memory_plan_);
  std::vector<uint8_t> bytes = std::move(w.bytes());
  const uint64_t payload = bytes.size() - length_at - 8;
  for (size_t i = 0; i < 8; ++i) bytes[length_at + i] = static_cast<uint8_t>(payload >> (8 * i));
  const uint64_t sum = plan::checksum(bytes);
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(sum >> (8 * i)));
  return bytes;
}

std::unique_ptr<Engine> Engine::deserialize(std::span<const uint8_t> bytes,
                                            const DeserializeOptions& options) {
  Reader header(bytes, 0);
  const size_t n = bytes.size();
  if (n == 0) header.fail_at(0, "truncated: the input is empty (a plan starts with 'LKENGINE')");
  // A prefix of the magic is a truncated plan; anything else is no plan at all.
  if (std::memcmp(bytes.data(), plan::kMagic.data(), std::min(n, plan::kMagic.size())) != 0)
    header.fail_at(0, "bad magic: this is not a layerkit engine plan (one starts with 'LKENGINE')");
  header.take(plan::kMagic.size(), "the magic");
  const uint32_t version = header.u32("the format version");
  if (version != plan::kFormatVersion)
    header.fail_at(plan::kMagic.size(), "format version ", version, " is not ",
                   plan::kFormatVersion, ", the version this layerkit (", plan::library_version(),
                   ") reads; rebuild the engine");
  const size_t at = header.offset();
  const uint32_t version_bytes = header.u32("the layerkit version");
  if (version_bytes > kMaxVersionBytes)
    header.fail_at(at, "the layerkit version's length ", version_bytes, " exceeds ",
                   kMaxVersionBytes, " bytes");
  const std::string writer_version(
      reinterpret_cast<const char*>(header.take(version_bytes, "the layerkit version")),
      version_bytes);
  const size_t payload_at = header.offset() + 8;
  const uint64_t payload = header.u64("the payload length");
  if (payload > n - payload_at || n - payload_at - payload < 8)
    header.fail_at(payload_at, "truncated: the header announces ", payload,
                   " payload bytes and an 8-byte checksum, but only ", n - payload_at,
                   " bytes follow");
  if (n - payload_at - payload > 8)
    header.fail_at(payload_at + payload + 8, n - payload_at - payload - 8,
                   " bytes follow the checksum");
  uint64_t stored = 0;
  for (int i = 0; i < 8; ++i)
    stored |= static_cast<uint64_t>(bytes[payload_at + payload + static_cast<size_t>(i)])
              << (8 * i);
  const uint64_t sum = plan::checksum(bytes.first(payload_at + payload));
  if (stored != sum)
    header.fail_at(payload_at + payload, "checksum mismatch: the plan (written by layerkit ",
                   writer_version, ") stores ", hex(stored), " but its bytes give ", hex(sum),
                   "; it was altered or damaged");

  Reader r(bytes.subspan(payload_at, payload), payload_at);
  BuilderConfig config = read_config(r, options);
  std::unique_ptr<Network> net = read_network(r);
  BuildReport report = read_report(r);
  MemoryPlan memory = read_memory_plan(r, *net);
  r.set_where("");
  if (r.left() != 0)
    r.fail_at(r.offset(), r.left(), " bytes of the payload are left after the memory plan");
  try {
    check_build_config(*net, config);
  } catch (const Error& e) {
    r.fail_at(payload_at, "the network does not validate against its config: ", e.what());
  }
  return std::make_unique<Engine>(std::move(net), std::move(config), std::move(report),
                                  std::move(memory));
}

}  // namespace layerkit
