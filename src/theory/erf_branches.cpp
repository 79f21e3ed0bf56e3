// Branches of the erf theory (docs/theory.md 3.3): a damped stochastic fixed-point iteration on (C,
// H) with single-site moments from elliptical slice sampling, run as R independent replicates with
// independent streams. G comes first from K^{-1} H K^{-1} - K^{-1}, then by integration by parts.
// The iteration stops on measured drift (erf_stopping_rule.hpp): when the window-to-window change
// of the replicate-averaged (C, H) is within its Monte-Carlo error, the last window's average is
// the answer and the replicates' spread its error bar; otherwise the branch is not_converged. The
// free energy uses log Z by thermodynamic integration over the tilt strength.
#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <array>
#include <cmath>
#include <numbers>
#include <sstream>
#include <utility>

#include "model/deadline.hpp"
#include "theory/branch_solvers.hpp"
#include "theory/elliptical_slice_sampler.hpp"
#include "theory/erf_stopping_rule.hpp"
#include "theory/linear_saddle_point.hpp"
#include "theory/map_stability.hpp"

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
constexpr std::array<double, 8> kNodes = {
    0.0198550717512319, 0.1016667612931866, 0.2372337950418355, 0.4082826787521751,
    0.5917173212478249, 0.7627662049581645, 0.8983332387068134, 0.9801449282487681};
constexpr std::array<double, 8> kWeights = {
    0.0506142681451881, 0.1111905172266872, 0.1568533229389436, 0.1813418916891810,
    0.1813418916891810, 0.1568533229389436, 0.1111905172266872, 0.0506142681451881};

// Damping and time scale of the iteration, from the linear theory of the same network (erf ~
// linear where it matters). The map has a stiff readout mode with a large negative Jacobian
// eigenvalue mu_min, stable only for a < 2 / (1 - mu_min): keep |1 - a + a mu_min| <= 1/2. Its
// slowest mode mu_max relaxes at the rate a (1 - mu_max) per iteration: the stopping rule's
// window spans three such relaxation times, so that a window-to-window drift within the noise
// bounds the remaining bias of the last window by ~5 % of its own change.
struct IterationSchedule {
  double damping = 0.5;
  int window = 200;
  double slow_eigenvalue = std::numeric_limits<double>::quiet_NaN();
};

IterationSchedule schedule_from_linear_surrogate(const KernelStructure& s,
                                                 const TheoryOptions& options,
                                                 bool include_odd_lag) {
  IterationSchedule schedule;
  NetworkSpec linear_network = s.network();
  linear_network.activation = Activation::linear;
  const KernelStructure linear(linear_network, s.data());
  const BranchSolution surrogate = solve_linear_symmetric(linear, options);
  if (surrogate.status != Status::failed) {
    const EntryList entries = entries_where(linear, include_odd_lag);
    const LinearEvaluation e = evaluate_linear(linear, surrogate.C, 1.0);
    if (e.ok) {
      const int n = static_cast<int>(entries.size());
      Eigen::MatrixXd J(n, n);
      for (int j = 0; j < n; ++j)
        J.col(j) = pack(map_derivative(linear, surrogate.C, e,
                                       unit_symmetric(entries[j].first, entries[j].second, s.M())),
                        entries);
      const Eigen::VectorXd mu = Eigen::EigenSolver<Eigen::MatrixXd>(J, false).eigenvalues().real();
      if (mu.allFinite()) {
        if (mu.minCoeff() < 0.0) schedule.damping = std::min(0.5, 1.5 / (1.0 - mu.minCoeff()));
        schedule.slow_eigenvalue = mu.maxCoeff();
      }
    }
  }
  const double rate = schedule.damping * (1.0 - schedule.slow_eigenvalue);
  // An unstable or marginal surrogate (mu_max >= 1, e.g. above lambda_c) says nothing useful.
  if (std::isfinite(rate) && rate > 1e-3) schedule.window = static_cast<int>(std::ceil(3.0 / rate));
  schedule.window = std::clamp(schedule.window, 40, 2000);
  if (options.window > 0) schedule.window = options.window;
  return schedule;
}

// One replicate of the stochastic iteration: its state (C, H) and its own chains and stream.
// (Holding G instead of H in the state, C_hat = w Sh^T(G) + tilt, was tried: at the Fig. 2 point it
// settled 7 % above the reference q.)
struct Replicate {
  Eigen::MatrixXd C, H;
  EllipticalSliceSampler sampler;
};

