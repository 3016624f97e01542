// Kernels whose loops the compiler vectorises are built three times, for AVX-512, AVX2 and
// the baseline x86-64, and the loader picks the widest the CPU has. The values are the same
// on every path: vector adds, multiplies, divides and compares are the scalar IEEE
// operations lane by lane, and weld builds with -ffp-contract=off so that no path fuses a
// multiply-add the others round twice. Put it on the function whose loops matter; what it
// inlines is compiled for the same target.
#pragma once

#if defined(__x86_64__) && !defined(__clang__)
#define WELD_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define WELD_VECTOR_CLONES
#endif
