// TIES sign election and disjoint merge (Yadav et al., 2023), element-wise over weighted
// task vectors wd_i = w_i d_i:
//   s = +1 where sum_i wd_i >= 0, else -1   (zero counts as +)
//   m_i = [sign(wd_i) == s]                 (an exact zero has sign 0: never kept)
//   mixed = sum_i m_i wd_i;  divisor = sum_i m_i w_i, 0 replaced by 1
#pragma once

#include <cstddef>
#include <span>

namespace weld {

void elect_sign_and_merge(std::span<const float* const> weighted, std::span<const double> weights,
                          float* mixed, float* divisor, std::size_t n) noexcept;

}  // namespace weld
