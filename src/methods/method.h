// A merge method: static data that describes it (names, paper, parameters) plus the
// functions that check a call and merge values.
//
// Methods see float32 values only, so they never know about files, dtypes or threads.
// Element-wise methods give merge_tile: the executor converts inputs to f32 tile by tile,
// calls it, and converts the result, so memory stays at a few tiles. Methods that need a
// statistic of the whole tensor (a norm, a top-k threshold) are streamed: prepare() makes
// one or more passes over the inputs through a TensorReader, tile by tile, and returns the
// statistics, which every merge_tile call of that tensor then receives. (`weld merge
// --whole-tensors` runs the same two functions on the whole tensor as a single tile: the
// simple path, which the streamed one must match byte for byte.) Everything that can be wrong
// with a call (input count, missing base, a zero weight sum) is found by validate() when
// the merge is planned, before any byte is written; merge_tile is noexcept and allocates
// nothing beyond growing the worker's scratch buffers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "methods/scratch.h"
#include "tensor/lanes.h"
#include "util/check.h"

namespace weld {

// Global parameters have one value per output tensor and read only the slice and top-level
// `parameters`; per-model ones have one value per (model, tensor).
enum class ParamScope { kGlobal, kPerModel };

// Most parameters are numbers. A file parameter is per model and names a safetensors file
// (a Fisher information file, say) whose tensor of the same name as the model's input
// becomes an extra input of the call: inputs [n_inputs, 2 n_inputs) after the models.
enum class ParamKind { kNumber, kFile };

struct ParamDef {
  std::string_view name;  // as in the YAML config
  ParamScope scope;
  bool required;
  double default_value;  // used when not required and not set; booleans are 1/0
  std::string_view help;
  ParamKind kind = ParamKind::kNumber;
};

enum class BaseUse { kIgnored, kOptional, kRequired };

// Everything about one output tensor's merge except the data. Parameter vectors are indexed
// like MethodDescriptor::params; a per-model value the config does not set is NaN (only the
// base model may lack a required per-model parameter).
struct MethodCall {
  std::size_t n_inputs = 0;
  std::optional<std::size_t> base;               // index of the base model among the inputs
  // Every parameter's slot for each input, [input * n_params + param], in one array: a plan
  // holds a call per tensor, and an array per input would be one more allocation each.
  std::vector<double> model_params;
  std::vector<double> global_params;  // [param]; its size is n_params

  double global(std::size_t param) const { return global_params[param]; }
  double model(std::size_t input, std::size_t param) const {
    return model_params[input * global_params.size() + param];
  }
  std::span<const double> params_of(std::size_t input) const {
    return std::span(model_params).subspan(input * global_params.size(), global_params.size());
  }
};

// What a streamed method's prepare() found about a whole tensor (thresholds, norms, random
// streams); each method derives its own.
struct TensorStats {
  virtual ~TensorStats() = default;
};

// n values of every input (same order as MethodCall's inputs), from element `begin` of the
// tensor, and room for n outputs.
struct Tile {
  std::span<const float* const> inputs;
  float* out;
  std::size_t n;
  std::uint64_t begin = 0;
  const TensorStats* stats = nullptr;  // prepare()'s result, for streamed methods
  Scratch* scratch = nullptr;          // the worker's buffers, for methods that need room
};

// n values of every input and room for n outputs, all in the tensor's own dtype, for the
// fused path (merge_lanes).
struct LaneTile {
  LaneSpan values;
  std::uint64_t begin = 0;
  const TensorStats* stats = nullptr;
};

// The inputs of one output tensor, read as f32 a tile at a time from the mapped files, for
// the passes of a streamed method's prepare().
class TensorReader {
 public:
  TensorReader(std::uint64_t n, std::span<const std::uint64_t> dims, std::string_view tensor_name,
               std::uint64_t random_seed)
      : numel(n), shape(dims), name(tensor_name), seed(random_seed) {}
  virtual ~TensorReader() = default;

  // Calls fn(tile) for consecutive tiles covering elements [begin, end), in element order,
  // with every input loaded (tile.out is null), until fn returns false. Tiles hold whole
  // rows when the method asks for them (and then begin must start a row).
  virtual void for_each_tile(std::uint64_t begin, std::uint64_t end,
                             const std::function<bool(const Tile& tile)>& fn) const = 0;
  // The same over the whole tensor.
  void for_each_tile(const std::function<bool(const Tile& tile)>& fn) const { for_each_tile(0, numel, fn); }
  using LaneBlockFn = std::function<bool(const LaneSpan& block, std::uint64_t begin)>;
  // Whether for_each_lane_block is offered: where the executor merges the tensor on the fused
  // path, a pass may read the inputs' own bytes with fused kernels, which give the values of
  // tiles.
  virtual bool has_lanes() const { return false; }
  // Calls fn(block, begin) for consecutive blocks covering elements [first, end), in element
  // order, with every input's own bytes of elements [begin, begin + block.n) (block.out is
  // null), until fn returns false. Blocks are cut as tiles are; their bytes last until fn
  // returns. REQUIRES: has_lanes().
  virtual void for_each_lane_block(std::uint64_t first, std::uint64_t end, const LaneBlockFn& fn) const {
    (void)first, (void)end, (void)fn;
    WELD_CHECK(has_lanes());
  }

