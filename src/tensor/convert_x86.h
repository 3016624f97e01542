// AVX2 / F16C bodies of the bulk conversions, chosen at run time. Each converts a prefix of
// whole vectors and returns how many elements it did (0 on CPUs without the instructions);
// the caller finishes the tail with the scalar reference, which gives identical bits.
#pragma once

#include <cstddef>

namespace weld::x86 {

std::size_t bf16_to_f32(const std::byte* in, float* out, std::size_t n) noexcept;
std::size_t f32_to_bf16(const float* in, std::byte* out, std::size_t n) noexcept;
std::size_t f16_to_f32(const std::byte* in, float* out, std::size_t n) noexcept;
std::size_t f32_to_f16(const float* in, std::byte* out, std::size_t n) noexcept;

}  // namespace weld::x86
