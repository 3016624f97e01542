#include "io/dtype.h"

#include <array>

#include "util/check.h"

namespace weld {
namespace {

struct DTypeInfo {
  DType type;
  std::string_view name;        // safetensors
  std::string_view torch_name;  // torch / config.json
  std::size_t size;
};

constexpr std::array<DTypeInfo, 15> kDTypes = {{
    {DType::kF64, "F64", "float64", 8},
    {DType::kF32, "F32", "float32", 4},
    {DType::kF16, "F16", "float16", 2},
    {DType::kBF16, "BF16", "bfloat16", 2},
    {DType::kI64, "I64", "int64", 8},
    {DType::kI32, "I32", "int32", 4},
    {DType::kI16, "I16", "int16", 2},
    {DType::kI8, "I8", "int8", 1},
    {DType::kU64, "U64", "uint64", 8},
    {DType::kU32, "U32", "uint32", 4},
    {DType::kU16, "U16", "uint16", 2},
    {DType::kU8, "U8", "uint8", 1},
    {DType::kBool, "BOOL", "bool", 1},
    {DType::kF8_E4M3, "F8_E4M3", "float8_e4m3fn", 1},
    {DType::kF8_E5M2, "F8_E5M2", "float8_e5m2", 1},
}};

const DTypeInfo& info(DType t) {
  const auto& i = kDTypes[static_cast<std::size_t>(t)];
  WELD_CHECK(i.type == t);
  return i;
}

}  // namespace

std::string_view dtype_name(DType t) { return info(t).name; }
std::size_t dtype_size(DType t) { return info(t).size; }
std::string_view torch_dtype_name(DType t) { return info(t).torch_name; }

std::optional<DType> parse_dtype_name(std::string_view name) {
  for (const auto& i : kDTypes)
    if (i.name == name) return i.type;
  return std::nullopt;
}

bool is_arithmetic_dtype(DType t) {
  return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16;
}

std::optional<DType> parse_torch_dtype(std::string_view name) {
  if (name.starts_with("torch.")) name.remove_prefix(6);
  if (name == "float32" || name == "float") return DType::kF32;
  if (name == "float16" || name == "half") return DType::kF16;
  if (name == "bfloat16") return DType::kBF16;
  return std::nullopt;
}

}  // namespace weld
