#include "io/safetensors_writer.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "io/safetensors_reader.h"
#include "io/safetensors_test_util.h"
#include "support/as_text.h"
#include "support/tiny_model.h"
#include "util/error.h"

namespace weld::test {
namespace {

namespace fs = std::filesystem;

const std::map<std::string, std::string> kNoMetadata;

std::string pattern(std::size_t size, std::size_t seed) {
  std::string bytes;
  for (std::size_t i = 0; i < size; ++i) bytes += data_byte(i * 7 + seed);
  return bytes;
}

std::string create_error(const std::string& path, std::vector<PlannedTensor> tensors,
                         const std::map<std::string, std::string>& metadata = kNoMetadata) {
  try {
    SafetensorsWriter::create(path, std::move(tensors), metadata);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(PlannedTensor, SizeIsElementsTimesDtypeSize) {
  EXPECT_EQ((PlannedTensor{"a", DType::kBF16, {3, 5}}.size_bytes()), 30u);
  EXPECT_EQ((PlannedTensor{"s", DType::kF64, {}}.size_bytes()), 8u);
  EXPECT_EQ((PlannedTensor{"z", DType::kF32, {4, 0}}.size_bytes()), 0u);
}

TEST(SafetensorsHeaderBytes, MetadataFirstThenTensorsInOrderPaddedToEight) {
  const std::string json = R"({"__metadata__":{"format":"pt"},)"
                           R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[8,14]}})";
  ASSERT_EQ(json.size(), 140u);  // + 4 spaces = 144; 8 + 144 = 152 = 19 * 8
  const std::string bytes = safetensors_header_bytes(
      {{"a", DType::kF32, {2}}, {"b", DType::kBF16, {3}}}, {{"format", "pt"}});
  EXPECT_EQ(bytes, le_u64_bytes(144) + json + "    ");
}

TEST(SafetensorsHeaderBytes, EmptyPlanIsAnEmptyObject) {
  EXPECT_EQ(safetensors_header_bytes({}, kNoMetadata), le_u64_bytes(8) + "{}      ");
}

// Whatever the name lengths, the data section starts on a multiple of 8 and the header
// parses back to the planned layout.
TEST(SafetensorsHeaderBytes, DataSectionIsAlwaysAligned) {
  for (std::size_t length = 1; length <= 16; ++length) {
    const std::string bytes =
        safetensors_header_bytes({{std::string(length, 'n'), DType::kU8, {3}}}, kNoMetadata);
    EXPECT_EQ(bytes.size() % 8, 0u) << length;
    const SafetensorsHeader header = parse_safetensors_header(byte_span(bytes + "abc"));
    EXPECT_EQ(header.data_start, bytes.size());
    EXPECT_EQ(header.tensors[0].offset_end, 3u);
  }
}

TEST(SafetensorsHeaderBytes, NameThatIsNotUtf8IsAnError) {
  try {
    safetensors_header_bytes({{"\xff", DType::kU8, {1}}}, kNoMetadata);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "cannot write a safetensors header: a tensor name or metadata entry is not UTF-8");
  }
}