// Everything the map needs at a state: K's Cholesky factor, the tilt C_hat and the readout.
struct TiltedState {
  bool ok = false;
  Eigen::MatrixXd K, L, K_inv, C_hat;
  KernelStructure::Readout readout;
};

TiltedState tilt_at(const KernelStructure& s, const Eigen::MatrixXd& C, const Eigen::MatrixXd& H,
                    double amplitude, bool project_odd) {
  TiltedState t;
  t.K = s.prior_covariance(C);
  Eigen::LLT<Eigen::MatrixXd> llt(t.K);
  t.readout = s.readout(C, amplitude);
  if (llt.info() != Eigen::Success || !t.readout.ok) return t;
  t.L = llt.matrixL();
  t.K_inv = llt.solve(Eigen::MatrixXd::Identity(s.M(), s.M()));
  t.C_hat = s.network().w * s.shift_transpose(t.K_inv * H * t.K_inv - t.K_inv) + t.readout.tilt;
  project(s, project_odd, t.C_hat);
  t.ok = t.C_hat.allFinite();
  return t;
}

// Free energy F = 1/2 tr(C_hat C) - log Z + 1/2 y^T r at a state, log Z = int_0^1 <V>_beta dbeta
// with chains carried from one beta to the next; error from batch means over chains. Returns the
// chains, in equilibrium at the state's tilt (the G-mismatch test checks it): draws of p there.
EllipticalSliceSampler free_energy_at(const KernelStructure& s, const TheoryOptions& options,
                                      bool broken_seed, const Eigen::MatrixXd& C,
                                      const TiltedState& t, BranchSolution* b) {
  PhiloxStream stream(options.seed, options.point_index, broken_seed ? 3 : 2,
                      StreamPurpose::theory_monte_carlo);
  EllipticalSliceSampler sampler(s.M(), options.samples, s.network().activation, stream);
  double log_Z = 0.0, log_Z_var = 0.0;
  sampler.draw_from_prior(t.L);
  for (std::size_t i = 0; i < kNodes.size(); ++i) {
    sampler.sweep(t.L, kNodes[i] * t.C_hat, 20);
    const SingleSiteMoments mi = sampler.measure(t.C_hat);
    log_Z += kWeights[i] * mi.mean_V;
    log_Z_var += kWeights[i] * kWeights[i] * mi.mean_V_stderr * mi.mean_V_stderr;
  }
  b->free_energy = 0.5 * t.C_hat.cwiseProduct(C).sum() - log_Z + 0.5 * t.readout.y_dot_r;
  // F is stationary at the fixed point: the state's own error enters F only at second order.
  b->free_energy_stderr = std::sqrt(log_Z_var);

  // The two G estimators agree only for chains in equilibrium at this (fixed) tilt: their mismatch,
  // against its batch-means error over independent groups of chains, tests ESS mixing. (Inside the
  // iteration the tilt jitters with the state's noise and K^{-1} is a nonlinear function of it, so
  // the mismatch there is biased and says nothing about the chains.)
  sampler.sweep(t.L, t.C_hat, 30);
  const int batches = 20, size = sampler.chains() / batches;
  std::vector<Eigen::MatrixXd> mismatch;
  Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(s.M(), s.M()), G = mean;
  for (int k = 0; k < batches; ++k) {
    const SingleSiteMoments m = sampler.moments(t.C_hat, k * size, size);
    mismatch.push_back(t.K_inv * m.H * t.K_inv - t.K_inv - m.G_by_parts);
    mean += mismatch.back() / batches;
    G += m.G_by_parts / batches;
  }
  Eigen::MatrixXd var = Eigen::MatrixXd::Zero(s.M(), s.M());
  for (const auto& d : mismatch) var += (d - mean).cwiseAbs2() / (batches * (batches - 1.0));
  b->g_mismatch = mean.norm() / std::max(G.norm(), 1e-300);
  b->g_mismatch_ratio = mean.norm() / std::max(std::sqrt(var.sum()), 1e-300);
  return sampler;
}

// Stability of the settled state (issue 9): the leading eigenvalue of the fixed-point map's
// Jacobian on (C, H), estimated from the equilibrated chains at the state. The symmetric branch's
// iteration is projected onto the even sector and cannot see its own odd-sector instability: the
// check is on the full map, in both sectors. The chains are used at kStabilitySnapshots times,
// kStabilitySpacing sweeps apart (each batch of the error bars holds the same chains at every
// time, so batches stay independent): the check then costs a few per cent of the solve.
constexpr int kStabilitySnapshots = 4, kStabilitySpacing = 5;