  using SegmentFn = std::function<void(const TensorReader& reader, std::uint64_t begin, std::uint64_t end)>;
  // Calls fn(reader, begin, end) once for each segment [begin, end) of `segment` elements that
  // cuts [0, numel) (the last may be shorter), and returns when every call has. The executor
  // shares the segments with the workers that wait for this tensor's statistics, each reading
  // through a reader of its own, so fn may run on several threads at once: each call must write
  // only what belongs to its segment, so that the results are the same however the segments
  // are shared. This reader makes the calls in order. The first exception a call throws is
  // rethrown once every call has returned.
  virtual void for_each_segment(std::uint64_t segment, const SegmentFn& fn) const {
    WELD_CHECK(segment > 0);
    for (std::uint64_t begin = 0; begin < numel; begin += segment) fn(*this, begin, std::min(numel, begin + segment));
  }

  const std::uint64_t numel;
  const std::span<const std::uint64_t> shape;
  const std::string_view name;  // of the output tensor
  const std::uint64_t seed;
};

struct MethodDescriptor {
  std::string_view name;         // as in `merge_method:`
  std::string_view pretty_name;
  std::string_view summary;      // one line
  std::string_view formula;      // one line, ASCII
  std::string_view paper;        // citation
  std::string_view url;
  std::span<const ParamDef> params;
  BaseUse base;
  std::size_t min_inputs;        // counting the base model
  std::size_t max_inputs;        // kUnbounded for any number

  // Throws weld::Error when the call cannot be merged (the caller adds the tensor name).
  // May be null: the planner already checks input counts and the base model.
  void (*validate)(const MethodCall& call);
  // REQUIRES: validate(call) passed.
  void (*merge_tile)(const MethodCall& call, const Tile& tile) noexcept;
  // The input whose values are the result unchanged, if there is one for this call: the
  // executor then copies its bytes, which also lets non-float tensors through. May be null.
  std::optional<std::size_t> (*identity_input)(const MethodCall& call);

  // For `weld methods NAME` and docs/methods.md: what it does, in a paragraph, and when to
  // reach for it. Last, so that descriptors may leave them out while being written.
  std::string_view description = {};
  std::string_view when_to_use = {};

  // Streamed methods: the statistics pass(es) before merge_tile. May throw weld::Error for a
  // condition only the values reveal (an antipodal mean, say). Null for element-wise methods.
  std::unique_ptr<TensorStats> (*prepare)(const MethodCall& call, const TensorReader& reader) = nullptr;
  // Tiles must hold whole rows (along the last axis): the method ranks within rows.
  bool whole_rows = false;
  // Optional: merge_tile's arithmetic run through run_lanes (tensor/lanes.h) on the inputs'
  // own bytes. The executor uses it where that is fused (AVX-512) and the inputs and output
  // share a dtype; it must give merge_tile's values bit for bit, NaN's sign and payload
  // aside (tests/methods check, with expect_lanes_match_tiles). Returns false, having written
  // nothing, where this tensor's statistics need merge_tile (DELLA testing rows, say) or the
  // kernel runs only where lanes_are_fused().
  bool (*merge_lanes)(const MethodCall& call, const LaneTile& tile) noexcept = nullptr;
};

inline constexpr std::size_t kUnbounded = static_cast<std::size_t>(-1);

// Index of the parameter named `name` in `method.params`, if any.
std::optional<std::size_t> find_param(const MethodDescriptor& method, std::string_view name);

// for_each_lane_block over the bytes of a whole tensor in memory (`whole`, of whole.n
// elements), in blocks of `step` elements, for readers whose inputs lie in memory already.
inline void for_each_block_of(const LaneSpan& whole, std::uint64_t first, std::uint64_t end, std::uint64_t step,
                              const TensorReader::LaneBlockFn& fn) {
  const std::size_t size = dtype_size(whole.dtype);
  std::vector<const std::byte*> at(whole.inputs.size());
  for (std::uint64_t begin = first; begin < end; begin += step) {
    for (std::size_t i = 0; i < at.size(); ++i) at[i] = whole.inputs[i] + begin * size;
    const auto n = static_cast<std::size_t>(std::min(step, end - begin));
    if (!fn(LaneSpan{at, nullptr, n, whole.dtype}, begin)) return;
  }
}

}  // namespace weld