// Tensors are written out of order and in pieces, then read back byte for byte.
TEST(SafetensorsWriter, RoundTrip) {
  TempDir dir;
  const std::string path = dir / "m.safetensors";
  const std::vector<PlannedTensor> plan = {{"w", DType::kF32, {2, 3}},
                                           {"empty", DType::kF16, {0}},
                                           {"s", DType::kI64, {}},
                                           {"b", DType::kBF16, {5}}};
  const std::map<std::string, std::string> metadata = {{"format", "pt"}};
  auto writer = SafetensorsWriter::create(path, plan, metadata);
  const std::string header = safetensors_header_bytes(plan, metadata);
  EXPECT_EQ(writer->file_size(), header.size() + 24 + 0 + 8 + 10);
  EXPECT_EQ(fs::file_size(path), writer->file_size());  // full size before any data

  const std::string w = pattern(24, 1), s = pattern(8, 2), b = pattern(10, 3);
  writer->write(3, 0, byte_span(b));
  writer->write(0, 16, byte_span(std::string_view(w).substr(16)));
  writer->write(2, 0, byte_span(s));
  writer->write(0, 0, byte_span(std::string_view(w).substr(0, 16)));
  writer->finish();

  EXPECT_EQ(read_file(path), header + w + s + b);
  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->metadata(), metadata);
  EXPECT_EQ(file->data_start(), header.size());
  EXPECT_EQ(as_text(file->data(*file->find("w"))), w);
  EXPECT_EQ(as_text(file->data(*file->find("s"))), s);
  EXPECT_EQ(as_text(file->data(*file->find("b"))), b);
  EXPECT_EQ(file->find("b")->shape, (std::vector<std::uint64_t>{5}));
  EXPECT_EQ(file->data(*file->find("empty")).size(), 0u);
}

TEST(SafetensorsWriter, ConcurrentWritesFromTwoThreads) {
  constexpr std::size_t kTensorBytes = 1 << 20;
  constexpr std::size_t kChunk = 4096;
  TempDir dir;
  const std::string path = dir / "m.safetensors";
  auto writer = SafetensorsWriter::create(
      path, {{"a", DType::kU8, {kTensorBytes}}, {"b", DType::kU8, {kTensorBytes}}}, kNoMetadata);
  const std::string a = pattern(kTensorBytes, 5), b = pattern(kTensorBytes, 6);
  // Each thread takes every other chunk of both tensors, so their writes interleave.
  auto write_chunks = [&](std::size_t first) {
    for (std::size_t offset = first * kChunk; offset < kTensorBytes; offset += 2 * kChunk) {
      writer->write(0, offset, byte_span(std::string_view(a).substr(offset, kChunk)));
      writer->write(1, offset, byte_span(std::string_view(b).substr(offset, kChunk)));
    }
  };
  std::thread even(write_chunks, 0);
  std::thread odd(write_chunks, 1);
  even.join();
  odd.join();
  writer->finish();

  const auto file = SafetensorsFile::open(path);
  EXPECT_TRUE(as_text(file->data(*file->find("a"))) == a);
  EXPECT_TRUE(as_text(file->data(*file->find("b"))) == b);
}

TEST(SafetensorsWriter, AbandonDeletesTheFile) {
  TempDir dir;
  const std::string path = dir / "m.safetensors";
  auto writer = SafetensorsWriter::create(path, {{"a", DType::kU8, {4}}}, kNoMetadata);
  writer->write(0, 0, byte_span("abcd"));
  writer->abandon();
  EXPECT_FALSE(fs::exists(path));
  writer->abandon();  // a second call does nothing
}

