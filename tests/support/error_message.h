// The text of the weld::Error a piece of code throws, for asserting messages word for word.
#pragma once

#include <string>

#include "util/error.h"

namespace weld::test {

// e.what() of the weld::Error that fn() throws, or "no error".
template <typename Fn>
std::string error_message(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace weld::test
