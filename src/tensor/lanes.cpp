#include "tensor/lanes.h"

#include "tensor/convert_x86.h"

namespace weld {

bool lanes_are_fused() noexcept { return x86::detected_isa() == x86::Isa::kAvx512; }

bool is_lane_dtype(DType dtype) noexcept {
  return dtype == DType::kBF16 || dtype == DType::kF16 || dtype == DType::kF32;
}

}  // namespace weld
