// The merge benchmark: weld against the physical floor, in the same run.
//
//   bench_merge [--work DIR] [--runs 3] [--double-layers] [--small] [--vocab 32000]
//               [--methods a,b,...] [--json FILE] [--weld build/weld]
//               [--floor build/bench/bench_floor] [--read pread|mmap] [--write cached|direct]
//
// Generates (once) a base and two fine-tunes shaped like a 1B-parameter Llama with
// `weld synth` (hidden 2048, 22 layers or 44 with --double-layers, intermediate 5632, vocab
// 32000 or --vocab's, bf16, 2 GB shards; --small is a quick 2-layer version; the embedding and
// lm_head grow with the vocabulary, 128256 making them the largest tensors Llama 3 has), then
// for each run and method
// times the floor program on the method's input files three times (reading them mapped, the
// issue's floor; copied with pread, the floor of `weld merge --read pread`; and copied
// twice over, the floor of a method that makes a pass for a whole-tensor statistic), and
// `weld merge` of that method (with `--read` and `--write` as given, else weld's defaults), one after the
// other, with a warm page cache. It reports medians, the ratio to each floor, GB/s of bytes
// read plus written, the peak anonymous memory (RssAnon high-water, sampled every 2 ms:
// memory-mapped file pages do not count) and how many times over weld read its inputs' bytes
// (a method with a pass for a whole-tensor statistic reads some of them twice).
//
// Before each timed command it reads that command's inputs again and then writes and deletes
// a file of the output's size (see refresh_free_memory), so that the floor and weld both start
// from a warm page cache and the same free memory. (The inputs are read again because a
// virtual machine may page out page cache that has gone unread for a while: the one
// docs/performance.md names runs DAMON with a pageout scheme, which dropped idle input pages
// between runs, so that some runs read them from disk.)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Options {
  std::string work = "bench-work";
  std::string weld = "build/weld";
  std::string floor = "build/bench/bench_floor";
  std::string json;
  std::string read;  // weld merge's --read, if given
  std::string write;  // weld merge's --write, if given
  int runs = 3;
  std::string vocab = "32000";
  bool double_layers = false;
  bool small = false;
  std::vector<std::string> methods = {"linear", "task_arithmetic", "ties", "dare_ties", "dare_linear",
                                      "della", "breadcrumbs", "slerp", "model_stock", "nearswap", "sce"};
};

struct Measurement {
  double seconds;
  std::uint64_t peak_anon_bytes;
  std::uint64_t bytes_read;  // by read and pread (rchar): what a method's passes re-read shows here
  int status;
};

// RssAnon of the process, once it runs `program`: between fork and exec the child is still a
// copy of this benchmark, whose own memory must not count (it had added up to 0.8 MB to the
// peaks, more the more tensors the models have). /proc's Name is the first 15 bytes of it.
std::uint64_t rss_anon_bytes(pid_t pid, const std::string& program) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  const std::string name = fs::path(program).filename().string().substr(0, 15);
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Name:", 0) == 0 && line.substr(line.find_first_not_of(" \t", 5)) != name) return 0;
    if (line.rfind("RssAnon:", 0) == 0) return std::stoull(line.substr(8)) * 1024;  // kB
  }
  return 0;
}

// The bytes the process read with read() and pread() (rchar of /proc/<pid>/io): the inputs'
// bytes, as often as its passes read them, and a few of configs and headers. Reads of a
// memory map do not count. The exited child's totals stay readable until it is reaped.
std::uint64_t bytes_read(pid_t pid) {
  std::ifstream io("/proc/" + std::to_string(pid) + "/io");
  std::string line;
  while (std::getline(io, line))
    if (line.rfind("rchar:", 0) == 0) return std::stoull(line.substr(6));
  return 0;
}

// Virtual machines may hand the memory their guest frees back to the host (virtio-balloon's
// free page reporting does, within a second, on the machine docs/performance.md names).
// Writing the 2.2 GB output into the page cache then took 3.5-6.5 s instead of 0.5 s there,
// each page faulting in on the host, and which timed command paid that depended on what ran
// before it. Writing and deleting a file of the output's size just before each one leaves
// that much memory freshly freed in the guest, as a machine that keeps its memory would have.
void refresh_free_memory(const fs::path& file, std::uint64_t bytes) {
  const std::vector<char> chunk(std::size_t{4} << 20, 1);
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    for (std::uint64_t written = 0; written < bytes && out; written += chunk.size())
      out.write(chunk.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(chunk.size(), bytes - written)));
  }
  fs::remove(file);
}

Measurement run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    ::execv(argv[0], argv.data());
    std::perror(argv[0]);
    std::_Exit(127);
  }
  Measurement m{0, 0, 0, -1};
  for (;;) {
    m.peak_anon_bytes = std::max(m.peak_anon_bytes, rss_anon_bytes(pid, args[0]));
    siginfo_t exited{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &exited, WEXITED | WNOHANG | WNOWAIT) == 0 && exited.si_pid == pid) {
      m.bytes_read = bytes_read(pid);
      int status = 0;
      ::waitpid(pid, &status, 0);
      m.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return m;
}

