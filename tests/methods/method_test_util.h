// Runs a method on one small tile, the way the executor does.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "methods/method.h"
#include "methods/registry.h"

namespace weld::test {

// Builds a call with every parameter at its default, then applies `globals` and per-model
// values by name (NaN = unset).
inline MethodCall make_call(const MethodDescriptor& m, std::size_t n_inputs,
                            std::optional<std::size_t> base,
                            const std::vector<std::pair<std::string, std::vector<double>>>& per_model,
                            const std::vector<std::pair<std::string, double>>& globals = {}) {
  MethodCall call;
  call.n_inputs = n_inputs;
  call.base = base;
  call.global_params.assign(m.params.size(), std::numeric_limits<double>::quiet_NaN());
  call.model_params.assign(n_inputs, call.global_params);
  for (std::size_t p = 0; p < m.params.size(); ++p) {
    if (m.params[p].required) continue;
    if (m.params[p].scope == ParamScope::kGlobal) call.global_params[p] = m.params[p].default_value;
    else for (auto& v : call.model_params) v[p] = m.params[p].default_value;
  }
  for (const auto& [name, value] : globals) call.global_params[*find_param(m, name)] = value;
  for (const auto& [name, values] : per_model)
    for (std::size_t i = 0; i < n_inputs; ++i) call.model_params[i][*find_param(m, name)] = values[i];
  return call;
}

// Runs the method as the executor would: tile-wise or on the whole tensor (then with `shape`,
// default one row, keyed by `name` and `seed`).
inline std::vector<float> run_tile(const MethodDescriptor& m, const MethodCall& call,
                                   const std::vector<std::vector<float>>& inputs,
                                   std::vector<std::uint64_t> shape = {}, std::uint64_t seed = 42,
                                   std::string_view name = "t") {
  std::vector<const float*> ptrs;
  for (const auto& in : inputs) ptrs.push_back(in.data());
  std::vector<float> out(inputs.front().size());
  if (shape.empty()) shape = {out.size()};
  if (m.validate) m.validate(call);
  if (m.merge_tile) {
    m.merge_tile(call, Tile{ptrs, out.data(), out.size()});
  } else {
    m.merge_tensor(call, WholeTensor{ptrs, out.data(), out.size(), shape, name, seed});
  }
  return out;
}

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace weld::test
