#include "io/direct_writes.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/tiny_model.h"

namespace weld::test {
namespace {

// Opens `path` for writing, with O_DIRECT where the file system allows it (the writes suit both).
int open_for_direct(const std::string& path, int access = O_WRONLY) {
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | access | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0) << path;
  ::fcntl(fd, F_SETFL, O_DIRECT);
  return fd;
}

// Cuts [0, size) into pieces of 1 to max_piece bytes, in shuffled order.
std::vector<std::pair<std::size_t, std::size_t>> shuffled_pieces(std::size_t size, std::size_t max_piece,
                                                                 unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::pair<std::size_t, std::size_t>> pieces;
  for (std::size_t at = 0; at < size;) {
    const std::size_t n = std::min<std::size_t>(size - at, 1 + rng() % max_piece);
    pieces.emplace_back(at, n);
    at += n;
  }
  // Mostly in order, as tiles come: swap neighbours, and now and then far apart ones.
  for (std::size_t i = 0; i + 1 < pieces.size(); ++i) {
    if (rng() % 3 == 0) std::swap(pieces[i], pieces[i + 1]);
    if (rng() % 50 == 0) std::swap(pieces[i], pieces[rng() % pieces.size()]);
  }
  return pieces;
}

std::string pattern(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
  return bytes;
}

void write_pieces(DirectWrites& direct, std::size_t file, const std::string& bytes, std::size_t max_piece,
                  unsigned seed) {
  for (const auto& [at, n] : shuffled_pieces(bytes.size(), max_piece, seed))
    direct.write(file, at, std::as_bytes(std::span(bytes.data() + at, n)));
}

TEST(DirectWrites, PiecesInAnyOrderMakeTheFileByteForByte) {
  TempDir dir;
  DirectWrites direct;
  // Runs fill and wrap, blocks are shared by pieces, and the last block is partial.
  const std::vector<std::size_t> sizes = {3 * DirectWrites::kRunBytes + 12345, 100, DirectWrites::kBlock,
                                          DirectWrites::kBlock * 3 + 1};
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    const std::string path = dir.path() + "/f" + std::to_string(k);
    const int fd = open_for_direct(path);
    const std::string bytes = pattern(sizes[k]);
    const std::size_t file = direct.add_file(fd, path, bytes.size());
    write_pieces(direct, file, bytes, k == 0 ? 300000 : 700, static_cast<unsigned>(k));
    direct.finish(file);
    ::close(fd);
    EXPECT_EQ(std::filesystem::file_size(path), bytes.size()) << path;
    EXPECT_TRUE(read_file(path) == bytes) << path;
  }
}

TEST(DirectWrites, FilesWrittenAtOnceKeepTheirOwnBytes) {
  TempDir dir;
  DirectWrites direct;
  std::vector<int> fds;
  std::vector<std::string> paths, contents;
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> pieces;
  for (unsigned k = 0; k < 6; ++k) {  // more files than open runs
    paths.push_back(dir.path() + "/f" + std::to_string(k));
    fds.push_back(open_for_direct(paths.back()));
    contents.push_back(pattern(200000 + 977 * k));
    std::reverse(contents.back().begin(), contents.back().end());
    contents.back()[0] = static_cast<char>(k);
    pieces.push_back(shuffled_pieces(contents.back().size(), 5000, k));
    EXPECT_EQ(direct.add_file(fds.back(), paths.back(), contents.back().size()), k);
  }
  for (std::size_t step = 0; ; ++step) {  // the files' pieces interleaved
    bool any = false;
    for (std::size_t k = 0; k < paths.size(); ++k) {
      if (step >= pieces[k].size()) continue;
      any = true;
      const auto [at, n] = pieces[k][step];
      direct.write(k, at, std::as_bytes(std::span(contents[k].data() + at, n)));
    }
    if (!any) break;
  }
  for (std::size_t k = 0; k < paths.size(); ++k) {
    direct.finish(k);
    ::close(fds[k]);
    EXPECT_TRUE(read_file(paths[k]) == contents[k]) << paths[k];
  }
}

