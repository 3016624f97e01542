#include <fmt/ranges.h>

#include "plan/plan.h"

#include <algorithm>

#include "plan/layer_names.h"
#include "recipe/parameters.h"
#include "util/error.h"
#include "util/log.h"

namespace weld {

const SafetensorsFile& ModelSet::open_file(const std::string& path) {
  auto it = files_.find(path);
  if (it == files_.end()) it = files_.emplace(path, SafetensorsFile::open(path)).first;
  return *it->second;
}

const ModelDir& ModelSet::open(const std::string& path) {
  auto it = models_.find(path);
  if (it != models_.end()) return *it->second;
  it = models_.emplace(path, ModelDir::open(path)).first;
  log_verbose("model {}: {} tensors in {} file{}", path, it->second->tensor_names().size(),
              it->second->shards().size(), it->second->shards().size() == 1 ? "" : "s");
  return *it->second;
}

std::uint64_t TensorPlan::size_bytes() const { return numel * dtype_size(dtype); }

namespace {

std::string config_position(const Recipe& recipe, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return recipe.path;
  return fmt::format("{}:{}", recipe.path, mark.line + 1);
}

// One slice with its models opened and its base located.
struct OpenSlice {
  const SliceSpec* spec;
  std::vector<const ModelDir*> models;  // per source
  std::optional<std::size_t> base;      // source index
  LayerStructure structure;             // of the base (else first) model
};

// Where one output tensor's values come from.
struct TensorSource {
  std::string name;
  double position;
  const OpenSlice* slice;
  std::vector<std::string> input_names;  // per source
};

std::optional<std::size_t> locate_base(const Recipe& recipe, const SliceSpec& slice,
                                       std::size_t slice_index) {
  const MethodDescriptor& method = *recipe.method;
  if (method.base == BaseUse::kIgnored) return std::nullopt;
  const std::optional<std::string>& base = recipe.base_model_of(slice);
  if (!base) {
    if (method.base == BaseUse::kRequired) fail("{} needs a base_model", method.name);
    return std::nullopt;
  }
  for (std::size_t i = 0; i < slice.sources.size(); ++i)
    if (slice.sources[i].model == *base) return i;
  throw Error(fmt::format("base_model '{}' is not among the sources of slice {}", *base,
                          slice_index + 1))
      .add_context(config_position(recipe, slice.mark));
}

OpenSlice open_slice(const Recipe& recipe, const SliceSpec& spec, std::size_t index,
                     ModelSet& models) {
  OpenSlice slice{&spec, {}, locate_base(recipe, spec, index), {}};
  for (const SourceSpec& source : spec.sources) {
    slice.models.push_back(
        &with_context(config_position(recipe, source.mark), [&]() -> const ModelDir& {
          return models.open(source.model);
        }));
  }
  const ModelDir& reference = *slice.models[slice.base.value_or(0)];
  slice.structure = with_context(fmt::format("model '{}'", reference.path()),
                                 [&] { return layer_structure(reference.tensor_names()); });
  for (std::size_t i = 0; i < spec.sources.size(); ++i) {
    const SourceSpec& source = spec.sources[i];
    if (!source.layer_range) continue;
    const std::size_t n_layers = layer_structure(slice.models[i]->tensor_names()).n_layers;
    if (source.layer_range->end > n_layers)
      throw Error(fmt::format("layer_range [{}, {}] exceeds the {} layers of model '{}'",
                              source.layer_range->begin, source.layer_range->end, n_layers,
                              source.model))
          .add_context(config_position(recipe, source.mark));
  }
  return slice;
}

std::vector<std::string> same_name_everywhere(const OpenSlice& slice, const std::string& name) {
  return std::vector<std::string>(slice.models.size(), name);
}

void add_unlayered(std::vector<TensorSource>& out, const OpenSlice& slice,
                   const std::vector<std::string>& names, double position) {
  for (const std::string& name : names)
    out.push_back({name, position, &slice, same_name_everywhere(slice, name)});
}

// The `models:` form: every tensor of the reference model, merged with its namesakes.
std::vector<TensorSource> list_whole_models(const OpenSlice& slice, const PlanOptions& options,
                                            std::size_t& n_output_layers) {
  const LayerStructure& s = slice.structure;
  std::vector<TensorSource> out;
  add_unlayered(out, slice, s.pre_names, 0.0);
  for (std::size_t layer = 0; layer < s.n_layers; ++layer) {
    for (const std::string& suffix : s.suffixes) {
      const std::string name = layer_tensor_name(s.container, layer, suffix);
      if (!slice.models[slice.base.value_or(0)]->find(name)) continue;
      out.push_back({name, layer_position(layer, s.n_layers), &slice, same_name_everywhere(slice, name)});
    }
  }
  add_unlayered(out, slice, s.post_names, options.post_weights_at_end ? 1.0 : 0.0);
  n_output_layers = s.n_layers;
  return out;
}

// The `slices:` form: pre-layer weights from the first slice, each slice's layers renumbered
// in order, post-layer weights from the last slice.
std::vector<TensorSource> list_stacked_slices(const std::vector<OpenSlice>& slices,
                                              const PlanOptions& options,
                                              std::size_t& n_output_layers) {
  std::vector<TensorSource> out;
  add_unlayered(out, slices.front(), slices.front().structure.pre_names, 0.0);
  std::size_t next_layer = 0;
  for (const OpenSlice& slice : slices) {
    const LayerStructure& s = slice.structure;
    const std::size_t length = slice.spec->sources[0].layer_range->size();
    for (std::size_t j = 0; j < length; ++j) {
      for (const std::string& suffix : s.suffixes) {
        TensorSource tensor{layer_tensor_name(s.container, next_layer + j, suffix),
                            layer_position(j, length), &slice, {}};
        for (const SourceSpec& source : slice.spec->sources)
          tensor.input_names.push_back(
              layer_tensor_name(s.container, source.layer_range->begin + j, suffix));
        out.push_back(std::move(tensor));
      }
    }
    next_layer += length;
  }
  add_unlayered(out, slices.back(), slices.back().structure.post_names,
                options.post_weights_at_end ? 1.0 : 0.0);
  n_output_layers = next_layer;
  return out;
}

// A tied model has no lm_head: its input embedding serves as the output one.
std::optional<TensorRef> find_input(const ModelDir& model, const std::string& name) {
  if (std::optional<TensorRef> ref = model.find(name)) return ref;
  if (name.ends_with("lm_head.weight") && model.tie_word_embeddings())
    return model.find("model.embed_tokens.weight");
  return std::nullopt;
}

std::string shape_string(const std::vector<std::uint64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

std::vector<PlannedInput> gather_inputs(const TensorSource& source) {
  std::vector<PlannedInput> inputs;
  inputs.reserve(source.input_names.size());
  for (std::size_t i = 0; i < source.input_names.size(); ++i) {
    const SourceSpec& spec = source.slice->spec->sources[i];
    const std::optional<TensorRef> ref = find_input(*source.slice->models[i], source.input_names[i]);
    if (!ref) fail("tensor '{}' is missing from model '{}'", source.input_names[i], spec.model);
    if (!inputs.empty() && ref->info->shape != inputs.front().tensor.info->shape)
      fail("shape {} in model '{}' but {} in model '{}'", shape_string(ref->info->shape),
           spec.model, shape_string(inputs.front().tensor.info->shape), inputs.front().model);
    inputs.push_back({spec.model, *ref});
  }
  return inputs;
}

// What file parameters name: for each model, the tensor of the same name as its input in the
// safetensors file its parameter gives, appended after the models' own inputs.
void add_file_inputs(const Recipe& recipe, const TensorSource& source, ModelSet& models,
                     std::vector<PlannedInput>& inputs) {
  const std::size_t n_models = inputs.size();
  for (const ParamDef& def : recipe.method->params) {
    if (def.kind != ParamKind::kFile) continue;
    for (std::size_t i = 0; i < n_models; ++i) {
      const SourceSpec& spec = source.slice->spec->sources[i];
      const auto it = spec.params.find(std::string(def.name));
      if (it == spec.params.end() || !it->second.text)
        fail("{} needs parameter '{}' (a file) for model '{}'", recipe.method->name, def.name, spec.model);
      const std::string& path = *it->second.text;
      const SafetensorsFile& file = models.open_file(path);
      const TensorInfo& model_tensor = *inputs[i].tensor.info;
      const TensorInfo* info = file.find(model_tensor.name);
      if (!info) fail("tensor '{}' is missing from {} file '{}'", model_tensor.name, def.name, path);
      if (info->shape != model_tensor.shape)
        fail("shape {} in {} file '{}' but {} in model '{}'", shape_string(info->shape), def.name, path,
             shape_string(model_tensor.shape), spec.model);
      inputs.push_back({path, TensorRef{&file, info}});
    }
  }
}

MethodCall make_call(const Recipe& recipe, const TensorSource& source) {
  const OpenSlice& slice = *source.slice;
  MethodCall call;
  call.n_inputs = slice.models.size();
  call.base = slice.base;
  call.global_params = resolve_global_params(recipe, *slice.spec, source.name, source.position);
  call.model_params.reserve(call.n_inputs * call.global_params.size());
  for (std::size_t i = 0; i < call.n_inputs; ++i) {
    const std::vector<double> params = resolve_model_params(recipe, *slice.spec, slice.spec->sources[i],
                                                            source.input_names[i], source.position, slice.base == i);
    call.model_params.insert(call.model_params.end(), params.begin(), params.end());
  }
  return call;
}

// Non-float tensors can only be copied; float ones are written in out_dtype, else dtype,
// else the dtype of the base (or first) input. Bytes are copied unchanged when the method
// says one input is the result and nothing would change them (no dtype change, no rounding
// through a different compute dtype).
void choose_dtype_and_copy(const Recipe& recipe, const MethodDescriptor& method, TensorPlan& plan) {
  const DType reference = plan.inputs[plan.call.base.value_or(0)].tensor.info->dtype;
  const std::optional<std::size_t> identity =
      method.identity_input ? method.identity_input(plan.call) : std::nullopt;
  if (!is_arithmetic_dtype(reference)) {
    plan.dtype = reference;
    if (!identity || plan.inputs[*identity].tensor.info->dtype != reference)
      fail("dtype {} holds no weights to merge: {} works on F32, F16 and BF16 (only an "
           "unscaled passthrough copies other dtypes)", dtype_name(reference), method.name);
    plan.copy_input = identity;
    return;
  }
  plan.dtype = recipe.out_dtype.value_or(recipe.dtype.value_or(reference));
  for (const PlannedInput& input : plan.inputs)
    if (!is_arithmetic_dtype(input.tensor.info->dtype))
      fail("dtype {} in model '{}' cannot be merged: {} works on F32, F16 and BF16",
           dtype_name(input.tensor.info->dtype), input.model, method.name);
  if (!identity) return;
  const DType input_dtype = plan.inputs[*identity].tensor.info->dtype;
  if (input_dtype == plan.dtype && (!recipe.dtype || *recipe.dtype == input_dtype))
    plan.copy_input = identity;
}

void check_input_count(const MethodDescriptor& method, std::size_t n) {
  if (n < method.min_inputs)
    fail("{} needs at least {} model{}, got {}", method.name, method.min_inputs,
         method.min_inputs == 1 ? "" : "s", n);
  if (n > method.max_inputs)
    fail("{} takes at most {} model{}, got {}", method.name, method.max_inputs,
         method.max_inputs == 1 ? "" : "s", n);
}

TensorPlan plan_tensor(const Recipe& recipe, const TensorSource& source, ModelSet& models) {
  return with_context(fmt::format("tensor '{}'", source.name), [&] {
    const MethodDescriptor& method = *recipe.method;
    TensorPlan plan;
    plan.name = source.name;
    plan.position = source.position;
    plan.inputs = gather_inputs(source);
    plan.shape = plan.inputs.front().tensor.info->shape;
    plan.numel = plan.inputs.front().tensor.info->numel;
    check_input_count(method, plan.inputs.size());
    add_file_inputs(recipe, source, models, plan.inputs);
    plan.call = make_call(recipe, source);
    if (method.validate) method.validate(plan.call);
    choose_dtype_and_copy(recipe, method, plan);
    return plan;
  });
}

const ModelDir* tokenizer_model(const Recipe& recipe, const MergePlan& plan, ModelSet& models) {
  const std::optional<std::string>& source = recipe.tokenizer_source;
  if (!source || *source == "base") return plan.config_model;
  return &models.open(*source);
}

}  // namespace

MergePlan plan_merge(const Recipe& recipe, ModelSet& models, const PlanOptions& options) {
  MergePlan plan;
  plan.recipe = &recipe;
  plan.method = recipe.method;
  plan.compute_dtype = recipe.dtype;
  plan.seed = options.seed;

  std::vector<OpenSlice> slices;
  for (std::size_t i = 0; i < recipe.slices.size(); ++i)
    slices.push_back(open_slice(recipe, recipe.slices[i], i, models));
  const OpenSlice& first = slices.front();
  plan.config_model = first.models[first.base.value_or(0)];
  plan.tokenizer_model = tokenizer_model(recipe, plan, models);

  const std::vector<TensorSource> sources =
      recipe.uses_slices ? list_stacked_slices(slices, options, plan.n_output_layers)
                         : list_whole_models(first, options, plan.n_output_layers);
  // Reserved exactly here and below: doubling would leave up to half of these arrays unused,
  // and they grow with the model.
  plan.tensors.reserve(sources.size());
  for (const TensorSource& source : sources) {
    plan.tensors.push_back(plan_tensor(recipe, source, models));
    plan.bytes_out += plan.tensors.back().size_bytes();
    for (const PlannedInput& input : plan.tensors.back().inputs)
      plan.bytes_in += input.tensor.info->size_bytes();
  }
  std::vector<std::uint64_t> sizes;
  sizes.reserve(plan.tensors.size());
  for (const TensorPlan& t : plan.tensors) sizes.push_back(t.size_bytes());
  plan.max_shard_bytes = options.max_shard_bytes;
  plan.shards = plan_shard_layout(sizes, options.max_shard_bytes);
  return plan;
}

}  // namespace weld
