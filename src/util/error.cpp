#include "util/error.h"

namespace weld {

Error::Error(std::string message) : message_(std::move(message)) { rebuild(); }

Error& Error::add_context(std::string frame) {
  context_.push_back(std::move(frame));
  rebuild();
  return *this;
}

Error& Error::set_detail(std::string detail) {
  detail_ = std::move(detail);
  return *this;
}

void Error::rebuild() {
  full_.clear();
  for (auto it = context_.rbegin(); it != context_.rend(); ++it) {
    full_ += *it;
    full_ += ": ";
  }
  full_ += message_;
}

}  // namespace weld
