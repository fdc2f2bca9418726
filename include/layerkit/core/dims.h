// Dims: a tensor shape of rank 0 to 8 whose entries are known sizes or -1 (dynamic).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace layerkit {

inline constexpr int kMaxDims = 8;
inline constexpr int64_t kDynamic = -1;

class Dims {
 public:
  Dims() = default;
  Dims(std::initializer_list<int64_t> d);
  explicit Dims(std::span<const int64_t> d);
  static Dims of_rank(int rank, int64_t fill = 0);

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return d_[static_cast<size_t>(i)]; }
  int64_t& operator[](int i) { return d_[static_cast<size_t>(i)]; }
  const int64_t* begin() const { return d_.data(); }
  const int64_t* end() const { return d_.data() + rank_; }

  bool is_static() const;  // no -1 entries
  // Product of the entries; -1 when any entry is dynamic; 1 for rank 0. Throws
  // kINVALID_ARGUMENT naming the dims when the product overflows int64 (Note [Size arithmetic]
  // in core/size.h).
  int64_t volume() const;
  std::vector<int64_t> to_vector() const { return {begin(), end()}; }
  // "[2,3,-1]"; rank 0 is "[]".
  std::string to_string() const;
  // Row-major strides in elements (static dims only); checked as volume() is.
  std::vector<int64_t> strides() const;

  void push_back(int64_t v);

  friend bool operator==(const Dims& a, const Dims& b);
  friend bool operator!=(const Dims& a, const Dims& b) { return !(a == b); }

 private:
  int rank_ = 0;
  std::array<int64_t, kMaxDims> d_{};
};

std::string to_string(const Dims& d);

}  // namespace layerkit
