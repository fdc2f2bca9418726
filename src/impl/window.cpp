// Window-function building blocks: host-computed constants of a build-time size.
#include "layerkit/impl/window.h"

#include <cmath>
#include <functional>
#include <numbers>
#include <vector>

#include "layerkit/impl/cast.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::window {

namespace {

// f(n, N) for n in [0, size), N = size (periodic) or size - 1; a 1-point window is [1].
Tensor* make(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
             std::string_view name, std::string_view block, int64_t size, bool periodic,
             DataType dtype, const std::function<double(double, double)>& f) {
  return guarded(ctx, block, target, name, {}, [&]() -> Tensor* {
    LK_CHECK(size >= 0, "size must be >= 0, got ", size);
    LK_CHECK(is_floating(dtype), "dtype must be a float type, got ", data_type_name(dtype));
    std::vector<float> v(static_cast<size_t>(size));
    const double N = static_cast<double>(periodic ? size : size - 1);
    for (int64_t i = 0; i < size; ++i)
      v[static_cast<size_t>(i)] =
          size == 1 ? 1.0f : static_cast<float>(f(static_cast<double>(i), N));
    Tensor* values = named_output(
        ctx, ctx.net().add_constant({size}, Weights::from_vector(DataType::kFLOAT, v)), target,
        source_ir, dtype == DataType::kFLOAT ? name : sub_name(name, "values"));
    return cast_to(ctx, values, dtype, target, source_ir, name);
  });
}

constexpr double kPi = std::numbers::pi;

}  // namespace

Tensor* hann_window(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
                    std::string_view name, int64_t size, bool periodic, DataType dtype) {
  return make(ctx, target, source_ir, name, "window::hann_window", size, periodic, dtype,
              [](double n, double N) { return 0.5 - 0.5 * std::cos(2 * kPi * n / N); });
}

Tensor* hamming_window(ConversionContext& ctx, const Target& target,
                       std::optional<SourceIR> source_ir, std::string_view name, int64_t size,
                       bool periodic, double alpha, double beta, DataType dtype) {
  return make(ctx, target, source_ir, name, "window::hamming_window", size, periodic, dtype,
              [=](double n, double N) { return alpha - beta * std::cos(2 * kPi * n / N); });
}

Tensor* blackman_window(ConversionContext& ctx, const Target& target,
                        std::optional<SourceIR> source_ir, std::string_view name, int64_t size,
                        bool periodic, DataType dtype) {
  return make(ctx, target, source_ir, name, "window::blackman_window", size, periodic, dtype,
              [](double n, double N) {
                return 0.42 - 0.5 * std::cos(2 * kPi * n / N) + 0.08 * std::cos(4 * kPi * n / N);
              });
}

}  // namespace layerkit::impl::window
