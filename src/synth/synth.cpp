#include "synth/synth.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "io/output_dir.h"
#include "io/sharded_writer.h"
#include "plan/progress.h"
#include "tensor/convert.h"
#include "tensor/rng.h"
#include "util/error.h"
#include "util/parallel.h"

namespace weld {
namespace {

namespace fs = std::filesystem;

// Scales of the pieces of a synthetic weight, chosen so that fine-tune deltas are small
// next to the base (as real fine-tunes are) but far above bf16 rounding.
constexpr float kBaseStd = 0.02f;
constexpr float kDenseDeltaStd = 0.001f;
constexpr float kSpikeStd = 0.01f;
constexpr float kSharedSpikeRate = 0.04f;   // half of these conflict in sign
constexpr float kUniqueSpikeRate = 0.02f;
constexpr std::size_t kChunk = std::size_t{1} << 18;

struct SynthTensor {
  std::string name;
  std::vector<std::uint64_t> shape;
  bool is_norm;  // RMSNorm gains sit around 1, not around 0
  std::uint64_t numel() const {
    std::uint64_t n = 1;
    for (std::uint64_t d : shape) n *= d;
    return n;
  }
};

std::vector<SynthTensor> llama_tensors(const SynthOptions& o) {
  const std::uint64_t h = o.hidden, kv = o.hidden / o.heads * o.kv_heads, inter = o.intermediate;
  std::vector<SynthTensor> t = {{"model.embed_tokens.weight", {o.vocab, h}, false}};
  for (std::size_t l = 0; l < o.layers; ++l) {
    const std::string p = fmt::format("model.layers.{}.", l);
    t.push_back({p + "input_layernorm.weight", {h}, true});
    t.push_back({p + "self_attn.q_proj.weight", {h, h}, false});
    t.push_back({p + "self_attn.k_proj.weight", {kv, h}, false});
    t.push_back({p + "self_attn.v_proj.weight", {kv, h}, false});
    t.push_back({p + "self_attn.o_proj.weight", {h, h}, false});
    t.push_back({p + "post_attention_layernorm.weight", {h}, true});
    t.push_back({p + "mlp.gate_proj.weight", {inter, h}, false});
    t.push_back({p + "mlp.up_proj.weight", {inter, h}, false});
    t.push_back({p + "mlp.down_proj.weight", {h, inter}, false});
  }
  t.push_back({"model.norm.weight", {h}, true});
  if (!o.tie_embeddings) t.push_back({"lm_head.weight", {o.vocab, h}, false});
  return t;
}

// The random streams of one tensor of one model (0 = base, k = fine-tune k).
struct TensorStreams {
  TensorStreams(const SynthTensor& tensor, std::uint64_t seed, std::size_t model)
      : base(seed, tensor.name),
        own(seed, fmt::format("{}#ft{}", tensor.name, model)),
        shared(seed, tensor.name + "#shared") {}
  CounterRng base, own, shared;
};

// Value of element i of `tensor` in model `model`.
float synth_value(const SynthTensor& tensor, const TensorStreams& s, std::size_t model, std::uint64_t i) {
  float value = (tensor.is_norm ? 1.0f : 0.0f) + kBaseStd * s.base.normal(i);
  if (model == 0) return value;

  const float magnitude = 1.0f + 0.5f * static_cast<float>(model - 1);
  const CounterRng& own = s.own;
  const CounterRng& shared = s.shared;
  value += magnitude * kDenseDeltaStd * own.normal(i);
  const float u = shared.uniform(i);
  if (u < kSharedSpikeRate) {
    const bool conflicting = u < kSharedSpikeRate / 2;
    const float sign = conflicting && model % 2 == 0 ? -1.0f : 1.0f;
    value += sign * magnitude * kSpikeStd * std::abs(shared.normal(i));
  }
  if (own.uniform(~i) < kUniqueSpikeRate) value += magnitude * kSpikeStd * own.normal(~i);
  return value;
}

nlohmann::ordered_json llama_config(const SynthOptions& o) {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"hidden_size", o.hidden},
          {"intermediate_size", o.intermediate},
          {"num_hidden_layers", o.layers},
          {"num_attention_heads", o.heads},
          {"num_key_value_heads", o.kv_heads},
          {"vocab_size", o.vocab},
          {"max_position_embeddings", 2048},
          {"rms_norm_eps", 1e-5},
          {"rope_theta", 10000.0},
          {"hidden_act", "silu"},
          {"tie_word_embeddings", o.tie_embeddings},
          {"torch_dtype", torch_dtype_name(o.dtype)},
          {"bos_token_id", 1},
          {"eos_token_id", 2}};
}

