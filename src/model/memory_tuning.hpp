#pragma once
// Process-wide allocator tuning for the theory's dense work. A packed Hessian at T = 8, P = 4 is a
// 528 x 528 matrix (2.2 MB); glibc serves such blocks by mmap, or trims them off the heap once
// freed, so every new one costs a page fault per 4 kB page on first touch. That was 20 % of a
// traced lam line (bench/theory/theory_bench, LambdaLine). Call once at the start of main();
// a no-op on C libraries other than glibc.
namespace kernelsweep {

void keep_freed_memory_for_reuse();

}  // namespace kernelsweep
