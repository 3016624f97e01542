#include "io/write_behind.h"

#include <algorithm>

#include "util/check.h"

namespace weld {

WriteBehind::WriteBehind(ShardedWriter& writer, std::size_t buffers, std::size_t buffer_bytes,
                         std::function<std::string(std::size_t)> tensor_name)
    : writer_(writer),
      tensor_name_(std::move(tensor_name)),
      pool_(buffers, std::vector<std::byte>(buffer_bytes)),
      batch_(std::max<std::size_t>(1, buffers / 4)),
      direct_(writer.direct()) {
  WELD_CHECK(buffers >= 1);
  for (std::size_t b = 0; b < buffers; ++b) free_.push_back(b);
}

std::span<std::byte> WriteBehind::acquire() {
  std::unique_lock lock(mutex_);
  while (free_.empty()) {
    if (!writing_ && !queue_.empty()) {
      write_queue(lock);
    } else {
      // Another worker is writing, or every buffer is being filled: one comes back soon.
      ++waiting_;
      changed_.wait(lock);
      --waiting_;
    }
  }
  const std::size_t b = free_.back();
  free_.pop_back();
  return pool_[b];
}

std::span<std::byte> WriteBehind::acquire(std::size_t tensor, std::uint64_t offset_in_tensor, std::size_t n) {
  if (direct_ && !failed()) {
    try {
      const std::span<std::byte> room = writer_.reserve(tensor, offset_in_tensor, n);
      if (!room.empty()) return room;
    } catch (Error& e) {
      record_failure(std::move(e), tensor);  // its bytes go to a pool buffer and are dropped
    }
  }
  return acquire();
}

void WriteBehind::submit(std::span<std::byte> buffer, std::size_t n, std::size_t tensor,
                         std::uint64_t offset_in_tensor) {
  const auto b = static_cast<std::size_t>(
      std::find_if(pool_.begin(), pool_.end(), [&](const auto& p) { return p.data() == buffer.data(); }) -
      pool_.begin());  // a few dozen buffers
  if (b == pool_.size()) {
    WELD_CHECK(n == buffer.size());
    return writer_.commit(buffer);
  }
  WELD_CHECK(n <= pool_[b].size());
  push({std::span<const std::byte>(pool_[b].data(), n), tensor, offset_in_tensor, b});
}

void WriteBehind::submit_external(std::span<const std::byte> bytes, std::size_t tensor,
                                  std::uint64_t offset_in_tensor) {
  push({bytes, tensor, offset_in_tensor, kExternal});
}

void WriteBehind::push(Write w) {
  std::unique_lock lock(mutex_);
  queue_.push_back(w);
  if (!writing_ && queue_.size() >= batch_) {
    write_queue(lock);
  } else if (waiting_ > 0) {
    changed_.notify_all();  // a worker out of buffers can write this one
  }
}

void WriteBehind::record_failure(Error e, std::size_t tensor) {
  e.add_context(fmt::format("tensor '{}'", tensor_name_(tensor)));
  const std::lock_guard lock(mutex_);
  if (!failure_) failure_ = std::move(e);
}

bool WriteBehind::failed() {
  const std::lock_guard lock(mutex_);
  return failure_.has_value();
}

void WriteBehind::flush() {
  std::unique_lock lock(mutex_);
  while (writing_ || !queue_.empty()) {
    if (!writing_) {
      write_queue(lock);
    } else {
      ++waiting_;
      changed_.wait(lock);
      --waiting_;
    }
  }
  if (failure_) throw Error(*failure_);
}

void WriteBehind::write_queue(std::unique_lock<std::mutex>& lock) {
  WELD_CHECK(!writing_);
  writing_ = true;
  while (!queue_.empty()) {
    const Write w = queue_.front();
    queue_.pop_front();
    const bool skip = failure_.has_value();
    lock.unlock();
    std::optional<Error> error;
    if (!skip) {
      try {
        writer_.write(w.tensor, w.offset, w.bytes);
      } catch (Error& e) {
        error = std::move(e);
      }
    }
    if (error) record_failure(std::move(*error), w.tensor);
    lock.lock();
    if (w.buffer != kExternal) free_.push_back(w.buffer);
    if (waiting_ > 0) changed_.notify_all();
  }
  writing_ = false;
  if (waiting_ > 0) changed_.notify_all();
}

}  // namespace weld
