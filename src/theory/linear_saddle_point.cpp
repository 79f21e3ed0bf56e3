#include "theory/linear_saddle_point.hpp"

#include "theory/dense_kernels.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <stdexcept>

#include "model/deadline.hpp"
#include "theory/parity_blocks.hpp"

namespace kernelsweep {

// The three inverses and the product K^{-1} C K^{-1} run in the instruction-set variant's kernels
// (dense_kernels.hpp): the chord steps of the branch tracer evaluate this thousands of times.
LinearEvaluation evaluate_linear(const KernelStructure& s, const Eigen::MatrixXd& C,
                                 double amplitude, double field) {
  LinearEvaluation e;
  if (!spd_inverse(C, &e.C_inv, &e.logdet_C)) {
    e.failure = "C is not positive definite";
    return e;
  }
  e.K = s.prior_covariance(C);
  if (!spd_inverse(e.K, &e.K_inv, &e.logdet_K)) {
    e.failure = "K(C) is not positive definite";
    return e;
  }
  e.readout = s.readout(C, amplitude);
  if (!e.readout.ok) {
    e.failure = "v C_SS + kappa I is not positive definite";
    return e;
  }
  e.G = sandwich(e.K_inv, C) - e.K_inv;
  e.C_hat = s.network().w * s.shift_transpose(e.G) + e.readout.tilt;
  e.precision = e.K_inv - e.C_hat;
  if (field != 0.0) e.precision -= field * s.order_parameter_field();
  e.defined = e.K_inv.allFinite() && e.C_inv.allFinite() && e.C_hat.allFinite();
  if (!spd_inverse(e.precision, &e.next_C, &e.logdet_precision)) {
    e.failure = "K^{-1} - C_hat is not positive definite";
    return e;
  }
  e.fixed_point_residual = (e.next_C - C).norm() / C.norm();
  e.ok = std::isfinite(e.fixed_point_residual);
  if (!e.ok) e.failure = "non-finite kernels";
  return e;
}

Eigen::MatrixXd residual_derivative(const KernelStructure& s, const Eigen::MatrixXd& C,
                                    const LinearEvaluation& e, const Eigen::MatrixXd& dC) {
  const double w = s.network().w;
  const Eigen::MatrixXd dK_inv = -e.K_inv * (w * s.shift(dC)) * e.K_inv;
  const Eigen::MatrixXd K_inv_C = e.K_inv * C;
  const Eigen::MatrixXd dG =
      dK_inv * K_inv_C.transpose() + e.K_inv * dC * e.K_inv + K_inv_C * dK_inv - dK_inv;
  const Eigen::MatrixXd dC_hat =
      w * s.shift_transpose(dG) + s.readout_tilt_derivative(e.readout, dC);
  return dK_inv - dC_hat + e.C_inv * dC * e.C_inv;
}

Eigen::MatrixXd map_derivative(const KernelStructure& s, const Eigen::MatrixXd& C,
                               const LinearEvaluation& e, const Eigen::MatrixXd& dC) {
  const double w = s.network().w;
  const Eigen::MatrixXd dK_inv = -e.K_inv * (w * s.shift(dC)) * e.K_inv;
  const Eigen::MatrixXd K_inv_C = e.K_inv * C;
  const Eigen::MatrixXd dG =
      dK_inv * K_inv_C.transpose() + e.K_inv * dC * e.K_inv + K_inv_C * dK_inv - dK_inv;
  const Eigen::MatrixXd dC_hat =
      w * s.shift_transpose(dG) + s.readout_tilt_derivative(e.readout, dC);
  return -e.next_C * (dK_inv - dC_hat) * e.next_C;
}

// Column (i, j) of J is dR along U = E_ij + E_ji (E_ii):
//   dK^{-1} = -w K^{-1} Sh(U) K^{-1},  Sh(E_ij) = E_{i+P, j+P} when both indices can be shifted;
//   dG = dK^{-1} A^T + A dK^{-1} - dK^{-1} + K^{-1} U K^{-1}  (A = K^{-1} C);
//   dR = dK^{-1} - w Sh^T(dG) - d(tilt) + C^{-1} U C^{-1},  Sh^T(G)_kl = G_{k+P, l+P}.
// Every term is X U Y^T for U = E_ij + E_ji, i.e. dR(k, l) = X(k, i) Y(l, j) + X(k, j) Y(l, i),
// with (S = the shift, S_{k+P, k} = 1; K_s = K^{-1} S, A_s = S^T K^{-1} S, B_s = S^T A K^{-1} S,
// K_r = S^T K^{-1}):
//   dK^{-1} = -w K_s U K_s^T;  -w Sh^T(dG) = w^2 (A_s U B_s^T + B_s U A_s^T - A_s U A_s^T)
//   - w K_r U K_r^T. So J is a sum of five such terms (DenseKernels::packed_outer_sum, O(M^2) per
// column), the readout tilt's columns (entries of the supervised block only) added apart.
namespace {

// J(r, c) for r >= c; the strict upper triangle is left uninitialized.
Eigen::MatrixXd residual_jacobian_lower(const KernelStructure& s, const Eigen::MatrixXd& C,
                                        const LinearEvaluation& e, const EntryList& entries) {
  const int M = s.M(), P = s.P(), T = s.T();
  const int n = static_cast<int>(entries.size());
  const int shifted = (T - 1) * P;  // indices k < shifted have a successor k + P
  const double w = s.network().w;
  const Eigen::MatrixXd& K_inv = e.K_inv;
  const Eigen::MatrixXd AK = sandwich(K_inv, C);
  Eigen::MatrixXd K_s = Eigen::MatrixXd::Zero(M, M), A_s = Eigen::MatrixXd::Zero(M, M),
                  B_s = Eigen::MatrixXd::Zero(M, M), K_r = Eigen::MatrixXd::Zero(M, M);
  if (shifted > 0) {
    K_s.leftCols(shifted) = K_inv.middleCols(P, shifted);
    A_s.topLeftCorner(shifted, shifted) = K_inv.block(P, P, shifted, shifted);
    B_s.topLeftCorner(shifted, shifted) = AK.block(P, P, shifted, shifted);
    K_r.topRows(shifted) = K_inv.middleRows(P, shifted);
  }
  const Eigen::MatrixXd X1 = -w * K_s, Y2 = w * w * (B_s - A_s), X3 = w * w * B_s, X4 = -w * K_r;
  const PackedOuterTerm terms[] = {{X1.data(), K_s.data(), shifted, M},
                                   {A_s.data(), Y2.data(), shifted, shifted},
                                   {X3.data(), A_s.data(), shifted, shifted},
                                   {X4.data(), K_r.data(), M, shifted},
                                   {e.C_inv.data(), e.C_inv.data(), M, M}};
  std::vector<int> first(static_cast<std::size_t>(n)), second(static_cast<std::size_t>(n));
  for (int r = 0; r < n; ++r) {
    first[static_cast<std::size_t>(r)] = entries[static_cast<std::size_t>(r)].first;
    second[static_cast<std::size_t>(r)] = entries[static_cast<std::size_t>(r)].second;
  }
  Eigen::MatrixXd J(n, n);
  if (n > 0)
    dense_kernels().packed_outer_sum(M, 5, terms, n, first.data(), second.data(), J.data());
  Eigen::MatrixXd dC;
  for (int col = 0; col < n; ++col) {
    const auto [i, j] = entries[static_cast<std::size_t>(col)];
    if (!s.readout_depends_on(i, j)) continue;
    dC = Eigen::MatrixXd::Zero(M, M);
    dC(i, j) = dC(j, i) = 1.0;
    const Eigen::MatrixXd tilt = s.readout_tilt_derivative(e.readout, dC);
    for (int r = col; r < n; ++r)
      J(r, col) -= tilt(entries[static_cast<std::size_t>(r)].first,
                        entries[static_cast<std::size_t>(r)].second);
  }
  return J;
}

}  // namespace

Eigen::MatrixXd residual_jacobian(const KernelStructure& s, const Eigen::MatrixXd& C,
                                  const LinearEvaluation& e, const EntryList& entries) {
  Eigen::MatrixXd J = residual_jacobian_lower(s, C, e, entries);
  const int n = static_cast<int>(entries.size());
  // R = 2 dF/dC, so D J is the packed Hessian of F (D = 1/2 on diagonal entries, see
  // to_packed_hessian): symmetric, J(c, r) = D_r J(r, c) / D_c. Half the columns' work: the
  // transpose (tile by tile: a tile and its mirror stay in the cache), then the rows and columns of
  // the (few) diagonal entries rescaled.
  constexpr int tile = 32;
  for (int c0 = 0; c0 < n; c0 += tile) {
    const int width = std::min(tile, n - c0);
    auto diagonal_tile = J.block(c0, c0, width, width);
    diagonal_tile.triangularView<Eigen::StrictlyUpper>() = diagonal_tile.transpose();
    for (int r0 = c0 + tile; r0 < n; r0 += tile) {
      const int height = std::min(tile, n - r0);
      J.block(c0, r0, width, height) = J.block(r0, c0, height, width).transpose();
    }
  }
  for (int k = 0; k < n; ++k) {
    if (entries[static_cast<std::size_t>(k)].first != entries[static_cast<std::size_t>(k)].second)
      continue;
    for (int r = k + 1; r < n; ++r)  // D_r / D_k with D_k = 1/2
      if (entries[static_cast<std::size_t>(r)].first != entries[static_cast<std::size_t>(r)].second)
        J(k, r) *= 2.0;
    for (int c = 0; c < k; ++c)  // D_k / D_c
      if (entries[static_cast<std::size_t>(c)].first != entries[static_cast<std::size_t>(c)].second)
        J(c, k) *= 0.5;
  }
  return J;
}

Eigen::MatrixXd packed_hessian_lower(const KernelStructure& s, const Eigen::MatrixXd& C,
                                     const LinearEvaluation& e, const EntryList& entries) {
  Eigen::MatrixXd H = residual_jacobian_lower(s, C, e, entries);
  const int n = static_cast<int>(entries.size());
  for (int k = 0; k < n; ++k)
    if (entries[static_cast<std::size_t>(k)].first == entries[static_cast<std::size_t>(k)].second)
      H.row(k).head(k + 1) *= 0.5;
  return H;
}

void to_packed_hessian(Eigen::MatrixXd* J, const EntryList& entries) {
  Eigen::MatrixXd& H = *J;
  const Eigen::Index n = H.rows();
  for (Eigen::Index k = 0; k < n; ++k)
    if (entries[static_cast<std::size_t>(k)].first == entries[static_cast<std::size_t>(k)].second)
      H.row(k) *= 0.5;
  for (Eigen::Index l = 0; l < n; ++l)
    for (Eigen::Index k = 0; k < l; ++k) H(k, l) = H(l, k) = 0.5 * (H(k, l) + H(l, k));
}

double linear_free_energy(const Eigen::MatrixXd& C, const LinearEvaluation& e) {
  // logdet(I - K (C_hat + eps B)) = logdet K + logdet(K^{-1} - C_hat - eps B)
  const double log_Z = -0.5 * (e.logdet_K + e.logdet_precision);
  return 0.5 * (e.C_hat.cwiseProduct(C)).sum() - log_Z + 0.5 * e.readout.y_dot_r;
}

double linear_free_energy_kl(const Eigen::MatrixXd& C, const LinearEvaluation& e) {
  const double trace = (e.K_inv.cwiseProduct(C)).sum();
  const double logdet_ratio = e.logdet_C - e.logdet_K;
  return 0.5 * (trace - logdet_ratio - C.rows()) + 0.5 * e.readout.y_dot_r;
}

LinearSolveResult iterate_fixed_point(const KernelStructure& s, const Eigen::MatrixXd& C0,
                                      double amplitude, const EntryList& entries,
                                      const FixedPointOptions& options) {
  const int M = s.M();
  // Over entries without odd lags (tasks with the W -> -W symmetry) every iterate is invariant:
  // the equations split into two parity blocks.
  const bool blockwise = parity_blocks_apply(s, entries);
  const ParityBlocks blocks(s);
  const auto evaluate = [&](const Eigen::MatrixXd& C) {
    if (blockwise) return invariant_fixed_point_map(s, blocks, C, amplitude);
    LinearEvaluation full = evaluate_linear(s, C, amplitude);
    FixedPointImage image;
    image.ok = full.ok;
    image.failure = std::move(full.failure);
    image.next_C = std::move(full.next_C);
    image.fixed_point_residual = full.fixed_point_residual;
    return image;
  };
  LinearSolveResult result;
  Eigen::VectorXd x = pack(C0, entries);
  FixedPointImage e = evaluate(unpack(x, entries, M));
  if (!e.ok) {
    result.breakdown = true;
    result.C = C0;
    result.message = e.failure + " at the start of the iteration";
    return result;
  }
  std::deque<Eigen::VectorXd> dx_history, df_history;
  Eigen::VectorXd f = pack(e.next_C, entries) - x;
  double mixing = options.mixing;
  Eigen::VectorXd best_x = x;
  double best_residual = e.fixed_point_residual;
  int k = 0;
  for (; k < options.max_iterations; ++k) {
    if (e.fixed_point_residual < options.tolerance) break;
    check_deadline();
    Eigen::VectorXd candidate = x + mixing * f;
    if (options.anderson_memory > 0 && !df_history.empty()) {
      const int m = static_cast<int>(df_history.size());
      Eigen::MatrixXd dF(x.size(), m), dX(x.size(), m);
      for (int j = 0; j < m; ++j) {
        dF.col(j) = df_history[j];
        dX.col(j) = dx_history[j];
      }
      const Eigen::VectorXd gamma = dF.colPivHouseholderQr().solve(f);
      if (gamma.allFinite()) candidate = x + mixing * f - (dX + mixing * dF) * gamma;
    }
    FixedPointImage next = evaluate(unpack(candidate, entries, M));
    if (!next.ok) {  // safeguard: a short plain step, history dropped
      dx_history.clear();
      df_history.clear();
      bool recovered = false;
      for (double a = 0.5 * mixing; a > 1e-4; a *= 0.5) {
        candidate = x + a * f;
        next = evaluate(unpack(candidate, entries, M));
        if (next.ok) {
          recovered = true;
          break;
        }
      }
      if (!recovered) {
        result.breakdown = true;
        result.message = next.failure + " (no damped step stays positive definite)";
        break;
      }
    }
    const Eigen::VectorXd f_next = pack(next.next_C, entries) - candidate;
    dx_history.push_back(candidate - x);
    df_history.push_back(f_next - f);
    if (static_cast<int>(df_history.size()) > options.anderson_memory) {
      dx_history.pop_front();
      df_history.pop_front();
    }
    x = candidate;
    f = f_next;
    e = std::move(next);
    if (e.fixed_point_residual < best_residual) {
      best_residual = e.fixed_point_residual;
      best_x = x;
    }
  }
  result.iterations = k;
  // Not converged: Anderson returns its best point, a plain iteration its last one (which is
  // where a seeded perturbation has drifted to).
  const bool finished = e.fixed_point_residual < options.tolerance;
  const bool use_best = !finished && options.anderson_memory > 0;
  result.C = use_best ? unpack(best_x, entries, M) : unpack(x, entries, M);
  result.residual = use_best ? best_residual : e.fixed_point_residual;
  result.converged = finished;
  if (!finished && result.message.empty())
    result.message = "fixed-point iteration reached residual " + std::to_string(result.residual);
  return result;
}

LinearSolveResult newton_solve(const KernelStructure& s, const Eigen::MatrixXd& C0,
                               double amplitude, const EntryList& entries,
                               const NewtonOptions& options) {
  const int M = s.M();
  const int n = static_cast<int>(entries.size());
  const bool constrained = options.constrained_q.has_value();
  const int unknowns = n + (constrained ? 1 : 0);
  const Eigen::MatrixXd B = s.order_parameter_field();

  LinearSolveResult result;
  Eigen::MatrixXd C = C0;
  double field = options.field;
  // Without field or constraint, over entries without odd lags from an invariant start, every
  // iterate is W -> -W invariant: the equations split into two parity blocks.
  const bool blockwise =
      !constrained && field == 0.0 && parity_blocks_apply(s, entries) && is_parity_invariant(s, C0);
  const ParityBlocks blocks(s);
  const auto evaluate = [&](const Eigen::MatrixXd& Cx, double field_x) {
    return blockwise ? evaluate_linear_invariant(s, blocks, Cx, amplitude)
                     : evaluate_linear(s, Cx, amplitude, field_x);
  };

  const auto equations = [&](const Eigen::MatrixXd& Cx, const LinearEvaluation& ex) {
    Eigen::VectorXd r(unknowns);
    r.head(n) = pack(ex.precision - ex.C_inv, entries);
    if (constrained) r(n) = s.order_parameter(Cx) - *options.constrained_q;
    return r;
  };

  LinearEvaluation e = evaluate(C, field);
  if (!e.ok) {
    result.breakdown = true;
    result.C = C;
    result.message = e.failure + " at the Newton start";
    return result;
  }
  Eigen::VectorXd r = equations(C, e);
  int k = 0;
  for (; k < options.max_iterations; ++k) {
    check_deadline();
    const bool constraint_met = !constrained || std::abs(r(n)) < 1e-13 * (1.0 + C.norm());
    if (e.fixed_point_residual < options.tolerance && constraint_met) break;
    Eigen::MatrixXd J(unknowns, unknowns);
    J.topLeftCorner(n, n) = residual_jacobian(s, C, e, entries);
    if (constrained) {
      for (int j = 0; j < n; ++j)
        J(n, j) = s.order_parameter(unit_symmetric(entries[j].first, entries[j].second, M));
      J.col(n).head(n) = pack(-B, entries);
      J(n, n) = 0.0;
    }
    DenseLu lu;
    lu.compute(J);
    const Eigen::VectorXd step = lu.solve(-r);
    if (!step.allFinite()) {
      result.message = "singular Newton system";
      break;
    }
    bool accepted = false;
    for (double a = 1.0; a > 1e-6; a *= 0.5) {
      const Eigen::MatrixXd C_try = C + a * unpack(step.head(n), entries, M);
      const double field_try = constrained ? field + a * step(n) : field;
      LinearEvaluation e_try = evaluate(C_try, field_try);
      if (!e_try.ok) continue;
      const Eigen::VectorXd r_try = equations(C_try, e_try);
      if (r_try.norm() < (1.0 - 1e-4 * a) * r.norm() || a <= 1.0 / 64) {
        C = C_try;
        field = field_try;
        e = std::move(e_try);
        r = r_try;
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      result.message = "Newton line search failed";
      break;
    }
  }
  result.iterations = k;
  result.C = C;
  result.field = field;
  result.residual = e.fixed_point_residual;
  result.converged = e.fixed_point_residual < options.tolerance &&
                     (!constrained || std::abs(r(n)) < 1e-10 * (1.0 + C.norm()));
  if (!result.converged && result.message.empty())
    result.message = "Newton reached residual " + std::to_string(result.residual);
  return result;
}

namespace {

// Eigenvalues of the map's Jacobian restricted to the odd-lag (odd = true) or even-lag entries.
Eigen::VectorXcd sector_spectrum(const KernelStructure& s, const Eigen::MatrixXd& C,
                                 double amplitude, bool odd) {
  EntryList sector;
  for (const auto& ij : entries_where(s, true))
    if (s.is_odd_lag(ij.first, ij.second) == odd) sector.push_back(ij);
  if (sector.empty()) return {};
  const LinearEvaluation e = evaluate_linear(s, C, amplitude);
  if (!e.ok) return Eigen::VectorXcd::Constant(1, std::numeric_limits<double>::quiet_NaN());
  const int n = static_cast<int>(sector.size());
  Eigen::MatrixXd J(n, n);
  for (int j = 0; j < n; ++j)
    J.col(j) = pack(
        map_derivative(s, C, e, unit_symmetric(sector[j].first, sector[j].second, s.M())), sector);
  return Eigen::EigenSolver<Eigen::MatrixXd>(J, false).eigenvalues();
}

}  // namespace

CholeskyFailureTest::CholeskyFailureTest(const Eigen::MatrixXd& H, Eigen::VectorXd* warm_start) {
  // A Cholesky that succeeds on A computes L with L L^T = A + E, |E|_2 <= c n^2 u |A| (Higham,
  // Accuracy and Stability of Numerical Algorithms, Thm 10.3; bounded here by 4 n^2 u |A|_F), so
  // lambda_min(A) >= -|E|. The Rayleigh quotient of any vector bounds lambda_min(H) from above
  // (computed to n u |H|_F, inside the same bound); the vector is the Ritz vector of a short
  // Lanczos run with full reorthogonalization from the warm start.
  const Eigen::Index n = H.rows();
  const double u = 0.5 * std::numeric_limits<double>::epsilon();
  // H is read through its lower triangle (the packed Hessians are formed there only).
  double squared = H.diagonal().squaredNorm();
  for (Eigen::Index j = 0; j + 1 < n; ++j) squared += 2.0 * H.col(j).tail(n - j - 1).squaredNorm();
  norm_ = std::sqrt(squared);
  const auto product = [&](const auto& x) -> Eigen::VectorXd {
    return H.selfadjointView<Eigen::Lower>() * x;
  };
  sqrt_n_ = std::sqrt(double(n));
  tolerance_ = 4.0 * double(n) * double(n) * u;
  Eigen::VectorXd v = *warm_start;
  if (v.size() != n || !(v.norm() > 0.0)) {
    v.resize(n);
    for (Eigen::Index k = 0; k < n; ++k) v(k) = std::cos(1.0 + 0.7 * double(k));
  }
  const int steps = static_cast<int>(std::min<Eigen::Index>(n, 24));
  Eigen::MatrixXd Q(n, steps);
  Eigen::VectorXd alpha(steps), beta(steps);
  Q.col(0) = v / v.norm();
  int k = 0;
  while (k < steps) {
    Eigen::VectorXd w = product(Q.col(k));
    alpha(k) = Q.col(k).dot(w);
    for (int pass = 0; pass < 2; ++pass)
      w -= Q.leftCols(k + 1) * (Q.leftCols(k + 1).transpose() * w);
    beta(k) = w.norm();
    ++k;
    if (k == steps || !(beta(k - 1) > 1e-12 * norm_)) break;
    Q.col(k) = w / beta(k - 1);
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ritz;
  ritz.computeFromTridiagonal(alpha.head(k), beta.head(std::max(k - 1, 0)),
                              Eigen::ComputeEigenvectors);
  const Eigen::VectorXd y = Q.leftCols(k) * ritz.eigenvectors().col(0);
  upper_bound_ = y.dot(product(y)) / y.squaredNorm();
  active_ = std::isfinite(upper_bound_);
  if (active_) *warm_start = y;
}

bool CholeskyFailureTest::certain(double shift) const {
  if (!active_) return false;
  return upper_bound_ + shift < -tolerance_ * (norm_ + shift * sqrt_n_);
}

// Galloping (k = 0, 1, 2, 4, 8, ...), then bisection; a failed attempt keeps *llt as it was.
double first_factorable_shift(const Eigen::MatrixXd& H, double base,
                              const CholeskyFailureTest& fails, DenseCholesky* llt) {
  DenseCholesky trial;
  const auto succeeds = [&](int k) {
    const double shift = std::ldexp(base, k);
    if (fails.certain(shift) || !trial.compute_shifted(H, shift)) return false;
    std::swap(trial, *llt);
    return true;
  };
  int failed = -1, k = 0;
  while (!succeeds(k)) {
    failed = k;
    k = k == 0 ? 1 : 2 * k;
    if (k > 2100) throw std::runtime_error("no shift makes the Hessian positive definite");
  }
  while (k - failed > 1) {
    const int middle = failed + (k - failed) / 2;
    if (succeeds(middle))
      k = middle;
    else
      failed = middle;
  }
  return std::ldexp(base, k);
}

LinearSolveResult minimize_free_energy(const KernelStructure& s, const Eigen::MatrixXd& C0,
                                       double amplitude, const EntryList& entries,
                                       const MinimizeOptions& options) {
  const int M = s.M();
  const int n = static_cast<int>(entries.size());
  // In packed coordinates x (off-diagonal entries counted once), dF/dx = D pack(R) and the Hessian
  // is D J with D = 1 off the diagonal and 1/2 on it (F = KL form; R = 2 dF/dC).
  Eigen::VectorXd D(n);
  for (int k = 0; k < n; ++k) D(k) = entries[k].first == entries[k].second ? 0.5 : 1.0;
  const auto free_energy = [&](const Eigen::MatrixXd& C, LinearEvaluation* out) {
    *out = evaluate_linear(s, C, amplitude);
    return out->defined ? linear_free_energy_kl(C, *out) : std::numeric_limits<double>::infinity();
  };
  LinearSolveResult result;
  Eigen::MatrixXd C = C0;
  LinearEvaluation e;
  double F = free_energy(C, &e);
  if (!std::isfinite(F)) {
    result.breakdown = true;
    result.C = C0;
    result.message = e.failure + " at the start of the minimization";
    return result;
  }
  double shift = 0.0;
  Eigen::VectorXd ritz;  // the last Lanczos estimate of the lowest eigenvector (a warm start)
  bool stagnant = false;
  int k = 0;
  for (; k < options.max_iterations; ++k) {
    if (e.ok && e.fixed_point_residual < options.tolerance) break;
    check_deadline();
    const Eigen::VectorXd gradient = D.cwiseProduct(pack(e.precision - e.C_inv, entries));
    const Eigen::MatrixXd hessian = packed_hessian_lower(s, C, e, entries);  // lower triangle
    // Levenberg-Marquardt: the smallest shift (relative to the Hessian's scale) that makes it
    // positive definite, so the step descends even at a saddle.
    // Each attempt is a Cholesky of an n x n matrix: try no shift (quadratic convergence near the
    // minimum), then from a quarter of the last shift that worked, doubling until positive
    // definite (a shift much larger than needed shortens the steps).
    // Attempts that are certain to fail are skipped (the shifts and steps stay exactly the same):
    // after an iteration that needed a shift, a short Lanczos run bounds lambda_min from above.
    // When the last iteration needed no shift, the test is built only once the unshifted attempt
    // has failed (the doubling from 1e-8 of the scale would otherwise try ~20 hopeless shifts).
    const double scale = hessian.diagonal().cwiseAbs().maxCoeff();
    CholeskyFailureTest fails =
        shift > 0.0 ? CholeskyFailureTest(hessian, &ritz) : CholeskyFailureTest();
    DenseCholesky llt;
    if (!fails.certain(0.0) && llt.compute(hessian)) {
      shift = 0.0;
    } else {
      if (shift == 0.0) fails = CholeskyFailureTest(hessian, &ritz);
      shift = first_factorable_shift(hessian, std::max(0.25 * shift, 1e-8 * scale), fails, &llt);
    }
    const Eigen::VectorXd step = -llt.solve(gradient);
    const Eigen::MatrixXd C_before = C;
    bool accepted = false;
    for (double a = 1.0; a > 1e-10; a *= 0.5) {
      const Eigen::MatrixXd C_try = C + a * unpack(step, entries, M);
      LinearEvaluation e_try;
      const double F_try = free_energy(C_try, &e_try);
      if (F_try <= F + 1e-4 * a * gradient.dot(step)) {
        stagnant = F - F_try <= 1e-14 * std::abs(F);
        C = C_try;
        e = std::move(e_try);
        F = F_try;
        accepted = true;
        break;
      }
    }
    // At a saddle the shifted step leaves along the negative curvature only by a factor
    // shift / (shift + lambda_min) per iteration (~2: tens of iterations creep past a saddle);
    // the Lanczos Ritz vector of this Hessian, when its Rayleigh quotient is negative, gives a
    // direction of descent to second order: take it instead if it lowers F more.
    if (accepted && fails.lambda_min_upper_bound() < 0.0 && ritz.size() == n) {
      Eigen::VectorXd d = ritz / ritz.norm();
      if (gradient.dot(d) > 0.0) d = -d;
      for (double length : {4.0, 2.0, 1.0}) {
        const Eigen::MatrixXd C_try = C_before + length * step.norm() * unpack(d, entries, M);
        LinearEvaluation e_try;
        const double F_try = free_energy(C_try, &e_try);
        if (F_try < F) {
          stagnant = false;
          C = C_try;
          e = std::move(e_try);
          F = F_try;
          break;
        }
      }
    }
    if (!accepted) {
      result.message = "free-energy line search failed";
      break;
    }
    // Near the minimum F changes by ~|R|^2, below its rounding, and the F line search stalls
    // (residuals ~1e-9 for several steps): once the Hessian is positive definite and the residual
    // small, or F stagnates, finish by Newton on R instead.
    if (shift == 0.0 && e.ok && (stagnant || e.fixed_point_residual < 1e-7)) break;
  }
  if (e.ok && !(e.fixed_point_residual < options.tolerance) && e.fixed_point_residual < 1e-4) {
    NewtonOptions newton;
    newton.tolerance = options.tolerance;
    const LinearSolveResult polished = newton_solve(s, C, amplitude, entries, newton);
    if (!polished.breakdown && polished.residual < e.fixed_point_residual) {
      C = polished.C;
      e = evaluate_linear(s, C, amplitude);
      k += polished.iterations;
    }
  }
  result.iterations = k;
  result.C = C;
  result.residual = e.ok ? e.fixed_point_residual : std::numeric_limits<double>::infinity();
  result.converged = e.ok && e.fixed_point_residual < options.tolerance;
  if (!result.converged && result.message.empty())
    result.message = "minimization reached residual " + std::to_string(result.residual);
  return result;
}

double odd_sector_instability(const KernelStructure& s, const Eigen::MatrixXd& C,
                              double amplitude) {
  const Eigen::VectorXcd eigenvalues = sector_spectrum(s, C, amplitude, true);
  if (eigenvalues.size() == 0) return -std::numeric_limits<double>::infinity();
  return eigenvalues.real().maxCoeff();
}

double odd_sector_hessian_minimum(const KernelStructure& s, const Eigen::MatrixXd& C,
                                  double amplitude) {
  EntryList odd;
  for (const auto& ij : entries_where(s, true))
    if (s.is_odd_lag(ij.first, ij.second)) odd.push_back(ij);
  if (odd.empty()) return std::numeric_limits<double>::infinity();
  const LinearEvaluation e = evaluate_linear(s, C, amplitude);
  if (!e.defined) return std::numeric_limits<double>::quiet_NaN();
  // Odd-lag entries are all off the diagonal, so the packed Hessian is J_R itself (D = 1).
  return lowest_eigenpair(packed_hessian_lower(s, C, e, odd));  // reads the lower triangle
}

double even_sector_stiffness(const KernelStructure& s, const Eigen::MatrixXd& C, double amplitude) {
  const Eigen::VectorXcd eigenvalues = sector_spectrum(s, C, amplitude, false);
  if (eigenvalues.size() == 0) return 0.0;
  return eigenvalues.real().minCoeff();
}

}  // namespace kernelsweep
