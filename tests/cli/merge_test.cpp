// End-to-end: the real weld binary on models written by `weld synth` or by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/tiny_model.h"

namespace weld::test {
namespace {

namespace fs = std::filesystem;

class MergeCli : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    family_ = new TempDir();
    const RunResult r = run_weld("synth -q " + (*family_ / "m") + " --layers 3 --fine-tunes 2 --seed 7");
    ASSERT_EQ(r.status, 0) << r.err;
  }
  static void TearDownTestSuite() { delete family_; }

  std::string model(const std::string& name) const { return *family_ / ("m/" + name); }
  std::string config(const std::string& yaml) {
    const std::string path = dir_ / "merge.yml";
    write_file(path, yaml);
    return path;
  }
  RunResult merge(const std::string& yaml, const std::string& options = "") {
    return run_weld("merge -q " + config(yaml) + " " + (dir_ / "out") + " " + options);
  }

  static TempDir* family_;
  TempDir dir_;
};
TempDir* MergeCli::family_ = nullptr;

TEST_F(MergeCli, OneModelLinearIsTheIdentity) {
  const RunResult r = merge("merge_method: linear\nmodels:\n  - model: " + model("ft-1") +
                            "\n    parameters: {weight: 0.3}\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_model_f32(dir_ / "out"), read_model_f32(model("ft-1")));
}

TEST_F(MergeCli, TaskArithmeticAddsTheTaskVectors) {
  const RunResult r = merge("merge_method: task_arithmetic\nbase_model: " + model("base") +
                            "\nmodels:\n  - model: " + model("ft-1") + "\n    parameters: {weight: 1.0}\n"
                            "  - model: " + model("ft-2") + "\n    parameters: {weight: 1.0}\n"
                            "dtype: float32\n");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto out = read_model_f32(dir_ / "out");
  const auto b = read_model_f32(model("base")), x1 = read_model_f32(model("ft-1")),
             x2 = read_model_f32(model("ft-2"));
  ASSERT_EQ(out.size(), b.size());
  for (const auto& [name, values] : out)
    for (std::size_t i = 0; i < values.size(); ++i)
      ASSERT_NEAR(values[i], x1.at(name)[i] + x2.at(name)[i] - b.at(name)[i], 1e-6) << name << "[" << i << "]";
  EXPECT_THAT(read_file(dir_ / "out/config.json"), testing::HasSubstr("\"torch_dtype\": \"float32\""));
}

TEST_F(MergeCli, SlicesStackLayersAndUpdateTheConfig) {
  const RunResult r = merge("merge_method: passthrough\nslices:\n"
                            "  - sources: [{model: " + model("base") + ", layer_range: [0, 2]}]\n"
                            "  - sources: [{model: " + model("ft-1") + ", layer_range: [1, 3]}]\n");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto out = read_model_f32(dir_ / "out");
  const auto b = read_model_f32(model("base")), x1 = read_model_f32(model("ft-1"));
  EXPECT_EQ(out.at("model.layers.1.mlp.up_proj.weight"), b.at("model.layers.1.mlp.up_proj.weight"));
  EXPECT_EQ(out.at("model.layers.2.mlp.up_proj.weight"), x1.at("model.layers.1.mlp.up_proj.weight"));
  EXPECT_EQ(out.at("model.layers.3.mlp.up_proj.weight"), x1.at("model.layers.2.mlp.up_proj.weight"));
  EXPECT_EQ(out.at("model.embed_tokens.weight"), b.at("model.embed_tokens.weight"));
  EXPECT_EQ(out.at("lm_head.weight"), x1.at("lm_head.weight"));
  const auto cfg = nlohmann::json::parse(read_file(dir_ / "out/config.json"));
  EXPECT_EQ(cfg["num_hidden_layers"], 4);
}

TEST_F(MergeCli, ShardedInputsAndOutputs) {
  ASSERT_EQ(run_weld("synth -q " + (dir_ / "sharded") + " --layers 2 --fine-tunes 1 --shard-size 40K").status, 0);
  ASSERT_TRUE(fs::exists(dir_ / "sharded/base/model.safetensors.index.json"));
  const RunResult r = merge("merge_method: linear\nmodels:\n  - model: " + (dir_ / "sharded/base") +
                                "\n    parameters: {weight: 1}\n  - model: " + (dir_ / "sharded/ft-1") +
                                "\n    parameters: {weight: 1}\n",
                            "--out-shard-size 30K");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto index = nlohmann::json::parse(read_file(dir_ / "out/model.safetensors.index.json"));
  std::uint64_t total = 0;
  for (const auto& entry : fs::directory_iterator(dir_ / "out"))
    if (entry.path().extension() == ".safetensors") total += 1;
  EXPECT_GT(total, 2u);
  EXPECT_EQ(index["weight_map"]["lm_head.weight"].get<std::string>().substr(0, 6), "model-");
  EXPECT_EQ(read_model_f32(dir_ / "out").size(), read_model_f32(dir_ / "sharded/base").size());
}

TEST_F(MergeCli, Bf16InFloat32OutIsExact) {
  const RunResult r = merge("merge_method: passthrough\nmodels: [{model: " + model("ft-2") +
                            "}]\nout_dtype: float32\n");
  ASSERT_EQ(r.status, 0) << r.err;
  const RunResult inspect = run_weld("inspect --json " + (dir_ / "out"));
  const auto info = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(info["dtypes"].size(), 1u);
  EXPECT_TRUE(info["dtypes"].contains("F32"));
  EXPECT_EQ(read_model_f32(dir_ / "out"), read_model_f32(model("ft-2")));
}

TEST_F(MergeCli, WritesTheFilesBesideTheTensors) {
  const std::string yaml = "merge_method: linear\nmodels: [{model: " + model("ft-1") + ", parameters: {weight: 1}}]\n";
  ASSERT_EQ(merge(yaml).status, 0);
  EXPECT_EQ(read_file(dir_ / "out/mergekit_config.yml"), yaml);
  EXPECT_EQ(read_file(dir_ / "out/generation_config.json"), read_file(model("ft-1") + "/generation_config.json"));
  EXPECT_TRUE(fs::exists(dir_ / "out/tokenizer_config.json"));
  EXPECT_THAT(read_file(dir_ / "out/README.md"), testing::HasSubstr("made with weld"));
  EXPECT_THAT(read_file(dir_ / "out/README.md"), testing::HasSubstr(yaml));
}

TEST_F(MergeCli, DryRunPrintsThePlanAndWritesNothing) {
  const RunResult r = merge("merge_method: linear\nmodels:\n  - model: " + model("ft-1") +
                                "\n    parameters: {weight: [0.5, 1]}\n",
                            "--dry-run --threads 2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, testing::HasSubstr("method: linear"));
  EXPECT_THAT(r.out, testing::HasSubstr("model.layers.1.mlp.up_proj.weight  BF16 [176, 64]"));
  EXPECT_THAT(r.out, testing::HasSubstr("linear at t=0.5  normalize=1"));
  EXPECT_THAT(r.out, testing::HasSubstr("weight=0.75"));
  EXPECT_THAT(r.out, testing::HasSubstr("working memory:"));
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

TEST_F(MergeCli, SameBytesOnOneAndTwoThreads) {
  // 4096 x 512 embeddings span several chunks, so two workers split one tensor.
  ASSERT_EQ(run_weld("synth -q " + (dir_ / "wide") + " --layers 1 --vocab 4096 --hidden 512 "
                     "--intermediate 64 --heads 8 --kv-heads 8 --fine-tunes 1").status, 0);
  const std::string yaml = "merge_method: task_arithmetic\nbase_model: " + (dir_ / "wide/base") +
                           "\nmodels: [{model: " + (dir_ / "wide/ft-1") + ", parameters: {weight: 0.7}}]\n";
  ASSERT_EQ(run_weld("merge -q " + config(yaml) + " " + (dir_ / "t1") + " --threads 1").status, 0);
  ASSERT_EQ(run_weld("merge -q " + config(yaml) + " " + (dir_ / "t2") + " --threads 2").status, 0);
  EXPECT_EQ(read_file(dir_ / "t1/model.safetensors"), read_file(dir_ / "t2/model.safetensors"));
}

TEST_F(MergeCli, SameBytesWhetherInputsAreCopiedOrMapped) {
  // f32 inputs with a bf16 output take the tile path; bf16 throughout takes the fused one.
  for (const char* dtype : {"float32", "bfloat16"}) {
    const std::string models = dir_ / (std::string("reads-") + dtype);
    ASSERT_EQ(run_weld("synth -q " + models + " --layers 1 --vocab 4096 --hidden 128 --intermediate 64 "
                       "--fine-tunes 2 --dtype " + dtype).status, 0);
    for (const char* method : {"linear", "task_arithmetic", "dare_linear"}) {
      const std::string density = std::string(method) == "dare_linear" ? ", density: 0.5" : "";
      const std::string yaml = std::string("merge_method: ") + method + "\nbase_model: " + models + "/base\n" +
                               "parameters: {weight: 0.6" + density + "}\nout_dtype: bfloat16\nmodels:\n" +
                               "  - model: " + models + "/ft-1\n  - model: " + models + "/ft-2\n";
      for (const char* reads : {"pread", "mmap", "auto"}) {
        const RunResult r = run_weld("merge -q --force " + config(yaml) + " " + (dir_ / reads) + " --read " + reads);
        ASSERT_EQ(r.status, 0) << method << " " << reads << ": " << r.err;
      }
      EXPECT_EQ(read_file(dir_ / "pread/model.safetensors"), read_file(dir_ / "mmap/model.safetensors"))
          << method << " on " << dtype;
      EXPECT_EQ(read_file(dir_ / "pread/model.safetensors"), read_file(dir_ / "auto/model.safetensors"))
          << method << " on " << dtype;
    }
  }
}

// Written around the page cache, in runs and blocks of their own, shards and the index are
// the bytes a cached write makes, on one thread and two, streamed or whole.
TEST_F(MergeCli, SameBytesWhetherTheOutputIsCachedOrDirect) {
  const std::string models = dir_ / "writes";
  ASSERT_EQ(run_weld("synth -q " + models + " --layers 2 --vocab 4096 --hidden 256 --intermediate 96 "
                     "--fine-tunes 2").status, 0);
  const std::string yaml = "merge_method: ties\nbase_model: " + models + "/base\n" +
                           "parameters: {weight: 0.6, density: 0.5}\nmodels:\n  - model: " + models +
                           "/ft-1\n  - model: " + models + "/ft-2\n";
  const std::string shards = " --out-shard-size 1M";
  ASSERT_EQ(run_weld("merge -q " + config(yaml) + " " + (dir_ / "cached") + shards).status, 0);
  for (const char* how : {"--threads 1", "--threads 2", "--whole-tensors"}) {
    const RunResult r = run_weld("merge -q --force --write direct " + std::string(how) + shards + " " +
                                 config(yaml) + " " + (dir_ / "direct"));
    ASSERT_EQ(r.status, 0) << how << ": " << r.err;
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(dir_ / "cached")) {
      const std::string name = entry.path().filename().string();
      if (name.find("safetensors") == std::string::npos) continue;
      ++files;
      EXPECT_EQ(read_file(entry.path().string()), read_file(dir_ / ("direct/" + name))) << name << " " << how;
    }
    EXPECT_GT(files, 2u);  // shards and their index
  }
}

// By default the merge times both ways of reading on its largest input tensor (the
// embeddings here, 4 Mi f32 values), and says which it took.
TEST_F(MergeCli, ByDefaultTheWayOfReadingIsProbedOnTheLargestInput) {
  const std::string models = dir_ / "probed";
  ASSERT_EQ(run_weld("synth -q " + models + " --layers 1 --vocab 8192 --hidden 512 --intermediate 64 "
                     "--fine-tunes 1 --dtype float32").status, 0);
  const std::string yaml = "merge_method: linear\nparameters: {weight: 0.5}\nmodels:\n  - model: " + models +
                           "/base\n  - model: " + models + "/ft-1\n";
  const RunResult r = run_weld("merge -v " + config(yaml) + " " + (dir_ / "probed-out"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.err, testing::MatchesRegex("(.|\n)*reading inputs with (mmap|pread): [0-9.]+ ms through the map, "
                                           "[0-9.]+ ms copied, for 4 MiB(.|\n)*"));
  // Told how, it does not probe.
  const RunResult told = run_weld("merge -v --force --read pread " + config(yaml) + " " + (dir_ / "probed-out"));
  ASSERT_EQ(told.status, 0) << told.err;
  EXPECT_THAT(told.err, testing::Not(testing::HasSubstr("reading inputs with")));
}

TEST_F(MergeCli, UnknownReadModeIsAUsageError) {
  const std::string yaml = "merge_method: passthrough\nmodels: [{model: " + model("base") + "}]\n";
  const RunResult r = merge(yaml, "--read stdio");
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.err, testing::HasSubstr("--read"));
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

TEST_F(MergeCli, ExistingOutputNeedsForce) {
  fs::create_directories(dir_ / "out");
  write_file(dir_ / "out/keep", "x");
  const std::string yaml = "merge_method: passthrough\nmodels: [{model: " + model("base") + "}]\n";
  RunResult r = merge(yaml);
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, testing::HasSubstr("already exists and is not an empty directory (use --force"));
  EXPECT_TRUE(fs::exists(dir_ / "out/keep"));
  r = merge(yaml, "--force");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "out/keep"));
  EXPECT_TRUE(fs::exists(dir_ / "out/model.safetensors"));
}

