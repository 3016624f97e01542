// "did you mean" suggestions for misspelt names (methods, parameters, options).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace weld {

// Levenshtein distance (insert, delete, substitute each cost 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `name`, or "" when none is within a third of its length (min 1):
// a suggestion further away than that is more confusing than helpful.
std::string closest_match(std::string_view name, std::span<const std::string_view> candidates);

// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view name, std::span<const std::string_view> candidates);

}  // namespace weld
