#include "plan/executor.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "io/sharded_writer.h"
#include "io/write_behind.h"
#include "plan/chunk_cut.h"
#include "plan/progress.h"
#include "tensor/convert.h"
#include "tensor/lanes.h"
#include "util/check.h"
#include "util/error.h"
#include "util/parallel.h"

namespace weld {
namespace {

// A unit of work: the statistics passes of a streamed tensor, or elements [begin, end) of
// one output tensor.
struct Task {
  std::size_t tensor;
  bool prepare;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

// A task as the run's list holds it: 8 bytes, as there is one per chunk of the model.
struct TaskRef {
  static constexpr std::uint32_t kPrepare = ~std::uint32_t{0};
  std::uint32_t tensor;
  std::uint32_t chunk;  // or kPrepare
};

bool is_whole_tensor(const MergePlan& plan, const TensorPlan& t, const ExecuteOptions& options) {
  const MethodDescriptor& m = *plan.method;
  return !t.copy_input && m.prepare && options.whole_tensors;
}

bool is_streamed(const MergePlan& plan, const TensorPlan& t, const ExecuteOptions& options) {
  return !t.copy_input && plan.method->prepare && !options.whole_tensors;
}

// Elements per tile: kTileElements, or as many whole rows as fit (at least one).
std::size_t tile_elements(const MergePlan& plan, const TensorPlan& t) {
  if (!plan.method->whole_rows || t.shape.empty() || t.shape.back() == 0) return kTileElements;
  const auto row = static_cast<std::size_t>(t.shape.back());
  return std::max<std::size_t>(1, kTileElements / row) * row;
}

// Elements per chunk of a tensor: a whole tensor for whole-tensor methods, else whole tiles.
std::uint64_t chunk_elements(const MergePlan& plan, const TensorPlan& tensor, const ExecuteOptions& options) {
  if (is_whole_tensor(plan, tensor, options)) return std::max<std::uint64_t>(1, tensor.numel);
  const std::uint64_t tile = tile_elements(plan, tensor);
  return std::max<std::uint64_t>(1, kChunkElements / tile) * tile;
}

// Tensors cut in whole rows, or merged whole, keep their chunks; the others' chunks are
// shifted onto the output file's 2 MiB grid. Where chunks end changes no byte of the result:
// every method's values depend on elements, not on tiles.
ChunkCut chunk_cut(const MergePlan& plan, const TensorPlan& tensor, const ExecuteOptions& options,
                   std::uint64_t data_offset) {
  const std::uint64_t step = chunk_elements(plan, tensor, options);
  if (plan.method->whole_rows || is_whole_tensor(plan, tensor, options)) return {step, step};
  return aligned_chunk_cut(step, dtype_size(tensor.dtype), data_offset);
}

std::vector<ChunkCut> cut_chunks(const MergePlan& plan, const ExecuteOptions& options, const ShardedWriter& writer) {
  std::vector<ChunkCut> cuts;
  cuts.reserve(plan.tensors.size());
  for (std::size_t t = 0; t < plan.tensors.size(); ++t)
    cuts.push_back(chunk_cut(plan, plan.tensors[t], options, writer.data_offset(t)));
  return cuts;
}

Task task_at(const MergePlan& plan, std::span<const ChunkCut> cuts, TaskRef ref) {
  if (ref.chunk == TaskRef::kPrepare) return {ref.tensor, true};
  const ChunkCut& cut = cuts[ref.tensor];
  return {ref.tensor, false, cut.begin(ref.chunk), cut.end(ref.chunk, plan.tensors[ref.tensor].numel)};
}

std::vector<TaskRef> cut_tasks(const MergePlan& plan, const ExecuteOptions& options, std::span<const ChunkCut> cuts) {
  WELD_CHECK(plan.tensors.size() < TaskRef::kPrepare);
  std::vector<std::uint32_t> streamed;  // tensors with statistics passes, in order
  for (std::size_t t = 0; t < plan.tensors.size(); ++t)
    if (is_streamed(plan, plan.tensors[t], options)) streamed.push_back(static_cast<std::uint32_t>(t));
  // Prepare tasks run this many streamed tensors ahead of the chunks that need them: passes
  // cost more than the merge, so every worker should find passes to make.
  const std::size_t lookahead = 2 * std::max(1u, options.threads);
  std::vector<TaskRef> tasks;
  std::size_t next_prepare = 0;
  for (std::uint32_t t = 0; t < plan.tensors.size(); ++t) {
    const auto position = static_cast<std::size_t>(
        std::lower_bound(streamed.begin(), streamed.end(), t) - streamed.begin());
    for (; next_prepare < streamed.size() && next_prepare < position + lookahead; ++next_prepare)
      tasks.push_back({streamed[next_prepare], TaskRef::kPrepare});
    const std::uint64_t chunks = cuts[t].count(plan.tensors[t].numel);
    WELD_CHECK(chunks < TaskRef::kPrepare);
    for (std::uint32_t c = 0; c < chunks; ++c) tasks.push_back({t, c});
  }
  return tasks;
}

std::size_t max_inputs(const MergePlan& plan) {
  std::size_t n = 1;
  for (const TensorPlan& t : plan.tensors) n = std::max(n, t.inputs.size());
  return n;
}

std::size_t max_tile_elements(const MergePlan& plan) {
  std::size_t n = kTileElements;
  for (const TensorPlan& t : plan.tensors) n = std::max(n, tile_elements(plan, t));
  return n;
}

// Bytes of one input's tile as the workers stage them (none when they read the maps).
std::size_t staged_bytes_per_input(const MergePlan& plan, const ExecuteOptions& options) {
  if (options.reads == InputReads::kMmap) return 0;
  std::size_t size = 1;
  for (const TensorPlan& t : plan.tensors)
    for (const PlannedInput& input : t.inputs) size = std::max(size, dtype_size(input.tensor.info->dtype));
  return max_tile_elements(plan) * size;
}

// The buffers one worker owns for the whole run (allocated once: first touches are slow).
// Its output bytes go in buffers of the write-behind pool.
struct WorkerBuffers {
  WorkerBuffers(std::size_t n_inputs, std::size_t tile_capacity, std::size_t staged_bytes)
      : tile(tile_capacity), staged_bytes_per_input(staged_bytes), staged(n_inputs * staged_bytes),
        inputs(n_inputs * tile), out(tile), input_ptrs(n_inputs), input_bytes(n_inputs) {}
  std::size_t tile;  // capacity in elements of each tile buffer
  std::size_t staged_bytes_per_input;
  std::vector<std::byte> staged;  // a tile of each input's bytes, with InputReads::kPread
  std::vector<float> inputs;
  std::vector<float> out;
  std::vector<const float*> input_ptrs;
  std::vector<const std::byte*> input_bytes;  // for merge_lanes and lane blocks
  std::vector<float> whole_inputs;  // grown to the largest whole tensor merged so far
  std::vector<float> whole_out;
  Scratch scratch;                  // lent to whole-tensor methods
};

// The segments of a pass (TensorReader::for_each_segment) that the worker making a tensor's
// passes offers the workers waiting for them.
struct OfferedSegments {
  const TensorReader::SegmentFn* fn;
  std::uint64_t segment;
  std::uint64_t count;
  std::uint64_t next = 0;     // the first segment no worker has taken
  std::uint64_t running = 0;  // taken and not yet returned
  std::exception_ptr error = nullptr;  // the first a call threw
};

// A streamed tensor's statistics: computed once, by whichever worker gets there first (the
// others that need them meanwhile take segments of its passes, and then wait), and dropped
// when its last chunk is written.
struct PreparedTensor {
  enum class Phase { kNotStarted, kPreparing, kReady, kFailed };
  std::mutex mutex;
  std::condition_variable changed;
  Phase phase = Phase::kNotStarted;
  OfferedSegments* offered = nullptr;  // while the passes offer segments
  std::unique_ptr<TensorStats> stats;
  std::atomic<std::size_t> tasks_left{0};
};

// Runs one segment of `offered`, whose lock `lock` holds on entry and on return.
void run_offered_segment(OfferedSegments& offered, const TensorReader& reader, PreparedTensor& state,
                         std::unique_lock<std::mutex>& lock) {
  const std::uint64_t begin = offered.next++ * offered.segment;
  ++offered.running;
  lock.unlock();
  std::exception_ptr error;
  try {
    (*offered.fn)(reader, begin, std::min(reader.numel, begin + offered.segment));
  } catch (...) {
    error = std::current_exception();
  }
  lock.lock();
  if (error && !offered.error) offered.error = error;
  if (--offered.running == 0 && offered.next == offered.count) state.changed.notify_all();
}

void copy_chunk(const TensorPlan& t, std::size_t tensor, const Task& c, WriteBehind& writer) {
  const std::size_t size = dtype_size(t.dtype);
  const std::span<const std::byte> data = t.inputs[*t.copy_input].tensor.data();
  writer.submit_external(data.subspan(c.begin * size, (c.end - c.begin) * size), tensor, c.begin * size);
}

// The bytes of elements [begin, begin + n) of input i: in the map, or copied into the worker's
// staging buffer for that input (valid until the next tile).
const std::byte* input_bytes(const TensorPlan& t, std::size_t i, std::uint64_t begin, std::size_t n,
                             InputReads reads, WorkerBuffers& buffers) {
  const PlannedInput& input = t.inputs[i];
  const std::size_t size = dtype_size(input.tensor.info->dtype);
  if (reads == InputReads::kMmap) return input.tensor.data().data() + begin * size;
  WELD_CHECK(n * size <= buffers.staged_bytes_per_input);
  std::byte* staged = buffers.staged.data() + i * buffers.staged_bytes_per_input;
  input.tensor.read(begin * size, {staged, n * size});
  return staged;
}

void load_tile(DType dtype, const std::byte* bytes, std::optional<DType> compute, std::size_t n, float* values) {
  to_f32(dtype, bytes, values, n);
  if (compute && *compute != dtype) round_through(*compute, values, n);
}

// Points buffers.input_bytes at the bytes of elements [begin, begin + n) of every input.
void fetch_inputs(const TensorPlan& t, std::uint64_t begin, std::size_t n, InputReads reads, WorkerBuffers& buffers) {
  for (std::size_t i = 0; i < t.inputs.size(); ++i) buffers.input_bytes[i] = input_bytes(t, i, begin, n, reads, buffers);
}

// Converts the n elements fetch_inputs() fetched of every input into the worker's tile buffers.
std::span<const float* const> convert_inputs(const MergePlan& plan, const TensorPlan& t, std::size_t n,
                                             WorkerBuffers& buffers) {
  for (std::size_t i = 0; i < t.inputs.size(); ++i) {
    float* values = buffers.inputs.data() + i * buffers.tile;
    load_tile(t.inputs[i].tensor.info->dtype, buffers.input_bytes[i], plan.compute_dtype, n, values);
    buffers.input_ptrs[i] = values;
  }
  return {buffers.input_ptrs.data(), t.inputs.size()};
}

// Whether a tensor is merged on the fused path (tensor/lanes.h): the method has one, this
// machine fuses, and the inputs are already in the output's dtype, which is computed in.
bool uses_lanes(const MergePlan& plan, const TensorPlan& t) {
  if (!plan.method->merge_lanes || !lanes_are_fused() || t.copy_input) return false;
  if (!is_lane_dtype(t.dtype) || t.inputs.size() > kMaxLaneInputs) return false;
  if (plan.compute_dtype && *plan.compute_dtype != t.dtype) return false;
  return std::all_of(t.inputs.begin(), t.inputs.end(),
                     [&](const PlannedInput& input) { return input.tensor.info->dtype == t.dtype; });
}

// What a streamed method's prepare() reads through: the worker's tile buffers.
class StreamedTensorReader final : public TensorReader {
 public:
  // With `sharing`, the tensor's state: segments are offered to the workers that wait for it.
  StreamedTensorReader(const MergePlan& plan, const TensorPlan& t, InputReads reads, WorkerBuffers& buffers,
                       PreparedTensor* sharing = nullptr)
      : TensorReader(t.numel, t.shape, t.name, plan.seed), plan_(plan), t_(t), reads_(reads), buffers_(buffers),
        sharing_(sharing) {}

