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
#include "sgld/simd_kernels.hpp"

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

template <typename Scalar>
void add_scaled_product(Matrix<Scalar>& Y, const Matrix<Scalar>& W, const Matrix<Scalar>& X,
                        Scalar scale) {
  const SimdKernels<Scalar>& kernels = simd_kernels<Scalar>();
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
      kernels.add_scaled_product_rows(accumulator, kRows, W.data() + r0, N,
                                      scaled_X[static_cast<std::size_t>(g)].data(), K, rows);
      for (Eigen::Index p = 0; p < width; ++p)
        for (Eigen::Index i = 0; i < rows; ++i) Y(r0 + i, p0 + p) = accumulator[p * kRows + i];
    }
  }
}

// Z = W^T G: column chunks.
template <typename Scalar>
void transposed_product(Matrix<Scalar>& Z, const Matrix<Scalar>& W, const Matrix<Scalar>& G) {
  const SimdKernels<Scalar>& kernels = simd_kernels<Scalar>();
  const Eigen::Index N = W.cols();
  const Eigen::Index chunks = (N + kColumnChunk - 1) / kColumnChunk;
  Z.resize(N, G.cols());
#pragma omp parallel for schedule(dynamic) if (W.rows() >= kParallelWidth)
  for (Eigen::Index c = 0; c < chunks; ++c) {
    const Eigen::Index c0 = c * kColumnChunk, cols = std::min(kColumnChunk, N - c0);
    kernels.transposed_product_columns(Z.data(), Z.rows(), W.data(), G.data(), W.rows(), G.cols(),
                                       c0, cols);
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
// the Langevin update with the low-rank gradient Gcat Phicat^T, four columns at a time with their
// normals generated just before (a 4 N float buffer, in L1/L2). Fusing reads W from memory once
// for both; the chunk (kColumnChunk columns) is still in L2 when the update re-reads it.
template <typename Scalar>
void backprop_and_update(Matrix<Scalar>& W, Matrix<Scalar>& Z, const Matrix<Scalar>& G,
                         const Matrix<Scalar>& Gcat, const Matrix<Scalar>& Phicat,
                         Scalar grad_scale, const LangevinCoefficients<Scalar>& coefficients,
                         const NoiseSource& source) {
  const SimdKernels<Scalar>& kernels = simd_kernels<Scalar>();
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
      if (G.cols() > 0)
        kernels.transposed_product_columns(Z.data(), Z.rows(), W.data(), G.data(), N, G.cols(), c0,
                                           cols);
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
        kernels.update_columns(w, N, ncols, Gcat.data(), K, s, with_noise ? xi : nullptr,
                               coefficients.decay, coefficients.noise);
      }
    }
  }
}

}  // namespace kernelsweep::sgld
