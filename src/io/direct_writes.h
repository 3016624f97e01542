// Files written around the page cache (O_DIRECT), from pieces of any size at any offset.
//
// A buffered write puts every byte of the output into a page of the page cache that the
// kernel has just taken off its free list. Where the machine is a VM that hands free memory
// back to its host (virtio-balloon free page reporting), touching such a page again costs a
// fault in the host: writing 2.2 GB took 0.39 s right after the memory was freed and 2.4-4.9
// s once the host had it back (docs/performance.md, "Writing the output"). Written with
// O_DIRECT, the bytes go from a few buffers of weld's own, reused, to the disk.
//
// O_DIRECT takes whole aligned blocks only, and a merge's tiles start anywhere. So the pieces
// are gathered into runs: bytes contiguous in one file, up to kRunBytes, in an aligned buffer.
// A run's whole blocks are written as one write, on a thread of its own (a worker writing
// would wait for the disk while it could compute); the block at each end that the run does
// not fill goes to a block of its own, written once the pieces next to it have filled it too.
// Every byte of a file must be written exactly once; finish() then waits for the file's
// writes and truncates it to its size (the last block is written whole).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "util/error.h"

namespace weld {

class DirectWrites {
 public:
  // Offsets, lengths and memory of every write are multiples of this.
  static constexpr std::size_t kBlock = 4096;
  // Large enough that the disk, not the call, sets the pace (writing 2.2 GB with O_DIRECT here
  // took 1.92 s in writes of 128 KiB, 0.84-0.90 s in writes of 4 MiB).
  static constexpr std::size_t kRunBytes = std::size_t{4} << 20;
  // Runs being filled at once: one per worker's stream of tiles, and spares.
  static constexpr std::size_t kOpenRuns = 4;
  // Runs in all: the open ones, and as many written behind them.
  static constexpr std::size_t kRuns = 2 * kOpenRuns;
  // The memory it holds, but for the few partly filled blocks.
  static constexpr std::size_t kBufferBytes = kRuns * kRunBytes;

  DirectWrites();
  // Stops the writing thread; what no finish() completed is dropped.
  ~DirectWrites();
  DirectWrites(const DirectWrites&) = delete;
  DirectWrites& operator=(const DirectWrites&) = delete;

  // Takes on `fd` (opened with O_DIRECT, or not: the writes suit both), which is `size` bytes
  // long once complete; `path` names it in errors. Returns the id of the file.
  std::size_t add_file(int fd, std::string path, std::uint64_t size);
  // Copies `bytes`, which belong at `offset` of the file. Throws weld::Error if an earlier
  // write failed. REQUIRES: the range lies inside the file and no byte of it was given before.
  void write(std::size_t file, std::uint64_t offset, std::span<const std::byte> bytes);
  // Writes what it holds of the file, waits for its writes and truncates it to its size.
  // Throws weld::Error naming the file if a write failed. The fd stays the caller's.
  void finish(std::size_t file);
  // Drops what it holds of the file and waits for the file's writes under way, so that the
  // caller may close the fd.
  void discard(std::size_t file);

 private:
  struct Run {
    std::size_t file = 0;
    std::uint64_t begin = 0, end = 0;  // bytes held; the buffer starts at begin's block
    std::byte* buffer = nullptr;
    std::uint64_t last_use = 0;  // the least recently extended open run is written first
  };
  using Aligned = std::unique_ptr<std::byte, void (*)(void*)>;  // from std::aligned_alloc
  struct PartBlock {  // a block that pieces fill in parts
    Aligned bytes{nullptr, std::free};
    std::size_t filled = 0;
  };
  struct Job {
    std::size_t file;
    std::uint64_t offset;
    std::span<const std::byte> bytes;
    std::byte* run_buffer;  // back to the free runs once written; null for a part block
    Aligned block{nullptr, std::free};  // a part block's bytes, freed once written
  };
  struct File {
    int fd;
    std::string path;
    std::uint64_t size;
    std::size_t in_flight = 0;
    bool dropped = false;  // discarded: its queued jobs are not written
  };

  // REQUIRES: the caller holds mutex_, for all of these.
  void throw_if_failed() const;
  // The index in open_ of a new run of `file` from `at`.
  std::size_t open_run(std::unique_lock<std::mutex>& lock, std::size_t file, std::uint64_t at);
  // Queues the run's whole blocks and puts its ends into part blocks.
  void write_run(std::size_t run);
  // REQUIRES: the bytes lie in one block.
  void add_to_part_block(std::size_t file, std::uint64_t offset, std::span<const std::byte> bytes);
  void queue(Job job);
  void wait_for_file(std::unique_lock<std::mutex>& lock, std::size_t file);
  void write_jobs();  // the writing thread

  std::mutex mutex_;
  std::condition_variable changed_;  // a job was queued or done, or the thread is to stop
  std::deque<File> files_;  // a deque: the writing thread keeps references across add_file
  std::vector<Run> open_;
  std::vector<std::byte*> free_runs_;
  Aligned run_memory_;
  std::map<std::pair<std::size_t, std::uint64_t>, PartBlock> part_blocks_;  // by (file, block)
  std::deque<Job> jobs_;
  std::uint64_t uses_ = 0;
  std::optional<Error> failure_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace weld
