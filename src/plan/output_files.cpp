#include "plan/output_files.h"

#include <array>
#include <filesystem>
#include <fstream>
#include <set>

#include "util/error.h"

namespace weld {
namespace {

namespace fs = std::filesystem;

// Files copied from the tokenizer source model when present.
constexpr std::array<std::string_view, 9> kTokenizerFiles = {
    "tokenizer.json",          "tokenizer_config.json", "tokenizer.model",
    "special_tokens_map.json", "added_tokens.json",     "vocab.json",
    "merges.txt",              "chat_template.jinja",   "generation_config.json"};

void write_text(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) fail("cannot write '{}'", path);
}

void write_config(const MergePlan& plan, const OutputDir& out) {
  nlohmann::json config = plan.config_model->config();
  const std::optional<DType> written = plan.recipe->out_dtype ? plan.recipe->out_dtype : plan.recipe->dtype;
  if (written) config["torch_dtype"] = torch_dtype_name(*written);
  if (plan.n_output_layers > 0) config["num_hidden_layers"] = plan.n_output_layers;
  for (const TensorPlan& t : plan.tensors)
    if (t.name.ends_with("embed_tokens.weight") && !t.shape.empty()) config["vocab_size"] = t.shape[0];
  write_text(out.file("config.json"), config.dump(2) + "\n");
}

void copy_tokenizer_files(const MergePlan& plan, const OutputDir& out) {
  for (std::string_view name : kTokenizerFiles) {
    const fs::path from = fs::path(plan.tokenizer_model->path()) / name;
    if (!fs::exists(from)) continue;
    std::error_code ec;
    fs::copy_file(from, out.file(name), ec);
    if (ec) fail("cannot copy '{}': {}", from.string(), ec.message());
  }
}

std::string model_card(const MergePlan& plan, const ProvenanceInfo& info) {
  std::set<std::string> models;
  for (const SliceSpec& slice : plan.recipe->slices)
    for (const SourceSpec& source : slice.sources) models.insert(source.model);
  std::string card = "---\nlibrary_name: transformers\ntags:\n- merge\n- weld\n---\n";
  card += "# Merged model\n\n";
  card += fmt::format("This model was made with weld {} using the {} method ({}).\n\n",
                      info.weld_version, plan.method->pretty_name, plan.method->url);
  card += fmt::format("Paper: {}\n\n", plan.method->paper);
  if (const auto& base = plan.recipe->base_model) card += fmt::format("Base model: {}\n\n", *base);
  card += "Models merged:\n";
  for (const std::string& m : models) card += fmt::format("- {}\n", m);
  card += fmt::format("\nRandom seed: {}\n\n## Configuration\n\n```yaml\n{}", info.seed, plan.recipe->text);
  if (!plan.recipe->text.ends_with('\n')) card += '\n';
  card += "```\n";
  return card;
}

}  // namespace

void write_output_files(const MergePlan& plan, const OutputDir& out, const ProvenanceInfo& info) {
  write_config(plan, out);
  copy_tokenizer_files(plan, out);
  write_text(out.file("mergekit_config.yml"), plan.recipe->text);
  write_text(out.file("README.md"), model_card(plan, info));
}

}  // namespace weld