TEST(DirectWrites, RoomReservedIsFilledInPlaceInAnyOrder) {
  TempDir dir;
  const std::string path = dir.path() + "/reserved";
  const int fd = open_for_direct(path);
  DirectWrites direct;
  const std::string bytes = pattern(5 * DirectWrites::kRunBytes + 777);
  const std::size_t file = direct.add_file(fd, path, bytes.size());
  // Pieces of up to a run, three reserved at a time and committed last first: runs fill while
  // pieces of them are still being filled, and pieces of half a run or more close them.
  const auto pieces = shuffled_pieces(bytes.size(), DirectWrites::kMaxPiece, 7);
  std::vector<std::span<std::byte>> held;
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    const auto [at, n] = pieces[k];
    const std::span<std::byte> room = direct.reserve(file, at, n);
    ASSERT_EQ(room.size(), n);
    std::memcpy(room.data(), bytes.data() + at, n);
    held.push_back(room);
    if (held.size() == 3 || k + 1 == pieces.size()) {
      for (std::size_t h = held.size(); h-- > 0;) direct.commit(held[h]);
      held.clear();
    }
  }
  direct.finish(file);
  ::close(fd);
  EXPECT_TRUE(read_file(path) == bytes);
}

TEST(DirectWrites, ThreadsReservingAtOnceEachMakeTheirFiles) {
  TempDir dir;
  DirectWrites direct;
  constexpr std::size_t kThreads = 6, kFilesEach = 2;  // more streams than open runs
  std::vector<int> fds;
  std::vector<std::string> paths, contents;
  for (std::size_t k = 0; k < kThreads * kFilesEach; ++k) {
    paths.push_back(dir.path() + "/f" + std::to_string(k));
    fds.push_back(open_for_direct(paths.back()));
    contents.push_back(pattern(3 * DirectWrites::kRunBytes + 4099 * k));
    contents.back()[0] = static_cast<char>(k);
    EXPECT_EQ(direct.add_file(fds.back(), paths.back(), contents.back().size()), k);
  }
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t f = t * kFilesEach; f < (t + 1) * kFilesEach; ++f) {
        const std::string& bytes = contents[f];
        for (const auto& [at, n] : shuffled_pieces(bytes.size(), DirectWrites::kRunBytes / 2, static_cast<unsigned>(f))) {
          if (n % 2 == 0) {  // half the pieces copied, half filled in place
            direct.write(f, at, std::as_bytes(std::span(bytes.data() + at, n)));
          } else {
            const std::span<std::byte> room = direct.reserve(f, at, n);
            std::memcpy(room.data(), bytes.data() + at, n);
            direct.commit(room);
          }
        }
        direct.finish(f);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (std::size_t k = 0; k < paths.size(); ++k) {
    ::close(fds[k]);
    EXPECT_TRUE(read_file(paths[k]) == contents[k]) << paths[k];
  }
}

TEST(DirectWrites, AFailedWriteIsReportedWithTheFile) {
  TempDir dir;
  const std::string path = dir.path() + "/read-only";
  { std::ofstream(path) << "x"; }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // every write fails
  ASSERT_GE(fd, 0);
  DirectWrites direct;
  const std::size_t file = direct.add_file(fd, path, 3 * DirectWrites::kRunBytes);
  const std::string bytes = pattern(3 * DirectWrites::kRunBytes);
  try {
    write_pieces(direct, file, bytes, 100000, 1);
    direct.finish(file);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write '" + path + "'"), std::string::npos) << e.what();
  }
  direct.discard(file);
  ::close(fd);
}

TEST(DirectWrites, ADiscardedFileGetsNoMoreWrites) {
  TempDir dir;
  const std::string path = dir.path() + "/dropped";
  const int fd = open_for_direct(path);
  DirectWrites direct;
  const std::size_t file = direct.add_file(fd, path, 2 * DirectWrites::kRunBytes);
  const std::string bytes = pattern(DirectWrites::kRunBytes / 2);
  direct.write(file, 0, std::as_bytes(std::span(bytes)));  // held in an open run
  direct.discard(file);
  ::close(fd);
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
}

}  // namespace
}  // namespace weld::test
