#include "plan/executor.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "io/sharded_writer.h"
#include "plan/progress.h"
#include "tensor/convert.h"
#include "util/error.h"
#include "util/parallel.h"

namespace weld {
namespace {

struct Chunk {
  std::size_t tensor;
  std::uint64_t begin;  // element range
  std::uint64_t end;
};

bool is_whole_tensor(const MergePlan& plan, const TensorPlan& t) {
  return plan.method->merge_tensor && !t.copy_input;
}

std::vector<Chunk> cut_chunks(const MergePlan& plan) {
  std::vector<Chunk> chunks;
  for (std::size_t t = 0; t < plan.tensors.size(); ++t) {
    const std::uint64_t numel = plan.tensors[t].numel;
    const std::uint64_t step = is_whole_tensor(plan, plan.tensors[t]) ? numel : kChunkElements;
    std::uint64_t begin = 0;
    do {
      chunks.push_back({t, begin, std::min<std::uint64_t>(numel, begin + step)});
      begin += step;
    } while (begin < numel);
  }
  return chunks;
}

std::size_t max_inputs(const MergePlan& plan) {
  std::size_t n = 1;
  for (const TensorPlan& t : plan.tensors) n = std::max(n, t.inputs.size());
  return n;
}

// The buffers one worker owns for the whole run (allocated once: first touches are slow).
struct WorkerBuffers {
  explicit WorkerBuffers(std::size_t n_inputs)
      : inputs(n_inputs * kTileElements), out(kTileElements), out_bytes(kTileElements * 4),
        input_ptrs(n_inputs) {}
  std::vector<float> inputs;
  std::vector<float> out;
  std::vector<std::byte> out_bytes;
  std::vector<const float*> input_ptrs;
  std::vector<float> whole_inputs;  // grown to the largest whole tensor merged so far
  std::vector<float> whole_out;
  Scratch scratch;                  // lent to whole-tensor methods
};

void copy_chunk(const TensorPlan& t, std::size_t tensor, const Chunk& c, ShardedWriter& writer) {
  const std::size_t size = dtype_size(t.dtype);
  const std::span<const std::byte> data = t.inputs[*t.copy_input].tensor.data();
  writer.write(tensor, c.begin * size,
               data.subspan(c.begin * size, (c.end - c.begin) * size));
}

void load_tile(const PlannedInput& input, std::optional<DType> compute, std::uint64_t begin,
               std::size_t n, float* values) {
  const DType dtype = input.tensor.info->dtype;
  to_f32(dtype, input.tensor.data().data() + begin * dtype_size(dtype), values, n);
  if (compute && *compute != dtype) round_through(*compute, values, n);
}

void write_f32(const TensorPlan& t, std::size_t tensor, std::uint64_t begin, const float* values,
               std::size_t n, ShardedWriter& writer, WorkerBuffers& buffers) {
  const std::size_t out_size = dtype_size(t.dtype);
  from_f32(t.dtype, values, buffers.out_bytes.data(), n);
  writer.write(tensor, begin * out_size, std::span(buffers.out_bytes.data(), n * out_size));
}

void merge_chunk(const MergePlan& plan, std::size_t tensor, const Chunk& c,
                 ShardedWriter& writer, WorkerBuffers& buffers) {
  const TensorPlan& t = plan.tensors[tensor];
  for (std::uint64_t begin = c.begin; begin < c.end; begin += kTileElements) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kTileElements, c.end - begin));
    for (std::size_t i = 0; i < t.inputs.size(); ++i) {
      float* values = buffers.inputs.data() + i * kTileElements;
      load_tile(t.inputs[i], plan.compute_dtype, begin, n, values);
      buffers.input_ptrs[i] = values;
    }
    plan.method->merge_tile(t.call, Tile{std::span(buffers.input_ptrs.data(), t.inputs.size()),
                                         buffers.out.data(), n});
    // Computing "in dtype" as mergekit does means the result is rounded to it as well.
    if (plan.compute_dtype && *plan.compute_dtype != t.dtype)
      round_through(*plan.compute_dtype, buffers.out.data(), n);
    write_f32(t, tensor, begin, buffers.out.data(), n, writer, buffers);
  }
}

