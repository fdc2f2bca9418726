// MatrixMultiply on the GPU through cuBLASLt: fp32 (fp32 arithmetic, no TF32), fp16 and bf16
// (fp32 accumulation), batched, with transposes, vectors and whole-operand batch broadcasting.
#include <array>

#include "network/layers/matmul_shape.h"
#include "runtime/cuda/kernel.h"
#include "runtime/cuda/libraries.h"

namespace layerkit::cuda {
namespace {

cudaDataType_t cuda_type(DataType t) {
  switch (t) {
    case DataType::kHALF:
      return CUDA_R_16F;
    case DataType::kBF16:
      return CUDA_R_16BF;
    default:
      return CUDA_R_32F;
  }
}

// Note [Row-major GEMM through a column-major library]
// A row-major matrix X[r, c] read as column-major is X^T with leading dimension c. So the
// row-major product C[M, N] = A[M, K] B[K, N] is computed as the column-major C^T = B^T A^T:
// cuBLASLt's first operand is our B and its second our A, with m = N and n = M.
class LtMatmul final : public Kernel {
 public:
  struct Operand {
    int64_t rows = 0, cols = 0;  // as used
    bool transposed = false;     // stored as [cols, rows]
    int64_t batch_stride = 0;    // 0: one matrix broadcast over the batch
  };

  LtMatmul(const Problem& p, const Operand& a, const Operand& b, int64_t batch)
      : layer_(p.layer_name), a_(a), b_(b), batch_(batch) {
    const DataType t = p.output(0).type;
    const cudaDataType_t ct = cuda_type(t);
    const std::string_view name = layer_;
    LK_CUBLAS(cublasLtMatmulDescCreate(&desc_, CUBLAS_COMPUTE_32F, CUDA_R_32F), name);
    // Our B is cuBLASLt's first operand (see the Note).
    const cublasOperation_t op_first = b.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_second = a.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
    LK_CUBLAS(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSA, &op_first,
                                             sizeof op_first),
              name);
    LK_CUBLAS(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSB, &op_second,
                                             sizeof op_second),
              name);
    const int64_t m = b.cols, n = a.rows, k = a.cols;
    // Stored column-major shapes: B as [cols, rows] unless transposed, likewise A.
    make_layout(&first_, ct, b.transposed ? k : m, b.transposed ? m : k, b.transposed ? k : m,
                b.batch_stride);
    make_layout(&second_, ct, a.transposed ? n : k, a.transposed ? k : n, a.transposed ? n : k,
                a.batch_stride);
    make_layout(&out_, ct, m, n, m, m * n);
    cublasLtMatmulPreference_t pref = nullptr;
    LK_CUBLAS(cublasLtMatmulPreferenceCreate(&pref), name);
    const size_t ws = p.libraries->lt_workspace_bytes;
    LK_CUBLAS(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                   &ws, sizeof ws),
              name);
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(
        p.libraries->lt, desc_, first_, second_, out_, out_, pref, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    LK_CUBLAS(st, name);
    if (found == 0)
      LK_FAIL(kUNSUPPORTED, "MatrixMultiply layer '", name, "': cuBLASLt has no algorithm for ",
              data_type_name(t), " [", n, "x", k, "] x [", k, "x", m, "] batch ", batch);
    algo_ = result.algo;
  }

  ~LtMatmul() override {
    for (cublasLtMatrixLayout_t l : {first_, second_, out_})
      if (l) cublasLtMatrixLayoutDestroy(l);
    if (desc_) cublasLtMatmulDescDestroy(desc_);
  }

  void run(LaunchCtx& ctx) override {
    Libraries& libs = ctx.libraries();
    const float alpha = 1.0f, beta = 0.0f;
    if (ctx.output(0).numel() == 0) return;
    LK_CUBLAS(cublasLtMatmul(libs.lt, desc_, &alpha, ctx.input(1).data, first_, ctx.input(0).data,
                             second_, &beta, ctx.output(0).data, out_, ctx.output(0).data, out_,
                             &algo_, libs.lt_workspace, libs.lt_workspace_bytes, ctx.stream()),
              ctx.layer_name());
  }

 private:
  void make_layout(cublasLtMatrixLayout_t* l, cudaDataType_t t, int64_t rows, int64_t cols,
                   int64_t ld, int64_t stride) {
    LK_CUBLAS(cublasLtMatrixLayoutCreate(l, t, static_cast<uint64_t>(rows),
                                         static_cast<uint64_t>(cols), ld),
              layer_);
    const auto count = static_cast<int32_t>(batch_);
    LK_CUBLAS(cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
                                               sizeof count),
              layer_);
    LK_CUBLAS(cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                               &stride, sizeof stride),
              layer_);
  }

  std::string layer_;
  Operand a_, b_;
  int64_t batch_;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t first_ = nullptr, second_ = nullptr, out_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
};

std::unique_ptr<Kernel> make_lt(const Problem& p) {
  const MatrixMultiplyAttrs& attrs = p.as<MatrixMultiplyAttrs>();
  const DataType t = p.input(0).type;
  if ((t != DataType::kFLOAT && t != DataType::kHALF && t != DataType::kBF16) ||
      p.input(1).type != t || p.output(0).type != t)
    return nullptr;
  const detail::MatmulOperand m0 = detail::split_operand(p.input(0).dims, attrs.op0);
  const detail::MatmulOperand m1 = detail::split_operand(p.input(1).dims, attrs.op1);
  // A vector is a 1-row (first operand) or 1-column (second operand) matrix, stored contiguous.
  LtMatmul::Operand a{m0.rows, m0.cols, m0.transposed, 0};
  LtMatmul::Operand b{m1.vector ? m1.cols : m1.rows, m1.vector ? 1 : m1.cols, m1.transposed, 0};
  const int nb = m0.batch.rank();
  int64_t batch = 1;
  for (int i = 0; i < nb; ++i) batch *= std::max(m0.batch[i], m1.batch[i]);
  // Each operand's batch is the output's, or a single matrix (stride 0); mixed broadcasting
  // ([2,1] against [1,3]) is left to the next implementation.
  auto stride_of = [&](const Dims& b_dims, int64_t size, int64_t& stride) {
    if (b_dims.volume() == 1) {
      stride = 0;
      return true;
    }
    for (int i = 0; i < nb; ++i)
      if (b_dims[i] != std::max(m0.batch[i], m1.batch[i])) return false;
    stride = size;
    return true;
  };
  if (!stride_of(m0.batch, a.rows * a.cols, a.batch_stride) ||
      !stride_of(m1.batch, b.rows * b.cols, b.batch_stride))
    return nullptr;
  if (batch > INT32_MAX || a.rows == 0 || b.cols == 0 || a.cols == 0) return nullptr;
  return std::make_unique<LtMatmul>(p, a, b, batch);
}

}  // namespace

std::vector<KernelEntry> matmul_kernels(LayerKind kind) {
  if (kind == LayerKind::kMATRIX_MULTIPLY) return {{"cublaslt", &make_lt}};
  return {};
}

}  // namespace layerkit::cuda
