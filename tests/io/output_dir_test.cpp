#include <gtest/gtest.h>

#include <filesystem>

#include "io/output_dir.h"
#include "support/tiny_model.h"
#include "util/error.h"

namespace weld::test {
namespace {

namespace fs = std::filesystem;

TEST(OutputDir, AppearsOnlyOnCommit) {
  TempDir dir;
  {
    OutputDir out(dir / "out", false);
    write_file(out.file("a.txt"), "x");
    EXPECT_FALSE(fs::exists(dir / "out"));
    out.commit();
  }
  EXPECT_EQ(read_file(dir / "out/a.txt"), "x");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(OutputDir, WithoutCommitNothingIsLeft) {
  TempDir dir;
  {
    OutputDir out(dir / "out", false);
    write_file(out.file("a.txt"), "x");
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(OutputDir, ExistingOutputNeedsForceAndIsThenReplaced) {
  TempDir dir;
  fs::create_directories(dir / "out");
  write_file(dir / "out/old.txt", "old");
  try {
    OutputDir out(dir / "out", false);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "output '" + (dir / "out") +
                                         "' already exists and is not an empty directory (use --force to replace it)");
  }
  OutputDir out(dir / "out/", true);
  write_file(out.file("new.txt"), "new");
  out.commit();
  EXPECT_FALSE(fs::exists(dir / "out/old.txt"));
  EXPECT_EQ(read_file(dir / "out/new.txt"), "new");
}

TEST(OutputDir, AnEmptyDirectoryMayBeUsed) {
  TempDir dir;
  fs::create_directories(dir / "out");
  OutputDir out(dir / "out", false);
  out.commit();
  EXPECT_TRUE(fs::is_directory(dir / "out"));
}

}  // namespace
}  // namespace weld::test
