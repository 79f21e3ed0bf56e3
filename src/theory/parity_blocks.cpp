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

// The formulas of residual_jacobian (linear_saddle_point.cpp) for the direction U = E_ij + E_ji
// (E_ii), as sums of outer products of columns of K^{-1}, A K^{-1} (A = K^{-1} C) and C^{-1}:
//   dK^{-1} = -w (k_a k_b^T + k_b k_a^T),  a = i + P, b = j + P (zero unless both shift);
//   dG = dK^{-1} A^T + A dK^{-1} - dK^{-1} + k_i k_j^T + k_j k_i^T;
//   dR = dK^{-1} - w Sh^T(dG) - d(tilt) + c_i c_j^T + c_j c_i^T,  Sh^T(dG)_kl = dG_{k+P, l+P}.
// In parity order (even() then odd()) the invariant matrices are block diagonal, so dR of a
// sector direction lives in the blocks (even, even) and (odd, odd) (even lags) or (even, odd) (odd
// lags; each odd-lag pair once), and an outer product u v^T contributes to a block only if u and
// v are nonzero there: the rest are skipped. Sh^T maps the block of rows X, columns Y to the
// block of the other parities; the indices k with a successor k + P are the first ones of each
// block, and their successors are contiguous.
namespace {

struct SectorBlock {
  int row0 = 0, rows = 0, col0 = 0, cols = 0;  // in parity positions
  bool rows_odd = false, cols_odd = false;
  int shifted_rows = 0, shifted_cols = 0;      // rows (columns) with a successor
  int successor_row0 = 0, successor_col0 = 0;  // parity position of the first successor
};

}  // namespace

