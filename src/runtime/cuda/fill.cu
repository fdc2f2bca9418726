// CUDA kernel for the Fill kind: LINSPACE ramps and the seeded uniform/normal fills, drawing the
// CPU reference's counter-based numbers (splitmix64 of the seed and the element's index).
#include <cmath>
#include <numbers>
#include <vector>

#include "core/element.h"
#include "runtime/cuda/device.cuh"

namespace layerkit::cuda {
namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

// The k-th output of a splitmix64 generator seeded with `seed`, as cpu/fill.cpp draws it.
__device__ uint64_t splitmix64(uint64_t seed, uint64_t k) {
  uint64_t z = seed + (k + 1) * kGolden;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Output dims and per-axis deltas, by value. NOTE: the arithmetic below uses the _rn intrinsics
// so nvcc cannot contract a multiply and an add into one FMA: the host reference rounds each
// operation, and a fused one would differ in the last bit.
struct Ramp {
  int rank = 0;
  int64_t dims[kMaxDims] = {};
  float beta_f[kMaxDims] = {};
  int64_t beta_i[kMaxDims] = {};
};

class FillKernel final : public Kernel {
 public:
  explicit FillKernel(const FillAttrs& a) : a_(a) {}

  void run(LaunchCtx& ctx) const override {
    const DeviceTensor& y = ctx.output(0);
    const int64_t n = y.numel();
    const DataType yt = y.type;
    void* out = y.data;
    // alpha and beta: attributes, or the 0-D / 1-D inputs 1 and 2 (small parameter tensors read
    // on the host, as the reference reads them; the random fills check them before drawing).
    const void* alpha_in = ctx.has_input(1) ? ctx.host_input(1) : nullptr;
    const void* beta_in = ctx.has_input(2) ? ctx.host_input(2) : nullptr;
    const DataType alpha_t = ctx.has_input(1) ? ctx.input(1).type : DataType::kFLOAT;
    const DataType beta_t = ctx.has_input(2) ? ctx.input(2).type : DataType::kFLOAT;
    if (a_.op == FillOperation::kLINSPACE) {
      Ramp r;
      r.rank = y.dims.rank();
      for (int d = 0; d < r.rank; ++d) r.dims[d] = y.dims[d];
      const bool int_out = yt == DataType::kINT32 || yt == DataType::kINT64;
      if (int_out) {
        const int64_t alpha =
            alpha_in ? load_i(alpha_t, alpha_in, 0) : static_cast<int64_t>(a_.alpha);
        for (int d = 0; d < r.rank; ++d)
          r.beta_i[d] = beta_in ? load_i(beta_t, beta_in, d)
                                : static_cast<int64_t>(a_.beta[static_cast<size_t>(d)]);
        for_each(ctx, n, [=] __device__(int64_t e) {
          uint64_t v = static_cast<uint64_t>(alpha);
          int64_t rest = e;
          for (int d = r.rank - 1; d >= 0; --d) {
            v += static_cast<uint64_t>(r.beta_i[d]) * static_cast<uint64_t>(rest % r.dims[d]);
            rest /= r.dims[d];
          }
          dev::store_i(yt, out, e, static_cast<int64_t>(v));
        });
      } else {
        const float alpha = alpha_in ? load_f(alpha_t, alpha_in, 0) : static_cast<float>(a_.alpha);
        for (int d = 0; d < r.rank; ++d)
          r.beta_f[d] = beta_in ? load_f(beta_t, beta_in, d)
                                : static_cast<float>(a_.beta[static_cast<size_t>(d)]);
        for_each(ctx, n, [=] __device__(int64_t e) {
          int64_t idx[kMaxDims];
          int64_t rest = e;
          for (int d = r.rank - 1; d >= 0; --d) {
            idx[d] = rest % r.dims[d];
            rest /= r.dims[d];
          }
          // In axis order, as the reference adds.
          float v = alpha;
          for (int d = 0; d < r.rank; ++d)
            v = __fadd_rn(v, __fmul_rn(r.beta_f[d], static_cast<float>(idx[d])));
          dev::store_f(yt, out, e, v);
        });
      }
      return;
    }
    const double alpha = alpha_in ? static_cast<double>(load_f(alpha_t, alpha_in, 0)) : a_.alpha;
    const double beta = beta_in ? static_cast<double>(load_f(beta_t, beta_in, 0)) : a_.beta.at(0);
    const uint64_t seed = a_.seed;
    if (a_.op == FillOperation::kRANDOM_UNIFORM) {
      if (alpha > beta)
        LK_FAIL(kRUNTIME, "Fill layer '", ctx.layer_name(), "': uniform range [", alpha, ", ", beta,
                ") is empty");
      const auto hi = static_cast<float>(beta);
      const bool open = beta > alpha;
      const float below = std::nextafter(hi, -INFINITY);
      for_each(ctx, n, [=] __device__(int64_t e) {
        const double u =
            static_cast<double>(splitmix64(seed, static_cast<uint64_t>(e)) >> 40) * 0x1p-24;
        float v = __double2float_rn(__dadd_rn(alpha, __dmul_rn(__dsub_rn(beta, alpha), u)));
        if (v >= hi && open) v = below;  // rounding must not reach the excluded upper bound
        dev::store_f(yt, out, e, v);
      });
      return;
    }
    if (beta < 0)
      LK_FAIL(kRUNTIME, "Fill layer '", ctx.layer_name(), "': standard deviation ", beta,
              " is negative");
    // Box-Muller as the reference draws it. CUDA's double log and cos are within 2 ulp of
    // glibc's (not always the same bits), far below the float rounding of the result.
    const double two_pi = 2.0 * std::numbers::pi;
    for_each(ctx, n, [=] __device__(int64_t e) {
      const auto k = static_cast<uint64_t>(e) * 2;
      const double u1 = static_cast<double>((splitmix64(seed, k) >> 11) + 1) * 0x1p-53;
      const double u2 = static_cast<double>(splitmix64(seed, k + 1) >> 11) * 0x1p-53;
      const double z = __dmul_rn(sqrt(-2.0 * log(u1)), cos(__dmul_rn(two_pi, u2)));
      dev::store_f(yt, out, e, __double2float_rn(__dadd_rn(alpha, __dmul_rn(beta, z))));
    });
  }

 private:
  FillAttrs a_;
};

}  // namespace

std::vector<KernelEntry> fill_kernels(LayerKind kind) {
  if (kind == LayerKind::kFILL)
    return {{"fill", [](const Problem& p) -> std::unique_ptr<Kernel> {
               return std::make_unique<FillKernel>(p.as<FillAttrs>());
             }}};
  return {};
}

}  // namespace layerkit::cuda
