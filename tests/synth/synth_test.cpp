#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "io/model_dir.h"
#include "support/tiny_model.h"
#include "synth/synth.h"
#include "util/error.h"

namespace weld::test {
namespace {

TEST(Synth, WritesALlamaFamily) {
  TempDir dir;
  SynthOptions o;
  o.layers = 2;
  o.fine_tunes = 3;
  write_synth_family(dir / "f", o);
  for (const char* name : {"base", "ft-1", "ft-2", "ft-3"}) {
    const auto model = ModelDir::open(dir / ("f/" + std::string(name)));
    EXPECT_EQ(model->tensor_names().size(), 2u * 9 + 3) << name;
    EXPECT_EQ(model->config()["num_hidden_layers"], 2);
    EXPECT_EQ(model->find("model.layers.1.self_attn.k_proj.weight")->info->shape,
              (std::vector<std::uint64_t>{32, 64}));  // 2 kv heads of 64/4
  }
}

// Issue 5: `weld synth --vocab bytes` makes models `weld eval --text` reads.
TEST(Synth, ByteVocabularyHas256IdsAndSaysSo) {
  TempDir dir;
  SynthOptions o;
  o.layers = 1;
  o.fine_tunes = 0;
  o.byte_vocab = true;
  write_synth_family(dir / "f", o);
  EXPECT_EQ(ModelDir::open(dir / "f/base")->config()["vocab_size"], 256);
  EXPECT_NE(read_file(dir / "f/base/tokenizer_config.json").find("\"bytes\""), std::string::npos);
  o.vocab = 300;
  try {
    write_synth_family(dir / "g", o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "a byte vocabulary has 256 ids, not 300");
  }
}

// The deltas the merge methods should tell apart: sparse spikes, conflicting signs, growing
// magnitudes.
TEST(Synth, FineTunesDifferFromTheBaseInStructuredWays) {
  TempDir dir;
  SynthOptions o;
  o.layers = 1;
  o.dtype = DType::kF32;
  write_synth_family(dir / "f", o);
  const auto b = read_model_f32(dir / "f/base"), x1 = read_model_f32(dir / "f/ft-1"),
             x2 = read_model_f32(dir / "f/ft-2");
  const std::string name = "model.layers.0.mlp.up_proj.weight";
  double l1_1 = 0, l1_2 = 0;
  std::size_t opposite_spikes = 0, spikes = 0;
  for (std::size_t i = 0; i < b.at(name).size(); ++i) {
    const float d1 = x1.at(name)[i] - b.at(name)[i], d2 = x2.at(name)[i] - b.at(name)[i];
    l1_1 += std::abs(d1);
    l1_2 += std::abs(d2);
    if (std::abs(d1) > 0.005f) ++spikes;
    if (std::abs(d1) > 0.005f && std::abs(d2) > 0.005f && (d1 > 0) != (d2 > 0)) ++opposite_spikes;
  }
  EXPECT_GT(l1_2, 1.2 * l1_1);               // ft-2's task vector is larger
  EXPECT_GT(spikes, 0u);
  EXPECT_LT(spikes, b.at(name).size() / 5);  // sparse
  EXPECT_GT(opposite_spikes, spikes / 10);   // sign conflicts
}

TEST(Synth, SameSeedSameBytesOnAnyThreadCount) {
  TempDir dir;
  SynthOptions o;
  o.threads = 1;
  write_synth_family(dir / "one", o);
  o.threads = 2;
  write_synth_family(dir / "two", o);
  EXPECT_EQ(read_file(dir / "one/ft-2/model.safetensors"), read_file(dir / "two/ft-2/model.safetensors"));
  o.seed = 2;
  write_synth_family(dir / "other", o);
  EXPECT_NE(read_file(dir / "one/ft-2/model.safetensors"), read_file(dir / "other/ft-2/model.safetensors"));
}

TEST(Synth, InconsistentSizesAreRefused) {
  TempDir dir;
  SynthOptions o;
  o.hidden = 66;
  try {
    write_synth_family(dir / "f", o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "hidden size 66 is not divisible by 4 heads");
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "f"));
}

}  // namespace
}  // namespace weld::test
