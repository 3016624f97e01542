#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "methods/method_test_util.h"
#include "util/error.h"

namespace weld::test {
namespace {

const MethodDescriptor& passthrough() { return find_method("passthrough"); }

TEST(Passthrough, ScaleMultiplies) {
  const MethodCall call = make_call(passthrough(), 1, std::nullopt, {{"scale", {0.5}}});
  EXPECT_THAT(run_tile(passthrough(), call, {{2, -4, 0}}), testing::ElementsAre(1.0f, -2.0f, 0.0f));
  EXPECT_FALSE(passthrough().identity_input(call));
}

TEST(Passthrough, UnscaledIsACopyOfItsInput) {
  const MethodCall call = make_call(passthrough(), 1, std::nullopt, {});
  EXPECT_EQ(passthrough().identity_input(call), 0u);
}

TEST(Passthrough, TwoInputsAreAnError) {
  const MethodCall call = make_call(passthrough(), 2, std::nullopt, {});
  try {
    passthrough().validate(call);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "passthrough takes exactly one model per tensor, got 2");
  }
}

}  // namespace
}  // namespace weld::test
