#include "eval/fisher.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "eval/perplexity.h"
#include "eval/tokens.h"
#include "io/safetensors_writer.h"
#include "model/backward.h"
#include "model/blas.h"
#include "model/forward.h"
#include "tensor/rng.h"
#include "util/error.h"

namespace weld {
namespace {

// A draw from softmax(row) with the uniform u in [0, 1).
std::uint32_t sample_from_logits(const float* row, std::size_t vocab, float u) {
  const float max = *std::max_element(row, row + vocab);
  double sum = 0;
  for (std::size_t j = 0; j < vocab; ++j) sum += std::exp(static_cast<double>(row[j]) - max);
  double acc = 0;
  const double goal = static_cast<double>(u) * sum;
  for (std::size_t j = 0; j < vocab; ++j) {
    acc += std::exp(static_cast<double>(row[j]) - max);
    if (acc > goal) return static_cast<std::uint32_t>(j);
  }
  return static_cast<std::uint32_t>(vocab - 1);
}

}  // namespace

void log_likelihood_gradient(const Model& model, const std::vector<std::uint32_t>& sequence,
                             const std::vector<std::uint32_t>& targets, Weights& grads,
                             unsigned threads) {
  Batch batch;
  batch.add(sequence);
  ForwardCache cache;
  const std::vector<float> hidden = forward_hidden(model, batch, threads, &cache);
  std::vector<float> d_logits = compute_logits(model, hidden.data(), batch.rows());
  nll_logit_gradient(d_logits, targets, model.config.vocab, threads);
  backward(model, batch, cache, hidden, d_logits, grads, threads);
}

FisherResult compute_fisher(const Model& model, const std::vector<std::uint32_t>& tokens,
                            const FisherOptions& options,
                            const std::function<void(std::size_t, std::size_t)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  check_token_ids(tokens, model.config.vocab, "tokens");
  EvalOptions eval_options;
  eval_options.context = options.context;
  const std::size_t context = resolve_context(model, eval_options);
  if (context < 2) fail("--context must be at least 2 tokens, got {}", context);
  std::vector<Window> windows = plan_windows(tokens.size(), context, context);
  std::erase_if(windows, [](const Window& w) { return w.end - w.begin < 2; });
  if (options.samples) {
    if (options.samples > windows.size())
      fail("--samples {} but the tokens make only {} sequences of up to {} tokens", options.samples,
           windows.size(), context);
    windows.resize(options.samples);
  }
  set_blas_threads(options.threads);

  FisherResult result;
  result.fisher = zeros_like(model.weights);
  Weights grads = zeros_like(model.weights);
  const CounterRng rng(options.seed, "fisher-labels");
  for (std::size_t s = 0; s < windows.size(); ++s) {
    const std::vector<std::uint32_t> sequence(tokens.begin() + windows[s].begin,
                                              tokens.begin() + windows[s].end);
    std::vector<std::uint32_t> targets(sequence.size(), kNoTarget);
    for (std::size_t p = 0; p + 1 < sequence.size(); ++p) targets[p] = sequence[p + 1];
    if (options.sampled) {
      Batch batch;
      batch.add(sequence);
      const std::vector<float> hidden = forward_hidden(model, batch, options.threads, nullptr);
      const std::vector<float> logits = compute_logits(model, hidden.data(), batch.rows());
      for (std::size_t p = 0; p + 1 < sequence.size(); ++p)
        targets[p] = sample_from_logits(&logits[p * model.config.vocab], model.config.vocab,
                                        rng.uniform(windows[s].begin + p));
    }
    for (Param* g : grads.params()) std::fill(g->data.begin(), g->data.end(), 0.0f);
    log_likelihood_gradient(model, sequence, targets, grads, options.threads);
    std::vector<Param*> f = result.fisher.params(), g = grads.params();
    for (std::size_t i = 0; i < f.size(); ++i)
      for (std::size_t j = 0; j < f[i]->data.size(); ++j)
        f[i]->data[j] += g[i]->data[j] * g[i]->data[j];
    result.tokens += sequence.size() - 1;
    if (progress) progress(s + 1, windows.size());
  }
  const float inv = 1.0f / static_cast<float>(windows.size());
  for (Param* p : result.fisher.params())
    for (float& v : p->data) v *= inv;
  result.sequences = windows.size();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void write_fisher(const std::string& path, const Weights& fisher,
                  const std::map<std::string, std::string>& metadata) {
  std::vector<PlannedTensor> planned;
  const std::vector<const Param*> params = fisher.params();
  for (const Param* p : params)
    planned.push_back(
        {p->name, DType::kF32, std::vector<std::uint64_t>(p->shape.begin(), p->shape.end())});
  const std::unique_ptr<SafetensorsWriter> writer =
      SafetensorsWriter::create(path, std::move(planned), metadata);
  for (std::size_t i = 0; i < params.size(); ++i)
    writer->write(i, 0, std::as_bytes(std::span(params[i]->data)));
  writer->finish();
}

}  // namespace weld