  bool has_lanes() const override { return uses_lanes(plan_, t_); }

  void for_each_segment(std::uint64_t segment, const SegmentFn& fn) const override {
    if (!sharing_) return TensorReader::for_each_segment(segment, fn);
    WELD_CHECK(segment > 0);
    OfferedSegments offered{.fn = &fn, .segment = segment, .count = numel / segment + (numel % segment != 0)};
    std::unique_lock lock(sharing_->mutex);
    WELD_CHECK(!sharing_->offered);  // passes run one at a time
    sharing_->offered = &offered;
    sharing_->changed.notify_all();
    while (offered.next < offered.count) run_offered_segment(offered, *this, *sharing_, lock);
    // The helpers' calls use `offered` until they return.
    sharing_->changed.wait(lock, [&] { return offered.running == 0; });
    sharing_->offered = nullptr;
    lock.unlock();
    if (offered.error) std::rethrow_exception(offered.error);
  }

  void for_each_lane_block(std::uint64_t first, std::uint64_t end, const LaneBlockFn& fn) const override {
    WELD_CHECK(has_lanes());
    for_each_step(first, end, [&](std::uint64_t begin, std::size_t n) {
      fetch_inputs(t_, begin, n, reads_, buffers_);
      return fn(LaneSpan{{buffers_.input_bytes.data(), t_.inputs.size()}, nullptr, n, t_.dtype}, begin);
    });
  }

