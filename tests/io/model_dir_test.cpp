#include <gtest/gtest.h>

#include <filesystem>

#include "support/error_message.h"
#include "io/model_dir.h"
#include "support/tiny_model.h"
#include "util/error.h"

namespace weld::test {
namespace {

std::string model_dir_error(const std::string& dir) {
  return error_message([&] { ModelDir::open(dir); });
}

TEST(ModelDir, ReadsShardsThroughTheIndex) {
  TempDir dir;
  write_tiny_model(dir / "m", {{"a", {2}, {1, 2}}, {"b", {2}, {3, 4}}, {"c", {1}, {5}}}, nullptr, 8);
  // 8 + 8 bytes exceed 8, and so do 8 + 4: three shards.
  ASSERT_TRUE(std::filesystem::exists(dir / "m/model-00003-of-00003.safetensors"));
  const auto model = ModelDir::open(dir / "m");
  EXPECT_EQ(model->shards().size(), 3u);
  EXPECT_EQ(model->tensor_names(), (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_EQ(model->find("c")->info->numel, 1u);
  EXPECT_FALSE(model->find("d"));
}

TEST(ModelDir, Errors) {
  TempDir dir;
  EXPECT_EQ(model_dir_error(dir / "none"), "model '" + (dir / "none") + "': no such directory");

  std::filesystem::create_directories(dir / "empty");
  EXPECT_EQ(model_dir_error(dir / "empty"), "model '" + (dir / "empty") + "': no config.json");

  write_file(dir / "empty/config.json", "{}");
  EXPECT_EQ(model_dir_error(dir / "empty"),
            "model '" + (dir / "empty") + "': no model.safetensors or model.safetensors.index.json");

  write_tiny_model(dir / "m", {{"a", {2}, {1, 2}}, {"b", {2}, {3, 4}}}, nullptr, 8);
  const std::string index = dir / "m/model.safetensors.index.json";
  write_file(index, R"({"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "gone.safetensors"}})");
  EXPECT_EQ(model_dir_error(dir / "m"), "model '" + (dir / "m") + "': " + index +
                                       ": shard 'gone.safetensors' named in the index does not exist");
  write_file(index, R"({"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors"}})");
  EXPECT_EQ(model_dir_error(dir / "m"), "model '" + (dir / "m") + "': " + index +
                                       ": tensor 'b' is not in shard 'model-00001-of-00002.safetensors' where the index puts it");
  write_file(index, R"({"weight_map": {"a": "../escape.safetensors"}})");
  EXPECT_EQ(model_dir_error(dir / "m"), "model '" + (dir / "m") + "': " + index +
                                       ": weight_map[\"a\"] names '../escape.safetensors', not a file in the model directory");
  write_file(index, R"({"weights": {}})");
  EXPECT_EQ(model_dir_error(dir / "m"), "model '" + (dir / "m") + "': " + index + ": no \"weight_map\" object");
  write_file(index, "{oops");
  EXPECT_EQ(model_dir_error(dir / "m").find("model '" + (dir / "m") + "': " + index + ": not valid JSON:"), 0u);
}

TEST(ModelDir, TensorInTwoShardsIsRefused) {
  TempDir dir;
  write_tiny_model(dir / "m", {{"a", {2}, {1, 2}}, {"b", {2}, {3, 4}}}, nullptr, 8);
  write_tiny_model(dir / "other", {{"a", {2}, {1, 2}}, {"c", {1}, {3}}});
  std::filesystem::copy_file(dir / "other/model.safetensors", dir / "m/dup.safetensors");
  write_file(dir / "m/model.safetensors.index.json",
             R"({"weight_map": {"a": "model-00001-of-00002.safetensors", "c": "dup.safetensors"}})");
  EXPECT_EQ(model_dir_error(dir / "m"), "model '" + (dir / "m") + "': tensor 'a' is in both '" +
                                       (dir / "m/dup.safetensors") + "' and '" +
                                       (dir / "m/model-00001-of-00002.safetensors") + "'");
}

}  // namespace
}  // namespace weld::test
