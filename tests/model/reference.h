// An independent, naive double-precision Llama/Mistral/Qwen2 forward pass for the tests:
// plain loops over the formulas as transformers writes them, nothing shared with src/model
// but the parameter structs it reads.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "model/model.h"

namespace weld::test {

using Mat = std::vector<std::vector<double>>;  // [rows][cols]

inline std::vector<double> param_d(const Param& p) { return {p.data.begin(), p.data.end()}; }

// y[r] = W x[r] (+ b), W [out, in] row major.
inline Mat ref_linear(const Mat& x, const std::vector<double>& w, std::size_t out,
                      const std::vector<double>* b = nullptr) {
  const std::size_t in = x.empty() ? 0 : x[0].size();
  Mat y(x.size(), std::vector<double>(out, 0.0));
  for (std::size_t r = 0; r < x.size(); ++r)
    for (std::size_t o = 0; o < out; ++o) {
      double s = b ? (*b)[o] : 0.0;
      for (std::size_t i = 0; i < in; ++i) s += w[o * in + i] * x[r][i];
      y[r][o] = s;
    }
  return y;
}

inline Mat ref_rmsnorm(const Mat& x, const std::vector<double>& g, double eps) {
  Mat y = x;
  for (auto& row : y) {
    double ms = 0;
    for (double v : row) ms += v * v;
    ms /= static_cast<double>(row.size());
    for (std::size_t i = 0; i < row.size(); ++i) row[i] = row[i] / std::sqrt(ms + eps) * g[i];
  }
  return y;
}

inline std::vector<double> ref_inv_freq(const ModelConfig& c) {
  std::vector<double> f;
  for (std::size_t i = 0; i < c.head_dim; i += 2)
    f.push_back(1.0 /
                std::pow(c.rope_theta, static_cast<double>(i) / static_cast<double>(c.head_dim)));
  if (!c.llama3_scaling) return f;
  const Llama3RopeScaling& s = *c.llama3_scaling;
  for (double& v : f) {
    const double wavelen = 2 * std::numbers::pi / v;
    const double low = s.original_max_position_embeddings / s.low_freq_factor;
    const double high = s.original_max_position_embeddings / s.high_freq_factor;
    if (wavelen < high) continue;  // high frequency: unchanged
    if (wavelen > low) {
      v /= s.factor;
      continue;
    }
    const double smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) /
                          (s.high_freq_factor - s.low_freq_factor);
    v = (1 - smooth) * v / s.factor + smooth * v;
  }
  return f;
}

// q*cos + rotate_half(q)*sin on each head of each row (row r at position r).
inline void ref_rope(Mat& x, std::size_t n_heads, const ModelConfig& c) {
  const std::vector<double> f = ref_inv_freq(c);
  const std::size_t d = c.head_dim, half = d / 2;
  for (std::size_t pos = 0; pos < x.size(); ++pos)
    for (std::size_t h = 0; h < n_heads; ++h) {
      std::vector<double> v(x[pos].begin() + h * d, x[pos].begin() + (h + 1) * d);
      for (std::size_t i = 0; i < d; ++i) {
        const double angle = static_cast<double>(pos) * f[i % half];
        const double rot = i < half ? -v[i + half] : v[i - half];
        x[pos][h * d + i] = v[i] * std::cos(angle) + rot * std::sin(angle);
      }
    }
}