  void for_each_tile(std::uint64_t first, std::uint64_t end,
                     const std::function<bool(const Tile& tile)>& fn) const override {
    for_each_step(first, end, [&](std::uint64_t begin, std::size_t n) {
      fetch_inputs(t_, begin, n, reads_, buffers_);
      return fn(Tile{convert_inputs(plan_, t_, n, buffers_), nullptr, n, begin, nullptr, &buffers_.scratch});
    });
  }

 private:
  // Calls step(begin, n) for consecutive tiles covering [first, end) until it returns false.
  template <class Step>
  void for_each_step(std::uint64_t first, std::uint64_t end, const Step& step) const {
    const std::size_t tile = tile_elements(plan_, t_);
    // Whole-row tiles must start a row (a row that divides kTileElements passes unchecked).
    WELD_CHECK(end <= numel && (tile == kTileElements || first % t_.shape.back() == 0));
    for (std::uint64_t begin = first; begin < end; begin += tile)
      if (!step(begin, static_cast<std::size_t>(std::min<std::uint64_t>(tile, end - begin)))) return;
  }

  const MergePlan& plan_;
  const TensorPlan& t_;
  InputReads reads_;
  WorkerBuffers& buffers_;
  PreparedTensor* sharing_;
};

// Makes sure a streamed tensor's statistics are there: the first worker to ask makes the
// passes, and the others take segments of them while they wait. False where the passes threw
// (the worker that made them reports why).
bool await_statistics(const MergePlan& plan, const TensorPlan& t, InputReads reads, WorkerBuffers& buffers,
                      PreparedTensor& state) {
  using Phase = PreparedTensor::Phase;
  std::unique_lock lock(state.mutex);
  if (state.phase == Phase::kNotStarted) {
    state.phase = Phase::kPreparing;
    lock.unlock();
    std::unique_ptr<TensorStats> stats;
    try {
      stats = plan.method->prepare(t.call, StreamedTensorReader(plan, t, reads, buffers, &state));
    } catch (...) {
      lock.lock();
      state.phase = Phase::kFailed;
      state.changed.notify_all();
      throw;
    }
    lock.lock();
    state.stats = std::move(stats);
    state.phase = Phase::kReady;
    state.changed.notify_all();
    return true;
  }
  const StreamedTensorReader reader(plan, t, reads, buffers);
  while (state.phase == Phase::kPreparing) {
    if (state.offered && state.offered->next < state.offered->count)
      run_offered_segment(*state.offered, reader, state, lock);
    else
      state.changed.wait(lock);
  }
  return state.phase == Phase::kReady;
}

// A whole tensor in memory, every element of every input (--whole-tensors).
struct WholeTensor {
  std::span<const float* const> inputs;
  float* out;
  std::size_t n;
  std::span<const std::uint64_t> shape;
  std::string_view name;  // of the output tensor
  std::uint64_t seed;
  Scratch* scratch;  // the worker's buffers
};

// The simple path of a streamed method: the whole tensor, in memory, as one tile.
class WholeTensorReader final : public TensorReader {
 public:
  explicit WholeTensorReader(const WholeTensor& t) : TensorReader(t.n, t.shape, t.name, t.seed), t_(t) {}

