// MatrixMultiply on the GPU: cuBLASLt for fp32 (fp32 arithmetic, no TF32), fp16 and bf16 (fp32
// accumulation), batched, with transposes, vectors and batch broadcasting (mixed broadcasting as
// one strided-batch call per outer batch index); a direct kernel for what cuBLASLt does not take.
#include <array>
#include <mutex>
#include <optional>

#include "core/element.h"
#include "network/layers/matmul_shape.h"
#include "runtime/cuda/device.cuh"
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

  // `outer[i]`: the element offsets of A and B for the i-th strided-batch call (one call when
  // each operand's batch is the output's or a single matrix).
  struct Outer {
    int64_t a = 0, b = 0;
  };

  LtMatmul(const Problem& p, const Operand& a, const Operand& b, int64_t batch,
           std::vector<Outer> outer, const MatmulEpilogue& epilogue = {})
      : layer_(p.layer_name),
        a_(a),
        b_(b),
        batch_(batch),
        outer_(std::move(outer)),
        esize_(element_size(p.output(0).type)),
        epilogue_(epilogue) {
    const DataType t = p.output(0).type;
    const cudaDataType_t ct = cuda_type(t);
    const std::string_view name = layer_;
    LK_CUBLAS(cublasLtMatmulDescCreate(&desc_, CUBLAS_COMPUTE_32F, CUDA_R_32F), name);
    if (epilogue_.bias) {
      const cublasLtEpilogue_t e = CUBLASLT_EPILOGUE_BIAS;
      LK_CUBLAS(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_EPILOGUE, &e, sizeof e),
                name);
    }
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
    // An epilogue cuBLASLt does not take leaves the layers to run one by one (found_ false).
    if (epilogue_.bias && (st != CUBLAS_STATUS_SUCCESS || found == 0)) return;
    LK_CUBLAS(st, name);
    if (found == 0)
      LK_FAIL(kUNSUPPORTED, "MatrixMultiply layer '", name, "': cuBLASLt has no algorithm for ",
              data_type_name(t), " [", n, "x", k, "] x [", k, "x", m, "] batch ", batch);
    algo_ = result.algo;
    found_ = true;
  }

  bool found() const { return found_; }

  ~LtMatmul() override {
    for (cublasLtMatrixLayout_t l : {first_, second_, out_})
      if (l) cublasLtMatrixLayoutDestroy(l);
    if (desc_) cublasLtMatmulDescDestroy(desc_);
  }

  void run(LaunchCtx& ctx) const override {
    Libraries& libs = ctx.libraries();
    const float alpha = 1.0f, beta = 0.0f;
    if (ctx.output(0).numel() == 0) return;
    if (epilogue_.bias) {
      run_epilogue(ctx);
      return;
    }
    const auto* a = static_cast<const char*>(ctx.input(0).data);
    const auto* b = static_cast<const char*>(ctx.input(1).data);
    auto* y = static_cast<char*>(ctx.output(0).data);
    const int64_t out_block = batch_ * a_.rows * b_.cols * esize_;
    for (size_t i = 0; i < outer_.size(); ++i) {
      void* yi = y + static_cast<int64_t>(i) * out_block;
      LK_CUBLAS(cublasLtMatmul(libs.lt, desc_, &alpha, b + outer_[i].b * esize_, first_,
                               a + outer_[i].a * esize_, second_, &beta, yi, out_, yi, out_, &algo_,
                               libs.lt_workspace, libs.lt_workspace_bytes, ctx.stream()),
                ctx.layer_name());
    }
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

  // Note [MatMul epilogue]: one call, D = A B + bias (+ the residual as cuBLASLt's C, beta 1).
  // The bias pointer is an attribute of the shared descriptor, so setting it and enqueueing the
  // call that reads it are one step under mu_ (contexts of one engine share the kernel).
  void run_epilogue(LaunchCtx& ctx) const {
    Libraries& libs = ctx.libraries();
    const float alpha = 1.0f, beta = epilogue_.residual ? 1.0f : 0.0f;
    const void* a = ctx.input(0).data;
    const void* b = ctx.input(1).data;
    const void* bias = ctx.input(2).data;
    void* y = ctx.output(0).data;
    const void* c = epilogue_.residual ? ctx.input(3).data : y;
    std::lock_guard<std::mutex> lock(mu_);
    LK_CUBLAS(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                             sizeof bias),
              ctx.layer_name());
    LK_CUBLAS(cublasLtMatmul(libs.lt, desc_, &alpha, b, first_, a, second_, &beta, c, out_, y, out_,
                             &algo_, libs.lt_workspace, libs.lt_workspace_bytes, ctx.stream()),
              ctx.layer_name());
  }

  std::string layer_;
  Operand a_, b_;
  int64_t batch_;
  std::vector<Outer> outer_;
  int64_t esize_;
  MatmulEpilogue epilogue_;
  bool found_ = false;
  mutable std::mutex mu_;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t first_ = nullptr, second_ = nullptr, out_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
};

