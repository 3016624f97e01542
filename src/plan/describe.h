// The human-readable plan printed by `weld merge --dry-run`: every output tensor with its
// inputs, method and resolved parameters, and the memory the merge will need.
#pragma once

#include <string>

#include "plan/executor.h"
#include "plan/plan.h"

namespace weld {

std::string describe_plan(const MergePlan& plan, const ExecuteOptions& options);

}  // namespace weld
