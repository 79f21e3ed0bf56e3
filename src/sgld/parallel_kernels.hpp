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
inline constexpr Eigen::Index kRowChunk = 256;
inline constexpr Eigen::Index kColumnChunk = 16;

// Eigen's GEMM would pack (copy) W before multiplying, which doubles the traffic of these skinny
// products (P or (T-1) P columns); they are written as streams of axpy / dot operations instead,
// so each W entry is loaded once per pass.

// Y += scale * W X (X is N x P with P small): row chunks; within a chunk, one rank-1 update per
// column of W, with the chunk of Y held in L1.
template <typename Scalar>
void add_scaled_product(Matrix<Scalar>& Y, const Matrix<Scalar>& W, const Matrix<Scalar>& X,
                        Scalar scale) {
  const Eigen::Index N = W.rows();
  const Eigen::Index chunks = (N + kRowChunk - 1) / kRowChunk;
  const Matrix<Scalar> scaled_X = scale * X;
#pragma omp parallel for schedule(static) if (N >= kParallelWidth)
  for (Eigen::Index c = 0; c < chunks; ++c) {
    const Eigen::Index r0 = c * kRowChunk, rows = std::min(kRowChunk, N - r0);
    Matrix<Scalar> accumulator = Y.middleRows(r0, rows);
    const Eigen::Index K = W.cols();
    Eigen::Index j = 0;
    // Four columns per update: one load/store of the accumulator per four W segments.
    for (; j + 4 <= K; j += 4) {
      const auto w0 = W.col(j).segment(r0, rows), w1 = W.col(j + 1).segment(r0, rows),
                 w2 = W.col(j + 2).segment(r0, rows), w3 = W.col(j + 3).segment(r0, rows);
      for (Eigen::Index p = 0; p < X.cols(); ++p)
        accumulator.col(p) += scaled_X(j, p) * w0 + scaled_X(j + 1, p) * w1 +
                              scaled_X(j + 2, p) * w2 + scaled_X(j + 3, p) * w3;
    }
    for (; j < K; ++j)
      for (Eigen::Index p = 0; p < X.cols(); ++p)
        accumulator.col(p) += scaled_X(j, p) * W.col(j).segment(r0, rows);
    Y.middleRows(r0, rows) = accumulator;
  }
}

// Z.row(j) = W.col(j)^T G for the columns j of one chunk: two columns of W against up to four
// columns of G per sweep over the rows, so each W entry is loaded once (P <= 4) and the eight
// sums stay in registers. `omp simd` fixes one vectorized summation order at compile time.
template <typename Scalar>
void transposed_product_columns(Matrix<Scalar>& Z, const Matrix<Scalar>& W, const Matrix<Scalar>& G,
                                Eigen::Index c0, Eigen::Index cols) {
  const Eigen::Index N = W.rows(), P = G.cols();
  for (Eigen::Index p0 = 0; p0 < P; p0 += 4) {
    const Scalar* g[4];
    for (Eigen::Index k = 0; k < 4; ++k) g[k] = G.col(std::min(p0 + k, P - 1)).data();
    for (Eigen::Index j = c0; j < c0 + cols; j += 2) {
      const Scalar* w0 = W.col(j).data();
      const Scalar* w1 = W.col(std::min(j + 1, c0 + cols - 1)).data();
      Scalar a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
#pragma omp simd reduction(+ : a0, a1, a2, a3, b0, b1, b2, b3)
      for (Eigen::Index i = 0; i < N; ++i) {
        a0 += w0[i] * g[0][i];
        a1 += w0[i] * g[1][i];
        a2 += w0[i] * g[2][i];
        a3 += w0[i] * g[3][i];
        b0 += w1[i] * g[0][i];
        b1 += w1[i] * g[1][i];
        b2 += w1[i] * g[2][i];
        b3 += w1[i] * g[3][i];
      }
      const Scalar a[4] = {a0, a1, a2, a3}, b[4] = {b0, b1, b2, b3};
      for (Eigen::Index k = 0; k < 4 && p0 + k < P; ++k) {
        Z(j, p0 + k) = a[k];
        if (j + 1 < c0 + cols) Z(j + 1, p0 + k) = b[k];
      }
    }
  }
}

// Z = W^T G: column chunks.
template <typename Scalar>
void transposed_product(Matrix<Scalar>& Z, const Matrix<Scalar>& W, const Matrix<Scalar>& G) {
  const Eigen::Index N = W.cols();
  const Eigen::Index chunks = (N + kColumnChunk - 1) / kColumnChunk;
  Z.resize(N, G.cols());
#pragma omp parallel for schedule(static) if (W.rows() >= kParallelWidth)
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

// One fused pass over W (N x N): for each column chunk, first Z = W^T G with the old W (the
// backpropagation through W; skipped when G has no columns), then
//   W <- decay W - drift * grad_scale * Gcat Phicat^T + noise xi,
// the Langevin update with the low-rank gradient Gcat Phicat^T. Fusing them reads W once for both.
template <typename Scalar>
void backprop_and_update(Matrix<Scalar>& W, Matrix<Scalar>& Z, const Matrix<Scalar>& G,
                         const Matrix<Scalar>& Gcat, const Matrix<Scalar>& Phicat,
                         Scalar grad_scale, const LangevinCoefficients<Scalar>& coefficients,
                         const NoiseSource& source) {
  const Eigen::Index N = W.rows();
  const Eigen::Index chunks = (N + kColumnChunk - 1) / kColumnChunk;
  const bool with_noise = coefficients.noise != Scalar(0);
  const bool with_gradient = Gcat.cols() > 0 && coefficients.drift != Scalar(0);
  Z.resize(N, G.cols());
#pragma omp parallel if (N >= kParallelWidth)
  {
    Matrix<Scalar> xi(N, kColumnChunk);
    const Matrix<Scalar> scaled_Phicat = (coefficients.drift * grad_scale) * Phicat;
#pragma omp for schedule(static)
    for (Eigen::Index c = 0; c < chunks; ++c) {
      const Eigen::Index c0 = c * kColumnChunk, cols = std::min(kColumnChunk, N - c0);
      if (G.cols() > 0) transposed_product_columns(Z, W, G, c0, cols);
      if (with_noise)
        source.generator->fill(xi.data(), static_cast<std::uint64_t>(c0 * N),
                               static_cast<std::uint64_t>(cols * N), source.draw, source.stream);
      for (Eigen::Index k = 0; k < cols; ++k) {
        auto column = W.col(c0 + k);
        column *= coefficients.decay;
        // The gradient's column j is Gcat Phicat.row(j)^T: a matrix-vector product, no packing.
        if (with_gradient) column.noalias() -= Gcat * scaled_Phicat.row(c0 + k).transpose();
        if (with_noise) column += coefficients.noise * xi.col(k);
      }
    }
  }
}

}  // namespace kernelsweep::sgld
