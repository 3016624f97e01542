// The one table of merge methods. Adding a method: write src/methods/<name>.cpp exporting
// its descriptor, declare it in methods/all_methods.h, and add a row to the table in
// registry.cpp. Nothing registers itself.
#pragma once

#include <span>
#include <string_view>

#include "methods/method.h"

namespace weld {

std::span<const MethodDescriptor* const> all_methods();

// Throws weld::Error "unknown merge method 'x' (did you mean 'y'?)" when absent.
const MethodDescriptor& find_method(std::string_view name);

}  // namespace weld
