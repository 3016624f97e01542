// The Gram matrix of a tensor's inputs taken as vectors: G[i][k] = sum_j v_ij v_kj, with
// v_i = x_i - b (in double) when there is a base b, else x_i. Methods whose result is a linear
// combination of their inputs with coefficients that depend only on norms and angles
// (model_stock, multislerp, karcher) find the coefficients from G in one pass and then merge
// tile by tile. The sums are LaneSums: one answer however the tensor is cut into tiles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "io/dtype.h"
#include "methods/method.h"
#include "tensor/lane_sum.h"

namespace weld {

// LaneSums for the upper triangle of n vectors' Gram matrix, row by row: (0,0), (0,1), ...,
// (0,n-1), (1,1), ...
inline constexpr std::size_t gram_sums(std::size_t n) { return n * (n + 1) / 2; }

// Adds elements [first, first + count) of the vectors x[i] (minus base, when not null) to
// gram[0, gram_sums(x.size())).
void add_to_gram(std::span<const float* const> x, const float* base, std::size_t first, std::size_t count,
                 LaneSum* gram) noexcept;

// add_to_gram from the inputs' own bytes (BF16, F16 or F32): the same sums to the bit, with
// the values loaded, converted and multiplied in registers where lanes_are_fused() (for up to
// four vectors; more, and other machines, convert blocks to f32). REQUIRES:
// is_lane_dtype(dtype), x.size() <= kMaxLaneInputs.
void add_to_gram_lanes(std::span<const std::byte* const> x, const std::byte* base, DType dtype,
                       std::uint64_t first, std::size_t count, LaneSum* gram) noexcept;

// The pass of a method's prepare(): the Gram sums of inputs `vectors` of a tensor (minus
// input `base`, when there is one) for each row of row_length elements (numel for the whole
// tensor as one row): gram_sums(vectors.size()) per row, row after row. From the inputs' own
// bytes where the reader has them (the fused path), else tile by tile.
std::vector<LaneSum> gram_of_rows(const TensorReader& reader, std::span<const std::size_t> vectors,
                                  std::optional<std::size_t> base, std::uint64_t row_length);

// The whole symmetric matrix, n x n row-major, from the sums of add_to_gram.
std::vector<double> gram_matrix(std::span<const LaneSum> gram, std::size_t n);

}  // namespace weld