namespace {

// The sector Jacobian; with halve_diagonal_rows, rows of diagonal entries (i, i) times 1/2 (the
// D of the packed Hessian), applied column by column.
Eigen::MatrixXd sector_jacobian(const KernelStructure& s, const ParityBlocks& blocks,
                                const Eigen::MatrixXd& C, const LinearEvaluation& e, bool odd,
                                bool halve_diagonal_rows) {
  if (!s.has_sign_symmetry())
    throw std::invalid_argument("sector_residual_jacobian: the task has no W -> -W symmetry");
  const int M = s.M(), P = s.P(), T = s.T();
  const int shifted = (T - 1) * P;  // indices k < shifted have a successor k + P
  const int n_even = static_cast<int>(blocks.even().size());
  const int n_odd = M - n_even;
  const double w = s.network().w;
  const EntryList entries = sector_entries(s, odd);
  const int n = static_cast<int>(entries.size());
  const std::vector<int>& order = blocks.order();
  const Eigen::MatrixXd AK = e.K_inv * C * e.K_inv;
  // Rows in parity order, columns by mu: column c restricted to a block is a contiguous segment.
  const Eigen::MatrixXd Kp = e.K_inv(order, Eigen::all), AKp = AK(order, Eigen::all),
                        Cp = e.C_inv(order, Eigen::all);
  // -w K^{-1} and -w A K^{-1} (the factors of dK^{-1}), scaled once.
  const Eigen::MatrixXd wKp = -w * Kp, wAKp = -w * AKp;
  const auto count_shifted = [&](const std::vector<int>& indices) {
    return static_cast<int>(
        std::count_if(indices.begin(), indices.end(), [&](int mu) { return mu < shifted; }));
  };
  const int shifted_even = count_shifted(blocks.even()), shifted_odd = count_shifted(blocks.odd());
  // Parity position of k + P for the first k of the even (odd) block: the first odd (the first
  // odd-time successor, t = 2).
  const auto block = [&](bool rows_odd, bool cols_odd) {
    SectorBlock b;
    b.rows_odd = rows_odd;
    b.cols_odd = cols_odd;
    b.row0 = rows_odd ? n_even : 0;
    b.rows = rows_odd ? n_odd : n_even;
    b.col0 = cols_odd ? n_even : 0;
    b.cols = cols_odd ? n_odd : n_even;
    b.shifted_rows = rows_odd ? shifted_odd : shifted_even;
    b.shifted_cols = cols_odd ? shifted_odd : shifted_even;
    b.successor_row0 = rows_odd ? P : n_even;
    b.successor_col0 = cols_odd ? P : n_even;
    return b;
  };
  std::vector<SectorBlock> sector_blocks;
  if (odd)
    sector_blocks = {block(false, true)};
  else
    sector_blocks = {block(false, false), block(true, true)};
  // Where row r of a column sits: block, row, column (entry (k, l), k <= l, of dR).
  std::vector<Eigen::Index> gather(static_cast<std::size_t>(n));
  std::vector<Eigen::Index> offset(sector_blocks.size());
  Eigen::Index buffer_size = 0;
  for (std::size_t q = 0; q < sector_blocks.size(); ++q) {
    offset[q] = buffer_size;
    buffer_size += Eigen::Index(sector_blocks[q].rows) * sector_blocks[q].cols;
  }
  for (int r = 0; r < n; ++r) {
    int k = blocks.position(entries[r].first), l = blocks.position(entries[r].second);
    if (odd && k >= n_even) std::swap(k, l);  // the (even, odd) block holds each pair once
    const std::size_t q = !odd && k >= n_even ? 1 : 0;
    const SectorBlock& b = sector_blocks[q];
    gather[static_cast<std::size_t>(r)] =
        offset[q] + Eigen::Index(l - b.col0) * b.rows + (k - b.row0);
  }
  std::vector<int> diagonal_rows;
  for (int r = 0; r < n; ++r)
    if (entries[static_cast<std::size_t>(r)].first == entries[static_cast<std::size_t>(r)].second)
      diagonal_rows.push_back(r);
  Eigen::VectorXd buffer(buffer_size);
  Eigen::MatrixXd dK_shifted, dG, tilt;
  Eigen::MatrixXd J(n, n);
  for (int col = 0; col < n; ++col) {
    const auto [i, j] = entries[col];
    const bool diagonal = i == j;
    const bool shiftable = i < shifted && j < shifted;
    const int a = i + P, b = j + P;
    if (s.readout_depends_on(i, j)) {
      Eigen::MatrixXd dC = Eigen::MatrixXd::Zero(M, M);
      dC(i, j) = dC(j, i) = 1.0;
      tilt = s.readout_tilt_derivative(e.readout, dC)(order, order);
    } else {
      tilt.resize(0, 0);
    }
    for (std::size_t q = 0; q < sector_blocks.size(); ++q) {
      const SectorBlock& B = sector_blocks[q];
      Eigen::Map<Eigen::MatrixXd> dR(buffer.data() + offset[q], B.rows, B.cols);
      // Segments of column c of X over the block's rows (columns), and whether they can be
      // nonzero.
      const auto u = [&](const Eigen::MatrixXd& X, int c) {
        return X.col(c).segment(B.row0, B.rows);
      };
      const auto v = [&](const Eigen::MatrixXd& X, int c) {
        return X.col(c).segment(B.col0, B.cols);
      };
      const auto live = [&](int c, int z) {
        return blocks.odd_time(c) == B.rows_odd && blocks.odd_time(z) == B.cols_odd;
      };
      dR.setZero();
      if (shiftable) {
        if (live(a, b)) dR.noalias() += u(wKp, a) * v(Kp, b).transpose();
        if (!diagonal && live(b, a)) dR.noalias() += u(wKp, b) * v(Kp, a).transpose();
      }
      const int sr = B.shifted_rows, sc = B.shifted_cols;
      if (sr > 0 && sc > 0) {
        // dG on the successors: rows of the other parity from successor_row0 on.
        const auto us = [&](const Eigen::MatrixXd& X, int c) {
          return X.col(c).segment(B.successor_row0, sr);
        };
        const auto vs = [&](const Eigen::MatrixXd& X, int c) {
          return X.col(c).segment(B.successor_col0, sc);
        };
        const auto live_shifted = [&](int c, int z) {
          return blocks.odd_time(c) != B.rows_odd && blocks.odd_time(z) != B.cols_odd;
        };
        dG.setZero(sr, sc);
        if (shiftable) {
          dK_shifted.setZero(sr, sc);
          if (live_shifted(a, b)) {
            dK_shifted.noalias() += us(wKp, a) * vs(Kp, b).transpose();
            dG.noalias() += us(wKp, a) * vs(AKp, b).transpose();
          }
          if (live_shifted(b, a)) dG.noalias() += us(wAKp, b) * vs(Kp, a).transpose();
          if (!diagonal) {
            if (live_shifted(b, a)) {
              dK_shifted.noalias() += us(wKp, b) * vs(Kp, a).transpose();
              dG.noalias() += us(wKp, b) * vs(AKp, a).transpose();
            }
            if (live_shifted(a, b)) dG.noalias() += us(wAKp, a) * vs(Kp, b).transpose();
          }
          dG -= dK_shifted;
        }
        if (live_shifted(i, j)) dG.noalias() += us(Kp, i) * vs(Kp, j).transpose();
        if (!diagonal && live_shifted(j, i)) dG.noalias() += us(Kp, j) * vs(Kp, i).transpose();
        dR.topLeftCorner(sr, sc) -= w * dG;
      }
      if (tilt.size() > 0) dR -= tilt.block(B.row0, B.col0, B.rows, B.cols);
      if (live(i, j)) dR.noalias() += u(Cp, i) * v(Cp, j).transpose();
      if (!diagonal && live(j, i)) dR.noalias() += u(Cp, j) * v(Cp, i).transpose();
    }
    J.col(col) = buffer(gather);
    if (halve_diagonal_rows)
      for (int r : diagonal_rows) J(r, col) *= 0.5;
  }
  return J;
}

}  // namespace

