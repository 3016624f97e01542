// The physical floor of a merge: map the input files (as `weld merge --read mmap` does) and
// read every byte of them, while a second thread writes an output file of the merge's size
// (allocated first, as weld allocates its own), and nothing else.
// Reading and writing overlap, as they can in a pipelined merge on two cores. (No
// MADV_SEQUENTIAL: it lets the kernel drop pages behind the reader, which would evict the
// warm page cache that the runs being compared rely on.)
//
//   bench_floor [--pread] OUTPUT_FILE OUTPUT_BYTES INPUT_FILE...
//
// With --pread it reads the inputs as `weld merge` does by default instead: copied out of the
// page cache with pread, a weld tile (128 KiB) at a time, into one buffer it then sums. The
// issue's floor is the mapped one; the copied one is the floor of weld's own way of reading,
// which on a machine where a first touch of a mapped page is slow is the faster of the two
// (docs/performance.md).
//
// Prints a checksum of the bytes it read so that the reads cannot be optimised away.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

// Same size as weld's chunks of output: big enough that syscalls cost nothing.
constexpr std::size_t kWriteChunk = std::size_t{4} << 20;

// Same size as a weld tile of bf16 input.
constexpr std::size_t kReadChunk = std::size_t{128} << 10;

std::uint64_t sum_words(const unsigned char* bytes, std::size_t size) {
  std::uint64_t sum = 0;
  const std::size_t words = size / sizeof(std::uint64_t);
  for (std::size_t i = 0; i < words; ++i) {
    std::uint64_t word;
    std::memcpy(&word, bytes + i * sizeof word, sizeof word);
    sum += word;
  }
  for (std::size_t i = words * sizeof(std::uint64_t); i < size; ++i) sum += bytes[i];
  return sum;
}

std::uint64_t pread_file(int fd, const char* path, std::size_t size) {
  std::vector<unsigned char> chunk(kReadChunk);
  std::uint64_t sum = 0;
  for (std::size_t offset = 0; offset < size;) {
    const ssize_t n = ::pread(fd, chunk.data(), std::min(kReadChunk, size - offset), static_cast<off_t>(offset));
    if (n <= 0) {
      std::perror(path);
      std::exit(1);
    }
    sum += sum_words(chunk.data(), static_cast<std::size_t>(n));
    offset += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return sum;
}

std::uint64_t read_file(const char* path, bool copied) {
  const int fd = ::open(path, O_RDONLY);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::perror(path);
    std::exit(1);
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (copied) return pread_file(fd, path, size);
  if (size == 0) return 0;
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    std::perror(path);
    std::exit(1);
  }
  // Every byte, as a merge reads them (a vectorised sum of 64-bit words and the last few
  // bytes): each page is mapped (and, on a cold cache, read from disk) and every cache line
  // of it comes from memory.
  const std::uint64_t sum = sum_words(static_cast<const unsigned char*>(map), size);
  ::munmap(map, size);
  return sum;
}

void write_file(const char* path, std::uint64_t bytes) {
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    std::perror(path);
    std::exit(1);
  }
  // Its blocks allocated first, as `weld merge` allocates its output files: writes into a
  // hole pay ext4's delayed-allocation bookkeeping for every block (pwrite of 2.2 GB: 0.44-0.57 s
  // after ftruncate, 0.31-0.34 s preallocated). Where the file system cannot, it writes a hole.
  ::fallocate(fd, 0, 0, static_cast<off_t>(bytes));
  std::vector<char> chunk(kWriteChunk, 1);
  for (std::uint64_t offset = 0; offset < bytes;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kWriteChunk, bytes - offset));
    const ssize_t written = ::pwrite(fd, chunk.data(), n, static_cast<off_t>(offset));
    if (written <= 0) {
      std::perror(path);
      std::exit(1);
    }
    offset += static_cast<std::uint64_t>(written);
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  const bool copied = argc > 1 && std::strcmp(argv[1], "--pread") == 0;
  if (copied) {
    --argc;
    ++argv;
  }
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_floor [--pread] OUTPUT_FILE OUTPUT_BYTES INPUT_FILE...\n");
    return 2;
  }
  std::thread writer(write_file, argv[1], std::strtoull(argv[2], nullptr, 10));
  std::uint64_t sum = 0;
  for (int i = 3; i < argc; ++i) sum += read_file(argv[i], copied);
  writer.join();
  std::printf("%llu\n", static_cast<unsigned long long>(sum));
  return 0;
}
