#include "methods/registry.h"

#include <array>
#include <string>
#include <vector>

#include "methods/all_methods.h"
#include "util/edit_distance.h"
#include "util/error.h"

namespace weld {
namespace {

const std::array<const MethodDescriptor*, 16> kMethods = {
    &kLinear,      &kTaskArithmetic, &kTies,  &kDareTies,   &kDareLinear,
    &kBreadcrumbs, &kBreadcrumbsTies, &kDella, &kDellaLinear, &kPassthrough,
    &kModelStock,  &kNearswap,       &kSce,   &kArceeFusion, &kRam,     &kRamplusTl,
};

}  // namespace

std::span<const MethodDescriptor* const> all_methods() { return kMethods; }

const MethodDescriptor& find_method(std::string_view name) {
  std::vector<std::string_view> names;
  for (const MethodDescriptor* m : kMethods) {
    if (m->name == name) return *m;
    names.push_back(m->name);
  }
  fail("unknown merge method '{}'{}", name, did_you_mean(name, names));
}

std::optional<std::size_t> find_param(const MethodDescriptor& method, std::string_view name) {
  for (std::size_t i = 0; i < method.params.size(); ++i)
    if (method.params[i].name == name) return i;
  return std::nullopt;
}

}  // namespace weld
