// Element types as safetensors names them ("F32", "BF16", ...). Identity and size only;
// conversions between them live in tensor/convert.h.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace weld {

enum class DType {
  kF64, kF32, kF16, kBF16,
  kI64, kI32, kI16, kI8,
  kU64, kU32, kU16, kU8,
  kBool, kF8_E4M3, kF8_E5M2,
};

// "F32", "BF16", ... exactly as in a safetensors header.
std::string_view dtype_name(DType t);
std::size_t dtype_size(DType t);
std::optional<DType> parse_dtype_name(std::string_view safetensors_name);

// F32, F16 and BF16: the types weld does arithmetic on.
bool is_arithmetic_dtype(DType t);

// Config spellings: "float32", "bfloat16", "float16" with an optional "torch." prefix.
std::optional<DType> parse_torch_dtype(std::string_view name);
// "float32", "bfloat16", ... (as written to config.json's torch_dtype).
std::string_view torch_dtype_name(DType t);

}  // namespace weld
