// The addmm building block: beta * input + alpha * (mat1 @ mat2).
#include "layerkit/impl/addmm.h"

#include <array>
#include <string>

#include "layerkit/impl/matmul.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::addmm {

namespace {

Tensor* binary(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, Tensor* a, Tensor* b, ElementWiseOperation op) {
  std::array<Tensor*, 2> pair{a, b};
  std::vector<Tensor*> bc = broadcast(ctx, pair, target, source_ir, name);
  return named_output(ctx, ctx.net().add_elementwise(bc[0], bc[1], op), target, source_ir, name);
}
}  // namespace

Tensor* addmm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
              std::string_view name, Operand input, Operand mat1, Operand mat2, Operand beta,
              Operand alpha) {
  return guarded(
      ctx, "addmm::addmm", target, name, {&input, &mat1, &mat2, &beta, &alpha}, [&]() -> Tensor* {
        LK_CHECK(beta.is_scalar() && alpha.is_scalar(), "beta and alpha must be scalars");
        LK_CHECK(!mat1.is_scalar() && !mat2.is_scalar() && mat1.rank() == 2 && mat2.rank() == 2,
                 "mat1 and mat2 must be 2-D tensors, got ", mat1.describe(), " and ",
                 mat2.describe());
        DataType t = result_type({&input, &mat1, &mat2});
        LK_CHECK(is_floating(t) || !(beta.is_float() || alpha.is_float()),
                 "beta and alpha must be integral for ", data_type_name(t),
                 " operands (as torch requires)");
        // input only broadcasts up to [n, p]; it never enlarges the product.
        Dims out{mat1.dims()[0], mat2.dims()[1]};
        Dims id = input.dims();
        LK_CHECK(id.rank() <= 2, "input ", input.describe(), " does not broadcast to ",
                 out.to_string());
        for (int i = 0; i < id.rank(); ++i) {
          int64_t o = out[2 - id.rank() + i];
          LK_CHECK(id[i] == 1 || id[i] == -1 || o == -1 || id[i] == o, "input ", input.describe(),
                   " does not broadcast to ", out.to_string());
        }
        DataType ct = compute_type(t);
        Tensor* a = to_tensor(ctx, mat1, ct, 2, target, source_ir, sub_name(name, "mat1"));
        Tensor* b = to_tensor(ctx, mat2, ct, 2, target, source_ir, sub_name(name, "mat2"));
        // The last layer of the chain (in the result type) carries `name`.
        bool scaled = alpha.as_double() != 1.0, add = beta.as_double() != 0.0;
        auto step = [&](bool last, std::string_view suffix) {
          return last && ct == t ? std::string(name) : sub_name(name, suffix);
        };
        Tensor* y = matmul::detail::matmul_tensors(ctx, target, source_ir,
                                                   step(!scaled && !add, "mm"), a, b, false);
        if (scaled)
          y = binary(ctx, target, source_ir, step(!add, "alpha"), y,
                     to_tensor(ctx, alpha, ct, 2, target, source_ir, sub_name(name, "alpha")),
                     ElementWiseOperation::kPROD);
        if (add) {
          Tensor* c =
              to_tensor(ctx, input, ct, id.rank(), target, source_ir, sub_name(name, "input"));
          if (beta.as_double() != 1.0)
            c = binary(
                ctx, target, source_ir, sub_name(name, "beta"), c,
                to_tensor(ctx, beta, ct, id.rank(), target, source_ir, sub_name(name, "beta")),
                ElementWiseOperation::kPROD);
          y = binary(ctx, target, source_ir, step(true, "add"), y, c, ElementWiseOperation::kSUM);
        }
        return cast_to(ctx, y, t, target, source_ir, name);
      });
}

}  // namespace layerkit::impl::addmm
