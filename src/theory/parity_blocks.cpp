#include "theory/parity_blocks.hpp"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "theory/dense_kernels.hpp"

namespace kernelsweep {

namespace {

// Inverses and log-determinants of both parity blocks of a symmetric matrix (the variant kernels,
// dense_kernels.hpp); ok() false when either block is not positive definite.
struct BlockInverse {
  BlockInverse(const ParityBlocks& b, const Eigen::MatrixXd& A)
      : positive_definite(spd_inverse(b.even_block(A), &even, &logdet_even) &&
                          spd_inverse(b.odd_block(A), &odd, &logdet_odd)) {}
  bool ok() const { return positive_definite; }
  Eigen::MatrixXd merged(const ParityBlocks& b) const { return b.merge(even, odd); }
  double logdet() const { return logdet_even + logdet_odd; }
  Eigen::MatrixXd even, odd;
  double logdet_even = 0.0, logdet_odd = 0.0;
  bool positive_definite = false;
};

}  // namespace

ParityBlocks::ParityBlocks(const KernelStructure& s) : M_(s.M()), P_(s.P()) {
  for (int mu = 0; mu < M_; ++mu) (odd_time(mu) ? odd_ : even_).push_back(mu);
  order_ = even_;
  order_.insert(order_.end(), odd_.begin(), odd_.end());
  position_.resize(static_cast<std::size_t>(M_));
  for (int r = 0; r < M_; ++r) position_[static_cast<std::size_t>(order_[r])] = r;
  X_even_ = s.input_kernel()(even_, even_);
  X_odd_ = s.input_kernel()(odd_, odd_);
  const int shifted = (s.T() - 1) * P_;
  shifted_even_ = static_cast<int>(
      std::count_if(even_.begin(), even_.end(), [&](int mu) { return mu < shifted; }));
  shifted_odd_ = static_cast<int>(
      std::count_if(odd_.begin(), odd_.end(), [&](int mu) { return mu < shifted; }));
}

Eigen::MatrixXd ParityBlocks::merge(const Eigen::MatrixXd& even_part,
                                    const Eigen::MatrixXd& odd_part) const {
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(M_, M_);
  A(even_, even_) = even_part;
  A(odd_, odd_) = odd_part;
  return A;
}

bool parity_blocks_apply(const KernelStructure& s, const EntryList& entries) {
  if (!s.has_sign_symmetry()) return false;
  for (const auto& [i, j] : entries)
    if (s.is_odd_lag(i, j)) return false;
  return true;
}

bool is_parity_invariant(const KernelStructure& s, const Eigen::MatrixXd& C) {
  for (int j = 0; j < C.cols(); ++j)
    for (int i = 0; i < C.rows(); ++i)
      if (s.is_odd_lag(i, j) && C(i, j) != 0.0) return false;
  return true;
}

LinearEvaluation evaluate_linear_invariant(const KernelStructure& s, const ParityBlocks& b,
                                           const Eigen::MatrixXd& C, double amplitude) {
  // The steps of evaluate_linear, each O(M^3) one on the two blocks.
  LinearEvaluation e;
  const BlockInverse c_inv(b, C);
  if (!c_inv.ok()) {
    e.failure = "C is not positive definite";
    return e;
  }
  e.K = s.prior_covariance(C);
  const BlockInverse k_inv(b, e.K);
  if (!k_inv.ok()) {
    e.failure = "K(C) is not positive definite";
    return e;
  }
  const Eigen::MatrixXd &K_inv_even = k_inv.even, &K_inv_odd = k_inv.odd;
  e.K_inv = k_inv.merged(b);
  e.C_inv = c_inv.merged(b);
  e.readout = s.readout(C, amplitude);
  if (!e.readout.ok) {
    e.failure = "v C_SS + kappa I is not positive definite";
    return e;
  }
  e.G = b.merge(sandwich(K_inv_even, b.even_block(C)) - K_inv_even,
                sandwich(K_inv_odd, b.odd_block(C)) - K_inv_odd);
  e.C_hat = s.network().w * s.shift_transpose(e.G) + e.readout.tilt;
  e.precision = e.K_inv - e.C_hat;
  e.logdet_K = k_inv.logdet();
  e.logdet_C = c_inv.logdet();
  e.defined = e.K_inv.allFinite() && e.C_inv.allFinite() && e.C_hat.allFinite();
  const BlockInverse p_inv(b, e.precision);
  if (!p_inv.ok()) {
    e.failure = "K^{-1} - C_hat is not positive definite";
    return e;
  }
  e.next_C = p_inv.merged(b);
  e.logdet_precision = p_inv.logdet();
  e.fixed_point_residual = (e.next_C - C).norm() / C.norm();
  e.ok = std::isfinite(e.fixed_point_residual);
  if (!e.ok) e.failure = "non-finite kernels";
  return e;
}

EntryList sector_entries(const KernelStructure& s, bool odd) {
  EntryList entries;
  for (const auto& [i, j] : entries_where(s, true))
    if (s.is_odd_lag(i, j) == odd) entries.emplace_back(i, j);
  return entries;
}

FixedPointImage invariant_fixed_point_map(const KernelStructure& s, const ParityBlocks& b,
                                          const Eigen::MatrixXd& C, double amplitude) {
  // Positions: even-block position r is mu = 2 t P + p with r = t P + p, so mu + P sits at
  // odd-block position r; odd-block position r has mu + P at even-block position r + P.
  FixedPointImage out;
  const double w = s.network().w, u = s.network().u;
  const int P = s.P();
  const Eigen::MatrixXd C_even = b.even_block(C), C_odd = b.odd_block(C);
  const int n_even = static_cast<int>(C_even.rows()), n_odd = static_cast<int>(C_odd.rows());
  if (Eigen::LLT<Eigen::MatrixXd>(C_even).info() != Eigen::Success ||
      Eigen::LLT<Eigen::MatrixXd>(C_odd).info() != Eigen::Success) {
    out.failure = "C is not positive definite";
    return out;
  }
  // K = w Sh(C) + u X, Sh(C)_kl = C_{k-P, l-P}: the even block from the odd one (t >= 2), the odd
  // block from the even one.
  Eigen::MatrixXd K_even = u * b.input_even();
  const int m = n_even - P;
  if (m > 0)
    K_even.bottomRightCorner(m, m) =
        w * C_odd.topLeftCorner(m, m) + u * b.input_even().bottomRightCorner(m, m);
  const Eigen::MatrixXd K_odd = w * C_even.topLeftCorner(n_odd, n_odd) + u * b.input_odd();
  Eigen::MatrixXd K_inv_even, K_inv_odd;
  double logdet = 0.0;  // not needed by the map
  if (!spd_inverse(K_even, &K_inv_even, &logdet) || !spd_inverse(K_odd, &K_inv_odd, &logdet)) {
    out.failure = "K(C) is not positive definite";
    return out;
  }
  const KernelStructure::Readout readout = s.readout(C, amplitude);
  if (!readout.ok) {
    out.failure = "v C_SS + kappa I is not positive definite";
    return out;
  }
  const Eigen::MatrixXd G_even = sandwich(K_inv_even, C_even) - K_inv_even;
  const Eigen::MatrixXd G_odd = sandwich(K_inv_odd, C_odd) - K_inv_odd;
  // C_hat = w Sh^T(G) + tilt, Sh^T(G)_kl = G_{k+P, l+P} for k, l < (T - 1) P.
  Eigen::MatrixXd C_hat_even = b.even_block(readout.tilt), C_hat_odd = b.odd_block(readout.tilt);
  const int se = b.shifted_even(), so = b.shifted_odd();
  C_hat_even.topLeftCorner(se, se) =
      w * G_odd.topLeftCorner(se, se) + C_hat_even.topLeftCorner(se, se);
  C_hat_odd.topLeftCorner(so, so) =
      w * G_even.block(P, P, so, so) + C_hat_odd.topLeftCorner(so, so);
  Eigen::MatrixXd next_even, next_odd;
  if (!spd_inverse(K_inv_even - C_hat_even, &next_even, &logdet) ||
      !spd_inverse(K_inv_odd - C_hat_odd, &next_odd, &logdet)) {
    out.failure = "K^{-1} - C_hat is not positive definite";
    return out;
  }
  out.next_C = b.merge(next_even, next_odd);
  out.fixed_point_residual = (out.next_C - C).norm() / C.norm();
  out.ok = std::isfinite(out.fixed_point_residual);
  if (!out.ok) out.failure = "non-finite kernels";
  return out;
}

}  // namespace kernelsweep
