// Dims construction, printing and volume.
#include "layerkit/core/dims.h"

#include "layerkit/core/error.h"
#include "layerkit/core/size.h"

namespace layerkit {

Dims::Dims(std::initializer_list<int64_t> d)
    : Dims(std::span<const int64_t>(d.begin(), d.size())) {}

Dims::Dims(std::span<const int64_t> d) {
  LK_CHECK(d.size() <= static_cast<size_t>(kMaxDims), "Dims: rank ", d.size(),
           " exceeds the maximum rank ", kMaxDims);
  rank_ = static_cast<int>(d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    LK_CHECK(d[i] >= -1, "Dims: entry ", i, " is ", d[i], "; sizes are >= 0 or -1 (dynamic)");
    d_[i] = d[i];
  }
}

Dims Dims::of_rank(int rank, int64_t fill) {
  LK_CHECK(rank >= 0 && rank <= kMaxDims, "Dims: rank ", rank, " is outside 0..", kMaxDims);
  Dims d;
  d.rank_ = rank;
  for (int i = 0; i < rank; ++i) d.d_[static_cast<size_t>(i)] = fill;
  return d;
}

bool Dims::is_static() const {
  for (int i = 0; i < rank_; ++i)
    if ((*this)[i] < 0) return false;
  return true;
}

int64_t Dims::volume() const {
  // A dynamic entry makes the volume unknown even where the known entries overflow.
  if (!is_static()) return -1;
  int64_t v = 1;
  for (int i = 0; i < rank_; ++i) {
    auto next = try_mul(v, (*this)[i]);
    LK_CHECK(next, "dims ", to_string(), " have more elements than int64 counts (", INT64_MAX, ")");
    v = *next;
  }
  return v;
}

std::string Dims::to_string() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ",";
    s += std::to_string((*this)[i]);
  }
  return s + "]";
}

std::vector<int64_t> Dims::strides() const {
  std::vector<int64_t> s(static_cast<size_t>(rank_));
  int64_t acc = 1;
  for (int i = rank_ - 1; i >= 0; --i) {
    s[static_cast<size_t>(i)] = acc;
    if (i > 0)
      acc = checked_mul(acc, std::max<int64_t>((*this)[i], 1), "strides of " + to_string());
  }
  return s;
}

void Dims::push_back(int64_t v) {
  LK_CHECK(rank_ < kMaxDims, "Dims: cannot grow beyond rank ", kMaxDims);
  d_[static_cast<size_t>(rank_++)] = v;
}

bool operator==(const Dims& a, const Dims& b) {
  if (a.rank_ != b.rank_) return false;
  for (int i = 0; i < a.rank_; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

std::string to_string(const Dims& d) {
  return d.to_string();
}

}  // namespace layerkit
