// End-to-end: the task-arithmetic family through the real binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/tiny_model.h"

namespace weld::test {
namespace {

class TiesFamilyCli : public testing::Test {
 protected:
  RunResult merge(const std::string& yaml, const std::string& out, const std::string& options = "") {
    write_file(dir_ / "merge.yml", yaml);
    return run_weld("merge -q " + (dir_ / "merge.yml") + " " + (dir_ / out) + " " + options);
  }
  TempDir dir_;
};

TEST_F(TiesFamilyCli, TiesTrimsElectsAndAveragesByHand) {
  write_tiny_model(dir_ / "b", {{"w", {4}, {0, 0, 0, 0}}});
  write_tiny_model(dir_ / "x1", {{"w", {4}, {1, -2, 0.5f, 0.125f}}});
  write_tiny_model(dir_ / "x2", {{"w", {4}, {-3, 1, 2, 0.125f}}});
  // density 0.5 keeps 2 of 4: x1 -> [1, -2, 0, 0], x2 -> [-3, 0, 2, 0]; signs by sum:
  // -, -, +, + (zero sum is +, and nothing is left to keep there).
  const RunResult r = merge("merge_method: ties\nbase_model: " + (dir_ / "b") +
                                "\nparameters: {weight: 1, density: 0.5}\nmodels:\n  - model: " + (dir_ / "x1") +
                                "\n  - model: " + (dir_ / "x2") + "\n",
                            "out");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(read_model_f32(dir_ / "out").at("w"), testing::ElementsAre(-3.0f, -2.0f, 2.0f, 0.0f));
}

TEST_F(TiesFamilyCli, RandomMethodsAreDeterministicPerSeedAndThreadCount) {
  ASSERT_EQ(run_weld("synth -q " + (dir_ / "m") + " --layers 1 --vocab 4096 --hidden 256 "
                     "--intermediate 64 --fine-tunes 2").status, 0);
  for (const char* method : {"dare_ties", "della"}) {
    const std::string yaml = std::string("merge_method: ") + method + "\nbase_model: " + (dir_ / "m/base") +
                             "\nparameters: {weight: 0.5, density: 0.4}\nmodels:\n  - model: " +
                             (dir_ / "m/ft-1") + "\n  - model: " + (dir_ / "m/ft-2") + "\n";
    ASSERT_EQ(merge(yaml, "one", "--threads 1 --force").status, 0);
    ASSERT_EQ(merge(yaml, "two", "--threads 2 --force").status, 0);
    ASSERT_EQ(merge(yaml, "other", "--seed 7 --force").status, 0);
    const std::string one = read_file(dir_ / "one/model.safetensors");
    EXPECT_EQ(one, read_file(dir_ / "two/model.safetensors")) << method;
    EXPECT_NE(one, read_file(dir_ / "other/model.safetensors")) << method;
    EXPECT_THAT(read_file(dir_ / "one/README.md"), testing::HasSubstr("Random seed: 42"));
    EXPECT_THAT(read_file(dir_ / "other/README.md"), testing::HasSubstr("Random seed: 7"));
  }
}

TEST_F(TiesFamilyCli, DensityThatKeepsNothingIsAnErrorNamingTheTensor) {
  write_tiny_model(dir_ / "b", {{"w", {4}, {0, 0, 0, 0}}});
  write_tiny_model(dir_ / "x", {{"w", {4}, {1, 2, 3, 4}}});
  const RunResult r = merge("merge_method: ties\nbase_model: " + (dir_ / "b") +
                                "\nmodels:\n  - model: " + (dir_ / "x") + "\n    parameters: {weight: 1, density: 0.2}\n",
                            "out");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, testing::HasSubstr("tensor 'w': density 0.2 keeps no element of 4 (int(density * n) = 0)"));
}

}  // namespace
}  // namespace weld::test
