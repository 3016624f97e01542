// <immintrin.h> for the x86 vector bodies (convert_x86.cpp, rank_keep_x86.cpp); nothing
// elsewhere. g++ 12's AVX-512 intrinsics pass _mm512_undefined_epi32() as the unused merge
// source, which -Wmaybe-uninitialized reports at every use (GCC bug 105593, fixed in 13).
#pragma once

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
