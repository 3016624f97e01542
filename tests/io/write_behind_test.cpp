#include "io/write_behind.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "support/tiny_model.h"

namespace weld::test {
namespace {

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(WriteBehind, WritesFromSeveralThreadsLandAtTheirOffsets) {
  TempDir dir;
  constexpr std::size_t kChunk = 1000, kChunks = 60;
  ShardedWriter writer(dir.path(), {{"a", DType::kU8, {kChunk * kChunks}}, {"b", DType::kU8, {kChunk}}}, 1 << 30);
  std::vector<char> b_bytes(kChunk, 'b');
  {
    WriteBehind behind(writer, 2, kChunk, [](std::size_t i) { return std::to_string(i); });  // fewer buffers than threads: they wait for each other
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 3; ++t) {
      threads.emplace_back([&, t] {
        for (std::size_t c = t; c < kChunks; c += 3) {
          const std::span<std::byte> buffer = behind.acquire();
          std::memset(buffer.data(), static_cast<int>('A' + c % 26), kChunk);
          behind.submit(buffer, kChunk, 0, c * kChunk);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    behind.submit_external(std::as_bytes(std::span(b_bytes)), 1, 0);
    behind.flush();
    EXPECT_FALSE(behind.failed());
  }
  writer.finish();
  const std::string file = file_bytes(dir / "model.safetensors");
  const std::string data = file.substr(file.size() - kChunk * (kChunks + 1));
  for (std::size_t c = 0; c < kChunks; ++c)
    ASSERT_EQ(data.substr(c * kChunk, kChunk), std::string(kChunk, static_cast<char>('A' + c % 26))) << c;
  EXPECT_EQ(data.substr(kChunks * kChunk), std::string(kChunk, 'b'));
}

// A write past a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) fails as a full disk would;
// in a child process so that the limit does not outlive the test.
TEST(WriteBehindDeathTest, AFailedWriteIsReportedByFlushWithItsTensorAndLaterWritesAreDropped) {
  TempDir dir;
  ShardedWriter writer(dir.path(), {{"big", DType::kU8, {65536}}}, 1 << 30);
  auto fail_then_flush = [&] {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit = {16384, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) std::_Exit(2);
    WriteBehind behind(writer, 1, 32768, [](std::size_t) { return std::string("big"); });
    // With one buffer, each acquire() waits for the write before: a dropped write must
    // still give its buffer back.
    for (std::uint64_t offset = 0; offset < 65536; offset += 32768) {
      const std::span<std::byte> buffer = behind.acquire();
      std::memset(buffer.data(), 1, buffer.size());
      behind.submit(buffer, buffer.size(), 0, offset);
    }
    try {
      behind.flush();
    } catch (const Error& e) {
      std::cerr << e.what() << '\n';
      const std::string message = e.what();
      const bool named = message.find("tensor 'big'") != std::string::npos &&
                         message.find("File too large") != std::string::npos;
      std::_Exit(named && behind.failed() ? 0 : 1);
    }
    std::_Exit(3);
  };
  EXPECT_EXIT(fail_then_flush(), testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace weld::test
