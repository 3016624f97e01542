// End-to-end: Fisher-weighted merging, from hand-made Fisher files and from `weld fisher`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/tiny_model.h"

namespace weld::test {
namespace {

using testing::HasSubstr;

class FisherMergeCli : public testing::Test {
 protected:
  RunResult merge(const std::string& yaml, const std::string& options = "") {
    write_file(dir_ / "merge.yml", yaml);
    return run_weld("merge -q " + (dir_ / "merge.yml") + " " + (dir_ / "out") + " " + options);
  }
  std::string two_models(const std::string& fisher1, const std::string& fisher2) {
    return "merge_method: fisher\nmodels:\n  - model: " + (dir_ / "x1") + "\n    parameters: {fisher: " +
           fisher1 + "}\n  - model: " + (dir_ / "x2") + "\n    parameters: {fisher: " + fisher2 + ", weight: 1}\n";
  }
  TempDir dir_;
};

TEST_F(FisherMergeCli, WeighsByTheFisherFilesByHand) {
  write_tiny_model(dir_ / "x1", {{"w", {3}, {1, 2, 4}}});
  write_tiny_model(dir_ / "x2", {{"w", {3}, {3, 4, 6}}});
  write_tiny_model(dir_ / "f1", {{"w", {3}, {1, 4, 0}}});
  write_tiny_model(dir_ / "f2", {{"w", {3}, {3, 0, 0}}});
  const std::string yaml = two_models(dir_ / "f1/model.safetensors", dir_ / "f2/model.safetensors");
  RunResult r = merge(yaml, "--dry-run");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr((dir_ / "f2/model.safetensors") + ": w F32"));
  r = merge(yaml);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(read_model_f32(dir_ / "out").at("w"), testing::ElementsAre(2.5f, 2.0f, 5.0f));
}

TEST_F(FisherMergeCli, MissingFileParameterOrTensorIsAnError) {
  write_tiny_model(dir_ / "x1", {{"w", {2}, {1, 2}}});
  write_tiny_model(dir_ / "x2", {{"w", {2}, {3, 4}}});
  write_tiny_model(dir_ / "f1", {{"other", {2}, {1, 1}}});
  RunResult r = merge("merge_method: fisher\nmodels:\n  - model: " + (dir_ / "x1") + "\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("fisher needs parameter 'fisher' (a file) for model '" + (dir_ / "x1") + "'"));
  r = merge(two_models(dir_ / "f1/model.safetensors", dir_ / "f1/model.safetensors"));
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("tensor 'w': tensor 'w' is missing from fisher file '" + (dir_ / "f1/model.safetensors") + "'"));
  r = merge("merge_method: fisher\nparameters: {fisher: f.safetensors}\nmodels:\n  - model: " + (dir_ / "x1") + "\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("'fisher' of fisher is a file path, given per model"));
  r = merge("merge_method: linear\nmodels:\n  - model: " + (dir_ / "x1") + "\n    parameters: {weight: abc}\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("expected a number, got 'abc'"));
}

TEST_F(FisherMergeCli, MergesWithFilesFromWeldFisher) {
  ASSERT_EQ(run_weld("synth -q " + (dir_ / "m") + " --vocab bytes --layers 1 --hidden 32 --intermediate 64 "
                     "--fine-tunes 2 --dtype float32").status, 0);
  std::string text;
  for (int i = 0; i < 10; ++i) text += "merging models in weight space. ";
  write_file(dir_ / "text.txt", text);
  for (const char* m : {"ft-1", "ft-2"}) {
    const RunResult r = run_weld("fisher -q " + (dir_ / "m/") + m + " --text " + (dir_ / "text.txt") +
                                 " --context 64 --samples 2 --out " + (dir_ / m) + ".safetensors");
    ASSERT_EQ(r.status, 0) << r.err;
  }
  const RunResult r = merge("merge_method: fisher\nmodels:\n  - model: " + (dir_ / "m/ft-1") +
                            "\n    parameters: {fisher: " + (dir_ / "ft-1.safetensors") + "}\n  - model: " +
                            (dir_ / "m/ft-2") + "\n    parameters: {fisher: " + (dir_ / "ft-2.safetensors") + "}\n");
  ASSERT_EQ(r.status, 0) << r.err;
  // Every merged value lies between the two models' values (a convex combination).
  const auto a = read_model_f32(dir_ / "m/ft-1"), b = read_model_f32(dir_ / "m/ft-2");
  const auto out = read_model_f32(dir_ / "out");
  ASSERT_EQ(out.size(), a.size());
  for (const auto& [name, values] : out)
    for (std::size_t j = 0; j < values.size(); ++j) {
      const float lo = std::min(a.at(name)[j], b.at(name)[j]), hi = std::max(a.at(name)[j], b.at(name)[j]);
      ASSERT_GE(values[j], lo - 1e-6f * std::abs(lo)) << name << " " << j;
      ASSERT_LE(values[j], hi + 1e-6f * std::abs(hi)) << name << " " << j;
    }
  EXPECT_EQ(run_weld("eval -q " + (dir_ / "out") + " --text " + (dir_ / "text.txt") + " --context 64").status, 0);
}

}  // namespace
}  // namespace weld::test
