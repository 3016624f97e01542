// Conversions between the arithmetic dtypes (F32, F16, BF16) and float32.
//
// float32 -> bf16/f16 rounds to nearest, ties to even; NaN stays NaN (quiet, sign kept),
// +-Inf stays +-Inf, overflow becomes +-Inf, f16 subnormals are produced and read exactly.
// Each vectorised routine has a scalar *_ref twin; tests/tensor compares the two.
#pragma once

#include <cstddef>
#include <cstdint>

#include "io/dtype.h"

namespace weld {

// Scalar, correctly rounded reference conversions.
float bf16_to_f32(std::uint16_t bits) noexcept;
std::uint16_t f32_to_bf16(float value) noexcept;
float f16_to_f32(std::uint16_t bits) noexcept;
std::uint16_t f32_to_f16(float value) noexcept;

// Bulk conversions. REQUIRES: is_arithmetic_dtype(type). `in`/`out` need no alignment.
void to_f32(DType type, const std::byte* in, float* out, std::size_t n) noexcept;
void from_f32(DType type, const float* in, std::byte* out, std::size_t n) noexcept;

// Scalar loops over the reference conversions, for tests and benchmarks.
void to_f32_ref(DType type, const std::byte* in, float* out, std::size_t n) noexcept;
void from_f32_ref(DType type, const float* in, std::byte* out, std::size_t n) noexcept;

// Rounds each value to `type` and back (what "cast to dtype on load" does to an f32 input).
void round_through(DType type, float* values, std::size_t n) noexcept;

}  // namespace weld
