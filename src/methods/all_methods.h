// The descriptors of every method, one per file in src/methods/. Only registry.cpp needs this.
#pragma once

#include "methods/method.h"

namespace weld {

extern const MethodDescriptor kLinear;
extern const MethodDescriptor kTaskArithmetic;
extern const MethodDescriptor kTies;
extern const MethodDescriptor kDareTies;
extern const MethodDescriptor kDareLinear;
extern const MethodDescriptor kBreadcrumbs;
extern const MethodDescriptor kBreadcrumbsTies;
extern const MethodDescriptor kDella;
extern const MethodDescriptor kDellaLinear;
extern const MethodDescriptor kPassthrough;
extern const MethodDescriptor kModelStock;
extern const MethodDescriptor kNearswap;
extern const MethodDescriptor kSce;
extern const MethodDescriptor kArceeFusion;
extern const MethodDescriptor kRam;
extern const MethodDescriptor kRamplusTl;
extern const MethodDescriptor kSlerp;
extern const MethodDescriptor kNuslerp;
extern const MethodDescriptor kMultislerp;
extern const MethodDescriptor kKarcher;
extern const MethodDescriptor kFisher;

}  // namespace weld