// How cuBLASLt runs a MatrixMultiply problem: the operands as it sees them, the strided batch of
// one call, and each call's operand offsets.
struct LtPlan {
  LtMatmul::Operand a, b;
  int64_t inner = 1;
  std::vector<LtMatmul::Outer> offsets;
};

std::optional<LtPlan> plan_lt(const Problem& p) {
  const MatrixMultiplyAttrs& attrs = p.as<MatrixMultiplyAttrs>();
  const DataType t = p.input(0).type;
  if ((t != DataType::kFLOAT && t != DataType::kHALF && t != DataType::kBF16) ||
      p.input(1).type != t || p.output(0).type != t)
    return std::nullopt;
  const detail::MatmulOperand m0 = detail::split_operand(p.input(0).dims, attrs.op0);
  const detail::MatmulOperand m1 = detail::split_operand(p.input(1).dims, attrs.op1);
  // A vector is a 1-row (first operand) or 1-column (second operand) matrix, stored contiguous.
  LtMatmul::Operand a{m0.rows, m0.cols, m0.transposed, 0};
  LtMatmul::Operand b{m1.vector ? m1.cols : m1.rows, m1.vector ? 1 : m1.cols, m1.transposed, 0};
  const int nb = m0.batch.rank();
  if (p.output(0).numel() == 0 || a.cols == 0) return std::nullopt;
  // Per operand and batch axis: the element stride of one step (0 where it broadcasts).
  Dims out_batch = Dims::of_rank(nb);
  std::array<int64_t, kMaxDims> s0{}, s1{};
  int64_t acc0 = a.rows * a.cols, acc1 = b.rows * b.cols;
  for (int i = nb - 1; i >= 0; --i) {
    out_batch[i] = std::max(m0.batch[i], m1.batch[i]);
    s0[static_cast<size_t>(i)] = m0.batch[i] == 1 ? 0 : acc0;
    s1[static_cast<size_t>(i)] = m1.batch[i] == 1 ? 0 : acc1;
    acc0 *= m0.batch[i];
    acc1 *= m1.batch[i];
  }
  // The inner batch axes [split, nb): the longest suffix over which each operand is either a
  // single matrix (all 1) or the output's whole batch, i.e. one stride for cuBLASLt.
  auto uniform = [&](const Dims& d, int from) {
    bool ones = true, full = true;
    for (int i = from; i < nb; ++i) {
      ones = ones && d[i] == 1;
      full = full && d[i] == out_batch[i];
    }
    return ones || full;
  };
  int split = nb;
  while (split > 0 && uniform(m0.batch, split - 1) && uniform(m1.batch, split - 1)) --split;
  int64_t inner = 1, outer = 1;
  for (int i = 0; i < nb; ++i) (i < split ? outer : inner) *= out_batch[i];
  auto inner_stride = [&](const Dims& d, int64_t size) {
    for (int i = split; i < nb; ++i)
      if (d[i] != 1) return size;
    return int64_t{0};
  };
  a.batch_stride = inner_stride(m0.batch, a.rows * a.cols);
  b.batch_stride = inner_stride(m1.batch, b.rows * b.cols);
  // A batch of full, untransposed first operands against one broadcast matrix (activations
  // times weights) is one GEMM with the batch folded into the rows: a single large problem
  // instead of many small ones that share the second operand.
  if (outer == 1 && inner > 1 && !a.transposed && a.batch_stride == a.rows * a.cols &&
      b.batch_stride == 0 && a.rows * inner <= INT32_MAX) {
    a.rows *= inner;
    a.batch_stride = 0;
    inner = 1;
  }
  if (inner > INT32_MAX || outer > 4096) return std::nullopt;
  std::vector<LtMatmul::Outer> offsets;
  std::vector<int64_t> idx(static_cast<size_t>(split), 0);
  for (int64_t o = 0; o < outer; ++o) {
    LtMatmul::Outer off;
    for (int i = 0; i < split; ++i) {
      off.a += idx[static_cast<size_t>(i)] * s0[static_cast<size_t>(i)];
      off.b += idx[static_cast<size_t>(i)] * s1[static_cast<size_t>(i)];
    }
    offsets.push_back(off);
    for (int i = split - 1; i >= 0; --i) {
      if (++idx[static_cast<size_t>(i)] < out_batch[i]) break;
      idx[static_cast<size_t>(i)] = 0;
    }
  }
  return LtPlan{a, b, inner, std::move(offsets)};
}

std::unique_ptr<Kernel> make_lt(const Problem& p) {
  std::optional<LtPlan> plan = plan_lt(p);
  if (!plan) return nullptr;
  return std::make_unique<LtMatmul>(p, plan->a, plan->b, plan->inner, std::move(plan->offsets));
}

