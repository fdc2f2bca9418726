// How a MatrixMultiply operand splits into batch dims and its matrix (or vector) part; shared by
// inference and the reference kernel.
#pragma once

#include "layerkit/core/dims.h"
#include "layerkit/network/layers.h"

namespace layerkit::detail {

struct MatmulOperand {
  Dims batch;        // leading dims
  int64_t rows = 1;  // rows of the operand as used (after kTRANSPOSE); 1 for a kVECTOR
  int64_t cols = 1;  // columns as used; the vector length for a kVECTOR
  bool vector = false;
  bool transposed = false;
};

// Splits `d` (rank checked by the caller: >= 1 for kVECTOR, >= 2 otherwise).
inline MatmulOperand split_operand(const Dims& d, MatrixOperation op) {
  MatmulOperand m;
  const int r = d.rank();
  const int matrix_axes = op == MatrixOperation::kVECTOR ? 1 : 2;
  for (int i = 0; i < r - matrix_axes; ++i) m.batch.push_back(d[i]);
  if (op == MatrixOperation::kVECTOR) {
    m.vector = true;
    m.cols = d[r - 1];
  } else {
    m.transposed = op == MatrixOperation::kTRANSPOSE;
    m.rows = m.transposed ? d[r - 1] : d[r - 2];
    m.cols = m.transposed ? d[r - 2] : d[r - 1];
  }
  return m;
}

}  // namespace layerkit::detail
