// Inference and printing for the Input and Constant kinds.
#include <cstring>

#include "network/infer.h"

namespace layerkit::detail {

void infer(const InputAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 0, "an Input layer takes no inputs");
  ctx.check(a.dims.rank() <= kMaxDims, "rank ", a.dims.rank(), " exceeds ", kMaxDims);
  ctx.add_output(a.type, a.dims);
}
void print_attrs(const InputAttrs& a, AttrPrinter& p) {
  p.add("type", a.type);
  p.add("dims", a.dims);
}

void infer(const ConstantAttrs& a, InferCtx& ctx) {
  ctx.check(ctx.num_inputs() == 0, "a Constant layer takes no inputs");
  ctx.check(a.dims.is_static(), "constant dims ", a.dims.to_string(), " must be static");
  ctx.check(a.weights.count() == a.dims.volume(), "weights hold ", a.weights.count(), " ",
            data_type_name(a.weights.type()), " values but dims ", a.dims.to_string(), " need ",
            a.dims.volume());
  KnownValues known;
  DataType t = a.weights.type();
  if ((t == DataType::kINT32 || t == DataType::kINT64 || t == DataType::kBOOL) &&
      a.weights.count() <= kMaxKnownValues) {
    for (int64_t i = 0; i < a.weights.count(); ++i) {
      int64_t v = 0;
      if (t == DataType::kINT32) v = a.weights.as<int32_t>()[i];
      if (t == DataType::kINT64) v = a.weights.as<int64_t>()[i];
      if (t == DataType::kBOOL) v = a.weights.as<uint8_t>()[i] ? 1 : 0;
      known.emplace_back(v);
    }
  }
  ctx.add_output(t, a.dims, std::move(known));
}
void print_attrs(const ConstantAttrs& a, AttrPrinter& p) {
  p.add("dims", a.dims);
  p.add("weights", a.weights);
}

}  // namespace layerkit::detail
