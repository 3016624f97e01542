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
  for (std::size_t w = 0; w < kWriters; ++w) writers_.emplace_back([this] { write_jobs(); });
}

DirectWrites::~DirectWrites() {
  {
    const std::lock_guard lock(mutex_);
    for (File& f : files_) f.dropped = true;
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread& writer : writers_) writer.join();
}

std::size_t DirectWrites::add_file(int fd, std::string path, std::uint64_t size) {
  const std::lock_guard lock(mutex_);
  files_.push_back({.fd = fd, .path = std::move(path), .size = size});
  return files_.size() - 1;
}

std::span<std::byte> DirectWrites::reserve(std::size_t file, std::uint64_t offset, std::size_t n) {
  WELD_CHECK(n > 0 && n <= kMaxPiece);
  std::unique_lock lock(mutex_);
  return take(lock, file, offset, n, true);
}

void DirectWrites::commit(std::span<std::byte> piece) {
  const std::lock_guard lock(mutex_);
  const auto r = static_cast<std::size_t>((piece.data() - run_memory_.get()) / static_cast<std::ptrdiff_t>(kRunBuffer));
  WELD_CHECK(r < kRuns && runs_[r].unfilled > 0);
  --runs_[r].unfilled;
  if (runs_[r].state == RunState::kClosing && runs_[r].unfilled == 0) write_run(r);
}

void DirectWrites::write(std::size_t file, std::uint64_t offset, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    std::span<std::byte> piece;
    {
      std::unique_lock lock(mutex_);
      piece = take(lock, file, offset, bytes.size(), false);
    }
    std::memcpy(piece.data(), bytes.data(), piece.size());
    commit(piece);
    offset += piece.size();
    bytes = bytes.subspan(piece.size());
  }
}

std::span<std::byte> DirectWrites::take(std::unique_lock<std::mutex>& lock, std::size_t file, std::uint64_t offset,
                                        std::size_t n, bool whole) {
  throw_if_failed();
  WELD_CHECK(file < files_.size() && offset <= files_[file].size && n <= files_[file].size - offset);
  const auto room = [&](std::size_t r) {
    return static_cast<std::size_t>(block_floor(runs_[r].begin) + kRunBuffer - runs_[r].end);
  };
  // Tiles mostly follow the one before them in their worker's stream: extend that run.
  std::size_t r = 0;
  while (r < kRuns && !(runs_[r].state == RunState::kOpen && runs_[r].file == file && runs_[r].end == offset)) ++r;
  if (r < kRuns && whole && room(r) < n) close_run(r);
  if (r == kRuns || runs_[r].state != RunState::kOpen) r = open_run(lock, file, offset);
  Run& run = runs_[r];
  const std::size_t m = whole ? n : std::min(n, room(r));
  const std::span<std::byte> piece(buffer_of(r) + (run.end - block_floor(run.begin)), m);
  run.end += m;
  ++run.unfilled;
  run.last_use = ++uses_;
  if (room(r) == 0) close_run(r);
  return piece;
}

void DirectWrites::finish(std::size_t file) {
  std::unique_lock lock(mutex_);
  for (std::size_t r = 0; r < kRuns; ++r) {
    if (runs_[r].file != file || runs_[r].state == RunState::kFree || runs_[r].state == RunState::kWriting) continue;
    WELD_CHECK(runs_[r].unfilled == 0);
    close_run(r);
  }
  // Blocks still partly filled hold bytes the caller never gave; they are zeros, as in a file
  // extended by ftruncate.
  for (auto it = part_blocks_.lower_bound({file, 0}); it != part_blocks_.end() && it->first.first == file;) {
    queue({.file = file, .offset = it->first.second, .bytes = std::span<const std::byte>(it->second.bytes.get(), kBlock),
           .run = kNoRun, .block = std::move(it->second.bytes)});
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
  // A run with pieces still being filled is freed by the last commit().
  for (std::size_t r = 0; r < kRuns; ++r)
    if (runs_[r].file == file && runs_[r].state == RunState::kOpen) close_run(r);
  part_blocks_.erase(part_blocks_.lower_bound({file, 0}), part_blocks_.lower_bound({file + 1, 0}));
  wait_for_file(lock, file);
}

void DirectWrites::throw_if_failed() const {
  if (failure_) throw Error(*failure_);
}

std::size_t DirectWrites::open_run(std::unique_lock<std::mutex>& lock, std::size_t file, std::uint64_t at) {
  const auto is_open = [](const Run& run) { return run.state == RunState::kOpen; };
  const auto is_free = [](const Run& run) { return run.state == RunState::kFree; };
  // Counted again after each wait: another caller may have opened a run meanwhile.
  for (;;) {
    while (static_cast<std::size_t>(std::count_if(runs_.begin(), runs_.end(), is_open)) >= kOpenRuns) {
      std::size_t oldest = kRuns;
      for (std::size_t r = 0; r < kRuns; ++r)
        if (is_open(runs_[r]) && (oldest == kRuns || runs_[r].last_use < runs_[oldest].last_use)) oldest = r;
      close_run(oldest);
    }
    if (std::any_of(runs_.begin(), runs_.end(), is_free)) break;
    changed_.wait(lock);
  }
  const auto r = static_cast<std::size_t>(std::find_if(runs_.begin(), runs_.end(), is_free) - runs_.begin());
  runs_[r] = {.state = RunState::kOpen, .file = file, .begin = at, .end = at, .unfilled = 0, .last_use = ++uses_};
  return r;
}

void DirectWrites::close_run(std::size_t r) {
  runs_[r].state = RunState::kClosing;
  if (runs_[r].unfilled == 0) write_run(r);
}

void DirectWrites::write_run(std::size_t r) {
  Run& run = runs_[r];
  if (files_[run.file].dropped) return free_run(r);
  run.state = RunState::kWriting;
  const std::uint64_t base = block_floor(run.begin);
  const auto bytes_at = [&](std::uint64_t from, std::uint64_t to) {
    return std::span<const std::byte>(buffer_of(r) + (from - base), static_cast<std::size_t>(to - from));
  };
  // The run's first block, where the run starts inside it, and its last, where the run ends
  // inside it, are shared with other pieces; the blocks between are the run's alone.
  const std::uint64_t whole_begin = block_ceil(run.begin), whole_end = block_floor(run.end);
  const std::uint64_t head_end = std::min(run.end, whole_begin);
  if (run.begin < head_end) add_to_part_block(run.file, run.begin, bytes_at(run.begin, head_end));
  const std::uint64_t tail_begin = std::max(whole_end, head_end);
  if (tail_begin < run.end) add_to_part_block(run.file, tail_begin, bytes_at(tail_begin, run.end));
  if (whole_begin < whole_end) {
    queue({.file = run.file, .offset = whole_begin, .bytes = bytes_at(whole_begin, whole_end), .run = r});
  } else {
    free_run(r);
  }
}

void DirectWrites::free_run(std::size_t r) {
  runs_[r].state = RunState::kFree;
  changed_.notify_all();  // a caller may wait for a free run
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
         .run = kNoRun, .block = std::move(block.bytes)});
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
    if (job.run != kNoRun) runs_[job.run].state = RunState::kFree;
    --f.in_flight;
    if (error && !failure_) failure_ = std::move(error);
    changed_.notify_all();
  }
}

}  // namespace weld