std::vector<std::string> safetensors_files(const fs::path& model) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(model))
    if (entry.path().extension() == ".safetensors") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::uint64_t total_size(const std::vector<std::string>& files) {
  std::uint64_t bytes = 0;
  for (const std::string& f : files) bytes += fs::file_size(f);
  return bytes;
}

// Which models a method reads and the config that merges them, with the parameters its
// users typically pick.
struct Recipe {
  std::vector<std::string> models;
  std::string yaml;
};

Recipe recipe_for(const std::string& method, const fs::path& models) {
  const std::string b = (models / "base").string(), x1 = (models / "ft-1").string(),
                    x2 = (models / "ft-2").string();
  const std::string two_fine_tunes = "models:\n  - model: " + x1 + "\n  - model: " + x2 + "\n";
  const std::string header = "merge_method: " + method + "\nbase_model: " + b + "\n";
  if (method == "linear")
    return {{b, x1, x2}, "merge_method: linear\nparameters: {weight: 1.0}\nmodels:\n  - model: " + b +
                             "\n  - model: " + x1 + "\n  - model: " + x2 + "\n"};
  if (method == "slerp") return {{b, x1}, header + "parameters: {t: 0.5}\nmodels:\n  - model: " + x1 + "\n"};
  if (method == "nearswap")
    return {{b, x1}, header + "parameters: {t: 0.001}\nmodels:\n  - model: " + x1 + "\n"};
  if (method == "model_stock" || method == "sce") return {{b, x1, x2}, header + two_fine_tunes};
  std::string params = "parameters: {weight: 0.5";
  if (method != "task_arithmetic") params += ", density: 0.5";
  if (method == "breadcrumbs") params += ", gamma: 0.01";
  if (method == "della") params += ", epsilon: 0.1";
  return {{b, x1, x2}, header + params + "}\n" + two_fine_tunes};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

void generate_models(const Options& o, const fs::path& models) {
  if (fs::exists(models / "ft-2" / "config.json")) return;
  const std::string layers = o.small ? "2" : o.double_layers ? "44" : "22";
  std::fprintf(stderr, "generating %s-layer models in %s\n", layers.c_str(), models.c_str());
  const Measurement m = run({o.weld, "synth", "-q", models.string(), "--force", "--layers", layers,
                             "--hidden", "2048", "--intermediate", "5632", "--vocab", o.vocab,
                             "--heads", "32", "--kv-heads", "4", "--dtype", "bfloat16",
                             "--shard-size", "2B", "--fine-tunes", "2"});
  if (m.status != 0) {
    std::fprintf(stderr, "weld synth failed\n");
    std::exit(1);
  }
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--work") o.work = value();
    else if (a == "--weld") o.weld = value();
    else if (a == "--floor") o.floor = value();
    else if (a == "--json") o.json = value();
    else if (a == "--read") o.read = value();
    else if (a == "--write") o.write = value();
    else if (a == "--runs") o.runs = std::stoi(value());
    else if (a == "--vocab") o.vocab = std::to_string(std::stoul(value()));
    else if (a == "--double-layers") o.double_layers = true;
    else if (a == "--small") o.small = true;
    else if (a == "--methods") {
      o.methods.clear();
      std::stringstream list(value());
      for (std::string m; std::getline(list, m, ',');) o.methods.push_back(m);
    } else {
      std::fprintf(stderr, "unknown option %s (see the comment at the top of bench/bench_merge.cpp)\n", a.c_str());
      std::exit(2);
    }
  }
  return o;
}

struct Result {
  std::string method;
  std::vector<double> weld_seconds, floor_seconds, pread_floor_seconds, two_read_floor_seconds;
  std::uint64_t peak_anon = 0, floor_peak_anon = 0, bytes = 0;
  std::uint64_t in_bytes = 0, weld_read_bytes = 0;  // the inputs' size; what weld read of them, at most
  bool failed = false;
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const fs::path work = fs::absolute(o.work);
  const fs::path models = work / ((o.small ? "models-small" : o.double_layers ? "models-44" : "models-22") +
                                  std::string(o.vocab == "32000" ? "" : "-v" + o.vocab));
  // A config per method and model set: the 44-layer run leaves the 22-layer configs as they were.
  const fs::path configs = work / "configs" / models.filename();
  fs::create_directories(configs);
  generate_models(o, models);
  const std::uint64_t out_bytes = total_size(safetensors_files(models / "base"));
  const std::string out_file = (work / "floor.out").string();

  std::vector<Result> results;
  for (const std::string& method : o.methods) {
    results.emplace_back();
    results.back().method = method;
  }

