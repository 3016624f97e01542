// WELD_CHECK(cond): an internal invariant. Failing it is a bug in weld, never the user's
// input, so it aborts with file:line instead of throwing.
#pragma once

#include <cstdio>
#include <cstdlib>

#define WELD_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "weld: internal error: %s:%d: check failed: %s\n", __FILE__, \
                   __LINE__, #cond);                                                    \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
