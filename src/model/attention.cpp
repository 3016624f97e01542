#include "model/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "model/blas.h"
#include "model/ops.h"

namespace weld {
namespace {

// The first key position query i may see.
std::size_t first_visible(const ModelConfig& c, std::size_t i) {
  return c.sliding_window && i + 1 > c.sliding_window ? i + 1 - c.sliding_window : 0;
}

// S (t x t, raw q.k products) -> P: scaled, masked, softmaxed in place.
void softmax_rows(const ModelConfig& c, float* s, std::size_t t, unsigned threads) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  for_row_blocks(t, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      float* row = s + i * t;
      const std::size_t lo = first_visible(c, i);
      float max = -std::numeric_limits<float>::infinity();
      for (std::size_t j = lo; j <= i; ++j) max = std::max(max, row[j] * scale);
      float sum = 0;
      for (std::size_t j = lo; j <= i; ++j) sum += row[j] = std::exp(row[j] * scale - max);
      const float inv = 1.0f / sum;
      for (std::size_t j = 0; j < t; ++j) row[j] = j >= lo && j <= i ? row[j] * inv : 0.0f;
    }
  });
}

struct HeadView {
  std::size_t t, row0, q_off, kv_off, qd, kvd, hd;
};

// Probabilities of one (sequence, head) into p (t x t).
void head_probs(const ModelConfig& c, const HeadView& h, const float* q, const float* k, float* p,
                unsigned threads) {
  gemm_nt(h.t, h.t, h.hd, q + h.row0 * h.qd + h.q_off, h.qd, k + h.row0 * h.kvd + h.kv_off, h.kvd,
          0.0f, p, h.t);
  softmax_rows(c, p, h.t, threads);
}

template <typename Fn>
void for_each_head(const ModelConfig& c, const Batch& batch, Fn&& fn) {
  const std::size_t group = c.heads / c.kv_heads;
  for (std::size_t s = 0; s < batch.n_sequences(); ++s)
    for (std::size_t head = 0; head < c.heads; ++head)
      fn(HeadView{batch.length(s), batch.starts[s], head * c.head_dim, head / group * c.head_dim,
                  c.q_dim(), c.kv_dim(), c.head_dim});
}

}  // namespace

void attention_forward(const ModelConfig& c, const Batch& batch, const float* q, const float* k,
                       const float* v, float* out, unsigned threads) {
  const std::size_t longest = batch.longest();
  std::vector<float> p(longest * longest);
  for_each_head(c, batch, [&](const HeadView& h) {
    head_probs(c, h, q, k, p.data(), threads);
    gemm_nn(h.t, h.hd, h.t, p.data(), h.t, v + h.row0 * h.kvd + h.kv_off, h.kvd, 0.0f,
            out + h.row0 * h.qd + h.q_off, h.qd);
  });
}

void attention_backward(const ModelConfig& c, const Batch& batch, const float* q, const float* k,
                        const float* v, const float* dout, float* dq, float* dk, float* dv,
                        unsigned threads) {
  const std::size_t longest = batch.longest();
  std::vector<float> p(longest * longest), dp(longest * longest);
  std::fill(dk, dk + batch.rows() * c.kv_dim(), 0.0f);
  std::fill(dv, dv + batch.rows() * c.kv_dim(), 0.0f);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  for_each_head(c, batch, [&](const HeadView& h) {
    head_probs(c, h, q, k, p.data(), threads);
    const float* do_h = dout + h.row0 * h.qd + h.q_off;
    const float* v_g = v + h.row0 * h.kvd + h.kv_off;
    gemm_tn(h.t, h.hd, h.t, p.data(), h.t, do_h, h.qd, 1.0f, dv + h.row0 * h.kvd + h.kv_off, h.kvd);
    gemm_nt(h.t, h.t, h.hd, do_h, h.qd, v_g, h.kvd, 0.0f, dp.data(), h.t);
    // dS = P * (dP - sum_j P dP) * scale, row by row.
    for_row_blocks(h.t, threads, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        float* pr = &p[i * h.t];
        float* dpr = &dp[i * h.t];
        float dot = 0;
        for (std::size_t j = 0; j <= i; ++j) dot += pr[j] * dpr[j];
        for (std::size_t j = 0; j < h.t; ++j) dpr[j] = pr[j] * (dpr[j] - dot) * scale;
      }
    });
    gemm_nn(h.t, h.hd, h.t, dp.data(), h.t, k + h.row0 * h.kvd + h.kv_off, h.kvd, 0.0f,
            dq + h.row0 * h.qd + h.q_off, h.qd);
    gemm_tn(h.t, h.hd, h.t, dp.data(), h.t, q + h.row0 * h.qd + h.q_off, h.qd, 1.0f,
            dk + h.row0 * h.kvd + h.kv_off, h.kvd);
  });
}

}  // namespace weld
