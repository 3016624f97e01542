// Parameter resolution: the value of each method parameter for one output tensor.
//
// Precedence, highest first: the source's (model's) `parameters`, the slice's, the top-level
// ones, the method default. Global parameters skip the per-model level and match filters
// against the output tensor name; per-model ones match that model's input tensor name.
// Gradients are evaluated at the tensor's position t (layer_position()).
#pragma once

#include <string_view>
#include <vector>

#include "recipe/recipe.h"

namespace weld {

// Position of layer `index` of a slice of `n_layers`: index / (n_layers - 1); a one-layer
// slice is at 1. Pre- and post-layer weights use 0 (or 1 for post, see PlanOptions).
double layer_position(std::size_t index, std::size_t n_layers);

// One value per MethodDescriptor::params entry; per-model entries are NaN. Throws weld::Error
// naming a required global parameter that is set nowhere.
std::vector<double> resolve_global_params(const Recipe& recipe, const SliceSpec& slice,
                                          std::string_view output_tensor, double t);

// One value per MethodDescriptor::params entry; global entries are NaN, and so are file
// parameters (the plan opens those) and required per-model ones that the base model lacks. Throws weld::Error naming the parameter and
// model when a required one is missing for any other model.
std::vector<double> resolve_model_params(const Recipe& recipe, const SliceSpec& slice,
                                         const SourceSpec& source, std::string_view input_tensor,
                                         double t, bool is_base);

}  // namespace weld
