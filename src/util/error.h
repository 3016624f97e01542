// weld::Error: the one exception type for bad input (files, configs, options).
//
// Each layer adds only its own context as the error travels up (io adds the file, plan adds
// the output tensor, recipe adds the config position), and main() alone prints it:
//   weld: error: models/a/model.safetensors: tensor 'x': offsets [0, 8) overlap ...
// Programmer errors are WELD_CHECK aborts (util/check.h), never exceptions.
#pragma once

#include <fmt/format.h>

#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weld {

class Error : public std::exception {
 public:
  explicit Error(std::string message);

  // Prepends a context frame ("file.safetensors", "tensor 'x'"); the outermost frame is
  // added last and printed first.
  Error& add_context(std::string frame);

  // Extra lines printed under the message (e.g. a config excerpt with a caret).
  Error& set_detail(std::string detail);

  const std::string& message() const { return message_; }
  const std::string& detail() const { return detail_; }
  // "outer: inner: message", without the detail lines.
  const char* what() const noexcept override { return full_.c_str(); }

 private:
  void rebuild();

  std::string message_;
  std::string detail_;
  std::vector<std::string> context_;  // innermost first
  std::string full_;
};

// Bad command-line usage: main() exits with status 2 instead of 1.
class UsageError : public Error {
 public:
  using Error::Error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// Runs fn(); an Error escaping it gets `frame` as context.
template <typename Fn>
decltype(auto) with_context(std::string_view frame, Fn&& fn) {
  try {
    return std::forward<Fn>(fn)();
  } catch (Error& e) {
    e.add_context(std::string(frame));
    throw;
  }
}

}  // namespace weld
