// Runs SGLD replicas (docs/theory.md section 4) and summarizes them across replicas.
#include "sgld/sgld_runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "sgld/langevin_network.hpp"
#include "sgld/replica_observables.hpp"

namespace kernelsweep {

namespace {

template <typename Scalar>
Eigen::MatrixXd concatenate_over_time(const std::vector<sgld::Matrix<Scalar>>& per_time) {
  const Eigen::Index N = per_time.front().rows(), P = per_time.front().cols();
  Eigen::MatrixXd out(N, P * static_cast<Eigen::Index>(per_time.size()));
  for (std::size_t t = 0; t < per_time.size(); ++t)
    out.middleCols(static_cast<Eigen::Index>(t) * P, P) = per_time[t].template cast<double>();
  return out;
}

std::string divergence_message(long long step, double eta) {
  std::ostringstream message;
  message
      << "diverged at step " << step << " (energy not finite): eta = " << eta
      << " is too large for this point's stiffest direction (curvature ~ 1 + v lambda_max(C_SS) / "
         "kappa); try a smaller eta, e.g. eta = "
      << eta / 4;
  return message.str();
}

template <typename Scalar>
SgldReplicaResult run_replica(const SgldOptions& options, const NetworkSpec& network,
                              const Dataset& data, std::uint64_t point_index, int replica) {
  SgldReplicaResult result;
  result.replica = replica;
  const auto start = std::chrono::steady_clock::now();
  sgld::LangevinNetwork<Scalar> net(network, data, options.seed, point_index,
                                    static_cast<std::uint64_t>(replica));
  sgld::KernelAverager averager(data.T, data.P);
  long long step = 0;
  for (; step < options.steps; ++step) {
    const double loss = net.forward();
    if (!std::isfinite(loss)) {
      result.failed = true;
      result.message = divergence_message(step, options.eta);
      break;
    }
    if (step >= options.burn_in && (step - options.burn_in) % options.thin == 0) {
      averager.add(concatenate_over_time(net.preactivations()),
                   concatenate_over_time(net.activations()), net.outputs());
      if (options.record_trace) result.energy_trace.push_back(net.prior_energy() + loss);
    }
    net.step(options.eta, static_cast<std::uint64_t>(step));
  }
  result.steps = step;
  if (!result.failed && !std::isfinite(net.forward())) {
    result.failed = true;
    result.message = divergence_message(step, options.eta);
  }
  if (!result.failed) {
    result.H = averager.H();
    result.C = averager.C();
    result.f = averager.f();
    result.q = averager.q();
    result.abs_q = averager.abs_q();
    const int layers =
        network.architecture == Architecture::rnn ? std::min(network.T - 1, 1) : network.T - 1;
    result.outlier_eigenvalue = Eigen::VectorXd::Zero(std::max(layers, 0));
    double radius_sum = 0.0;
    for (int k = 0; k < layers; ++k) {
      const sgld::SpectrumSummary spectrum = sgld::analyze_spectrum(net.recurrent_matrix(k + 1));
      result.outlier_eigenvalue(k) = spectrum.outlier;
      radius_sum += spectrum.bulk_radius;
    }
    result.bulk_radius = layers > 0 ? radius_sum / layers : 0.0;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace

SgldReplicaResult run_sgld_replica(const SgldOptions& options, const NetworkSpec& network,
                                   const Dataset& data, std::uint64_t point_index, int replica) {
  if (options.precision == Precision::float32)
    return run_replica<float>(options, network, data, point_index, replica);
  return run_replica<double>(options, network, data, point_index, replica);
}

SgldSummary summarize_sgld(const std::vector<SgldReplicaResult>& replicas, const Dataset& data,
                           const TheorySummary* theory) {
  SgldSummary summary;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  summary.cka_H = summary.cka_C = nan;
  std::vector<const SgldReplicaResult*> ordered;
  for (const auto& r : replicas) ordered.push_back(&r);
  std::sort(ordered.begin(), ordered.end(),
            [](const auto* a, const auto* b) { return a->replica < b->replica; });
  std::vector<const SgldReplicaResult*> good;
  long long steps = 0;
  double seconds = 0.0;
  for (const auto* r : ordered) {
    steps += r->steps;
    seconds += r->seconds;
    if (!r->energy_trace.empty()) summary.energy_trace.push_back(r->energy_trace);
    if (r->failed) {
      ++summary.failed_replicas;
      if (summary.message.empty())
        summary.message = "replica " + std::to_string(r->replica) + ": " + r->message;
    } else {
      good.push_back(r);
    }
  }
  summary.steps_per_second = seconds > 0.0 ? static_cast<double>(steps) / seconds : 0.0;
  summary.replicas = static_cast<int>(good.size());
  if (good.empty()) {
    if (summary.message.empty()) summary.message = "no replicas";
    return summary;
  }
  const double R = static_cast<double>(good.size());
  const Eigen::Index M = good.front()->H.rows();
  summary.H = summary.C = Eigen::MatrixXd::Zero(M, M);
  Eigen::MatrixXd H_square = Eigen::MatrixXd::Zero(M, M);
  summary.f = Eigen::VectorXd::Zero(good.front()->f.size());
  summary.outlier_eigenvalue = Eigen::VectorXd::Zero(good.front()->outlier_eigenvalue.size());
  double q_square = 0.0, abs_q_square = 0.0;
  for (const auto* r : good) {
    summary.H += r->H / R;
    H_square += r->H.array().square().matrix() / R;
    summary.C += r->C / R;
    summary.f += r->f / R;
    summary.q_mean += r->q / R;
    q_square += r->q * r->q / R;
    summary.abs_q_mean += r->abs_q / R;
    abs_q_square += r->abs_q * r->abs_q / R;
    // Each replica picks the sign of the broken phase at random (W -> -W): average |Re|.
    summary.outlier_eigenvalue += r->outlier_eigenvalue.cwiseAbs() / R;
    summary.bulk_radius += r->bulk_radius / R;
  }
  if (good.size() >= 2) {
    const double correction = R / (R - 1.0) / R;  // unbiased variance, then / R for the mean
    summary.H_stderr =
        ((H_square - summary.H.array().square().matrix()).cwiseMax(0.0) * correction).cwiseSqrt();
    summary.q_stderr =
        std::sqrt(std::max(q_square - summary.q_mean * summary.q_mean, 0.0) * correction);
    summary.abs_q_stderr =
        std::sqrt(std::max(abs_q_square - summary.abs_q_mean * summary.abs_q_mean, 0.0) * correction);
  } else {
    summary.H_stderr = Eigen::MatrixXd::Constant(M, M, nan);
    summary.q_stderr = nan;
    summary.abs_q_stderr = nan;
  }
  summary.generalization_error = generalization_error(data, summary.f);
  if (theory != nullptr && theory->selected >= 0 && theory->status != Status::failed) {
    summary.cka_H = centered_kernel_alignment(summary.H, theory->solution().H);
    summary.cka_C = centered_kernel_alignment(summary.C, theory->solution().C);
  }
  if (summary.failed_replicas == 0)
    summary.status = Status::done;
  else
    summary.message =
        std::to_string(summary.failed_replicas) + " replica(s) failed; " + summary.message;
  return summary;
}

SgldSummary run_sgld(const SgldOptions& options, const NetworkSpec& network, const Dataset& data,
                     std::uint64_t point_index, const TheorySummary* theory) {
  std::vector<SgldReplicaResult> replicas;
  for (int r = 0; r < options.replicas; ++r)
    replicas.push_back(run_sgld_replica(options, network, data, point_index, r));
  return summarize_sgld(replicas, data, theory);
}

double centered_kernel_alignment(const Eigen::MatrixXd& K1, const Eigen::MatrixXd& K2) {
  const Eigen::Index M = K1.rows();
  const Eigen::MatrixXd J = Eigen::MatrixXd::Identity(M, M) -
                            Eigen::MatrixXd::Constant(M, M, 1.0 / static_cast<double>(M));
  const Eigen::MatrixXd K1c = J * K1 * J, K2c = J * K2 * J;
  return (K1c.array() * K2c.array()).sum() / (K1c.norm() * K2c.norm());
}

}  // namespace kernelsweep
