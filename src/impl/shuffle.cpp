// Reshape-family building blocks: reshape, view and flatten with PyTorch's size rules.
#include "layerkit/impl/shuffle.h"

#include <algorithm>

#include "layerkit/impl/utils.h"

namespace layerkit::impl::shuffle {

namespace {

std::string list_string(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += detail::cat(i ? "," : "", v[i]);
  return s + "]";
}

// torch's infer_size: checks the request against the input before any layer is added, so the
// messages name both shapes as torch's do.
Dims infer_shape(const Dims& in, const std::vector<int64_t>& shape) {
  LK_CHECK(shape.size() <= static_cast<size_t>(kMaxDims), "reshape to ", list_string(shape),
           ": rank ", shape.size(), " exceeds ", kMaxDims);
  int inferred = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      LK_CHECK(inferred < 0, "reshape to ", list_string(shape), ": only one dimension can be -1");
      inferred = static_cast<int>(i);
    } else {
      LK_CHECK(shape[i] >= 0, "reshape to ", list_string(shape), ": invalid size ", shape[i]);
      known *= shape[i];
    }
  }
  Dims out(std::span<const int64_t>(shape.data(), shape.size()));
  int64_t volume = in.volume();  // -1 when dynamic
  bool in_zero = std::count(in.begin(), in.end(), int64_t{0}) > 0;
  if (in_zero) volume = 0;
  if (inferred >= 0) {
    LK_CHECK(known != 0, "cannot reshape a tensor of shape ", in.to_string(), " to ",
             list_string(shape),
             ": the -1 dimension could be any size when the others multiply to 0");
    if (volume >= 0) {
      LK_CHECK(volume % known == 0, "shape ", list_string(shape), " is invalid for input of shape ",
               in.to_string(), " (", volume, " elements)");
      out[inferred] = volume / known;
    }
  } else if (volume >= 0) {
    LK_CHECK(volume == known, "shape ", list_string(shape), " is invalid for input of shape ",
             in.to_string(), " (", volume, " elements)");
  }
  return out;
}

Tensor* reshape_static(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                       const std::vector<int64_t>& shape) {
  LK_CHECK(input != nullptr, "input is a null tensor");
  ShuffleAttrs s;
  s.reshape_dims = infer_shape(input->dims(), shape);
  s.zero_is_placeholder = false;
  return named_output(ctx, ctx.net().add_shuffle(input, s), target, source_ir, name);
}

Tensor* reshape_tensor(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                       Tensor* shape) {
  LK_CHECK(input != nullptr, "input is a null tensor");
  LK_CHECK(shape != nullptr, "shape is a null tensor");
  LK_CHECK(shape->type() == DataType::kINT32 || shape->type() == DataType::kINT64,
           "the shape tensor must be int32 or int64, got ", data_type_name(shape->type()));
  LK_CHECK(shape->dims().rank() == 1 && shape->dims()[0] >= 0,
           "the shape tensor must be 1-D with a build-time length, got ",
           shape->dims().to_string());
  Tensor* s = cast_to(ctx, shape, DataType::kINT64, target, source_ir, sub_name(name, "shape"));
  ShuffleAttrs attrs;
  attrs.zero_is_placeholder = false;
  return named_output(ctx, ctx.net().add_shuffle(input, attrs, s), target, source_ir, name);
}

}  // namespace

Tensor* reshape(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, const std::vector<int64_t>& shape) {
  Operand in(input);
  return guarded(ctx, "shuffle::reshape", target, name, {&in},
                 [&] { return reshape_static(ctx, target, source_ir, name, input, shape); });
}

Tensor* reshape(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, Tensor* shape) {
  Operand in(input), sh(shape);
  return guarded(ctx, "shuffle::reshape", target, name, {&in, &sh},
                 [&] { return reshape_tensor(ctx, target, source_ir, name, input, shape); });
}

Tensor* view(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, const std::vector<int64_t>& shape) {
  Operand in(input);
  return guarded(ctx, "shuffle::view", target, name, {&in},
                 [&] { return reshape_static(ctx, target, source_ir, name, input, shape); });
}

Tensor* view(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, Tensor* shape) {
  Operand in(input), sh(shape);
  return guarded(ctx, "shuffle::view", target, name, {&in, &sh},
                 [&] { return reshape_tensor(ctx, target, source_ir, name, input, shape); });
}

Tensor* flatten(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, int64_t start_dim, int64_t end_dim) {
  Operand in(input);
  return guarded(ctx, "shuffle::flatten", target, name, {&in}, [&]() -> Tensor* {
    LK_CHECK(input != nullptr, "input is a null tensor");
    int rank = input->dims().rank();
    int s = get_positive_dim(start_dim, rank);
    int e = get_positive_dim(end_dim, rank);
    LK_CHECK(s <= e, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim,
             " for a rank-", rank, " tensor");
    std::vector<std::vector<int>> groups;
    if (rank == 0) {
      groups.push_back({});  // torch: a 0-D tensor flattens to [1]
    } else {
      for (int i = 0; i < s; ++i) groups.push_back({i});
      groups.emplace_back();
      for (int i = s; i <= e; ++i) groups.back().push_back(i);
      for (int i = e + 1; i < rank; ++i) groups.push_back({i});
    }
    return reshape_groups(ctx, input, groups, target, source_ir, name);
  });
}

}  // namespace layerkit::impl::shuffle
