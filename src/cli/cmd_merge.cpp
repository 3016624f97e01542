// weld merge CONFIG OUT_DIR: plan the whole merge from headers, then stream it into a
// temporary directory that is renamed to OUT_DIR only when complete.
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>

#include "cli/commands.h"
#include "plan/describe.h"
#include "plan/executor.h"
#include "plan/output_files.h"
#include "plan/progress.h"
#include "util/log.h"
#include "util/parallel.h"

#ifndef WELD_VERSION
#define WELD_VERSION "0.0.0"
#endif

namespace weld {
namespace {

// Fixed so that runs are reproducible without asking; recorded in the model card.
constexpr std::uint64_t kDefaultSeed = 42;

enum class ReadChoice { kAuto, kPread, kMmap };

InputReads input_reads(ReadChoice choice, const MergePlan& plan) {
  if (choice == ReadChoice::kPread) return InputReads::kPread;
  if (choice == ReadChoice::kMmap) return InputReads::kMmap;
  std::optional<ReadProbe> probe;
  const InputReads reads = choose_input_reads(plan, &probe);
  if (probe)
    log_verbose("reading inputs with {}: {:.2f} ms through the map, {:.2f} ms copied, for {} MiB",
                reads == InputReads::kMmap ? "mmap" : "pread", probe->mapped_seconds * 1e3,
                probe->copied_seconds * 1e3, kProbePieces * kProbePieceBytes >> 20);
  return reads;
}

struct MergeArgs {
  std::string config;
  std::string out_dir;
  std::string shard_size = "5B";
  unsigned threads = hardware_threads();
  std::uint64_t seed = kDefaultSeed;
  bool dry_run = false;
  bool force = false;
  bool post_weights_at_end = false;
  bool whole_tensors = false;
  ReadChoice reads = ReadChoice::kAuto;
  OutputWrites writes = OutputWrites::kCached;
};

int run_merge(const MergeArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  const Recipe recipe = load_recipe(args.config);
  ModelSet models;
  PlanOptions options;
  options.max_shard_bytes = parse_size(args.shard_size);
  options.post_weights_at_end = args.post_weights_at_end;
  options.seed = args.seed;
  const MergePlan plan = plan_merge(recipe, models, options);
  const ExecuteOptions execute{.threads = args.threads, .reads = input_reads(args.reads, plan),
                               .writes = args.writes, .whole_tensors = args.whole_tensors};
  log_verbose("plan: {} tensors, {} shard{}, {} working memory on {} threads", plan.tensors.size(),
              plan.shards.file_names.size(), plan.shards.file_names.size() == 1 ? "" : "s",
              format_bytes(working_memory_bytes(plan, execute)), args.threads);
  if (args.dry_run) {
    std::fputs(describe_plan(plan, execute).c_str(), stdout);
    return 0;
  }
  OutputDir out(args.out_dir, args.force);
  write_tensors(plan, out, execute);
  write_output_files(plan, out, {.weld_version = WELD_VERSION, .seed = args.seed});
  out.commit();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log_info("{}: {} tensors in {} shard{} with {} ({} read, {} written) in {:.2f}s", out.final_path(),
           plan.tensors.size(), plan.shards.file_names.size(),
           plan.shards.file_names.size() == 1 ? "" : "s", plan.method->name,
           format_bytes(plan.bytes_in), format_bytes(plan.bytes_out), seconds);
  return 0;
}

}  // namespace

CommandAction setup_merge(CLI::App& command) {
  auto args = std::make_shared<MergeArgs>();
  command.add_option("config", args->config, "mergekit-style YAML config")->required();
  command.add_option("out_dir", args->out_dir, "output model directory")->required();
  command.add_option("--out-shard-size", args->shard_size,
                     "largest output shard; K, M, B are decimal (default 5B)");
  command.add_option("-j,--threads", args->threads, "worker threads (default: all cores)")
      ->check(CLI::Range(1u, 1024u));
  command.add_option("--seed", args->seed, "seed of random methods (default 42)");
  command.add_flag("--dry-run", args->dry_run,
                   "print the plan (every tensor, inputs, parameters, memory); write nothing");
  command.add_flag("--force", args->force, "replace OUT_DIR if it exists and is not empty");
  command.add_flag("--post-weights-at-end", args->post_weights_at_end,
                   "evaluate gradients for final norm and lm_head at t=1 (older mergekit) not t=0");
  command.add_option("--read", args->reads,
                     "how inputs are read: pread (copied a tile at a time), mmap (straight from the "
                     "maps) or auto (the default: whichever a probe of both on an input finds "
                     "faster on this machine); the same bytes either way")
      ->transform(CLI::CheckedTransformer(std::map<std::string, ReadChoice>{
          {"auto", ReadChoice::kAuto}, {"pread", ReadChoice::kPread}, {"mmap", ReadChoice::kMmap}}));
  command.add_option("--write", args->writes,
                     "how the output is written: cached (through the page cache, the default) or "
                     "direct (around it, with O_DIRECT, where the file system allows it: faster on "
                     "a VM that hands freed memory back to its host); the same bytes either way")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, OutputWrites>{{"cached", OutputWrites::kCached}, {"direct", OutputWrites::kDirect}}));
  command.add_flag("--whole-tensors", args->whole_tensors,
                   "merge each tensor whole in memory, not streamed in tiles: the simple reference "
                   "path, for checking (same bytes, more memory)");
  return [args] { return run_merge(*args); };
}

}  // namespace weld
