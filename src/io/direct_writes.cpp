#include "io/direct_writes.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "io/write_all.h"
#include "util/check.h"

namespace weld {
namespace {

constexpr std::uint64_t block_floor(std::uint64_t offset) { return offset - offset % DirectWrites::kBlock; }
constexpr std::uint64_t block_ceil(std::uint64_t offset) { return block_floor(offset + DirectWrites::kBlock - 1); }

std::byte* allocate_aligned(std::size_t bytes) {
  void* memory = std::aligned_alloc(DirectWrites::kBlock, bytes);
  if (memory == nullptr) throw std::bad_alloc();
  return static_cast<std::byte*>(memory);
}

}  // namespace

DirectWrites::DirectWrites() : run_memory_(allocate_aligned(kBufferBytes), std::free) {
  for (std::size_t r = 0; r < kRuns; ++r) free_runs_.push_back(run_memory_.get() + r * kRunBytes);
  writer_ = std::thread([this] { write_jobs(); });
}

DirectWrites::~DirectWrites() {
  {
    const std::lock_guard lock(mutex_);
    for (File& f : files_) f.dropped = true;
    stopping_ = true;
  }
  changed_.notify_all();
  writer_.join();
}

std::size_t DirectWrites::add_file(int fd, std::string path, std::uint64_t size) {
  const std::lock_guard lock(mutex_);
  files_.push_back({.fd = fd, .path = std::move(path), .size = size});
  return files_.size() - 1;
}

void DirectWrites::write(std::size_t file, std::uint64_t offset, std::span<const std::byte> bytes) {
  std::unique_lock lock(mutex_);
  throw_if_failed();
  WELD_CHECK(file < files_.size() && offset <= files_[file].size && bytes.size() <= files_[file].size - offset);
  while (!bytes.empty()) {
    // Tiles mostly follow the one before them in their worker's stream: extend that run.
    auto found = std::find_if(open_.begin(), open_.end(),
                              [&](const Run& r) { return r.file == file && r.end == offset; });
    const std::size_t r =
        found != open_.end() ? static_cast<std::size_t>(found - open_.begin()) : open_run(lock, file, offset);
    Run& run = open_[r];
    const std::uint64_t base = block_floor(run.begin);
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(base + kRunBytes - run.end, bytes.size()));
    std::memcpy(run.buffer + (run.end - base), bytes.data(), n);
    run.end += n;
    run.last_use = ++uses_;
    offset += n;
    bytes = bytes.subspan(n);
    if (run.end == base + kRunBytes) write_run(r);
  }
}

void DirectWrites::finish(std::size_t file) {
  std::unique_lock lock(mutex_);
  for (std::size_t r = open_.size(); r-- > 0;)
    if (open_[r].file == file) write_run(r);
  // Blocks still partly filled hold bytes the caller never gave; they are zeros, as in a file
  // extended by ftruncate.
  for (auto it = part_blocks_.lower_bound({file, 0}); it != part_blocks_.end() && it->first.first == file;) {
    queue({.file = file, .offset = it->first.second, .bytes = std::span<const std::byte>(it->second.bytes.get(), kBlock),
           .run_buffer = nullptr, .block = std::move(it->second.bytes)});
    it = part_blocks_.erase(it);
  }
  wait_for_file(lock, file);
  throw_if_failed();
  const File& f = files_[file];
  // The last block was written whole.
  if (::ftruncate(f.fd, static_cast<off_t>(f.size)) != 0)
    fail("cannot truncate '{}' to {} bytes: {}", f.path, f.size, std::strerror(errno));
}

void DirectWrites::discard(std::size_t file) {
  std::unique_lock lock(mutex_);
  files_[file].dropped = true;
  for (std::size_t r = open_.size(); r-- > 0;) {
    if (open_[r].file != file) continue;
    free_runs_.push_back(open_[r].buffer);
    open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(r));
  }
  part_blocks_.erase(part_blocks_.lower_bound({file, 0}), part_blocks_.lower_bound({file + 1, 0}));
  changed_.notify_all();  // a caller may wait for a free run
  wait_for_file(lock, file);
}

