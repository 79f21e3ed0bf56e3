#include "theory/map_jacobian.hpp"

#include <Eigen/Cholesky>
#include <Eigen/SparseCore>

#include "model/activation.hpp"
#include "model/deadline.hpp"

namespace kernelsweep {

namespace {

// Per input direction, what it changes in the single-site weight: dK and dC_hat, packed over every
// allowed entry with the off-diagonal ones weighted twice, so that <A, dK>_F = packed_A . dK.
struct Directions {
  Eigen::MatrixXd dK, dC_hat;             // (allowed entries) x (2 n inputs)
  Eigen::SparseMatrix<double> dK_sparse;  // dK = w Sh(U): at most two entries per column
};

Directions directions(const KernelStructure& s, const Eigen::MatrixXd& K_inv,
                      const Eigen::MatrixXd& H, const KernelStructure::Readout& readout,
                      const EntryList& entries, const EntryList& all) {
  const int M = s.M(), n = static_cast<int>(entries.size());
  const double w = s.network().w;
  const Eigen::MatrixXd A = K_inv * H * K_inv;
  Directions d{Eigen::MatrixXd::Zero(Eigen::Index(all.size()), 2 * n),
               Eigen::MatrixXd::Zero(Eigen::Index(all.size()), 2 * n),
               {}};
  for (int j = 0; j < n; ++j) {
    const Eigen::MatrixXd U = unit_symmetric(entries[j].first, entries[j].second, M);
    // C input: K moves, and with it G = K^{-1} H K^{-1} - K^{-1}; the readout tilt moves with C_SS.
    const Eigen::MatrixXd dK = w * s.shift(U);
    const Eigen::MatrixXd K_inv_dK = K_inv * dK;
    const Eigen::MatrixXd dG = -K_inv_dK * A - (K_inv_dK * A).transpose() + K_inv_dK * K_inv;
    d.dK.col(j) = pack(dK, all);
    d.dC_hat.col(j) = pack(w * s.shift_transpose(dG) + s.readout_tilt_derivative(readout, U), all);
    // H input: only G moves.
    d.dC_hat.col(n + j) = pack(w * s.shift_transpose(K_inv * U * K_inv), all);
  }
  for (Eigen::Index e = 0; e < Eigen::Index(all.size()); ++e)
    if (all[e].first != all[e].second) {
      d.dK.row(e) *= 2.0;
      d.dC_hat.row(e) *= 2.0;
    }
  d.dK_sparse = d.dK.sparseView();
  return d;
}

// Rows: draws; columns: the products x_a x_b over the entries.
Eigen::MatrixXd products(const Eigen::MatrixXd& x, const EntryList& entries) {
  Eigen::MatrixXd out(x.cols(), Eigen::Index(entries.size()));
  for (Eigen::Index k = 0; k < Eigen::Index(entries.size()); ++k)
    out.col(k) = x.row(entries[k].first).cwiseProduct(x.row(entries[k].second)).transpose();
  return out;
}

Eigen::MatrixXd centered(Eigen::MatrixXd X) {
  X.rowwise() -= X.colwise().mean();
  return X;
}

// Per draw, the integrand of the integration-by-parts G: grad^2 V + grad V grad V^T over the
// entries (V = 1/2 phi^T C_hat phi).
Eigen::MatrixXd g_integrand(const Eigen::MatrixXd& C_hat, const Eigen::MatrixXd& dphi,
                            const Eigen::MatrixXd& d2phi, const Eigen::MatrixXd& tilt_phi,
                            const Eigen::MatrixXd& grad_V, const EntryList& all) {
  Eigen::MatrixXd Q(grad_V.cols(), Eigen::Index(all.size()));
  for (Eigen::Index e = 0; e < Eigen::Index(all.size()); ++e) {
    const int c = all[e].first, k = all[e].second;
    Q.col(e) = (C_hat(c, k) * dphi.row(c).cwiseProduct(dphi.row(k)) +
                grad_V.row(c).cwiseProduct(grad_V.row(k)))
                   .transpose();
    if (c == k) Q.col(e) += d2phi.row(c).cwiseProduct(tilt_phi.row(c)).transpose();
  }
  return Q;
}

// The estimate from one batch of draws h. The K part uses Gaussian integration by parts (Stein's
// identity, as for G_by_parts): Cov_p(f, z z^T) = <grad^2 f + grad f grad V^T + grad V grad f^T>_p
// + Cov_p(f, grad^2 V + grad V grad V^T), whose integrands are bounded for erf; the plain score
// z^T dK z has fourth-moment noise (lam = 0, T = 3, P = 2, 40000 draws: a Monte-Carlo error of
// the derivative as large as the derivative itself).
Eigen::MatrixXd batch_estimate(const KernelStructure& s, const Eigen::MatrixXd& C_hat,
                               const Eigen::MatrixXd& h, const EntryList& entries,
                               const EntryList& all, const Directions& d, bool means_vanish) {
  const int M = s.M(), n = static_cast<int>(entries.size());
  const double N = double(h.cols()), w = s.network().w;
  const Activation a = s.network().activation;
  const Eigen::MatrixXd phi = activation_value(a, h.array()).matrix();
  const Eigen::MatrixXd dphi = activation_derivative(a, h.array()).matrix();
  const Eigen::MatrixXd d2phi = activation_second_derivative(a, h.array()).matrix();
  const Eigen::MatrixXd tilt_phi = C_hat * phi;
  const Eigen::MatrixXd grad_V = dphi.cwiseProduct(tilt_phi);

  Eigen::MatrixXd f(h.cols(), 2 * n);
  f << products(phi, entries), products(h, entries);
  const Eigen::MatrixXd score =
      0.5 * (g_integrand(C_hat, dphi, d2phi, tilt_phi, grad_V, all) * d.dK_sparse +
             products(phi, all) * d.dC_hat);
  Eigen::MatrixXd J = means_vanish
                          ? Eigen::MatrixXd(f.transpose() * score / N)
                          : Eigen::MatrixXd(centered(f).transpose() * centered(score) / (N - 1.0));

  // The mean terms, for the C inputs (the only ones that move K): with dK = w Sh(U) sparse,
  //   <dK, grad^2 (phi_c phi_k)> -> 2 dK o <phi' phi'^T> + dK_cc <phi''_c phi_k> + dK_kk <phi_c
  //   phi''_k>, 2 <grad f^T dK grad V> -> 2 (Y + Y^T),  Y_ck = sum_l dK_cl <phi'_c phi_k (grad
  //   V)_l>,
  // and for f = h_c h_k: 2 dK + 2 (Y_h + Y_h^T), (Y_h)_ck = sum_l dK_cl <h_k (grad V)_l>.
  const Eigen::MatrixXd E1 = dphi * dphi.transpose() / N, D2 = d2phi * phi.transpose() / N;
  const Eigen::MatrixXd B_h = h * grad_V.transpose() / N;
  std::vector<Eigen::MatrixXd> A(
      static_cast<std::size_t>(M));  // A[c](k, l) = <phi'_c phi_k (grad V)_l>
  for (int c = 0; c < M; ++c)
    A[static_cast<std::size_t>(c)] =
        (phi.array().rowwise() * dphi.row(c).array()).matrix() * grad_V.transpose() / N;
  for (int j = 0; j < n; ++j) {
    const Eigen::MatrixXd dK = w * s.shift(unit_symmetric(entries[j].first, entries[j].second, M));
    Eigen::MatrixXd Y = Eigen::MatrixXd::Zero(M, M), Y_h = Y;
    for (int c = 0; c < M; ++c)
      for (int l = 0; l < M; ++l)
        if (dK(c, l) != 0.0) {
          Y.row(c) += dK(c, l) * A[static_cast<std::size_t>(c)].col(l).transpose();
          Y_h.row(c) += dK(c, l) * B_h.col(l).transpose();
        }
    const Eigen::MatrixXd diag_D2 = dK.diagonal().asDiagonal() * D2;
    const Eigen::MatrixXd T_phi =
        2.0 * dK.cwiseProduct(E1) + diag_D2 + diag_D2.transpose() + 2.0 * (Y + Y.transpose());
    const Eigen::MatrixXd T_h = 2.0 * dK + 2.0 * (Y_h + Y_h.transpose());
    J.col(j).head(n) += 0.5 * pack(T_phi, entries);
    J.col(j).tail(n) += 0.5 * pack(T_h, entries);
  }
  return J;
}

}  // namespace

MapJacobianEstimate estimate_map_jacobian(const KernelStructure& s, const Eigen::MatrixXd& C,
                                          const Eigen::MatrixXd& H, const Eigen::MatrixXd& draws,
                                          const EntryList& entries, int batches,
                                          bool means_vanish) {
  MapJacobianEstimate out;
  const int M = s.M(), n = static_cast<int>(entries.size());
  batches = std::max(2, batches);
  const int size = static_cast<int>(draws.cols()) / batches;
  if (size < 2 || draws.rows() != M) {
    out.failure = "too few draws for the batches";
    return out;
  }
  const Eigen::MatrixXd K = s.prior_covariance(C);
  const Eigen::LLT<Eigen::MatrixXd> llt(K);
  const KernelStructure::Readout readout = s.readout(C, 1.0);
  if (llt.info() != Eigen::Success || !readout.ok) {
    out.failure = "K(C) or v C_SS + kappa I is not positive definite";
    return out;
  }
  const Eigen::MatrixXd K_inv = llt.solve(Eigen::MatrixXd::Identity(M, M));
  const EntryList all = entries_where(s, true);
  const Directions d = directions(s, K_inv, H, readout, entries, all);

  const Eigen::MatrixXd C_hat =
      s.network().w * s.shift_transpose(K_inv * H * K_inv - K_inv) + readout.tilt;
  out.J = Eigen::MatrixXd::Zero(2 * n, 2 * n);
  for (int b = 0; b < batches; ++b) {
    check_deadline();
    out.batch_estimates.push_back(
        batch_estimate(s, C_hat, draws.middleCols(b * size, size), entries, all, d, means_vanish));
    out.J += out.batch_estimates.back() / batches;
  }
  Eigen::MatrixXd var = Eigen::MatrixXd::Zero(2 * n, 2 * n);
  for (const auto& Jb : out.batch_estimates) var += (Jb - out.J).cwiseAbs2();
  out.stderr_ = (var / (double(batches) * (batches - 1.0))).cwiseSqrt();
  out.ok = out.J.allFinite();
  if (!out.ok) out.failure = "non-finite Jacobian estimate";
  return out;
}

}  // namespace kernelsweep
