// Slice's per-axis index rule for each SampleMode, shared by inference (known values, bounds)
// and the CPU kernel so both read the same element.
#pragma once

#include <algorithm>
#include <cstdint>

#include "layerkit/network/layers.h"

namespace layerkit::detail {

// Index into an axis of size `d` read for the raw position `raw` = start + i * stride, or -1 when
// the position is outside the axis and the mode does not remap it (kSTRICT_BOUNDS: an error;
// kFILL: the fill value). Remapping modes need d > 0.
inline int64_t slice_source_index(SampleMode mode, int64_t raw, int64_t d) {
  if (raw >= 0 && raw < d) return raw;
  switch (mode) {
    case SampleMode::kSTRICT_BOUNDS:
    case SampleMode::kFILL:
      return -1;
    case SampleMode::kWRAP:
      return ((raw % d) + d) % d;
    case SampleMode::kCLAMP:
      return std::clamp<int64_t>(raw, 0, d - 1);
    case SampleMode::kREFLECT: {
      // Mirror without repeating the edge (as torch's reflection pad): period 2 * (d - 1).
      if (d == 1) return 0;
      int64_t period = 2 * (d - 1);
      int64_t m = ((raw % period) + period) % period;
      return m < d ? m : period - m;
    }
  }
  return -1;
}

}  // namespace layerkit::detail
