// End-to-end: weld eval and weld fisher on models written by `weld synth --vocab bytes`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "io/safetensors_reader.h"
#include "support/tiny_model.h"

namespace weld::test {
namespace {

using testing::HasSubstr;

class EvalCli : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    family_ = new TempDir();
    const RunResult r = run_weld("synth -q " + (*family_ / "m") +
                                 " --vocab bytes --layers 2 --hidden 32 --intermediate 64 "
                                 "--fine-tunes 1 --dtype float32");
    ASSERT_EQ(r.status, 0) << r.err;
    std::string text;
    for (int i = 0; i < 20; ++i) text += "the quick brown fox jumps over the lazy dog. ";
    write_file(*family_ / "text.txt", text);  // 900 bytes
    std::string ids;
    for (std::uint32_t id : {5u, 300u, 7u, 255u, 1u, 0u, 42u, 9u})
      for (int b = 0; b < 4; ++b) ids += static_cast<char>(id >> (8 * b) & 0xff);
    write_file(*family_ / "ids.bin", ids);
  }
  static void TearDownTestSuite() { delete family_; }
  static std::string path(const std::string& name) { return *family_ / name; }
  static nlohmann::json last_json_line(const std::string& out) {
    const std::size_t begin = out.rfind('\n', out.size() - 2);
    return nlohmann::json::parse(out.substr(begin == std::string::npos ? 0 : begin + 1));
  }

  static TempDir* family_;
  TempDir dir_;
};
TempDir* EvalCli::family_ = nullptr;

TEST_F(EvalCli, TextJsonReportsOneObject) {
  const RunResult r = run_weld("eval -q " + path("m/base") + " --text " + path("text.txt") +
                               " --context 900 --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = last_json_line(r.out);
  EXPECT_EQ(j["tokens"], 899);  // one window of 900 bytes scores 899
  const double nll = j["nll"];
  EXPECT_NEAR(j["perplexity"].get<double>(), std::exp(nll), 1e-9 * std::exp(nll));
  EXPECT_NEAR(j["bits_per_byte"].get<double>(), nll / std::log(2.0), 1e-12);
  // A random synthetic model is close to uniform over the 256 bytes.
  EXPECT_NEAR(j["perplexity"].get<double>(), 256.0, 25.0);
  EXPECT_GT(j["tokens_per_second"].get<double>(), 0.0);
  EXPECT_GT(j["seconds"].get<double>(), 0.0);
}

TEST_F(EvalCli, StrideScoresEveryTokenButTheFirst) {
  const RunResult r = run_weld("eval -q " + path("m/base") + " --text " + path("text.txt") +
                               " --context 128 --stride 64 --batch 3 --json -j 2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(last_json_line(r.out)["tokens"], 899);
}

TEST_F(EvalCli, SeveralModelsMakeATable) {
  const RunResult r = run_weld("eval -q " + path("m/base") + " " + path("m/ft-1") + " --text " +
                               path("text.txt") + " --context 256");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("model"));
  EXPECT_THAT(r.out, HasSubstr("perplexity"));
  EXPECT_THAT(r.out, HasSubstr("bits/byte"));
  EXPECT_THAT(r.out, HasSubstr(path("m/base")));
  EXPECT_THAT(r.out, HasSubstr(path("m/ft-1")));
}

TEST_F(EvalCli, SeveralModelsWithJsonMakeOneArray) {
  const RunResult r = run_weld("eval -q " + path("m/base") + " " + path("m/ft-1") + " --text " +
                               path("text.txt") + " --context 256 --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = last_json_line(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["model"], path("m/base"));
  EXPECT_EQ(j[1]["model"], path("m/ft-1"));
  EXPECT_NE(j[0]["nll"], j[1]["nll"]);
}

TEST_F(EvalCli, TokenFileGivesTheSameResultAsTheSameBytesAsText) {
  const std::string text = read_file(path("text.txt"));
  std::string ids;
  for (unsigned char c : text) ids += std::string{static_cast<char>(c), 0, 0, 0};
  write_file(dir_ / "text.bin", ids);
  const RunResult a = run_weld("eval -q " + path("m/base") + " --text " + path("text.txt") +
                               " --context 300 --json");
  const RunResult b = run_weld("eval -q " + path("m/base") + " --tokens " + (dir_ / "text.bin") +
                               " --context 300 --json");
  ASSERT_EQ(a.status, 0) << a.err;
  ASSERT_EQ(b.status, 0) << b.err;
  EXPECT_EQ(last_json_line(a.out)["nll"], last_json_line(b.out)["nll"]);
  EXPECT_EQ(last_json_line(b.out)["tokens"], 897);  // 3 windows of 300, 299 each
  EXPECT_FALSE(last_json_line(b.out).contains("bits_per_byte"));
}

TEST_F(EvalCli, SynthVocabMustBeANumberOrBytes) {
  const RunResult r = run_weld("synth -q " + (dir_ / "x") + " --vocab words");
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.err, HasSubstr("--vocab must be a positive number or 'bytes', got 'words'"));
}

TEST_F(EvalCli, ShowsProgressOnStderr) {
  const RunResult r =
      run_weld("eval " + path("m/base") + " --text " + path("text.txt") + " --context 64");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("tokens"));
}

