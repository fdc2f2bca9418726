// Inference and printing for the MatrixMultiply kind.
#include "network/infer.h"
#include "network/layers/matmul_shape.h"

namespace layerkit::detail {

void infer(const MatrixMultiplyAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 2, "takes 2 inputs, got ", ctx.num_inputs());
  const ValueDesc& x0 = ctx.input(0);
  const ValueDesc& x1 = ctx.input(1);
  check_type(ctx, 0, {DataType::kFLOAT, DataType::kHALF, DataType::kBF16});
  ctx.check(x1.type == x0.type, "inputs have types ", data_type_name(x0.type), " and ",
            data_type_name(x1.type), "; both must have the same type");
  const MatrixOperation ops[2] = {a.op0, a.op1};
  const ValueDesc* xs[2] = {&x0, &x1};
  for (int i = 0; i < 2; ++i) {
    auto v = static_cast<int32_t>(ops[i]);
    ctx.check(v >= 0 && v <= static_cast<int32_t>(MatrixOperation::kVECTOR), "op", i, " ", v,
              " is not a MatrixOperation");
    int need = ops[i] == MatrixOperation::kVECTOR ? 1 : 2;
    ctx.check(xs[i]->dims.rank() >= need, "input ", i, " has dims ", xs[i]->dims.to_string(), "; ",
              enum_name(ops[i]), " needs rank >= ", need);
  }
  MatmulOperand m0 = split_operand(x0.dims, a.op0);
  MatmulOperand m1 = split_operand(x1.dims, a.op1);
  // TensorRT: equal numbers of batch dims (a kVECTOR operand has one dim fewer); each batch dim
  // equal or 1.
  ctx.check(m0.batch.rank() == m1.batch.rank(), "inputs ", x0.dims.to_string(), " (",
            enum_name(a.op0), ") and ", x1.dims.to_string(), " (", enum_name(a.op1), ") have ",
            m0.batch.rank(), " and ", m1.batch.rank(),
            " batch dims; they must have the same number");
  Dims out = broadcast_dims(ctx, m0.batch, m1.batch);
  // Contraction: columns of operand 0 with rows of operand 1 (a vector operand 1 contracts
  // its length).
  int64_t k0 = m0.cols, k1 = m1.vector ? m1.cols : m1.rows;
  ctx.check(k0 == k1 || k0 == -1 || k1 == -1, "contraction dims differ: input 0 ",
            x0.dims.to_string(), " (", enum_name(a.op0), ") gives ", k0, ", input 1 ",
            x1.dims.to_string(), " (", enum_name(a.op1), ") gives ", k1);
  if (!m0.vector) out.push_back(m0.rows);
  if (!m1.vector) out.push_back(m1.cols);
  ctx.add_output(x0.type, out);
}

void print_attrs(const MatrixMultiplyAttrs& a, AttrPrinter& p) {
  p.add("op0", a.op0);
  p.add("op1", a.op1);
}

}  // namespace layerkit::detail
