// weld synth OUT_DIR: a base and N fine-tunes shaped like a small Llama (see synth/synth.h).
#include <memory>

#include "cli/commands.h"
#include "synth/synth.h"
#include "util/error.h"
#include "util/log.h"
#include "util/parallel.h"

namespace weld {
namespace {

// "bytes" or a positive count.
std::size_t parse_vocab(const std::string& text, bool& bytes) {
  bytes = text == "bytes";
  if (bytes) return 256;
  std::size_t used = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || n == 0)
    throw UsageError(fmt::format("--vocab must be a positive number or 'bytes', got '{}'", text));
  return static_cast<std::size_t>(n);
}

}  // namespace

CommandAction setup_synth(CLI::App& command) {
  struct Args {
    std::string out_dir;
    SynthOptions options;
    std::string dtype = "bfloat16";
    std::string shard_size = "5B";
    std::string vocab = "256";
  };
  auto args = std::make_shared<Args>();
  SynthOptions& o = args->options;
  o.threads = hardware_threads();
  command.add_option("out_dir", args->out_dir, "directory to write base/ and ft-1/ .. ft-N/ into")
      ->required();
  command.add_option("--layers", o.layers, "decoder layers (default 4)");
  command.add_option("--hidden", o.hidden, "hidden size (default 64)");
  command.add_option("--intermediate", o.intermediate, "MLP size (default 176)");
  command.add_option("--vocab", args->vocab,
                     "vocabulary size, or 'bytes': 256 ids that are the bytes (default 256)");
  command.add_option("--heads", o.heads, "attention heads (default 4)");
  command.add_option("--kv-heads", o.kv_heads, "key/value heads (default 2)");
  command.add_option("--fine-tunes", o.fine_tunes, "number of fine-tunes (default 2)");
  command.add_option("--dtype", args->dtype, "float32, float16 or bfloat16 (default bfloat16)");
  command.add_option("--shard-size", args->shard_size, "largest shard; K, M, B decimal (default 5B)");
  command.add_option("--seed", o.seed, "seed (default 1)");
  command.add_flag("--tie-embeddings", o.tie_embeddings, "no lm_head: tied to the embeddings");
  command.add_option("-j,--threads", o.threads, "worker threads (default: all cores)")
      ->check(CLI::Range(1u, 1024u));
  command.add_flag("--force", o.force, "replace OUT_DIR if it exists and is not empty");
  return [args] {
    SynthOptions options = args->options;
    const std::optional<DType> dtype = parse_torch_dtype(args->dtype);
    if (!dtype) throw UsageError(fmt::format("--dtype must be float32, float16 or bfloat16, got '{}'", args->dtype));
    options.dtype = *dtype;
    options.max_shard_bytes = parse_size(args->shard_size);
    options.vocab = parse_vocab(args->vocab, options.byte_vocab);
    write_synth_family(args->out_dir, options);
    log_info("{}: base and {} fine-tune{} ({} layers, hidden {}, {})", args->out_dir,
             options.fine_tunes, options.fine_tunes == 1 ? "" : "s", options.layers, options.hidden,
             torch_dtype_name(options.dtype));
    return 0;
  };
}

}  // namespace weld
