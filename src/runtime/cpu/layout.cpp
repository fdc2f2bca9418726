// Fast data-movement implementations: Shuffle as at most two strided permutation copies (runs of
// contiguous elements become memcpy), Concatenation as one memcpy per input slab. Every type:
// elements are moved by size without being looked at.
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "runtime/cpu/kernel_list.h"

namespace layerkit::cpu {
namespace {

// A permutation copy reduced to its essentials: size-1 axes dropped and runs of axes that stay
// adjacent and in order merged, so [B, S, H, D] -> [B, H, S, D] becomes a rank-3 copy with
// contiguous rows of D elements.
struct Permute {
  std::vector<int64_t> dims;        // destination dims, merged
  std::vector<int64_t> src_stride;  // per destination axis, in elements of the source
};

// dst[j...] = src[...] with dst axis i = src axis perm[i].
Permute simplify(const Dims& src, const std::vector<int>& perm) {
  const int rank = src.rank();
  std::vector<int64_t> stride(static_cast<size_t>(rank), 1);
  for (int d = rank - 1; d > 0; --d)
    stride[static_cast<size_t>(d - 1)] = stride[static_cast<size_t>(d)] * src[d];
  Permute p;
  int prev_src = -2;
  for (int i = 0; i < rank; ++i) {
    const int s = perm[static_cast<size_t>(i)];
    if (src[s] == 1) continue;
    if (!p.dims.empty() && s == prev_src + 1) {
      // Source axis s follows the previous one: the two form one axis of the copy.
      p.dims.back() *= src[s];
      p.src_stride.back() = stride[static_cast<size_t>(s)];
    } else {
      p.dims.push_back(src[s]);
      p.src_stride.push_back(stride[static_cast<size_t>(s)]);
    }
    prev_src = s;
  }
  if (p.dims.empty()) {
    p.dims.push_back(1);
    p.src_stride.push_back(1);
  }
  return p;
}

template <typename T>
void permute_rows(const Permute& p, const T* src, T* dst, int threads) {
  const int r = static_cast<int>(p.dims.size());
  const int64_t len = p.dims.back(), step = p.src_stride.back();
  int64_t rows = 1;
  for (int d = 0; d + 1 < r; ++d) rows *= p.dims[static_cast<size_t>(d)];
  auto run = [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      int64_t off = 0, rest = row;
      for (int d = r - 2; d >= 0; --d) {
        const auto u = static_cast<size_t>(d);
        off += (rest % p.dims[u]) * p.src_stride[u];
        rest /= p.dims[u];
      }
      T* out = dst + row * len;
      if (step == 1) {
        std::memcpy(out, src + off, static_cast<size_t>(len) * sizeof(T));
      } else {
        for (int64_t k = 0; k < len; ++k) out[k] = src[off + k * step];
      }
    }
  };
  // About 64K elements per thread before a parallel region pays for itself.
  const int64_t chunks = std::min<int64_t>(threads, std::max<int64_t>(1, rows * len / 65536));
  if (chunks <= 1 || rows < chunks) {
    run(0, rows);
    return;
  }
#pragma omp parallel for num_threads(static_cast <int>(chunks))
  for (int64_t c = 0; c < chunks; ++c) run(rows * c / chunks, rows * (c + 1) / chunks);
}

void permute(const Permute& p, int64_t element_bytes, const void* src, void* dst, int threads) {
  switch (element_bytes) {
    case 1:
      return permute_rows(p, static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst), threads);
    case 2:
      return permute_rows(p, static_cast<const uint16_t*>(src), static_cast<uint16_t*>(dst),
                          threads);
    case 4:
      return permute_rows(p, static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst),
                          threads);
    default:
      return permute_rows(p, static_cast<const uint64_t*>(src), static_cast<uint64_t*>(dst),
                          threads);
  }
}

std::vector<int> permutation_of(const std::vector<int32_t>& perm, int rank) {
  std::vector<int> p(static_cast<size_t>(rank));
  for (int i = 0; i < rank; ++i)
    p[static_cast<size_t>(i)] = perm.empty() ? i : perm[static_cast<size_t>(i)];
  return p;
}

bool identity(const std::vector<int>& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != static_cast<int>(i)) return false;
  return true;
}

