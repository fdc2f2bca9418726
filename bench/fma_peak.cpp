// Measures the machine's attainable fp32 peak: independent FMA chains on every thread, with the
// widest vector ISA the CPU reports (AVX-512 or AVX2+FMA). Prints one line per thread count.
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

// 12 independent accumulators cover the FMA latency on two pipes; the empty asm keeps the
// compiler from folding the chains away. One body, compiled for each ISA.
#define LK_FMA_CHAINS(V, SET, FMA)                                                       \
  V a0 = SET(1.0f), a1 = SET(1.1f), a2 = SET(1.2f), a3 = SET(1.3f), a4 = SET(1.4f),      \
    a5 = SET(1.5f), a6 = SET(1.6f), a7 = SET(1.7f), a8 = SET(1.8f), a9 = SET(1.9f),      \
    a10 = SET(2.0f), a11 = SET(2.1f);                                                    \
  const V b = SET(0.9999999f), c = SET(1e-7f);                                           \
  for (long k = 0; k < iters; ++k) {                                                     \
    a0 = FMA(a0, b, c), a1 = FMA(a1, b, c), a2 = FMA(a2, b, c), a3 = FMA(a3, b, c);      \
    a4 = FMA(a4, b, c), a5 = FMA(a5, b, c), a6 = FMA(a6, b, c), a7 = FMA(a7, b, c);      \
    a8 = FMA(a8, b, c), a9 = FMA(a9, b, c), a10 = FMA(a10, b, c), a11 = FMA(a11, b, c);  \
    __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5));   \
    __asm__ volatile("" : "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11)); \
  }                                                                                      \
  float sink[sizeof(V) / sizeof(float)];                                                 \
  std::memcpy(sink, &a0, sizeof(sink));                                                  \
  return static_cast<double>(sink[0]);

__attribute__((target("avx2,fma"))) double run256(long iters) {
  LK_FMA_CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps)
}
__attribute__((target("avx512f"))) double run512(long iters) {
  LK_FMA_CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps)
}
#undef LK_FMA_CHAINS

}  // namespace

int main(int argc, char** argv) {
  const bool wide = __builtin_cpu_supports("avx512f");
  if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    std::printf("fma_peak: the CPU has neither AVX-512 nor AVX2+FMA\n");
    return 1;
  }
  const int lanes = wide ? 16 : 8;
  const long iters = 100000000;
  for (int a = 1; a < argc; ++a) {
    const int threads = std::atoi(argv[a]);
    if (threads < 1) continue;
    std::vector<std::thread> pool;
    std::vector<double> sink(static_cast<size_t>(threads));
    const auto t0 = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t)
      pool.emplace_back(
          [&, t] { sink[static_cast<size_t>(t)] = wide ? run512(iters) : run256(iters); });
    for (auto& t : pool) t.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double flops = static_cast<double>(iters) * 12 * lanes * 2 * threads;
    std::printf("fma peak: %.1f GFLOP/s with %d threads (%s)\n", flops / s / 1e9, threads,
                wide ? "avx512f" : "avx2+fma");
  }
  return 0;
}
