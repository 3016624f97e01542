// Microbenchmarks of the method kernels, each next to a baseline measured in the same run:
// rank selection against std::nth_element on the same floats, row ranks against std::sort,
// the random generator, the statistics and merge passes of the task-arithmetic family over
// one chunk, and the fused task-arithmetic tile against memcpy of its input bytes. The dtype conversions
// have their own program, bench_convert.
//   build/bench/bench_kernels [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "methods/registry.h"
#include "tensor/rng.h"
#include "tensor/convert.h"
#include "tensor/lanes.h"
#include "tensor/rank_keep.h"
#include "tensor/row_rank.h"
#include "tensor/select.h"
#include "tensor/window_scan.h"

namespace weld {
namespace {

constexpr std::size_t kElements = std::size_t{1} << 24;  // 64 MiB of f32: beyond every cache

std::vector<float> random_floats(std::size_t n) {
  const CounterRng rng(1, "bench");
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = rng.normal(i);
  return v;
}

void set_bytes(benchmark::State& state, std::size_t bytes) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

// The median magnitude of 4 Mi values: select_rank's radix selection against nth_element.
constexpr std::size_t kSelectElements = std::size_t{1} << 22;

void BM_select_rank(benchmark::State& state) {
  const std::vector<float> values = random_floats(kSelectElements);
  std::vector<std::uint32_t> keys(values.size());
  for (auto _ : state) {
    for (std::size_t i = 0; i < values.size(); ++i) keys[i] = magnitude_key(values[i]);
    benchmark::DoNotOptimize(select_rank(keys, keys.size() / 2));
  }
  set_bytes(state, kSelectElements * sizeof(float));
}
BENCHMARK(BM_select_rank)->Unit(benchmark::kMillisecond);

void BM_nth_element(benchmark::State& state) {
  const std::vector<float> values = random_floats(kSelectElements);
  std::vector<float> copy(values.size());
  for (auto _ : state) {
    for (std::size_t i = 0; i < values.size(); ++i) copy[i] = std::abs(values[i]);
    std::nth_element(copy.begin(), copy.begin() + static_cast<std::ptrdiff_t>(copy.size() / 2), copy.end());
    benchmark::DoNotOptimize(copy[copy.size() / 2]);
  }
  set_bytes(state, kSelectElements * sizeof(float));
}
BENCHMARK(BM_nth_element)->Unit(benchmark::kMillisecond);

// DELLA's magnitude ranks within rows of 2048 values (a Llama hidden size), over 4 Mi values:
// the radix ranks against ranks from std::sort of (magnitude, index) pairs.
constexpr std::size_t kRow = 2048;

void BM_row_ranks(benchmark::State& state) {
  const std::vector<float> values = random_floats(kSelectElements);
  std::vector<std::uint32_t> work(rank_work_size(kRow)), rank(kRow);
  for (auto _ : state) {
    for (std::size_t row = 0; row < values.size(); row += kRow) {
      magnitude_ranks(std::span(values).subspan(row, kRow), work, rank);
      benchmark::DoNotOptimize(rank.data());
    }
  }
  set_bytes(state, kSelectElements * sizeof(float));
}
BENCHMARK(BM_row_ranks)->Unit(benchmark::kMillisecond);

void BM_row_ranks_by_sort(benchmark::State& state) {
  const std::vector<float> values = random_floats(kSelectElements);
  std::vector<std::uint64_t> pairs(kRow);
  std::vector<std::uint32_t> rank(kRow);
  for (auto _ : state) {
    for (std::size_t row = 0; row < values.size(); row += kRow) {
      for (std::size_t j = 0; j < kRow; ++j) pairs[j] = rank_pair(magnitude_key(values[row + j]), j);
      std::sort(pairs.begin(), pairs.end());
      for (std::size_t r = 0; r < kRow; ++r) rank[static_cast<std::uint32_t>(pairs[r])] = static_cast<std::uint32_t>(r);
      benchmark::DoNotOptimize(rank.data());
    }
  }
  set_bytes(state, kSelectElements * sizeof(float));
}
BENCHMARK(BM_row_ranks_by_sort)->Unit(benchmark::kMillisecond);

// A task vector of bf16 checkpoints: the difference of two bf16 weights (base ~ N(0, 0.02), the
// fine-tune moved by ~ N(0, 0.002)), so its values repeat as multiples of each weight's ulp.
std::vector<float> bf16_task_vector(std::size_t n) {
  const CounterRng rng(3, "task vector");
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float base = bf16_to_f32(f32_to_bf16(0.02f * rng.normal(2 * i)));
    v[i] = bf16_to_f32(f32_to_bf16(base + 0.002f * rng.normal(2 * i + 1))) - base;
  }
  return v;
}

// Four window bounds on a sample of 720 Ki keys of a bf16 task vector (breadcrumbs' two ranks
// per fine-tune on an MLP tensor): one select_rank per bound (argument 0) against one
// select_keys for all four (1).
void BM_window_bounds(benchmark::State& state) {
  constexpr std::size_t kSample = 720 * 1024;
  const std::vector<float> values = bf16_task_vector(kSample);
  std::vector<std::uint32_t> keys(kSample);
  for (std::size_t i = 0; i < kSample; ++i) keys[i] = magnitude_key(values[i]);
  const std::size_t ranks[] = {kSample / 2 - 4500, kSample / 2 + 4500, kSample * 99 / 100 - 1500,
                               kSample * 99 / 100 + 1500};
  for (auto _ : state) {
    if (state.range(0) == 0) {
      for (std::size_t rank : ranks) benchmark::DoNotOptimize(select_rank(keys, rank));
    } else {
      benchmark::DoNotOptimize(select_keys(keys, ranks));
    }
  }
  set_bytes(state, kSample * sizeof(std::uint32_t));
}
BENCHMARK(BM_window_bounds)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// The window pass of a streamed selection (tensor/window_scan.h) over the keys of 4 Mi values
// of a bf16 task vector, 4096 keys a call as the selection passes give them: a window of 1% of
// the keys around the median (argument 0, TIES at density 0.5) or around the 99th percentile
// (1, breadcrumbs' top rank), where the keys are spread thinly and the inside ones are many.
void BM_scan_window(benchmark::State& state) {
  const std::vector<float> values = bf16_task_vector(kSelectElements);
  std::vector<std::uint32_t> keys(kSelectElements);
  for (std::size_t i = 0; i < kSelectElements; ++i) keys[i] = magnitude_key(values[i]);
  std::vector<std::uint32_t> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  const double q = state.range(0) ? 0.99 : 0.5;
  const auto at = [&](double fraction) { return sorted[static_cast<std::size_t>(fraction * kSelectElements)]; };
  const std::uint32_t low = at(q - 0.005), high = at(q + 0.005);
  constexpr std::size_t kPiece = 4096;
  std::vector<std::uint32_t> inside_keys(kPiece), inside_index(kPiece);
  std::size_t inside = 0;
  for (auto _ : state) {
    inside = 0;
    for (std::size_t begin = 0; begin < kSelectElements; begin += kPiece) {
      const WindowScan scan = scan_window(std::span(keys).subspan(begin, kPiece), low, high, begin,
                                          inside_keys.data(), inside_index.data());
      inside += scan.inside;
      benchmark::DoNotOptimize(inside_keys.data());
      benchmark::DoNotOptimize(scan.below);
    }
  }
  state.counters["inside_percent"] = 100.0 * static_cast<double>(inside) / kSelectElements;
  set_bytes(state, kSelectElements * sizeof(std::uint32_t));
}
BENCHMARK(BM_scan_window)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// DELLA's keep test (density 0.5, epsilon 0.1) for rows of normal values (argument 0) or of a
// bf16 task vector (1): the draws settle most elements, a rival each of the rest.
void BM_keep_by_rank(benchmark::State& state) {
  const std::vector<float> values = state.range(0) ? bf16_task_vector(kSelectElements) : random_floats(kSelectElements);
  std::vector<float> row(kRow), u(kRow);
  std::vector<std::uint32_t> work(rank_keep_work_size(kRow));
  const CounterRng rng(2, "draws"), rivals(3, "rivals");
  rng.fill_uniform(0, u.data(), u.size());
  const RankProbability p{0.4, 0.2 / static_cast<double>(kRow - 1)};
  for (auto _ : state) {
    for (std::size_t start = 0; start < values.size(); start += kRow) {
      std::copy_n(values.begin() + static_cast<std::ptrdiff_t>(start), kRow, row.begin());
      keep_by_rank(row, u, p, rivals, start, work);
      benchmark::DoNotOptimize(row.data());
    }
  }
  set_bytes(state, kSelectElements * sizeof(float));
}
BENCHMARK(BM_keep_by_rank)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_rng_uniform(benchmark::State& state) {
  const CounterRng rng(1, "t");
  std::vector<float> out(kElements);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kElements; ++i) out[i] = rng.uniform(i);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kElements));
}
BENCHMARK(BM_rng_uniform);