  void for_each_tile(std::uint64_t begin, std::uint64_t end,
                     const std::function<bool(const Tile& tile)>& fn) const override {
    WELD_CHECK(begin <= end && end <= numel);
    std::vector<const float*> at;
    for (const float* input : t_.inputs) at.push_back(input + begin);
    fn(Tile{at, nullptr, static_cast<std::size_t>(end - begin), begin, nullptr, t_.scratch});
  }

 private:
  const WholeTensor& t_;
};

// For the whole-tensor path.
void write_f32(const TensorPlan& t, std::size_t tensor, std::uint64_t begin, const float* values,
               std::size_t n, WriteBehind& writer) {
  const std::size_t out_size = dtype_size(t.dtype);
  const std::span<std::byte> bytes = writer.acquire(tensor, begin * out_size, n * out_size);
  from_f32(t.dtype, values, bytes.data(), n);
  writer.submit(bytes, n * out_size, tensor, begin * out_size);
}

// Computing "in dtype" as mergekit does means the result is rounded to it as well.
void round_result(const MergePlan& plan, const TensorPlan& t, float* values, std::size_t n) {
  if (plan.compute_dtype && *plan.compute_dtype != t.dtype) round_through(*plan.compute_dtype, values, n);
}

// The fused path: a tile goes from the fetched inputs' bytes into the write-behind buffer
// `bytes`. False where the method needs merge_tile for this tensor.
bool merge_tile_lanes(const MergePlan& plan, const TensorPlan& t, std::uint64_t begin, std::size_t n,
                      const TensorStats* stats, std::span<std::byte> bytes, const WorkerBuffers& buffers) {
  const LaneSpan values{{buffers.input_bytes.data(), t.inputs.size()}, bytes.data(), n, t.dtype};
  return plan.method->merge_lanes(t.call, LaneTile{values, begin, stats});
}

void merge_chunk(const MergePlan& plan, std::size_t tensor, const Task& c, const TensorStats* stats,
                 InputReads reads, WriteBehind& writer, WorkerBuffers& buffers) {
  const TensorPlan& t = plan.tensors[tensor];
  const bool lanes = uses_lanes(plan, t);
  const std::size_t step = tile_elements(plan, t), size = dtype_size(t.dtype);
  for (std::uint64_t begin = c.begin; begin < c.end; begin += step) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(step, c.end - begin));
    const std::span<std::byte> bytes = writer.acquire(tensor, begin * size, n * size);
    fetch_inputs(t, begin, n, reads, buffers);
    // The fused path may decline the tile (DELLA's, when its keep test is made again on whole
    // rows): the tile path then converts the same bytes.
    if (!lanes || !merge_tile_lanes(plan, t, begin, n, stats, bytes, buffers)) {
      plan.method->merge_tile(t.call, Tile{convert_inputs(plan, t, n, buffers), buffers.out.data(), n, begin, stats,
                                           &buffers.scratch});
      round_result(plan, t, buffers.out.data(), n);
      from_f32(t.dtype, buffers.out.data(), bytes.data(), n);
    }
    writer.submit(bytes, n * size, tensor, begin * size);
  }
}

void merge_whole(const MergePlan& plan, std::size_t tensor, WriteBehind& writer, WorkerBuffers& buffers) {
  const TensorPlan& t = plan.tensors[tensor];
  const std::size_t n = static_cast<std::size_t>(t.numel);
  if (buffers.whole_inputs.size() < n * t.inputs.size()) buffers.whole_inputs.resize(n * t.inputs.size());
  if (buffers.whole_out.size() < n) buffers.whole_out.resize(n);
  for (std::size_t i = 0; i < t.inputs.size(); ++i) {  // the simple path reads the maps
    float* values = buffers.whole_inputs.data() + i * n;
    load_tile(t.inputs[i].tensor.info->dtype, t.inputs[i].tensor.data().data(), plan.compute_dtype, n, values);
    buffers.input_ptrs[i] = values;
  }
  const WholeTensor whole{std::span(buffers.input_ptrs.data(), t.inputs.size()), buffers.whole_out.data(),
                         n, t.shape, t.name, plan.seed, &buffers.scratch};
  const std::unique_ptr<TensorStats> stats = plan.method->prepare(t.call, WholeTensorReader(whole));
  plan.method->merge_tile(t.call, Tile{whole.inputs, whole.out, n, 0, stats.get(), whole.scratch});
  round_result(plan, t, buffers.whole_out.data(), n);
  for (std::size_t begin = 0; begin < n; begin += kTileElements)
    write_f32(t, tensor, begin, buffers.whole_out.data() + begin, std::min(kTileElements, n - begin), writer);
}

// Bytes read plus written for a chunk, as the progress bar counts them.
std::uint64_t chunk_bytes(const TensorPlan& t, const Task& c) {
  const std::uint64_t n = c.end - c.begin;
  const std::uint64_t written = n * dtype_size(t.dtype);
  if (t.copy_input) return 2 * written;
  std::uint64_t read = 0;
  for (const PlannedInput& input : t.inputs) read += n * dtype_size(input.tensor.info->dtype);
  return read + written;
}

// Asks the kernel to start reading a task's input bytes (a whole tensor for prepare tasks),
// so that a cold page cache fills while the workers compute. Not for the chunks of a streamed
// tensor: its passes have just read them, and a madvise over pages already cached still walks
// them (3.7% of a 22-layer dare_linear merge's samples went to madvise, for both).
void prefetch_inputs(const MergePlan& plan, const ExecuteOptions& options, const Task& c) {
  const TensorPlan& t = plan.tensors[c.tensor];
  if (!c.prepare && is_streamed(plan, t, options)) return;
  const std::uint64_t begin = c.prepare ? 0 : c.begin, end = c.prepare ? t.numel : c.end;
  for (std::size_t i = 0; i < t.inputs.size(); ++i) {
    if (t.copy_input && i != *t.copy_input) continue;
    const std::size_t size = dtype_size(t.inputs[i].tensor.info->dtype);
    t.inputs[i].tensor.prefetch(begin * size, (end - begin) * size);
  }
}

// Once a tensor is merged, its inputs' pages leave the process's page tables: done by the
// worker that merged its last chunk, while the others go on, instead of by the munmap of
// every input file at the end, which one thread makes after the merge (0.11 s for the
// 6.6 GB of a 22-layer linear merge's inputs, under strace). A copied tensor keeps them:
// the writer reads them later.
void unmap_inputs(const TensorPlan& t) {
  if (t.copy_input) return;
  for (const PlannedInput& input : t.inputs) input.tensor.unmap_pages();
}

unsigned worker_count(const ExecuteOptions& options) { return std::max(1u, options.threads); }

// The write-behind pool: output tiles are written a quarter of the pool at a time, so that a
// worker writes a batch of several tiles in one go while the others fill the rest (with a
// pool of 6, workers ran out of buffers and waited on each other's writes).
std::size_t write_buffers(const ExecuteOptions& options) { return 16 * worker_count(options) + 2; }

std::size_t write_buffer_bytes(const MergePlan& plan) {
  std::size_t out_size = 1;
  for (const TensorPlan& t : plan.tensors) out_size = std::max(out_size, dtype_size(t.dtype));
  return max_tile_elements(plan) * out_size;
}

// glibc gives an allocation above its mmap threshold a mapping of its own and unmaps it when
// freed, and returns freed memory at the top of the heap to the kernel beyond its trim
// threshold; both thresholds follow the largest block freed so far. A merge allocates and frees
// each tensor's statistics (DARE's and DELLA's bits, the selection windows: 1.4 MB per
// fine-tune for a 5632 x 2048 tensor), so with thresholds that depend on which tensors came
// first it can pay a page fault for every 4 KiB of them, tensor after tensor: a 22-layer
// dare_linear merge made 43 000 page faults and took 0.2-0.3 s more user time once its largest
// tensors kept no bits (TaskVectorSparsifier::kMaxRandomBitsElements), 6 000-6 400 with these.
// Blocks above 4 MB are rare and large, such as the bits of the largest tensors (up to 8 MB
// per fine-tune) and their selection windows (up to 8 MB an array): they keep mappings of their
// own, whose pages go back when freed (held in the heap, a 128256 x 4096 embedding's windows
// raised a ties merge's peak from 50 to 54-73 MB).
// And one arena for every thread: with an arena per worker, each kept freed statistics of its
// own, and a 22-layer dare_linear merge peaked at 37.7-42.2 MB (44 layers: 40.1-44.6 MB); with
// one, 29.4-34.0 MB (29.7-35.1 MB), the workers allocating rarely enough not to contend.
void keep_freed_statistics_for_reuse() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_ARENA_MAX, 1);
#endif
}

}  // namespace

