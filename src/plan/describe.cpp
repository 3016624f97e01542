#include <fmt/ranges.h>

#include "plan/describe.h"

#include <cmath>

#include "plan/executor.h"
#include "plan/progress.h"

namespace weld {
namespace {

std::string params_string(const MethodDescriptor& method, std::span<const double> values,
                          ParamScope scope) {
  std::string out;
  for (std::size_t i = 0; i < method.params.size(); ++i) {
    if (method.params[i].scope != scope || std::isnan(values[i])) continue;
    out += fmt::format("{}{}={:g}", out.empty() ? "" : " ", method.params[i].name, values[i]);
  }
  return out;
}

std::string describe_tensor(const MergePlan& plan, std::size_t index) {
  const TensorPlan& t = plan.tensors[index];
  std::string out = fmt::format("{}  {} [{}]  -> {}\n", t.name, dtype_name(t.dtype),
                                fmt::join(t.shape, ", "), plan.shards.file_names[plan.shards.shard_of[index]]);
  const std::string global = params_string(*plan.method, t.call.global_params, ParamScope::kGlobal);
  out += fmt::format("    {} at t={:g}{}{}\n", t.copy_input ? "copy" : plan.method->name, t.position,
                     global.empty() ? "" : "  ", global);
  for (std::size_t i = 0; i < t.inputs.size(); ++i) {
    const PlannedInput& in = t.inputs[i];
    // Inputs past the models are the tensors of file parameters, which have no parameters.
    const bool model = i < t.call.n_inputs;
    out += fmt::format("    {}{}: {} {}  {}\n", in.model, t.call.base == i ? " (base)" : "",
                       in.tensor.info->name, dtype_name(in.tensor.info->dtype),
                       model ? params_string(*plan.method, t.call.params_of(i), ParamScope::kPerModel) : "");
  }
  return out;
}

}  // namespace

std::string describe_plan(const MergePlan& plan, const ExecuteOptions& options) {
  std::string out = fmt::format("method: {} ({})\n", plan.method->name, plan.method->pretty_name);
  if (plan.compute_dtype) out += fmt::format("inputs rounded to: {}\n", torch_dtype_name(*plan.compute_dtype));
  out += fmt::format("tensors: {} ({} read, {} written)\n", plan.tensors.size(),
                     format_bytes(plan.bytes_in), format_bytes(plan.bytes_out));
  out += fmt::format("shards: {}\n", fmt::join(plan.shards.file_names, ", "));
  if (plan.n_output_layers) out += fmt::format("layers: {}\n", plan.n_output_layers);
  out += fmt::format("working memory: {} ({} threads; inputs are memory-mapped)\n\n",
                     format_bytes(working_memory_bytes(plan, options)), options.threads);
  for (std::size_t i = 0; i < plan.tensors.size(); ++i) out += describe_tensor(plan, i);
  return out;
}

}  // namespace weld
