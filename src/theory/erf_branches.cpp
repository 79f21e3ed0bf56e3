// Branches of the erf theory (docs/theory.md 3.3): stochastic-approximation fixed point on (C, C_hat)
// with single-site moments from elliptical slice sampling, G first from K^{-1} H K^{-1} - K^{-1} and
// then by integration by parts, Robbins-Monro averaging at the end, and the free energy with
// log Z by thermodynamic integration over the tilt strength.
#include <Eigen/LU>
#include <array>
#include <cmath>
#include <numbers>
#include <sstream>

#include "theory/branch_solvers.hpp"
#include "theory/elliptical_slice_sampler.hpp"
#include "theory/linear_saddle_point.hpp"

namespace kernelsweep {

namespace {

// NNGP kernel of the erf network: C = <phi phi^T> under N(0, K(C)) by the arcsine formula.
Eigen::MatrixXd erf_prior_kernel(const KernelStructure& s) {
  const auto arcsine = [](const Eigen::MatrixXd& K) {
    const double c = std::numbers::pi / 2.0;
    Eigen::MatrixXd C(K.rows(), K.cols());
    for (Eigen::Index i = 0; i < K.rows(); ++i)
      for (Eigen::Index j = 0; j < K.cols(); ++j)
        C(i, j) = 2.0 / std::numbers::pi *
                  std::asin(c * K(i, j) / std::sqrt((1.0 + c * K(i, i)) * (1.0 + c * K(j, j))));
    return C;
  };
  Eigen::MatrixXd C = arcsine(s.network().u * s.input_kernel());
  for (int t = 1; t < s.T(); ++t) C = arcsine(s.prior_covariance(C));
  return C;
}

void project(const KernelStructure& s, bool symmetric_branch, Eigen::MatrixXd& A) {
  A = 0.5 * (A + A.transpose()).eval();
  for (int i = 0; i < s.M(); ++i)
    for (int j = 0; j < s.M(); ++j)
      if (!s.structurally_allowed(i, j) || (symmetric_branch && s.is_odd_lag(i, j))) A(i, j) = 0.0;
}

// Gauss-Legendre nodes and weights on [0, 1] (8 points): log Z = int_0^1 <V>_beta d beta.
constexpr std::array<double, 8> kNodes = {0.0198550717512319, 0.1016667612931866, 0.2372337950418355,
                                          0.4082826787521751, 0.5917173212478249, 0.7627662049581645,
                                          0.8983332387068134, 0.9801449282487681};
constexpr std::array<double, 8> kWeights = {0.0506142681451881, 0.1111905172266872, 0.1568533229389436,
                                            0.1813418916891810, 0.1813418916891810, 0.1568533229389436,
                                            0.1111905172266872, 0.0506142681451881};

}  // namespace

BranchSolution solve_erf_branch(const KernelStructure& s, const TheoryOptions& options,
                                bool broken_seed) {
  BranchSolution b;
  b.name = broken_seed ? "broken" : "symmetric";
  const int M = s.M(), T = s.T(), P = s.P();
  const bool project_odd = !broken_seed && s.has_sign_symmetry();
  const double w = s.network().w;
  const Eigen::MatrixXd I = Eigen::MatrixXd::Identity(M, M);

  Eigen::MatrixXd C = erf_prior_kernel(s);
  if (broken_seed) {
    for (int t = 0; t + 1 < T; ++t) {
      const Eigen::MatrixXd block =
          0.05 * 0.5 * (C.block(t * P, t * P, P, P) + C.block((t + 1) * P, (t + 1) * P, P, P));
      C.block(t * P, (t + 1) * P, P, P) += block;
      C.block((t + 1) * P, t * P, P, P) += block.transpose();
    }
  }
  const auto cholesky = [&](const Eigen::MatrixXd& K, Eigen::MatrixXd* L) {
    Eigen::LLT<Eigen::MatrixXd> llt(K);
    if (llt.info() != Eigen::Success) return false;
    *L = llt.matrixL();
    return true;
  };

  PhiloxStream stream(options.seed, options.point_index, broken_seed ? 1 : 0,
                      StreamPurpose::theory_monte_carlo);
  EllipticalSliceSampler sampler(M, options.samples, s.network().activation, stream);
  Eigen::MatrixXd L;
  if (!cholesky(s.prior_covariance(C), &L)) {
    b.status = Status::failed;
    b.message = "K(C) is not positive definite at the prior kernel";
    return b;
  }
  KernelStructure::Readout readout = s.readout(C, 0.0);
  sampler.draw_from_prior(L);
  // State (C, H) as in the linear iteration (where H = C): C_hat is a function of the state,
  // C_hat = w Sh^T(K^{-1} H K^{-1} - K^{-1}) + tilt(C); sampling at C_hat gives new moments.
  // Damping the moments (not C_hat) averages the Monte-Carlo noise of the K^{-1} H K^{-1} term.
  Eigen::MatrixXd H = s.prior_covariance(C);
  Eigen::MatrixXd C_hat = Eigen::MatrixXd::Zero(M, M);
  const auto tilt_of = [&](const Eigen::MatrixXd& Cs, const Eigen::MatrixXd& Hs, double amplitude,
                           Eigen::MatrixXd* L_out, Eigen::MatrixXd* C_hat_out) {
    const Eigen::MatrixXd K = s.prior_covariance(Cs);
    Eigen::LLT<Eigen::MatrixXd> k_llt(K);
    readout = s.readout(Cs, amplitude);
    if (k_llt.info() != Eigen::Success || !readout.ok) return false;
    *L_out = k_llt.matrixL();
    const Eigen::MatrixXd K_inv = k_llt.solve(I);
    *C_hat_out = w * s.shift_transpose(K_inv * Hs * K_inv - K_inv) + readout.tilt;
    project(s, project_odd, *C_hat_out);
    return C_hat_out->allFinite();
  };

  // Damping: the map has a stiff readout mode with a large negative Jacobian eigenvalue mu at
  // strong signal, stable only for a < 2 / (1 - mu). Estimate mu from the linear theory of the same
  // network (erf ~ linear where it matters) and keep |1 - a + a mu| <= 1/2.
  double damping = 0.5;
  {
    NetworkSpec linear_network = s.network();
    linear_network.activation = Activation::linear;
    const KernelStructure linear(linear_network, s.data());
    const BranchSolution surrogate = solve_linear_symmetric(linear, options);
    if (surrogate.status != Status::failed) {
      const double mu = even_sector_stiffness(linear, surrogate.C, 1.0);
      if (std::isfinite(mu) && mu < 0.0) damping = std::min(0.5, 1.5 / (1.0 - mu));
    }
  }
  // The broken branch leaves the symmetric point along a weakly unstable mode: twice the budget.
  const int iterations = std::max(10, options.max_iterations) * (broken_seed ? 2 : 1);
  const int settle = iterations / 2;
  // The signal is ramped up over the first half of the settling phase (continuation in the target
  // amplitude), so that the chains, which lag a few sweeps behind, never face a sudden tilt.
  const int ramp = std::max(1, settle / 2);
  for (int k = 0; k < iterations; ++k) {
    const double amplitude = std::min(1.0, double(k + 1) / ramp);
    if (!tilt_of(C, H, amplitude, &L, &C_hat)) {
      b.status = Status::failed;
      b.message = "K(C) or v C_SS + kappa I lost positive definiteness (or C_hat became non-finite) "
                  "at Monte-Carlo iteration " + std::to_string(k);
      return b;
    }
    sampler.sweep(L, C_hat, 2);
    const SingleSiteMoments m = sampler.measure(C_hat, 2);
    // Robbins-Monro after settling: the step shrinks like 1/k, averaging the noise away.
    const double a = k < settle ? damping : damping / (damping * (k - settle) + 1.0);
    // Once settled, H comes from the integration-by-parts G (H = K + K G K), which is far less
    // noisy than the direct h h^T average; used from the start it can make the iteration diverge.
    Eigen::MatrixXd H_estimate = m.H;
    if (k >= settle) {
      const Eigen::MatrixXd K = L * L.transpose();
      H_estimate = K + K * m.G_by_parts * K;
    }
    C = (1.0 - a) * C + a * m.C;
    H = (1.0 - a) * H + a * H_estimate;
    project(s, project_odd, C);
    project(s, project_odd, H);
  }
  if (!tilt_of(C, H, 1.0, &L, &C_hat)) {
    b.status = Status::failed;
    b.message = "K(C) is not positive definite at the final iterate";
    return b;
  }

  // Final evaluation at the averaged fixed point, with error bars.
  sampler.sweep(L, C_hat, 50);
  SingleSiteMoments m = sampler.measure(C_hat);
  // Both G estimators agree only for equilibrated chains: their mismatch is a diagnostic of ESS
  // mixing, which slows down under a strong tilt.
  const Eigen::MatrixXd K_inv = (L * L.transpose()).inverse();
  const double g_mismatch = (K_inv * m.H * K_inv - K_inv - m.G_by_parts).norm() /
                            std::max(m.G_by_parts.norm(), 1e-300);
  if (project_odd) {
    project(s, true, m.C);
    project(s, true, m.H);
  }
  b.C = m.C;
  b.H = m.H;
  b.C_stderr = m.C_stderr;
  b.H_stderr = m.H_stderr;
  b.q = s.order_parameter(m.H);
  double q_var = 0.0;
  for (int p = 0; p < P && T >= 2; ++p) {
    const double e = m.H_stderr((T - 1) * P + p, (T - 2) * P + p);
    q_var += e * e;
  }
  b.q_stderr = T >= 2 ? std::sqrt(q_var) / P : 0.0;  // patterns' errors treated as independent
  b.f = s.predictions(m.C, readout);
  b.iterations = iterations;
  b.residual = std::max((m.C - C).norm() / C.norm(), (m.H - H).norm() / H.norm());
  const double noise = m.C_stderr.norm() / C.norm();

  // log Z = int_0^1 <V>_beta d beta, with chains carried from one beta to the next.
  double log_Z = 0.0, log_Z_var = 0.0;
  sampler.draw_from_prior(L);
  for (std::size_t i = 0; i < kNodes.size(); ++i) {
    const Eigen::MatrixXd tilt = kNodes[i] * C_hat;
    sampler.sweep(L, tilt, 20);
    const SingleSiteMoments mi = sampler.measure(C_hat);
    log_Z += kWeights[i] * mi.mean_V;
    log_Z_var += kWeights[i] * kWeights[i] * mi.mean_V_stderr * mi.mean_V_stderr;
  }
  b.free_energy = 0.5 * C_hat.cwiseProduct(C).sum() - log_Z + 0.5 * readout.y_dot_r;
  b.free_energy_stderr = std::sqrt(log_Z_var);

  std::ostringstream msg;
  msg << "Monte Carlo with " << options.samples << " chains, " << iterations
      << " iterations, damping " << damping << "; relative MC error of C " << noise
      << "; G estimator mismatch " << g_mismatch;
  const bool converged = b.residual <= 5.0 * noise + options.tolerance;
  b.status = converged ? Status::done : Status::not_converged;
  if (!converged) msg << "; residual " << b.residual << " exceeds 5 x the MC error";
  b.message = msg.str();
  return b;
}

}  // namespace kernelsweep
