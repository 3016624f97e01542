// The diagonal Fisher information of a model's parameters:
//   F = mean over N sequences s of (d log p(s) / d theta)^2, elementwise,
// where log p(s) sums log p(x_t | x_<t) over the positions t = 1..T-1 of the sequence.
// Labels x_t are the data's ("empirical" Fisher) or drawn from the model's own predictive
// distribution at each position ("sampled", the true Fisher in expectation).
// Sequences are the consecutive, non-overlapping windows of `context` tokens of the stream
// (the last, shorter one too if it has at least 2 tokens), the first N of them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model/model.h"

namespace weld {

struct FisherOptions {
  std::size_t context = 0;  // 0: as weld eval (max_position_embeddings capped at 1024)
  std::size_t samples = 0;  // sequences; 0: all of them
  bool sampled = false;     // labels from the model instead of the data
  std::uint64_t seed = 42;  // for sampled labels: a counter RNG keyed by (seed, sequence)
  unsigned threads = 1;
};

struct FisherResult {
  Weights fisher;  // same names and shapes as the model
  std::size_t sequences = 0;
  std::size_t tokens = 0;  // labels scored in all
  double seconds = 0;
};

// Calls progress(sequences done, total) after each sequence.
FisherResult compute_fisher(const Model& model, const std::vector<std::uint32_t>& tokens,
                            const FisherOptions& options,
                            const std::function<void(std::size_t, std::size_t)>& progress = {});

// Writes every tensor of `fisher` as F32 safetensors at `path` (which must not exist),
// with metadata describing how it was computed.
void write_fisher(const std::string& path, const Weights& fisher,
                  const std::map<std::string, std::string>& metadata);

// The gradient of the sum of log-likelihoods of `targets` (kNoTarget rows skipped), added
// into grads (which sums over calls). For tests and for compute_fisher.
void log_likelihood_gradient(const Model& model, const std::vector<std::uint32_t>& sequence,
                             const std::vector<std::uint32_t>& targets, Weights& grads,
                             unsigned threads);

}  // namespace weld