// task_arithmetic over a 64 Ki tile of a base and two fine-tunes, as the executor calls it.
constexpr std::size_t kTile = std::size_t{1} << 16;

void BM_task_arithmetic_tile(benchmark::State& state) {
  const std::vector<float> b = random_floats(kTile), x1 = random_floats(kTile), x2 = random_floats(kTile);
  std::vector<float> out(kTile);
  const MethodDescriptor& m = find_method("task_arithmetic");
  MethodCall call;
  call.n_inputs = 3;
  call.base = 0;
  call.global_params = {0, 0, 0, 1.0, 0};  // weight, density (per model); normalize, lambda, int8_mask
  call.model_params = {0, 1, 0, 0, 0, /**/ 0.5, 1, 0, 0, 0, /**/ 0.5, 1, 0, 0, 0};  // [input][param]
  const float* inputs[] = {b.data(), x1.data(), x2.data()};
  for (auto _ : state) {
    m.merge_tile(call, Tile{inputs, out.data(), kTile});
    benchmark::DoNotOptimize(out.data());
  }
  set_bytes(state, 3 * kTile * sizeof(float));
}
BENCHMARK(BM_task_arithmetic_tile);

// A streamed method (of the task-arithmetic family, or sce) over one chunk (1 Mi values, rows of 2048)
// of a base and two bf16 fine-tunes, already in f32 as the executor hands them over: its
// statistics passes and its merge, tile by tile, without the file reads and writes around them.
class InMemoryReader final : public TensorReader {
 public:
  InMemoryReader(std::span<const float* const> inputs, std::span<const std::uint64_t> dims, std::uint64_t n)
      : TensorReader(n, dims, "chunk", 7), inputs_(inputs) {}
  void for_each_tile(std::uint64_t begin, std::uint64_t end, const std::function<bool(const Tile&)>& fn) const override {
    std::vector<const float*> at(inputs_.size());
    Scratch scratch;
    for (std::uint64_t first = begin; first < end; first += kTile) {
      for (std::size_t i = 0; i < inputs_.size(); ++i) at[i] = inputs_[i] + first;
      if (!fn(Tile{at, nullptr, static_cast<std::size_t>(std::min<std::uint64_t>(kTile, end - first)), first,
                   nullptr, &scratch}))
        return;
    }
  }
 private:
  std::span<const float* const> inputs_;
};

