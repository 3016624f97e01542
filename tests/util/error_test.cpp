#include <gtest/gtest.h>

#include "util/edit_distance.h"
#include "util/error.h"

namespace weld {
namespace {

TEST(Error, ContextIsPrintedOutermostFirst) {
  try {
    with_context("model 'a'", [] { with_context("tensor 'x'", [] { fail("bad {}", 1); }); });
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "model 'a': tensor 'x': bad 1");
    EXPECT_EQ(e.message(), "bad 1");
  }
}

TEST(EditDistance, CountsEdits) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("ties", "tie"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  const std::string_view names[] = {"linear", "ties", "slerp"};
  EXPECT_EQ(did_you_mean("tie", names), " (did you mean 'ties'?)");
  EXPECT_EQ(did_you_mean("abcdef", names), "");
}

}  // namespace
}  // namespace weld
