#pragma once
// Which instruction-set variant of the hot kernels (SGLD passes over W, the normal generator) this
// process runs. A portable build compiles each kernel once per x86-64 level (baseline, v3 = AVX2 +
// FMA, v4 = AVX-512) and picks the best one the CPU has, once, at the first call; a native build
// (-DKERNELSWEEP_NATIVE=ON) has only the one variant built for the build machine.
//
// KERNELSWEEP_ISA=baseline|avx2|avx512 forces a lower variant (e.g. to get the same bits on every
// node of a cluster with mixed CPUs: variants may round differently); a variant the CPU lacks is
// refused with a warning on stderr and the best supported one is used.
namespace kernelsweep {

enum class KernelIsa { baseline = 0, avx2 = 1, avx512 = 2 };

// The variant in use (fixed for the life of the process).
KernelIsa kernel_isa();
// "baseline", "avx2", "avx512"; "native" for a -march=native build.
const char* kernel_isa_name();
// Whether this build contains the variant and this CPU can run it.
bool kernel_isa_available(KernelIsa isa);

}  // namespace kernelsweep
