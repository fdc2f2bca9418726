// Building blocks for collectives across ranks (all_gather, reduce_scatter, all_reduce).
#pragma once

#include <optional>
#include <string_view>

#include "layerkit/impl/context.h"

namespace layerkit::impl::nccl_ops {

// The process group a collective runs in: this process's rank and the number of ranks. The
// engine executes the layer through BuilderConfig::communicator (MPI on CPU processes, NCCL on
// GPUs); world size 1 is the identity.
struct Group {
  int rank = 0;
  int world_size = 1;
};

// Concatenates every rank's input along `dim` in rank order (dim's size grows world_size-fold).
Tensor* all_gather(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, Group group, int64_t dim = 0);
// Reduces every rank's input with `op`, then gives rank r the r-th of world_size equal chunks
// along `dim` (which must divide evenly).
Tensor* reduce_scatter(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, Operand input,
                       Group group, int64_t dim = 0, ReduceOperation op = ReduceOperation::kSUM);
// Reduces every rank's input with `op` (kSUM, kPROD, kMAX, kMIN, kAVG); every rank gets it.
Tensor* all_reduce(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, Group group,
                   ReduceOperation op = ReduceOperation::kSUM);

}  // namespace layerkit::impl::nccl_ops