// Bytes read plus written for a chunk, as the progress bar counts them.
void merge_whole(const MergePlan& plan, std::size_t tensor, ShardedWriter& writer,
                 WorkerBuffers& buffers) {
  const TensorPlan& t = plan.tensors[tensor];
  const std::size_t n = static_cast<std::size_t>(t.numel);
  if (buffers.whole_inputs.size() < n * t.inputs.size()) buffers.whole_inputs.resize(n * t.inputs.size());
  if (buffers.whole_out.size() < n) buffers.whole_out.resize(n);
  for (std::size_t i = 0; i < t.inputs.size(); ++i) {
    float* values = buffers.whole_inputs.data() + i * n;
    load_tile(t.inputs[i], plan.compute_dtype, 0, n, values);
    buffers.input_ptrs[i] = values;
  }
  plan.method->merge_tensor(t.call, WholeTensor{std::span(buffers.input_ptrs.data(), t.inputs.size()),
                                                buffers.whole_out.data(), n, t.shape, t.name, plan.seed,
                                                &buffers.scratch});
  if (plan.compute_dtype && *plan.compute_dtype != t.dtype)
    round_through(*plan.compute_dtype, buffers.whole_out.data(), n);
  for (std::size_t begin = 0; begin < n; begin += kTileElements)
    write_f32(t, tensor, begin, buffers.whole_out.data() + begin, std::min(kTileElements, n - begin),
              writer, buffers);
}

std::uint64_t chunk_bytes(const TensorPlan& t, const Chunk& c) {
  const std::uint64_t n = c.end - c.begin;
  const std::uint64_t written = n * dtype_size(t.dtype);
  if (t.copy_input) return 2 * written;
  std::uint64_t read = 0;
  for (const PlannedInput& input : t.inputs) read += n * dtype_size(input.tensor.info->dtype);
  return read + written;
}

}  // namespace

std::uint64_t working_memory_bytes(const MergePlan& plan, unsigned threads) {
  // Per worker: one f32 tile per input, an f32 output tile and its converted bytes; for
  // whole-tensor methods, the largest tensor's inputs and output in f32.
  std::uint64_t per_worker = (max_inputs(plan) + 2) * kTileElements * sizeof(float);
  std::uint64_t whole = 0;
  for (const TensorPlan& t : plan.tensors)
    if (is_whole_tensor(plan, t)) whole = std::max(whole, (t.inputs.size() + 1) * t.numel * sizeof(float));
  return std::uint64_t{threads} * (per_worker + whole);
}

void write_tensors(const MergePlan& plan, const OutputDir& out, const ExecuteOptions& options) {
  std::vector<PlannedTensor> planned;
  for (const TensorPlan& t : plan.tensors) planned.push_back({t.name, t.dtype, t.shape});
  ShardedWriter writer(out.temp_path(), std::move(planned), plan.max_shard_bytes);
  const std::vector<Chunk> chunks = cut_chunks(plan);
  std::vector<std::atomic<std::size_t>> chunks_left(plan.tensors.size());
  for (const Chunk& c : chunks) ++chunks_left[c.tensor];

  std::vector<WorkerBuffers> buffers;
  for (unsigned w = 0; w < std::max(1u, options.threads); ++w) buffers.emplace_back(max_inputs(plan));
  Progress progress("tensors", plan.bytes_in + plan.bytes_out, plan.tensors.size());

  parallel_for(chunks.size(), options.threads, [&](std::size_t index, unsigned worker) {
    const Chunk& c = chunks[index];
    const TensorPlan& t = plan.tensors[c.tensor];
    with_context(fmt::format("tensor '{}'", t.name), [&] {
      if (t.copy_input) {
        copy_chunk(t, c.tensor, c, writer);
      } else if (is_whole_tensor(plan, t)) {
        merge_whole(plan, c.tensor, writer, buffers[worker]);
      } else {
        merge_chunk(plan, c.tensor, c, writer, buffers[worker]);
      }
    });
    progress.add(chunk_bytes(t, c), --chunks_left[c.tensor] == 0 ? 1 : 0);
  });
  writer.finish();
  progress.finish();
}

}  // namespace weld
