#include <gtest/gtest.h>

#include "support/tiny_model.h"

namespace weld::test {
namespace {

// docs/methods.md is generated from the method table; a method added without regenerating
// it fails here.
TEST(MethodsDoc, IsWhatWeldMethodsMarkdownPrints) {
  const RunResult r = run_weld("methods --markdown");
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(read_file(WELD_SOURCE_DIR "/docs/methods.md"), r.out)
      << "regenerate it: build/weld methods --markdown > docs/methods.md";
}

}  // namespace
}  // namespace weld::test
