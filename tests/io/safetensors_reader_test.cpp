#include "support/error_message.h"
#include "io/safetensors_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "io/safetensors_test_util.h"
#include "support/as_text.h"
#include "support/tiny_model.h"
#include "util/error.h"

namespace weld::test {
namespace {

std::string open_error(const std::string& path) {
  return test::error_message([&] { SafetensorsFile::open(path); });
}

// Data bytes in order: 0, 1, 2, ... (see data_byte()).
std::string data_bytes(std::size_t begin, std::size_t end) {
  std::string bytes;
  for (std::size_t i = begin; i < end; ++i) bytes += data_byte(i);
  return bytes;
}

TEST(SafetensorsFile, ViewsEachTensorInsideTheMap) {
  TempDir dir;
  const std::string json =
      R"({"__metadata__": {"format": "pt"},
          "w": {"dtype": "F16", "shape": [3], "data_offsets": [4, 10]},
          "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})";
  write_file(dir / "m.safetensors", safetensors_file(json, 10));
  const auto file = SafetensorsFile::open(dir / "m.safetensors");
  EXPECT_EQ(file->path(), dir / "m.safetensors");
  EXPECT_EQ(file->data_start(), 8 + json.size());
  EXPECT_EQ(file->mapped().size(), 8 + json.size() + 10);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  ASSERT_EQ(file->tensors().size(), 2u);
  EXPECT_EQ(file->tensors()[0].name, "b");

  const TensorInfo* w = file->find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dtype, DType::kF16);
  EXPECT_EQ(as_text(file->data(*w)), data_bytes(4, 10));
  EXPECT_EQ(as_text(file->data(*file->find("b"))), data_bytes(0, 4));
  EXPECT_EQ(file->find("missing"), nullptr);
}

TEST(SafetensorsFile, ErrorsNameTheFile) {
  TempDir dir;
  const std::string path = dir / "bad.safetensors";
  write_file(path, safetensors_file(
                       R"({"x": {"dtype": "F33", "shape": [4], "data_offsets": [0, 4]}})", 4));
  EXPECT_EQ(open_error(path), path + ": tensor 'x': unknown dtype 'F33'");

  write_file(path, "");
  EXPECT_EQ(open_error(path), path + ": file is 0 bytes, too short for the 8-byte header length");

  EXPECT_EQ(open_error(dir / "none"),
            "cannot open '" + (dir / "none") + "': No such file or directory");
}

// A file cut short on disk (an interrupted download) fails on open, not on first use.
TEST(SafetensorsFile, TruncatedFileFailsOnOpen) {
  TempDir dir;
  const std::string path = dir / "cut.safetensors";
  write_file(path, safetensors_file(
                       R"({"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 16));
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 6);
  EXPECT_EQ(open_error(path), path + ": tensors end at 16 but the data section holds 10 bytes");
}

}  // namespace
}  // namespace weld::test
