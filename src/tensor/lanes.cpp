#include "tensor/lanes.h"

#include "tensor/convert_x86.h"

namespace weld {

bool lanes_are_fused() noexcept {
#if defined(__x86_64__)
  static const bool fused = x86::detected_isa() == x86::Isa::kAvx512 && __builtin_cpu_supports("avx512dq");
  return fused;
#else
  return false;
#endif
}

bool is_lane_dtype(DType dtype) noexcept {
  return dtype == DType::kBF16 || dtype == DType::kF16 || dtype == DType::kF32;
}

}  // namespace weld