Eigen::MatrixXd sector_residual_jacobian(const KernelStructure& s, const ParityBlocks& blocks,
                                         const Eigen::MatrixXd& C, const LinearEvaluation& e,
                                         bool odd) {
  return sector_jacobian(s, blocks, C, e, odd, false);
}

Eigen::MatrixXd sector_packed_hessian(const KernelStructure& s, const ParityBlocks& blocks,
                                      const Eigen::MatrixXd& C, const LinearEvaluation& e,
                                      bool odd) {
  // grad F = D pack(R), Hess F = D J_R with D = 1/2 on diagonal entries (R = 2 dF/dC), then
  // (H + H^T) / 2 against rounding: as to_packed_hessian, entry by entry. The symmetrization goes
  // tile by tile (a tile and its mirror fit in the cache).
  Eigen::MatrixXd H = sector_jacobian(s, blocks, C, e, odd, true);
  const Eigen::Index n = H.rows(), tile = 32;
  for (Eigen::Index j0 = 0; j0 < n; j0 += tile)
    for (Eigen::Index i0 = j0; i0 < n; i0 += tile)
      for (Eigen::Index j = j0; j < std::min(j0 + tile, n); ++j)
        for (Eigen::Index i = std::max(i0, j + 1); i < std::min(i0 + tile, n); ++i)
          H(i, j) = H(j, i) = 0.5 * (H(i, j) + H(j, i));
  return H;
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
  const Eigen::LLT<Eigen::MatrixXd> k_even(K_even), k_odd(K_odd);
  if (k_even.info() != Eigen::Success || k_odd.info() != Eigen::Success) {
    out.failure = "K(C) is not positive definite";
    return out;
  }
  const Eigen::MatrixXd K_inv_even = inverse(k_even), K_inv_odd = inverse(k_odd);
  const KernelStructure::Readout readout = s.readout(C, amplitude);
  if (!readout.ok) {
    out.failure = "v C_SS + kappa I is not positive definite";
    return out;
  }
  const Eigen::MatrixXd G_even = K_inv_even * C_even * K_inv_even - K_inv_even;
  const Eigen::MatrixXd G_odd = K_inv_odd * C_odd * K_inv_odd - K_inv_odd;
  // C_hat = w Sh^T(G) + tilt, Sh^T(G)_kl = G_{k+P, l+P} for k, l < (T - 1) P.
  Eigen::MatrixXd C_hat_even = b.even_block(readout.tilt), C_hat_odd = b.odd_block(readout.tilt);
  const int se = b.shifted_even(), so = b.shifted_odd();
  C_hat_even.topLeftCorner(se, se) =
      w * G_odd.topLeftCorner(se, se) + C_hat_even.topLeftCorner(se, se);
  C_hat_odd.topLeftCorner(so, so) =
      w * G_even.block(P, P, so, so) + C_hat_odd.topLeftCorner(so, so);
  const Eigen::LLT<Eigen::MatrixXd> p_even(K_inv_even - C_hat_even), p_odd(K_inv_odd - C_hat_odd);
  if (p_even.info() != Eigen::Success || p_odd.info() != Eigen::Success) {
    out.failure = "K^{-1} - C_hat is not positive definite";
    return out;
  }
  out.next_C = b.merge(inverse(p_even), inverse(p_odd));
  out.fixed_point_residual = (out.next_C - C).norm() / C.norm();
  out.ok = std::isfinite(out.fixed_point_residual);
  if (!out.ok) out.failure = "non-finite kernels";
  return out;
}

}  // namespace kernelsweep
