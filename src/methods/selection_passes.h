// Runs the passes of streamed rank selections over a tensor's inputs, for methods whose
// thresholds are order statistics of keys computed from the inputs (|x_i - b|, say).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "methods/method.h"
#include "tensor/streamed_select.h"

namespace weld {

// Fills keys[j] with selector s's key of element tile.begin + j.
using SelectionKeys = std::function<void(const Tile& tile, std::size_t s, std::span<std::uint32_t> keys)>;

// The same from the inputs' own bytes: `block` holds n elements of every input from element
// begin (tensor/lanes.h), where the reader offers them (TensorReader::for_each_lane_block).
using SelectionLaneKeys = std::function<void(const LaneSpan& block, std::size_t s, std::span<std::uint32_t> keys)>;

// Until every selector is done, reads the elements each asks for and gives it their keys.
// Selectors that ask for the same elements (the usual case: one per model, in step) share
// each read of the inputs. With lane_keys_of, keys come from the inputs' bytes where the
// reader offers them, which spares converting every input to f32 first.
void run_selection_passes(const TensorReader& reader, std::span<StreamedSelector> selectors,
                          const SelectionKeys& keys_of, const SelectionLaneKeys& lane_keys_of = nullptr);

}  // namespace weld