// A base and n - 1 fine-tunes, at weight 0.5, density 0.5, epsilon 0.1 and t 0.001 (nearswap's
// threshold; slerp's t is a fraction, so 0.001 keeps it near the base: the same arithmetic).
MethodCall family_call(const MethodDescriptor& m, std::size_t n = 3) {
  MethodCall call;
  call.n_inputs = n;
  call.base = 0;
  const auto value = [](const ParamDef& p) {
    return p.name == "weight" ? 0.5 : p.name == "density" ? 0.5 : p.name == "epsilon" ? 0.1 : p.name == "t" ? 0.001 : p.default_value;
  };
  for (const ParamDef& p : m.params) call.global_params.push_back(value(p));
  for (std::size_t input = 0; input < n; ++input)
    for (const ParamDef& p : m.params) call.model_params.push_back(value(p));
  return call;
}

void BM_family_chunk(benchmark::State& state, std::string_view method) {
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  const std::vector<float> b = random_floats(kChunk);
  std::vector<float> x1(kChunk), x2(kChunk), out(kChunk);
  const std::vector<float> d1 = bf16_task_vector(kChunk), d2 = bf16_task_vector(2 * kChunk);
  for (std::size_t i = 0; i < kChunk; ++i) {
    x1[i] = b[i] + d1[i];
    x2[i] = b[i] + d2[kChunk + i];
  }
  const MethodDescriptor& m = find_method(method);
  const MethodCall call = family_call(m);
  const float* inputs[] = {b.data(), x1.data(), x2.data()};
  const std::uint64_t shape[] = {kChunk / kRow, kRow};
  const InMemoryReader reader(inputs, shape, kChunk);
  Scratch scratch;
  for (auto _ : state) {
    const std::unique_ptr<TensorStats> stats = m.prepare(call, reader);
    std::vector<const float*> at(3);
    for (std::size_t first = 0; first < kChunk; first += kTile) {
      for (std::size_t i = 0; i < 3; ++i) at[i] = inputs[i] + first;
      m.merge_tile(call, Tile{at, out.data() + first, kTile, first, stats.get(), &scratch});
    }
    benchmark::DoNotOptimize(out.data());
  }
  set_bytes(state, 3 * kChunk * sizeof(float));
}
BENCHMARK_CAPTURE(BM_family_chunk, dare_linear, "dare_linear")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_family_chunk, dare_ties, "dare_ties")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_family_chunk, della, "della")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_family_chunk, ties, "ties")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_family_chunk, sce, "sce")->Unit(benchmark::kMillisecond);

