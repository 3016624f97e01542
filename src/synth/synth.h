// Synthetic Llama-shaped model families for demos, tests and benchmarks.
//
// Writes OUT/base and OUT/ft-1 .. OUT/ft-N, each a Hugging Face model directory
// (config.json, generation_config.json, tokenizer_config.json, safetensors shards). The
// fine-tunes are the base plus structured task vectors, so that merge methods have
// something to tell apart:
//   - a small dense delta, its scale growing with the fine-tune's number (magnitudes differ);
//   - shared sparse spikes at positions common to all fine-tunes, with opposite signs in
//     odd and even fine-tunes on half of them (sign conflicts TIES resolves);
//   - sparse spikes at positions unique to each fine-tune.
// Every value is a function of (seed, tensor, element) alone: any thread count writes the
// same bytes.
#pragma once

#include <cstdint>
#include <string>

#include "io/dtype.h"

namespace weld {

struct SynthOptions {
  std::size_t layers = 4;
  std::size_t hidden = 64;
  std::size_t intermediate = 176;
  std::size_t vocab = 256;
  // The vocabulary is the 256 byte values (ids = bytes): tokenizer_config.json says so, and
  // `weld eval --text` can read plain text for the model.
  bool byte_vocab = false;
  std::size_t heads = 4;
  std::size_t kv_heads = 2;
  std::size_t fine_tunes = 2;
  DType dtype = DType::kBF16;
  std::uint64_t max_shard_bytes = 5'000'000'000;
  std::uint64_t seed = 1;
  bool tie_embeddings = false;
  unsigned threads = 1;
  bool force = false;
};

// Throws weld::Error for inconsistent sizes (hidden not divisible by heads, ...).
void write_synth_family(const std::string& out_dir, const SynthOptions& options);

}  // namespace weld
