// Reference kernel for the Fill kind: LINSPACE ramps and seeded uniform/normal random fills.
#include <cmath>
#include <numbers>

#include "runtime/cpu/kernel.h"

namespace layerkit::cpu {

namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

// The k-th output (k = 0, 1, ...) of a splitmix64 generator seeded with `seed`; being a pure
// function of (seed, k) it lets every element draw its own numbers independently of order.
uint64_t splitmix64(uint64_t seed, uint64_t k) {
  uint64_t z = seed + (k + 1) * kGolden;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double scalar_f(const KernelCtx& ctx, int input, double attr) {
  return ctx.has_input(input) ? static_cast<double>(load_f(ctx.input(input), 0)) : attr;
}

}  // namespace

void run_reference(const FillAttrs& a, KernelCtx& ctx) {
  const KernelTensor& out = ctx.output(0);
  int64_t n = out.numel();
  int rank = out.dims.rank();
  if (a.op == FillOperation::kLINSPACE) {
    std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
    bool int_out = out.type == DataType::kINT32 || out.type == DataType::kINT64;
    if (int_out) {
      int64_t alpha = ctx.has_input(1) ? load_i(ctx.input(1), 0) : static_cast<int64_t>(a.alpha);
      std::vector<int64_t> beta;
      for (int k = 0; k < rank; ++k)
        beta.push_back(ctx.has_input(2) ? load_i(ctx.input(2), k)
                                        : static_cast<int64_t>(a.beta[static_cast<size_t>(k)]));
      for (int64_t e = 0; e < n; ++e, next_index(out.dims, idx)) {
        int64_t v = alpha;
        for (int k = 0; k < rank; ++k)
          v += beta[static_cast<size_t>(k)] * idx[static_cast<size_t>(k)];
        store_i(out, e, v);
      }
    } else {
      auto alpha = static_cast<float>(scalar_f(ctx, 1, a.alpha));
      std::vector<float> beta;
      for (int k = 0; k < rank; ++k)
        beta.push_back(ctx.has_input(2) ? load_f(ctx.input(2), k)
                                        : static_cast<float>(a.beta[static_cast<size_t>(k)]));
      for (int64_t e = 0; e < n; ++e, next_index(out.dims, idx)) {
        float v = alpha;
        for (int k = 0; k < rank; ++k)
          v += beta[static_cast<size_t>(k)] * static_cast<float>(idx[static_cast<size_t>(k)]);
        store_f(out, e, v);
      }
    }
    return;
  }

  double alpha = scalar_f(ctx, 1, a.alpha);
  double beta = ctx.has_input(2) ? static_cast<double>(load_f(ctx.input(2), 0)) : a.beta.at(0);
  if (a.op == FillOperation::kRANDOM_UNIFORM) {
    if (alpha > beta) ctx.fail("uniform range [", alpha, ", ", beta, ") is empty");
    for (int64_t e = 0; e < n; ++e) {
      // 24 random bits: every u is exactly representable and u < 1.
      double u = static_cast<double>(splitmix64(a.seed, static_cast<uint64_t>(e)) >> 40) * 0x1p-24;
      auto v = static_cast<float>(alpha + (beta - alpha) * u);
      // Rounding to float must not reach the excluded upper bound.
      if (v >= static_cast<float>(beta) && beta > alpha)
        v = std::nextafter(static_cast<float>(beta), -INFINITY);
      store_f(out, e, v);
    }
    return;
  }
  if (beta < 0) ctx.fail("standard deviation ", beta, " is negative");
  for (int64_t e = 0; e < n; ++e) {
    // Box-Muller on two independent draws per element; u1 in (0, 1] keeps the log finite.
    auto k = static_cast<uint64_t>(e) * 2;
    double u1 = static_cast<double>((splitmix64(a.seed, k) >> 11) + 1) * 0x1p-53;
    double u2 = static_cast<double>(splitmix64(a.seed, k + 1) >> 11) * 0x1p-53;
    double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    store_f(out, e, static_cast<float>(alpha + beta * z));
  }
}

}  // namespace layerkit::cpu
