#include "methods/selection_passes.h"

#include <algorithm>
#include <vector>

namespace weld {

void run_selection_passes(const TensorReader& reader, std::span<StreamedSelector> selectors,
                          const SelectionKeys& keys_of) {
  std::vector<std::uint32_t> keys;
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
      for (const KeyRange& range : ranges) {
        if (group_done()) break;
        reader.for_each_tile(range.begin, range.end, [&](const Tile& tile) {
          keys.resize(tile.n);
          for (std::size_t s : group) {
            if (selectors[s].done()) continue;
            keys_of(tile, s, keys);
            selectors[s].add(tile.begin, keys);
          }
          return !group_done();
        });
      }
      for (std::size_t s : group) selectors[s].end_pass();
      waiting = std::move(later);
    }
  }
}

}  // namespace weld
