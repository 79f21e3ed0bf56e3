#include "theory/parity_blocks.hpp"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kernelsweep {

namespace {

double logdet(const Eigen::LLT<Eigen::MatrixXd>& llt) {
  return 2.0 * llt.matrixLLT().diagonal().array().log().sum();
}

Eigen::MatrixXd inverse(const Eigen::LLT<Eigen::MatrixXd>& llt) {
  return llt.solve(Eigen::MatrixXd::Identity(llt.rows(), llt.rows()));
}

// Cholesky factors of both parity blocks of a symmetric matrix.
struct BlockLLT {
  BlockLLT(const ParityBlocks& b, const Eigen::MatrixXd& A)
      : even(b.even_block(A)), odd(b.odd_block(A)) {}
  bool ok() const { return even.info() == Eigen::Success && odd.info() == Eigen::Success; }
  Eigen::MatrixXd inverse(const ParityBlocks& b) const {
    return b.merge(kernelsweep::inverse(even), kernelsweep::inverse(odd));
  }
  double logdet() const { return kernelsweep::logdet(even) + kernelsweep::logdet(odd); }
  Eigen::LLT<Eigen::MatrixXd> even, odd;
};

}  // namespace

ParityBlocks::ParityBlocks(const KernelStructure& s) : M_(s.M()), P_(s.P()) {
  for (int mu = 0; mu < M_; ++mu) (odd_time(mu) ? odd_ : even_).push_back(mu);
  order_ = even_;
  order_.insert(order_.end(), odd_.begin(), odd_.end());
  position_.resize(static_cast<std::size_t>(M_));
  for (int r = 0; r < M_; ++r) position_[static_cast<std::size_t>(order_[r])] = r;
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
  const BlockLLT c_llt(b, C);
  if (!c_llt.ok()) {
    e.failure = "C is not positive definite";
    return e;
  }
  e.K = s.prior_covariance(C);
  const BlockLLT k_llt(b, e.K);
  if (!k_llt.ok()) {
    e.failure = "K(C) is not positive definite";
    return e;
  }
  const Eigen::MatrixXd K_inv_even = inverse(k_llt.even), K_inv_odd = inverse(k_llt.odd);
  e.K_inv = b.merge(K_inv_even, K_inv_odd);
  e.C_inv = c_llt.inverse(b);
  e.readout = s.readout(C, amplitude);
  if (!e.readout.ok) {
    e.failure = "v C_SS + kappa I is not positive definite";
    return e;
  }
  e.G = b.merge(K_inv_even * b.even_block(C) * K_inv_even - K_inv_even,
                K_inv_odd * b.odd_block(C) * K_inv_odd - K_inv_odd);
  e.C_hat = s.network().w * s.shift_transpose(e.G) + e.readout.tilt;
  e.precision = e.K_inv - e.C_hat;
  e.logdet_K = k_llt.logdet();
  e.logdet_C = c_llt.logdet();
  e.defined = e.K_inv.allFinite() && e.C_inv.allFinite() && e.C_hat.allFinite();
  const BlockLLT p_llt(b, e.precision);
  if (!p_llt.ok()) {
    e.failure = "K^{-1} - C_hat is not positive definite";
    return e;
  }
  e.next_C = p_llt.inverse(b);
  e.logdet_precision = p_llt.logdet();
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

namespace {

// Whether the readout tilt of some group depends on C_ij (both indices supervised in one group).
bool touches_readout(const KernelStructure& s, int i, int j) {
  for (const auto& g : s.readout_groups()) {
    const bool has_i = std::find(g.indices.begin(), g.indices.end(), i) != g.indices.end();
    const bool has_j = std::find(g.indices.begin(), g.indices.end(), j) != g.indices.end();
    if (has_i && has_j) return true;
  }
  return false;
}

}  // namespace

// The formulas of residual_jacobian (linear_saddle_point.cpp), column (i, j), entry (k, l), k <= l:
//   dK^{-1}(k,l) = -w [K^{-1}_{k a} K^{-1}_{l b} + K^{-1}_{k b} K^{-1}_{l a}],  a = i + P, b = j +
//   P; dG(k+P, l+P) from K^{-1}, A K^{-1} (A = K^{-1} C) and K^{-1} at rows k + P; dR = dK^{-1} - w
//   dG(. + P, . + P) - d(tilt) + C^{-1}_{k i} C^{-1}_{l j} + C^{-1}_{k j} C^{-1}_{l i}.
// With the rows of K^{-1}, A K^{-1}, C^{-1} in parity order, the rows k of one column l of the
// sector (same parity as l for even lags, the other for odd lags; k <= l) are one contiguous
// range, and so are the rows k + P. A product X_{k c} Y_{l z} of two invariant matrices vanishes
// unless k has the parity of c and l that of z: such terms are skipped (adding an exact zero
// changes nothing).
Eigen::MatrixXd sector_residual_jacobian(const KernelStructure& s, const ParityBlocks& blocks,
                                         const Eigen::MatrixXd& C, const LinearEvaluation& e,
                                         bool odd) {
  if (!s.has_sign_symmetry())
    throw std::invalid_argument("sector_residual_jacobian: the task has no W -> -W symmetry");
  const int M = s.M(), P = s.P(), T = s.T();
  const int shifted = (T - 1) * P;  // indices k < shifted have a successor k + P
  const int even_size = static_cast<int>(blocks.even().size());
  const double w = s.network().w;
  const EntryList entries = sector_entries(s, odd);
  const int n = static_cast<int>(entries.size());
  const std::vector<int>& order = blocks.order();
  const Eigen::MatrixXd& K_inv = e.K_inv;
  const Eigen::MatrixXd& C_inv = e.C_inv;
  const Eigen::MatrixXd A = K_inv * C;
  const Eigen::MatrixXd AK = A * K_inv;
  const Eigen::MatrixXd Kp = K_inv(order, Eigen::all), AKp = AK(order, Eigen::all),
                        Cp = C_inv(order, Eigen::all);
  // Column l of the matrix dR: rows [first[l], first[l] + count[l]) in parity order, stored from
  // J row start[l] on (entries are ordered by l, then k).
  std::vector<int> first(M), count(M), start(M);
  int rows = 0;
  for (int l = 0; l < M; ++l) {
    const bool row_odd = blocks.odd_time(l) != odd;  // parity of the rows k
    first[l] = row_odd ? even_size : 0;
    count[l] = 0;
    for (int k = 0; k <= l; ++k)
      if (blocks.odd_time(k) == row_odd) ++count[l];
    start[l] = rows;
    rows += count[l];
  }
  if (rows != n) throw std::logic_error("sector_residual_jacobian: row count");
  // Parity position of k + P for the first row k of a range.
  const auto successor = [&](int r) { return r < even_size ? even_size + r : r - even_size + P; };
  Eigen::MatrixXd J(n, n);
  Eigen::VectorXd dK(M), dK_shifted(M), dG(M);
  Eigen::MatrixXd tilt_p, dC;
  for (int col = 0; col < n; ++col) {
    const auto [i, j] = entries[col];
    const bool diagonal = i == j;
    const bool shiftable = i < shifted && j < shifted;
    const int a = i + P, b = j + P;
    const bool tilted = touches_readout(s, i, j);
    if (tilted) {
      dC = Eigen::MatrixXd::Zero(M, M);
      dC(i, j) = dC(j, i) = 1.0;
      tilt_p = s.readout_tilt_derivative(e.readout, dC)(order, Eigen::all);
    }
    for (int l = 0; l < M; ++l) {
      const int len = count[l];
      if (len == 0) continue;
      const int r0 = first[l];
      const bool k_odd = r0 >= even_size, l_odd = blocks.odd_time(l);
      // X_{k c} Y_{l z} can be nonzero (rows k of the range; the successor rows have the other
      // parity).
      const auto live = [&](int c, int z) {
        return blocks.odd_time(c) == k_odd && blocks.odd_time(z) == l_odd;
      };
      const auto live_shifted = [&](int c, int z) {
        return blocks.odd_time(c) != k_odd && blocks.odd_time(z) != l_odd;
      };
      auto dR = J.col(col).segment(start[l], len);
      dK.head(len).setZero();
      if (shiftable) {
        if (live(a, b)) dK.head(len) = -w * Kp.col(a).segment(r0, len) * K_inv(l, b);
        if (!diagonal && live(b, a)) dK.head(len) += -w * Kp.col(b).segment(r0, len) * K_inv(l, a);
      }
      dR = dK.head(len);
      if (l < shifted) {
        const int q = l + P, r1 = successor(r0);
        dG.head(len).setZero();
        if (shiftable) {
          dK_shifted.head(len).setZero();
          if (live_shifted(a, b)) {
            dK_shifted.head(len) = -w * Kp.col(a).segment(r1, len) * K_inv(q, b);
            dG.head(len) = -w * Kp.col(a).segment(r1, len) * AK(q, b);
          }
          if (live_shifted(b, a)) dG.head(len) += -w * AKp.col(b).segment(r1, len) * K_inv(q, a);
          if (!diagonal) {
            if (live_shifted(b, a)) {
              dK_shifted.head(len) += -w * Kp.col(b).segment(r1, len) * K_inv(q, a);
              dG.head(len) += -w * Kp.col(b).segment(r1, len) * AK(q, a);
            }
            if (live_shifted(a, b)) dG.head(len) += -w * AKp.col(a).segment(r1, len) * K_inv(q, b);
          }
          dG.head(len) -= dK_shifted.head(len);
        }
        if (live_shifted(i, j)) dG.head(len) += Kp.col(i).segment(r1, len) * K_inv(q, j);
        if (!diagonal && live_shifted(j, i))
          dG.head(len) += Kp.col(j).segment(r1, len) * K_inv(q, i);
        dR -= w * dG.head(len);
      }
      if (tilted) dR -= tilt_p.col(l).segment(r0, len);
      if (live(i, j)) dR += Cp.col(i).segment(r0, len) * C_inv(l, j);
      if (!diagonal && live(j, i)) dR += Cp.col(j).segment(r0, len) * C_inv(l, i);
    }
  }
  return J;
}

}  // namespace kernelsweep
