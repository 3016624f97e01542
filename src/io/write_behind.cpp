#include "io/write_behind.h"

#include "util/check.h"

namespace weld {

WriteBehind::WriteBehind(ShardedWriter& writer, std::size_t buffers, std::size_t buffer_bytes,
                         std::function<std::string(std::size_t)> tensor_name)
    : writer_(writer), tensor_name_(std::move(tensor_name)), pool_(buffers, std::vector<std::byte>(buffer_bytes)) {
  WELD_CHECK(buffers >= 1);
  for (std::size_t b = 0; b < buffers; ++b) free_.push_back(b);
  thread_ = std::thread([this] { run(); });
}

WriteBehind::~WriteBehind() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

std::span<std::byte> WriteBehind::acquire() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !free_.empty(); });
  const std::size_t b = free_.back();
  free_.pop_back();
  return pool_[b];
}

void WriteBehind::submit(std::span<std::byte> buffer, std::size_t n, std::size_t tensor,
                         std::uint64_t offset_in_tensor) {
  std::size_t b = 0;
  while (pool_[b].data() != buffer.data()) ++b;  // a handful of buffers
  WELD_CHECK(n <= pool_[b].size());
  push({std::span<const std::byte>(pool_[b].data(), n), tensor, offset_in_tensor, b});
}

void WriteBehind::submit_external(std::span<const std::byte> bytes, std::size_t tensor,
                                  std::uint64_t offset_in_tensor) {
  push({bytes, tensor, offset_in_tensor, kExternal});
}

void WriteBehind::push(Write w) {
  {
    const std::lock_guard lock(mutex_);
    queue_.push_back(w);
  }
  changed_.notify_all();
}

bool WriteBehind::failed() {
  const std::lock_guard lock(mutex_);
  return failure_.has_value();
}

void WriteBehind::flush() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return queue_.empty() && in_flight_ == 0; });
  if (failure_) throw Error(*failure_);
}

void WriteBehind::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (stopping_) return;
    const Write w = queue_.front();
    queue_.pop_front();
    ++in_flight_;
    const bool skip = failure_.has_value();
    lock.unlock();
    std::optional<Error> error;
    if (!skip) {
      try {
        writer_.write(w.tensor, w.offset, w.bytes);
      } catch (Error& e) {
        e.add_context(fmt::format("tensor '{}'", tensor_name_(w.tensor)));
        error = e;
      }
    }
    lock.lock();
    --in_flight_;
    if (w.buffer != kExternal) free_.push_back(w.buffer);
    if (error && !failure_) failure_ = std::move(error);
    changed_.notify_all();
  }
}

}  // namespace weld
