// Writes behind the workers: they hand over finished buffers and go on computing, while one
// thread of its own pwrite()s them to their planned places.
//
// One writer thread also means one writer per file: when two threads pwrite() into the same
// file, the kernel serialises them on the file's lock and the waiting one spins (a sixth of
// the CPU time of a linear merge on two cores went to that spinning). Buffers come from a
// fixed pool, so memory stays at pool size x buffer size, and a worker that runs ahead of
// the disk waits for a free buffer.
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
#include <thread>
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
  // Stops the thread; writes still queued are dropped (call flush() to complete them).
  ~WriteBehind();
  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;

  // A free buffer, waiting for one when all are queued.
  std::span<std::byte> acquire();
  // Queues the first n bytes of a buffer from acquire() for (tensor, offset_in_tensor).
  void submit(std::span<std::byte> buffer, std::size_t n, std::size_t tensor, std::uint64_t offset_in_tensor);
  // Queues bytes the caller keeps alive until flush() (a memory-mapped input, say).
  void submit_external(std::span<const std::byte> bytes, std::size_t tensor, std::uint64_t offset_in_tensor);
  // Whether a write has failed (and what follows is dropped).
  bool failed();
  // Waits until everything queued is written. Throws weld::Error when a write failed.
  void flush();

 private:
  struct Write {
    std::span<const std::byte> bytes;
    std::size_t tensor;
    std::uint64_t offset;
    std::size_t buffer;  // its pool buffer, or kExternal
  };
  static constexpr std::size_t kExternal = static_cast<std::size_t>(-1);

  void run();
  void push(Write w);

  ShardedWriter& writer_;
  std::function<std::string(std::size_t)> tensor_name_;
  std::vector<std::vector<std::byte>> pool_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::size_t> free_;
  std::deque<Write> queue_;
  std::size_t in_flight_ = 0;  // taken off the queue, not yet written
  bool stopping_ = false;
  std::optional<Error> failure_;
  std::thread thread_;
};

}  // namespace weld
