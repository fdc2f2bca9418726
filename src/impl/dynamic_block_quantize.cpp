// Block-quantization building blocks: the DynamicQuantize layer and a block-scaled Dequantize.
#include "layerkit/impl/dynamic_block_quantize.h"

#include "layerkit/impl/utils.h"

namespace layerkit::impl::dynamic_block_quantize {

namespace {

struct FormatTypes {
  DataType data, scale;
  int block;  // required block size, or 0 for any
  bool global;
};

FormatTypes types_of(BlockFormat f) {
  switch (f) {
    case BlockFormat::kNVFP4:
      return {DataType::kFP4, DataType::kFP8, 16, true};
    case BlockFormat::kMXFP8:
      return {DataType::kFP8, DataType::kE8M0, 32, false};
    case BlockFormat::kFP8:
      return {DataType::kFP8, DataType::kFLOAT, 0, true};
  }
  return {DataType::kFP8, DataType::kFLOAT, 0, true};
}

const char* format_name(BlockFormat f) {
  switch (f) {
    case BlockFormat::kNVFP4:
      return "NVFP4";
    case BlockFormat::kMXFP8:
      return "MXFP8";
    case BlockFormat::kFP8:
      return "FP8";
  }
  return "?";
}

Tensor* global_tensor(ConversionContext& ctx, const std::optional<Operand>& g, BlockFormat f,
                      const Target& target, std::optional<SourceIR> source_ir,
                      std::string_view name) {
  FormatTypes ft = types_of(f);
  if (!ft.global) {
    LK_CHECK(!g || (g->is_scalar() && g->as_double() == 1.0), format_name(f),
             " has no global scale (pass none, or 1)");
    return nullptr;
  }
  LK_CHECK(g.has_value(), format_name(f), " needs a global scale");
  if (g->is_scalar())
    LK_CHECK(g->as_double() > 0, "global scale ", g->as_double(), " must be positive");
  return to_tensor(ctx, *g, DataType::kFLOAT, 0, target, source_ir, name);
}

}  // namespace

Quantized quantize(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, Operand input, BlockFormat format, int block_size,
                   std::optional<Operand> global_scale, int64_t axis) {
  std::vector<Tensor*> outs =
      guarded_multi(ctx, "dynamic_block_quantize::quantize", target, name, {&input}, [&] {
        FormatTypes ft = types_of(format);
        LK_CHECK(ft.block == 0 || block_size == ft.block, format_name(format), " uses blocks of ",
                 ft.block, ", not ", block_size);
        LK_CHECK(input.is_tensor() && input.tensor(), "the input must be a tensor");
        Tensor* x = input.tensor();
        Tensor* g = global_tensor(ctx, global_scale, format, target, source_ir,
                                  sub_name(name, "global_scale"));
        DynamicQuantizeAttrs a;
        a.axis = get_positive_dim(axis, x->dims().rank());
        a.block_size = block_size;
        a.output_type = ft.data;
        a.scale_type = ft.scale;
        Layer* l = ctx.net().add_layer(a, g ? std::vector<Tensor*>{x, g} : std::vector<Tensor*>{x});
        set_layer_name(ctx, l, target, source_ir, name);
        return std::vector<Tensor*>{l->output(0), l->output(1)};
      });
  return {outs[0], outs[1]};
}

Tensor* dequantize(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                   std::string_view name, const Quantized& q, BlockFormat format,
                   std::optional<Operand> global_scale, DataType to_type) {
  Operand data(q.data), scales(q.scales);
  return guarded(ctx, "dynamic_block_quantize::dequantize", target, name, {&data, &scales}, [&] {
    LK_CHECK(q.data && q.scales, "dequantize needs the quantized data and its scales");
    FormatTypes ft = types_of(format);
    LK_CHECK(q.data->type() == ft.data && q.scales->type() == ft.scale, format_name(format),
             " data and scales are ", data_type_name(ft.data), " and ", data_type_name(ft.scale),
             ", got ", data_type_name(q.data->type()), " and ", data_type_name(q.scales->type()));
    // An all-zero block has scale 0, which the Dequantize layer rejects, so the block scales
    // are applied by a broadcast multiply instead: data decoded with unit scale and reshaped to
    // [..., blocks, block_size(, cols)], times the scales reshaped to [..., blocks, 1(, cols)].
    const Dims& dd = q.data->dims();
    const Dims& sd = q.scales->dims();
    int rank = dd.rank();
    int axis = -1;
    for (int d = 0; d < rank; ++d)
      if (dd[d] != sd[d]) axis = d;
    LK_CHECK(axis >= 0 && (axis == rank - 1 || axis == rank - 2) && sd[axis] > 0 && dd[axis] > 0,
             "cannot tell the blocked axis from data ", dd.to_string(), " and scales ",
             sd.to_string());
    int64_t blocks = sd[axis], block = dd[axis] / sd[axis];
    auto reshape = [&](Tensor* t, const Dims& dims, const std::string& layer_name) {
      ShuffleAttrs a;
      a.reshape_dims = dims;
      return named_output(ctx, ctx.net().add_shuffle(t, a), target, source_ir, layer_name);
    };
    // Leading dims are copied (0 placeholders); the one after the blocked axis is inferred (-1).
    Dims split_data, split_scale, merged;
    for (int d = 0; d < axis; ++d) {
      split_data.push_back(0);
      split_scale.push_back(0);
      merged.push_back(0);
    }
    split_data.push_back(blocks);
    split_data.push_back(block);
    split_scale.push_back(blocks);
    split_scale.push_back(1);
    merged.push_back(blocks * block);
    if (axis == rank - 2) {
      split_data.push_back(-1);
      split_scale.push_back(-1);
      merged.push_back(-1);
    }
    Tensor* one = scalar_constant(ctx, 1.0, DataType::kFLOAT, {}, target, source_ir,
                                  sub_name(name, "unit_scale"));
    DequantizeAttrs a;
    a.to_type = DataType::kFLOAT;
    Tensor* decoded = named_output(ctx, ctx.net().add_dequantize(q.data, one, a), target, source_ir,
                                   sub_name(name, "decode"));
    Tensor* s =
        cast_to(ctx, q.scales, DataType::kFLOAT, target, source_ir, sub_name(name, "scales"));
    Tensor* g =
        global_tensor(ctx, global_scale, format, target, source_ir, sub_name(name, "global_scale"));
    if (g) {
      Tensor* gb = prepend_ones(ctx, g, rank, target, source_ir, sub_name(name, "global_scale"));
      s = named_output(ctx, ctx.net().add_elementwise(s, gb, ElementWiseOperation::kPROD), target,
                       source_ir, sub_name(name, "scale"));
    }
    Tensor* xd = reshape(decoded, split_data, sub_name(name, "blocks"));
    Tensor* xs = reshape(s, split_scale, sub_name(name, "block_scales"));
    Tensor* prod = named_output(ctx, ctx.net().add_elementwise(xd, xs, ElementWiseOperation::kPROD),
                                target, source_ir, sub_name(name, "apply"));
    Tensor* out = reshape(
        prod, merged, to_type == DataType::kFLOAT ? std::string(name) : sub_name(name, "merged"));
    // Note [Precision policy]: decode and scale in fp32, round once.
    return cast_to(ctx, out, to_type, target, source_ir, name);
  });
}

}  // namespace layerkit::impl::dynamic_block_quantize
