// Microbenchmarks of the dtype conversions, each next to memcpy of the same input bytes
// measured in the same run. Rates are input bytes per second of wall time: a conversion
// that keeps up with memcpy of its input is as cheap as reading the tensor at all.
//   Large: 64 MiB of f32 (beyond every cache), what streaming a tensor from memory costs.
//   Tile:  256 KiB of f32 (in L2), the executor's tile (kTileElements in plan/executor.h),
//          where the instruction count shows.
//   build/bench/bench_convert [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "tensor/convert.h"
#include "tensor/rng.h"

namespace weld {
namespace {

constexpr std::int64_t kLargeElements = std::int64_t{1} << 24;
constexpr std::int64_t kTileElements = std::int64_t{1} << 16;

// Normal values: the mix of exponents and signs real weights have, and no NaN fast paths.
std::vector<float> random_floats(std::size_t n) {
  const CounterRng rng(1, "bench_convert");
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = rng.normal(i);
  return v;
}

std::size_t elements(const benchmark::State& state) {
  return static_cast<std::size_t>(state.range(0));
}

void set_bytes(benchmark::State& state, std::size_t input_bytes) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(input_bytes));
}

// Arg: the element count; the template argument: the input element size.
template <std::size_t kInputSize>
void BM_memcpy(benchmark::State& state) {
  const std::size_t bytes = elements(state) * kInputSize;
  std::vector<std::byte> in(bytes, std::byte{1}), out(bytes);
  for (auto _ : state) {
    std::memcpy(out.data(), in.data(), bytes);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, bytes);
}

template <DType kType, bool kReference>
void BM_to_f32(benchmark::State& state) {
  const std::size_t n = elements(state);
  std::vector<std::byte> in(n * dtype_size(kType));
  from_f32(kType, random_floats(n).data(), in.data(), n);
  std::vector<float> out(n);
  for (auto _ : state) {
    (kReference ? to_f32_ref : to_f32)(kType, in.data(), out.data(), n);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, in.size());
}

template <DType kType, bool kReference>
void BM_from_f32(benchmark::State& state) {
  const std::size_t n = elements(state);
  const std::vector<float> in = random_floats(n);
  std::vector<std::byte> out(n * dtype_size(kType));
  for (auto _ : state) {
    (kReference ? from_f32_ref : from_f32)(kType, in.data(), out.data(), n);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, n * sizeof(float));
}

// Both sizes, timed by the wall clock, not CPU time: memory stalls are the cost measured.
void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(kLargeElements)->Arg(kTileElements)->UseRealTime();
}

BENCHMARK(BM_memcpy<2>)->Apply(sizes);  // the input bytes of a bf16 or f16 tensor
BENCHMARK(BM_to_f32<DType::kBF16, false>)->Apply(sizes);
BENCHMARK(BM_to_f32<DType::kBF16, true>)->Apply(sizes);
BENCHMARK(BM_to_f32<DType::kF16, false>)->Apply(sizes);
BENCHMARK(BM_to_f32<DType::kF16, true>)->Apply(sizes);
BENCHMARK(BM_memcpy<4>)->Apply(sizes);  // the input bytes of an f32 tensor
BENCHMARK(BM_from_f32<DType::kBF16, false>)->Apply(sizes);
BENCHMARK(BM_from_f32<DType::kBF16, true>)->Apply(sizes);
BENCHMARK(BM_from_f32<DType::kF16, false>)->Apply(sizes);
BENCHMARK(BM_from_f32<DType::kF16, true>)->Apply(sizes);

}  // namespace
}  // namespace weld

BENCHMARK_MAIN();
