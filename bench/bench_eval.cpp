// The eval / Fisher benchmark: tokens per second of weld's forward pass (weld eval) and of
// forward + backward (weld fisher) on a ~100M-parameter Llama-shaped model, and the share
// of that time spent inside sgemm (the rest: attention softmax, norms, RoPE, log-softmax,
// weight conversion is not timed).
//
//   bench_eval [--work DIR] [--tokens 4096] [--context 512] [--batch 4] [--samples 2]
//              [--threads N] [--small]
//
// Generates (once) with weld's synth: hidden 768, 12 layers, 12 heads over 4 key/value
// heads, intermediate 2048, vocab 32000, tied embeddings, bf16: 101M parameters
// (--small: 2 layers, hidden 256, for a quick check). Token ids are a fixed pseudo-random
// stream.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "eval/fisher.h"
#include "eval/perplexity.h"
#include "model/blas.h"
#include "model/model.h"
#include "synth/synth.h"
#include "tensor/rng.h"
#include "util/log.h"
#include "util/parallel.h"

namespace fs = std::filesystem;

namespace {

struct Options {
  std::string work = "bench-work/eval";
  std::size_t tokens = 4096;
  std::size_t context = 512;
  std::size_t batch = 4;
  std::size_t samples = 2;
  unsigned threads = weld::hardware_threads();
  bool small = false;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_eval: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--work")
      o.work = next();
    else if (a == "--tokens")
      o.tokens = std::stoul(next());
    else if (a == "--context")
      o.context = std::stoul(next());
    else if (a == "--batch")
      o.batch = std::stoul(next());
    else if (a == "--samples")
      o.samples = std::stoul(next());
    else if (a == "--threads")
      o.threads = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--small")
      o.small = true;
    else {
      std::fprintf(stderr, "bench_eval: unknown option %s\n", a.c_str());
      std::exit(2);
    }
  }
  return o;
}

std::string ensure_model(const Options& o) {
  const std::string dir = o.work + (o.small ? "/small" : "/m100");
  if (fs::exists(dir + "/base/config.json")) return dir + "/base";
  weld::SynthOptions s;
  s.layers = o.small ? 2 : 12;
  s.hidden = o.small ? 256 : 768;
  s.intermediate = o.small ? 688 : 2048;
  s.heads = o.small ? 4 : 12;
  s.kv_heads = 4;
  s.vocab = 32000;
  s.fine_tunes = 0;
  s.tie_embeddings = true;
  s.threads = o.threads;
  s.force = true;
  fs::create_directories(o.work);
  weld::write_synth_family(dir, s);
  return dir + "/base";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  weld::set_verbosity(weld::Verbosity::kQuiet);
  try {
    const std::string path = ensure_model(o);
    auto start = std::chrono::steady_clock::now();
    const weld::Model model = weld::load_model(path, o.threads);
    const double load_s = seconds_since(start);
    std::printf("model: %s, %.1fM parameters, loaded in %.2fs; %u threads\n", path.c_str(),
                static_cast<double>(model.weights.n_params()) / 1e6, load_s, o.threads);

    std::vector<std::uint32_t> tokens(o.tokens);
    const weld::CounterRng rng(1, "bench-tokens");
    for (std::size_t i = 0; i < tokens.size(); ++i)
      tokens[i] = static_cast<std::uint32_t>(rng.bits(i) % model.config.vocab);

    weld::EvalOptions e;
    e.context = o.context;
    e.batch = o.batch;
    e.threads = o.threads;
    std::uint64_t gemm0 = weld::gemm_nanoseconds();
    const weld::EvalResult r = weld::evaluate(model, tokens, e);
    double gemm_s = static_cast<double>(weld::gemm_nanoseconds() - gemm0) / 1e9;
    std::printf(
        "eval:   %zu tokens (context %zu, batch %zu) in %.2fs = %.1f tokens/s; "
        "sgemm %.2fs = %.0f%%; nll %.4f\n",
        r.tokens, o.context, o.batch, r.seconds, static_cast<double>(r.tokens) / r.seconds, gemm_s,
        100 * gemm_s / r.seconds, r.nll);

    weld::FisherOptions f;
    f.context = o.context;
    f.samples = o.samples;
    f.threads = o.threads;
    gemm0 = weld::gemm_nanoseconds();
    const weld::FisherResult fr = weld::compute_fisher(model, tokens, f);
    gemm_s = static_cast<double>(weld::gemm_nanoseconds() - gemm0) / 1e9;
    std::printf(
        "fisher: %zu sequences of %zu tokens in %.2fs = %.1f tokens/s; sgemm %.2fs = "
        "%.0f%%\n",
        fr.sequences, o.context, fr.seconds,
        static_cast<double>(fr.sequences * o.context) / fr.seconds, gemm_s,
        100 * gemm_s / fr.seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_eval: %s\n", e.what());
    return 1;
  }
  return 0;
}
