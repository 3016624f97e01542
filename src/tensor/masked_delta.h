// Fused kernels for the two passes a random sparsifier makes over a task vector d = x - b
// (methods/sparsify.cpp). Done step by step (subtract, draw, mask, two L1 norms, bits; then
// subtract, mask, rescale, weight), each step was a sweep over a tile of its own and the
// sweeps were most of DARE's time. Here each pass is one sweep, with the same operations in
// the same order per element, so the results are those of the steps to the bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "tensor/convert_x86.h"
#include "io/dtype.h"
#include "tensor/lane_sum.h"
#include "tensor/rng.h"

namespace weld {

// The L1 pass of the random mask over elements [begin, begin + n) of a task vector: with
// d[j] = x[j] - b[j], element begin + j is kept when u[j] < keep. Adds |d[j]| to `before` and
// |d[j]| or 0 (kept or not) to `after`, as their next n terms, and sets the bit (as in
// tensor/bitmask.h) of every kept element whose d is not +0; with bits null the sums only.
// Tests pass each instruction set in turn (REQUIRES: isa <= x86::detected_isa()).
void random_keep_l1(const float* x, const float* b, const float* u, float keep, std::uint64_t begin,
                    std::size_t n, std::uint8_t* bits, LaneSum& before, LaneSum& after,
                    x86::Isa isa = x86::detected_isa()) noexcept;

// random_keep_l1 on the fused path (tensor/lanes.h): x and b are elements [begin, begin + n)
// in the inputs' own dtype (BF16, F16 or F32), and u[j] = rng.draw(begin + j), drawn in
// registers. The same sums and bits (without lanes_are_fused(), through the scalar
// reference); with bits null the sums only, for a merge pass that draws u again.
// REQUIRES: is_lane_dtype(dtype).
void random_keep_l1_lanes(const std::byte* x, const std::byte* b, DType dtype, const CounterRng& rng, float keep,
                          std::uint64_t begin, std::size_t n, std::uint8_t* bits, LaneSum& before,
                          LaneSum& after) noexcept;

// keys[j] = (bits of |x[j] - b[j]|) ^ flip for j < n, from the inputs' own bytes (BF16, F16 or
// F32; fused where lanes_are_fused(), else converted): the selection keys of a task vector,
// as the f32 loop gives them. REQUIRES: is_lane_dtype(dtype).
void delta_keys_lanes(const std::byte* x, const std::byte* b, DType dtype, std::uint32_t flip, std::size_t n,
                      std::uint32_t* keys) noexcept;

// d[j] = x[j] - b[j] for j < n, from the inputs' own bytes (as delta_keys_lanes): the task
// vector a pass over f32 tiles would compute. REQUIRES: is_lane_dtype(dtype).
void delta_lanes(const std::byte* x, const std::byte* b, DType dtype, std::size_t n, float* d) noexcept;

// Whether a kernel's results replace out[j] or are added to it.
enum class Into { kStore, kAdd };

// t[j] = weight * (m[j] * scale) over elements [begin, begin + n) of a task vector, in float,
// where m[j] = x[j] - b[j] if the bit of element begin + j is set (every element when bits is
// null) and +0 if not (m[j] alone without a scale); out[j] = t[j], or out[j] += t[j] with
// Into::kAdd.
void masked_weighted_delta(const float* x, const float* b, const std::uint8_t* bits, std::uint64_t begin,
                           std::optional<float> scale, float weight, float* out, std::size_t n,
                           Into into = Into::kStore, x86::Isa isa = x86::detected_isa()) noexcept;

}  // namespace weld