MapStability stability_at(const KernelStructure& s, const TheoryOptions& options,
                          bool symmetric_state, const TiltedState& t,
                          EllipticalSliceSampler sampler, BranchSolution* b) {
  MapStabilityOptions stability;
  stability.sigmas = options.stability_sigmas;
  const int chains = sampler.chains(), batches = stability.batches;
  const int size = chains / batches;
  Eigen::MatrixXd draws(s.M(), Eigen::Index(size) * batches * kStabilitySnapshots);
  for (int k = 0; k < kStabilitySnapshots; ++k) {
    if (k > 0) sampler.sweep(t.L, t.C_hat, kStabilitySpacing);
    for (int g = 0; g < batches; ++g)
      draws.middleCols((Eigen::Index(g) * kStabilitySnapshots + k) * size, size) =
          sampler.states().middleCols(Eigen::Index(g) * size, size);
  }
  const MapStability st = map_stability(s, b->C, b->H, draws, symmetric_state, stability);
  b->stable = st.verdict == StabilityVerdict::stable;
  b->hessian_minimum = std::numeric_limits<double>::quiet_NaN();
  b->map_eigenvalue = st.leading;
  b->map_eigenvalue_stderr = st.leading_stderr;
  b->map_eigenvalue_sector = st.sector;
  return st;
}

// Norm of a drift against the norm of its standard error (1 for pure noise on average).
double drift_ratio(const Eigen::VectorXd& drift, const Eigen::VectorXd& stderr_) {
  return drift.norm() / std::max(stderr_.norm(), 1e-300);
}

// Whether the replicates sit in both W -> -W basins: some with q above, some below zero, each by
// more than two of a replicate's own window-mean errors (the std of the replicates'
// window-to-window q drifts over sqrt 2: the difference of two window means has twice the
// variance of one). The replicate average of such a split is no stationary state. (Measured: erf
// endpoint T = 4, P = D = 2, lam = 0.6, 2000 samples: seeds 1, 2 and 4 end with replicates at
// q ~ +0.2 and ~ -0.1 and averages 0.16, 0.07, 0.03, seed 3 with all eight at 0.23 +- 0.01.)
bool replicates_in_both_basins(const std::vector<double>& q, const std::vector<double>& dq) {
  double mean = 0.0, var = 0.0;
  for (double x : dq) mean += x / double(dq.size());
  for (double x : dq) var += (x - mean) * (x - mean) / (double(dq.size()) - 1.0);
  const double threshold = 2.0 * std::sqrt(var / 2.0);
  bool above = false, below = false;
  for (double x : q) {
    above = above || x > threshold;
    below = below || x < -threshold;
  }
  return above && below;
}

}  // namespace