TEST_F(EvalCli, TokenIdsBeyondTheVocabularyAreNamed) {
  const RunResult r = run_weld("eval -q " + path("m/base") + " --tokens " + path("ids.bin"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "weld: error: model '" + path("m/base") + "': " + path("ids.bin") +
                       ": token 1 is id 300, not below the vocabulary size 256\n");
}

TEST_F(EvalCli, MissingFilesAreNamed) {
  RunResult r = run_weld("eval -q " + path("m/base") + " --tokens " + (dir_ / "none.bin"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "weld: error: " + (dir_ / "none.bin") + ": cannot open\n");
  r = run_weld("eval -q " + (dir_ / "nomodel") + " --text " + path("text.txt"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "weld: error: model '" + (dir_ / "nomodel") + "': no such directory\n");
  r = run_weld("eval -q " + path("m/base"));
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.err, HasSubstr("give exactly one of --tokens FILE and --text FILE"));
}

TEST_F(EvalCli, UnknownArchitectureIsNamed) {
  const std::string model = dir_ / "gpt2";
  std::filesystem::create_directories(model);
  std::filesystem::copy(path("m/base"), model, std::filesystem::copy_options::recursive);
  nlohmann::json config = nlohmann::json::parse(read_file(model + "/config.json"));
  config["architectures"] = {"GPT2LMHeadModel"};
  write_file(model + "/config.json", config.dump());
  const RunResult r = run_weld("eval -q " + model + " --text " + path("text.txt"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "weld: error: model '" + model +
                       "': unsupported architecture 'GPT2LMHeadModel' (weld eval knows "
                       "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)\n");
}

TEST_F(EvalCli, FisherWritesTheModelsTensorNames) {
  const std::string out = dir_ / "fisher.safetensors";
  RunResult r = run_weld("fisher -q " + path("m/base") + " --text " + path("text.txt") +
                         " --context 100 --samples 3 --out " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto fisher = SafetensorsFile::open(out);
  const auto model = read_model_f32(path("m/base"));
  ASSERT_EQ(fisher->tensors().size(), model.size());
  for (const auto& [name, values] : model) {
    const TensorInfo* info = fisher->find(name);
    ASSERT_NE(info, nullptr) << name;
    EXPECT_EQ(info->dtype, DType::kF32);
    EXPECT_EQ(info->numel, values.size());
  }
  EXPECT_EQ(fisher->metadata().at("weld_fisher"), "empirical");
  EXPECT_EQ(fisher->metadata().at("weld_fisher_sequences"), "3");
  r = run_weld("fisher -q " + path("m/base") + " --text " + path("text.txt") +
               " --context 100 --samples 3 --sampled --out " + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "weld: error: '" + out + "' exists (use --force to replace it)\n");
  r = run_weld("fisher -q " + path("m/base") + " --text " + path("text.txt") +
               " --context 100 --samples 3 --sampled --force --out " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(SafetensorsFile::open(out)->metadata().at("weld_fisher"), "sampled");
}

}  // namespace
}  // namespace weld::test
