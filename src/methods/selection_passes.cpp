#include "methods/selection_passes.h"

#include <algorithm>
#include <vector>

namespace weld {
namespace {

// Keys a selector is given at a time from a block of the inputs' bytes: they stay in L1
// between being made and being scanned (a whole 64 Ki-element tile of them would not), and a
// rank in a run of equal keys re-reads a piece this long.
constexpr std::size_t kLaneKeysAtATime = 4096;

}  // namespace

void run_selection_passes(const TensorReader& reader, std::span<StreamedSelector> selectors,
                          const SelectionKeys& keys_of, const SelectionLaneKeys& lane_keys_of) {
  const bool lanes = lane_keys_of && reader.has_lanes();
  std::vector<std::uint32_t> keys;
  std::vector<const std::byte*> part_inputs;  // a part of a lane block
  for (;;) {
    std::vector<std::size_t> waiting;
    for (std::size_t s = 0; s < selectors.size(); ++s)
      if (!selectors[s].done()) waiting.push_back(s);
    if (waiting.empty()) return;
    while (!waiting.empty()) {
      // The selectors that want what the first waiting one wants read it together.
      const std::vector<KeyRange>& ranges = selectors[waiting.front()].ranges();
      std::vector<std::size_t> group, later;
      for (std::size_t s : waiting) (selectors[s].ranges() == ranges ? group : later).push_back(s);
      const auto group_done = [&] {
        return std::all_of(group.begin(), group.end(), [&](std::size_t s) { return selectors[s].done(); });
      };
      // Gives the group the keys of n elements from `begin`, fill(s, keys) making selector s's.
      const auto add_keys = [&](std::uint64_t begin, std::size_t n, const auto& fill) {
        keys.resize(n);
        for (std::size_t s : group) {
          if (selectors[s].done()) continue;
          fill(s, std::span(keys));
          selectors[s].add(begin, keys);
        }
        return !group_done();
      };
      for (const KeyRange& range : ranges) {
        if (group_done()) break;
        if (lanes) {
          reader.for_each_lane_block(range.begin, range.end, [&](const LaneSpan& block, std::uint64_t begin) {
            const std::size_t size = dtype_size(block.dtype);
            part_inputs.resize(block.inputs.size());
            for (std::size_t at = 0; at < block.n; at += kLaneKeysAtATime) {
              for (std::size_t i = 0; i < block.inputs.size(); ++i) part_inputs[i] = block.inputs[i] + at * size;
              const LaneSpan part{part_inputs, nullptr, std::min(kLaneKeysAtATime, block.n - at), block.dtype};
              if (!add_keys(begin + at, part.n,
                            [&](std::size_t s, std::span<std::uint32_t> k) { lane_keys_of(part, s, k); }))
                return false;
            }
            return true;
          });
        } else {
          reader.for_each_tile(range.begin, range.end, [&](const Tile& tile) {
            return add_keys(tile.begin, tile.n, [&](std::size_t s, std::span<std::uint32_t> k) { keys_of(tile, s, k); });
          });
        }
      }
      for (std::size_t s : group) selectors[s].end_pass();
      waiting = std::move(later);
    }
  }
}

}  // namespace weld