TEST(SafetensorsWriter, DestructorWithoutFinishDeletesTheFile) {
  TempDir dir;
  const std::string path = dir / "m.safetensors";
  {
    auto writer = SafetensorsWriter::create(path, {{"a", DType::kU8, {4}}}, kNoMetadata);
    EXPECT_TRUE(fs::exists(path));
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(SafetensorsWriter, FinishedFileOutlivesTheWriter) {
  TempDir dir;
  const std::string path = dir / "m.safetensors";
  {
    auto writer = SafetensorsWriter::create(path, {{"a", DType::kU8, {4}}}, kNoMetadata);
    writer->finish();
    writer->abandon();  // does nothing once finished
  }
  EXPECT_EQ(SafetensorsFile::open(path)->tensors().size(), 1u);
}

TEST(SafetensorsWriter, CreateErrorsNameThePath) {
  TempDir dir;
  const std::string existing = dir / "existing.safetensors";
  write_file(existing, "keep me");
  EXPECT_EQ(create_error(existing, {}), "cannot create '" + existing + "': File exists");
  EXPECT_EQ(read_file(existing), "keep me");

  const std::string missing = dir / "no/such/dir.safetensors";
  EXPECT_EQ(create_error(missing, {}),
            "cannot create '" + missing + "': No such file or directory");
}

// Writes that cross a file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) are first cut
// short and then refused with EFBIG, as a full disk would refuse them with ENOSPC. It runs
// in a child process so that the limit does not outlive the test.
TEST(SafetensorsWriterDeathTest, FailedWriteNamesThePathAndTheCause) {
  TempDir dir;
  const std::string path = dir / "m.safetensors";
  const std::string expected = "cannot write '" + path + "': File too large";
  auto writer = SafetensorsWriter::create(path, {{"a", DType::kU8, {65536}}}, kNoMetadata);
  const std::string data(65536, 'd');
  auto write_past_limit = [&] {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit = {16384, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) std::_Exit(2);
    try {
      writer->write(0, 0, byte_span(data));
    } catch (const Error& e) {
      std::cerr << e.what() << '\n';
      std::_Exit(e.what() == expected ? 0 : 1);
    }
    std::_Exit(3);
  };
  EXPECT_EXIT(write_past_limit(), testing::ExitedWithCode(0), "");
}

// A file that cannot be given its size (here past RLIMIT_FSIZE, as a full disk refuses it
// with ENOSPC) fails the create, before any tensor is written, and leaves no file behind.
TEST(SafetensorsWriterDeathTest, FileThatCannotBeAllocatedFailsAtCreate) {
  TempDir dir;
  const std::string path = dir / "m.safetensors";
  const std::vector<PlannedTensor> plan = {{"a", DType::kU8, {65536}}};
  const std::uint64_t size = safetensors_header_bytes(plan, kNoMetadata).size() + 65536;
  const std::string expected = "cannot allocate " + std::to_string(size) + " bytes for '" + path + "': File too large";
  auto create_past_limit = [&] {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit = {16384, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) std::_Exit(2);
    const std::string error = create_error(path, plan);
    std::cerr << error << '\n';
    std::_Exit(error == expected && !fs::exists(path) ? 0 : 1);
  };
  EXPECT_EXIT(create_past_limit(), testing::ExitedWithCode(0), "");
}

// The blocks are allocated at create where the file system can (the writes then only fill
// them): the file's allocated bytes cover its size before any tensor is written.
TEST(SafetensorsWriter, CreateAllocatesTheBlocks) {
  TempDir dir;
  const std::string probe = dir / "probe";
  const int fd = ::open(probe.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  const bool can_allocate = ::fallocate(fd, 0, 0, 1 << 20) == 0;
  ::close(fd);
  if (!can_allocate) GTEST_SKIP() << "this file system has no fallocate";
  const std::string path = dir / "m.safetensors";
  auto writer = SafetensorsWriter::create(path, {{"a", DType::kU8, {1 << 20}}}, kNoMetadata);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), writer->file_size());
  EXPECT_GE(static_cast<std::uint64_t>(st.st_blocks) * 512, writer->file_size());
}

TEST(SafetensorsWriterDeathTest, RepeatedNameIsABug) {
  EXPECT_DEATH(
      safetensors_header_bytes({{"a", DType::kU8, {1}}, {"a", DType::kU8, {1}}}, kNoMetadata),
      "check failed");
  EXPECT_DEATH(safetensors_header_bytes({{"__metadata__", DType::kU8, {1}}}, kNoMetadata),
               "check failed");
}

TEST(SafetensorsWriterDeathTest, WriteOutsideTheTensorIsABug) {
  TempDir dir;
  auto writer =
      SafetensorsWriter::create(dir / "m.safetensors", {{"a", DType::kU8, {4}}}, kNoMetadata);
  EXPECT_DEATH(writer->write(0, 2, byte_span("abc")), "check failed");
  EXPECT_DEATH(writer->write(1, 0, byte_span("a")), "check failed");
}

}  // namespace
}  // namespace weld::test
