#pragma once
// SGLD replicas of finite-width networks (docs/theory.md section 4): one replica at a time (so a sweep
// can split a point's replicas into separate tasks), and the summary over replicas.
// Every replica's random streams are keyed by (sgld.seed, point_index, replica).
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "model/network_spec.hpp"
#include "model/task.hpp"
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
};

struct SgldSummary {
  Status status = Status::failed;  // done | failed (any replica diverged)
  std::string message;
  int replicas = 0;
  double q_mean = 0.0, q_stderr = 0.0, abs_q_mean = 0.0;
  // Standard error of abs_q_mean across replicas (q_stderr mixes the replicas' random signs).
  double abs_q_stderr = 0.0;
  Eigen::MatrixXd H, C, H_stderr;  // replica means and standard error of H
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

  std::string report() const;  // a human-readable, multi-line summary
};

SgldReplicaResult run_sgld_replica(const SgldOptions& options, const NetworkSpec& network,
                                   const Dataset& data, std::uint64_t point_index, int replica);

// theory may be null (no CKA then). Replicas may come from different ranks, in any order.
SgldSummary summarize_sgld(const std::vector<SgldReplicaResult>& replicas, const Dataset& data,
                           const TheorySummary* theory);

// All replicas of one point, in order, then summarized.
SgldSummary run_sgld(const SgldOptions& options, const NetworkSpec& network, const Dataset& data,
                     std::uint64_t point_index, const TheorySummary* theory);

// CKA(K1, K2) = <K1c, K2c>_F / (|K1c|_F |K2c|_F), Kc = J K J, J = I - 11^T / M.
double centered_kernel_alignment(const Eigen::MatrixXd& K1, const Eigen::MatrixXd& K2);

}  // namespace kernelsweep
