// weld eval MODEL_DIR... --tokens FILE | --text FILE [--context N] [--stride S] [--batch B]
//           [--json]: mean negative log-likelihood and perplexity (see eval/perplexity.h).
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/token_input.h"
#include "cli/token_progress.h"
#include "eval/perplexity.h"
#include "eval/tokens.h"
#include "model/model.h"
#include "util/error.h"
#include "util/log.h"
#include "util/parallel.h"

namespace weld {
namespace {

struct EvalArgs {
  std::vector<std::string> models;
  TokenInput input;
  EvalOptions options;
  bool json = false;
};

struct Row {
  std::string model;
  EvalResult result;
};

nlohmann::ordered_json row_json(const Row& row, bool text) {
  const EvalResult& r = row.result;
  nlohmann::ordered_json j = {
      {"tokens", r.tokens},
      {"nll", r.nll},
      {"perplexity", r.perplexity},
      {"seconds", r.seconds},
      {"tokens_per_second", r.seconds > 0 ? static_cast<double>(r.tokens) / r.seconds : 0.0}};
  if (text) j["bits_per_byte"] = r.nll / std::log(2.0);
  return j;
}

void print_table(const std::vector<Row>& rows, bool text) {
  std::size_t width = 5;
  for (const Row& row : rows) width = std::max(width, row.model.size());
  std::printf("%-*s %10s %10s %12s%s %10s\n", static_cast<int>(width), "model", "tokens", "nll",
              "perplexity", text ? "  bits/byte" : "", "tokens/s");
  for (const Row& row : rows) {
    const EvalResult& r = row.result;
    std::printf("%-*s %10zu %10.5f %12.4f", static_cast<int>(width), row.model.c_str(), r.tokens,
                r.nll, r.perplexity);
    if (text) std::printf(" %10.5f", r.nll / std::log(2.0));
    std::printf(" %10.1f\n", r.seconds > 0 ? static_cast<double>(r.tokens) / r.seconds : 0.0);
  }
}

int run_eval(const EvalArgs& args) {
  const bool text = args.input.is_text();
  const std::vector<std::uint32_t> tokens = args.input.read();
  std::vector<Row> rows;
  for (const std::string& path : args.models) {
    const Model model = load_model(path, args.options.threads);
    if (text && model.config.vocab < 256)
      fail("model '{}': --text needs a byte vocabulary (256 ids or more), the model has {}", path,
           model.config.vocab);
    with_context(fmt::format("model '{}'", path), [&] {
      check_token_ids(tokens, model.config.vocab, args.input.path());
    });
    TokenProgress progress(path);
    const EvalResult result = with_context(fmt::format("model '{}'", path), [&] {
      return evaluate(model, tokens, args.options,
                      [&](std::size_t done, std::size_t total) { progress.update(done, total); });
    });
    progress.finish();
    rows.push_back({path, result});
  }
  if (args.json && rows.size() == 1) {
    std::printf("%s\n", row_json(rows[0], text).dump().c_str());
  } else if (args.json) {
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (const Row& row : rows) {
      nlohmann::ordered_json j = {{"model", row.model}};
      j.update(row_json(row, text));
      all.push_back(j);
    }
    std::printf("%s\n", all.dump().c_str());
  } else {
    print_table(rows, text);
  }
  return 0;
}

}  // namespace

CommandAction setup_eval(CLI::App& command) {
  auto args = std::make_shared<EvalArgs>();
  EvalOptions& o = args->options;
  o.threads = hardware_threads();
  command.add_option("model_dir", args->models, "model directories (several: a table)")->required();
  args->input.add_options(command);
  command
      .add_option("--context", o.context,
                  "window length (default max_position_embeddings, at most 1024)")
      ->check(CLI::PositiveNumber);
  command.add_option("--stride", o.stride, "window step; < context scores only new tokens")
      ->check(CLI::PositiveNumber);
  command.add_option("--batch", o.batch, "windows per forward pass (default 1)")
      ->check(CLI::PositiveNumber);
  command.add_option("-j,--threads", o.threads, "worker threads (default: all cores)")
      ->check(CLI::Range(1u, 1024u));
  command.add_flag("--json", args->json, "print one JSON object on the last line");
  return [args] { return run_eval(*args); };
}

}  // namespace weld
