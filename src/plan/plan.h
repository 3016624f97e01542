// A merge plan: every output tensor with its inputs, resolved parameters, dtype and place in
// the output files, computed from the recipe and the models' headers before any tensor data
// is read. Everything that can be wrong with the inputs (a missing tensor, a shape mismatch,
// a missing parameter, a bad dtype) is found here, so execution never fails half way for a
// reason the plan could have seen.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/model_dir.h"
#include "io/sharded_writer.h"
#include "methods/method.h"
#include "recipe/recipe.h"

namespace weld {

// Opens each distinct model directory once.
class ModelSet {
 public:
  const ModelDir& open(const std::string& path);
  // A single safetensors file named by a file parameter (a Fisher file, say).
  const SafetensorsFile& open_file(const std::string& path);

 private:
  std::map<std::string, std::unique_ptr<ModelDir>> models_;
  std::map<std::string, std::unique_ptr<SafetensorsFile>> files_;
};

struct PlannedInput {
  std::string_view model;  // as named in the config (a view of the recipe, which outlives the plan)
  TensorRef tensor;        // its name is tensor.info->name
};

// inputs: one per model (the call's inputs), then one per model for each file parameter.
struct TensorPlan {
  std::string name;
  DType dtype;                          // written
  std::vector<std::uint64_t> shape;
  std::uint64_t numel;
  double position;                      // t for gradients
  std::vector<PlannedInput> inputs;     // same order as call's inputs
  MethodCall call;
  std::optional<std::size_t> copy_input;  // bytes copied unchanged from this input
  std::uint64_t size_bytes() const;
};

struct PlanOptions {
  std::uint64_t max_shard_bytes = 5'000'000'000;  // mergekit's and Hugging Face's default
  bool post_weights_at_end = false;  // post-layer weights at t = 1 (older mergekit) not t = 0
  std::uint64_t seed = 42;           // of random methods, with the tensor name and element
};

struct MergePlan {
  const Recipe* recipe;
  const MethodDescriptor* method;
  std::optional<DType> compute_dtype;  // inputs are rounded to this first
  std::uint64_t seed;
  std::vector<TensorPlan> tensors;     // in output order
  std::uint64_t max_shard_bytes;
  ShardLayout shards;                  // where each tensor goes
  std::size_t n_output_layers = 0;     // 0 when the model has no numbered layers
  const ModelDir* config_model;        // where config.json comes from (base, else first)
  const ModelDir* tokenizer_model;     // where tokenizer files come from
  std::uint64_t bytes_in = 0;          // tensor bytes read
  std::uint64_t bytes_out = 0;         // tensor bytes written
};

// Errors name the config position, model and tensor at fault.
MergePlan plan_merge(const Recipe& recipe, ModelSet& models, const PlanOptions& options);

}  // namespace weld
