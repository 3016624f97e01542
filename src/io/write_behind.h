// Writes behind the computing: workers hand over finished buffers and go on, and the
// buffers are pwrite()n to their planned places a batch at a time by whichever worker
// finds a batch ready and nobody writing.
//
// One writer at a time: when two threads pwrite() into the same file, the kernel serialises
// them on the file's lock and the waiting one spins (a sixth of the CPU time of a linear
// merge on two cores went to that spinning). No thread of its own: a writer thread beside
// one worker per core made three threads for two cores, and waking it for writes and being
// woken for free buffers cost 10-17 thousand context switches in a 2.2 GB merge, while one
// worker or the other sat waiting. Buffers come from a fixed pool, so memory stays at pool
// size x buffer size; a worker that finds none free writes the queue itself, or waits for
// the one writing it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "io/sharded_writer.h"
#include "util/error.h"

namespace weld {

// A write that fails stops the writing: later writes are dropped (their buffers still come
// back), failed() turns true so that the caller can stop producing, and flush() throws the
// error, with the tensor it was writing as context.
class WriteBehind {
 public:
  // `buffers` buffers of `buffer_bytes` each; tensor_name(i) names tensor i in errors.
  // REQUIRES: buffers >= 1.
  WriteBehind(ShardedWriter& writer, std::size_t buffers, std::size_t buffer_bytes,
              std::function<std::string(std::size_t)> tensor_name);
  // Writes still queued are dropped (call flush() to complete them).
  ~WriteBehind() = default;
  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;

  // A free buffer: when none is, writes the queue or waits for the worker writing it.
  std::span<std::byte> acquire();
  // A buffer for the n bytes at (tensor, offset_in_tensor): where the output is written
  // around the page cache, their room in its runs (ShardedWriter::reserve), so that they are
  // never copied; else acquire().
  std::span<std::byte> acquire(std::size_t tensor, std::uint64_t offset_in_tensor, std::size_t n);
  // Queues the first n bytes of a buffer from acquire() for (tensor, offset_in_tensor), and
  // writes the queue when a batch is ready and nobody is writing; commits a buffer that is
  // the output's own room (all n bytes of it, for the range it was acquired for).
  void submit(std::span<std::byte> buffer, std::size_t n, std::size_t tensor, std::uint64_t offset_in_tensor);
  // Queues bytes the caller keeps alive until flush() (a memory-mapped input, say).
  void submit_external(std::span<const std::byte> bytes, std::size_t tensor, std::uint64_t offset_in_tensor);
  // Whether a write has failed (and what follows is dropped).
  bool failed();
  // Writes everything queued, waiting for a worker still writing. Throws weld::Error when a
  // write failed.
  void flush();

 private:
  struct Write {
    std::span<const std::byte> bytes;
    std::size_t tensor;
    std::uint64_t offset;
    std::size_t buffer;  // its pool buffer, or kExternal
  };
  static constexpr std::size_t kExternal = static_cast<std::size_t>(-1);

  void push(Write w);
  // Keeps the first error, with the tensor it was writing as context.
  void record_failure(Error e, std::size_t tensor);
  // Writes until the queue is empty, as the one writer. REQUIRES: `lock` holds mutex_ and
  // nobody is writing.
  void write_queue(std::unique_lock<std::mutex>& lock);

  ShardedWriter& writer_;
  std::function<std::string(std::size_t)> tensor_name_;
  std::vector<std::vector<std::byte>> pool_;
  std::size_t batch_;  // queued writes that make a worker write them
  bool direct_;        // acquire() with a range hands out the output's own room
  std::mutex mutex_;
  std::condition_variable changed_;  // a buffer came back, a write was queued, or writing stopped
  std::vector<std::size_t> free_;
  std::deque<Write> queue_;
  bool writing_ = false;     // a worker is in write_queue()
  std::size_t waiting_ = 0;  // callers of acquire() and flush() waiting on changed_
  std::optional<Error> failure_;
};

}  // namespace weld
