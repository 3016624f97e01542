#include "model/weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/model_dir.h"
#include "tensor/convert.h"
#include "util/error.h"
#include "util/parallel.h"

namespace weld {
namespace {

Param make(std::string name, std::vector<std::size_t> shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return Param{std::move(name), std::move(shape), std::vector<float>(n, 0.0f)};
}

template <typename W, typename P>
std::vector<P*> collect(W& w) {
  std::vector<P*> out = {&w.embed};
  for (auto& l : w.layers)
    for (P* p : {&l.attn_norm, &l.wq, &l.bq, &l.wk, &l.bk, &l.wv, &l.bv, &l.wo, &l.mlp_norm,
                 &l.w_gate, &l.w_up, &l.w_down})
      out.push_back(p);
  out.push_back(&w.final_norm);
  out.push_back(&w.lm_head);
  std::erase_if(out, [](P* p) { return !p->present(); });
  return out;
}

void load_param(const ModelDir& model, Param& p) {
  const auto ref = model.find(p.name);
  if (!ref) fail("tensor '{}' is missing", p.name);
  const TensorInfo& info = *ref->info;
  std::vector<std::size_t> shape(info.shape.begin(), info.shape.end());
  if (shape != p.shape)
    fail("tensor '{}' has shape [{}], expected [{}]", p.name, fmt::join(shape, ", "),
         fmt::join(p.shape, ", "));
  if (!is_arithmetic_dtype(info.dtype))
    fail("tensor '{}' has dtype {}, expected F32, F16 or BF16", p.name, dtype_name(info.dtype));
  to_f32(info.dtype, ref->data().data(), p.data.data(), p.data.size());
}

}  // namespace

std::vector<Param*> Weights::params() { return collect<Weights, Param>(*this); }
std::vector<const Param*> Weights::params() const {
  return collect<const Weights, const Param>(*this);
}

std::size_t Weights::n_params() const {
  std::size_t n = 0;
  for (const Param* p : params()) n += p->data.size();
  return n;
}

Weights zero_weights(const ModelConfig& c) {
  Weights w;
  const std::size_t h = c.hidden;
  w.embed = make("model.embed_tokens.weight", {c.vocab, h});
  for (std::size_t i = 0; i < c.layers; ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    LayerWeights l;
    l.attn_norm = make(p + "input_layernorm.weight", {h});
    l.wq = make(p + "self_attn.q_proj.weight", {c.q_dim(), h});
    l.wk = make(p + "self_attn.k_proj.weight", {c.kv_dim(), h});
    l.wv = make(p + "self_attn.v_proj.weight", {c.kv_dim(), h});
    l.wo = make(p + "self_attn.o_proj.weight", {h, c.q_dim()});
    if (c.qkv_bias) {
      l.bq = make(p + "self_attn.q_proj.bias", {c.q_dim()});
      l.bk = make(p + "self_attn.k_proj.bias", {c.kv_dim()});
      l.bv = make(p + "self_attn.v_proj.bias", {c.kv_dim()});
    }
    l.mlp_norm = make(p + "post_attention_layernorm.weight", {h});
    l.w_gate = make(p + "mlp.gate_proj.weight", {c.intermediate, h});
    l.w_up = make(p + "mlp.up_proj.weight", {c.intermediate, h});
    l.w_down = make(p + "mlp.down_proj.weight", {h, c.intermediate});
    w.layers.push_back(std::move(l));
  }
  w.final_norm = make("model.norm.weight", {h});
  if (!c.tie_embeddings) w.lm_head = make("lm_head.weight", {c.vocab, h});
  return w;
}

Weights zeros_like(const Weights& w) {
  Weights z = w;
  for (Param* p : z.params()) std::fill(p->data.begin(), p->data.end(), 0.0f);
  return z;
}

Weights load_weights(const ModelDir& model, const ModelConfig& config, unsigned threads) {
  Weights w = zero_weights(config);
  std::vector<Param*> params = w.params();
  with_context(fmt::format("model '{}'", model.path()), [&] {
    parallel_for(params.size(), threads,
                 [&](std::size_t i, unsigned) { load_param(model, *params[i]); });
  });
  return w;
}

}  // namespace weld
