#pragma once
// The normal generator's kernels (normal_batch_variant.cpp), one table per instruction-set
// variant; NormalBatchGenerator calls the table of the variant selected by cpu_dispatch.hpp.
// key is the generator's two-word Philox4x32 key; the layout of the normals is described in
// normal_batch.hpp.
#include <cstdint>

namespace kernelsweep {

struct NormalBatchKernels {
  void (*philox_words)(const std::uint32_t* key, std::uint64_t batch_index, std::uint64_t draw,
                       std::uint32_t stream, std::uint32_t (*words)[16]);
  void (*generate_batch)(const std::uint32_t* key, std::uint64_t batch_index, std::uint64_t draw,
                         std::uint32_t stream, float* out);
  void (*fill_float)(const std::uint32_t* key, float* out, std::uint64_t first, std::uint64_t count,
                     std::uint64_t draw, std::uint32_t stream);
  void (*fill_double)(const std::uint32_t* key, double* out, std::uint64_t first,
                      std::uint64_t count, std::uint64_t draw, std::uint32_t stream);
};

// The table of the selected variant.
const NormalBatchKernels& normal_batch_kernels();
// The table of a given variant; nullptr when it is not built or this CPU cannot run it (tests
// compare the variants with each other).
const NormalBatchKernels* normal_batch_kernels_for(int isa);

}  // namespace kernelsweep
