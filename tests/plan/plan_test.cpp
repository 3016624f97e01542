#include <gtest/gtest.h>

#include "support/error_message.h"
#include "io/output_dir.h"
#include "plan/executor.h"
#include "plan/plan.h"
#include "support/tiny_model.h"

namespace weld::test {
namespace {

// A 3-layer model whose every value is `offset` plus a per-tensor pattern.
std::vector<TinyTensor> three_layers(float offset, DType dtype = DType::kF32) {
  std::vector<TinyTensor> t = {{"model.embed_tokens.weight", {2, 2}, {1, 2, 3, 4}, dtype}};
  for (int l = 0; l < 3; ++l)
    t.push_back({"model.layers." + std::to_string(l) + ".mlp.weight", {2}, {float(l), float(10 * l)}, dtype});
  t.push_back({"model.norm.weight", {2}, {1, 1}, dtype});
  for (TinyTensor& x : t)
    for (float& v : x.values) v += offset;
  return t;
}

Recipe parse(const std::string& yaml) { return parse_recipe(YamlSource::parse(yaml, "merge.yml")); }

std::string plan_error(const std::string& yaml) {
  const Recipe r = parse(yaml);
  ModelSet models;
  return error_message([&] { plan_merge(r, models, {}); });
}

class PlanTest : public testing::Test {
 protected:
  void SetUp() override {
    write_tiny_model(dir_ / "a", three_layers(0));
    write_tiny_model(dir_ / "b", three_layers(100));
    ASSERT_EQ(::chdir(dir_.path().c_str()), 0);
  }
  TempDir dir_;
};

TEST_F(PlanTest, ModelsFormKeepsNamesAndOrdersPreLayersPost) {
  const Recipe r = parse("merge_method: linear\nmodels:\n  - {model: a, parameters: {weight: [0, 1]}}\n"
                         "  - {model: b, parameters: {weight: 1}}\n");
  ModelSet models;
  const MergePlan plan = plan_merge(r, models, {});
  std::vector<std::string> names;
  for (const TensorPlan& t : plan.tensors) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"model.embed_tokens.weight", "model.layers.0.mlp.weight",
                                             "model.layers.1.mlp.weight", "model.layers.2.mlp.weight",
                                             "model.norm.weight"}));
  EXPECT_EQ(plan.n_output_layers, 3u);
  EXPECT_DOUBLE_EQ(plan.tensors[2].position, 0.5);  // layer 1 of 3
  EXPECT_DOUBLE_EQ(plan.tensors[2].call.model(0, 0), 0.5);  // gradient [0, 1] at 0.5
  EXPECT_DOUBLE_EQ(plan.tensors[4].position, 0.0);  // post-layer weights at t = 0
}

TEST_F(PlanTest, SlicesRenumberLayersAndTakeEndsFromFirstAndLastSlice) {
  const Recipe r = parse("merge_method: passthrough\nslices:\n"
                         "  - sources: [{model: a, layer_range: [0, 2]}]\n"
                         "  - sources: [{model: b, layer_range: [1, 3]}]\n");
  ModelSet models;
  const MergePlan plan = plan_merge(r, models, {});
  ASSERT_EQ(plan.tensors.size(), 6u);
  EXPECT_EQ(plan.n_output_layers, 4u);
  EXPECT_EQ(plan.tensors[0].inputs[0].model, "a");  // embeddings from the first slice
  EXPECT_EQ(plan.tensors[3].name, "model.layers.2.mlp.weight");
  EXPECT_EQ(plan.tensors[3].inputs[0].tensor.info->name, "model.layers.1.mlp.weight");
  EXPECT_EQ(plan.tensors[3].inputs[0].model, "b");
  EXPECT_EQ(plan.tensors[5].inputs[0].model, "b");  // final norm from the last slice
  EXPECT_TRUE(plan.tensors[5].copy_input);
}

TEST_F(PlanTest, Errors) {
  write_tiny_model(dir_ / "short", {{"model.embed_tokens.weight", {2, 2}, {1, 2, 3, 4}}});
  write_tiny_model(dir_ / "wide", {{"model.embed_tokens.weight", {4}, {1, 2, 3, 4}}});
  EXPECT_EQ(plan_error("merge_method: linear\nparameters: {weight: 1}\nmodels: [{model: a}, {model: short}]\n"),
            "tensor 'model.layers.0.mlp.weight': tensor 'model.layers.0.mlp.weight' is missing from model 'short'");
  EXPECT_EQ(plan_error("merge_method: linear\nparameters: {weight: 1}\nmodels: [{model: short}, {model: wide}]\n"),
            "tensor 'model.embed_tokens.weight': shape [4] in model 'wide' but [2, 2] in model 'short'");
  EXPECT_EQ(plan_error("merge_method: task_arithmetic\nmodels: [{model: a, parameters: {weight: 1}}]\n"),
            "task_arithmetic needs a base_model");
  EXPECT_EQ(plan_error("merge_method: linear\nmodels: [{model: a}]\n"),
            "tensor 'model.embed_tokens.weight': linear needs parameter 'weight' for model 'a' "
            "(tensor 'model.embed_tokens.weight')");
  EXPECT_EQ(plan_error("merge_method: passthrough\nslices:\n  - sources: [{model: a, layer_range: [0, 4]}]\n"),
            "merge.yml:3: layer_range [0, 4] exceeds the 3 layers of model 'a'");
  EXPECT_EQ(plan_error("merge_method: linear\nmodels: [{model: nowhere, parameters: {weight: 1}}]\n"),
            "merge.yml:2: model 'nowhere': no such directory");
  EXPECT_EQ(plan_error("merge_method: task_arithmetic\nslices:\n  - base_model: c\n"
                       "    sources: [{model: a, layer_range: [0, 1], parameters: {weight: 1}}]\n"),
            "merge.yml:3: base_model 'c' is not among the sources of slice 1");
}

TEST_F(PlanTest, OutputIsIdenticalForAnyThreadCount) {
  const Recipe r = parse("merge_method: task_arithmetic\nbase_model: a\nmodels:\n"
                         "  - {model: b, parameters: {weight: 0.3}}\n");
  ModelSet models;
  const MergePlan plan = plan_merge(r, models, {.max_shard_bytes = 20});
  std::string first;
  for (unsigned threads : {1u, 2u, 3u}) {
    OutputDir out(dir_ / ("out" + std::to_string(threads)), false);
    write_tensors(plan, out, {.threads = threads});
    out.commit();
    std::string all;
    for (const std::string& shard : plan.shards.file_names)
      all += read_file(dir_ / ("out" + std::to_string(threads) + "/" + shard));
    if (first.empty()) first = all;
    EXPECT_EQ(all, first) << threads << " threads";
  }
  EXPECT_GT(plan.shards.file_names.size(), 1u);
}

}  // namespace
}  // namespace weld::test
