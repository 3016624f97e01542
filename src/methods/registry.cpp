#include "methods/registry.h"

#include <array>
#include <string>
#include <vector>

#include "methods/all_methods.h"
#include "util/edit_distance.h"
#include "util/error.h"

namespace weld {
namespace {

// In the order `weld methods` lists them: averages, the sphere, task vectors, the rest.
const std::array<const MethodDescriptor*, 21> kMethods = {
    &kLinear,      &kFisher,     &kSlerp,      &kNuslerp,    &kMultislerp,     &kKarcher,
    &kTaskArithmetic, &kTies,    &kDareTies,   &kDareLinear,     &kBreadcrumbs,
    &kBreadcrumbsTies, &kDella,  &kDellaLinear, &kSce,           &kModelStock,
    &kNearswap,    &kArceeFusion, &kRam,       &kRamplusTl,      &kPassthrough,
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
