// End-to-end: slerp, nuslerp, multislerp and karcher through the real binary, on tiny models
// written by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "support/tiny_model.h"

namespace weld::test {
namespace {

using testing::ElementsAre;
using testing::FloatEq;
using testing::FloatNear;
using testing::HasSubstr;

const float kRootHalf = static_cast<float>(std::sqrt(0.5));

struct Source {
  std::string name;
  std::string parameters = "{}";
};

class SphereMethodsCli : public testing::Test {
 protected:
  // Writes model `name` with the one tensor "w".
  void model(const std::string& name, std::vector<std::uint64_t> shape, std::vector<float> values) {
    write_tiny_model(dir_ / name, {{"w", std::move(shape), std::move(values)}});
  }
  // `method` on `sources`, with base_model `base` unless it is empty.
  RunResult merge(const std::string& method, const std::string& base,
                  const std::vector<Source>& sources, const std::string& parameters = "{}") {
    std::string yaml = "merge_method: " + method + "\nparameters: " + parameters + "\n";
    if (!base.empty()) yaml += "base_model: " + (dir_ / base) + "\n";
    yaml += "models:\n";
    for (const Source& s : sources)
      yaml += "  - model: " + (dir_ / s.name) + "\n    parameters: " + s.parameters + "\n";
    write_file(dir_ / "merge.yml", yaml);
    return run_weld("merge -q --force " + (dir_ / "merge.yml") + " " + (dir_ / "out"));
  }
  std::vector<float> merged() { return read_model_f32(dir_ / "out").at("w"); }

  TempDir dir_;
};

TEST_F(SphereMethodsCli, SlerpFromTheBaseTowardsTheOtherModel) {
  // Orthogonal [2, 0] and [0, 4]: halfway is sin(pi/4) [2, 4].
  model("b", {2}, {2, 0});
  model("x", {2}, {0, 4});
  const RunResult r = merge("slerp", "b", {{"x"}}, "{t: 0.5}");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(merged(), ElementsAre(FloatEq(2 * kRootHalf), FloatEq(4 * kRootHalf)));
}

TEST_F(SphereMethodsCli, NuslerpRowByRowOnTheDeltas) {
  // Deltas from b = 1: [[1, 0], [1, 0]] and [[0, 1], [1, 0]]. Row 0 is a quarter circle
  // (halfway: sin(pi/4) [1, 1]), row 1 colinear (lerp: [1, 0]).
  model("b", {2, 2}, {1, 1, 1, 1});
  model("x0", {2, 2}, {2, 1, 2, 1});
  model("x1", {2, 2}, {1, 2, 2, 1});
  const RunResult r = merge("nuslerp", "b", {{"x0", "{weight: 1}"}, {"x1", "{weight: 1}"}},
                            "{nuslerp_flatten: false}");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(merged(), ElementsAre(FloatEq(1 + kRootHalf), FloatEq(1 + kRootHalf), 2.0f, 1.0f));
}

TEST_F(SphereMethodsCli, NuslerpBaseMustNotBeOneOfTheTwo) {
  model("x0", {2}, {1, 0});
  model("x1", {2}, {0, 1});
  const RunResult r = merge("nuslerp", "x0", {{"x0", "{weight: 1}"}, {"x1", "{weight: 1}"}});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("tensor 'w': the base model cannot be one of the two models "
                               "nuslerp interpolates"));
}

TEST_F(SphereMethodsCli, MultislerpWeightedMeanDirection) {
  // Directions [1, 0] and [0, 1] with weights 1/4 and 3/4: [1, 3] / sqrt 10, scaled by the
  // weighted mean norm 2/4 + 4 (3/4) = 3.5.
  model("x1", {2}, {2, 0});
  model("x2", {2}, {0, 4});
  const RunResult r = merge("multislerp", "", {{"x1", "{weight: 1}"}, {"x2", "{weight: 3}"}});
  ASSERT_EQ(r.status, 0) << r.err;
  const float s = static_cast<float>(3.5 / std::sqrt(10.0));
  EXPECT_THAT(merged(), ElementsAre(FloatEq(s), FloatEq(3 * s)));
}

TEST_F(SphereMethodsCli, MultislerpAntipodalModelsNameTheTensor) {
  model("x1", {2}, {1, 2});
  model("x2", {2}, {-1, -2});
  model("x3", {2}, {0, 0});
  const RunResult r = merge("multislerp", "", {{"x1", "{weight: 1}"}, {"x2", "{weight: 1}"},
                                               {"x3", "{weight: 1}"}});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("tensor 'w': the models' directions cancel out"));
}

TEST_F(SphereMethodsCli, KarcherAveragesTheBaseIn) {
  // Directions at 0 (the base), 0 and 90 degrees: the mean direction is at 30 degrees, the
  // mean norm (2 + 1 + 3) / 3 = 2.
  model("b", {2}, {2, 0});
  model("x1", {2}, {1, 0});
  model("x2", {2}, {0, 3});
  const RunResult r = merge("karcher", "b", {{"x1"}, {"x2"}});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(merged(), ElementsAre(FloatNear(static_cast<float>(std::sqrt(3.0)), 1e-5f),
                                    FloatNear(1.0f, 1e-5f)));
}

}  // namespace
}  // namespace weld::test