// The direct kernel: one thread per output element, the reference's dot product (double,
// in order, each product and sum rounded once: no FMA contraction) over broadcast batches.
// It takes what cuBLASLt does not: empty contractions (zeros), any batch count, and any type.
struct DirectMap {
  int nb = 0;
  int64_t batch[kMaxDims] = {}, s0[kMaxDims] = {}, s1[kMaxDims] = {};
  int64_t rows = 0, cols = 0, k = 0;
  bool v0 = false, t0 = false, v1 = false, t1 = false;
  int64_t m0_rows = 0, m0_cols = 0, m1_rows = 0, m1_cols = 0;
};

class DirectMatmul final : public Kernel {
 public:
  explicit DirectMatmul(const DirectMap& m) : m_(m) {}
  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& x0 = ctx.input(0);
    const DeviceTensor& x1 = ctx.input(1);
    const DeviceTensor& y = ctx.output(0);
    const DirectMap m = m_;
    const DataType t0 = x0.type, t1 = x1.type, ty = y.type;
    const void* p0 = x0.data;
    const void* p1 = x1.data;
    void* py = y.data;
    for_each(ctx, y.numel(), [=] __device__(int64_t e) {
      const int64_t c = e % m.cols;
      const int64_t r = (e / m.cols) % m.rows;
      int64_t bi = e / (m.cols * m.rows), b0 = 0, b1 = 0;
      for (int i = m.nb - 1; i >= 0; --i) {
        const int64_t q = bi % m.batch[i];
        bi /= m.batch[i];
        b0 += q * m.s0[i];
        b1 += q * m.s1[i];
      }
      double acc = 0.0;
      for (int64_t i = 0; i < m.k; ++i) {
        const int64_t o0 = m.v0 ? i : m.t0 ? i * m.m0_rows + r : r * m.m0_cols + i;
        const int64_t o1 = m.v1 ? i : m.t1 ? c * m.m1_rows + i : i * m.m1_cols + c;
        acc = __dadd_rn(acc, __dmul_rn(static_cast<double>(dev::load_f(t0, p0, b0 + o0)),
                                       static_cast<double>(dev::load_f(t1, p1, b1 + o1))));
      }
      dev::store_f(ty, py, e, static_cast<float>(acc));
    });
  }

 private:
  DirectMap m_;
};

std::unique_ptr<Kernel> make_direct(const Problem& p) {
  const MatrixMultiplyAttrs& attrs = p.as<MatrixMultiplyAttrs>();
  const detail::MatmulOperand m0 = detail::split_operand(p.input(0).dims, attrs.op0);
  const detail::MatmulOperand m1 = detail::split_operand(p.input(1).dims, attrs.op1);
  DirectMap m;
  m.nb = m0.batch.rank();
  m.rows = m0.rows;
  m.cols = m1.vector ? 1 : m1.cols;
  m.k = m0.cols;
  m.v0 = m0.vector;
  m.t0 = m0.transposed;
  m.v1 = m1.vector;
  m.t1 = m1.transposed;
  m.m0_rows = m0.rows;
  m.m0_cols = m0.cols;
  m.m1_rows = m1.rows;
  m.m1_cols = m1.cols;
  int64_t acc0 = m0.rows * m0.cols, acc1 = m1.vector ? m1.cols : m1.rows * m1.cols;
  for (int i = m.nb - 1; i >= 0; --i) {
    m.batch[i] = std::max(m0.batch[i], m1.batch[i]);
    if (m0.batch[i] == 0 || m1.batch[i] == 0) m.batch[i] = 0;
    m.s0[i] = m0.batch[i] == 1 ? 0 : acc0;
    m.s1[i] = m1.batch[i] == 1 ? 0 : acc1;
    acc0 *= m0.batch[i];
    acc1 *= m1.batch[i];
  }
  return std::make_unique<DirectMatmul>(m);
}

}  // namespace

std::unique_ptr<Kernel> make_matmul_epilogue_kernel(const Problem& matmul,
                                                    const MatmulEpilogue& epilogue) {
  std::optional<LtPlan> plan = plan_lt(matmul);
  // One call over one matrix (a batch of activations folded into the rows): cuBLASLt's epilogue
  // adds one bias vector to every column-major row of D, i.e. along our output's last axis.
  if (!plan || plan->inner != 1 || plan->offsets.size() != 1 || plan->a.batch_stride != 0 ||
      plan->b.batch_stride != 0 || plan->offsets[0].a != 0 || plan->offsets[0].b != 0)
    return nullptr;
  MatmulEpilogue e = epilogue;
  e.bias = true;
  auto k = std::make_unique<LtMatmul>(matmul, plan->a, plan->b, 1, std::move(plan->offsets), e);
  if (!k->found()) return nullptr;
  return k;
}

std::vector<KernelEntry> matmul_kernels(LayerKind kind) {
  if (kind == LayerKind::kMATRIX_MULTIPLY)
    return {{"cublaslt", &make_lt}, {"direct dot products", &make_direct}};
  return {};
}

}  // namespace layerkit::cuda
