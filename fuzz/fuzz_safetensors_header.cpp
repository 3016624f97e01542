// libFuzzer target: any bytes as a whole .safetensors file given to the header parser. It may
// reject them (weld::Error) but must not crash, hang, read out of bounds or throw anything
// else. The corpus starts empty; safetensors_header.dict gives the fuzzer the field names
// and dtypes, and comparison tracing finds the 8-byte length field.
//
//   ./fuzz_safetensors_header -dict=fuzz/safetensors_header.dict -max_total_time=60 CORPUS_DIR
#include <cstddef>
#include <cstdint>
#include <span>

#include "io/safetensors_header.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    weld::parse_safetensors_header(std::as_bytes(std::span(data, size)));
  } catch (const weld::Error&) {
  }
  return 0;
}
