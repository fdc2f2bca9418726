// Reference kernel for the MatrixMultiply kind: one dot product per output element, accumulated
// in double, with broadcast batch dims.
#include "network/layers/matmul_shape.h"
#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

void run_reference(const MatrixMultiplyAttrs& a, KernelCtx& ctx) {
  const KernelTensor& x0 = ctx.input(0);
  const KernelTensor& x1 = ctx.input(1);
  const KernelTensor& y = ctx.output(0);
  detail::MatmulOperand m0 = detail::split_operand(x0.dims, a.op0);
  detail::MatmulOperand m1 = detail::split_operand(x1.dims, a.op1);
  const int nb = m0.batch.rank();
  Dims batch = Dims::of_rank(nb);
  for (int i = 0; i < nb; ++i) batch[i] = m0.batch[i] == 1 ? m1.batch[i] : m0.batch[i];
  const int64_t rows = m0.rows, cols = m1.vector ? 1 : m1.cols, k = m0.cols;
  // Stored (untransposed) matrix sizes, the stride of one batch entry.
  const int64_t size0 = m0.rows * m0.cols, size1 = m1.vector ? m1.cols : m1.rows * m1.cols;
  // Element (r, c) of an operand as used, from its storage.
  auto at0 = [&](int64_t base, int64_t r, int64_t c) {
    int64_t off = m0.vector ? c : m0.transposed ? c * m0.rows + r : r * m0.cols + c;
    return static_cast<double>(load_f(x0, base + off));
  };
  auto at1 = [&](int64_t base, int64_t r, int64_t c) {
    int64_t off = m1.vector ? r : m1.transposed ? c * m1.rows + r : r * m1.cols + c;
    return static_cast<double>(load_f(x1, base + off));
  };
  if (batch.volume() == 0) return;
  std::vector<int64_t> idx(static_cast<size_t>(nb), 0);
  int64_t out = 0;
  do {
    const int64_t b0 = broadcast_offset(m0.batch, idx) * size0;
    const int64_t b1 = broadcast_offset(m1.batch, idx) * size1;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        double acc = 0.0;
        for (int64_t i = 0; i < k; ++i) acc += at0(b0, r, i) * at1(b1, i, c);
        store_f(y, out++, static_cast<float>(acc));
      }
  } while (next_index(batch, idx));
}

}  // namespace layerkit::cpu