InputReads choose_input_reads(const MergePlan& plan, std::optional<ReadProbe>* probe) {
  const TensorRef* largest = nullptr;
  for (const TensorPlan& t : plan.tensors)
    for (const PlannedInput& input : t.inputs)
      if (!largest || input.tensor.data().size() > largest->data().size()) largest = &input.tensor;
  std::optional<ReadProbe> measured;
  if (largest)
    measured = probe_reads(largest->file->mapped(),
                           static_cast<std::size_t>(largest->file->data_start() + largest->info->offset_begin),
                           largest->data().size());
  if (probe) *probe = measured;
  // Streamed methods read their inputs once more for their statistics passes (some more
  // than once): on a machine where one copy costs about a first touch of the map, as on the
  // KVM machine of docs/performance.md, the map is faster for them.
  const double reads = plan.method->prepare ? 2.0 : 1.0;
  return measured && measured->mapped_is_faster(reads) ? InputReads::kMmap : InputReads::kPread;
}

std::uint64_t working_memory_bytes(const MergePlan& plan, const ExecuteOptions& options) {
  // Per worker: one f32 tile per input and an f32 output tile, and a tile of each input's
  // bytes when they are copied; for whole-tensor methods, the largest tensor's inputs and
  // output in f32. Then the write-behind pool.
  std::uint64_t per_worker = (max_inputs(plan) + 1) * max_tile_elements(plan) * sizeof(float) +
                             max_inputs(plan) * staged_bytes_per_input(plan, options);
  std::uint64_t whole = 0;
  for (const TensorPlan& t : plan.tensors)
    if (is_whole_tensor(plan, t, options))
      whole = std::max(whole, (t.inputs.size() + 1) * t.numel * sizeof(float));
  return std::uint64_t{worker_count(options)} * (per_worker + whole) +
         std::uint64_t{write_buffers(options)} * write_buffer_bytes(plan) +
         (options.writes == OutputWrites::kDirect ? DirectWrites::kBufferBytes : 0);
}

