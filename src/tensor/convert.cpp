#include "tensor/convert.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/convert_x86.h"

namespace weld {
namespace {

std::uint32_t bits_of(float f) noexcept {
  std::uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

float float_of(std::uint32_t b) noexcept {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

// f32 bit patterns at the edges of the f16 range.
constexpr std::uint32_t kF32Infinity = 0x7f800000;
constexpr std::uint32_t kF16OverflowFrom = 0x477ff000;  // 65520: the tie between 65504 and 2^16
constexpr std::uint32_t kF16SmallestNormal = 0x38800000;  // 2^-14
constexpr std::uint32_t kExponentRebias = (127 - 15) << 23;

// round_through's elements per step: 2 KiB of stack, long enough to amortise the dispatch.
constexpr std::size_t kRoundThroughChunk = 1024;

}  // namespace

float bf16_to_f32(std::uint16_t bits) noexcept { return float_of(std::uint32_t{bits} << 16); }

std::uint16_t f32_to_bf16(float value) noexcept {
  const std::uint32_t b = bits_of(value);
  if ((b & 0x7fffffff) > kF32Infinity) return static_cast<std::uint16_t>((b >> 16) | 0x0040);  // quiet NaN
  const std::uint32_t rounding = 0x7fff + ((b >> 16) & 1);  // to nearest, ties to even
  return static_cast<std::uint16_t>((b + rounding) >> 16);
}

float f16_to_f32(std::uint16_t h) noexcept {
  const std::uint32_t sign = std::uint32_t{h & 0x8000u} << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1f;
  const std::uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in f32
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 0x1f)  // infinity, or NaN made quiet
    return float_of(sign | kF32Infinity | (mantissa << 13) | (mantissa ? 0x00400000u : 0u));
  return float_of(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

std::uint16_t f32_to_f16(float value) noexcept {
  const std::uint32_t b = bits_of(value);
  const std::uint16_t sign = static_cast<std::uint16_t>((b >> 16) & 0x8000);
  const std::uint32_t x = b & 0x7fffffff;
  if (x > kF32Infinity) return static_cast<std::uint16_t>(sign | 0x7e00 | ((x >> 13) & 0x3ff));
  if (x >= kF16OverflowFrom) return static_cast<std::uint16_t>(sign | 0x7c00);
  if (x < kF16SmallestNormal) {
    // Subnormal: the mantissa is |value| / 2^-24 rounded to nearest even (1024 carries into
    // the smallest normal, which has exactly that bit pattern).
    const float scaled = std::ldexp(float_of(x), 24);
    return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(std::nearbyint(scaled)));
  }
  const std::uint32_t y = x - kExponentRebias;
  const std::uint32_t rounding = 0xfff + ((y >> 13) & 1);
  return static_cast<std::uint16_t>(sign | ((y + rounding) >> 13));
}

void to_f32_ref(DType type, const std::byte* in, float* out, std::size_t n) noexcept {
  if (type == DType::kF32) {
    std::memcpy(out, in, n * sizeof(float));
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::uint16_t h;
    std::memcpy(&h, in + 2 * i, sizeof h);
    out[i] = type == DType::kBF16 ? bf16_to_f32(h) : f16_to_f32(h);
  }
}

void from_f32_ref(DType type, const float* in, std::byte* out, std::size_t n) noexcept {
  if (type == DType::kF32) {
    std::memcpy(out, in, n * sizeof(float));
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint16_t h = type == DType::kBF16 ? f32_to_bf16(in[i]) : f32_to_f16(in[i]);
    std::memcpy(out + 2 * i, &h, sizeof h);
  }
}

void to_f32(DType type, const std::byte* in, float* out, std::size_t n) noexcept {
  const std::size_t done = type == DType::kBF16 ? x86::bf16_to_f32(in, out, n)
                           : type == DType::kF16 ? x86::f16_to_f32(in, out, n)
                                                 : 0;
  to_f32_ref(type, in + done * dtype_size(type), out + done, n - done);
}

void from_f32(DType type, const float* in, std::byte* out, std::size_t n) noexcept {
  const std::size_t done = type == DType::kBF16 ? x86::f32_to_bf16(in, out, n)
                           : type == DType::kF16 ? x86::f32_to_f16(in, out, n)
                                                 : 0;
  from_f32_ref(type, in + done, out + done * dtype_size(type), n - done);
}

// Through a 16-bit buffer on the stack a chunk at a time, so the vector paths do the work.
void round_through(DType type, float* values, std::size_t n) noexcept {
  if (type == DType::kF32) return;
  std::byte narrow[kRoundThroughChunk * sizeof(std::uint16_t)];
  for (std::size_t begin = 0; begin < n; begin += kRoundThroughChunk) {
    const std::size_t count = std::min(kRoundThroughChunk, n - begin);
    from_f32(type, values + begin, narrow, count);
    to_f32(type, narrow, values + begin, count);
  }
}

}  // namespace weld
