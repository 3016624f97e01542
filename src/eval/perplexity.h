// Perplexity of a model over one stream of tokens, with sliding windows.
//
// Windows of `context` tokens start at 0, stride, 2*stride, ... until one reaches the end
// of the stream. Each window scores only the tokens that no earlier window scored (those
// at positions >= the previous window's end), and never its own first token, which has no
// context. So one window of N tokens scores N-1; with stride < context every token but the
// first is scored exactly once, each with at least context - stride tokens before it; with
// stride == context the first token of every window goes unscored. (transformers'
// perplexity recipe, which masks labels the same way.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "model/model.h"

namespace weld {

struct Window {
  std::size_t begin, end;    // tokens [begin, end)
  std::size_t first_scored;  // positions [first_scored, end) are predicted and scored
};

// REQUIRES: 0 < stride <= context. Throws weld::Error if tokens has fewer than 2 ids.
std::vector<Window> plan_windows(std::size_t n_tokens, std::size_t context, std::size_t stride);

struct EvalOptions {
  std::size_t context = 0;  // 0: max_position_embeddings capped at kDefaultContext
  std::size_t stride = 0;   // 0: context
  std::size_t batch = 1;    // windows per forward pass
  unsigned threads = 1;
};
constexpr std::size_t kDefaultContext = 1024;

struct EvalResult {
  std::size_t tokens = 0;  // tokens scored
  double nll = 0;          // mean negative log-likelihood, nats per token
  double perplexity = 0;   // exp(nll)
  double seconds = 0;
};

// Calls progress(tokens scored so far, total to score) after each batch.
EvalResult evaluate(const Model& model, const std::vector<std::uint32_t>& tokens,
                    const EvalOptions& options,
                    const std::function<void(std::size_t, std::size_t)>& progress = {});

// The context evaluate() uses for `options` (resolving the default).
std::size_t resolve_context(const Model& model, const EvalOptions& options);

}  // namespace weld