void write_json(const fs::path& path, const nlohmann::ordered_json& json) {
  std::ofstream out(path, std::ios::binary);
  out << json.dump(2) << '\n';
  out.close();
  if (!out) fail("cannot write '{}'", path.string());
}

void write_model(const fs::path& dir, std::size_t model, const std::vector<SynthTensor>& tensors,
                 const SynthOptions& o, Progress& progress) {
  fs::create_directories(dir);
  write_json(dir / "config.json", llama_config(o));
  write_json(dir / "generation_config.json", {{"bos_token_id", 1}, {"eos_token_id", 2}});
  write_json(dir / "tokenizer_config.json",
             {{"model_max_length", 2048},
              {"tokenizer_class", o.byte_vocab ? "bytes" : "synthetic"}});

  std::vector<PlannedTensor> planned;
  struct Chunk { std::size_t tensor; std::uint64_t begin, end; };
  std::vector<Chunk> chunks;
  for (std::size_t t = 0; t < tensors.size(); ++t) {
    planned.push_back({tensors[t].name, o.dtype, tensors[t].shape});
    for (std::uint64_t b = 0; b < tensors[t].numel(); b += kChunk)
      chunks.push_back({t, b, std::min<std::uint64_t>(tensors[t].numel(), b + kChunk)});
  }
  ShardedWriter writer(dir.string(), std::move(planned), o.max_shard_bytes);
  const std::size_t size = dtype_size(o.dtype);
  std::vector<std::vector<float>> values(o.threads, std::vector<float>(kChunk));
  std::vector<std::vector<std::byte>> bytes(o.threads, std::vector<std::byte>(kChunk * size));
  parallel_for(chunks.size(), o.threads, [&](std::size_t c, unsigned w) {
    const Chunk& chunk = chunks[c];
    const std::size_t n = static_cast<std::size_t>(chunk.end - chunk.begin);
    const TensorStreams streams(tensors[chunk.tensor], o.seed, model);
    for (std::size_t j = 0; j < n; ++j)
      values[w][j] = synth_value(tensors[chunk.tensor], streams, model, chunk.begin + j);
    from_f32(o.dtype, values[w].data(), bytes[w].data(), n);
    writer.write(chunk.tensor, chunk.begin * size, std::span(bytes[w].data(), n * size));
    progress.add(n * size, chunk.end == tensors[chunk.tensor].numel() ? 1 : 0);
  });
  writer.finish();
}

void check_options(const SynthOptions& o) {
  if (o.layers == 0 || o.hidden == 0 || o.intermediate == 0 || o.vocab == 0 || o.heads == 0 ||
      o.kv_heads == 0)
    fail("synth sizes must be positive");
  if (o.hidden % o.heads != 0) fail("hidden size {} is not divisible by {} heads", o.hidden, o.heads);
  if (o.heads % o.kv_heads != 0)
    fail("{} attention heads are not divisible by {} key/value heads", o.heads, o.kv_heads);
  if (!is_arithmetic_dtype(o.dtype)) fail("synth writes float32, float16 or bfloat16");
  if (o.byte_vocab && o.vocab != 256) fail("a byte vocabulary has 256 ids, not {}", o.vocab);
}

}  // namespace

void write_synth_family(const std::string& out_dir, const SynthOptions& options) {
  check_options(options);
  SynthOptions o = options;
  o.threads = std::max(1u, o.threads);
  const std::vector<SynthTensor> tensors = llama_tensors(o);
  std::uint64_t model_bytes = 0;
  for (const SynthTensor& t : tensors) model_bytes += t.numel() * dtype_size(o.dtype);

  OutputDir out(out_dir, o.force);
  Progress progress("models", model_bytes * (o.fine_tunes + 1), tensors.size() * (o.fine_tunes + 1));
  for (std::size_t m = 0; m <= o.fine_tunes; ++m) {
    const std::string name = m == 0 ? "base" : fmt::format("ft-{}", m);
    write_model(fs::path(out.temp_path()) / name, m, tensors, o, progress);
  }
  progress.finish();
  out.commit();
}

}  // namespace weld
