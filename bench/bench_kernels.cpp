// Microbenchmarks of the kernels every merged byte goes through, each next to a baseline
// measured in the same run: conversions against memcpy of the same input bytes, rank
// selection against std::nth_element on the same floats, the random generator, and the
// fused task-arithmetic tile against memcpy of its input bytes.
//   build/bench/bench_kernels [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "methods/registry.h"
#include "tensor/convert.h"
#include "tensor/rng.h"
#include "tensor/select.h"

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

void BM_memcpy(benchmark::State& state) {
  const std::size_t bytes = kElements * static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> in(bytes, std::byte{1}), out(bytes);
  for (auto _ : state) {
    std::memcpy(out.data(), in.data(), bytes);
    benchmark::DoNotOptimize(out.data());
  }
  set_bytes(state, bytes);
}
BENCHMARK(BM_memcpy)->Arg(2)->Arg(4);  // the bytes of a bf16 input, and of an f32 one

template <DType kType, bool kReference>
void BM_to_f32(benchmark::State& state) {
  std::vector<std::byte> in(kElements * 2);
  from_f32(kType, random_floats(kElements).data(), in.data(), kElements);
  std::vector<float> out(kElements);
  for (auto _ : state) {
    (kReference ? to_f32_ref : to_f32)(kType, in.data(), out.data(), kElements);
    benchmark::DoNotOptimize(out.data());
  }
  set_bytes(state, in.size());
}
BENCHMARK(BM_to_f32<DType::kBF16, false>);
BENCHMARK(BM_to_f32<DType::kBF16, true>);
BENCHMARK(BM_to_f32<DType::kF16, false>);
BENCHMARK(BM_to_f32<DType::kF16, true>);

template <DType kType, bool kReference>
void BM_from_f32(benchmark::State& state) {
  const std::vector<float> in = random_floats(kElements);
  std::vector<std::byte> out(kElements * 2);
  for (auto _ : state) {
    (kReference ? from_f32_ref : from_f32)(kType, in.data(), out.data(), kElements);
    benchmark::DoNotOptimize(out.data());
  }
  set_bytes(state, kElements * 2);
}
BENCHMARK(BM_from_f32<DType::kBF16, false>);
BENCHMARK(BM_from_f32<DType::kBF16, true>);
BENCHMARK(BM_from_f32<DType::kF16, false>);
BENCHMARK(BM_from_f32<DType::kF16, true>);

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
void BM_task_arithmetic_tile(benchmark::State& state) {
  constexpr std::size_t kTile = std::size_t{1} << 16;
  const std::vector<float> b = random_floats(kTile), x1 = random_floats(kTile), x2 = random_floats(kTile);
  std::vector<float> out(kTile);
  const MethodDescriptor& m = find_method("task_arithmetic");
  MethodCall call;
  call.n_inputs = 3;
  call.base = 0;
  call.global_params = {0, 0, 0, 1.0, 0};  // weight, density (per model); normalize, lambda, int8_mask
  call.model_params = {{0, 1, 0, 0, 0}, {0.5, 1, 0, 0, 0}, {0.5, 1, 0, 0, 0}};
  const float* inputs[] = {b.data(), x1.data(), x2.data()};
  for (auto _ : state) {
    m.merge_tile(call, Tile{inputs, out.data(), kTile});
    benchmark::DoNotOptimize(out.data());
  }
  set_bytes(state, 3 * kTile * sizeof(float));
}
BENCHMARK(BM_task_arithmetic_tile);

}  // namespace
}  // namespace weld

BENCHMARK_MAIN();
