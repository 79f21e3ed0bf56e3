// Dispatch of the normal generator to the kernels of the selected instruction-set variant.
#include "random/normal_batch.hpp"

#include "random/cpu_dispatch.hpp"
#include "random/normal_batch_kernels.hpp"

namespace kernelsweep {

// Defined in normal_batch_variant.cpp, once per variant built.
const NormalBatchKernels& normal_batch_kernels_baseline();
#if defined(KERNELSWEEP_ISA_VARIANTS)
const NormalBatchKernels& normal_batch_kernels_avx2();
const NormalBatchKernels& normal_batch_kernels_avx512();
#endif

const NormalBatchKernels* normal_batch_kernels_for(int isa) {
  if (!kernel_isa_available(static_cast<KernelIsa>(isa))) return nullptr;
  switch (static_cast<KernelIsa>(isa)) {
#if defined(KERNELSWEEP_ISA_VARIANTS)
    case KernelIsa::avx512:
      return &normal_batch_kernels_avx512();
    case KernelIsa::avx2:
      return &normal_batch_kernels_avx2();
#endif
    case KernelIsa::baseline:
      return &normal_batch_kernels_baseline();
    default:
      return nullptr;
  }
}

const NormalBatchKernels& normal_batch_kernels() {
  static const NormalBatchKernels& table =
      *normal_batch_kernels_for(static_cast<int>(kernel_isa()));
  return table;
}

template <>
void NormalBatchGenerator::fill<float>(float* out, std::uint64_t first, std::uint64_t count,
                                       std::uint64_t draw, std::uint32_t stream) const {
  normal_batch_kernels().fill_float(key_.data(), out, first, count, draw, stream);
}

template <>
void NormalBatchGenerator::fill<double>(double* out, std::uint64_t first, std::uint64_t count,
                                        std::uint64_t draw, std::uint32_t stream) const {
  normal_batch_kernels().fill_double(key_.data(), out, first, count, draw, stream);
}

void NormalBatchGenerator::generate_batch(std::uint64_t batch_index, std::uint64_t draw,
                                          std::uint32_t stream, float* out) const {
  normal_batch_kernels().generate_batch(key_.data(), batch_index, draw, stream, out);
}

void NormalBatchGenerator::philox_words(std::uint64_t batch_index, std::uint64_t draw,
                                        std::uint32_t stream, std::uint32_t (&words)[4][16]) const {
  normal_batch_kernels().philox_words(key_.data(), batch_index, draw, stream, words);
}

}  // namespace kernelsweep
