// Host element representation and scalar element access shared by inference and CPU kernels.
#pragma once

#include <cstdint>

#include "layerkit/core/data_type.h"

namespace layerkit {

// Note [Host element representation]
// On the host (CPU executor buffers, run-time inference inputs) every element occupies whole bytes:
// kFLOAT float; kHALF and kBF16 their 16 bits; kINT8/kUINT8/kINT32/kINT64 native; kBOOL one byte 0
// or 1; kFP8 and kE8M0 their byte; kINT4 one int8 in [-8, 7]; kFP4 one byte holding the 4-bit code.
// Sub-byte types are packed only at the engine's inputs and outputs and in Weights.
int64_t element_size(DataType t);

// Unpacks `count` packed sub-byte elements into the executor representation and back; other
// types are copied.
void unpack(DataType t, const void* packed, void* out, int64_t count);
void pack(DataType t, const void* in, void* packed, int64_t count);

// Element access in a common domain (Note [Scalar conversions] rounds on store). Floating kernels
// compute in float; integer kernels in int64.
float load_f(DataType t, const void* p, int64_t i);
void store_f(DataType t, void* p, int64_t i, float v);
int64_t load_i(DataType t, const void* p, int64_t i);
// An int64 value as storing it into integer type `t` leaves it: two's complement wrap (kINT4 to
// [-8, 7]), bool nonzero -> 1; other types unchanged.
int64_t wrap_int(DataType t, int64_t v);
void store_i(DataType t, void* p, int64_t i, int64_t v);

}  // namespace layerkit
