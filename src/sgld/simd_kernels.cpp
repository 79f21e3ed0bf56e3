// Picks the table of the instruction-set variant selected by random/cpu_dispatch.
#include "sgld/simd_kernels.hpp"

#include "random/cpu_dispatch.hpp"

namespace kernelsweep::sgld {

// Defined in simd_kernels_variant.cpp, once per variant built.
template <typename Scalar>
const SimdKernels<Scalar>& simd_kernels_baseline();
#if defined(KERNELSWEEP_ISA_VARIANTS)
template <typename Scalar>
const SimdKernels<Scalar>& simd_kernels_avx2();
template <typename Scalar>
const SimdKernels<Scalar>& simd_kernels_avx512();
#endif

template <typename Scalar>
const SimdKernels<Scalar>* simd_kernels_for(int isa) {
  if (!kernel_isa_available(static_cast<KernelIsa>(isa))) return nullptr;
  switch (static_cast<KernelIsa>(isa)) {
#if defined(KERNELSWEEP_ISA_VARIANTS)
    case KernelIsa::avx512:
      return &simd_kernels_avx512<Scalar>();
    case KernelIsa::avx2:
      return &simd_kernels_avx2<Scalar>();
#endif
    case KernelIsa::baseline:
      return &simd_kernels_baseline<Scalar>();
    default:
      return nullptr;
  }
}

template <typename Scalar>
const SimdKernels<Scalar>& simd_kernels() {
  static const SimdKernels<Scalar>& table =
      *simd_kernels_for<Scalar>(static_cast<int>(kernel_isa()));
  return table;
}

template const SimdKernels<float>& simd_kernels<float>();
template const SimdKernels<double>& simd_kernels<double>();
template const SimdKernels<float>* simd_kernels_for<float>(int);
template const SimdKernels<double>* simd_kernels_for<double>(int);

}  // namespace kernelsweep::sgld
