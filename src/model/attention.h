// Causal grouped-query attention over a Batch, on rotated queries and keys.
//
// q is [rows, heads * head_dim], k and v are [rows, kv_heads * head_dim]; query head h reads
// key/value head h / (heads / kv_heads), as transformers' repeat_kv does. Scores are scaled
// by 1/sqrt(head_dim); a query at position i sees keys at positions j <= i (and, with a
// sliding window W, i - j < W). Softmax in f32.
#pragma once

#include "model/batch.h"
#include "model/config.h"

namespace weld {

// out: [rows, heads * head_dim], overwritten.
void attention_forward(const ModelConfig& config, const Batch& batch, const float* q,
                       const float* k, const float* v, float* out, unsigned threads);

// From d(out), the gradients dq (overwritten), dk and dv (overwritten). The probabilities
// are recomputed from q and k rather than stored (they are rows x rows per head).
void attention_backward(const ModelConfig& config, const Batch& batch, const float* q,
                        const float* k, const float* v, const float* dout, float* dq, float* dk,
                        float* dv, unsigned threads);

}  // namespace weld