BranchSolution solve_erf_branch(const KernelStructure& s, const TheoryOptions& options,
                                bool broken_seed) {
  BranchSolution b;
  b.name = broken_seed ? "broken" : "symmetric";
  const int M = s.M(), T = s.T(), P = s.P();
  const bool project_odd = !broken_seed && s.has_sign_symmetry();
  const EntryList entries = entries_where(s, !project_odd);
  const int n = static_cast<int>(entries.size());
  const int R = std::max(2, options.replicates);
  const int chains = std::max(2, options.samples / R);

  Eigen::MatrixXd C0 = erf_prior_kernel(s);
  if (broken_seed) {
    for (int t = 0; t + 1 < T; ++t) {
      const Eigen::MatrixXd block =
          0.05 * 0.5 * (C0.block(t * P, t * P, P, P) + C0.block((t + 1) * P, (t + 1) * P, P, P));
      C0.block(t * P, (t + 1) * P, P, P) += block;
      C0.block((t + 1) * P, t * P, P, P) += block.transpose();
    }
  }
  const TiltedState prior = tilt_at(s, C0, s.prior_covariance(C0), 0.0, project_odd);
  if (!prior.ok) {
    b.status = Status::failed;
    b.message = "K(C) is not positive definite at the prior kernel";
    return b;
  }
  std::vector<Replicate> replicates;
  for (int r = 0; r < R; ++r) {
    // Substreams 2 R + 2 r + (0 | 1) >= 4: symmetric and broken replicates never share a stream,
    // nor with the free-energy streams 2 and 3.
    PhiloxStream stream(options.seed, options.point_index,
                        static_cast<std::uint64_t>(2 * R + 2 * r + (broken_seed ? 1 : 0)),
                        StreamPurpose::theory_monte_carlo);
    replicates.push_back(
        {C0, prior.K, EllipticalSliceSampler(M, chains, s.network().activation, stream)});
    replicates.back().sampler.draw_from_prior(prior.L);
  }

  const IterationSchedule schedule = schedule_from_linear_surrogate(s, options, !project_odd);
  const double a = schedule.damping;
  // The signal is ramped up over the first iterations (continuation in the target amplitude), so
  // that the chains, which lag a few sweeps behind, never face a sudden tilt. The direct
  // estimator of G is used until the iteration has settled after the ramp (the integration-by-parts
  // estimator, far less noisy, can make the iteration diverge from a distant start).
  const int ramp = 40;
  // Switching after a window's time (at most 240 iterations), not right after the ramp: at T=8
  // (P=4, lam=1.5) the switch at iteration 80 lost positive definiteness of K twenty later.
  const int switch_estimator = std::max(2 * ramp, std::min(schedule.window, 240));
  const int cap = std::max(1, options.max_iterations) * (broken_seed ? 2 : 1);
  Eigen::VectorXd parity(M);  // (-1)^t at mu = t P + p
  for (int i = 0; i < M; ++i) parity(i) = (i / P) % 2 == 0 ? 1.0 : -1.0;
  // Recorded per iteration: the state (C, H) and the map's output (C, H).
  const auto q_of = [&](const Eigen::VectorXd& x) {
    return s.order_parameter(unpack(x.segment(n, n), entries, M));
  };
  const auto spread = [R](const std::vector<double>& v, double mean) {
    double var = 0.0;
    for (double x : v) var += (x - mean) * (x - mean) / (R - 1);
    return std::sqrt(var / R);
  };
  // Standard error of q from per-replicate vectors (q is linear in H).
  const auto q_error = [&](const std::vector<Eigen::VectorXd>& per_replicate) {
    std::vector<double> q;
    double mean = 0.0;
    for (const auto& x : per_replicate) q.push_back(q_of(x));
    for (double v : q) mean += v / R;
    return spread(q, mean);
  };
  ReplicateWindows windows(R, 4 * n, schedule.window);
  WindowComparison last;
  bool settled = false;
  int k = 0;
  for (; k < cap && !settled; ++k) {
    check_deadline();
    const double amplitude = std::min(1.0, double(k + 1) / ramp);
    for (int r = 0; r < R; ++r) {
      Replicate& rep = replicates[static_cast<std::size_t>(r)];
      const TiltedState t = tilt_at(s, rep.C, rep.H, amplitude, project_odd);
      if (!t.ok) {
        b.status = Status::failed;
        b.iterations = k;
        b.message =
            "K(C) or v C_SS + kappa I lost positive definiteness (or C_hat became non-finite) "
            "at Monte-Carlo iteration " +
            std::to_string(k);
        return b;
      }
      rep.sampler.sweep(t.L, t.C_hat, 2);
      const SingleSiteMoments m = rep.sampler.moments(t.C_hat);
      // Once settled, H comes from the integration-by-parts G (H = K + K G K), far less noisy than
      // the direct h h^T average; used from the start it can make the iteration diverge.
      const Eigen::MatrixXd H_next =
          k >= switch_estimator ? Eigen::MatrixXd(t.K + t.K * m.G_by_parts * t.K) : m.H;
      rep.C = (1.0 - a) * rep.C + a * m.C;
      rep.H = (1.0 - a) * rep.H + a * H_next;
      project(s, project_odd, rep.C);
      project(s, project_odd, rep.H);
      // The broken branch is the one seeded with q > 0: a replicate that noise carried to the
      // mirror state early on is reflected back (W -> -W maps h^t to (-1)^t h^t, exactly). Only
      // before the windows start: reflecting later would fold a q = 0 state onto q > 0.
      if (broken_seed && k < switch_estimator && s.order_parameter(rep.H) < 0.0) {
        rep.C = parity.asDiagonal() * rep.C * parity.asDiagonal();
        rep.H = parity.asDiagonal() * rep.H * parity.asDiagonal();
        rep.sampler.reflect(parity);
      }
      if (k < switch_estimator) continue;
      Eigen::VectorXd x(4 * n);
      x << pack(rep.C, entries), pack(rep.H, entries), pack(m.C, entries), pack(H_next, entries);
      windows.add(r, x);
    }
    if (k >= switch_estimator && windows.at_half_window()) {
      last = windows.compare();
      if (!last.ready) continue;
      const double ratio = drift_ratio(last.drift.head(2 * n), last.drift_stderr.head(2 * n));
      // q, the slowest observable, is tested on its own: the norm over (C, H) is dominated by the
      // large, fast diagonal entries.
      const double q_drift = std::abs(q_of(last.drift));
      const bool q_ok = q_drift <= options.drift_sigmas * q_error(last.replicate_drifts);
      settled = ratio <= options.drift_sigmas && q_ok;
    }
  }
  b.iterations = k;
  b.replicates = R;
  b.window = windows.window();
  if (!last.ready) {
    b.status = Status::not_converged;
    std::ostringstream msg;
    msg << "Monte Carlo stopped after " << k << " iterations, before two stopping-rule windows of "
        << windows.window() << " iterations (after the first " << switch_estimator
        << ") were complete: raise theory.max_iterations";
    b.message = msg.str();
    return b;
  }

  // The answer: the last window's average over replicates; error bars from the replicates' spread.
  const Eigen::VectorXd& mean = last.mean;
  const Eigen::VectorXd& se = last.stderr_;
  b.C = unpack(mean.segment(0, n), entries, M);
  b.H = unpack(mean.segment(n, n), entries, M);
  b.C_stderr = unpack(se.segment(0, n), entries, M);
  b.H_stderr = unpack(se.segment(n, n), entries, M);
  b.q = s.order_parameter(b.H);
  bool split = false;
  {
    std::vector<double> q, dq;
    for (const auto& x : last.replicate_means) q.push_back(q_of(x));
    for (const auto& x : last.replicate_drifts) dq.push_back(q_of(x));
    b.q_stderr = spread(q, b.q);
    b.q_drift = q_of(last.drift);
    b.q_drift_stderr = spread(dq, b.q_drift);
    split = broken_seed && s.has_sign_symmetry() && replicates_in_both_basins(q, dq);
  }
  b.kernel_drift_ratio = drift_ratio(last.drift.head(2 * n), last.drift_stderr.head(2 * n));
  // Fixed-point residual: map output against state, both window averages.
  const Eigen::VectorXd state = mean.head(2 * n), map_out = mean.segment(2 * n, 2 * n);
  const Eigen::VectorXd state_se = se.head(2 * n), map_se = se.segment(2 * n, 2 * n);
  b.residual = (map_out - state).norm() / state.norm();
  b.residual_ratio =
      drift_ratio(map_out - state, (map_se.cwiseAbs2() + state_se.cwiseAbs2()).cwiseSqrt());

  const TiltedState t = tilt_at(s, b.C, b.H, 1.0, project_odd);
  if (!t.ok) {
    b.status = Status::failed;
    b.message = "K(C) is not positive definite at the averaged fixed point";
    return b;
  }
  b.f = s.predictions(b.C, t.readout);
  EllipticalSliceSampler final_chains = free_energy_at(s, options, broken_seed, b.C, t, &b);
  const MapStability stability =
      stability_at(s, options, project_odd, t, std::move(final_chains), &b);

  std::ostringstream msg;
  msg << "Monte Carlo with " << R << " replicates x " << chains << " chains, " << k
      << " iterations (window " << windows.window() << "), damping " << a
      << "; drift of (C, H) over the last window " << b.kernel_drift_ratio
      << " x its MC error, of q " << b.q_drift << " +- " << b.q_drift_stderr
      << "; G estimator mismatch " << b.g_mismatch << " (" << b.g_mismatch_ratio
      << " x its MC error)";
  // Chains that do not reproduce the integration-by-parts identity at a fixed tilt are not mixed:
  // then no moment above can be trusted.
  const bool mixed = b.g_mismatch_ratio <= options.drift_sigmas + 1.0;
  // done only for a proven local minimum: an unstable state (a saddle) and an undetermined
  // verdict are both not_converged.
  b.status = settled && mixed && !split && b.stable ? Status::done : Status::not_converged;
  if (split)
    msg << "; the replicates settled in both W -> -W basins (q > 0 and q < 0): their average is "
           "not "
           "a stationary state";
  if (!settled)
    msg << "; not settled within theory.max_iterations (drift above " << options.drift_sigmas
        << " x the MC error)";
  if (!mixed) msg << "; the chains are not mixed at the final tilt (G mismatch above its noise)";
  msg << "; " << stability.message;
  b.message = msg.str();
  return b;
}

}  // namespace kernelsweep
