// Squeeze and unsqueeze building blocks: regroupings of the input dims (Note [Reshape by input
// dims]), so dynamic dims travel through a run-time shape where needed.
#include "layerkit/impl/squeeze.h"

#include <algorithm>

#include "layerkit/impl/utils.h"

namespace layerkit::impl::squeeze {

namespace {

std::string list_string(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += detail::cat(i ? "," : "", v[i]);
  return s + "]";
}

// Keeps every dim not marked in `drop`.
Tensor* drop_dims(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Tensor* input, const std::vector<bool>& drop) {
  std::vector<std::vector<int>> groups;
  for (int i = 0; i < input->dims().rank(); ++i)
    if (!drop[static_cast<size_t>(i)]) groups.push_back({i});
  return reshape_groups(ctx, input, groups, target, source_ir, name);
}

Tensor* squeeze_listed(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                       const std::vector<int64_t>& dims) {
  LK_CHECK(input != nullptr, "input is a null tensor");
  const Dims& d = input->dims();
  std::vector<bool> listed(static_cast<size_t>(std::max(d.rank(), 1)), false);
  std::vector<bool> drop(static_cast<size_t>(d.rank()), false);
  for (int64_t dim : dims) {
    int p = get_positive_dim(dim, d.rank());
    LK_CHECK(!listed[static_cast<size_t>(p)], "squeeze dims ", list_string(dims), " repeat dim ",
             p);
    listed[static_cast<size_t>(p)] = true;
    if (d.rank() == 0) continue;  // torch accepts dim 0 / -1 of a 0-D tensor and keeps it
    LK_CHECK(d[p] >= 0, "squeeze dim ", dim, " of ", d.to_string(),
             " has a dynamic size: whether it is removed would depend on the run-time size; "
             "reshape explicitly instead");
    drop[static_cast<size_t>(p)] = d[p] == 1;
  }
  return drop_dims(ctx, target, source_ir, name, input, drop);
}

}  // namespace

Tensor* squeeze(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input) {
  Operand in(input);
  return guarded(ctx, "squeeze::squeeze", target, name, {&in}, [&]() -> Tensor* {
    LK_CHECK(input != nullptr, "input is a null tensor");
    const Dims& d = input->dims();
    std::vector<bool> drop(static_cast<size_t>(d.rank()));
    for (int i = 0; i < d.rank(); ++i) drop[static_cast<size_t>(i)] = d[i] == 1;
    return drop_dims(ctx, target, source_ir, name, input, drop);
  });
}

Tensor* squeeze(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, int64_t dim) {
  Operand in(input);
  return guarded(ctx, "squeeze::squeeze", target, name, {&in},
                 [&] { return squeeze_listed(ctx, target, source_ir, name, input, {dim}); });
}

Tensor* squeeze(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, const std::vector<int64_t>& dims) {
  Operand in(input);
  return guarded(ctx, "squeeze::squeeze", target, name, {&in},
                 [&] { return squeeze_listed(ctx, target, source_ir, name, input, dims); });
}

Tensor* unsqueeze(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Tensor* input, int64_t dim) {
  Operand in(input);
  return guarded(ctx, "squeeze::unsqueeze", target, name, {&in}, [&]() -> Tensor* {
    LK_CHECK(input != nullptr, "input is a null tensor");
    int rank = input->dims().rank();
    int p = get_positive_dim(dim, rank + 1);
    std::vector<std::vector<int>> groups;
    for (int i = 0; i < rank; ++i) {
      if (i == p) groups.emplace_back();
      groups.push_back({i});
    }
    if (p == rank) groups.emplace_back();
    return reshape_groups(ctx, input, groups, target, source_ir, name);
  });
}

}  // namespace layerkit::impl::squeeze
