// Communicator: the interface collectives run through (MPI on CPU processes, NCCL on GPUs).
#pragma once

#include <cstdint>

#include "layerkit/core/data_type.h"
#include "layerkit/network/layers.h"

namespace layerkit {

// Buffers hold `count` elements of `type` in the executor's element representation. Calls are
// collective: every rank of the group makes the same call in the same order.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // out[i] = op over ranks of in[i]; `count` elements.
  virtual void all_reduce(const void* in, void* out, int64_t count, DataType type,
                          ReduceOperation op) = 0;
  // out = concatenation over ranks of each rank's `count` elements.
  virtual void all_gather(const void* in, void* out, int64_t count, DataType type) = 0;
  // Rank r receives the r-th `count`-element chunk of the reduction of all ranks' inputs.
  virtual void reduce_scatter(const void* in, void* out, int64_t count, DataType type,
                              ReduceOperation op) = 0;
  // Agrees on a value across ranks: returns true on every rank iff `ok` is true on every rank
  // (used so that a rank with bad input fails everywhere instead of leaving others waiting).
  virtual bool all_ok(bool ok) = 0;
};

}  // namespace layerkit
