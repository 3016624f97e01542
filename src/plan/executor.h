// Streaming execution of a merge plan.
//
// Work is cut into chunks of at most kChunkElements of one output tensor, handed out in
// order to the workers; each worker converts its chunk tile by tile (kTileElements values of
// each input to f32 in buffers it owns), merges the tile, converts it to the output dtype and
// pwrite()s it to its planned offset. Peak memory is therefore a few tiles per worker,
// whatever the model size, and since every element's result depends only on the inputs at
// that element, the bytes written do not depend on the thread count.
// Streamed methods (MethodDescriptor::prepare) first make their statistics passes over the
// tensor, on one worker, in element order (so sums come out the same on any thread count);
// prepare tasks are handed out a few tensors ahead of the chunks that need them, so that
// workers make the passes of later tensors while others merge. A pass cut into segments
// (TensorReader::for_each_segment, whose results do not depend on who passes which segment)
// is shared with the workers that meanwhile reach the tensor's chunks, so that none of them
// waits idle for the passes of a large tensor, such as the embedding or the head. With --whole-tensors they get
// one chunk per tensor and buffers of its size; their randomness is keyed by element, so
// they too are thread-count independent.
#pragma once

#include <cstdint>

#include "io/output_dir.h"
#include "io/read_probe.h"
#include "plan/plan.h"

namespace weld {

// 64 Ki values: a tile of each input fits in L2 next to the output tile.
inline constexpr std::size_t kTileElements = std::size_t{1} << 16;
// 1 Mi values: small enough that two workers share a large tensor, large enough that
// handing out chunks costs nothing.
inline constexpr std::size_t kChunkElements = std::size_t{1} << 20;

// How the workers read the inputs' bytes: copied a tile at a time into a buffer of their own
// (pread), or straight from the memory maps. Both read the same bytes; which is faster depends
// on what a first touch of a mapped page costs on the machine (docs/performance.md).
enum class InputReads { kPread, kMmap };

// How the output is written: through the page cache, or around it with O_DIRECT
// (io/direct_writes.h), which on a VM that hands freed memory back to its host spares a host
// fault for every page of the output. The same bytes either way.
enum class OutputWrites { kCached, kDirect };

struct ExecuteOptions {
  unsigned threads = 1;
  InputReads reads = InputReads::kPread;
  OutputWrites writes = OutputWrites::kCached;
  // Run streamed methods on each whole tensor as one tile instead: the simple path, the
  // reference the streamed path must match byte for byte.
  bool whole_tensors = false;
};

// The way of reading that is faster on this machine, by probe_reads (io/read_probe.h) on the
// plan's largest input tensor, for the times the plan's method reads each input (twice with
// statistics passes); pread, the long-standing default, where that is too small to tell.
// `probe` gets the measurement, if one was made.
InputReads choose_input_reads(const MergePlan& plan, std::optional<ReadProbe>* probe = nullptr);

// Writes every shard of `plan` into `out`. Throws weld::Error on an I/O failure; the shards
// written so far stay in the temporary directory, which OutputDir removes.
void write_tensors(const MergePlan& plan, const OutputDir& out, const ExecuteOptions& options);

// Memory the workers' buffers take, in bytes.
std::uint64_t working_memory_bytes(const MergePlan& plan, const ExecuteOptions& options);

}  // namespace weld
