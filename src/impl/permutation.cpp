// Permutation building blocks: permute and transpose as one Shuffle transpose.
#include "layerkit/impl/permutation.h"

#include <numeric>

#include "layerkit/impl/utils.h"

namespace layerkit::impl::permutation {

namespace {

std::string list_string(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += detail::cat(i ? "," : "", v[i]);
  return s + "]";
}

// One Shuffle even for the identity, so the block always has its own named output.
Tensor* transpose_layer(ConversionContext& ctx, const Target& target,
                        std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                        std::vector<int32_t> perm) {
  ShuffleAttrs s;
  s.first_transpose = std::move(perm);
  return named_output(ctx, ctx.net().add_shuffle(input, s), target, source_ir, name);
}

}  // namespace

Tensor* permute(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                std::string_view name, Tensor* input, const std::vector<int64_t>& dims) {
  Operand in(input);
  return guarded(ctx, "permutation::permute", target, name, {&in}, [&]() -> Tensor* {
    LK_CHECK(input != nullptr, "input is a null tensor");
    int rank = input->dims().rank();
    LK_CHECK(static_cast<int64_t>(dims.size()) == rank, "permute dims ", list_string(dims),
             " have ", dims.size(), " entries for a rank-", rank, " tensor");
    std::vector<int32_t> perm;
    std::vector<bool> seen(static_cast<size_t>(rank), false);
    for (int64_t d : dims) {
      int p = get_positive_dim(d, rank);
      LK_CHECK(!seen[static_cast<size_t>(p)], "permute dims ", list_string(dims), " repeat dim ",
               p);
      seen[static_cast<size_t>(p)] = true;
      perm.push_back(p);
    }
    return transpose_layer(ctx, target, source_ir, name, input, perm);
  });
}

Tensor* transpose(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                  std::string_view name, Tensor* input, int64_t dim0, int64_t dim1) {
  Operand in(input);
  return guarded(ctx, "permutation::transpose", target, name, {&in}, [&]() -> Tensor* {
    LK_CHECK(input != nullptr, "input is a null tensor");
    int rank = input->dims().rank();
    int a = get_positive_dim(dim0, rank), b = get_positive_dim(dim1, rank);
    std::vector<int32_t> perm(static_cast<size_t>(rank));
    std::iota(perm.begin(), perm.end(), 0);
    if (rank > 0) std::swap(perm[static_cast<size_t>(a)], perm[static_cast<size_t>(b)]);
    return transpose_layer(ctx, target, source_ir, name, input, perm);
  });
}

}  // namespace layerkit::impl::permutation
