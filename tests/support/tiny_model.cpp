#include "support/tiny_model.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "io/model_dir.h"
#include "io/sharded_writer.h"
#include "tensor/convert.h"

namespace weld::test {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "weld-test-XXXXXX").string();
  path_ = ::mkdtemp(pattern.data());
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_tiny_model(const std::string& dir, const std::vector<TinyTensor>& tensors,
                      const nlohmann::json& config, std::uint64_t max_shard_bytes) {
  fs::create_directories(dir);
  const nlohmann::json cfg = config.is_null()
      ? nlohmann::json{{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"},
                       {"num_hidden_layers", 2}, {"torch_dtype", "float32"}}
      : config;
  write_file(dir + "/config.json", cfg.dump());
  std::vector<PlannedTensor> planned;
  for (const TinyTensor& t : tensors) planned.push_back({t.name, t.dtype, t.shape});
  ShardedWriter writer(dir, planned, max_shard_bytes);
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    std::vector<std::byte> bytes(tensors[i].values.size() * dtype_size(tensors[i].dtype));
    from_f32(tensors[i].dtype, tensors[i].values.data(), bytes.data(), tensors[i].values.size());
    writer.write(i, 0, bytes);
  }
  writer.finish();
}

std::map<std::string, std::vector<float>> read_model_f32(const std::string& dir) {
  const auto model = ModelDir::open(dir);
  std::map<std::string, std::vector<float>> out;
  for (const std::string_view name : model->tensor_names()) {
    const TensorRef ref = *model->find(name);
    std::vector<float> values(ref.info->numel);
    to_f32(ref.info->dtype, ref.data().data(), values.data(), values.size());
    out[std::string(name)] = std::move(values);
  }
  return out;
}

RunResult run_weld(const std::string& args) {
  TempDir capture;
  // (fmt rather than a chain of std::string +: GCC 12 warns falsely about the chain's copies,
  // for some lengths of WELD_BINARY.)
  const std::string command = fmt::format("{} {} >{} 2>{}", WELD_BINARY, args, capture / "out", capture / "err");
  const int raw = std::system(command.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(capture / "out"),
          read_file(capture / "err")};
}

}  // namespace weld::test
