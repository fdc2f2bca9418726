// ONNX converters for matrix products: Gemm and MatMul.
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/matmul.h"
#include "layerkit/impl/permutation.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

namespace ew = impl::elementwise;

void gemm_op(NodeContext& n) {
  auto& c = n.ctx();
  const auto t = n.op_type();
  Tensor* a = n.input(0);
  Tensor* b = n.input(1);
  if (a->dims().rank() != 2 || b->dims().rank() != 2)
    n.fail(ErrorCode::kINVALID_ARGUMENT,
           "A and B must be 2-D, got " + describe(*a) + " and " + describe(*b));
  if (n.attr_int("transA", 0))
    a = impl::permutation::transpose(c, t, kONNX, sub(n, "a_t"), a, 0, 1);
  const double alpha = n.attr_float("alpha", 1.0f), beta = n.attr_float("beta", 1.0f);
  const bool has_c = n.has_input(2) && beta != 0.0;
  const std::string mm_name = has_c || alpha != 1.0 ? sub(n, "matmul") : n.name();
  Tensor* y = nullptr;
  if (n.attr_int("transB", 0) && a->type() == b->type()) {
    // B transposed by the MatrixMultiply layer itself (op kTRANSPOSE): a Shuffle of constant
    // weights would be folded into a transposed copy, and the model's weights held twice.
    y = impl::matmul::detail::matmul_tensors(c, t, kONNX, mm_name, a, b, true);
  } else {
    if (n.attr_int("transB", 0))
      b = impl::permutation::transpose(c, t, kONNX, sub(n, "b_t"), b, 0, 1);
    y = impl::matmul::matrix_multiply(c, t, kONNX, mm_name, a, b);
  }
  if (alpha != 1.0)
    y = ew::mul(c, t, kONNX, has_c ? sub(n, "alpha") : n.name(), y, impl::Operand(alpha));
  if (has_c) {
    impl::Operand cv = n.input(2);
    if (beta != 1.0) cv = ew::mul(c, t, kONNX, sub(n, "beta"), cv, impl::Operand(beta));
    y = ew::add(c, t, kONNX, n.name(), y, cv);
  }
  n.set_output(0, y);
}

}  // namespace

void register_matmul_ops(Registry& r) {
  r["Gemm"] = {gemm_op, nullptr};
  r["MatMul"] = {[](NodeContext& n) {
                   n.set_output(0, impl::matmul::matrix_multiply(n.ctx(), n.op_type(), kONNX,
                                                                 n.name(), n.input(0), n.input(1)));
                 },
                 nullptr};
}

}  // namespace layerkit::onnx::detail
