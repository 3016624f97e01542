// weld fisher MODEL_DIR --tokens FILE --out FISHER.safetensors [--samples N]
//             [--empirical | --sampled]: the diagonal Fisher information (eval/fisher.h).
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/token_input.h"
#include "cli/token_progress.h"
#include "eval/fisher.h"
#include "eval/tokens.h"
#include "model/model.h"
#include "util/error.h"
#include "util/log.h"
#include "util/parallel.h"

namespace weld {
namespace {

struct FisherArgs {
  std::string model, out;
  TokenInput input;
  FisherOptions options;
  bool empirical = false;
  bool force = false;
};

int run_fisher(const FisherArgs& args) {
  const std::vector<std::uint32_t> tokens = args.input.read();
  if (std::filesystem::exists(args.out)) {
    if (!args.force) fail("'{}' exists (use --force to replace it)", args.out);
    std::filesystem::remove(args.out);
  }
  const Model model = load_model(args.model, args.options.threads);
  with_context(fmt::format("model '{}'", args.model), [&] {
    check_token_ids(tokens, model.config.vocab, args.input.path());
  });
  TokenProgress progress(args.model, "sequences");
  const FisherResult result = with_context(fmt::format("model '{}'", args.model), [&] {
    return compute_fisher(model, tokens, args.options, [&](std::size_t done, std::size_t total) {
      progress.update(done, total);
    });
  });
  progress.finish();
  write_fisher(args.out, result.fisher,
               {{"format", "pt"},
                {"weld_fisher", args.options.sampled ? "sampled" : "empirical"},
                {"weld_fisher_sequences", std::to_string(result.sequences)},
                {"weld_fisher_tokens", std::to_string(result.tokens)},
                {"weld_model", args.model}});
  log_info("{}: {} Fisher of {} tensors over {} sequences ({} tokens) in {:.1f}s", args.out,
           args.options.sampled ? "sampled" : "empirical", result.fisher.params().size(),
           result.sequences, result.tokens, result.seconds);
  return 0;
}

}  // namespace

CommandAction setup_fisher(CLI::App& command) {
  auto args = std::make_shared<FisherArgs>();
  FisherOptions& o = args->options;
  o.threads = hardware_threads();
  command.add_option("model_dir", args->model, "model directory")->required();
  args->input.add_options(command);
  command.add_option("--out", args->out, "the .safetensors file to write")->required();
  command.add_option("--samples", o.samples, "sequences to average over (default: all)")
      ->check(CLI::PositiveNumber);
  command
      .add_option("--context", o.context,
                  "sequence length (default max_position_embeddings, at most 1024)")
      ->check(CLI::PositiveNumber);
  auto* empirical =
      command.add_flag("--empirical", args->empirical, "labels from the data (default)");
  command.add_flag("--sampled", o.sampled, "labels drawn from the model's own distribution")
      ->excludes(empirical);
  command.add_option("--seed", o.seed, "seed for --sampled labels (default 42)");
  command.add_option("-j,--threads", o.threads, "worker threads (default: all cores)")
      ->check(CLI::Range(1u, 1024u));
  command.add_flag("--force", args->force, "replace --out if it exists");
  return [args] { return run_fisher(*args); };
}

}  // namespace weld
