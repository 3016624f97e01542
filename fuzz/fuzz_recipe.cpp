// libFuzzer target: any bytes as a merge config. The parser may reject them (weld::Error)
// but must not crash, hang, or throw anything else.
#include <cstddef>
#include <cstdint>
#include <string>

#include "recipe/recipe.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    weld::parse_recipe(weld::YamlSource::parse(
        std::string(reinterpret_cast<const char*>(data), size), "fuzz.yml"));
  } catch (const weld::Error&) {
  }
  return 0;
}
