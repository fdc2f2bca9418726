// Builds each kind's kernel list: the families' fast entries, then the reference kernel.
#include "runtime/cpu/kernel_list.h"

#include <array>

namespace layerkit::cpu {
namespace {

template <typename A>
class ReferenceKernel final : public Kernel {
 public:
  explicit ReferenceKernel(const A& attrs) : attrs_(attrs) {}
  void run(KernelCtx& ctx) const override { run_reference(attrs_, ctx); }

 private:
  const A& attrs_;  // the layer's, which outlives the executor's kernels
};

template <typename A>
std::unique_ptr<Kernel> make_reference(const KernelProblem& p) {
  return std::make_unique<ReferenceKernel<A>>(p.as<A>());
}

struct Lists {
  std::array<std::vector<KernelEntry>, kNumLayerKinds> full;
  std::array<std::vector<KernelEntry>, kNumLayerKinds> reference;
};

// The vectorized entries come before oneDNN's: where both exist they take only the problems they
// measured faster on (2-D max pooling: oneDNN 2.6's plain-layout primitive is several times
// slower; a matmul of at most 16 rows against constant B: oneDNN repacks B on every call).
// A build without oneDNN (LAYERKIT_WITH_ONEDNN off) has no oneDNN entries: its layers fall through
// to the vectorized, layout and reference kernels.
std::vector<KernelEntry> onednn_entries([[maybe_unused]] LayerKind kind) {
#ifdef LAYERKIT_WITH_ONEDNN
  return onednn_kernels(kind);
#else
  return {};
#endif
}

Lists make_lists() {
  Lists l;
#define LK_LAYER_KIND(e, name, attrs)                                                 \
  {                                                                                   \
    const auto k = static_cast<size_t>(LayerKind::e);                                 \
    l.full[k] = vectorized_kernels(LayerKind::e);                                     \
    for (const KernelEntry& v : onednn_entries(LayerKind::e)) l.full[k].push_back(v); \
    for (const KernelEntry& v : layout_kernels(LayerKind::e)) l.full[k].push_back(v); \
    l.full[k].push_back({"reference", &make_reference<attrs>});                       \
    l.reference[k].push_back({"reference", &make_reference<attrs>});                  \
  }
#include "layerkit/network/layer_kinds.def"
#undef LK_LAYER_KIND
  return l;
}

}  // namespace

std::span<const KernelEntry> kernels(LayerKind kind, bool reference_only) {
  static const Lists lists = make_lists();
  const auto k = static_cast<size_t>(kind);
  return reference_only ? lists.reference[k] : lists.full[k];
}

}  // namespace layerkit::cpu
