// The inner loops of the passes over W, compiled once per instruction-set variant: CMake builds
// this file with -DKERNELSWEEP_VARIANT=<name> and that variant's flags (-march=x86-64-v4 ...), and
// everything here lives in namespace kernelsweep::sgld::<name>, so the variants never share a
// symbol (no Eigen or other inline library code is used here, so the linker cannot pick one
// variant's copy of a shared inline function for another: tests/tools check the objects for that).
// The loops are the same C++ in every variant; only the vector width the compiler uses differs.
#include <algorithm>
#include <cstdint>

#include "sgld/simd_kernels.hpp"

#ifndef KERNELSWEEP_VARIANT
#error "build with -DKERNELSWEEP_VARIANT=<variant name>"
#endif

namespace kernelsweep::sgld::KERNELSWEEP_VARIANT {

// Y += scale * W X (X is N x P with P small): row chunks; within a chunk, eight columns of W per
// sweep over the chunk's rows, all P columns of Y updated in the same sweep, so each W entry is
// loaded once and each element of the chunk of Y (in L1) is loaded and stored once per eight
// columns. The sum over columns runs in a fixed order (groups of eight, in column order),
// independent of the thread count.
template <typename Scalar>
void add_scaled_product_rows(Scalar* y, SimdIndex ldy, const Scalar* w, SimdIndex ldw,
                             const Scalar* x, SimdIndex K, SimdIndex rows) {
  constexpr int kColumns = 8;
  SimdIndex j = 0;
  for (; j + kColumns <= K; j += kColumns) {
    const Scalar* wj = w + j * ldw;
    Scalar xs[4][kColumns];
    for (int p = 0; p < 4; ++p)
      for (int k = 0; k < kColumns; ++k) xs[p][k] = x[(j + k) * 4 + p];
    Scalar *y0 = y, *y1 = y + ldy, *y2 = y + 2 * ldy, *y3 = y + 3 * ldy;
#pragma omp simd
    for (SimdIndex i = 0; i < rows; ++i) {
      const Scalar v0 = wj[i];
      Scalar s0 = xs[0][0] * v0, s1 = xs[1][0] * v0, s2 = xs[2][0] * v0, s3 = xs[3][0] * v0;
      for (int k = 1; k < kColumns; ++k) {
        const Scalar v = wj[k * ldw + i];
        s0 += xs[0][k] * v;
        s1 += xs[1][k] * v;
        s2 += xs[2][k] * v;
        s3 += xs[3][k] * v;
      }
      y0[i] += s0;
      y1[i] += s1;
      y2[i] += s2;
      y3[i] += s3;
    }
  }
  for (; j < K; ++j) {
    const Scalar* wj = w + j * ldw;
    const Scalar x0 = x[j * 4], x1 = x[j * 4 + 1], x2 = x[j * 4 + 2], x3 = x[j * 4 + 3];
    Scalar *y0 = y, *y1 = y + ldy, *y2 = y + 2 * ldy, *y3 = y + 3 * ldy;
#pragma omp simd
    for (SimdIndex i = 0; i < rows; ++i) {
      y0[i] += x0 * wj[i];
      y1[i] += x1 * wj[i];
      y2[i] += x2 * wj[i];
      y3[i] += x3 * wj[i];
    }
  }
}

// Z.row(j) = W.col(j)^T G for the columns j of one chunk: four columns of W against up to four
// columns of G per sweep over the rows, so each W entry is loaded once (P <= 4), each load of G
// (from L2) serves four columns, and the sixteen sums stay in registers. `omp simd` fixes one
// vectorized summation order at compile time.
template <typename Scalar>
void transposed_product_columns(Scalar* z, SimdIndex ldz, const Scalar* W, const Scalar* G,
                                SimdIndex N, SimdIndex P, SimdIndex c0, SimdIndex cols) {
  for (SimdIndex p0 = 0; p0 < P; p0 += 4) {
    const Scalar* g[4];
    for (SimdIndex k = 0; k < 4; ++k) g[k] = G + std::min(p0 + k, P - 1) * N;
    for (SimdIndex j = c0; j < c0 + cols; j += 4) {
      const Scalar* w[4];
      for (SimdIndex q = 0; q < 4; ++q) w[q] = W + std::min(j + q, c0 + cols - 1) * N;
      Scalar a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      Scalar c0_ = 0, c1 = 0, c2 = 0, c3 = 0, d0 = 0, d1 = 0, d2 = 0, d3 = 0;
#pragma omp simd reduction(+ : a0, a1, a2, a3, b0, b1, b2, b3, c0_, c1, c2, c3, d0, d1, d2, d3)
      for (SimdIndex i = 0; i < N; ++i) {
        const Scalar v0 = w[0][i], v1 = w[1][i], v2 = w[2][i], v3 = w[3][i];
        const Scalar h0 = g[0][i], h1 = g[1][i], h2 = g[2][i], h3 = g[3][i];
        a0 += v0 * h0;
        a1 += v0 * h1;
        a2 += v0 * h2;
        a3 += v0 * h3;
        b0 += v1 * h0;
        b1 += v1 * h1;
        b2 += v1 * h2;
        b3 += v1 * h3;
        c0_ += v2 * h0;
        c1 += v2 * h1;
        c2 += v2 * h2;
        c3 += v2 * h3;
        d0 += v3 * h0;
        d1 += v3 * h1;
        d2 += v3 * h2;
        d3 += v3 * h3;
      }
      const Scalar sums[4][4] = {
          {a0, a1, a2, a3}, {b0, b1, b2, b3}, {c0_, c1, c2, c3}, {d0, d1, d2, d3}};
      for (SimdIndex q = 0; q < 4 && j + q < c0 + cols; ++q)
        for (SimdIndex k = 0; k < 4 && p0 + k < P; ++k) z[(j + q) + (p0 + k) * ldz] = sums[q][k];
    }
  }
}

// W.col(j) <- decay W.col(j) - Gcat s_j + noise xi_j for up to four columns j (w[c], s[c], xi[c]),
// where s_j = scaled_Phicat.row(j): the rank-K gradient applied without forming it. This is the
// only compute-heavy part of a step (K = (T-1) P multiply-adds per entry of W), so it is written
// with explicit 512-bit vectors (GCC vector extensions; split into narrower ones where AVX-512 is
// missing): per 2 vectors of rows, the 4 x 2 sums stay in registers over all k, with one load of
// Gcat per vector and k. Every entry sums k = 0..K-1 in order whatever the thread count.
template <typename Scalar>
void update_columns(Scalar* const* w, SimdIndex N, int ncols, const Scalar* gcat, SimdIndex K,
                    const Scalar* const* s, const float* const* xi, Scalar decay, Scalar noise) {
  constexpr int L = 64 / sizeof(Scalar);
  using V [[gnu::vector_size(64)]] = Scalar;
  using F [[gnu::vector_size(4 * L)]] = float;
  const auto load = [](const Scalar* p) {
    V v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
  };
  const auto load_noise = [](const float* p) {
    F f;
    __builtin_memcpy(&f, p, sizeof f);
    return __builtin_convertvector(f, V);
  };
  SimdIndex i = 0;
  for (; i + 2 * L <= N; i += 2 * L) {
    V a[4][2] = {};
    for (SimdIndex k = 0; k < K; ++k) {
      const V g0 = load(gcat + k * N + i), g1 = load(gcat + k * N + i + L);
      for (int c = 0; c < 4; ++c) {
        a[c][0] += s[c][k] * g0;
        a[c][1] += s[c][k] * g1;
      }
    }
    for (int c = 0; c < ncols; ++c)
      for (int h = 0; h < 2; ++h) {
        const SimdIndex r = i + h * L;
        V v = decay * load(w[c] + r) - a[c][h];
        if (xi != nullptr) v += noise * load_noise(xi[c] + r);
        __builtin_memcpy(w[c] + r, &v, sizeof v);
      }
  }
  for (; i < N; ++i)  // the last rows (N not a multiple of 2 L)
    for (int c = 0; c < ncols; ++c) {
      Scalar a = 0;
      for (SimdIndex k = 0; k < K; ++k) a += s[c][k] * gcat[k * N + i];
      Scalar v = decay * w[c][i] - a;
      if (xi != nullptr) v += noise * static_cast<Scalar>(xi[c][i]);
      w[c][i] = v;
    }
}

}  // namespace kernelsweep::sgld::KERNELSWEEP_VARIANT

namespace kernelsweep::sgld {

#define KERNELSWEEP_CONCAT2(a, b) a##b
#define KERNELSWEEP_CONCAT(a, b) KERNELSWEEP_CONCAT2(a, b)

// The variant's tables, looked up by simd_kernels.cpp.
template <typename Scalar>
const SimdKernels<Scalar>& KERNELSWEEP_CONCAT(simd_kernels_, KERNELSWEEP_VARIANT)() {
  namespace v = KERNELSWEEP_VARIANT;
  static const SimdKernels<Scalar> table{&v::add_scaled_product_rows<Scalar>,
                                         &v::transposed_product_columns<Scalar>,
                                         &v::update_columns<Scalar>};
  return table;
}
template const SimdKernels<float>& KERNELSWEEP_CONCAT(simd_kernels_, KERNELSWEEP_VARIANT)<float>();
template const SimdKernels<double>& KERNELSWEEP_CONCAT(simd_kernels_,
                                                       KERNELSWEEP_VARIANT)<double>();

}  // namespace kernelsweep::sgld