// The same chunk as bf16 bytes on the fused path (merge_lanes), as the executor runs it on
// AVX-512: the passes read the inputs' bytes a block at a time, and the merge converts,
// merges and rounds 16 values a step. Arg(0): the passes and the merge; Arg(1): the merge
// alone, from statistics prepared once.
class InMemoryLaneReader final : public TensorReader {
 public:
  InMemoryLaneReader(std::span<const std::vector<float>> values, std::span<const std::vector<std::byte>> bytes,
                     std::span<const std::uint64_t> dims, std::uint64_t n)
      : TensorReader(n, dims, "chunk", 7), values_(values), bytes_(bytes) {}
  void for_each_tile(std::uint64_t begin, std::uint64_t end, const std::function<bool(const Tile&)>& fn) const override {
    std::vector<const float*> at(values_.size());
    Scratch scratch;
    for (std::uint64_t first = begin; first < end; first += kTile) {
      for (std::size_t i = 0; i < values_.size(); ++i) at[i] = values_[i].data() + first;
      if (!fn(Tile{at, nullptr, static_cast<std::size_t>(std::min<std::uint64_t>(kTile, end - first)), first,
                   nullptr, &scratch}))
        return;
    }
  }
  bool has_lanes() const override { return true; }
  void for_each_lane_block(std::uint64_t first, std::uint64_t end, const LaneBlockFn& fn) const override {
    for (std::uint64_t begin = first; begin < end; begin = (begin / kTile + 1) * kTile) {
      const std::uint64_t n = std::min<std::uint64_t>((begin / kTile + 1) * kTile, end) - begin;
      if (!fn(lane_span(begin, n, nullptr), begin)) return;
    }
  }
  LaneSpan lane_span(std::uint64_t begin, std::uint64_t n, std::byte* out) const {
    at_.resize(bytes_.size());
    for (std::size_t i = 0; i < bytes_.size(); ++i) at_[i] = bytes_[i].data() + 2 * begin;
    return LaneSpan{at_, out, static_cast<std::size_t>(n), DType::kBF16};
  }
 private:
  std::span<const std::vector<float>> values_;
  std::span<const std::vector<std::byte>> bytes_;
  mutable std::vector<const std::byte*> at_;
};

