// Progress of weld eval / weld fisher on stderr: "label: 1200/4095 tokens  310 tok/s",
// redrawn in place on a terminal, a line every 2 seconds otherwise, and a last line with
// the totals. Silent with -q.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace weld {

class TokenProgress {
 public:
  explicit TokenProgress(std::string label, std::string unit = "tokens");
  void update(std::size_t done, std::size_t total);
  void finish();

 private:
  void draw(bool final);
  std::string label_, unit_;
  std::size_t done_ = 0, total_ = 0;
  std::size_t drawn_done_ = 0;  // done_ when last drawn
  std::chrono::steady_clock::time_point start_, last_;
  bool terminal_;
};

}  // namespace weld
