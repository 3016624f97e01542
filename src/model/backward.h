// The backward pass: gradients of a loss with respect to every parameter, given the
// forward cache and the gradient of the loss with respect to the logits.
#pragma once

#include <vector>

#include "model/forward.h"

namespace weld {

// Adds d(loss)/d(parameter) into `grads` (shaped as model.weights, e.g. by zeros_like).
// d_logits: [rows, vocab]. hidden: forward_hidden's result for the same batch and cache.
void backward(const Model& model, const Batch& batch, const ForwardCache& cache,
              const std::vector<float>& hidden, const std::vector<float>& d_logits, Weights& grads,
              unsigned threads);

// d(sum of -log p(target))/d(logits) = softmax(logits) - onehot(target) on rows with a
// target, 0 on the others. Overwrites `logits` ([rows, vocab]) with it.
void nll_logit_gradient(std::vector<float>& logits, const std::vector<std::uint32_t>& targets,
                        std::size_t vocab, unsigned threads);

}  // namespace weld
