#include "support/error_message.h"
#include "io/mapped_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "support/as_text.h"
#include "support/tiny_model.h"
#include "util/error.h"

namespace weld::test {
namespace {

std::string map_error(const std::string& path) {
  return test::error_message([&] { MappedFile::open(path); });
}

TEST(MappedFile, MapsTheWholeFile) {
  TempDir dir;
  write_file(dir / "f", "hello, map");
  const MappedFile file = MappedFile::open(dir / "f");
  EXPECT_EQ(file.path(), dir / "f");
  EXPECT_EQ(file.size(), 10u);
  EXPECT_EQ(as_text(file.bytes()), "hello, map");
}

TEST(MappedFile, EmptyFileIsValid) {
  TempDir dir;
  write_file(dir / "empty", "");
  const MappedFile file = MappedFile::open(dir / "empty");
  EXPECT_EQ(file.size(), 0u);
  EXPECT_TRUE(file.bytes().empty());
  file.prefetch(0, 100);
}

TEST(MappedFile, Errors) {
  TempDir dir;
  EXPECT_EQ(map_error(dir / "none"),
            "cannot open '" + (dir / "none") + "': No such file or directory");
  EXPECT_EQ(map_error(dir.path()), "cannot open '" + dir.path() + "': Is a directory");
  // A FIFO would block a plain open() until a writer appears; it must fail at once instead.
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  EXPECT_EQ(map_error(dir / "fifo"), "cannot open '" + (dir / "fifo") + "': not a regular file");
}

TEST(MappedFile, ReadCopiesTheBytesOfTheMap) {
  TempDir dir;
  write_file(dir / "f", "0123456789");
  const MappedFile file = MappedFile::open(dir / "f");
  std::string into(4, '.');
  file.read(3, std::as_writable_bytes(std::span(into)));
  EXPECT_EQ(into, "3456");
  file.read(10, {});  // nothing, at the end
}

TEST(MappedFile, ReadPastTheEndOfAShrunkFileIsAnError) {
  TempDir dir;
  write_file(dir / "f", "0123456789");
  const MappedFile file = MappedFile::open(dir / "f");
  std::filesystem::resize_file(dir / "f", 6);  // as if another program truncated it
  std::string into(4, '.');
  EXPECT_EQ(test::error_message([&] { file.read(4, std::as_writable_bytes(std::span(into))); }),
            "cannot read '" + (dir / "f") + "': it ends before byte 8 (was it changed during the merge?)");
}

TEST(MappedFile, MoveTransfersTheMap) {
  TempDir dir;
  write_file(dir / "a", "aaaa");
  write_file(dir / "b", "bb");
  MappedFile a = MappedFile::open(dir / "a");
  MappedFile moved(std::move(a));
  EXPECT_EQ(as_text(moved.bytes()), "aaaa");
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from state is empty

  MappedFile b = MappedFile::open(dir / "b");
  b = std::move(moved);
  EXPECT_EQ(as_text(b.bytes()), "aaaa");
  EXPECT_EQ(b.path(), dir / "a");
}

TEST(MappedFile, PrefetchAcceptsAnyRange) {
  TempDir dir;
  write_file(dir / "f", std::string(10000, 'x'));
  const MappedFile file = MappedFile::open(dir / "f");
  file.prefetch(0, file.size());
  file.prefetch(4097, 3);       // unaligned start
  file.prefetch(9000, 100000);  // runs past the end
  file.prefetch(20000, 1);      // starts past the end
  file.prefetch(5, 0);
  file.prefetch(1, SIZE_MAX);  // offset + length overflows
  EXPECT_EQ(as_text(file.bytes()), std::string(10000, 'x'));
}

// A file just written is in the page cache; once written back and dropped from it
// (POSIX_FADV_DONTNEED, where the file system honours it), it is not.
TEST(MappedFile, LooksCachedSamplesThePageCache) {
  TempDir dir;
  const std::string path = dir / "f";
  write_file(path, std::string(1 << 20, 'x'));
  const MappedFile file = MappedFile::open(path);
  EXPECT_TRUE(file.looks_cached(0, file.size()));
  EXPECT_TRUE(file.looks_cached(4097, 100000));
  EXPECT_FALSE(file.looks_cached(file.size(), 1));  // past the end
  EXPECT_FALSE(file.looks_cached(0, 0));

  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fdatasync(fd), 0);
  ASSERT_EQ(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  ::close(fd);
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident(file.size() / page);
  ASSERT_EQ(::mincore(const_cast<std::byte*>(file.bytes().data()), file.size(), resident.data()), 0);
  if (std::any_of(resident.begin(), resident.end(), [](unsigned char r) { return (r & 1) != 0; }))
    GTEST_SKIP() << "this file system keeps the pages";
  EXPECT_FALSE(file.looks_cached(0, file.size()));
}

// Whether the page at `address` is in this process's page tables (bit 63 of its
// /proc/self/pagemap entry, which unprivileged processes may read); nothing where pagemap
// cannot be read.
std::optional<bool> page_is_mapped(const std::byte* address) {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const int fd = ::open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0) return std::nullopt;
  std::uint64_t entry = 0;
  const auto at = static_cast<off_t>(reinterpret_cast<std::uintptr_t>(address) / page * sizeof entry);
  const bool read = ::pread(fd, &entry, sizeof entry, at) == static_cast<ssize_t>(sizeof entry);
  ::close(fd);
  if (!read) return std::nullopt;
  return (entry >> 63) != 0;
}

// Only the whole pages inside the range leave the page tables, and the bytes read the same.
TEST(MappedFile, UnmapPagesReleasesTheWholePagesOfTheRange) {
  TempDir dir;
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::string text(4 * page, 'x');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
  write_file(dir / "f", text);
  const MappedFile file = MappedFile::open(dir / "f");
  const auto touch_all = [&] { return as_text(file.bytes()); };
  ASSERT_EQ(touch_all(), text);
  const std::byte* first = file.bytes().data();
  if (!page_is_mapped(first).has_value()) GTEST_SKIP() << "no /proc/self/pagemap";
  for (std::size_t p = 0; p < 4; ++p) ASSERT_EQ(page_is_mapped(first + p * page), true) << "page " << p;

  file.unmap_pages(100, 3 * page);  // pages 1 and 2 whole; parts of 0 and 3
  EXPECT_EQ(page_is_mapped(first), true);
  EXPECT_EQ(page_is_mapped(first + page), false);
  EXPECT_EQ(page_is_mapped(first + 2 * page), false);
  EXPECT_EQ(page_is_mapped(first + 3 * page), true);
  EXPECT_EQ(touch_all(), text);  // mapped again from the page cache

  file.unmap_pages(page + 1, page - 2);  // no whole page inside
  file.unmap_pages(file.size(), 1);      // past the end
  file.unmap_pages(0, 0);
  EXPECT_EQ(page_is_mapped(first + page), true);
  file.unmap_pages(2 * page, SIZE_MAX);  // runs past the end: up to the last page
  EXPECT_EQ(page_is_mapped(first + page), true);
  EXPECT_EQ(page_is_mapped(first + 3 * page), false);
  EXPECT_EQ(touch_all(), text);
}

}  // namespace
}  // namespace weld::test
