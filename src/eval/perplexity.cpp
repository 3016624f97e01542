#include "eval/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "eval/tokens.h"
#include "model/blas.h"
#include "model/forward.h"
#include "util/error.h"

namespace weld {

std::vector<Window> plan_windows(std::size_t n_tokens, std::size_t context, std::size_t stride) {
  if (n_tokens < 2) fail("need at least 2 tokens to score, got {}", n_tokens);
  std::vector<Window> windows;
  std::size_t previous_end = 0;
  for (std::size_t begin = 0;; begin += stride) {
    const std::size_t end = std::min(n_tokens, begin + context);
    windows.push_back({begin, end, std::max(begin + 1, previous_end)});
    previous_end = end;
    if (end == n_tokens) break;
  }
  return windows;
}

std::size_t resolve_context(const Model& model, const EvalOptions& options) {
  if (options.context) return options.context;
  return std::min(model.config.max_positions, kDefaultContext);
}

EvalResult evaluate(const Model& model, const std::vector<std::uint32_t>& tokens,
                    const EvalOptions& options,
                    const std::function<void(std::size_t, std::size_t)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  const std::size_t context = resolve_context(model, options);
  if (context < 2) fail("--context must be at least 2 tokens, got {}", context);
  const std::size_t stride = options.stride ? options.stride : context;
  if (stride > context) fail("--stride {} exceeds --context {}", stride, context);
  check_token_ids(tokens, model.config.vocab, "tokens");
  const std::vector<Window> windows = plan_windows(tokens.size(), context, stride);
  std::size_t total = 0;
  for (const Window& w : windows) total += w.end - w.first_scored;

  set_blas_threads(options.threads);
  const std::size_t batch_size = std::max<std::size_t>(1, options.batch);
  EvalResult result;
  double nll_sum = 0;
  for (std::size_t first = 0; first < windows.size(); first += batch_size) {
    Batch batch;
    std::vector<std::uint32_t> targets;
    for (std::size_t i = first; i < std::min(windows.size(), first + batch_size); ++i) {
      const Window& w = windows[i];
      batch.add(std::span(tokens).subspan(w.begin, w.end - w.begin));
      // Row p predicts token p + 1; it is scored if that token's position is scored.
      for (std::size_t p = w.begin; p < w.end; ++p)
        targets.push_back(p + 1 < w.end && p + 1 >= w.first_scored ? tokens[p + 1] : kNoTarget);
    }
    const std::vector<float> hidden = forward_hidden(model, batch, options.threads, nullptr);
    const std::vector<double> log_probs = target_log_probs(model, hidden, targets, options.threads);
    for (std::size_t r = 0; r < targets.size(); ++r) {
      if (targets[r] == kNoTarget) continue;
      nll_sum -= log_probs[r];
      ++result.tokens;
    }
    if (progress) progress(result.tokens, total);
  }
  result.nll = result.tokens ? nll_sum / static_cast<double>(result.tokens) : 0.0;
  result.perplexity = std::exp(result.nll);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace weld
