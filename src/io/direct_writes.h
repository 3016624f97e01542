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
// A worker reserves a piece's room in a run and fills it there, unlocked: a tile is merged
// straight into the run, and the only copy of its bytes is the disk's (a copy into the runs
// under the lock cost dare_linear a tenth of its time, linear three tenths). A run's whole
// blocks are written as one write, on threads of their own (a worker writing would wait for
// the disk while it could compute), once it is full or closed and every piece reserved in it
// is filled; the block at each end that the run does not fill goes to a block of its own, written
// once the pieces next to it have filled it too. Every byte of a file must be written exactly
// once; finish() then waits for the file's writes and truncates it to its size (the last block
// is written whole).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <array>
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
  // Threads writing runs: a virtual disk here took 2.2 GB in 4 MiB writes in 2.0 s from one
  // writer, in 1.2 s from two.
  static constexpr std::size_t kWriters = 2;
  // Runs in all: the open ones, and as many written behind them.
  static constexpr std::size_t kRuns = 2 * kOpenRuns;
  // A run's buffer: a run's worth, and the block that a start inside a block leaves unused, so
  // that two tiles of half a run fill one wherever they start.
  static constexpr std::size_t kRunBuffer = kRunBytes + kBlock;
  // The memory it holds, but for the few partly filled blocks.
  static constexpr std::size_t kBufferBytes = kRuns * kRunBuffer;

  DirectWrites();
  // Stops the writing threads; what no finish() completed is dropped.
  ~DirectWrites();
  DirectWrites(const DirectWrites&) = delete;
  DirectWrites& operator=(const DirectWrites&) = delete;

  // Takes on `fd` (opened with O_DIRECT, or not: the writes suit both), which is `size` bytes
  // long once complete; `path` names it in errors. Returns the id of the file.
  std::size_t add_file(int fd, std::string path, std::uint64_t size);
  // The largest piece reserve() takes.
  static constexpr std::size_t kMaxPiece = kRunBytes;
  // Room for the n bytes at `offset` of the file, in a run: the caller fills all of it and
  // then passes it to commit(). Waits for a free run when none is. Throws weld::Error if an
  // earlier write failed. REQUIRES: 0 < n <= kMaxPiece, the range lies inside the file and no
  // byte of it was given before.
  std::span<std::byte> reserve(std::size_t file, std::uint64_t offset, std::size_t n);
  // The bytes of a reserve() are in place.
  void commit(std::span<std::byte> piece);
  // Copies `bytes`, which belong at `offset` of the file, reserving and committing a run's
  // worth at a time. The same throws and requirements as reserve(), for any size.
  void write(std::size_t file, std::uint64_t offset, std::span<const std::byte> bytes);
  // Writes what it holds of the file, waits for its writes and truncates it to its size.
  // Throws weld::Error naming the file if a write failed. The fd stays the caller's.
  void finish(std::size_t file);
  // Drops what it holds of the file and waits for the file's writes under way, so that the
  // caller may close the fd.
  void discard(std::size_t file);

 private:
  enum class RunState {
    kFree,
    kOpen,     // taking pieces at its end
    kClosing,  // full, or made way for another: written once its reserved pieces are filled
    kWriting,  // queued or being written
  };
  struct Run {
    RunState state = RunState::kFree;
    std::size_t file = 0;
    std::uint64_t begin = 0, end = 0;  // bytes reserved; the buffer starts at begin's block
    std::size_t unfilled = 0;          // pieces reserved and not yet committed
    std::uint64_t last_use = 0;        // the least recently extended open run closes first
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
    std::size_t run;  // freed once written; kNoRun for a part block
    Aligned block{nullptr, std::free};  // a part block's bytes, freed once written
  };
  struct File {
    int fd;
    std::string path;
    std::uint64_t size;
    std::size_t in_flight = 0;
    bool dropped = false;  // discarded: its queued jobs are not written
  };

  static constexpr std::size_t kNoRun = kRuns;

  std::byte* buffer_of(std::size_t run) const { return run_memory_.get() + run * kRunBuffer; }
  // REQUIRES: the caller holds mutex_, for all of these.
  void throw_if_failed() const;
  // Room for n bytes at `offset` (exactly n with `whole`, else 1 to n), at the end of the
  // file's open run that ends there or of a new one.
  std::span<std::byte> take(std::unique_lock<std::mutex>& lock, std::size_t file, std::uint64_t offset,
                            std::size_t n, bool whole);
  // A new open run of `file` from `at`.
  std::size_t open_run(std::unique_lock<std::mutex>& lock, std::size_t file, std::uint64_t at);
  // Closes the run, and writes it once no piece of it is unfilled.
  void close_run(std::size_t run);
  // Queues the run's whole blocks and puts its ends into part blocks; frees the run of a
  // discarded file instead.
  void write_run(std::size_t run);
  void free_run(std::size_t run);
  // REQUIRES: the bytes lie in one block.
  void add_to_part_block(std::size_t file, std::uint64_t offset, std::span<const std::byte> bytes);
  void queue(Job job);
  void wait_for_file(std::unique_lock<std::mutex>& lock, std::size_t file);
  void write_jobs();  // a writing thread

  std::mutex mutex_;
  std::condition_variable changed_;  // a job was queued or done, a run freed, or the threads are to stop
  std::deque<File> files_;  // a deque: the writing threads keep references across add_file
  Aligned run_memory_;
  std::array<Run, kRuns> runs_{};  // run r's buffer is buffer_of(r)
  std::map<std::pair<std::size_t, std::uint64_t>, PartBlock> part_blocks_;  // by (file, block)
  std::deque<Job> jobs_;
  std::uint64_t uses_ = 0;
  std::optional<Error> failure_;
  bool stopping_ = false;
  std::vector<std::thread> writers_;
};

}  // namespace weld
