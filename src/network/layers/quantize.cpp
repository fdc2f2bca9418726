// Inference and printing for the Quantize, Dequantize and DynamicQuantize kinds (TensorRT's
// IQuantizeLayer, IDequantizeLayer and IDynamicQuantizeLayer).
#include <cmath>
#include <cstring>

#include "network/infer.h"

namespace layerkit::detail {
namespace {

constexpr std::initializer_list<DataType> kUnquantizedTypes = {DataType::kFLOAT, DataType::kHALF,
                                                               DataType::kBF16};
constexpr std::initializer_list<DataType> kQuantizedTypes = {DataType::kINT8, DataType::kFP8,
                                                             DataType::kINT4, DataType::kFP4};

bool one_of(DataType t, std::initializer_list<DataType> types) {
  for (DataType u : types)
    if (u == t) return true;
  return false;
}

// Element `i` of a byte-sized tensor's host data as a double (fp32/fp16/bf16/int8/fp8). At build
// time host data is the constant's packed weights; at run time sub-byte types hold one element per
// byte (the executor's representation), which the INT4/FP4 cases read.
double host_value(DataType t, const void* data, int64_t i) {
  auto* b = static_cast<const uint8_t*>(data);
  switch (t) {
    case DataType::kFLOAT: {
      float f;
      std::memcpy(&f, b + i * 4, 4);
      return f;
    }
    case DataType::kHALF:
    case DataType::kBF16: {
      uint16_t h;
      std::memcpy(&h, b + i * 2, 2);
      return t == DataType::kHALF ? half_bits_to_float(h) : bf16_bits_to_float(h);
    }
    case DataType::kINT8:
    case DataType::kINT4:
      return static_cast<int8_t>(b[i]);
    case DataType::kFP8:
      return fp8e4m3_bits_to_float(b[i]);
    case DataType::kFP4:
      return fp4e2m1_bits_to_float(b[i]);
    default:
      return 0.0;
  }
}

// Validates the scale (input 1) and optional zero point (input 2) of Quantize/Dequantize against
// the data dims: per tensor (0-D or one element), per channel (1-D of size dims[axis]) or blocks
// (same rank as the data, each data dim divisible by the scale dim). Values are checked when
// known: scales strictly positive, zero points all zero (TensorRT supports only symmetric
// quantization).
void check_scale_and_zero_point(const InferCtx& ctx, int32_t axis_attr, DataType float_type,
                                DataType quantized_type) {
  const ValueDesc& x = ctx.input(0);
  const ValueDesc& s = ctx.input(1);
  int rank = x.dims.rank();
  int axis = normalize_axis(ctx, axis_attr, rank);
  // TensorRT: the scale has the unquantized type; fp32 scales are accepted with fp16/bf16 data.
  ctx.check(s.type == float_type || s.type == DataType::kFLOAT, "scale (input 1) has type ",
            data_type_name(s.type), "; expected ", data_type_name(float_type),
            float_type == DataType::kFLOAT ? "" : " or float32");
  const Dims& sd = s.dims;
  bool per_tensor = sd.rank() == 0 || (sd.rank() == 1 && sd[0] == 1);
  if (!per_tensor && sd.rank() == 1) {
    ctx.check(rank >= 1, "a 1-D scale ", sd.to_string(), " needs data of rank >= 1");
    ctx.check(sd[0] < 0 || x.dims[axis] < 0 || sd[0] == x.dims[axis], "per-channel scale ",
              sd.to_string(), " must have size dims[axis] = ", x.dims[axis], " (axis ", axis,
              " of ", x.dims.to_string(), ")");
  } else if (!per_tensor) {
    ctx.check(sd.rank() == rank, "scale ", sd.to_string(),
              " must be 0-D or 1-element (per tensor),",
              " 1-D of size dims[axis] (per channel) or of the data's rank ", rank,
              " (blocks); data dims ", x.dims.to_string());
    for (int d = 0; d < rank; ++d) {
      if (sd[d] < 0 || x.dims[d] < 0) continue;
      ctx.check(sd[d] >= 1 && x.dims[d] % sd[d] == 0, "block scale ", sd.to_string(), ": data dim ",
                d, " (", x.dims[d], ") is not divisible by the scale dim ", sd[d]);
    }
  }
  if (s.host_data) {
    for (int64_t i = 0; i < sd.volume(); ++i) {
      double v = host_value(s.type, s.host_data, i);
      ctx.check(v > 0.0 && std::isfinite(v), "scale element ", i, " is ", v,
                "; scales must be finite and strictly positive");
    }
  }
  if (!ctx.has_input(2)) return;
  const ValueDesc& z = ctx.input(2);
  // TensorRT's API wants the quantized type; its operator reference lists float32 too.
  ctx.check(z.type == quantized_type || z.type == DataType::kFLOAT,
            "zero point (input 2) has type ", data_type_name(z.type), "; expected ",
            data_type_name(quantized_type), " or float32");
  ctx.check(z.dims.rank() == sd.rank(), "zero point dims ", z.dims.to_string(),
            " must equal the scale dims ", sd.to_string());
  for (int d = 0; d < sd.rank(); ++d)
    ctx.check(z.dims[d] < 0 || sd[d] < 0 || z.dims[d] == sd[d], "zero point dims ",
              z.dims.to_string(), " must equal the scale dims ", sd.to_string());
  if (z.host_data) {
    for (int64_t i = 0; i < z.dims.volume(); ++i) {
      double v = host_value(z.type, z.host_data, i);
      ctx.check(v == 0.0, "zero point element ", i, " is ", v,
                "; only symmetric quantization is supported (zero points must all be 0)");
    }
  }
}

void check_input_count(const InferCtx& ctx, int lo, int hi) {
  ctx.check(ctx.num_inputs() >= lo && ctx.num_inputs() <= hi, "takes ", lo, " to ", hi,
            " inputs, got ", ctx.num_inputs());
  for (int i = 0; i < lo; ++i) ctx.check(ctx.has_input(i), "input ", i, " is missing");
}

}  // namespace

void infer(const QuantizeAttrs& a, InferCtx& ctx) {
  check_input_count(ctx, 2, 3);
  check_type(ctx, 0, kUnquantizedTypes);
  ctx.check(one_of(a.output_type, kQuantizedTypes), "output_type ", data_type_name(a.output_type),
            " is not a quantized type; expected one of ", type_list(kQuantizedTypes));
  check_scale_and_zero_point(ctx, a.axis, ctx.input(0).type, a.output_type);
  ctx.add_output(a.output_type, ctx.input(0).dims);
}
void print_attrs(const QuantizeAttrs& a, AttrPrinter& p) {
  p.add("axis", a.axis);
  p.add("output_type", a.output_type);
}

void infer(const DequantizeAttrs& a, InferCtx& ctx) {
  check_input_count(ctx, 2, 3);
  check_type(ctx, 0, kQuantizedTypes);
  ctx.check(one_of(a.to_type, kUnquantizedTypes), "to_type ", data_type_name(a.to_type),
            " is not supported; expected one of ", type_list(kUnquantizedTypes));
  check_scale_and_zero_point(ctx, a.axis, a.to_type, ctx.input(0).type);
  ctx.add_output(a.to_type, ctx.input(0).dims);
}
void print_attrs(const DequantizeAttrs& a, AttrPrinter& p) {
  p.add("axis", a.axis);
  p.add("to_type", a.to_type);
}

void infer(const DynamicQuantizeAttrs& a, InferCtx& ctx) {
  check_input_count(ctx, 1, 2);
  check_type(ctx, 0, kUnquantizedTypes);
  const ValueDesc& x = ctx.input(0);
  int rank = x.dims.rank();
  // TensorRT: the data is 2-D or 3-D and blocks run along the last or second to last axis.
  ctx.check(rank == 2 || rank == 3, "input rank is ", rank, "; expected 2 or 3");
  int axis = normalize_axis(ctx, a.axis, rank);
  ctx.check(axis == rank - 1 || axis == rank - 2, "axis ", a.axis,
            " must be the last or second to last axis (", rank - 1, " or ", rank - 2, ")");
  bool nvfp4 = a.output_type == DataType::kFP4 && a.scale_type == DataType::kFP8;
  bool mxfp8 = a.output_type == DataType::kFP8 && a.scale_type == DataType::kE8M0;
  bool fp8_float = a.output_type == DataType::kFP8 && a.scale_type == DataType::kFLOAT;
  ctx.check(nvfp4 || mxfp8 || fp8_float, "output_type ", data_type_name(a.output_type),
            " with scale_type ", data_type_name(a.scale_type),
            " is not supported; expected fp4e2m1/fp8e4m3 (NVFP4), fp8e4m3/e8m0 (MXFP8) or "
            "fp8e4m3/float32");
  ctx.check(a.block_size >= 1, "block_size ", a.block_size, " must be positive");
  ctx.check(!nvfp4 || a.block_size == 16, "NVFP4 (fp4e2m1 data, fp8e4m3 scales) needs block_size ",
            "16, got ", a.block_size);
  ctx.check(!mxfp8 || a.block_size == 32, "MXFP8 (fp8e4m3 data, e8m0 scales) needs block_size ",
            "32, got ", a.block_size);
  // TensorRT requires the blocked extent to be a build-time constant.
  ctx.check(x.dims[axis] >= 0, "the blocked axis ", axis, " of ", x.dims.to_string(),
            " must have a static size");
  ctx.check(x.dims[axis] % a.block_size == 0, "dim ", axis, " (size ", x.dims[axis],
            ") is not divisible by block_size ", a.block_size);
  if (ctx.has_input(1)) {
    const ValueDesc& g = ctx.input(1);
    ctx.check(g.type == DataType::kFLOAT || g.type == x.type, "global scale (input 1) has type ",
              data_type_name(g.type), "; expected float32",
              x.type == DataType::kFLOAT ? "" : " or the input's type");
    ctx.check(g.dims.rank() == 0, "global scale (input 1) must be 0-D, got ", g.dims.to_string());
    if (g.host_data) {
      double v = host_value(g.type, g.host_data, 0);
      ctx.check(v > 0.0 && std::isfinite(v), "global scale is ", v,
                "; it must be finite and strictly positive");
      ctx.check(!mxfp8 || v == 1.0, "global scale is ", v,
                "; MXFP8 scales are plain powers of two, so the global scale must be 1 or absent");
    }
  } else {
    ctx.check(mxfp8, "input 1 (global scale, 0-D float32) is missing; only MXFP8 may omit it");
  }
  Dims sd = x.dims;
  sd[axis] = x.dims[axis] / a.block_size;
  ctx.add_output(a.output_type, x.dims);
  ctx.add_output(a.scale_type, sd);
}
void print_attrs(const DynamicQuantizeAttrs& a, AttrPrinter& p) {
  p.add("axis", a.axis);
  p.add("block_size", a.block_size);
  p.add("output_type", a.output_type);
  p.add("scale_type", a.scale_type);
}

}  // namespace layerkit::detail
