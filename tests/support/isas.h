// The instruction sets this machine runs, weakest first, for tests that pass each in turn to a
// kernel: so the AVX2 bodies are tested on AVX-512 machines too.
#pragma once

#include <vector>

#include "tensor/convert_x86.h"

namespace weld::test {

inline std::vector<x86::Isa> runnable_isas() {
  std::vector<x86::Isa> isas;
  for (x86::Isa isa : {x86::Isa::kScalar, x86::Isa::kAvx2, x86::Isa::kAvx512})
    if (isa <= x86::detected_isa()) isas.push_back(isa);
  return isas;
}

}  // namespace weld::test
