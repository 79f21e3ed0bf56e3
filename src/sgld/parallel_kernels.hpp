#pragma once
// The passes over the N x N recurrent matrices that bound an SGLD step, split into chunks of fixed
// size (independent of the thread count) so that every output element is summed in the same
// order however many OpenMP threads run: results are bit-identical for 1 or 2 threads.
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <vector>

#include "random/normal_batch.hpp"
#include "sgld/sgld_types.hpp"

namespace kernelsweep::sgld {

// Below this width a pass takes microseconds and thread start-up would dominate.
inline constexpr Eigen::Index kParallelWidth = 512;
// Rows of a chunk of the forward product: 4 kB contiguous pieces of each column of W (measured:
// 1 kB pieces run at 2/3 of the speed of 4 kB ones), and 4 chunks of N = 2048 in float64 for the
// dynamic schedule to balance two threads on a shared machine.
template <typename Scalar>
inline constexpr Eigen::Index kRowChunk = 4096 / sizeof(Scalar);
inline constexpr Eigen::Index kColumnChunk = 16;

// Eigen's GEMM would pack (copy) W before multiplying, which doubles the traffic of these skinny
// products (P or (T-1) P columns); they are written as streams of axpy / dot operations instead,
// so each W entry is loaded once per pass.

// Y += scale * W X (X is N x P with P small): row chunks; within a chunk, eight columns of W per
// sweep over the chunk's rows, all P columns of Y updated in the same sweep, so each W entry is
// loaded once and each element of the chunk of Y (in L1) is loaded and stored once per eight
// columns. The sum over columns runs in a fixed order (groups of eight, in column order),
// independent of the thread count.
template <typename Scalar>
void add_scaled_product_rows(Scalar* y, Eigen::Index ldy, const Scalar* w, Eigen::Index ldw,
                             const Scalar* x, Eigen::Index K, Eigen::Index rows) {
  constexpr int kColumns = 8;
  Eigen::Index j = 0;
  for (; j + kColumns <= K; j += kColumns) {
    const Scalar* wj = w + j * ldw;
    Scalar xs[4][kColumns];
    for (int p = 0; p < 4; ++p)
      for (int k = 0; k < kColumns; ++k) xs[p][k] = x[(j + k) * 4 + p];
    Scalar *y0 = y, *y1 = y + ldy, *y2 = y + 2 * ldy, *y3 = y + 3 * ldy;
#pragma omp simd
    for (Eigen::Index i = 0; i < rows; ++i) {
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
    for (Eigen::Index i = 0; i < rows; ++i) {
      y0[i] += x0 * wj[i];
      y1[i] += x1 * wj[i];
      y2[i] += x2 * wj[i];
      y3[i] += x3 * wj[i];
    }
  }
}

template <typename Scalar>
void add_scaled_product(Matrix<Scalar>& Y, const Matrix<Scalar>& W, const Matrix<Scalar>& X,
                        Scalar scale) {
  const Eigen::Index N = W.rows(), K = W.cols(), P = X.cols();
  constexpr Eigen::Index kRows = kRowChunk<Scalar>;
  const Eigen::Index chunks = (N + kRows - 1) / kRows;
  // Row-major X, padded to groups of four columns (the kernel's register block): x[4 j + p].
  const Eigen::Index groups = (P + 3) / 4;
  std::vector<Matrix<Scalar>> scaled_X(static_cast<std::size_t>(groups),
                                       Matrix<Scalar>::Zero(4, K));
  for (Eigen::Index p = 0; p < P; ++p)
    scaled_X[static_cast<std::size_t>(p / 4)].row(p % 4) = scale * X.col(p).transpose();
#pragma omp parallel for schedule(dynamic) if (N >= kParallelWidth)
  for (Eigen::Index c = 0; c < chunks; ++c) {
    const Eigen::Index r0 = c * kRows, rows = std::min(kRows, N - r0);
    // The chunk of Y, padded to four columns per group (16 kB, in L1).
    alignas(64) Scalar accumulator[4 * kRows];
    for (Eigen::Index g = 0; g < groups; ++g) {
      const Eigen::Index p0 = 4 * g, width = std::min<Eigen::Index>(4, P - p0);
      for (Eigen::Index p = 0; p < 4; ++p)
        for (Eigen::Index i = 0; i < rows; ++i)
          accumulator[p * kRows + i] = p < width ? Y(r0 + i, p0 + p) : Scalar(0);
      add_scaled_product_rows(accumulator, kRows, W.data() + r0, N,
                              scaled_X[static_cast<std::size_t>(g)].data(), K, rows);
      for (Eigen::Index p = 0; p < width; ++p)
        for (Eigen::Index i = 0; i < rows; ++i) Y(r0 + i, p0 + p) = accumulator[p * kRows + i];
    }
  }
}

// Z.row(j) = W.col(j)^T G for the columns j of one chunk: four columns of W against up to four
// columns of G per sweep over the rows, so each W entry is loaded once (P <= 4), each load of G
// (from L2) serves four columns, and the sixteen sums stay in registers. `omp simd` fixes one
// vectorized summation order at compile time.
template <typename Scalar>
void transposed_product_columns(Matrix<Scalar>& Z, const Matrix<Scalar>& W, const Matrix<Scalar>& G,
                                Eigen::Index c0, Eigen::Index cols) {
  const Eigen::Index N = W.rows(), P = G.cols();
  for (Eigen::Index p0 = 0; p0 < P; p0 += 4) {
    const Scalar* g[4];
    for (Eigen::Index k = 0; k < 4; ++k) g[k] = G.col(std::min(p0 + k, P - 1)).data();
    for (Eigen::Index j = c0; j < c0 + cols; j += 4) {
      const Scalar* w[4];
      for (Eigen::Index q = 0; q < 4; ++q) w[q] = W.col(std::min(j + q, c0 + cols - 1)).data();
      Scalar a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      Scalar c0_ = 0, c1 = 0, c2 = 0, c3 = 0, d0 = 0, d1 = 0, d2 = 0, d3 = 0;
#pragma omp simd reduction(+ : a0, a1, a2, a3, b0, b1, b2, b3, c0_, c1, c2, c3, d0, d1, d2, d3)
      for (Eigen::Index i = 0; i < N; ++i) {
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
      for (Eigen::Index q = 0; q < 4 && j + q < c0 + cols; ++q)
        for (Eigen::Index k = 0; k < 4 && p0 + k < P; ++k) Z(j + q, p0 + k) = sums[q][k];
    }
  }
}

// Z = W^T G: column chunks.
template <typename Scalar>
void transposed_product(Matrix<Scalar>& Z, const Matrix<Scalar>& W, const Matrix<Scalar>& G) {
  const Eigen::Index N = W.cols();
  const Eigen::Index chunks = (N + kColumnChunk - 1) / kColumnChunk;
  Z.resize(N, G.cols());
#pragma omp parallel for schedule(dynamic) if (W.rows() >= kParallelWidth)
  for (Eigen::Index c = 0; c < chunks; ++c) {
    const Eigen::Index c0 = c * kColumnChunk, cols = std::min(kColumnChunk, N - c0);
    transposed_product_columns(Z, W, G, c0, cols);
  }
}

// Where the normals of one parameter block come from: element e of block `stream` at `draw`.
struct NoiseSource {
  const NormalBatchGenerator* generator = nullptr;
  std::uint64_t draw = 0;
  std::uint32_t stream = 0;
};

// W.col(j) <- decay W.col(j) - Gcat s_j + noise xi_j for up to four columns j (w[c], s[c], xi[c]),
// where s_j = scaled_Phicat.row(j): the rank-K gradient applied without forming it. This is the
// only compute-heavy part of a step (K = (T-1) P multiply-adds per entry of W), so it is written
// with explicit 512-bit vectors (GCC vector extensions; split into narrower ones where AVX-512 is
// missing): per 2 vectors of rows, the 4 x 2 sums stay in registers over all k, with one load of
// Gcat per vector and k. Every entry sums k = 0..K-1 in order whatever the thread count.
template <typename Scalar>
void update_columns(Scalar* const* w, Eigen::Index N, int ncols, const Scalar* gcat, Eigen::Index K,
                    const Scalar* const* s, const float* const* xi,
                    const LangevinCoefficients<Scalar>& coefficients) {
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
  const Scalar decay = coefficients.decay, noise = coefficients.noise;
  Eigen::Index i = 0;
  for (; i + 2 * L <= N; i += 2 * L) {
    V a[4][2] = {};
    for (Eigen::Index k = 0; k < K; ++k) {
      const V g0 = load(gcat + k * N + i), g1 = load(gcat + k * N + i + L);
      for (int c = 0; c < 4; ++c) {
        a[c][0] += s[c][k] * g0;
        a[c][1] += s[c][k] * g1;
      }
    }
    for (int c = 0; c < ncols; ++c)
      for (int h = 0; h < 2; ++h) {
        const Eigen::Index r = i + h * L;
        V v = decay * load(w[c] + r) - a[c][h];
        if (xi != nullptr) v += noise * load_noise(xi[c] + r);
        __builtin_memcpy(w[c] + r, &v, sizeof v);
      }
  }
  for (; i < N; ++i)  // the last rows (N not a multiple of 2 L)
    for (int c = 0; c < ncols; ++c) {
      Scalar a = 0;
      for (Eigen::Index k = 0; k < K; ++k) a += s[c][k] * gcat[k * N + i];
      Scalar v = decay * w[c][i] - a;
      if (xi != nullptr) v += noise * static_cast<Scalar>(xi[c][i]);
      w[c][i] = v;
    }
}

// One fused pass over W (N x N): for each column chunk, first Z = W^T G with the old W (the
// backpropagation through W; skipped when G has no columns), then
//   W <- decay W - drift * grad_scale * Gcat Phicat^T + noise xi,
// the Langevin update with the low-rank gradient Gcat Phicat^T, four columns at a time with their
// normals generated just before (a 4 N float buffer, in L1/L2). Fusing reads W from memory once
// for both; the chunk (kColumnChunk columns) is still in L2 when the update re-reads it.
template <typename Scalar>
void backprop_and_update(Matrix<Scalar>& W, Matrix<Scalar>& Z, const Matrix<Scalar>& G,
                         const Matrix<Scalar>& Gcat, const Matrix<Scalar>& Phicat,
                         Scalar grad_scale, const LangevinCoefficients<Scalar>& coefficients,
                         const NoiseSource& source) {
  const Eigen::Index N = W.rows();
  const Eigen::Index chunks = (N + kColumnChunk - 1) / kColumnChunk;
  const bool with_noise = coefficients.noise != Scalar(0);
  const bool with_gradient = Gcat.cols() > 0 && coefficients.drift != Scalar(0);
  const Eigen::Index K = with_gradient ? Gcat.cols() : 0;
  // Row-major scaled Phicat, one row per column of W, plus a zero row for padding.
  Matrix<Scalar> scaled_Phicat_t(K, N + 1);
  if (K > 0) {
    scaled_Phicat_t.leftCols(N) = (coefficients.drift * grad_scale) * Phicat.transpose();
    scaled_Phicat_t.col(N).setZero();
  }
  Z.resize(N, G.cols());
#pragma omp parallel if (N >= kParallelWidth)
  {
    std::vector<float> xi_buffer(with_noise ? static_cast<std::size_t>(4 * N) : 0);
#pragma omp for schedule(dynamic)
    for (Eigen::Index c = 0; c < chunks; ++c) {
      const Eigen::Index c0 = c * kColumnChunk, cols = std::min(kColumnChunk, N - c0);
      if (G.cols() > 0) transposed_product_columns(Z, W, G, c0, cols);
      for (Eigen::Index j0 = c0; j0 < c0 + cols; j0 += 4) {
        const int ncols = static_cast<int>(std::min<Eigen::Index>(4, c0 + cols - j0));
        if (with_noise)
          source.generator->fill(xi_buffer.data(), static_cast<std::uint64_t>(j0 * N),
                                 static_cast<std::uint64_t>(ncols * N), source.draw, source.stream);
        Scalar* w[4];
        const Scalar* s[4];
        const float* xi[4];
        for (int k = 0; k < 4; ++k) {
          const Eigen::Index j = j0 + std::min(k, ncols - 1);
          w[k] = W.col(j).data();
          s[k] = scaled_Phicat_t.col(k < ncols ? j : N).data();
          xi[k] = xi_buffer.data() + std::min(k, ncols - 1) * N;
        }
        update_columns(w, N, ncols, Gcat.data(), K, s, with_noise ? xi : nullptr, coefficients);
      }
    }
  }
}

}  // namespace kernelsweep::sgld