inline Mat ref_attention(const Mat& q, const Mat& k, const Mat& v, const ModelConfig& c) {
  const std::size_t t = q.size(), d = c.head_dim, rep = c.heads / c.kv_heads;
  Mat out(t, std::vector<double>(c.heads * d, 0.0));
  for (std::size_t h = 0; h < c.heads; ++h) {
    const std::size_t g = h / rep;
    for (std::size_t i = 0; i < t; ++i) {
      std::vector<double> w(t, 0.0);
      double max = -1e300;
      for (std::size_t j = 0; j <= i; ++j) {
        if (c.sliding_window && i - j >= c.sliding_window) continue;
        double s = 0;
        for (std::size_t e = 0; e < d; ++e) s += q[i][h * d + e] * k[j][g * d + e];
        w[j] = s / std::sqrt(static_cast<double>(d));
        max = std::max(max, w[j]);
      }
      double sum = 0;
      for (std::size_t j = 0; j <= i; ++j) {
        if (c.sliding_window && i - j >= c.sliding_window) {
          w[j] = 0;
          continue;
        }
        sum += w[j] = std::exp(w[j] - max);
      }
      for (std::size_t j = 0; j <= i; ++j)
        for (std::size_t e = 0; e < d; ++e) out[i][h * d + e] += w[j] / sum * v[j][g * d + e];
    }
  }
  return out;
}

// Logits [T][vocab] of one sequence.
inline Mat ref_logits(const Model& m, const std::vector<std::uint32_t>& tokens) {
  const ModelConfig& c = m.config;
  const Weights& w = m.weights;
  Mat x;
  for (std::uint32_t t : tokens)
    x.emplace_back(w.embed.data.begin() + t * c.hidden, w.embed.data.begin() + (t + 1) * c.hidden);
  for (const LayerWeights& l : w.layers) {
    const Mat n1 = ref_rmsnorm(x, param_d(l.attn_norm), c.rms_norm_eps);
    const std::vector<double> bq = param_d(l.bq), bk = param_d(l.bk), bv = param_d(l.bv);
    Mat q = ref_linear(n1, param_d(l.wq), c.q_dim(), c.qkv_bias ? &bq : nullptr);
    Mat k = ref_linear(n1, param_d(l.wk), c.kv_dim(), c.qkv_bias ? &bk : nullptr);
    const Mat v = ref_linear(n1, param_d(l.wv), c.kv_dim(), c.qkv_bias ? &bv : nullptr);
    ref_rope(q, c.heads, c);
    ref_rope(k, c.kv_heads, c);
    const Mat o = ref_linear(ref_attention(q, k, v, c), param_d(l.wo), c.hidden);
    for (std::size_t r = 0; r < x.size(); ++r)
      for (std::size_t i = 0; i < c.hidden; ++i) x[r][i] += o[r][i];
    const Mat n2 = ref_rmsnorm(x, param_d(l.mlp_norm), c.rms_norm_eps);
    Mat gate = ref_linear(n2, param_d(l.w_gate), c.intermediate);
    const Mat up = ref_linear(n2, param_d(l.w_up), c.intermediate);
    for (std::size_t r = 0; r < gate.size(); ++r)
      for (std::size_t i = 0; i < c.intermediate; ++i)
        gate[r][i] = gate[r][i] / (1 + std::exp(-gate[r][i])) * up[r][i];
    const Mat down = ref_linear(gate, param_d(l.w_down), c.hidden);
    for (std::size_t r = 0; r < x.size(); ++r)
      for (std::size_t i = 0; i < c.hidden; ++i) x[r][i] += down[r][i];
  }
  const Mat f = ref_rmsnorm(x, param_d(w.final_norm), c.rms_norm_eps);
  return ref_linear(f, param_d(w.output()), c.vocab);
}

// Sum over rows with a target of -log softmax(logits)[target] (targets[r] predicts row r).
inline double ref_nll(const Model& m, const std::vector<std::uint32_t>& tokens,
                      const std::vector<std::uint32_t>& targets) {
  const Mat logits = ref_logits(m, tokens);
  double nll = 0;
  for (std::size_t r = 0; r < targets.size(); ++r) {
    if (targets[r] == 0xffffffffu) continue;
    double max = -1e300, sum = 0;
    for (double v : logits[r]) max = std::max(max, v);
    for (double v : logits[r]) sum += std::exp(v - max);
    nll -= logits[r][targets[r]] - max - std::log(sum);
  }
  return nll;
}

}  // namespace weld::test
