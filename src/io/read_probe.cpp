#include "io/read_probe.h"

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

namespace weld {
namespace {

// The size of the copies: one tile of bf16 values, as the workers stage them.
constexpr std::size_t kCopyBytes = std::size_t{128} << 10;

// A sum of the bytes' 64-bit words, so that every byte is read and the reads are kept.
std::uint64_t sum_words(const std::byte* bytes, std::size_t n) {
  std::uint64_t sum = 0;
  for (std::size_t at = 0; at + sizeof(std::uint64_t) <= n; at += sizeof(std::uint64_t)) {
    std::uint64_t word;
    std::memcpy(&word, bytes + at, sizeof word);
    sum += word;
  }
  return sum;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::optional<ReadProbe> probe_reads(const MappedFile& file, std::size_t offset, std::size_t length) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  // Pieces start on page boundaries of the map, so each touches whole pages of its own.
  const auto base = reinterpret_cast<std::uintptr_t>(file.bytes().data());
  const std::size_t first = ((base + offset + page - 1) / page) * page - base;
  if (first - offset > length || length - (first - offset) < kProbePieces * kProbePieceBytes) return std::nullopt;
  const std::size_t usable = length - (first - offset);
  const std::size_t stride = usable / kProbePieces / page * page;
  std::vector<std::byte> copy(kProbePieceBytes);
  ReadProbe probe;
  volatile std::uint64_t sink = 0;
  for (std::size_t p = 0; p < kProbePieces; ++p) {
    const std::size_t at = first + p * stride;
    const auto copy_piece = [&] {
      std::uint64_t sum = 0;
      for (std::size_t done = 0; done < kProbePieceBytes; done += kCopyBytes) {
        file.read(at + done, {copy.data(), kCopyBytes});
        sum += sum_words(copy.data(), kCopyBytes);
      }
      return sum;
    };
    sink = sink + copy_piece();  // brings the piece into the page cache, and the buffer's pages
    auto start = std::chrono::steady_clock::now();
    sink = sink + sum_words(file.bytes().data() + at, kProbePieceBytes);
    probe.mapped_seconds += seconds_since(start);
    start = std::chrono::steady_clock::now();
    sink = sink + copy_piece();
    probe.copied_seconds += seconds_since(start);
  }
  return probe;
}

}  // namespace weld
