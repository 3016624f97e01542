#include "io/sharded_writer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/direct_writes.h"
#include "util/error.h"

namespace weld {

namespace {

std::string shard_file_name(std::size_t index, std::size_t count) {
  if (count == 1) return "model.safetensors";
  return fmt::format("model-{:05}-of-{:05}.safetensors", index + 1, count);
}

}  // namespace

ShardLayout plan_shard_layout(std::span<const std::uint64_t> sizes, std::uint64_t max_shard_bytes) {
  ShardLayout layout;
  std::uint64_t current_bytes = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (layout.tensors_of.empty() ||
        (!layout.tensors_of.back().empty() && current_bytes + sizes[i] > max_shard_bytes)) {
      layout.tensors_of.emplace_back();
      current_bytes = 0;
    }
    layout.shard_of.push_back(layout.tensors_of.size() - 1);
    layout.index_in_shard.push_back(layout.tensors_of.back().size());
    layout.tensors_of.back().push_back(i);
    current_bytes += sizes[i];
  }
  if (layout.tensors_of.empty()) layout.tensors_of.emplace_back();
  for (std::size_t s = 0; s < layout.tensors_of.size(); ++s)
    layout.file_names.push_back(shard_file_name(s, layout.tensors_of.size()));
  return layout;
}

namespace {

// model.safetensors.index.json: the total size and which file holds each tensor.
void write_index(const std::string& dir, const std::vector<PlannedTensor>& tensors, const ShardLayout& layout) {
  nlohmann::ordered_json index;
  std::uint64_t total = 0;
  for (const PlannedTensor& t : tensors) total += t.size_bytes();
  index["metadata"]["total_size"] = total;
  nlohmann::ordered_json& map = index["weight_map"];
  for (std::size_t t = 0; t < tensors.size(); ++t) map[tensors[t].name] = layout.file_names[layout.shard_of[t]];
  const std::string path = (std::filesystem::path(dir) / "model.safetensors.index.json").string();
  std::ofstream out(path, std::ios::binary);
  out << index.dump(2) << '\n';
  out.close();
  if (!out) fail("cannot write '{}'", path);
}

}  // namespace

ShardedWriter::ShardedWriter(const std::string& dir, const std::vector<PlannedTensor>& tensors,
                             std::uint64_t max_shard_bytes, bool direct)
    : direct_(direct ? std::make_unique<DirectWrites>() : nullptr) {
  std::vector<std::uint64_t> sizes;
  for (const PlannedTensor& t : tensors) sizes.push_back(t.size_bytes());
  layout_ = plan_shard_layout(sizes, max_shard_bytes);
  const std::map<std::string, std::string> metadata = {{"format", "pt"}};
  for (std::size_t s = 0; s < layout_.file_names.size(); ++s) {
    std::vector<PlannedTensor> shard_tensors;
    for (std::size_t t : layout_.tensors_of[s]) shard_tensors.push_back(tensors[t]);
    writers_.push_back(SafetensorsWriter::create(
        (std::filesystem::path(dir) / layout_.file_names[s]).string(), shard_tensors, metadata, direct_.get()));
  }
  if (writers_.size() > 1) write_index(dir, tensors, layout_);
}

void ShardedWriter::write(std::size_t tensor, std::uint64_t offset_in_tensor,
                          std::span<const std::byte> bytes) {
  writers_[layout_.shard_of[tensor]]->write(layout_.index_in_shard[tensor], offset_in_tensor, bytes);
}

std::span<std::byte> ShardedWriter::reserve(std::size_t tensor, std::uint64_t offset_in_tensor, std::size_t n) {
  return writers_[layout_.shard_of[tensor]]->reserve(layout_.index_in_shard[tensor], offset_in_tensor, n);
}

void ShardedWriter::commit(std::span<std::byte> piece) { direct_->commit(piece); }

bool ShardedWriter::direct() const {
  return std::all_of(writers_.begin(), writers_.end(), [](const auto& w) { return w->direct(); });
}

void ShardedWriter::finish() {
  for (auto& writer : writers_) writer->finish();
}

}  // namespace weld