// Shuffle = second_transpose(reshape(first_transpose(x))); the reshape moves nothing in
// row-major order, so the layer is the first permutation followed by the second, over the
// reshaped dims. Only a non-identity permutation copies; with both, through a scratch buffer.
class FastShuffle final : public Kernel {
 public:
  FastShuffle(int64_t element_bytes, std::vector<Permute> steps)
      : element_bytes_(element_bytes), steps_(std::move(steps)) {}
  void run(KernelCtx& ctx) const override {
    const void* src = ctx.input(0).data;
    void* dst = ctx.output(0).data;
    const int64_t bytes = ctx.output(0).numel() * element_bytes_;
    if (steps_.empty()) {
      std::memcpy(dst, src, static_cast<size_t>(bytes));
      return;
    }
    // The calling thread's scratch: one implementation serves several contexts at once.
    static thread_local std::vector<uint8_t> scratch;
    if (steps_.size() == 2 && scratch.size() < static_cast<size_t>(bytes))
      scratch.resize(static_cast<size_t>(bytes));
    for (size_t k = 0; k < steps_.size(); ++k) {
      void* to = k + 1 == steps_.size() ? dst : scratch.data();
      permute(steps_[k], element_bytes_, src, to, ctx.num_threads());
      src = to;
    }
  }

 private:
  int64_t element_bytes_;
  std::vector<Permute> steps_;
};

std::unique_ptr<Kernel> make_shuffle(const KernelProblem& p) {
  const auto& a = p.as<ShuffleAttrs>();
  const KernelTensor& x = p.input(0);
  const KernelTensor& y = p.output(0);
  const int64_t es = element_size(x.type);
  if (y.numel() == 0 || (es != 1 && es != 2 && es != 4 && es != 8)) return nullptr;
  const std::vector<int> p1 = permutation_of(a.first_transpose, x.dims.rank());
  const std::vector<int> p2 = permutation_of(a.second_transpose, y.dims.rank());
  // The reshaped dims: the output with the second transpose undone.
  Dims r = Dims::of_rank(y.dims.rank());
  for (int i = 0; i < y.dims.rank(); ++i) r[p2[static_cast<size_t>(i)]] = y.dims[i];
  std::vector<Permute> steps;
  if (!identity(p1)) steps.push_back(simplify(x.dims, p1));
  if (!identity(p2)) steps.push_back(simplify(r, p2));
  // A permutation that merges to one axis moves nothing.
  std::erase_if(steps, [](const Permute& s) { return s.dims.size() == 1; });
  return std::make_unique<FastShuffle>(es, std::move(steps));
}

class FastConcatenation final : public Kernel {
 public:
  explicit FastConcatenation(int axis) : axis_(axis) {}
  void run(KernelCtx& ctx) const override {
    const KernelTensor& out = ctx.output(0);
    const int64_t es = element_size(out.type);
    int64_t outer = 1, inner = es;
    for (int d = 0; d < axis_; ++d) outer *= out.dims[d];
    for (int d = axis_ + 1; d < out.dims.rank(); ++d) inner *= out.dims[d];
    auto* dst = static_cast<uint8_t*>(out.data);
    const int64_t row = out.dims[axis_] * inner;
    int64_t at = 0;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const KernelTensor& x = ctx.input(i);
      const int64_t chunk = x.dims[axis_] * inner;
      if (chunk == 0) continue;  // an empty input may have no buffer at all
      const auto* src = static_cast<const uint8_t*>(x.data);
      for (int64_t b = 0; b < outer; ++b)
        std::memcpy(dst + b * row + at, src + b * chunk, static_cast<size_t>(chunk));
      at += chunk;
    }
  }

 private:
  int axis_;
};

std::unique_ptr<Kernel> make_concatenation(const KernelProblem& p) {
  if (p.output(0).numel() == 0) return nullptr;
  for (size_t i = 0; i < p.inputs.size(); ++i)
    if (!p.has_input(static_cast<int>(i))) return nullptr;
  return std::make_unique<FastConcatenation>(p.as<ConcatenationAttrs>().axis);
}

}  // namespace

std::vector<KernelEntry> layout_kernels(LayerKind kind) {
  if (kind == LayerKind::kSHUFFLE) return {{"strided copy", &make_shuffle}};
  if (kind == LayerKind::kCONCATENATION) return {{"strided copy", &make_concatenation}};
  return {};
}

}  // namespace layerkit::cpu