void BM_family_lanes(benchmark::State& state, std::string_view method, std::size_t n_inputs = 3) {
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  if (!lanes_are_fused()) {
    state.SkipWithError("no fused path on this machine (it needs AVX-512)");
    return;
  }
  std::vector<std::vector<float>> values(n_inputs, std::vector<float>(kChunk));
  values[0] = random_floats(kChunk);
  const std::vector<float> d1 = bf16_task_vector(kChunk), d2 = bf16_task_vector(2 * kChunk);
  for (std::size_t i = 0; i < kChunk; ++i) {
    values[1][i] = values[0][i] + d1[i];
    if (n_inputs > 2) values[2][i] = values[0][i] + d2[kChunk + i];
  }
  std::vector<std::vector<std::byte>> bytes(n_inputs, std::vector<std::byte>(2 * kChunk));
  for (std::size_t i = 0; i < n_inputs; ++i) {
    from_f32(DType::kBF16, values[i].data(), bytes[i].data(), kChunk);
    to_f32(DType::kBF16, bytes[i].data(), values[i].data(), kChunk);  // the values the bytes hold
  }
  std::vector<std::byte> out(2 * kChunk);
  const MethodDescriptor& m = find_method(method);
  const MethodCall call = family_call(m, n_inputs);
  const std::uint64_t shape[] = {kChunk / kRow, kRow};
  const InMemoryLaneReader reader(values, bytes, shape, kChunk);
  const bool merge_only = state.range(0) == 1 || m.prepare == nullptr;
  std::unique_ptr<TensorStats> stats = m.prepare ? m.prepare(call, reader) : nullptr;
  for (auto _ : state) {
    if (!merge_only) stats = m.prepare(call, reader);
    for (std::size_t first = 0; first < kChunk; first += kTile)
      if (!m.merge_lanes(call, LaneTile{reader.lane_span(first, kTile, out.data() + 2 * first), first, stats.get()}))
        state.SkipWithError("the method declined the fused path");
    benchmark::DoNotOptimize(out.data());
  }
  set_bytes(state, n_inputs * kChunk * 2);
}
BENCHMARK_CAPTURE(BM_family_lanes, dare_linear, "dare_linear")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_family_lanes, ties, "ties")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_family_lanes, dare_ties, "dare_ties")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_family_lanes, della, "della")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_family_lanes, sce, "sce")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
// Element-wise methods (no passes: Arg(1) only), and those whose passes take a dot product.
BENCHMARK_CAPTURE(BM_family_lanes, linear, "linear")->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_family_lanes, task_arithmetic, "task_arithmetic")->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_family_lanes, nearswap, "nearswap", 2)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_family_lanes, slerp, "slerp", 2)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_family_lanes, model_stock, "model_stock")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_memcpy_tile_inputs(benchmark::State& state) {
  const std::size_t bytes = 3 * kTile * sizeof(float);
  std::vector<std::byte> in(bytes, std::byte{1}), out(bytes);
  for (auto _ : state) {
    std::memcpy(out.data(), in.data(), bytes);
    benchmark::DoNotOptimize(out.data());
  }
  set_bytes(state, bytes);
}
BENCHMARK(BM_memcpy_tile_inputs);

}  // namespace
}  // namespace weld

BENCHMARK_MAIN();