TEST_F(MergeCli, TiedEmbeddingsServeAsLmHead) {
  write_tiny_model(dir_ / "untied", {{"model.embed_tokens.weight", {2}, {1, 2}}, {"lm_head.weight", {2}, {3, 4}}});
  write_tiny_model(dir_ / "tied", {{"model.embed_tokens.weight", {2}, {5, 6}}},
                   {{"tie_word_embeddings", true}, {"model_type", "llama"}});
  const RunResult r = merge("merge_method: linear\nparameters: {weight: 1}\nmodels:\n  - model: " +
                            (dir_ / "untied") + "\n  - model: " + (dir_ / "tied") + "\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(read_model_f32(dir_ / "out").at("lm_head.weight"), testing::ElementsAre(4.0f, 5.0f));
}

TEST_F(MergeCli, NonFloatTensorsPassThroughButCannotBeAveraged) {
  // A U8 tensor, written by hand: 2 bytes of data.
  const std::string header = R"({"ids":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";
  std::string file(8, '\0');
  file[0] = static_cast<char>(header.size());
  file += header + "\x07\x09";
  fs::create_directories(dir_ / "ints");
  write_file(dir_ / "ints/model.safetensors", file);
  write_file(dir_ / "ints/config.json", "{}");
  RunResult r = merge("merge_method: passthrough\nmodels: [{model: " + (dir_ / "ints") + "}]\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(read_file(dir_ / "out/model.safetensors"), testing::EndsWith("\x07\x09"));
  r = merge("merge_method: linear\nmodels: [{model: " + (dir_ / "ints") + ", parameters: {weight: 1}}]\n",
            "--force");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, testing::HasSubstr("tensor 'ids': dtype U8 holds no weights to merge: linear works "
                                        "on F32, F16 and BF16"));
}

// Every failure exits 1 with a message naming what is wrong, and leaves no output behind.
TEST_F(MergeCli, BadInputLeavesNoOutput) {
  fs::create_directories(dir_ / "broken");
  write_file(dir_ / "broken/config.json", "{}");
  write_file(dir_ / "broken/model.safetensors", std::string("\x10\0\0\0\0\0\0\0{}", 10));
  write_file(dir_ / "afile", "");
  const std::string base = model("base");
  const struct {
    std::string yaml, options, message;
  } cases[] = {
      {"merge_method: linear\nmodels: [{model: /no/such/model, parameters: {weight: 1}}]\n", "",
       "merge.yml:2: model '/no/such/model': no such directory"},
      {"merge_method: linear\nmodels: [{model: " + dir_ / "broken" + ", parameters: {weight: 1}}]\n", "",
       "model.safetensors: header length 16 exceeds the file size 10 minus 8"},
      {"merge_method: linaer\nmodels: [{model: " + base + "}]\n", "",
       "merge.yml:1: unknown merge method 'linaer' (did you mean 'linear'?)"},
      {"merge_method: linear\nmodels: [{model: " + base + "}]\n", "",
       "linear needs parameter 'weight' for model"},
      {"merge_method: linear\nmodels: [{model: " + base + ", parameters: {weight: 1}}]\n",
       "--out-shard-size 12Q", "invalid size '12Q'"},
  };
  for (const auto& c : cases) {
    const RunResult r = merge(c.yaml, c.options);
    EXPECT_NE(r.status, 0) << c.yaml;
    EXPECT_THAT(r.err, testing::HasSubstr(c.message)) << c.yaml;
    EXPECT_FALSE(fs::exists(dir_ / "out")) << c.yaml;
  }
  const RunResult r = run_weld("merge -q " + config("merge_method: passthrough\nmodels: [{model: " + base + "}]\n") +
                               " " + (dir_ / "afile/out"));
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, testing::HasSubstr("cannot create output directory"));
  for (const auto& entry : fs::directory_iterator(dir_.path()))
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
}

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run_weld("merge").status, 2);
  EXPECT_EQ(run_weld("frobnicate").status, 2);
  EXPECT_EQ(run_weld("--version").status, 0);
}

TEST(Cli, MethodsListsTheTable) {
  const RunResult r = run_weld("methods");
  ASSERT_EQ(r.status, 0);
  EXPECT_THAT(r.out, testing::HasSubstr("task_arithmetic    required  1 or more"));
  EXPECT_THAT(r.out, testing::HasSubstr("parameters: weight*, density=1, normalize=0, lambda=1"));
  const RunResult one = run_weld("methods linear");
  EXPECT_THAT(one.out, testing::HasSubstr("weight                 per-model required"));
  EXPECT_EQ(run_weld("methods lineer").status, 1);
}

}  // namespace
}  // namespace weld::test
