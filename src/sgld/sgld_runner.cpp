// Runs SGLD replicas (docs/theory.md section 4): the chain loop with the automatic step size and the
// recording of what the diagnostics need. The summary over replicas is in sgld_summary.cpp.
#include "sgld/sgld_runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "model/deadline.hpp"
#include "sgld/chain_diagnostics.hpp"
#include "sgld/langevin_network.hpp"
#include "sgld/replica_observables.hpp"
#include "sgld/step_size.hpp"
#include "theory/kernel_structure.hpp"

namespace kernelsweep {

namespace {

// Curvature measurements for eta: auto: at step 0 (power iteration from a random direction) and
// kCurvatureChecks - 1 more, evenly spread over the burn-in (warm-started, fewer iterations).
constexpr int kCurvatureChecks = 5;
constexpr int kFirstIterations = 12, kLaterIterations = 4;

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

// The run length of one replica: the eta/2 replicas of check_step run twice as many steps.
struct ReplicaPlan {
  long long steps = 0, burn_in = 0, measurements = 0;
  bool step_check = false;
};

ReplicaPlan plan_replica(const SgldOptions& options, int replica) {
  ReplicaPlan plan;
  plan.step_check = options.check_step && replica >= options.replicas;
  const long long factor = plan.step_check ? 2 : 1;
  plan.steps = factor * options.steps;
  plan.burn_in = factor * options.burn_in;
  plan.measurements =
      plan.steps > plan.burn_in ? (plan.steps - plan.burn_in + options.thin - 1) / options.thin : 0;
  return plan;
}

template <typename Scalar>
void record_spectrum(const sgld::LangevinNetwork<Scalar>& net, const NetworkSpec& network,
                     int spectrum_k, SgldReplicaResult* result) {
  const int layers =
      network.architecture == Architecture::rnn ? std::min(network.T - 1, 1) : network.T - 1;
  result->outlier_eigenvalue = Eigen::VectorXd::Zero(std::max(layers, 0));
  result->top_eigenvalues.resize(std::min(spectrum_k, network.N), std::max(layers, 0));
  double radius_sum = 0.0;
  for (int k = 0; k < layers; ++k) {
    const sgld::SpectrumSummary spectrum =
        sgld::analyze_spectrum(net.recurrent_matrix(k + 1), spectrum_k);
    result->outlier_eigenvalue(k) = spectrum.outlier;
    result->top_eigenvalues.col(k) = spectrum.top;
    radius_sum += spectrum.bulk_radius;
  }
  result->bulk_radius = layers > 0 ? radius_sum / layers : 0.0;
}

template <typename Scalar>
SgldReplicaResult run_replica(const SgldOptions& options, const NetworkSpec& network,
                              const Dataset& data, std::uint64_t point_index, int replica) {
  SgldReplicaResult result;
  result.replica = replica;
  result.sign_symmetric = KernelStructure(network, data).has_sign_symmetry();
  const ReplicaPlan plan = plan_replica(options, replica);
  result.step_check = plan.step_check;
  const auto start = std::chrono::steady_clock::now();
  sgld::LangevinNetwork<Scalar> net(network, data, options.seed, point_index,
                                    static_cast<std::uint64_t>(replica));
  const bool prior_sampler = options.sampler == SgldSampler::prior;
  const bool auto_eta = std::isnan(options.eta) && !prior_sampler;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double halving = plan.step_check ? 0.5 : 1.0;
  double eta = prior_sampler ? nan
               : auto_eta    ? std::numeric_limits<double>::infinity()
                             : halving * options.eta;
  result.curvature = nan;
  sgld::CurvatureProbe<Scalar> probe(options.seed, point_index,
                                     static_cast<std::uint64_t>(replica));
  const long long check_interval = std::max<long long>(plan.burn_in / kCurvatureChecks, 1);
  sgld::KernelAverager averager(data.T, data.P, plan.measurements);
  sgld::TraceRecorder q_trace, energy_trace;
  // Prior sampler: decay 0, no drift, unit noise replaces every weight by a fresh prior draw.
  const sgld::LangevinCoefficients<Scalar> prior_draw{Scalar(0), Scalar(0), Scalar(1)};
  long long step = 0;
  for (; step < plan.steps; ++step) {
    if (step % 64 == 0) check_deadline();  // --point-timeout bounds a replica, not only a point
    const double loss = net.forward();
    if (!std::isfinite(loss)) {
      result.failed = true;
      result.message = divergence_message(step, eta);
      break;
    }
    if (auto_eta && (step == 0 || (step < plan.burn_in && step % check_interval == 0))) {
      const double curvature = probe.measure(net, step == 0 ? kFirstIterations : kLaterIterations);
      // Lowered only (the largest curvature seen sets eta): the chain after burn-in runs at one
      // fixed eta.
      if (std::isfinite(curvature) && !(curvature <= result.curvature)) {
        result.curvature = curvature;
        eta = halving * sgld::step_size_from_curvature(curvature, options.eta_safety);
      }
    }
    if (step >= plan.burn_in && (step - plan.burn_in) % options.thin == 0) {
      averager.add(concatenate_over_time(net.preactivations()),
                   concatenate_over_time(net.activations()), net.outputs());
      const double energy = net.prior_energy() + loss;
      q_trace.add(averager.last_q());
      energy_trace.add(energy);
      if (options.record_trace) result.energy_trace.push_back(energy);
    }
    if (prior_sampler)
      net.apply_update(prior_draw, static_cast<std::uint64_t>(step));
    else
      net.step(eta, static_cast<std::uint64_t>(step));
  }
  result.steps = step;
  result.eta = eta;
  if (!result.failed && !std::isfinite(net.forward())) {
    result.failed = true;
    result.message = divergence_message(step, eta);
  }
  if (!result.failed) {
    result.H = averager.H();
    result.C = averager.C();
    result.f = averager.f();
    result.q = averager.q();
    result.abs_q = averager.abs_q();
    result.H_halves = averager.H_halves();
    result.q_trace = q_trace.values();
    result.energy_samples = energy_trace.values();
    result.trace_stride = q_trace.stride() * options.thin;
    record_spectrum(net, network, options.spectrum_k, &result);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace

int sgld_replica_count(const SgldOptions& options) {
  return options.check_step ? 2 * options.replicas : options.replicas;
}

SgldReplicaResult run_sgld_replica(const SgldOptions& options, const NetworkSpec& network,
                                   const Dataset& data, std::uint64_t point_index, int replica) {
  if (options.precision == Precision::float32)
    return run_replica<float>(options, network, data, point_index, replica);
  return run_replica<double>(options, network, data, point_index, replica);
}

SgldSummary run_sgld(const SgldOptions& options, const NetworkSpec& network, const Dataset& data,
                     std::uint64_t point_index, const TheorySummary* theory) {
  std::vector<SgldReplicaResult> replicas;
  for (int r = 0; r < sgld_replica_count(options); ++r)
    replicas.push_back(run_sgld_replica(options, network, data, point_index, r));
  return summarize_sgld(replicas, data, theory, options);
}

double centered_kernel_alignment(const Eigen::MatrixXd& K1, const Eigen::MatrixXd& K2) {
  const Eigen::Index M = K1.rows();
  const Eigen::MatrixXd J = Eigen::MatrixXd::Identity(M, M) -
                            Eigen::MatrixXd::Constant(M, M, 1.0 / static_cast<double>(M));
  const Eigen::MatrixXd K1c = J * K1 * J, K2c = J * K2 * J;
  return (K1c.array() * K2c.array()).sum() / (K1c.norm() * K2c.norm());
}

}  // namespace kernelsweep
