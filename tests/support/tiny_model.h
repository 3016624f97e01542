// Helpers shared by the tests: tiny models written from literal values, read back as f32,
// temporary directories, and running the real weld binary.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/dtype.h"

namespace weld::test {

struct TinyTensor {
  std::string name;
  std::vector<std::uint64_t> shape;
  std::vector<float> values;  // converted to dtype when written
  DType dtype = DType::kF32;
};

// A fresh directory under the system temp dir, deleted with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes `dir` as a model directory: config.json (`config`, default a 2-layer llama) and the
// tensors, in one file or in shards of at most `max_shard_bytes`.
void write_tiny_model(const std::string& dir, const std::vector<TinyTensor>& tensors,
                      const nlohmann::json& config = nullptr,
                      std::uint64_t max_shard_bytes = 5'000'000'000);

// Every tensor of a model directory, converted to f32.
std::map<std::string, std::vector<float>> read_model_f32(const std::string& dir);

void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

struct RunResult {
  int status;
  std::string out;
  std::string err;
};

// Runs the weld binary with `args` (a shell-quoted string), capturing stdout and stderr.
RunResult run_weld(const std::string& args);

}  // namespace weld::test
