#include <gtest/gtest.h>

#include <set>

#include "methods/registry.h"
#include "util/error.h"

namespace weld {
namespace {

TEST(Registry, NamesAreUniqueAndDescriptorsComplete) {
  std::set<std::string_view> names;
  for (const MethodDescriptor* m : all_methods()) {
    EXPECT_TRUE(names.insert(m->name).second) << m->name;
    EXPECT_FALSE(m->paper.empty()) << m->name;
    EXPECT_FALSE(m->formula.empty()) << m->name;
    EXPECT_NE(m->merge_tile, nullptr) << m->name << ": merged in tiles";
    EXPECT_LE(m->min_inputs, m->max_inputs) << m->name;
  }
  EXPECT_TRUE(names.contains("linear"));
  EXPECT_TRUE(names.contains("task_arithmetic"));
  EXPECT_TRUE(names.contains("passthrough"));
}

TEST(Registry, UnknownNameSuggestsTheClosest) {
  try {
    find_method("lienar");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown merge method 'lienar' (did you mean 'linear'?)");
  }
}

TEST(Registry, FarNamesGetNoSuggestion) {
  EXPECT_THROW(find_method("zzzzzz"), Error);
  try {
    find_method("zzzzzz");
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown merge method 'zzzzzz'");
  }
}

}  // namespace
}  // namespace weld
