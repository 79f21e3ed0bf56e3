#pragma once
// The innermost loops of the passes over W (see parallel_kernels.hpp for what each computes), on
// raw column-major arrays, compiled once per instruction-set variant (simd_kernels_variant.cpp)
// and called through the table of the variant this CPU runs (random/cpu_dispatch.hpp).
#include <cstddef>

namespace kernelsweep::sgld {

using SimdIndex = std::ptrdiff_t;  // = Eigen::Index

template <typename Scalar>
struct SimdKernels {
  // y[p * ldy + i] += sum_j x[4 j + p] w[j * ldw + i] for p < 4, i < rows, j < K.
  void (*add_scaled_product_rows)(Scalar* y, SimdIndex ldy, const Scalar* w, SimdIndex ldw,
                                  const Scalar* x, SimdIndex K, SimdIndex rows);
  // z[j + p * ldz] = sum_i w[i + j * n] g[i + p * n] for j in [c0, c0 + cols), p < P.
  void (*transposed_product_columns)(Scalar* z, SimdIndex ldz, const Scalar* w, const Scalar* g,
                                     SimdIndex n, SimdIndex P, SimdIndex c0, SimdIndex cols);
  // w[c][i] <- decay w[c][i] - sum_k s[c][k] gcat[k n + i] + noise xi[c][i], c < ncols (xi may
  // be null: no noise).
  void (*update_columns)(Scalar* const* w, SimdIndex n, int ncols, const Scalar* gcat, SimdIndex K,
                         const Scalar* const* s, const float* const* xi, Scalar decay,
                         Scalar noise);
};

// The table of the selected variant.
template <typename Scalar>
const SimdKernels<Scalar>& simd_kernels();
// The table of a given variant (a KernelIsa value); nullptr when it is not built or this CPU
// cannot run it (tests compare the variants with each other).
template <typename Scalar>
const SimdKernels<Scalar>* simd_kernels_for(int isa);

}  // namespace kernelsweep::sgld
