// The physical floor of a merge: map the input files as weld does and read every byte of
// them, while a second thread writes an output file of the merge's size, and nothing else.
// Reading and writing overlap, as they can in a pipelined merge on two cores. (No
// MADV_SEQUENTIAL: it lets the kernel drop pages behind the reader, which would evict the
// warm page cache that the runs being compared rely on.)
//
//   bench_floor OUTPUT_FILE OUTPUT_BYTES INPUT_FILE...
//
// Prints a checksum of the bytes it read so that the reads cannot be optimised away.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

// Same size as weld's chunks of output: big enough that syscalls cost nothing.
constexpr std::size_t kWriteChunk = std::size_t{4} << 20;

std::uint64_t read_file(const char* path) {
  const int fd = ::open(path, O_RDONLY);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::perror(path);
    std::exit(1);
  }
  const auto size = static_cast<std::size_t>(st.st_size);
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
  const auto* bytes = static_cast<const unsigned char*>(map);
  std::uint64_t sum = 0;
  const std::size_t words = size / sizeof(std::uint64_t);
  for (std::size_t i = 0; i < words; ++i) {
    std::uint64_t word;
    std::memcpy(&word, bytes + i * sizeof word, sizeof word);
    sum += word;
  }
  for (std::size_t i = words * sizeof(std::uint64_t); i < size; ++i) sum += bytes[i];
  ::munmap(map, size);
  return sum;
}

void write_file(const char* path, std::uint64_t bytes) {
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    std::perror(path);
    std::exit(1);
  }
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
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_floor OUTPUT_FILE OUTPUT_BYTES INPUT_FILE...\n");
    return 2;
  }
  std::thread writer(write_file, argv[1], std::strtoull(argv[2], nullptr, 10));
  std::uint64_t sum = 0;
  for (int i = 3; i < argc; ++i) sum += read_file(argv[i]);
  writer.join();
  std::printf("%llu\n", static_cast<unsigned long long>(sum));
  return 0;
}