void DirectWrites::throw_if_failed() const {
  if (failure_) throw Error(*failure_);
}

std::size_t DirectWrites::open_run(std::unique_lock<std::mutex>& lock, std::size_t file, std::uint64_t at) {
  if (open_.size() == kOpenRuns) {
    const auto oldest = std::min_element(open_.begin(), open_.end(),
                                         [](const Run& a, const Run& b) { return a.last_use < b.last_use; });
    write_run(static_cast<std::size_t>(oldest - open_.begin()));
  }
  changed_.wait(lock, [&] { return !free_runs_.empty(); });
  open_.push_back({.file = file, .begin = at, .end = at, .buffer = free_runs_.back(), .last_use = ++uses_});
  free_runs_.pop_back();
  return open_.size() - 1;
}

void DirectWrites::write_run(std::size_t r) {
  const Run run = open_[r];
  open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(r));
  const std::uint64_t base = block_floor(run.begin);
  const auto bytes_at = [&](std::uint64_t from, std::uint64_t to) {
    return std::span<const std::byte>(run.buffer + (from - base), static_cast<std::size_t>(to - from));
  };
  // The run's first block, where the run starts inside it, and its last, where the run ends
  // inside it, are shared with other pieces; the blocks between are the run's alone.
  const std::uint64_t whole_begin = block_ceil(run.begin), whole_end = block_floor(run.end);
  const std::uint64_t head_end = std::min(run.end, whole_begin);
  if (run.begin < head_end) add_to_part_block(run.file, run.begin, bytes_at(run.begin, head_end));
  const std::uint64_t tail_begin = std::max(whole_end, head_end);
  if (tail_begin < run.end) add_to_part_block(run.file, tail_begin, bytes_at(tail_begin, run.end));
  if (whole_begin < whole_end) {
    queue({.file = run.file, .offset = whole_begin, .bytes = bytes_at(whole_begin, whole_end),
           .run_buffer = run.buffer});
  } else {
    free_runs_.push_back(run.buffer);
  }
}

void DirectWrites::add_to_part_block(std::size_t file, std::uint64_t offset, std::span<const std::byte> bytes) {
  const std::uint64_t begin = block_floor(offset);
  WELD_CHECK(offset + bytes.size() <= begin + kBlock);
  auto [it, added] = part_blocks_.try_emplace({file, begin}, PartBlock{});
  PartBlock& block = it->second;
  if (added) {
    block.bytes.reset(allocate_aligned(kBlock));
    std::memset(block.bytes.get(), 0, kBlock);
  }
  std::memcpy(block.bytes.get() + (offset - begin), bytes.data(), bytes.size());
  block.filled += bytes.size();
  const std::size_t in_file = static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, files_[file].size - begin));
  WELD_CHECK(block.filled <= in_file);
  if (block.filled < in_file) return;
  queue({.file = file, .offset = begin, .bytes = std::span<const std::byte>(block.bytes.get(), kBlock),
         .run_buffer = nullptr, .block = std::move(block.bytes)});
  part_blocks_.erase(it);
}

void DirectWrites::queue(Job job) {
  ++files_[job.file].in_flight;
  jobs_.push_back(std::move(job));
  changed_.notify_all();
}

void DirectWrites::wait_for_file(std::unique_lock<std::mutex>& lock, std::size_t file) {
  changed_.wait(lock, [&] { return files_[file].in_flight == 0; });
}

void DirectWrites::write_jobs() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    File& f = files_[job.file];
    const bool skip = f.dropped || failure_.has_value();
    lock.unlock();
    std::optional<Error> error;
    if (!skip) {
      try {
        pwrite_all(f.fd, f.path, job.bytes, job.offset);
      } catch (Error& e) {
        error = std::move(e);
      }
    }
    job.block.reset();
    lock.lock();
    if (job.run_buffer != nullptr) free_runs_.push_back(job.run_buffer);
    --f.in_flight;
    if (error && !failure_) failure_ = std::move(error);
    changed_.notify_all();
  }
}

}  // namespace weld
