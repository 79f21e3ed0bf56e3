#pragma once
// SGLD replicas of finite-width networks (docs/theory.md section 4): one replica at a time (so a sweep
// can split a point's replicas into separate tasks), and the summary over replicas.
// Every replica's random streams are keyed by (sgld.seed, point_index, replica).
#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "model/network_spec.hpp"
#include "model/task.hpp"
#include "sgld/replica_observables.hpp"
#include "sgld/sgld_options.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep {

struct SgldReplicaResult {
  int replica = 0;
  bool failed = false;  // divergence (NaN/inf energy): message suggests a smaller eta
  std::string message;
  Eigen::MatrixXd H, C;  // time averages after burn-in of (1/N) h h^T and (1/N) phi phi^T, M x M
  Eigen::VectorXd f;     // time-averaged outputs f_mu
  double q = 0.0;        // time average of q_exp
  double abs_q = 0.0;    // time average of |q_exp|
  Eigen::VectorXd outlier_eigenvalue;  // largest-|Re| eigenvalue's real part: RNN 1 entry, DNN T-1
  // sqrt(2) * median |eigenvalue| of the final W (RNN) / mean over layers: the circular-law radius
  // (~sqrt(w)), since the median modulus of a uniform disk is R / sqrt(2).
  double bulk_radius = 0.0;
  std::vector<double> energy_trace;  // if record_trace: energy at every measurement
  long long steps = 0;
  double seconds = 0.0;

  // --- what the convergence diagnostics need (always recorded) ---
  // Step size used after burn-in (eta: auto: the measured one; NaN for the prior sampler).
  double eta = 0.0;
  // Largest measured lambda_max of the Hessian of L, the one that set eta (eta: auto only; NaN
  // otherwise), in the
  // standardized coordinates (dimensionless).
  double curvature = 0.0;
  bool step_check = false;  // ran at eta/2 for the sgld.check_step comparison
  // The point has the W -> -W symmetry (KernelStructure::has_sign_symmetry): align to q > 0.
  bool sign_symmetric = false;
  // q_exp and the energy E at the measurement steps after burn-in, binned in pairs whenever the
  // trace reaches 2048 entries; trace_stride = Langevin steps between entries (thin x bin size).
  std::vector<double> q_trace, energy_samples;
  long long trace_stride = 1;
  // Entrywise mean and variance of H over the first and second half of the measurements (raw,
  // not sign-aligned), for the split-R-hat of the kernel entries; M x M each.
  std::array<sgld::KernelMoments, 2> H_halves;
  // spectrum_k eigenvalues of largest modulus of the final W (RNN: one column) or of each W^(t)
  // (DNN: column t-1), complex, by decreasing modulus: spectrum_k x layers.
  Eigen::MatrixXcd top_eigenvalues;
};

struct SgldSummary {
  // done | failed (any replica diverged) | not_converged (a diagnostic below failed; message)
  Status status = Status::failed;
  std::string message;
  int replicas = 0;
  double q_mean = 0.0, q_stderr = 0.0, abs_q_mean = 0.0;
  // Standard errors of q_mean and abs_q_mean: the larger of the error from each replica's
  // effective sample size, sqrt(sum_r var_r / ESS_r) / R, and the spread of the replica means,
  // sd_r / sqrt(R) (q_stderr mixes the replicas' random signs).
  double abs_q_stderr = 0.0;
  // Replica means and standard error of H (spread across replicas). Sign-aligned (below) where
  // the W -> -W symmetry holds.
  Eigen::MatrixXd H, C, H_stderr;
  Eigen::VectorXd f;
  double generalization_error = 0.0;
  // replica mean of |largest-|Re| eigenvalue| (each replica picks the sign of the broken phase at
  // random), per layer for the DNN
  Eigen::VectorXd outlier_eigenvalue;
  double bulk_radius = 0.0;
  double cka_H = 0.0, cka_C = 0.0;                // against the theory kernels; NaN without theory
  std::vector<std::vector<double>> energy_trace;  // per replica, if recorded
  double steps_per_second = 0.0;
  int failed_replicas = 0;  // replicas: the ones that did not fail and enter the statistics

  // --- convergence diagnostics (over the replicas that entered the statistics) ---
  // split-R-hat (dimensionless, 1 = mixed) of |q|, of the energy E, and the largest over the
  // sign-aligned entries of H; NaN where undefined (fewer than 4 samples per half).
  double rhat_abs_q = 0.0, rhat_energy = 0.0, rhat_kernel = 0.0;
  // Per replica: integrated autocorrelation times (in Langevin steps) and effective sample sizes
  // of |q| and of E; the step size used (eta) and the measured curvature lambda_max.
  Eigen::VectorXd tau_abs_q, tau_energy, ess_abs_q, ess_energy, eta, curvature;
  double ess_abs_q_total = 0.0;  // sum over replicas of ess_abs_q
  // W -> -W alignment: sign_aligned if the symmetry holds (RNN, odd phi, inputs only at t=0,
  // supervised steps of one parity); q_sign_fraction = fraction of replicas whose mean q > 0
  // (before alignment). A replica is flipped to q > 0 when its mean q < 0 by more than 3 of its
  // standard errors (a replica whose sign is not determined is averaged as it is).
  bool sign_aligned = false;
  double q_sign_fraction = 0.0;
  std::vector<Eigen::MatrixXcd> top_eigenvalues;  // per replica, see SgldReplicaResult
  // sgld.check_step: <|q|> and its standard error of the replicas at eta/2 (NaN without).
  double check_abs_q_mean = 0.0, check_abs_q_stderr = 0.0;

  std::string report() const;  // a human-readable, multi-line summary
};

SgldReplicaResult run_sgld_replica(const SgldOptions& options, const NetworkSpec& network,
                                   const Dataset& data, std::uint64_t point_index, int replica);

// theory may be null (no CKA then). Replicas may come from different ranks, in any order.
// options supplies the thresholds max_rhat and min_ess.
SgldSummary summarize_sgld(const std::vector<SgldReplicaResult>& replicas, const Dataset& data,
                           const TheorySummary* theory, const SgldOptions& options = {});

// All replicas of one point, in order, then summarized.
SgldSummary run_sgld(const SgldOptions& options, const NetworkSpec& network, const Dataset& data,
                     std::uint64_t point_index, const TheorySummary* theory);

// CKA(K1, K2) = <K1c, K2c>_F / (|K1c|_F |K2c|_F), Kc = J K J, J = I - 11^T / M.
double centered_kernel_alignment(const Eigen::MatrixXd& K1, const Eigen::MatrixXd& K2);

}  // namespace kernelsweep
