// A sum of many doubles that vectorises and still has one answer for one sequence of terms.
//
// A running sum waits on each add before the next (4 cycles), which held the norm and dot
// product passes to a fraction of the speed of reading their inputs. Here term p of the
// sequence (counted from the first add) goes to lane p mod kLanes, each lane adds its terms
// in order, and value() adds the lanes in lane order. How the sequence is cut into add()
// calls (tiles, chunks, one call for a whole tensor) changes nothing, so the streamed and
// whole-tensor paths and every thread count agree to the bit.
#pragma once

#include <array>
#include <cstddef>

namespace weld {

class LaneSum {
 public:
  static constexpr std::size_t kLanes = 8;

  // Adds term(0), ..., term(n - 1) as the next n terms of the sequence.
  template <typename Term>
  void add(std::size_t n, Term&& term) noexcept {
    std::size_t j = 0;
    for (; j < n && phase_ != 0; ++j) add_one(term(j));
    std::array<double, kLanes> lanes = lanes_;  // a local copy the compiler keeps in registers
    for (; j + kLanes <= n; j += kLanes)
      for (std::size_t lane = 0; lane < kLanes; ++lane) lanes[lane] += term(j + lane);
    lanes_ = lanes;
    for (; j < n; ++j) add_one(term(j));
  }

  // The lanes, for a vector kernel that adds whole groups of kLanes terms (lane k of the
  // group to lane k), which keeps the next term at lane 0; null when it is not at lane 0.
  double* lanes_at_first() noexcept { return phase_ == 0 ? lanes_.data() : nullptr; }

  // Lets a kernel add the next n terms itself: it is given the lanes turned so that the next
  // term's lane comes first, and adds term j to lanes[j % kLanes], each lane's terms in
  // order. Such a kernel needs no care for where the sequence is.
  template <typename Kernel>
  void add_by(std::size_t n, Kernel&& kernel) {
    std::array<double, kLanes> turned;
    for (std::size_t k = 0; k < kLanes; ++k) turned[k] = lanes_[(phase_ + k) % kLanes];
    kernel(turned.data());
    for (std::size_t k = 0; k < kLanes; ++k) lanes_[(phase_ + k) % kLanes] = turned[k];
    phase_ = (phase_ + n) % kLanes;
  }

  // Several sums advanced together (see add_together below).
  template <std::size_t kSums, typename Terms>
  friend void add_together(std::size_t n, std::array<LaneSum*, kSums> sums, Terms&& terms) noexcept;

  double value() const noexcept {
    double sum = 0.0;
    for (double lane : lanes_) sum += lane;
    return sum;
  }

 private:
  void add_one(double x) noexcept {
    lanes_[phase_] += x;
    phase_ = (phase_ + 1) % kLanes;
  }

  std::array<double, kLanes> lanes_{};
  std::size_t phase_ = 0;  // the lane of the next term
};

// For each of the sums, the same as sums[s]->add(n, j -> terms(j)[s]), in one loop over j:
// each sum's lanes wait on their own last addition (4 cycles), so advancing several sums at
// once keeps the adder busy. REQUIRES: the sums are at the same lane (they have had the same
// number of terms), as sums taken over one sequence of elements are. Always inlined, so that
// it is compiled for the vector target of the kernel that calls it.
template <std::size_t kSums, typename Terms>
[[gnu::always_inline]] inline void add_together(std::size_t n, std::array<LaneSum*, kSums> sums, Terms&& terms) noexcept {
  std::size_t j = 0;
  for (; j < n && sums[0]->phase_ != 0; ++j) {
    const std::array<double, kSums> t = terms(j);
    for (std::size_t s = 0; s < kSums; ++s) sums[s]->add_one(t[s]);
  }
  std::array<std::array<double, LaneSum::kLanes>, kSums> lanes;  // local copies kept in registers
  for (std::size_t s = 0; s < kSums; ++s) lanes[s] = sums[s]->lanes_;
  for (; j + LaneSum::kLanes <= n; j += LaneSum::kLanes)
    for (std::size_t lane = 0; lane < LaneSum::kLanes; ++lane) {
      const std::array<double, kSums> t = terms(j + lane);
      for (std::size_t s = 0; s < kSums; ++s) lanes[s][lane] += t[s];
    }
  for (std::size_t s = 0; s < kSums; ++s) sums[s]->lanes_ = lanes[s];
  for (; j < n; ++j) {
    const std::array<double, kSums> t = terms(j);
    for (std::size_t s = 0; s < kSums; ++s) sums[s]->add_one(t[s]);
  }
}

}  // namespace weld