void write_tensors(const MergePlan& plan, const OutputDir& out, const ExecuteOptions& options) {
  keep_freed_statistics_for_reuse();
  ShardedWriter writer = [&] {  // the planned tensors are needed only to lay out the files
    std::vector<PlannedTensor> planned;
    planned.reserve(plan.tensors.size());
    for (const TensorPlan& t : plan.tensors) planned.push_back({t.name, t.dtype, t.shape});
    return ShardedWriter(out.temp_path(), planned, plan.max_shard_bytes, options.writes == OutputWrites::kDirect);
  }();
  const std::vector<ChunkCut> cuts = cut_chunks(plan, options, writer);
  const std::vector<TaskRef> tasks = cut_tasks(plan, options, cuts);
  std::vector<PreparedTensor> prepared(plan.tensors.size());
  for (const TaskRef& c : tasks)
    if (c.chunk != TaskRef::kPrepare) ++prepared[c.tensor].tasks_left;

  std::vector<WorkerBuffers> buffers;
  for (unsigned w = 0; w < worker_count(options); ++w)
    buffers.emplace_back(max_inputs(plan), max_tile_elements(plan), staged_bytes_per_input(plan, options));
  WriteBehind behind(writer, write_buffers(options), write_buffer_bytes(plan),
                     [&plan](std::size_t i) { return plan.tensors[i].name; });
  Progress progress("tensors", plan.bytes_in + plan.bytes_out, plan.tensors.size());

  parallel_for(tasks.size(), options.threads, [&](std::size_t index, unsigned worker) {
    if (behind.failed()) return;  // flush() below reports why; the rest is not worth merging
    const Task c = task_at(plan, cuts, tasks[index]);
    const TensorPlan& t = plan.tensors[c.tensor];
    PreparedTensor& state = prepared[c.tensor];
    // Read ahead: the task this worker will likely take after this one.
    if (index + options.threads < tasks.size()) prefetch_inputs(plan, options, task_at(plan, cuts, tasks[index + options.threads]));
    with_context(fmt::format("tensor '{}'", t.name), [&] {
      if (is_streamed(plan, t, options) && !await_statistics(plan, t, options.reads, buffers[worker], state)) return;
      if (c.prepare) return;
      if (t.copy_input) {
        copy_chunk(t, c.tensor, c, behind);
      } else if (is_whole_tensor(plan, t, options)) {
        merge_whole(plan, c.tensor, behind, buffers[worker]);
      } else {
        merge_chunk(plan, c.tensor, c, state.stats.get(), options.reads, behind, buffers[worker]);
      }
    });
    if (c.prepare) return;
    const bool last = --state.tasks_left == 0;
    if (last) {
      state.stats.reset();
      unmap_inputs(t);
    }
    progress.add(chunk_bytes(t, c), last ? 1 : 0);
  });
  behind.flush();
  writer.finish();
  progress.finish();
}

}  // namespace weld
