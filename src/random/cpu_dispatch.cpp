#include "random/cpu_dispatch.hpp"

#include <cstdlib>
#include <cstring>
#include <iostream>

namespace kernelsweep {

namespace {

bool cpu_runs(KernelIsa isa) {
#if defined(KERNELSWEEP_ISA_VARIANTS) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  switch (isa) {
    case KernelIsa::baseline:
      return true;
    case KernelIsa::avx2:
      return __builtin_cpu_supports("x86-64-v3");
    case KernelIsa::avx512:
      return __builtin_cpu_supports("x86-64-v4");
  }
  return false;
#else
  return isa == KernelIsa::baseline;
#endif
}

KernelIsa choose() {
  KernelIsa best = KernelIsa::baseline;
  for (KernelIsa isa : {KernelIsa::avx2, KernelIsa::avx512})
    if (kernel_isa_available(isa)) best = isa;
  const char* forced = std::getenv("KERNELSWEEP_ISA");
  if (forced == nullptr || *forced == '\0') return best;
  for (KernelIsa isa : {KernelIsa::baseline, KernelIsa::avx2, KernelIsa::avx512}) {
    const char* name = isa == KernelIsa::baseline ? "baseline"
                       : isa == KernelIsa::avx2   ? "avx2"
                                                  : "avx512";
    if (std::strcmp(forced, name) != 0) continue;
    if (kernel_isa_available(isa)) return isa;
    std::cerr << "warning: KERNELSWEEP_ISA=" << forced
              << " is not available in this build or on this CPU; using "
              << (best == KernelIsa::avx512 ? "avx512"
                  : best == KernelIsa::avx2 ? "avx2"
                                            : "baseline")
              << "\n";
    return best;
  }
  std::cerr << "warning: KERNELSWEEP_ISA=" << forced
            << " is not one of baseline, avx2, avx512; ignored\n";
  return best;
}

}  // namespace

bool kernel_isa_available(KernelIsa isa) { return cpu_runs(isa); }

KernelIsa kernel_isa() {
  static const KernelIsa isa = choose();
  return isa;
}

const char* kernel_isa_name() {
#if defined(KERNELSWEEP_NATIVE_BUILD)
  return "native";
#elif !defined(KERNELSWEEP_ISA_VARIANTS)
  return "baseline";
#else
  switch (kernel_isa()) {
    case KernelIsa::baseline:
      return "baseline";
    case KernelIsa::avx2:
      return "avx2";
    case KernelIsa::avx512:
      return "avx512";
  }
  return "baseline";
#endif
}

}  // namespace kernelsweep
