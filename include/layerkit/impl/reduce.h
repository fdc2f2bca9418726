// Building blocks for reductions (sum, mean, amax/amin, prod, any/all, norm, var/std) with
// PyTorch's dim, keepdim and dtype semantics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::reduce {

// `dims`: the reduced dims (negative dims count from the end, Note [Negative dims]); nullopt or an
// empty list reduces every dim, as torch does. Repeated dims are an error. Rank-0 inputs accept
// dims {0} / {-1} and give rank-0 results.
using DimList = std::optional<std::vector<int64_t>>;

// at::sum: integer and bool inputs give int64 unless `dtype` is given (the input is cast to it).
Tensor* sum(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Tensor* input, DimList dims = std::nullopt, bool keepdim = false,
            std::optional<DataType> dtype = std::nullopt);
// at::mean: floating inputs only unless a floating `dtype` is given (as torch); the element
// count is taken at run time, so dynamic dims are exact.
Tensor* mean(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, DimList dims = std::nullopt,
             bool keepdim = false, std::optional<DataType> dtype = std::nullopt);
// at::amax / at::amin: values only (the index variants are topk::argmax / argmin); NaN
// propagates; any dtype incl. bool; zero reduced elements fail at run time, as in torch.
Tensor* max(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Tensor* input, DimList dims = std::nullopt,
            bool keepdim = false);
Tensor* min(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Tensor* input, DimList dims = std::nullopt,
            bool keepdim = false);
// at::prod (over any number of dims): integer and bool inputs give int64 unless `dtype` is given.
Tensor* prod(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, DimList dims = std::nullopt,
             bool keepdim = false, std::optional<DataType> dtype = std::nullopt);
// at::any / at::all: bool results for every input type (NaN counts as true).
Tensor* any(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Tensor* input, DimList dims = std::nullopt,
            bool keepdim = false);
Tensor* all(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Tensor* input, DimList dims = std::nullopt,
            bool keepdim = false);

// The order of a vector norm: a number (1, 2, inf, -inf, 0 = count of non-zeros, any other
// non-zero p as (sum |x|^p)^(1/p)) or "fro" (= 2).
using NormOrder = std::variant<double, std::string>;
// at::norm / at::linalg_vector_norm: floating inputs only; fp16/bf16 compute in fp32.
Tensor* norm(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, Tensor* input, NormOrder p = 2.0, DimList dims = std::nullopt,
             bool keepdim = false);
// at::var / at::std with torch's correction (1: unbiased, 0: biased; the divisor is
// max(0, N - correction)); floating inputs only; fp16/bf16 compute in fp32.
Tensor* var(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Tensor* input, DimList dims = std::nullopt,
            double correction = 1.0, bool keepdim = false);
Tensor* std(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
            std::string_view name, Tensor* input, DimList dims = std::nullopt,
            double correction = 1.0, bool keepdim = false);

}  // namespace layerkit::impl::reduce
