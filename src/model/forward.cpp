#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/attention.h"
#include "model/blas.h"
#include "model/ops.h"
#include "util/parallel.h"

namespace weld {

namespace {

// Rows of logits computed at once by target_log_probs.
constexpr std::size_t kLogitRows = 256;

void resize_cache(LayerCache& l, const ModelConfig& c, std::size_t rows) {
  const std::size_t h = c.hidden, i = c.intermediate;
  for (auto* v : {&l.x_in, &l.n1, &l.x_mid, &l.n2}) v->resize(rows * h);
  for (auto* v : {&l.rstd1, &l.rstd2}) v->resize(rows);
  for (auto* v : {&l.q, &l.att}) v->resize(rows * c.q_dim());
  for (auto* v : {&l.k, &l.v}) v->resize(rows * c.kv_dim());
  for (auto* v : {&l.gate, &l.up, &l.act}) v->resize(rows * i);
}

// y = x W^T (+ bias), x [rows, in], W [out, in].
void linear(const float* x, std::size_t rows, const Param& w, const Param& bias, float* y) {
  const std::size_t out = w.shape[0], in = w.shape[1];
  gemm_nt(rows, out, in, x, in, w.data.data(), in, 0.0f, y, out);
  if (!bias.present()) return;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t o = 0; o < out; ++o) y[r * out + o] += bias.data[o];
}

void apply_rope(const ModelConfig& c, const Batch& batch, const RopeTable& rope, float* q,
                float* k) {
  for (std::size_t s = 0; s < batch.n_sequences(); ++s)
    for (std::size_t p = 0; p < batch.length(s); ++p) {
      const std::size_t r = batch.starts[s] + p;
      rope_apply(rope, p, q + r * c.q_dim(), c.heads, false);
      rope_apply(rope, p, k + r * c.kv_dim(), c.kv_heads, false);
    }
}

// x (the residual stream, [rows, hidden]) is updated in place; l receives the activations.
void layer_forward(const Model& model, const LayerWeights& w, const Batch& batch,
                   const RopeTable& rope, float* x, LayerCache& l, unsigned threads) {
  const ModelConfig& c = model.config;
  const std::size_t rows = batch.rows(), h = c.hidden;
  const float eps = static_cast<float>(c.rms_norm_eps);
  std::copy(x, x + rows * h, l.x_in.begin());
  rmsnorm(x, w.attn_norm.data.data(), rows, h, eps, l.n1.data(), l.rstd1.data());
  linear(l.n1.data(), rows, w.wq, w.bq, l.q.data());
  linear(l.n1.data(), rows, w.wk, w.bk, l.k.data());
  linear(l.n1.data(), rows, w.wv, w.bv, l.v.data());
  apply_rope(c, batch, rope, l.q.data(), l.k.data());
  attention_forward(c, batch, l.q.data(), l.k.data(), l.v.data(), l.att.data(), threads);
  gemm_nt(rows, h, c.q_dim(), l.att.data(), c.q_dim(), w.wo.data.data(), c.q_dim(), 1.0f, x, h);

  std::copy(x, x + rows * h, l.x_mid.begin());
  rmsnorm(x, w.mlp_norm.data.data(), rows, h, eps, l.n2.data(), l.rstd2.data());
  linear(l.n2.data(), rows, w.w_gate, Param{}, l.gate.data());
  linear(l.n2.data(), rows, w.w_up, Param{}, l.up.data());
  for_row_blocks(rows, threads, [&](std::size_t begin, std::size_t end) {
    const std::size_t at = begin * c.intermediate;
    swiglu(&l.gate[at], &l.up[at], (end - begin) * c.intermediate, &l.act[at]);
  });
  gemm_nt(rows, h, c.intermediate, l.act.data(), c.intermediate, w.w_down.data.data(),
          c.intermediate, 1.0f, x, h);
}

}  // namespace

std::vector<float> forward_hidden(const Model& model, const Batch& batch, unsigned threads,
                                  ForwardCache* cache) {
  const ModelConfig& c = model.config;
  const std::size_t rows = batch.rows(), h = c.hidden;
  std::vector<float> x(rows * h);
  for (std::size_t r = 0; r < rows; ++r)
    std::memcpy(&x[r * h], &model.weights.embed.data[batch.tokens[r] * h], h * sizeof(float));

  ForwardCache local;
  ForwardCache& fc = cache ? *cache : local;
  fc.rope = rope_table(c, batch.longest());
  fc.layers.resize(cache ? c.layers : 1);
  for (LayerCache& l : fc.layers) resize_cache(l, c, rows);
  for (std::size_t i = 0; i < c.layers; ++i)
    layer_forward(model, model.weights.layers[i], batch, fc.rope, x.data(),
                  fc.layers[cache ? i : 0], threads);

  std::vector<float> hidden(rows * h);
  fc.rstd_final.resize(rows);
  rmsnorm(x.data(), model.weights.final_norm.data.data(), rows, h,
          static_cast<float>(c.rms_norm_eps), hidden.data(), fc.rstd_final.data());
  fc.x_final = std::move(x);
  return hidden;
}

std::vector<float> compute_logits(const Model& model, const float* hidden, std::size_t rows) {
  const Param& out = model.weights.output();
  std::vector<float> logits(rows * model.config.vocab);
  linear(hidden, rows, out, Param{}, logits.data());
  return logits;
}

double log_softmax_at(const float* row, std::size_t n, std::uint32_t target) noexcept {
  float max = row[0];
  for (std::size_t j = 1; j < n; ++j) max = std::max(max, row[j]);
  double sum = 0;
  for (std::size_t j = 0; j < n; ++j) sum += std::exp(row[j] - max);  // f32 exp, f64 sum
  return static_cast<double>(row[target]) - max - std::log(sum);
}

std::vector<double> target_log_probs(const Model& model, const std::vector<float>& hidden,
                                     const std::vector<std::uint32_t>& targets, unsigned threads) {
  const std::size_t h = model.config.hidden, v = model.config.vocab;
  std::vector<double> out(targets.size(), 0.0);
  for (std::size_t begin = 0; begin < targets.size(); begin += kLogitRows) {
    const std::size_t end = std::min(targets.size(), begin + kLogitRows);
    const std::vector<float> logits = compute_logits(model, &hidden[begin * h], end - begin);
    parallel_for(end - begin, threads, [&](std::size_t i, unsigned) {
      if (targets[begin + i] != kNoTarget)
        out[begin + i] = log_softmax_at(&logits[i * v], v, targets[begin + i]);
    });
  }
  return out;
}

}  // namespace weld
