// Builds each kind's implementation list: the families' fast entries, then the reference kernel.
#include "runtime/cpu/impl_list.h"

#include <array>

namespace layerkit::cpu {
namespace {

template <typename A>
class ReferenceImpl final : public LayerImpl {
 public:
  explicit ReferenceImpl(const A& attrs) : attrs_(attrs) {}
  void run(KernelCtx& ctx) const override { run_reference(attrs_, ctx); }

 private:
  const A& attrs_;  // the layer's, which outlives the executor's implementations
};

template <typename A>
std::unique_ptr<LayerImpl> make_reference(const ImplProblem& p) {
  return std::make_unique<ReferenceImpl<A>>(p.as<A>());
}

struct Lists {
  std::array<std::vector<ImplEntry>, kNumLayerKinds> full;
  std::array<std::vector<ImplEntry>, kNumLayerKinds> reference;
};

// The vectorized entries come before oneDNN's: where both exist they take only the problems they
// measured faster on (2-D max pooling: oneDNN 2.6's plain-layout primitive is several times
// slower; a matmul of at most 16 rows against constant B: oneDNN repacks B on every call).
// A build without oneDNN (LAYERKIT_WITH_ONEDNN off) has no oneDNN entries: its layers fall through
// to the vectorized, layout and reference kernels.
std::vector<ImplEntry> dnnl_entries([[maybe_unused]] LayerKind kind) {
#ifdef LAYERKIT_WITH_ONEDNN
  return dnnl_implementations(kind);
#else
  return {};
#endif
}

Lists make_lists() {
  Lists l;
#define LK_LAYER_KIND(e, name, attrs)                                                       \
  {                                                                                         \
    const auto k = static_cast<size_t>(LayerKind::e);                                       \
    l.full[k] = vector_implementations(LayerKind::e);                                       \
    for (const ImplEntry& v : dnnl_entries(LayerKind::e)) l.full[k].push_back(v);           \
    for (const ImplEntry& v : layout_implementations(LayerKind::e)) l.full[k].push_back(v); \
    l.full[k].push_back({"reference", &make_reference<attrs>});                             \
    l.reference[k].push_back({"reference", &make_reference<attrs>});                        \
  }
#include "layerkit/network/layer_kinds.def"
#undef LK_LAYER_KIND
  return l;
}

}  // namespace

std::span<const ImplEntry> implementations(LayerKind kind, bool reference_only) {
  static const Lists lists = make_lists();
  const auto k = static_cast<size_t>(kind);
  return reference_only ? lists.reference[k] : lists.full[k];
}

}  // namespace layerkit::cpu
