#include <gtest/gtest.h>

#include "io/sharded_writer.h"

namespace weld {
namespace {

TEST(ShardLayout, GreedyInOrderWithOversizedTensorsAlone) {
  const std::uint64_t sizes[] = {4, 4, 4, 20, 1, 1};
  const ShardLayout layout = plan_shard_layout(sizes, 10);
  EXPECT_EQ(layout.tensors_of, (std::vector<std::vector<std::size_t>>{{0, 1}, {2}, {3}, {4, 5}}));
  EXPECT_EQ(layout.file_names.front(), "model-00001-of-00004.safetensors");
  EXPECT_EQ(layout.shard_of[4], 3u);
  EXPECT_EQ(layout.index_in_shard[5], 1u);
}

TEST(ShardLayout, OneShardIsModelSafetensors) {
  const std::uint64_t sizes[] = {4, 4};
  EXPECT_EQ(plan_shard_layout(sizes, 10).file_names, (std::vector<std::string>{"model.safetensors"}));
  EXPECT_EQ(plan_shard_layout({}, 10).file_names, (std::vector<std::string>{"model.safetensors"}));
}

}  // namespace
}  // namespace weld
