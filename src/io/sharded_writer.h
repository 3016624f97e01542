// A model's tensors written as Hugging Face shards: model.safetensors when they fit in one
// file, else model-00001-of-0000N.safetensors plus model.safetensors.index.json
// ({"metadata": {"total_size": bytes}, "weight_map": {tensor: file}}).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/direct_writes.h"
#include "io/safetensors_writer.h"

namespace weld {

struct ShardLayout {
  std::vector<std::string> file_names;
  std::vector<std::vector<std::size_t>> tensors_of;  // per shard, tensor indices in file order
  std::vector<std::size_t> shard_of;                 // per tensor
  std::vector<std::size_t> index_in_shard;           // per tensor
};

// Greedy in the given order: a shard is closed when the next tensor would take it past
// `max_shard_bytes`; a tensor larger than that gets a shard of its own.
ShardLayout plan_shard_layout(std::span<const std::uint64_t> sizes, std::uint64_t max_shard_bytes);

class ShardedWriter {
 public:
  // Creates every shard file in `dir` with its planned header (metadata {"format": "pt"}), and
  // the index when there are several. Keeps no names or shapes: a model's worth of them is
  // memory that grows with the model. With `direct`, writes around the page cache
  // (io/direct_writes.h) where the file system allows it.
  ShardedWriter(const std::string& dir, const std::vector<PlannedTensor>& tensors,
                std::uint64_t max_shard_bytes, bool direct = false);

  const ShardLayout& layout() const { return layout_; }
  // Where the tensor's data starts in its shard file.
  std::uint64_t data_offset(std::size_t tensor) const {
    return writers_[layout_.shard_of[tensor]]->data_offset(layout_.index_in_shard[tensor]);
  }
  // Whether every shard is written around the page cache.
  bool direct() const;
  // Safe to call from several threads. REQUIRES: the range lies inside the tensor.
  void write(std::size_t tensor, std::uint64_t offset_in_tensor, std::span<const std::byte> bytes);
  // Room in the output's runs for the n bytes at `offset_in_tensor` of the tensor, where its
  // shard is written around the page cache (SafetensorsWriter::reserve); empty where not.
  // Fill it, then commit() it. REQUIRES: the range lies inside the tensor.
  std::span<std::byte> reserve(std::size_t tensor, std::uint64_t offset_in_tensor, std::size_t n);
  // The bytes of a non-empty reserve() are in place.
  void commit(std::span<std::byte> piece);
  // Closes every shard.
  void finish();

 private:
  ShardLayout layout_;
  std::unique_ptr<DirectWrites> direct_;  // before writers_, which use it until destroyed
  std::vector<std::unique_ptr<SafetensorsWriter>> writers_;
};

}  // namespace weld
