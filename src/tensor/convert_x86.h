// AVX-512 / AVX2 / F16C bodies of the bulk conversions, chosen at run time. Each converts a
// prefix and returns how many elements it did: all n on the AVX-512 paths (masked tails), the
// whole vectors on AVX2/F16C, 0 on CPUs without the instructions. The caller finishes the rest
// with the scalar reference, which gives identical bits.
#pragma once

#include <cstddef>

namespace weld::x86 {

// The instruction sets with vector paths, weakest first. kAvx2 needs AVX2 and F16C; kAvx512
// needs AVX-512 F, BW and VL (and an OS that saves the 512-bit registers).
enum class Isa { kScalar, kAvx2, kAvx512 };

// The best this machine supports, detected once; kScalar off x86-64.
Isa detected_isa() noexcept;

// REQUIRES: isa <= detected_isa(). Tests pass each level in turn; everyone else the default.
std::size_t bf16_to_f32(const std::byte* in, float* out, std::size_t n,
                        Isa isa = detected_isa()) noexcept;
std::size_t f32_to_bf16(const float* in, std::byte* out, std::size_t n,
                        Isa isa = detected_isa()) noexcept;
std::size_t f16_to_f32(const std::byte* in, float* out, std::size_t n,
                       Isa isa = detected_isa()) noexcept;
std::size_t f32_to_f16(const float* in, std::byte* out, std::size_t n,
                       Isa isa = detected_isa()) noexcept;

}  // namespace weld::x86
