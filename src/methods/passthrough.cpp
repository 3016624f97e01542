// passthrough: copies its one input, optionally times `scale`. With `slices:` it stacks
// layers of several models (depth up-scaling, "frankenmerges").
//   out = scale * x
// With scale 1 the input's bytes are copied unchanged, whatever their dtype.
#include "methods/all_methods.h"
#include "util/error.h"

namespace weld {
namespace {

enum : std::size_t { kScale };

constexpr ParamDef kParams[] = {
    {"scale", ParamScope::kPerModel, false, 1.0, "multiplies the tensor"},
};

void validate(const MethodCall& call) {
  if (call.n_inputs != 1)
    fail("passthrough takes exactly one model per tensor, got {}", call.n_inputs);
}

void merge_tile(const MethodCall& call, const Tile& tile) noexcept {
  const float scale = static_cast<float>(call.model(0, kScale));
  const float* x = tile.inputs[0];
  for (std::size_t j = 0; j < tile.n; ++j) tile.out[j] = scale * x[j];
}

std::optional<std::size_t> identity_input(const MethodCall& call) {
  if (call.model(0, kScale) == 1.0) return 0;
  return std::nullopt;
}

}  // namespace

const MethodDescriptor kPassthrough = {
    .name = "passthrough",
    .pretty_name = "Passthrough",
    .summary = "copy one model's tensor (optionally scaled); stacks layers with slices",
    .formula = "out = scale * x",
    .paper = "Kim et al., SOLAR 10.7B: Scaling Large Language Models with Simple yet "
             "Effective Depth Up-Scaling, 2023",
    .url = "https://arxiv.org/abs/2312.15166",
    .params = kParams,
    .base = BaseUse::kIgnored,
    .min_inputs = 1,
    .max_inputs = 1,
    .validate = validate,
    .merge_tile = merge_tile,
    .identity_input = identity_input,
    .description =
        "Copies each tensor from its one source, optionally scaled. With `slices:` it "
        "stacks layer ranges of one or several models into a deeper model, as SOLAR's "
        "depth up-scaling does.",
    .when_to_use = "building deeper models from layer ranges (frankenmerges, depth up-scaling), "
                   "or extracting and rescaling part of a model",
};

}  // namespace weld
