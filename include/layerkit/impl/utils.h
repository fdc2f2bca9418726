// Helpers every building block uses: naming, the failure guard, type promotion, broadcasting,
// operand-to-tensor conversion, explicit casts and negative-dim normalisation. Each rule lives
// here once.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl {

// Note [Layer naming]
// A layer added by a building block is named "[{KIND}]-[{source_ir}_ops.{target}]-[{name}]",
// KIND being TensorRT's LayerType spelling (ELEMENTWISE, SHUFFLE, ...) and source_ir "unknown"
// when absent. The sub-layers of a composite use the name "{name}_{suffix}" (sub_name). When the
// full name is taken, "_1", "_2", ... is appended, so names are unique and depend only on the
// order of calls (deterministic across runs). Output tensors are named after their layer.
// An empty target or name is rejected (kINVALID_ARGUMENT) by set_layer_name and by guarded.
std::string sub_name(std::string_view name, std::string_view suffix);
void check_target_and_name(const Target& target, std::string_view name);
void set_layer_name(ConversionContext& ctx, Layer* layer, const Target& target,
                    std::optional<SourceIR> source_ir, std::string_view name);
// The common case: names a layer just added (`named_output(ctx, ctx.net().add_shape(x), target,
// source_ir, name)`) and returns its only output.
Tensor* named_output(ConversionContext& ctx, Layer* layer, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name);

// Runs `body` as one building block: on any Error the network is rolled back to its state
// before the call and the error is rethrown prefixed with the block, target, name and operands.
Tensor* guarded(ConversionContext& ctx, std::string_view block, const Target& target,
                std::string_view name, std::initializer_list<const Operand*> operands,
                const std::function<Tensor*()>& body);
// Same, for blocks with several outputs.
std::vector<Tensor*> guarded_multi(ConversionContext& ctx, std::string_view block,
                                   const Target& target, std::string_view name,
                                   std::initializer_list<const Operand*> operands,
                                   const std::function<std::vector<Tensor*>()>& body);
// Same, for blocks taking a list of operands (cat).
Tensor* guarded_list(ConversionContext& ctx, std::string_view block, const Target& target,
                     std::string_view name, std::span<const Operand> operands,
                     const std::function<Tensor*()>& body);

// Note [Type promotion]
// PyTorch's rules (c10::promoteTypes + at::result_type): categories bool < integer < floating.
// Operands fall in three priority groups: tensors with rank > 0, rank-0 tensors (and host
// constants of rank 0), and scalars (int -> int64, float -> the default float fp32, bool ->
// bool). Each group's types are promoted among themselves; then a lower-priority group only
// matters if its category is higher than the result so far (an int tensor with a float scalar
// becomes fp32; an fp16 tensor with a float scalar stays fp16; a bool tensor with an int scalar
// becomes int64). Pairwise promotion: bool < uint8 < int8/int32/int64 by width (uint8 with int8
// gives int32 here, as layerkit has no int16); integer with floating gives the floating type;
// fp16 with bf16 gives fp32.
DataType promote_types(DataType a, DataType b);
DataType result_type(std::span<const Operand* const> operands);
DataType result_type(std::initializer_list<const Operand*> operands);
// The type an operand has on its own (scalars: int64, fp32, bool).
DataType operand_type(const Operand& op);

// Note [Precision policy]
// A composite of several layers rounds after every layer. For fp16/bf16 that compounds, so
// composites compute 16-bit floats in fp32 (compute_type) and cast the result back once, which
// is what ATen does inside its kernels. Single-layer blocks need no upcast: each layer already
// computes in fp32 and rounds on store.
DataType compute_type(DataType t);

// Adds a Cast layer unless `t` already has `type` (the cast is then folded away).
Tensor* cast_to(ConversionContext& ctx, Tensor* t, DataType type, const Target& target,
                std::optional<SourceIR> source_ir, std::string_view name);

// Turns an operand into a tensor of `type`: scalars and host constants become Constant layers
// (scalars shaped [1]*rank so they broadcast without a reshape), tensors are cast explicitly.
Tensor* to_tensor(ConversionContext& ctx, const Operand& op, DataType type, int rank,
                  const Target& target, std::optional<SourceIR> source_ir, std::string_view name);

// Note [Broadcasting] (building blocks)
// Layers broadcast only between equal ranks (see src/network/infer.h). Blocks follow numpy /
// PyTorch: the lower-rank operand gets leading 1s by a Shuffle (static dims: a reshape; one
// dynamic dim: -1 in its place; several: a shape tensor concat([1..], shape(x))). Sizes then
// broadcast pairwise. Incompatible static sizes fail before any layer is added.
Tensor* prepend_ones(ConversionContext& ctx, Tensor* t, int rank, const Target& target,
                     std::optional<SourceIR> source_ir, std::string_view name);
std::vector<Tensor*> broadcast(ConversionContext& ctx, std::span<Tensor* const> tensors,
                               const Target& target, std::optional<SourceIR> source_ir,
                               std::string_view name);
// The broadcast shape of static/dynamic dims (numpy rules); throws when they cannot broadcast.
Dims broadcast_shape(const Dims& a, const Dims& b);

// Note [Negative dims]
// A dim d of a rank-r tensor is valid in [-r, r-1] (for rank 0: [-1, 0]); negative dims count
// from the end. get_positive_dim returns d in [0, r-1] or throws naming the range.
int get_positive_dim(int64_t dim, int rank);

// Note [Reshape by input dims]
// Reshapes `t` so that output dim i is the product of the input dims listed in groups[i] (1 for
// an empty group): squeeze, unsqueeze and flatten are such regroupings. Static products become
// literal sizes; with at most one dynamic product the Shuffle takes -1 there; otherwise the shape
// is computed at run time (Shape, Gather, Reduce kPROD, Concatenation; sub-layers named
// sub_name(name, ...)). The Shuffle is named `name`.
Tensor* reshape_groups(ConversionContext& ctx, Tensor* t,
                       const std::vector<std::vector<int>>& groups, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name);

// Adds a rank-0 (or given-dims) Constant of `type` holding `value`.
Tensor* scalar_constant(ConversionContext& ctx, double value, DataType type, const Dims& dims,
                        const Target& target, std::optional<SourceIR> source_ir,
                        std::string_view name);

}  // namespace layerkit::impl
