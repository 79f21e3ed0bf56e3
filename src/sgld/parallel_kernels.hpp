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
inline constexpr Eigen::Index kRowChunk = 128;
inline constexpr Eigen::Index kColumnChunk = 16;

// Y += scale * W X (X is N x P with P small): row chunks, each a small GEMM.
template <typename Scalar>
void add_scaled_product(Matrix<Scalar>& Y, const Matrix<Scalar>& W, const Matrix<Scalar>& X,
                        Scalar scale) {
  const Eigen::Index N = W.rows();
  const Eigen::Index chunks = (N + kRowChunk - 1) / kRowChunk;
#pragma omp parallel for schedule(static) if (N >= kParallelWidth)
  for (Eigen::Index c = 0; c < chunks; ++c) {
    const Eigen::Index r0 = c * kRowChunk, rows = std::min(kRowChunk, N - r0);
    Y.middleRows(r0, rows).noalias() += scale * W.middleRows(r0, rows) * X;
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
    Z.middleRows(c0, cols).noalias() = W.middleCols(c0, cols).transpose() * G;
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
    Matrix<Scalar> xi(N, kColumnChunk), gradient(N, kColumnChunk);
#pragma omp for schedule(static)
    for (Eigen::Index c = 0; c < chunks; ++c) {
      const Eigen::Index c0 = c * kColumnChunk, cols = std::min(kColumnChunk, N - c0);
      auto W_chunk = W.middleCols(c0, cols);
      if (G.cols() > 0) Z.middleRows(c0, cols).noalias() = W_chunk.transpose() * G;
      W_chunk *= coefficients.decay;
      if (with_gradient) {
        auto grad = gradient.leftCols(cols);
        grad.noalias() = Gcat * Phicat.middleRows(c0, cols).transpose();
        W_chunk -= (coefficients.drift * grad_scale) * grad;
      }
      if (with_noise) {
        auto noise = xi.leftCols(cols);
        source.generator->fill(noise.data(), static_cast<std::uint64_t>(c0 * N),
                               static_cast<std::uint64_t>(cols * N), source.draw, source.stream);
        W_chunk += coefficients.noise * noise;
      }
    }
  }
}

}  // namespace kernelsweep::sgld
