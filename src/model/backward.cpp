#include "model/backward.h"

#include <cmath>

#include "model/attention.h"
#include "model/blas.h"
#include "model/ops.h"
#include "util/parallel.h"

namespace weld {
namespace {

// y = x W^T (+ b): dW += dy^T x, db += colsum(dy), dx (+)= dy W.
void linear_backward(const float* x, const float* dy, std::size_t rows, const Param& w, Param& dw,
                     Param* db, float* dx, float dx_beta) {
  const std::size_t out = w.shape[0], in = w.shape[1];
  gemm_tn(out, in, rows, dy, out, x, in, 1.0f, dw.data.data(), in);
  if (db && db->present())
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t o = 0; o < out; ++o) db->data[o] += dy[r * out + o];
  gemm_nn(rows, in, out, dy, out, w.data.data(), in, dx_beta, dx, in);
}

void unrope(const ModelConfig& c, const Batch& batch, const RopeTable& rope, float* dq, float* dk) {
  for (std::size_t s = 0; s < batch.n_sequences(); ++s)
    for (std::size_t p = 0; p < batch.length(s); ++p) {
      const std::size_t r = batch.starts[s] + p;
      rope_apply(rope, p, dq + r * c.q_dim(), c.heads, true);
      rope_apply(rope, p, dk + r * c.kv_dim(), c.kv_heads, true);
    }
}

// dx: d(loss)/d(residual stream after the layer), updated to d/d(before the layer).
void layer_backward(const Model& model, const LayerWeights& w, const LayerCache& l,
                    const Batch& batch, const RopeTable& rope, float* dx, LayerWeights& g,
                    unsigned threads) {
  const ModelConfig& c = model.config;
  const std::size_t rows = batch.rows(), h = c.hidden, inter = c.intermediate;
  std::vector<float> d_act(rows * inter), d_gate(rows * inter), d_up(rows * inter);
  std::vector<float> dn(rows * h);
  // MLP
  linear_backward(l.act.data(), dx, rows, w.w_down, g.w_down, nullptr, d_act.data(), 0.0f);
  for_row_blocks(rows, threads, [&](std::size_t begin, std::size_t end) {
    const std::size_t at = begin * inter;
    swiglu_backward(&l.gate[at], &l.up[at], &d_act[at], (end - begin) * inter, &d_gate[at],
                    &d_up[at]);
  });
  linear_backward(l.n2.data(), d_gate.data(), rows, w.w_gate, g.w_gate, nullptr, dn.data(), 0.0f);
  linear_backward(l.n2.data(), d_up.data(), rows, w.w_up, g.w_up, nullptr, dn.data(), 1.0f);
  rmsnorm_backward(l.x_mid.data(), w.mlp_norm.data.data(), l.rstd2.data(), dn.data(), rows, h, dx,
                   g.mlp_norm.data.data());
  // Attention
  std::vector<float> d_att(rows * c.q_dim()), dq(rows * c.q_dim());
  std::vector<float> dk(rows * c.kv_dim()), dv(rows * c.kv_dim());
  linear_backward(l.att.data(), dx, rows, w.wo, g.wo, nullptr, d_att.data(), 0.0f);
  attention_backward(c, batch, l.q.data(), l.k.data(), l.v.data(), d_att.data(), dq.data(),
                     dk.data(), dv.data(), threads);
  unrope(c, batch, rope, dq.data(), dk.data());
  linear_backward(l.n1.data(), dq.data(), rows, w.wq, g.wq, &g.bq, dn.data(), 0.0f);
  linear_backward(l.n1.data(), dk.data(), rows, w.wk, g.wk, &g.bk, dn.data(), 1.0f);
  linear_backward(l.n1.data(), dv.data(), rows, w.wv, g.wv, &g.bv, dn.data(), 1.0f);
  rmsnorm_backward(l.x_in.data(), w.attn_norm.data.data(), l.rstd1.data(), dn.data(), rows, h, dx,
                   g.attn_norm.data.data());
}

}  // namespace

void nll_logit_gradient(std::vector<float>& logits, const std::vector<std::uint32_t>& targets,
                        std::size_t vocab, unsigned threads) {
  parallel_for(targets.size(), threads, [&](std::size_t r, unsigned) {
    float* row = &logits[r * vocab];
    if (targets[r] == kNoTarget) {
      std::fill(row, row + vocab, 0.0f);
      return;
    }
    float max = row[0];
    for (std::size_t j = 1; j < vocab; ++j) max = std::max(max, row[j]);
    double sum = 0;  // f32 exponentials, summed in f64
    for (std::size_t j = 0; j < vocab; ++j) sum += row[j] = std::exp(row[j] - max);
    const float inv = static_cast<float>(1.0 / sum);
    for (std::size_t j = 0; j < vocab; ++j) row[j] *= inv;
    row[targets[r]] -= 1.0f;
  });
}

void backward(const Model& model, const Batch& batch, const ForwardCache& cache,
              const std::vector<float>& hidden, const std::vector<float>& d_logits, Weights& grads,
              unsigned threads) {
  const ModelConfig& c = model.config;
  const Weights& w = model.weights;
  const std::size_t rows = batch.rows(), h = c.hidden;
  // Output projection (lm_head, or the embeddings when tied) and the final norm.
  Param& d_out = w.lm_head.present() ? grads.lm_head : grads.embed;
  std::vector<float> d_hidden(rows * h), dx(rows * h, 0.0f);
  linear_backward(hidden.data(), d_logits.data(), rows, w.output(), d_out, nullptr, d_hidden.data(),
                  0.0f);
  rmsnorm_backward(cache.x_final.data(), w.final_norm.data.data(), cache.rstd_final.data(),
                   d_hidden.data(), rows, h, dx.data(), grads.final_norm.data.data());
  for (std::size_t i = c.layers; i-- > 0;)
    layer_backward(model, w.layers[i], cache.layers[i], batch, cache.rope, dx.data(),
                   grads.layers[i], threads);
  // Embedding rows: sequential, since a token may repeat.
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = &grads.embed.data[batch.tokens[r] * h];
    for (std::size_t j = 0; j < h; ++j) row[j] += dx[r * h + j];
  }
}

}  // namespace weld