  for (int r = 0; r < o.runs; ++r) {
    for (Result& res : results) {
      const Recipe recipe = recipe_for(res.method, models);
      const fs::path config = configs / (res.method + ".yml");
      std::ofstream(config) << recipe.yaml;
      std::vector<std::string> floor_args = {o.floor, out_file, std::to_string(out_bytes)};
      std::uint64_t in_bytes = 0;
      for (const std::string& m : recipe.models) {
        const std::vector<std::string> files = safetensors_files(m);
        floor_args.insert(floor_args.end(), files.begin(), files.end());
        in_bytes += total_size(files);
      }
      res.bytes = in_bytes + out_bytes;
      res.in_bytes = in_bytes;
      const fs::path refresh_file = work / "refresh.tmp";
      std::vector<std::string> read_inputs = floor_args;
      read_inputs[2] = "0";  // the floor program, writing nothing
      const auto prepare = [&] {
        ::sync();  // the previous run's output is on disk, not being written back during this one
        run(read_inputs);
        refresh_free_memory(refresh_file, out_bytes);
      };
      prepare();
      const Measurement floor = run(floor_args);
      fs::remove(out_file);
      std::vector<std::string> pread_floor_args = floor_args;
      pread_floor_args.insert(pread_floor_args.begin() + 1, "--pread");
      prepare();
      const Measurement pread_floor = run(pread_floor_args);
      fs::remove(out_file);
      std::vector<std::string> two_read_floor_args = pread_floor_args;  // the input files once more
      two_read_floor_args.insert(two_read_floor_args.end(), pread_floor_args.begin() + 4, pread_floor_args.end());
      prepare();
      const Measurement two_read_floor = run(two_read_floor_args);
      fs::remove(out_file);
      const fs::path out_dir = work / ("out-" + res.method);
      fs::remove_all(out_dir);
      prepare();
      std::vector<std::string> merge_args = {o.weld, "merge", "-q", config.string(), out_dir.string()};
      if (!o.read.empty()) merge_args.insert(merge_args.end(), {"--read", o.read});
      if (!o.write.empty()) merge_args.insert(merge_args.end(), {"--write", o.write});
      const Measurement merge = run(merge_args);
      fs::remove_all(out_dir);
      res.floor_seconds.push_back(floor.seconds);
      res.pread_floor_seconds.push_back(pread_floor.seconds);
      res.two_read_floor_seconds.push_back(two_read_floor.seconds);
      res.weld_seconds.push_back(merge.seconds);
      res.peak_anon = std::max(res.peak_anon, merge.peak_anon_bytes);
      res.weld_read_bytes = std::max(res.weld_read_bytes, merge.bytes_read);
      res.floor_peak_anon = std::max(res.floor_peak_anon, floor.peak_anon_bytes);
      res.failed |= merge.status != 0;
      std::fprintf(stderr, "run %d %-16s floor %.2fs  pread floor %.2fs  two-read floor %.2fs  weld %.2fs%s\n",
                   r + 1, res.method.c_str(), floor.seconds, pread_floor.seconds, two_read_floor.seconds, merge.seconds,
                   merge.status ? "  (failed)" : "");
    }
  }

  std::printf("%-16s %9s %9s %8s %13s %12s %9s %8s %9s %14s %11s\n", "method", "seconds", "floor s", "ratio",
              "pread floor s", "pread ratio", "2-read s", "2-read x", "GB/s", "peak anon MB", "reads x in");
  std::string json = "{\"layers\": " + std::string(o.small ? "2" : o.double_layers ? "44" : "22") +
                     ", \"runs\": " + std::to_string(o.runs) + ", \"read\": \"" +
                     (o.read.empty() ? "default" : o.read) + "\", \"write\": \"" +
                     (o.write.empty() ? "default" : o.write) + "\", \"results\": [";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    const double s = median(r.weld_seconds), f = median(r.floor_seconds), p = median(r.pread_floor_seconds),
                 t = median(r.two_read_floor_seconds);
    // How many times over weld read its inputs' bytes (0 when it read them through the maps).
    const double reads = static_cast<double>(r.weld_read_bytes) / static_cast<double>(r.in_bytes);
    std::printf("%-16s %9.2f %9.2f %8.2f %13.2f %12.2f %9.2f %8.2f %9.2f %14.1f %11.2f%s\n", r.method.c_str(), s,
                f, s / f, p, s / p, t, s / t, static_cast<double>(r.bytes) / s / 1e9, static_cast<double>(r.peak_anon) / 1e6, reads,
                r.failed ? "  FAILED" : "");
    char entry[640];
    std::snprintf(entry, sizeof entry,
                  "%s{\"method\": \"%s\", \"seconds\": %.4f, \"floor_seconds\": %.4f, \"ratio\": %.4f, "
                  "\"pread_floor_seconds\": %.4f, \"pread_ratio\": %.4f, \"two_read_floor_seconds\": %.4f, "
                  "\"two_read_ratio\": %.4f, \"gb_per_s\": %.4f, \"peak_anon_bytes\": %llu, \"floor_peak_anon_bytes\": %llu, "
                  "\"weld_read_bytes\": %llu, \"failed\": %s}",
                  i ? ", " : "", r.method.c_str(), s, f, s / f, p, s / p, t, s / t, static_cast<double>(r.bytes) / s / 1e9,
                  static_cast<unsigned long long>(r.peak_anon), static_cast<unsigned long long>(r.floor_peak_anon),
                  static_cast<unsigned long long>(r.weld_read_bytes), r.failed ? "true" : "false");
    json += entry;
  }
  json += "]}\n";
  if (!o.json.empty()) std::ofstream(o.json) << json;
  return 0;
}
